//! A client for the Autobahn|Testsuite fuzzing server on tokio: it runs every case,
//! echoing each message, then asks the server to write its reports.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_autobahn_client -- ws://127.0.0.1:9001`
//!
//! The URL defaults to `$AUTOBAHN_URL`; the agent name is `$AUTOBAHN_AGENT` or `rfc6455`.
//! permessage-deflate is offered unless `RFC6455_DEFLATE=0`.
mod common;

use rfc6455_tokio::{Error, Message, WebSocketStream, connect_with};
use tokio::net::TcpStream;

#[tokio::main]
async fn main() {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let base = base.trim_end_matches('/');
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "rfc6455".into());

    let count = case_count(base).await.unwrap_or_else(|e| {
        eprintln!("autobahn_client: cannot get the case count: {e}");
        std::process::exit(1);
    });
    println!("autobahn_client: {count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={agent}")).await {
            // Expected for the cases that send invalid data: the connection fails.
            eprintln!("case {case}: {e}");
        }
    }
    let mut ws = open(&format!("{base}/updateReports?agent={agent}"))
        .await
        .unwrap_or_else(|e| panic!("updateReports: {e}"));
    while let Some(Ok(_)) = ws.next().await {}
    println!("autobahn_client: reports updated");
}

/// Connect to `url`, which may carry a path and query.
async fn open(url: &str) -> Result<WebSocketStream<TcpStream>, Error> {
    let addr = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or(Error::Url(
            rfc6455_tokio::rfc6455::handshake::UrlError::Scheme,
        ))?;
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(connect_with(tcp, url, common::options()).await?.0)
}

async fn case_count(base: &str) -> Result<u32, Error> {
    let mut ws = open(&format!("{base}/getCaseCount")).await?;
    let mut count = None;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            count = text.as_str().trim().parse().ok();
        }
    }
    count.ok_or(Error::ConnectionClosed)
}

async fn run_case(url: &str) -> Result<(), Error> {
    common::echo(open(url).await?).await
}
