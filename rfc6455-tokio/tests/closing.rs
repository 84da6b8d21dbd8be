//! The close handshake's timeout: a peer that never answers our close frame, and a server
//! that answers it but never closes TCP.
mod common;

use std::time::{Duration, Instant};

use common::timed;
use rfc6455::connection::Config;
use rfc6455_tokio::{CloseCode, Error, Message, WebSocketStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (a.unwrap(), b.unwrap().0)
}

const TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn an_unanswered_close_frame_ends_the_stream_at_the_timeout() {
    let (a, mut peer) = pair().await;
    let mut ws = WebSocketStream::server(a, Config::default());
    ws.set_close_timeout(TIMEOUT);
    let started = Instant::now();
    timed(ws.close(CloseCode::GOING_AWAY, "bye")).await.unwrap();
    let end = timed(ws.next()).await;
    let waited = started.elapsed();
    match end {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(waited >= TIMEOUT && waited < TIMEOUT * 10, "{waited:?}");
    assert!(timed(ws.next()).await.is_none());
    assert!(matches!(
        ws.send(Message::text("late")).await,
        Err(Error::AlreadyClosed)
    ));
    // The peer got our close frame (1001, "bye"), then the end of the transport.
    let mut got = Vec::new();
    timed(peer.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"\x88\x05\x03\xe9bye");
}

#[tokio::test]
async fn a_client_stops_waiting_for_the_servers_fin_at_the_timeout() {
    let (a, mut server) = pair().await;
    let mut ws = WebSocketStream::client(a, Config::default()).unwrap();
    ws.set_close_timeout(TIMEOUT);
    let started = Instant::now();
    timed(ws.close(CloseCode::NORMAL, "")).await.unwrap();
    // The server reads our (masked) close frame, answers it, and keeps TCP open.
    let mut frame = [0u8; 8];
    timed(server.read_exact(&mut frame)).await.unwrap();
    assert_eq!(&frame[..2], b"\x88\x82");
    timed(server.write_all(b"\x88\x02\x03\xe8")).await.unwrap();
    let reply = timed(ws.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(f)) if f.code == CloseCode::NORMAL));
    // The client waits for the server to close TCP first (RFC 6455 section 7.1.1), up to
    // the timeout, then ends by itself.
    assert!(timed(ws.next()).await.is_none());
    let waited = started.elapsed();
    assert!(waited >= TIMEOUT && waited < TIMEOUT * 10, "{waited:?}");
}

#[tokio::test]
async fn a_prompt_peer_does_not_wait_for_the_timeout() {
    let (a, mut server) = pair().await;
    let mut ws = WebSocketStream::client(a, Config::default()).unwrap();
    ws.set_close_timeout(Duration::from_secs(30));
    let started = Instant::now();
    timed(ws.close(CloseCode::NORMAL, "")).await.unwrap();
    let mut frame = [0u8; 8];
    timed(server.read_exact(&mut frame)).await.unwrap();
    timed(server.write_all(b"\x88\x02\x03\xe8")).await.unwrap();
    drop(server);
    let reply = timed(ws.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(_))));
    assert!(timed(ws.next()).await.is_none());
    assert!(started.elapsed() < Duration::from_secs(5));
}
