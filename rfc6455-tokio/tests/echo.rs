//! Round trips through the tokio echo server, the close handshake, pings, deflate.
mod common;

use common::{echo_server, payload, timed};
use rfc6455_tokio::{CloseCode, CloseFrame, Error, Message, connect};

#[tokio::test]
async fn text_and_binary_round_trip_including_4_mib() {
    let addr = echo_server().await;
    let (mut ws, _) = timed(connect(&format!("ws://{addr}/echo"))).await.unwrap();
    let big = payload(4 << 20, 7);
    let sent = [
        Message::text("hello"),
        Message::binary(vec![1u8, 2, 3]),
        Message::text("é".repeat(10_000)),
        Message::binary(big.clone()),
        Message::binary(Vec::new()),
    ];
    for message in &sent {
        timed(ws.send(message.clone())).await.unwrap();
        let echoed = timed(ws.next()).await.expect("an echo").unwrap();
        assert_eq!(&echoed, message);
    }
    // The 4 MiB one byte for byte, checked against the generator, not the sent value.
    let Message::Binary(data) = &sent[3] else {
        panic!()
    };
    assert_eq!(data.len(), 4 << 20);
    assert_eq!(&data[..], &big[..]);
}

#[tokio::test]
async fn close_reported_once_then_end_then_already_closed() {
    let addr = echo_server().await;
    let (mut ws, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    timed(ws.close(CloseCode::NORMAL, "bye")).await.unwrap();
    let reply = timed(ws.next()).await.expect("the close reply").unwrap();
    // The codec replies with the peer's code and no reason.
    assert_eq!(
        reply,
        Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
    );
    assert!(timed(ws.next()).await.is_none(), "the stream ends");
    assert!(timed(ws.next()).await.is_none(), "and stays ended");
    match timed(ws.send(Message::text("late"))).await {
        Err(Error::AlreadyClosed) => {}
        other => panic!("expected AlreadyClosed, got {other:?}"),
    }
}

#[tokio::test]
async fn server_sees_the_close_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = rfc6455_tokio::accept(tcp).await.unwrap();
        let mut seen = Vec::new();
        while let Some(message) = ws.next().await {
            seen.push(message.unwrap());
        }
        let late = ws.send(Message::text("late")).await;
        (seen, late)
    });
    let (mut ws, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    timed(ws.send(Message::text("one"))).await.unwrap();
    timed(ws.close(CloseCode(4001), "custom")).await.unwrap();
    while timed(ws.next()).await.is_some() {}
    let (seen, late) = timed(server).await.unwrap();
    assert_eq!(
        seen,
        [
            Message::text("one"),
            Message::Close(Some(CloseFrame::new(CloseCode(4001), "custom")))
        ]
    );
    assert!(matches!(late, Err(Error::AlreadyClosed)), "{late:?}");
}

#[tokio::test]
async fn ping_is_answered() {
    let addr = echo_server().await;
    let (mut ws, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    timed(ws.ping(&b"are you there"[..])).await.unwrap();
    let pong = timed(ws.next()).await.unwrap().unwrap();
    assert_eq!(pong, Message::Pong((&b"are you there"[..]).into()));
}

#[tokio::test]
async fn deflate_is_negotiated_between_our_client_and_server() {
    let addr = echo_server().await;
    let (mut ws, accepted) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    let extensions = accepted.extensions.unwrap_or_default();
    assert!(
        extensions.starts_with("permessage-deflate"),
        "{extensions:?}"
    );
    assert!(ws.connection().deflate_params().is_some());
    let text = "a compressible line of text\n".repeat(5000);
    timed(ws.send(Message::text(text.clone()))).await.unwrap();
    let echoed = timed(ws.next()).await.unwrap().unwrap();
    assert_eq!(echoed.to_text(), Some(text.as_str()));
}

#[tokio::test]
async fn sink_and_stream_traits_work() {
    use futures_util::{SinkExt, StreamExt};
    let addr = echo_server().await;
    let (ws, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    // futures' own split (a lock per poll) over the Stream + Sink impls.
    let (mut sink, mut stream) = StreamExt::split(ws);
    for i in 0..100u32 {
        timed(sink.feed(Message::text(i.to_string())))
            .await
            .unwrap();
    }
    timed(sink.flush()).await.unwrap();
    for i in 0..100u32 {
        let m = timed(stream.next()).await.unwrap().unwrap();
        assert_eq!(m.to_text(), Some(i.to_string().as_str()));
    }
    timed(sink.close()).await.unwrap();
    let reply = timed(stream.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(f)) if f.code == CloseCode::NORMAL));
    assert!(timed(stream.next()).await.is_none());
}
