//! A client for the Autobahn|Testsuite fuzzing server: it runs every case, echoing each
//! message, then asks the server to write its reports.
//!
//! `cargo run --release --example autobahn_client -- ws://127.0.0.1:9001`
//!
//! The URL defaults to `$AUTOBAHN_URL`; the agent name is `$AUTOBAHN_AGENT` or `rfc6455`.
mod common;

use rfc6455::blocking::Error;
use rfc6455::connection::{Event, Message};

fn main() {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let base = base.trim_end_matches('/');
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "rfc6455".into());

    let count = case_count(base).unwrap_or_else(|e| {
        eprintln!("autobahn_client: cannot get the case count: {e}");
        std::process::exit(1);
    });
    println!("autobahn_client: {count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={agent}")) {
            // Expected for the cases that send invalid data: the connection fails.
            eprintln!("case {case}: {e}");
        }
    }
    let mut ws = common::open(&format!("{base}/updateReports?agent={agent}"))
        .unwrap_or_else(|e| panic!("updateReports: {e}"));
    while ws.read().is_ok() {}
    println!("autobahn_client: reports updated");
}

fn case_count(base: &str) -> Result<u32, Error> {
    let mut ws = common::open(&format!("{base}/getCaseCount"))?;
    let mut count = None;
    loop {
        match ws.read() {
            Ok(Event::Message(Message::Text(text))) => count = text.as_str().trim().parse().ok(),
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => return Err(e),
        }
    }
    count.ok_or(Error::Closed)
}

fn run_case(url: &str) -> Result<(), Error> {
    let mut ws = common::open(url)?;
    loop {
        match ws.read() {
            Ok(Event::Message(message)) => ws.send(message)?,
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
