//! What writing reports when the transport will not take the output: `feed` waits while the
//! queued output is at its bound (a further frame could not be queued), a failed write is
//! the transport's error while the connection is open, and "closed" once the close
//! handshake has ended it.

mod common;
// Hand-built frames (RFC 6455 section 5.2, none of the crate's frame code). Its connection
// helpers stand behind the codec's feature `alloc`, which this package does not have.
#[allow(unexpected_cfgs)]
#[path = "../../tests/support/oracle.rs"]
mod oracle;

use std::io;

use common::{Scripted, Writes};
use futures_util::FutureExt;
use rfc6455::connection::Config;
use rfc6455::frame::OpCode;
use rfc6455_tokio::{Error, Message, WebSocketStream};

#[tokio::test]
async fn feed_waits_while_the_output_is_at_its_bound() {
    // 100-byte binary messages are 102-byte server frames; the bound holds exactly two.
    let config = Config::new().max_queued_output(204);
    let mut ws = WebSocketStream::server(Scripted::new([], Writes::Block), config);
    let message = || Message::binary(vec![7u8; 100]);
    ws.feed(message()).await.unwrap();
    ws.feed(message()).await.unwrap();
    assert_eq!(
        ws.connection().pending_output_len(),
        204,
        "two frames queued"
    );
    // At the bound no frame fits: the third waits for the transport (which takes nothing)
    // instead of returning with the message set aside.
    assert!(
        ws.feed(message()).now_or_never().is_none(),
        "feed returned with the output at its bound and nothing written"
    );
    assert_eq!(ws.connection().pending_output_len(), 204);
}

#[tokio::test]
async fn a_failed_write_on_an_open_connection_is_the_transport_error() {
    let mut ws = WebSocketStream::server(Scripted::new([], Writes::Fail), Config::new());
    ws.feed(Message::text("hello")).await.unwrap();
    match ws.flush().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
        other => panic!("expected the broken pipe, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_write_after_the_close_handshake_is_connection_closed() {
    // The client's close frame (1000): the server answers it and the connection is
    // closed, the answer still queued (the transport refuses it).
    let close = oracle::client_frame(true, OpCode::Close, &oracle::close_payload(1000, ""));
    let mut ws = WebSocketStream::server(Scripted::new([close], Writes::Fail), Config::new());
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected the close frame, got {other:?}"),
    }
    assert!(
        ws.connection().pending_output_len() > 0,
        "the close answer is queued"
    );
    match ws.flush().await {
        Err(Error::ConnectionClosed) => {}
        other => panic!("expected ConnectionClosed, got {other:?}"),
    }
}
