//! The tokio_chat_cluster example against a real `redis-server`, started here on a free
//! loopback port: two servers (in this process, each with its own listener and Redis
//! connections) share one room; every client on both gets every message exactly once, a
//! server restart and a Redis restart are survived with the codec's backoff, and a client
//! that stops reading is closed with 1013 while the others get everything.
//!
//! Skipped with a line saying so when `redis-server` is not installed, unless
//! `RFC6455_REQUIRE_REDIS=1` (CI), which makes that a failure.

#[allow(dead_code)]
#[path = "../examples/chat_cluster.rs"]
mod chat_cluster;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chat_cluster::resp::{Conn, Value};
use chat_cluster::{Links, RedisConfig};
use rfc6455_tokio::rfc6455::backoff::{Backoff, BackoffConfig, Jitter, Reconnect};
use rfc6455_tokio::rfc6455::connection::Config;
use rfc6455_tokio::rfc6455::keepalive::KeepAliveConfig;
use rfc6455_tokio::{
    CloseCode, CloseFrame, Message, Options, WebSocketStream, WebSocketWriter, connect_with,
};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::{sleep, timeout};

/// Clients on each server, and numbered messages each sends per round.
const CLIENTS_PER_SERVER: usize = 3;
const PER_CLIENT: usize = 20;
/// The slow-client check: as tests/chat_server.rs, 300 messages of 60 KiB.
const BIG_MESSAGES: usize = 300;

/// The servers' and the clients' reconnection policy: quick, for a test.
const POLICY: BackoffConfig = BackoffConfig {
    base: Duration::from_millis(100),
    factor: 2.0,
    max_delay: Duration::from_secs(1),
    max_attempts: Some(40),
    reset_after: Duration::from_secs(1),
    jitter: Jitter::Full,
    retry_other_codes: true,
};

fn random_u64() -> u64 {
    let s = rfc6455_tokio::rfc6455::keygen::random_seed().expect("OS randomness");
    u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
}

fn now() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Everything the test started, ended when it is dropped (also on a failed assert).
struct Guard {
    redis: Option<Child>,
    servers: Vec<AbortHandle>,
    dir: PathBuf,
    port: u16,
}

impl Guard {
    fn start_redis(&mut self) {
        assert!(self.redis.is_none(), "one redis-server at a time");
        let log = std::fs::File::create(self.dir.join("redis.log")).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
            ])
            .arg(&self.dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.redis = Some(child);
    }

    /// Until redis-server answers PING (10 s at most).
    async fn wait_for_redis(&mut self) {
        let addr = format!("127.0.0.1:{}", self.port);
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.redis.as_mut().unwrap().try_wait() {
                let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
                panic!("redis-server exited ({status}):\n{log}");
            }
            if let Ok(mut conn) = Conn::connect(&addr).await {
                if conn.send(&[b"PING"]).await.is_ok()
                    && conn.read().await.ok() == Some(Value::Simple(b"PONG".to_vec()))
                {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not answer"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill_redis(&mut self) {
        if let Some(mut child) = self.redis.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
        self.kill_redis();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One chat server: its address, its Redis links as it reports them, its task.
struct Node {
    addr: SocketAddr,
    links: watch::Receiver<Links>,
    task: JoinHandle<()>,
}

impl Node {
    async fn start(guard: &mut Guard, addr: SocketAddr, redis: &RedisConfig) -> Node {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (links, rx) = watch::channel(Links::default());
        let keepalive = KeepAliveConfig {
            interval: Duration::from_secs(60), // no pings during the test
            timeout: Duration::from_secs(10),
            max_missed: 1,
        };
        let task = tokio::spawn(chat_cluster::serve(
            listener,
            redis.clone(),
            keepalive,
            links,
        ));
        guard.servers.push(task.abort_handle());
        Node {
            addr,
            links: rx,
            task,
        }
    }

    /// Stop it: its tasks, listener, client connections and Redis connections are dropped.
    async fn stop(self) {
        self.task.abort();
        assert!(self.task.await.unwrap_err().is_cancelled());
    }

    /// Until its links satisfy `ready` (20 s at most); then what they are.
    async fn wait(&mut self, what: &str, ready: impl Fn(&Links) -> bool) -> Links {
        let links = timeout(Duration::from_secs(20), self.links.wait_for(|l| ready(l)))
            .await
            .map(|r| r.map(|l| *l));
        match links {
            Ok(Ok(links)) => links,
            _ => panic!(
                "server {}: not {what}: {:?}",
                self.addr,
                *self.links.borrow()
            ),
        }
    }
}

/// What a client's reader task saw.
#[derive(Debug)]
enum Got {
    Text(String),
    Closed(Option<CloseFrame>),
    Failed(String),
}

/// A client: its writer here, its reader in a task that reports to `inbox` and closes it
/// when the connection ends.
struct Client {
    writer: WebSocketWriter<TcpStream>,
    inbox: mpsc::UnboundedReceiver<Got>,
}

fn options() -> Options {
    // No permessage-deflate: the slow client's repeated text would shrink to nothing.
    Options::new().config(Config::new())
}

async fn open(addr: SocketAddr) -> Result<WebSocketStream<TcpStream>, rfc6455_tokio::Error> {
    let tcp = TcpStream::connect(addr).await?;
    let (ws, _) = connect_with(tcp, &format!("ws://{addr}/ws"), options()).await?;
    Ok(ws)
}

impl Client {
    fn new(ws: WebSocketStream<TcpStream>) -> Client {
        let (writer, mut reader) = ws.split();
        let (tx, inbox) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = reader.next().await {
                let got = match message {
                    Ok(Message::Text(text)) => Got::Text(text.to_string()),
                    Ok(Message::Close(frame)) => Got::Closed(frame),
                    Ok(_) => continue,
                    Err(e) => Got::Failed(e.to_string()),
                };
                if tx.send(got).is_err() {
                    return;
                }
            }
        });
        Client { writer, inbox }
    }

    /// Connect with the backoff policy, after the connection ended as `code`; returns the
    /// client and the attempts that failed.
    async fn reconnect(addr: SocketAddr, code: CloseCode) -> (Client, u32) {
        let mut backoff = Backoff::new(POLICY);
        let mut delay = match backoff.after_close(code, now(), random_u64()) {
            Reconnect::After(delay) => delay,
            other => panic!("the policy does not reconnect after {code}: {other:?}"),
        };
        let mut failed = 0;
        loop {
            sleep(delay).await;
            match open(addr).await {
                Ok(ws) => {
                    backoff.connected(now());
                    return (Client::new(ws), failed);
                }
                Err(_) => failed += 1,
            }
            delay = backoff
                .next_delay(now(), random_u64())
                .unwrap_or_else(|| panic!("gave up on {addr} after {failed} attempts"));
        }
    }
}

/// Every client sends `PER_CLIENT` numbered messages, then an end mark; every client must
/// receive each of them exactly once, and nothing more.
async fn round(clients: &mut [Client], tag: &str) {
    let n = clients.len();
    for i in 0..PER_CLIENT {
        for (c, client) in clients.iter_mut().enumerate() {
            let text = format!("{tag} {c} {i}");
            client.writer.send(Message::text(text)).await.unwrap();
        }
    }
    for (c, client) in clients.iter_mut().enumerate() {
        let text = format!("{tag} {c} end");
        client.writer.send(Message::text(text)).await.unwrap();
    }
    // One sender's messages arrive in order (one publisher connection per server, one
    // subscriber): once every end mark is in, everything before them is.
    for (c, client) in clients.iter_mut().enumerate() {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut ends = 0;
        while ends < n {
            match timeout(Duration::from_secs(20), client.inbox.recv()).await {
                Ok(Some(Got::Text(text))) => {
                    ends += usize::from(text.ends_with(" end"));
                    *counts.entry(text).or_default() += 1;
                }
                other => panic!(
                    "round {tag}, client {c}: {other:?} after {} messages",
                    counts.values().sum::<usize>()
                ),
            }
        }
        for s in 0..n {
            for i in (0..PER_CLIENT).map(|i| i.to_string()).chain(["end".into()]) {
                let text = format!("{tag} {s} {i}");
                assert_eq!(
                    counts.remove(&text),
                    Some(1),
                    "round {tag}: client {c} got \"{text}\" not exactly once"
                );
            }
        }
        assert!(
            counts.is_empty(),
            "round {tag}, client {c}: also got {counts:?}"
        );
    }
    // Nothing late (a second copy from a second subscription would come after the marks).
    sleep(Duration::from_millis(300)).await;
    for (c, client) in clients.iter_mut().enumerate() {
        if let Ok(extra) = client.inbox.try_recv() {
            panic!("round {tag}, client {c}: after the end marks, {extra:?}");
        }
    }
}

fn redis_installed() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("RFC6455_REQUIRE_REDIS").as_deref() != Ok("1"),
            "RFC6455_REQUIRE_REDIS=1 but redis-server is not installed"
        );
        println!(
            "skipped: redis-server not installed (set RFC6455_REQUIRE_REDIS=1 to fail instead)"
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_room_through_redis_and_survive_restarts() {
    if !redis_installed() {
        return;
    }
    let started = Instant::now();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!(
        "rfc6455-chat-cluster-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut guard = Guard {
        redis: None,
        servers: Vec::new(),
        dir,
        port,
    };
    timeout(Duration::from_secs(90), async {
        guard.start_redis();
        guard.wait_for_redis().await;
        let redis = RedisConfig {
            addr: format!("127.0.0.1:{port}"),
            channel: "rfc6455-test-chat".into(),
            policy: POLICY,
        };
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut a = Node::start(&mut guard, any, &redis).await;
        let mut b = Node::start(&mut guard, any, &redis).await;
        let up = |l: &Links| l.subscribed && l.publishing;
        a.wait("linked to Redis", up).await;
        b.wait("linked to Redis", up).await;

        // a) Clients 0..3 on server a, 3..6 on b.
        let mut clients = Vec::new();
        for node in [&a, &b] {
            for _ in 0..CLIENTS_PER_SERVER {
                clients.push(Client::new(open(node.addr).await.unwrap()));
            }
        }
        round(&mut clients, "a").await;
        println!("a) {} clients on 2 servers: every message once ({:?})", clients.len(), started.elapsed());

        // b) Server a stops; its clients see the end and reconnect with the backoff
        // policy while it is down; it starts again on the same address.
        let a_addr = a.addr;
        a.stop().await;
        let mut reconnects = Vec::new();
        for (c, client) in clients.iter_mut().take(CLIENTS_PER_SERVER).enumerate() {
            let ended = timeout(Duration::from_secs(10), async {
                while let Some(got) = client.inbox.recv().await {
                    match got {
                        Got::Text(text) => panic!("client {c}: text after the stop: {text:?}"),
                        Got::Closed(frame) => println!("b) client {c}: closed ({frame:?})"),
                        Got::Failed(e) => println!("b) client {c}: {e}"),
                    }
                }
            })
            .await;
            assert!(ended.is_ok(), "client {c}: the connection did not end with its server");
            reconnects.push(tokio::spawn(Client::reconnect(a_addr, CloseCode::ABNORMAL)));
        }
        sleep(Duration::from_millis(500)).await; // attempts fail meanwhile
        let mut a = Node::start(&mut guard, a_addr, &redis).await;
        a.wait("linked to Redis after its restart", up).await;
        for (c, reconnect) in reconnects.into_iter().enumerate() {
            let (client, failed) = reconnect.await.unwrap();
            assert!(failed >= 1, "client {c} reconnected without a failed attempt: server a was not down?");
            println!("b) client {c} reconnected after {failed} failed attempts");
            clients[c] = client;
        }
        round(&mut clients, "b").await;
        println!("b) after server a's restart: every message once ({:?})", started.elapsed());

        // c) Redis is killed and started again on the same port.
        let before = [*a.links.borrow(), *b.links.borrow()];
        guard.kill_redis();
        let down = |l: &Links| !l.subscribed && !l.publishing;
        a.wait("aware that Redis is down", down).await;
        b.wait("aware that Redis is down", down).await;
        sleep(Duration::from_millis(300)).await; // reconnection attempts fail meanwhile
        guard.start_redis();
        guard.wait_for_redis().await;
        for (node, before) in [&mut a, &mut b].into_iter().zip(before) {
            let after = node
                .wait("linked to the restarted Redis", |l| {
                    up(l) && l.subscriptions > before.subscriptions
                        && l.publisher_connections > before.publisher_connections
                })
                .await;
            // Each link was lost once and failed at least once while Redis was down.
            assert!(after.retries >= before.retries + 4, "{before:?} -> {after:?}");
            println!("c) server {}: {before:?} -> {after:?}", node.addr);
        }
        round(&mut clients, "c").await;
        println!("c) after the Redis restart: every message once ({:?})", started.elapsed());

        // d) A client on server b with a small receive buffer that reads nothing while
        // client 0 (on a) sends 300 messages of 60 KiB, each after its own came back.
        let slow_tcp = TcpSocket::new_v4().unwrap();
        slow_tcp.set_recv_buffer_size(4096).unwrap();
        let slow_tcp = slow_tcp.connect(b.addr).await.unwrap();
        let (mut slow, _) = connect_with(slow_tcp, &format!("ws://{}/ws", b.addr), options())
            .await
            .unwrap();
        let flood = Instant::now();
        let line = "x".repeat(60 << 10);
        for i in 0..BIG_MESSAGES {
            let text = format!("d {i} {line}");
            clients[0].writer.send(Message::text(text.clone())).await.unwrap();
            match timeout(Duration::from_secs(10), clients[0].inbox.recv()).await {
                Ok(Some(Got::Text(echo))) => assert!(echo == text, "message {i} came back changed"),
                other => panic!("message {i}: expected it back, got {other:?}"),
            }
        }
        for (c, client) in clients.iter_mut().enumerate().skip(1) {
            for i in 0..BIG_MESSAGES {
                match timeout(Duration::from_secs(10), client.inbox.recv()).await {
                    Ok(Some(Got::Text(text))) => assert!(
                        text.starts_with(&format!("d {i} ")) && text.len() == line.len() + format!("d {i} ").len(),
                        "client {c}: message {i} out of order or changed"
                    ),
                    other => panic!("client {c}: message {i}: {other:?}"),
                }
            }
        }
        let flood = flood.elapsed();
        // The slow client reads at last: what reached it, in order, then the 1013.
        let mut got = 0;
        let close = loop {
            match timeout(Duration::from_secs(10), slow.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    assert!(text.as_str().starts_with(&format!("d {got} ")), "in order");
                    got += 1;
                }
                Ok(Some(Ok(Message::Close(frame)))) => break frame.expect("a close code"),
                other => panic!("slow client, after {got} messages: {other:?}"),
            }
        };
        assert_eq!(close.code, CloseCode::TRY_AGAIN_LATER, "{close:?}");
        assert_eq!(close.reason, "too slow");
        assert!(got < BIG_MESSAGES - chat_cluster::QUEUE, "the slow client got {got} of {BIG_MESSAGES}");
        assert!(slow.next().await.is_none(), "the stream ends after the close");
        assert_eq!(chat_cluster::TOO_SLOW.load(Ordering::Relaxed), 1, "only the slow client");
        assert_eq!(chat_cluster::NOT_PUBLISHED.load(Ordering::Relaxed), 0, "no message dropped");
        println!(
            "d) {BIG_MESSAGES} x 60 KiB to {} clients in {flood:?}; the slow one got {got}, then 1013 ({:?})",
            clients.len(),
            started.elapsed()
        );
        // And the others are still in the room.
        round(&mut clients, "e").await;
    })
    .await
    .expect("the test took over 90 s");
    drop(guard);
    println!("all checks in {:?}", started.elapsed());
}
