//! An echo client that checks a server: text, binary, a 70000-byte message, a ping, and a
//! clean close. Exits 0 only if all of it happened.
//!
//! `cargo run --release --example echo_client -- ws://127.0.0.1:9001`
mod common;

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    if let Err(e) = common::echo_client(&url) {
        eprintln!("echo_client: {e}");
        std::process::exit(1);
    }
}
