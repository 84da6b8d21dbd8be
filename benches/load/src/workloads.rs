//! The workloads, each against a fresh server process per stack (workload 5, ours only, is
//! in `cluster.rs`).

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};

use crate::generator::{self, Payload, Pool, Window};
use crate::{Scale, Stack, cluster, sys, wire};

/// Whether a bigger number is better in a row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Not a measure of the stacks (the generator's own load, shown so that a reader sees
    /// when the generator was the limit): no ratio.
    Neither,
}

/// One row of the table: a measure per stack, one value per run.
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub better: Better,
    pub cells: Vec<(Stack, Vec<f64>)>,
}

impl Row {
    fn put(&mut self, stack: Stack, value: f64) {
        match self.cells.iter_mut().find(|(s, _)| *s == stack) {
            Some((_, values)) => values.push(value),
            None => self.cells.push((stack, vec![value])),
        }
    }
}

pub type Table = Vec<Row>;

fn row<'a>(table: &'a mut Table, name: &str, unit: &'static str, better: Better) -> &'a mut Row {
    if let Some(i) = table.iter().position(|r| r.name == name) {
        return &mut table[i];
    }
    table.push(Row {
        name: name.to_owned(),
        unit,
        better,
        cells: Vec::new(),
    });
    table.last_mut().unwrap()
}

/// A server child process, killed (by its PID, which we started) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(stack: Stack, deflate: bool) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        command.args(["server", stack.name()]);
        if deflate {
            command.arg("--deflate");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", stack.name()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let port: u16 = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("{} did not start: {line:?}", stack.name()))?;
        Ok(Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn cpu(&self) -> Duration {
        sys::cpu_time(self.pid())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `future` on a fresh single-threaded runtime (this thread is pinned to CPU 1).
pub fn local<T>(future: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// Every workload for every stack, `runs` times over.
pub fn run_all(stacks: &[Stack], scale: Scale, runs: usize, filter: &str) -> Result<Table, String> {
    let mut table = Table::new();
    // `A|B`: the workloads whose name contains A or B (no name has a `|`: it is a table).
    let wanted = |workload: &str| filter.split('|').any(|f| workload.contains(f));
    let echo_rows = [
        ("binary 16 B", Payload::Binary, 16, scale.in_flight),
        ("binary 1 KiB", Payload::Binary, 1024, scale.in_flight),
        ("binary 64 KiB", Payload::Binary, 64 << 10, scale.in_flight),
        ("text 1 KiB", Payload::Text, 1024, scale.in_flight),
        ("binary 16 B, 1 in flight", Payload::Binary, 16, 1),
    ];
    // Workload 5 needs redis-server (else skipped, or failed with RFC6455_REQUIRE_REDIS=1)
    // and the chat cluster example, built once for all runs.
    let chat_cluster = if wanted("5: cluster broadcast") && cluster::redis_available()? {
        Some(cluster::build_example()?)
    } else {
        None
    };
    for run in 0..runs {
        for &stack in stacks.iter().filter(|s| s.plain()) {
            eprintln!("run {}: {} echo", run + 1, stack.name());
            let server = Server::start(stack, false)?;
            for (name, kind, size, in_flight) in echo_rows {
                if !wanted(&format!("1: {name}")) {
                    continue;
                }
                let pool = Pool::new(kind, size, false);
                let r = echo(&server, pool, scale, in_flight, !stack.websocket())
                    .map_err(|e| format!("{} {name}: {e}", stack.name()))?;
                record_echo(&mut table, name, stack, &r);
            }
            drop(server);
            if !stack.websocket() {
                continue; // the echo's reference only
            }
            if wanted("2: idle memory") {
                eprintln!("run {}: {} idle memory", run + 1, stack.name());
                let per = idle_memory(
                    stack,
                    false,
                    Pool::new(Payload::Binary, 8 << 10, false),
                    scale,
                )?;
                let name = format!(
                    "2: RSS per idle connection, {} connections",
                    scale.idle_connections
                );
                row(&mut table, &name, "KiB", Better::Lower).put(stack, per);
            }
            if !wanted("3: broadcast") {
                continue;
            }
            eprintln!("run {}: {} broadcast", run + 1, stack.name());
            let (time, cpu) = broadcast(stack, scale)?;
            let name = format!(
                "3: broadcast 1 KiB to {} clients, time",
                scale.broadcast_clients
            );
            row(&mut table, &name, "ms", Better::Lower).put(stack, time);
            let name = format!(
                "3: broadcast 1 KiB to {} clients, server CPU",
                scale.broadcast_clients
            );
            row(&mut table, &name, "ms", Better::Lower).put(stack, cpu);
        }
        for &stack in stacks
            .iter()
            .filter(|s| s.deflates() && wanted("4: deflate"))
        {
            eprintln!("run {}: {} deflate", run + 1, stack.name());
            let server = Server::start(stack, true)?;
            let pool = Pool::new(Payload::Json, 1024, true);
            let r = echo(&server, pool, scale, scale.in_flight, false)
                .map_err(|e| format!("{} deflate: {e}", stack.name()))?;
            drop(server);
            record_echo(&mut table, "4: deflate, JSON 1 KiB", stack, &r);
            let pool = Pool::new(Payload::Json, 8 << 10, true);
            let per = idle_memory(stack, true, pool, scale)?;
            let name = format!(
                "4: deflate, RSS per idle connection, {} connections",
                scale.idle_connections
            );
            row(&mut table, &name, "KiB", Better::Lower).put(stack, per);
        }
        if let Some(exe) = &chat_cluster {
            eprintln!("run {}: {} cluster broadcast", run + 1, Stack::Ours.name());
            let m = cluster::run(exe, scale).map_err(|e| format!("5: cluster broadcast: {e}"))?;
            let name = format!(
                "5: cluster broadcast 1 KiB, 2 servers x {} clients via Redis",
                scale.cluster_clients
            );
            for (what, unit, value) in [
                ("p50 latency", "µs", m.p50),
                ("p99 latency", "µs", m.p99),
                ("time until all clients have it", "ms", m.all_in_ms),
            ] {
                row(&mut table, &format!("{name}: {what}"), unit, Better::Lower)
                    .put(Stack::Ours, value);
            }
        }
    }
    Ok(table)
}

/// What an echo run measured.
struct Echoed {
    per_second: f64,
    per_server_cpu_second: f64,
    p50_us: f64,
    p99_us: f64,
    generator_busy: f64,
}

fn record_echo(table: &mut Table, name: &str, stack: Stack, r: &Echoed) {
    let w = if name.starts_with('4') { "" } else { "1: " };
    row(table, &format!("{w}{name}: msg/s"), "k/s", Better::Higher).put(stack, r.per_second / 1e3);
    row(
        table,
        &format!("{w}{name}: echoes per server CPU-second"),
        "k",
        Better::Higher,
    )
    .put(stack, r.per_server_cpu_second / 1e3);
    row(
        table,
        &format!("{w}{name}: p50 latency"),
        "µs",
        Better::Lower,
    )
    .put(stack, r.p50_us);
    row(
        table,
        &format!("{w}{name}: p99 latency"),
        "µs",
        Better::Lower,
    )
    .put(stack, r.p99_us);
    row(
        table,
        &format!("{w}{name}: generator CPU busy"),
        "%",
        Better::Neither,
    )
    .put(stack, r.generator_busy * 100.0);
}

/// Workload 1 (and 4): `scale.echo_connections` connections, `in_flight` messages each
/// outstanding, for the measuring window after a warm-up.
fn echo(
    server: &Server,
    pool: Pool,
    scale: Scale,
    in_flight: usize,
    raw: bool,
) -> Result<Echoed, String> {
    let pool = std::sync::Arc::new(pool);
    local(async {
        let start = Instant::now() + Duration::from_millis(scale.warmup_ms);
        let window = Window {
            start,
            end: start + Duration::from_millis(scale.measure_ms),
        };
        let drain = window.end + Duration::from_secs(10);
        let tasks: Vec<_> = (0..scale.echo_connections)
            .map(|id| {
                let pool = pool.clone();
                tokio::task::spawn_local(generator::echo_connection(
                    id,
                    server.addr,
                    pool,
                    in_flight,
                    window,
                    drain,
                    raw,
                ))
            })
            .collect();
        // Sampled on a thread of its own: the generator's runtime is busy at the instants.
        let pid = server.pid();
        let sampler = std::thread::spawn(move || {
            let sample = |at: Instant| {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                (sys::cpu_time(pid), sys::own_cpu_time())
            };
            (sample(window.start), sample(window.end))
        });
        let mut echoes = 0;
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for task in tasks {
            let counted = task
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            echoes += counted.echoes;
            latency.add(&counted.latency).map_err(|e| e.to_string())?;
        }
        let ((cpu0, own0), (cpu1, own1)) = sampler.join().expect("sampler");
        if echoes == 0 {
            return Err("no echo inside the window".into());
        }
        let seconds = (window.end - window.start).as_secs_f64();
        let server_cpu = (cpu1 - cpu0).as_secs_f64().max(0.01);
        Ok(Echoed {
            per_second: echoes as f64 / seconds,
            per_server_cpu_second: echoes as f64 / server_cpu,
            p50_us: latency.value_at_quantile(0.5) as f64,
            p99_us: latency.value_at_quantile(0.99) as f64,
            generator_busy: (own1 - own0).as_secs_f64() / seconds,
        })
    })
}

/// Workload 2 (and 4): open `scale.idle_connections`, each sends one message and takes its
/// echo, then all stay idle; the server's RSS growth per connection, in KiB.
fn idle_memory(stack: Stack, deflate: bool, pool: Pool, scale: Scale) -> Result<f64, String> {
    let server = Server::start(stack, deflate)?;
    std::thread::sleep(Duration::from_millis(200));
    let before = sys::rss(server.pid());
    let pool = Rc::new(pool);
    let n = scale.idle_connections;
    let after = local(async {
        let release = Rc::new(Notify::new());
        let done = Rc::new(Cell::new(0));
        let connecting = std::sync::Arc::new(Semaphore::new(256));
        let mut tasks = Vec::with_capacity(n);
        for id in 0..n {
            let (pool, release, done) = (pool.clone(), release.clone(), done.clone());
            let permit = connecting.clone().acquire_owned().await.unwrap();
            tasks.push(tokio::task::spawn_local(generator::one_message_then_idle(
                server.addr,
                pool,
                id,
                release,
                done,
                permit,
            )));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while done.get() < n {
            if Instant::now() > deadline || tasks.iter().any(|t| t.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if done.get() < n {
            for task in tasks.into_iter().filter(|t| t.is_finished()) {
                task.await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
            }
            return Err(format!("{} of {n} connections had their echo", done.get()));
        }
        // Idle: let the server give back what the message's burst took.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let after = sys::rss(server.pid());
        release.notify_waiters();
        Ok(after)
    })
    .map_err(|e| format!("{}: idle memory: {e}", stack.name()))?;
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

/// Workload 3: `scale.broadcast_clients` `/sub` connections and one `/control`; each round
/// sends one 1 KiB message to `/control` and waits until every subscriber has it. Returns the
/// median round's time and the server's CPU per round, in ms.
fn broadcast(stack: Stack, scale: Scale) -> Result<(f64, f64), String> {
    let server = Server::start(stack, false)?;
    let n = scale.broadcast_clients;
    let rounds = scale.broadcast_rounds;
    let expected: Rc<Vec<Vec<u8>>> = Rc::new(
        (0..rounds)
            .map(|r| (0..1024).map(|i| (i * 7 + r * 13) as u8).collect())
            .collect(),
    );
    local(async {
        let arrivals = Rc::new(generator::Arrivals::new(rounds, n, None, true));
        let mut subscribers = Vec::with_capacity(n);
        let connecting = std::sync::Arc::new(Semaphore::new(256));
        let mut opened = Vec::with_capacity(n);
        for _ in 0..n {
            let permit = connecting.clone().acquire_owned().await.unwrap();
            opened.push(tokio::task::spawn_local(async move {
                let open = generator::connect(server.addr, "/sub", false).await;
                drop(permit);
                open
            }));
        }
        for (id, open) in opened.into_iter().enumerate() {
            let (tcp, leftover) = open
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            // Arrival times are the kernel's stamps (see `generator::subscriber`).
            sys::stamp_arrivals(std::os::fd::AsRawFd::as_raw_fd(&tcp))
                .map_err(|e| format!("subscriber {id}: SO_TIMESTAMPNS: {e}"))?;
            subscribers.push(tokio::task::spawn_local(generator::subscriber(
                id,
                Rc::new(tcp),
                leftover,
                expected.clone(),
                arrivals.clone(),
            )));
        }
        let (mut control, _) = generator::connect(server.addr, "/control", false)
            .await
            .map_err(|e| e.to_string())?;
        // The server subscribes each connection after its 101: give the last ones time.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut times = Vec::with_capacity(rounds);
        let cpu0 = server.cpu();
        for (r, payload) in expected.iter().enumerate() {
            let frame = wire::outgoing(payload.clone(), false, false, [1, 2, 3, 4]).frame;
            let t0 = Instant::now();
            control.write_all(&frame).await.map_err(|e| e.to_string())?;
            if tokio::time::timeout(Duration::from_secs(30), arrivals.all_in.notified())
                .await
                .is_err()
            {
                return Err(format!(
                    "round {r}: {} of {n} had the message after 30 s",
                    arrivals.counts[r].get()
                ));
            }
            // Until the last subscriber's socket had it, however long the generator then
            // took to read all of them (which is the same for every stack).
            let at = arrivals.at.as_ref().expect("timed")[r].take();
            let last = at.iter().map(|&(_, t)| t).max().expect("all in");
            times.push(last.saturating_duration_since(t0).as_secs_f64() * 1e3);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = (server.cpu() - cpu0).as_secs_f64() * 1e3 / rounds as f64;
        for s in subscribers {
            s.await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        }
        times.sort_by(f64::total_cmp);
        Ok((times[times.len() / 2], cpu))
    })
    .map_err(|e| format!("{}: broadcast: {e}", stack.name()))
}
