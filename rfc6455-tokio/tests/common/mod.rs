//! Shared by the tests: a tokio echo server on loopback and a time limit.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use rfc6455_tokio::{Error, accept};
use tokio::net::TcpListener;

/// Every test step must end within this.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Run `work`, failing the test if it takes longer than [`LIMIT`].
pub async fn timed<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, work)
        .await
        .expect("test step timed out")
}

/// A server on 127.0.0.1 that echoes every data message on each connection it accepts.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = echo(tcp).await;
            });
        }
    });
    addr
}

async fn echo(tcp: tokio::net::TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut ws = accept(tcp).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_data() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

/// A payload whose bytes depend on their position, from a small LCG (not compressible to
/// nothing, so deflate has work to do).
pub fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}
