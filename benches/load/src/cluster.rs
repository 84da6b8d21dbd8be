//! Workload 5: cross-server broadcast through Redis. Ours only: the repository's
//! `tokio_chat_cluster` example (built here with cargo), two processes sharing one room
//! through a `redis-server` started here; `scale.cluster_clients` generator clients on each,
//! and one more on server A that says one 1 KiB line a round. Every client on both servers
//! must get each line exactly once, unchanged. The latency is, for each client on either
//! server, when the line reached its socket (the kernel's arrival stamp, so not how long
//! the generator took to read 2,001 sockets) minus when the sender wrote it. Both servers
//! get every line from Redis (the sender's own server too: the example publishes instead
//! of broadcasting locally), so the clients of both are pooled: with both servers on one
//! core, which of them the scheduler runs first decides a split by server, not the code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use crate::generator::{self, Arrivals};
use crate::{Scale, wire};

/// The repository root (the load package is `benches/load` in it).
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Whether `redis-server` is on PATH. When it is not: `Ok(false)` (the workload is skipped,
/// said on stderr), or an error with `RFC6455_REQUIRE_REDIS=1`.
pub fn redis_available() -> Result<bool, String> {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("RFC6455_REQUIRE_REDIS").as_deref() == Ok("1") {
            return Err(
                "5: cluster broadcast: RFC6455_REQUIRE_REDIS=1 but redis-server is \
                        not installed"
                    .into(),
            );
        }
        eprintln!(
            "load: 5: cluster broadcast skipped: redis-server not installed \
             (set RFC6455_REQUIRE_REDIS=1 to fail instead)"
        );
    }
    Ok(found)
}

/// Build the example (`cargo build --release -p rfc6455-tokio --example
/// tokio_chat_cluster` in the repository root) and return its path.
pub fn build_example() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("load: building tokio_chat_cluster (workload 5)");
    let status = Command::new(cargo)
        .current_dir(ROOT)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "rfc6455-tokio",
            "--example",
            "tokio_chat_cluster",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("run cargo build for tokio_chat_cluster: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of tokio_chat_cluster: {status}"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(ROOT).join("target"), PathBuf::from);
    let exe = target.join("release/examples/tokio_chat_cluster");
    if !exe.is_file() {
        return Err(format!("{} not found after the build", exe.display()));
    }
    Ok(exe)
}

/// `program` pinned to CPU 0 (with `taskset`, when it exists; the generator is on CPU 1),
/// killed when this thread ends.
fn pinned(program: &Path) -> Command {
    let taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut command = if taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.stdin(Stdio::null());
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl,
    // which is async-signal-safe; the setting survives the exec (of taskset, then of the
    // program, neither set-user-ID).
    #[allow(unsafe_code)]
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            crate::sys::die_with_parent();
            Ok(())
        });
    }
    command
}

/// A free loopback port (bound and released: redis-server takes it a moment later).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("a free port: {e}"))
}

/// redis-server and the two chat servers, each killed by its handle when this is dropped
/// (also when starting one of them failed), and the temporary directory removed.
struct Cluster {
    children: Vec<(&'static str, Child)>,
    dir: PathBuf,
    redis_port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Cluster {
    fn new() -> Result<Cluster, String> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "rfc6455-load-cluster-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut cluster = Cluster {
            children: Vec::new(),
            dir,
            redis_port: port,
        };
        cluster.start_redis(port)?;
        Ok(cluster)
    }

    /// Whether child `i` has exited (then an error saying so, with its log).
    fn exited(&mut self, i: usize) -> Result<(), String> {
        let (name, child) = &mut self.children[i];
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                let log = std::fs::read_to_string(self.dir.join(format!("{name}.log")))
                    .unwrap_or_default();
                Err(format!("{name} exited ({status}):\n{log}"))
            }
            Err(e) => Err(format!("{name}: {e}")),
        }
    }

    fn log(&self, name: &str) -> Result<std::fs::File, String> {
        std::fs::File::create(self.dir.join(format!("{name}.log"))).map_err(|e| e.to_string())
    }

    /// redis-server on 127.0.0.1:`port`, no persistence, until it answers PING (10 s).
    fn start_redis(&mut self, port: u16) -> Result<(), String> {
        let child = pinned(Path::new("redis-server"))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&self.dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(self.log("redis-server")?)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("start redis-server: {e}"))?;
        self.children.push(("redis-server", child));
        let i = self.children.len() - 1;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.exited(i)?;
            if ping(port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("redis-server on port {port}: no PONG in 10 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One chat server on a port of its own choosing; returns its address once it says it
    /// is subscribed to the channel and publishing (20 s at most). Its stdout (a line per
    /// client) is read to the end by a thread of its own, so the pipe never fills.
    fn start_chat(
        &mut self,
        name: &'static str,
        exe: &Path,
        redis: &str,
        channel: &str,
    ) -> Result<SocketAddr, String> {
        let mut child = pinned(exe)
            .args(["127.0.0.1:0", redis, channel])
            .stdout(Stdio::piped())
            .stderr(self.log(name)?)
            .spawn()
            .map_err(|e| format!("start {name}: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        self.children.push((name, child));
        let i = self.children.len() - 1;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line); // nobody listens once the server is up: drained
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut addr, mut subscribed, mut publishing) = (None, false, false);
        while addr.is_none() || !subscribed || !publishing {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("chat_cluster: open http://") {
                        let a = rest.split('/').next().unwrap_or_default();
                        addr = Some(
                            a.parse::<SocketAddr>()
                                .map_err(|e| format!("{name}: address in {line:?}: {e}"))?,
                        );
                    }
                    subscribed |= line.starts_with("chat_cluster: subscribed to ");
                    publishing |= line.starts_with("chat_cluster: publishing to ");
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(100));
                    self.exited(i)?;
                    return Err(format!("{name} closed its stdout"));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "{name}: not listening, subscribed and publishing after 20 s \
                         (listening: {}, subscribed: {subscribed}, publishing: {publishing})",
                        addr.is_some()
                    ));
                }
            }
        }
        Ok(addr.expect("checked"))
    }
}

/// Whether a Redis server answers PING on 127.0.0.1:`port`.
fn ping(port: u16) -> bool {
    let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    tcp.write_all(b"PING\r\n").is_ok()
        && tcp.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// What one run measured: latencies in µs, the median round's time until all had it in ms.
pub struct Measured {
    pub p50: f64,
    pub p99: f64,
    pub all_in_ms: f64,
}

/// Round `round`'s line: 1 KiB of ASCII text with its number and a marker of its own.
fn line(round: usize, marker: u64) -> Vec<u8> {
    let marker = marker ^ (round as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut s = format!("round {round} marker {marker:016x}: ");
    while s.len() < 1024 {
        s.push_str("a chat line through Redis to both servers; ");
    }
    s.truncate(1024);
    s.into_bytes()
}

/// Workload 5, one run: a fresh Redis and two fresh servers.
pub fn run(exe: &Path, scale: Scale) -> Result<Measured, String> {
    let n = scale.cluster_clients;
    let rounds = scale.cluster_rounds;
    let mut cluster = Cluster::new()?;
    let redis = format!("127.0.0.1:{}", cluster.redis_port);
    let channel = format!("rfc6455-load-{}", std::process::id());
    let a = cluster.start_chat("chat-server-a", exe, &redis, &channel)?;
    let b = cluster.start_chat("chat-server-b", exe, &redis, &channel)?;
    let marker = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    // Round 0 is the warm-up: everyone must have it (every join done) before round 1.
    let expected: Rc<Vec<Vec<u8>>> = Rc::new((0..=rounds).map(|r| line(r, marker)).collect());
    let measured = crate::workloads::local(generate(a, b, n, expected));
    drop(cluster);
    measured
}

/// The generator's side: `n` clients on each server and the sender on A, the rounds.
async fn generate(
    a: SocketAddr,
    b: SocketAddr,
    n: usize,
    expected: Rc<Vec<Vec<u8>>>,
) -> Result<Measured, String> {
    // Subscribers 0..n are on A, n..2n on B, 2n is the sender (on A).
    let total = 2 * n + 1;
    let arrivals = Rc::new(Arrivals::new(expected.len(), total, Some(true), true));
    let connecting = std::sync::Arc::new(Semaphore::new(256));
    let mut opened = Vec::with_capacity(total);
    for id in 0..total {
        let addr = if id < n || id == 2 * n { a } else { b };
        let permit = connecting.clone().acquire_owned().await.unwrap();
        opened.push(tokio::task::spawn_local(async move {
            let open = generator::connect(addr, "/ws", false).await;
            drop(permit);
            open
        }));
    }
    let mut clients = Vec::with_capacity(total);
    let mut tasks = Vec::with_capacity(total);
    for (id, open) in opened.into_iter().enumerate() {
        let (tcp, leftover) = open
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("client {id}: {e}"))?;
        // Arrival times are the kernel's stamps (see `generator::subscriber`).
        crate::sys::stamp_arrivals(std::os::fd::AsRawFd::as_raw_fd(&tcp))
            .map_err(|e| format!("client {id}: SO_TIMESTAMPNS: {e}"))?;
        let tcp = Rc::new(tcp);
        clients.push(tcp.clone());
        tasks.push(tokio::task::spawn_local(generator::subscriber(
            id,
            tcp,
            leftover,
            expected.clone(),
            arrivals.clone(),
        )));
    }
    let sender = clients[2 * n].clone();
    let new_histogram = || Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let mut latency = new_histogram();
    let mut all_in = Vec::with_capacity(expected.len());
    for (r, payload) in expected.iter().enumerate() {
        let mask = (0x5bd1_e995u32 ^ r as u32).to_le_bytes();
        let frame = wire::outgoing(payload.clone(), true, false, mask).frame;
        let t0 = Instant::now();
        generator::write_shared(&sender, &frame)
            .await
            .map_err(|e| format!("round {r}: send: {e}"))?;
        // 10 s for everyone to have it; a subscriber that failed ends the wait with its error.
        let deadline = t0 + Duration::from_secs(10);
        loop {
            let tick = tokio::time::timeout(Duration::from_millis(50), arrivals.all_in.notified());
            if tick.await.is_ok() {
                break;
            }
            if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
                let task = tasks.swap_remove(i);
                task.await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("round {r}: {e}"))?;
                return Err(format!("round {r}: a subscriber ended early"));
            }
            if Instant::now() > deadline {
                let (have, what) = (
                    arrivals.counts[r].get(),
                    if r == 0 { " (warm-up)" } else { "" },
                );
                return Err(format!(
                    "round {r}{what}: {have} of {total} clients had the message after 10 s"
                ));
            }
        }
        // All in: no subscriber adds to this round any more.
        let at = arrivals.at.as_ref().expect("timed")[r].take();
        let last = at.iter().map(|&(_, t)| t).max().expect("all in");
        if r > 0 {
            all_in.push((last - t0).as_secs_f64() * 1e3);
            for &(id, t) in at.iter() {
                let micros = (t - t0).as_micros().max(1) as u64;
                if id < 2 * n {
                    let _ = latency.record(micros);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every subscriber had every round once; nothing may follow (a duplicate of the last).
    let mut readers = Vec::with_capacity(total);
    for task in tasks {
        readers.push(
            task.await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for (id, (tcp, reader)) in clients.iter().zip(&mut readers).enumerate() {
        match reader.try_read(tcp) {
            Ok(0) => {
                return Err(format!(
                    "client {id}: the server closed after the last round"
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("client {id}: {e}")),
        }
        if reader.next_message().map_err(|e| e.to_string())?.is_some() {
            return Err(format!(
                "client {id}: a message after the last round (a duplicate?)"
            ));
        }
        let _ = generator::write_shared(tcp, &wire::CLOSE).await;
    }
    all_in.sort_by(f64::total_cmp);
    Ok(Measured {
        p50: latency.value_at_quantile(0.5) as f64,
        p99: latency.value_at_quantile(0.99) as f64,
        all_in_ms: all_in[all_in.len() / 2],
    })
}
