//! Idle connections hold no read buffer: the RSS a thousand idle server connections add,
//! after a round trip each, stays small (permessage-deflate off: see `open`).
mod common;

use std::time::Duration;

use common::timed;
use rfc6455::connection::Config;
use rfc6455::deflate::DeflateConfig;
use rfc6455_tokio::{Message, Options, Response, accept_with, connect_with};
use tokio::net::TcpListener;

/// Resident set size of this process in bytes, from /proc/self/statm (Linux).
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const N: usize = 400;

/// A client with `config`.
async fn open(
    addr: std::net::SocketAddr,
    config: Config,
) -> rfc6455_tokio::WebSocketStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let options = Options::new().config(config);
    let (ws, _) = connect_with(tcp, &format!("ws://{addr}/"), options)
        .await
        .unwrap();
    ws
}

/// The RSS [`N`] idle client+server pairs add, per pair, each after one 1,000-byte text
/// round trip, both ends with `config`.
async fn rss_per_idle_pair(config: Config) -> Option<usize> {
    rss()?;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Servers: accept, echo; each waits in next() when idle.
    let server = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let options = Options::new().config(config);
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
    let text = "{\"user\":\"someone\",\"text\":\"a line of chat\"}".repeat(25);
    for _ in 0..20 {
        let mut ws = open(addr, config).await;
        ws.send(Message::text(text.clone())).await.unwrap();
        ws.next().await.unwrap().unwrap();
        let _ = tokio::time::timeout(Duration::from_millis(1), ws.next()).await;
        clients.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rss().unwrap();
    timed(async {
        for _ in 0..N {
            let mut ws = open(addr, config).await;
            if config.deflate.enabled {
                assert!(ws.connection().deflate_params().is_some());
            }
            ws.send(Message::text(text.clone())).await.unwrap();
            let echo = ws.next().await.unwrap().unwrap();
            assert_eq!(echo.to_text(), Some(text.as_str()));
            // Then wait for more, as a client does: it finds nothing and goes idle.
            let more = tokio::time::timeout(Duration::from_millis(1), ws.next()).await;
            assert!(more.is_err(), "{more:?}");
            clients.push(ws);
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss().unwrap();
    drop(clients);
    server.abort();
    Some(after.saturating_sub(before) / N)
}

/// RSS is the process's: the three settings are measured one after the other in one test
/// (tests of one binary run side by side).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cost_little_rss() {
    let Some(per_pair) = rss_per_idle_pair(Config::default()).await else {
        eprintln!("no /proc/self/statm: skipped");
        return;
    };
    eprintln!("{N} idle client+server pairs, no deflate: {per_pair} bytes of RSS per pair");
    // Both ends live in this process: the bound is for a client and a server together.
    assert!(per_pair <= 12 << 10, "{per_pair} bytes per idle pair");

    // permessage-deflate without context takeover either way: no compressor or
    // decompressor state is kept between messages, so an idle compressed connection costs
    // what an uncompressed one does.
    let lean = DeflateConfig::new()
        .enabled(true)
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true);
    let per_pair = rss_per_idle_pair(Config::default().deflate(lean))
        .await
        .unwrap();
    eprintln!("{N} idle pairs, deflate without takeover: {per_pair} bytes of RSS per pair");
    assert!(per_pair <= 12 << 10, "{per_pair} bytes per idle pair");

    // With context takeover (the default when deflate is on) each end keeps its compressor
    // (miniz_oxide: 319,326 bytes) and decompressor (43,272 bytes with its 32 KiB window),
    // of which RSS counts the pages touched.
    let takeover = DeflateConfig::new().enabled(true);
    let per_pair = rss_per_idle_pair(Config::default().deflate(takeover))
        .await
        .unwrap();
    eprintln!("{N} idle pairs, deflate with takeover: {per_pair} bytes of RSS per pair");
    let states = 2 * (319_326 + 43_272);
    assert!(
        per_pair <= states + (12 << 10),
        "{per_pair} bytes per idle pair"
    );
}
