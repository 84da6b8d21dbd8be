//! Idle connections hold no read buffer: the RSS a thousand idle server connections add,
//! after a round trip each, stays small (permessage-deflate off: see `open`).
mod common;

use std::time::Duration;

use common::timed;
use rfc6455::connection::Config;
use rfc6455_tokio::{Message, Options, Response, accept_with, connect_with};
use tokio::net::TcpListener;

/// Resident set size of this process in bytes, from /proc/self/statm (Linux).
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const N: usize = 400;

/// A client without permessage-deflate (its compressor state is the codec's, not the
/// driver's, and is measured apart).
async fn open(
    addr: std::net::SocketAddr,
) -> (
    rfc6455_tokio::WebSocketStream<tokio::net::TcpStream>,
    rfc6455::connection::Accepted,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let options = Options::new().config(Config::default());
    connect_with(tcp, &format!("ws://{addr}/"), options)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cost_little_rss() {
    let Some(_) = rss() else {
        eprintln!("no /proc/self/statm: skipped");
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Servers: accept, echo; each waits in next() when idle.
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let options = Options::new().config(Config::default());
                let ok = |_| async { Ok(Response::default()) };
                let mut ws = accept_with(tcp, options, ok).await.unwrap();
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_data() {
                        let _ = ws.send(m).await;
                    }
                }
            });
        }
    });
    // Warm up the allocator and runtime with a few connections first.
    let mut clients = Vec::new();
    for _ in 0..20 {
        let (mut ws, _) = open(addr).await;
        ws.send(Message::text("x".repeat(1000))).await.unwrap();
        ws.next().await.unwrap().unwrap();
        clients.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rss().unwrap();
    timed(async {
        for _ in 0..N {
            let (mut ws, _) = open(addr).await;
            ws.send(Message::text("x".repeat(1000))).await.unwrap();
            ws.next().await.unwrap().unwrap();
            clients.push(ws);
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss().unwrap();
    let per_pair = after.saturating_sub(before) / N;
    eprintln!("{N} idle client+server pairs: {per_pair} bytes of RSS per pair");
    // Both ends live in this process: the bound is for a client and a server together.
    assert!(per_pair <= 12 << 10, "{per_pair} bytes per idle pair");
}
