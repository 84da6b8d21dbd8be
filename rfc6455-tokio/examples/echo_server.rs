//! An echo server on tokio: every text or binary message comes back with the same type.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_echo_server -- 127.0.0.1:9001`
//!
//! permessage-deflate is accepted unless `RFC6455_DEFLATE=0`. Pings are answered and
//! close handshakes completed by the driver; a client silent for 60 s is dropped.
mod common;

use rfc6455_tokio::{Error, Response, accept_with};
use tokio::net::{TcpListener, TcpStream};

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
    let ws = accept_with(tcp, common::options(), |_| async {
        Ok(Response::default())
    })
    .await?;
    common::echo(ws).await
}
