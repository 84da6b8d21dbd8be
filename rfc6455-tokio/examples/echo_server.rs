//! An echo server on tokio: every text or binary message comes back with the same type.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_echo_server -- 127.0.0.1:9001`
//!
//! permessage-deflate is accepted unless `RFC6455_DEFLATE=0`. Pings are answered and
//! close handshakes completed by the driver; a client silent for 60 s is dropped.
use std::time::Duration;

use rfc6455_tokio::rfc6455::deflate::DeflateConfig;
use rfc6455_tokio::{Error, Options, Response, accept_with};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await.expect("bind");
    println!(
        "echo_server listening on ws://{}",
        listener.local_addr().unwrap()
    );
    while let Ok((tcp, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Err(e) = echo(tcp).await {
                eprintln!("echo_server: connection ended: {e}");
            }
        });
    }
}

async fn echo(tcp: TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let deflate = std::env::var("RFC6455_DEFLATE").map_or(true, |v| v != "0");
    let mut options = Options::new();
    options.config = options
        .config
        .deflate(DeflateConfig::new().enabled(deflate));
    let mut ws = accept_with(tcp, options, |_| async { Ok(Response::default()) }).await?;
    let mut result = Ok(());
    while let Ok(Some(message)) = timeout(Duration::from_secs(60), ws.next()).await {
        match message {
            Ok(message) if message.is_data() => ws.send(message).await?,
            Ok(_) => {}
            // The close frame is sent; polling on lets the driver finish the close.
            Err(e) => result = Err(e),
        }
    }
    result
}
