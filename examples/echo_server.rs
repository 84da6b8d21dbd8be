//! An echo server: every text or binary message comes back with the same type.
//!
//! `cargo run --release --example echo_server -- 127.0.0.1:9001`
//!
//! One thread per connection (std only, no async runtime). Pings are answered and close
//! handshakes completed by the connection itself; a misbehaving client gets the close code
//! the RFC names, and a stalled one times out.
mod common;

use std::net::TcpListener;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    println!(
        "echo_server listening on ws://{}",
        listener.local_addr().unwrap()
    );
    common::serve(listener);
}
