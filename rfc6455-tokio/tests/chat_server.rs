//! The tokio_chat_server example's bound: a client that stops reading while the room is busy
//! is closed with 1013 and counted, and the clients that keep up get every message. (The
//! page, broadcast and keep-alive run against Chromium in `CHAT_DRIVER=tokio tests/browser/run`.)

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;

use std::sync::atomic::Ordering;
use std::time::Duration;

use rfc6455_tokio::rfc6455::connection::Config;
use rfc6455_tokio::rfc6455::keepalive::KeepAliveConfig;
use rfc6455_tokio::{CloseCode, Message, Options, connect_with};
use tokio::net::{TcpListener, TcpSocket};

/// Messages of 60 KiB: 300 of them are 18 MB, several times what the slow client's socket
/// buffers and the server's output bound (1 MiB) can hold, and far over the 64-message queue.
const MESSAGES: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_with_1013_and_the_others_get_everything() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("ws://{addr}/ws");
        let keepalive = KeepAliveConfig {
            interval: Duration::from_secs(60), // no pings during the test
            timeout: Duration::from_secs(10),
            max_missed: 1,
        };
        tokio::spawn(chat_server::serve(listener, keepalive));
        // No permessage-deflate: the repeated text would shrink to nothing.
        let options = Options::new().config(Config::new());
        let slow_tcp = TcpSocket::new_v4().unwrap();
        slow_tcp.set_recv_buffer_size(4096).unwrap();
        let slow_tcp = slow_tcp.connect(addr).await.unwrap();
        let (mut slow, _) = connect_with(slow_tcp, &url, options).await.unwrap();
        let fast_tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut fast, _) = connect_with(fast_tcp, &url, options).await.unwrap();

        // The fast client says each line and reads it back before the next; the slow one
        // reads nothing meanwhile.
        let line = "x".repeat(60 << 10);
        for i in 0..MESSAGES {
            let text = format!("{i} {line}");
            fast.send(Message::text(text.clone())).await.unwrap();
            match fast.next().await {
                Some(Ok(Message::Text(echo))) => assert_eq!(echo.as_str(), text, "message {i}"),
                other => panic!("message {i}: expected the room's echo, got {other:?}"),
            }
        }

        // The slow client reads at last: what reached it in order, then the 1013.
        let mut got = 0;
        let close = loop {
            match slow.next().await {
                Some(Ok(Message::Text(text))) => {
                    assert!(text.as_str().starts_with(&format!("{got} ")), "in order");
                    got += 1;
                }
                Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
                other => panic!("after {got} messages: expected text or the close, got {other:?}"),
            }
        };
        assert_eq!(close.code, CloseCode::TRY_AGAIN_LATER, "{close:?}");
        assert_eq!(close.reason, "too slow");
        assert!(
            got < MESSAGES - 64,
            "the slow client got {got} of {MESSAGES}"
        );
        assert!(
            slow.next().await.is_none(),
            "the stream ends after the close"
        );
        assert_eq!(
            chat_server::TOO_SLOW.load(Ordering::Relaxed),
            1,
            "only the slow client"
        );

        // The fast client is still in the room.
        fast.send(Message::text("still here")).await.unwrap();
        assert_eq!(
            fast.next().await.unwrap().unwrap().to_text(),
            Some("still here")
        );
    })
    .await
    .expect("the test took over 60 s");
}
