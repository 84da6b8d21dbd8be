//! `send_prepared` / `feed_prepared`: one prepared message sent on several streams, waiting
//! for the output bound as `send` does.
mod common;

use common::timed;
use rfc6455::connection::{Config, Connection, PreparedMessage};
use rfc6455_tokio::{Message, WebSocketStream};
use tokio::io::DuplexStream;

fn pair(config: Config) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    // A pipe smaller than one message: the sender must wait for the reader.
    let (a, b) = tokio::io::duplex(8 << 10);
    let server = WebSocketStream::from_parts(a, Connection::upgraded_server(config), &[]);
    let client = WebSocketStream::from_parts(
        b,
        Connection::upgraded_client(Config::default(), [4; 32]),
        &[],
    );
    (server, client)
}

/// Three servers send the same prepared 100 KiB message three times (sent, fed then
/// flushed) with an output bound of 16 KiB through an 8 KiB pipe; each client receives
/// the message three times, intact.
#[tokio::test]
async fn one_prepared_message_on_three_streams() {
    timed(async {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let prepared = PreparedMessage::new(rfc6455::connection::Message::binary(data.clone()));
        let mut config = Config::default();
        config.max_queued_output = 16 << 10;
        let mut readers = Vec::new();
        let mut servers = Vec::new();
        for _ in 0..3 {
            let (server, mut client) = pair(config);
            servers.push(server);
            readers.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..3 {
                    got.push(client.next().await.expect("a message").expect("no error"));
                }
                got
            }));
        }
        let mut tasks = Vec::new();
        for mut server in servers {
            let prepared = prepared.clone();
            tasks.push(tokio::spawn(async move {
                server.send_prepared(&prepared).await.unwrap();
                server.feed_prepared(&prepared).await.unwrap();
                server.feed_prepared(&prepared).await.unwrap();
                server.flush().await.unwrap();
                server
            }));
        }
        for task in tasks {
            let server = task.await.unwrap();
            assert_eq!(server.connection().pending_output_len(), 0);
        }
        for reader in readers {
            let got = reader.await.unwrap();
            assert_eq!(got.len(), 3);
            for message in got {
                assert_eq!(message, Message::Binary(data.clone().into()));
            }
        }
    })
    .await;
}

/// Once we closed, `send_prepared` fails as `send` does.
#[tokio::test]
async fn refused_after_close() {
    timed(async {
        let (mut server, _client) = pair(Config::default());
        let prepared = PreparedMessage::new(rfc6455::connection::Message::text("hi"));
        server.send_prepared(&prepared).await.unwrap();
        server
            .close(rfc6455::close::CloseCode::NORMAL, "")
            .await
            .unwrap();
        let err = server.send_prepared(&prepared).await.unwrap_err();
        let send_err = server.send(Message::text("hi")).await.unwrap_err();
        assert_eq!(err.to_string(), send_err.to_string());
    })
    .await;
}

/// The writer half of a split stream sends a prepared message past the output bound while
/// its reader half waits in another task; the client receives it three times.
#[tokio::test]
async fn the_split_writer_sends_prepared_messages() {
    timed(async {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
        let prepared = PreparedMessage::new(rfc6455::connection::Message::binary(data.clone()));
        let mut config = Config::default();
        config.max_queued_output = 16 << 10;
        let (server, mut client) = pair(config);
        let (mut writer, mut reader) = server.split();
        let reading = tokio::spawn(async move { reader.next().await.map(|r| r.is_ok()) });
        let receiving = tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(client.next().await.expect("a message").expect("no error"));
            }
            (got, client)
        });
        for _ in 0..3 {
            writer.send_prepared(&prepared).await.unwrap();
        }
        let (got, mut client) = receiving.await.unwrap();
        for message in got {
            assert_eq!(message, Message::Binary(data.clone().into()));
        }
        // The client's close ends the reader half's wait.
        client
            .close(rfc6455::close::CloseCode::NORMAL, "")
            .await
            .unwrap();
        let first = reading.await.unwrap();
        assert_eq!(first, Some(true), "the reader half sees the close");
    })
    .await;
}
