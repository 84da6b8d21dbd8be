//! The codec's std `blocking` driver against this one, both ways, deflate on.
mod common;

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{echo_server, timed};
use rfc6455::blocking;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Event, Message as StdMessage};
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{ClientRequest, ServerResponse};
use rfc6455_tokio::{Message, connect};

fn deflate_config() -> Config {
    Config::new().deflate(DeflateConfig::new().enabled(true))
}

#[tokio::test]
async fn blocking_client_against_tokio_server() {
    let addr = echo_server().await;
    let client = tokio::task::spawn_blocking(move || {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let host = addr.to_string();
        let request = ClientRequest::new(&host, "/");
        let mut ws = blocking::connect_with(stream, deflate_config(), [9; 32], &request).unwrap();
        assert!(ws.connection().deflate_params().is_some());
        let mut echoed = Vec::new();
        for i in 0..50u32 {
            let message = if i % 2 == 0 {
                StdMessage::text(format!("text {i}"))
            } else {
                StdMessage::binary(vec![i as u8; 1000 * i as usize])
            };
            ws.send(message.clone()).unwrap();
            match ws.read().unwrap() {
                Event::Message(m) => echoed.push((message, m)),
                other => panic!("expected an echo, got {other:?}"),
            }
        }
        ws.close(CloseCode::NORMAL, "done").unwrap();
        let closed = loop {
            match ws.read() {
                Ok(Event::Closed(closed)) => break closed,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        };
        // The tokio server closes TCP first: the blocking client sees the end.
        let end = ws.read();
        (echoed, closed, end)
    });
    let (echoed, closed, end) = timed(client).await.unwrap();
    assert_eq!(echoed.len(), 50);
    for (sent, got) in echoed {
        assert_eq!(sent, got);
    }
    assert_eq!(closed.code, CloseCode::NORMAL);
    assert!(matches!(end, Err(blocking::Error::Closed)), "{end:?}");
}

#[tokio::test]
async fn tokio_client_against_blocking_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut ws =
            blocking::accept_with(stream, deflate_config(), |_| ServerResponse::default()).unwrap();
        let deflate = ws.connection().deflate_params().is_some();
        let mut count = 0;
        loop {
            match ws.read() {
                Ok(Event::Message(m)) => {
                    count += 1;
                    ws.send(m).unwrap();
                }
                Ok(Event::Closed(_)) | Err(blocking::Error::Closed) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        (deflate, count)
    });
    let (mut ws, accepted) = timed(connect(&format!("ws://{addr}/x"))).await.unwrap();
    assert!(accepted.extensions.is_some());
    for i in 0..50u32 {
        let message = Message::binary(vec![(i * 7) as u8; 3000 * i as usize]);
        timed(ws.send(message.clone())).await.unwrap();
        assert_eq!(timed(ws.next()).await.unwrap().unwrap(), message);
    }
    timed(ws.close(CloseCode::GOING_AWAY, "")).await.unwrap();
    let reply = timed(ws.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(f)) if f.code == CloseCode::GOING_AWAY));
    assert!(timed(ws.next()).await.is_none());
    let (deflate, count) = server.join().unwrap();
    assert!(deflate);
    assert_eq!(count, 50);
}
