//! The broadcast chat of `examples/chat_server.rs` on tokio: every text message from one
//! client goes to all open clients (the sender too).
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_chat_server -- 127.0.0.1:8080 [PING_MS] [TIMEOUT_MS]`,
//! then open <http://127.0.0.1:8080/> in two browser tabs.
//!
//! The same command line, page (`GET /`, the chat on `/ws`), keep-alive and log lines as the
//! std example, so `CHAT_DRIVER=tokio tests/browser/run` runs its browser test against this.
//! One task reads each client; its writer task takes the room's messages from a
//! `tokio::sync::broadcast` channel of `QUEUE` messages. A client that falls that far behind,
//! or takes longer than `SEND_TIMEOUT` to take one message, is closed with 1013 and counted
//! (`chat_room/mod.rs`, shared with `tokio_chat_cluster`).
//! The keep-alive is the codec's `KeepAlive`, driven in the reader's loop rather than by
//! `Options::keepalive`, so that each ping sent can be logged as the std example does.
mod chat_room;
mod common;

use std::time::Duration;

use rfc6455_tokio::rfc6455::keepalive::KeepAliveConfig;
use tokio::net::TcpListener;

use chat_room::{QUEUE, Room};

/// Clients dropped for not keeping up (the shared room's counter).
pub use chat_room::TOO_SLOW;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut ms =
        |default| Duration::from_millis(args.next().map_or(default, |a| a.parse().expect("ms")));
    let keepalive = KeepAliveConfig {
        interval: ms(30_000),
        timeout: ms(10_000),
        max_missed: 1,
    };
    let listener = TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    println!(
        "chat_server: open http://{}/ in a browser",
        listener.local_addr().unwrap()
    );
    serve(listener, keepalive).await;
}

/// Accept clients forever, a task each, numbered from 1 in the log.
pub async fn serve(listener: TcpListener, keepalive: KeepAliveConfig) {
    let room = Room::new(QUEUE);
    for id in 1u64.. {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let room = room.clone();
        tokio::spawn(async move {
            let local = room.clone();
            let say = move |text| local.send(text);
            match chat_room::client("chat_server", id, tcp, &room, &say, keepalive).await {
                Ok(what) => println!("chat_server: client {id} {what}"),
                Err(e) => println!("chat_server: client {id} failed: {e}"),
            }
        });
    }
}
