//! The broadcast chat of `tokio_chat_server`, run as a cluster: several server processes
//! share one room through Redis pub/sub.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_chat_cluster -- LISTEN_ADDR REDIS_ADDR [CHANNEL]`,
//! e.g. two of them, `127.0.0.1:8080 127.0.0.1:6379` and `127.0.0.1:8081 127.0.0.1:6379`,
//! then open <http://127.0.0.1:8080/> and <http://127.0.0.1:8081/> in two browser tabs.
//!
//! Each text message a client sends is PUBLISHed to the Redis channel (default `chat`); it
//! does not go to the local room. One SUBSCRIBE connection per process feeds every message
//! of the channel into the local room, so every client on every server, the sender too,
//! gets each message once. The room, the page and the bound on slow clients (1013 "too
//! slow", counted in `TOO_SLOW`) are `chat_room/mod.rs`, shared with `tokio_chat_server`.
//! When a Redis connection drops or cannot be made, it is made again after a delay from the
//! codec's `Backoff`, and the log says so. Messages said while Redis is unreachable wait in
//! a queue of `PUBLISH_QUEUE`; beyond that they are dropped and counted in `NOT_PUBLISHED`.
//! The Redis client is the RESP subset in `resp/mod.rs`.
mod chat_room;
mod common;
pub mod resp;

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rfc6455_tokio::rfc6455::backoff::{Backoff, BackoffConfig};
use rfc6455_tokio::rfc6455::connection::Utf8Bytes;
use rfc6455_tokio::rfc6455::keepalive::KeepAliveConfig;
use rfc6455_tokio::rfc6455::keygen::random_seed;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

pub use chat_room::{QUEUE, Room, TOO_SLOW};
use resp::{Conn, Value};

/// Messages waiting for the publisher (e.g. while Redis is unreachable).
pub const PUBLISH_QUEUE: usize = 1024;
/// Messages dropped because the publisher's queue was full.
pub static NOT_PUBLISHED: AtomicU64 = AtomicU64::new(0);

/// Where the cluster meets.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `host:port` of the Redis server.
    pub addr: String,
    /// The pub/sub channel of the room.
    pub channel: String,
    /// The pace of reconnecting to Redis.
    pub policy: BackoffConfig,
}

/// The state of a process's two Redis connections, for its log and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The SUBSCRIBE connection is up and confirmed.
    pub subscribed: bool,
    /// The PUBLISH connection is up (Redis answered a PING).
    pub publishing: bool,
    /// Subscriptions confirmed so far.
    pub subscriptions: u64,
    /// Publisher connections made so far.
    pub publisher_connections: u64,
    /// Waits before reconnecting: connections lost plus attempts that failed.
    pub retries: u64,
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(redis)) = (args.next(), args.next()) else {
        eprintln!("usage: tokio_chat_cluster LISTEN_ADDR REDIS_ADDR [CHANNEL]");
        std::process::exit(2);
    };
    let channel = args.next().unwrap_or_else(|| "chat".into());
    let keepalive = KeepAliveConfig {
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        max_missed: 1,
    };
    let listener = TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    println!(
        "chat_cluster: open http://{}/ in a browser; Redis {redis}, channel {channel}",
        listener.local_addr().unwrap()
    );
    let redis = RedisConfig {
        addr: redis,
        channel,
        policy: BackoffConfig::default(),
    };
    serve(
        listener,
        redis,
        keepalive,
        watch::Sender::new(Links::default()),
    )
    .await;
}

/// Accept clients forever, a task each, numbered from 1 in the log, with the Redis
/// subscriber and publisher beside them. Every task of the server is owned by this future:
/// dropping it (e.g. aborting its task) stops the server, its clients and its Redis links.
pub async fn serve(
    listener: TcpListener,
    redis: RedisConfig,
    keepalive: KeepAliveConfig,
    links: watch::Sender<Links>,
) {
    let room = Room::new(QUEUE);
    let links = Arc::new(links);
    let (said, to_publish) = mpsc::channel::<Utf8Bytes>(PUBLISH_QUEUE);
    let mut tasks = JoinSet::new();
    tasks.spawn(subscriber(redis.clone(), room.clone(), links.clone()));
    tasks.spawn(publisher(redis, to_publish, links));
    for id in 1u64.. {
        while tasks.try_join_next().is_some() {} // the clients that left
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (room, said) = (room.clone(), said.clone());
        tasks.spawn(async move {
            let say = move |text| {
                if said.try_send(text).is_err() {
                    let n = NOT_PUBLISHED.fetch_add(1, Ordering::Relaxed) + 1;
                    println!("chat_cluster: client {id}: a message not published ({n} so far)");
                }
            };
            match chat_room::client("chat_cluster", id, tcp, &room, &say, keepalive).await {
                Ok(what) => println!("chat_cluster: client {id} {what}"),
                Err(e) => println!("chat_cluster: client {id} failed: {e}"),
            }
        });
    }
}

/// A uniformly random `u64` from the OS: the backoff's jitter.
fn random_u64() -> u64 {
    random_seed().map_or(0, |s| {
        u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    })
}

/// Log why a Redis connection ended or failed, and wait the policy's delay.
async fn wait(backoff: &mut Backoff, role: &str, why: &io::Error, links: &watch::Sender<Links>) {
    let delay = backoff
        .next_delay(chat_room::now(), random_u64())
        .unwrap_or(backoff.config().max_delay); // `max_attempts: None`: always Some
    links.send_modify(|l| l.retries += 1);
    println!(
        "chat_cluster: Redis {role}: {why}; reconnecting in {:.2} s (attempt {})",
        delay.as_secs_f64(),
        backoff.attempts()
    );
    tokio::time::sleep(delay).await;
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// A new Redis connection that gave the `expected` answer to `command`: the backoff is told
/// it connected, and the log says `what` the channel and the address.
async fn link(
    redis: &RedisConfig,
    command: &[&[u8]],
    expected: impl Fn(&Value) -> bool,
    backoff: &mut Backoff,
    what: &str,
) -> io::Result<Conn> {
    let mut conn = Conn::connect(&redis.addr).await?;
    conn.send(command).await?;
    let answer = conn.read().await?;
    if !expected(&answer) {
        let name = String::from_utf8_lossy(command[0]);
        return Err(invalid(format!("{name} answered {answer:?}")));
    }
    backoff.connected(chat_room::now());
    println!("chat_cluster: {what} {} on {}", redis.channel, redis.addr);
    Ok(conn)
}

/// Keep one SUBSCRIBE connection, feeding the channel's messages into the room.
async fn subscriber(redis: RedisConfig, room: Room, links: Arc<watch::Sender<Links>>) {
    let mut backoff = Backoff::new(redis.policy);
    loop {
        let Err(why) = subscribed(&redis, &room, &links, &mut backoff).await;
        links.send_modify(|l| l.subscribed = false);
        wait(&mut backoff, "subscriber", &why, &links).await;
    }
}

/// One SUBSCRIBE connection, until it fails.
async fn subscribed(
    redis: &RedisConfig,
    room: &Room,
    links: &watch::Sender<Links>,
    backoff: &mut Backoff,
) -> io::Result<Infallible> {
    let subscribe: &[&[u8]] = &[b"SUBSCRIBE", redis.channel.as_bytes()];
    let confirmed = |v: &Value| matches!(v, Value::Array(Some(items)) if items.first() == Some(&Value::Bulk(Some(b"subscribe".to_vec()))));
    let mut conn = link(redis, subscribe, confirmed, backoff, "subscribed to").await?;
    links.send_modify(|l| {
        l.subscribed = true;
        l.subscriptions += 1;
    });
    loop {
        let Value::Array(Some(items)) = conn.read().await? else {
            return Err(invalid("a reply that is not a push".into()));
        };
        let mut items = items.into_iter();
        match (items.next(), items.next(), items.next(), items.next()) {
            (Some(Value::Bulk(Some(kind))), Some(_), Some(Value::Bulk(Some(payload))), None)
                if kind == b"message" =>
            {
                match String::from_utf8(payload) {
                    Ok(text) => room.send(text.into()),
                    Err(_) => println!("chat_cluster: a message that is not UTF-8, skipped"),
                }
            }
            other => return Err(invalid(format!("unexpected push {other:?}"))),
        }
    }
}

/// Keep one connection that PUBLISHes what the clients say; returns when no client can say
/// anything more.
async fn publisher(
    redis: RedisConfig,
    mut to_publish: mpsc::Receiver<Utf8Bytes>,
    links: Arc<watch::Sender<Links>>,
) {
    let mut backoff = Backoff::new(redis.policy);
    loop {
        let result = publishing(&redis, &mut to_publish, &links, &mut backoff).await;
        links.send_modify(|l| l.publishing = false);
        match result {
            Ok(()) => return,
            Err(why) => wait(&mut backoff, "publisher", &why, &links).await,
        }
    }
}

/// One PUBLISH connection, until it fails (`Err`) or the queue closes (`Ok`). While idle it
/// watches the connection too, so a Redis that went away is noticed before the next
/// message is written into a dead socket.
async fn publishing(
    redis: &RedisConfig,
    to_publish: &mut mpsc::Receiver<Utf8Bytes>,
    links: &watch::Sender<Links>,
    backoff: &mut Backoff,
) -> io::Result<()> {
    let pong = |v: &Value| matches!(v, Value::Simple(pong) if pong == b"PONG");
    let mut conn = link(redis, &[b"PING"], pong, backoff, "publishing to").await?;
    links.send_modify(|l| {
        l.publishing = true;
        l.publisher_connections += 1;
    });
    loop {
        let text = tokio::select! {
            text = to_publish.recv() => text,
            reply = conn.read() => return Err(match reply {
                Err(e) => e,
                Ok(v) => invalid(format!("an unasked reply {v:?}")),
            }),
        };
        let Some(text) = text else {
            return Ok(());
        };
        conn.send(&[b"PUBLISH", redis.channel.as_bytes(), text.as_bytes()])
            .await?;
        match conn.read().await? {
            Value::Integer(_) => {} // how many subscribers got it
            other => return Err(invalid(format!("PUBLISH answered {other:?}"))),
        }
    }
}
