//! The demo: the echo server and the echo client talking to each other over loopback.
//!
//! `cargo run --release --example demo`
mod common;

use std::net::TcpListener;
use std::thread;

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    println!("echo server on {url}");
    thread::spawn(move || common::serve(listener));
    match common::echo_client(&url) {
        Ok(()) => println!("demo: all checks passed"),
        Err(e) => {
            eprintln!("demo failed: {e}");
            std::process::exit(1);
        }
    }
}
