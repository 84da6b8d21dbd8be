//! A burst of small messages costs a few writes, not one per message, when the replies are
//! fed (queued) and written once the received messages are used up.
mod common;

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use common::timed;
use rfc6455::connection::Config;
use rfc6455_tokio::WebSocketStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A transport that counts the writes that wrote something.
struct Counting {
    inner: TcpStream,
    writes: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.writes.fetch_add(1, Ordering::SeqCst);
            }
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.writes.fetch_add(1, Ordering::SeqCst);
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

const COUNT: usize = 1000;

/// A server that echoes with `feed` (or `send`) answers `COUNT` 16-byte messages sent in
/// one write; the writes it made.
async fn echo_burst(feed: bool) -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let mut client = client.unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let transport = Counting {
        inner: server.unwrap().0,
        writes: writes.clone(),
    };
    let mut ws = WebSocketStream::server(transport, Config::default());
    let server = tokio::spawn(async move {
        let mut echoed = 0;
        while echoed < COUNT {
            let message = ws.next().await.unwrap().unwrap();
            if feed {
                ws.feed(message).await.unwrap();
            } else {
                ws.send(message).await.unwrap();
            }
            echoed += 1;
        }
        // The last replies go out with the next call that writes.
        ws.flush().await.unwrap();
    });
    // 1,000 masked binary frames of 16 bytes (key 0), in one write.
    let mut burst = Vec::with_capacity(COUNT * 22);
    for i in 0..COUNT {
        burst.extend_from_slice(&[0x82, 0x90, 0, 0, 0, 0]);
        burst.extend_from_slice(&(i as u128).to_be_bytes());
    }
    timed(client.write_all(&burst)).await.unwrap();
    let mut echoes = vec![0u8; COUNT * 18];
    timed(client.read_exact(&mut echoes)).await.unwrap();
    for (i, frame) in echoes.chunks(18).enumerate() {
        assert_eq!(&frame[..2], &[0x82, 16]);
        assert_eq!(frame[2..], (i as u128).to_be_bytes());
    }
    timed(server).await.unwrap();
    writes.load(Ordering::SeqCst)
}

#[tokio::test]
async fn fed_replies_to_a_burst_go_out_in_few_writes() {
    let fed = echo_burst(true).await;
    let sent = echo_burst(false).await;
    println!("{COUNT} echoes of 16 bytes: {fed} writes fed, {sent} writes sent one by one");
    // The burst arrives in a few reads (loopback may split it); each read's messages are
    // answered with one write.
    assert!(fed <= 20, "{fed} writes for {COUNT} fed echoes");
    // `send` writes each message out before it returns.
    assert_eq!(sent, COUNT);
}

/// Pongs are not held back for batching: the pong for a ping the caller took goes out
/// although the caller does not read again for a while.
#[tokio::test]
async fn a_pong_goes_out_before_the_next_read() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let mut client = client.unwrap();
    let mut ws = WebSocketStream::server(server.unwrap().0, Config::default());
    // A masked ping (key 0), then a text message right behind it.
    timed(client.write_all(b"\x89\x82\0\0\0\0hi\x81\x82\0\0\0\0yo"))
        .await
        .unwrap();
    let ping = timed(ws.next()).await.unwrap().unwrap();
    assert_eq!(ping, rfc6455_tokio::Message::Ping(b"hi".to_vec().into()));
    // The caller holds on to the stream without reading the text message behind the ping.
    let mut pong = [0u8; 4];
    timed(client.read_exact(&mut pong)).await.unwrap();
    assert_eq!(&pong, b"\x8a\x02hi");
    let text = timed(ws.next()).await.unwrap().unwrap();
    assert_eq!(text, rfc6455_tokio::Message::text("yo"));
}
