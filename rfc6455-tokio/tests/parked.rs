//! A reply that `feed` could not queue (the output was at `max_queued_output`) is parked and
//! must still go out when the caller next waits in `next`: the echo loop of the examples
//! feeds each reply and then reads, and before the fix its last parked reply was never sent
//! (found by benches/load: 16 echoes of 64 KiB in flight are over the default 1 MiB bound).

use std::time::Duration;

use rfc6455::connection::Config;
use rfc6455_tokio::{Message, WebSocketStream};

/// Echo with `feed` over an in-memory pipe large enough that every message arrives in one
/// burst, the output bound a few frames wide; the client must get every echo.
#[tokio::test]
async fn a_parked_reply_is_sent_when_the_echo_loop_waits_for_input() {
    // 1,000-byte messages (1,004-byte frames) against a 4,096-byte bound: every count
    // leaves some refused reply parked; for some the last one.
    for count in 1..=12usize {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let config = Config::new().max_queued_output(4096);
        let mut server = WebSocketStream::server(server_io, config);
        let echo = tokio::spawn(async move {
            while let Some(Ok(message)) = server.next().await {
                if message.is_data() {
                    server.feed(message).await.unwrap();
                }
            }
        });
        let mut client = WebSocketStream::client(client_io, Config::new()).unwrap();
        for i in 0..count {
            client
                .feed(Message::binary(vec![i as u8; 1000]))
                .await
                .unwrap();
        }
        client.flush().await.unwrap();
        for i in 0..count {
            let echoed = tokio::time::timeout(Duration::from_secs(5), client.next()).await;
            match echoed {
                Ok(Some(Ok(Message::Binary(data)))) => {
                    assert_eq!(data.len(), 1000, "{count} sent, echo {i}");
                    assert!(data.iter().all(|&b| b == i as u8), "{count} sent, echo {i}");
                }
                Err(_) => panic!("{count} sent: echo {i} never came (a parked reply was not sent)"),
                other => panic!("{count} sent, echo {i}: {other:?}"),
            }
        }
        drop(client);
        echo.await.unwrap();
    }
}
