//! The std `echo_client`'s check on tokio: text, binary, a 70000-byte message, a ping, and a
//! clean close, with the same output lines. Exits 0 only if all of it happened.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_echo_client -- ws://127.0.0.1:9001`
//!
//! permessage-deflate is offered unless `RFC6455_DEFLATE=0` (`tests/peers/run` checks what
//! was agreed with Node's ws and Python's websockets servers).
mod common;

use std::time::Duration;

use rfc6455_tokio::rfc6455::handshake::parse_ws_url;
use rfc6455_tokio::{CloseCode, Message, WebSocketStream, connect_with};
use tokio::net::TcpStream;

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("ws://127.0.0.1:9001".into());
    if let Err(e) = check(&url).await {
        eprintln!("echo_client: {e}");
        std::process::exit(1);
    }
}

/// The next message within 10 s, or what went wrong while `waiting` for it.
async fn next(ws: &mut WebSocketStream<TcpStream>, waiting: &str) -> Result<Message, String> {
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(message))) => Ok(message),
        Ok(Some(Err(e))) => Err(format!("{waiting}: {e}")),
        Ok(None) => Err(format!("{waiting}: the connection ended")),
        Err(_) => Err(format!("{waiting}: nothing within 10 s")),
    }
}

async fn check(url: &str) -> Result<(), String> {
    let addr = parse_ws_url(url)
        .map_err(|e| format!("{url}: {e}"))?
        .authority;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut ws, _) = connect_with(tcp, url, common::options())
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    println!("connected to {url}");
    println!("permessage-deflate: {:?}", ws.connection().deflate_params());

    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    let checks = [
        ("text \"hello\"", Message::text("hello")),
        ("binary [1, 2, 3]", Message::binary(vec![1u8, 2, 3])),
        ("binary of 70000 bytes", Message::binary(big)),
    ];
    for (what, message) in checks {
        ws.send(message.clone())
            .await
            .map_err(|e| format!("send {what}: {e}"))?;
        match next(&mut ws, &format!("read echo of {what}")).await? {
            echoed if echoed == message => println!("echoed: {what}"),
            other => return Err(format!("expected the echo of {what}, got {other:?}")),
        }
    }

    ws.ping(&b"demo ping"[..])
        .await
        .map_err(|e| format!("ping: {e}"))?;
    loop {
        match next(&mut ws, "waiting for pong").await? {
            Message::Pong(payload) if &payload[..] == b"demo ping" => break,
            Message::Pong(other) => return Err(format!("pong with wrong payload {other:?}")),
            Message::Ping(_) => {}
            other => return Err(format!("expected a pong, got {other:?}")),
        }
    }
    println!("pong received");

    ws.close(CloseCode::NORMAL, "done")
        .await
        .map_err(|e| format!("close: {e}"))?;
    match next(&mut ws, "waiting for close").await? {
        Message::Close(Some(frame)) if frame.code == CloseCode::NORMAL => {}
        other => return Err(format!("expected the close reply, got {other:?}")),
    }
    // The driver reads on to the server's end of the stream (its close timeout, 5 s).
    if let Some(more) = ws.next().await {
        return Err(format!("expected the end after the close, got {more:?}"));
    }
    println!("closed cleanly (1000)");
    Ok(())
}
