//! The tokio_chat_server example's bound: a client that stops reading while the room is busy
//! is closed with 1013 and counted, and the clients that keep up get every message; and its
//! broadcast of prepared messages, compressed once for the clients that negotiated
//! permessage-deflate and plain for the others. (The
//! page, broadcast and keep-alive run against Chromium in `CHAT_DRIVER=tokio tests/browser/run`.)

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rfc6455_tokio::rfc6455::connection::Config;
use rfc6455_tokio::rfc6455::deflate::DeflateConfig;
use rfc6455_tokio::rfc6455::keepalive::KeepAliveConfig;
use rfc6455_tokio::{CloseCode, Message, Options, connect_with};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

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

/// A socket that counts the bytes read from it: what a client was sent on the wire.
struct Counting(TcpStream, Arc<AtomicUsize>);

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.0).poll_read(cx, buf);
        self.1
            .fetch_add(buf.filled().len() - before, Ordering::Relaxed);
        polled
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_compresses_for_deflate_clients_and_sends_plain_text_to_the_others() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("ws://{addr}/ws");
        let keepalive = KeepAliveConfig {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            max_missed: 1,
        };
        tokio::spawn(chat_server::serve(listener, keepalive));
        let deflate = Config::new().deflate(DeflateConfig::new().enabled(true));
        let mut clients = Vec::new();
        for config in [deflate, deflate, Config::new()] {
            let read = Arc::new(AtomicUsize::new(0));
            let tcp = Counting(TcpStream::connect(addr).await.unwrap(), read.clone());
            let (ws, response) = connect_with(tcp, &url, Options::new().config(config))
                .await
                .unwrap();
            clients.push((ws, read, response.extensions.is_some()));
        }
        let negotiated: Vec<bool> = clients.iter().map(|c| c.2).collect();
        assert_eq!(
            negotiated,
            [true, true, false],
            "who agreed on permessage-deflate"
        );
        let handshakes: Vec<usize> = clients
            .iter()
            .map(|c| c.1.load(Ordering::Relaxed))
            .collect();

        // Three different JSON-like lines of 20 KiB, said by the plain client: each reaches
        // all three, the deflate clients' context kept between them on their side.
        let mut sent = 0;
        for n in 0..3 {
            let text: String = (0..)
                .map(|i| format!("{{\"line\":{n},\"id\":{i},\"price\":{}}},", i * 7 + n))
                .take(700)
                .collect();
            sent += text.len();
            clients[2]
                .0
                .send(Message::text(text.clone()))
                .await
                .unwrap();
            for (i, (ws, _, _)) in clients.iter_mut().enumerate() {
                match ws.next().await {
                    Some(Ok(Message::Text(got))) => {
                        assert!(got.as_str() == text, "client {i}, line {n}")
                    }
                    other => panic!("client {i}, line {n}: expected the line, got {other:?}"),
                }
            }
        }
        let wire: Vec<usize> = clients
            .iter()
            .zip(&handshakes)
            .map(|(c, h)| c.1.load(Ordering::Relaxed) - h)
            .collect();
        // Compressed: the repetitive lines shrink several times over; plain: all of it.
        assert!(
            wire[0] < sent / 4 && wire[1] < sent / 4,
            "{wire:?} of {sent}"
        );
        assert_eq!(wire[0], wire[1], "the same compressed frames");
        assert!(wire[2] > sent, "{wire:?} of {sent}");
    })
    .await
    .expect("the test took over 30 s");
}
