//! End-to-end load over loopback: rfc6455-tokio against tokio-tungstenite, fastwebsockets
//! (through hyper), tokio-websockets and, for permessage-deflate, yawc.
//!
//! `cargo run --release --manifest-path benches/load/Cargo.toml -- [--smoke | --quick]
//! [--runs N] [--only STACK,...] [--filter TEXT] [--measure-ms N]` prints one table
//! (`--filter`: only the workloads whose name contains TEXT, e.g. `1: binary 64`, `2:`,
//! `3:`, `4:`, `5:`; `4:|5:` for either; `--measure-ms`: workload 1's window, 3000 by
//! default).
//!
//! The workloads: 1, echo (throughput and latency, several payloads); 2, server memory per
//! idle connection; 3, broadcast from one `/control` connection to many `/sub` ones; 4,
//! permessage-deflate echo and idle memory (ours and yawc); 5, cluster broadcast (ours
//! only, the other columns are "–"): the `tokio_chat_cluster` example, built at run time
//! with cargo, as two processes sharing a room through a `redis-server` started here, a
//! 1 KiB line from one client to every client on both, its latency to the clients of both
//! (when it reached their sockets: the kernel's arrival stamps). Without `redis-server` on
//! PATH workload 5 is skipped (said on stderr), unless `RFC6455_REQUIRE_REDIS=1`, which
//! makes that a failure.
//!
//! Each server runs as a child process (`load server STACK [--deflate]`; for workload 5,
//! redis-server and the two chat servers) pinned to CPU 0, the stacks' on a single-threaded
//! tokio runtime; the generator runs here, pinned to CPU 1, and checks every echo. Every
//! phase is bounded in time; a server that breaks a rule, loses or changes a message fails
//! the run.
//!
//! The `raw-tcp` column is no WebSocket at all: a server that writes back the bytes it reads,
//! on the same runtime, checked by the same generator (each echo must be the frame sent). It
//! runs workload 1 only and is not in the ratio. Where every server reads a burst at once and
//! answers it with one write (16 B, 1 KiB, 1 in flight) it is the ceiling: what the kernel and
//! the runtime leave for any stack's server on this host at that moment. At 64 KiB, where a
//! burst spans several reads, it is a reference, not a bound: ours' driver gathers a burst
//! from up to 16 reads into one write and has come out above it.
//!
//! `agree FIRST SECOND [--within PERCENT]` compares two saved tables cell by cell (the
//! back-to-back check: every cell of the second within 10% of the first; see `agree.rs`).
//!
//! `--smoke` runs each workload small and short (CI: every server echoes, broadcasts and,
//! where it can, deflates correctly) and prints the same table.

mod agree;
mod cluster;
mod generator;
mod report;
mod servers;
mod sys;
mod wire;
mod workloads;

use std::process::ExitCode;

/// A stack under test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stack {
    Ours,
    Tungstenite,
    Fastwebsockets,
    TokioWebsockets,
    Yawc,
    /// No WebSocket: a server that writes back the bytes it reads (the client's frames as
    /// they are), on the same runtime and socket setup. Workload 1 only, outside the ratio:
    /// the kernel's and tokio's share of an echo, the most any stack's server could reach
    /// where each burst is one read and one write (see the module's documentation).
    Raw,
}

impl Stack {
    pub const ALL: [Stack; 6] = [
        Stack::Ours,
        Stack::Tungstenite,
        Stack::Fastwebsockets,
        Stack::TokioWebsockets,
        Stack::Yawc,
        Stack::Raw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stack::Ours => "rfc6455-tokio",
            Stack::Tungstenite => "tokio-tungstenite",
            Stack::Fastwebsockets => "fastwebsockets",
            Stack::TokioWebsockets => "tokio-websockets",
            Stack::Yawc => "yawc",
            Stack::Raw => "raw-tcp",
        }
    }

    fn from_name(name: &str) -> Option<Stack> {
        Stack::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether it implements permessage-deflate (the deflate workload's columns).
    pub fn deflates(self) -> bool {
        matches!(self, Stack::Ours | Stack::Yawc)
    }

    /// Whether it takes part in the workloads without deflate. yawc is there only as the
    /// deflate peer: the three plain peers are the ones the issue names.
    pub fn plain(self) -> bool {
        self != Stack::Yawc
    }

    /// Whether it speaks WebSocket ([`Stack::Raw`] does not: it is the echo's reference).
    pub fn websocket(self) -> bool {
        self != Stack::Raw
    }
}

/// How big and long each workload is.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub echo_connections: usize,
    pub in_flight: usize,
    pub warmup_ms: u64,
    pub measure_ms: u64,
    pub idle_connections: usize,
    pub broadcast_clients: usize,
    pub broadcast_rounds: usize,
    /// Workload 5: clients on each of the two cluster servers, and rounds.
    pub cluster_clients: usize,
    pub cluster_rounds: usize,
}

impl Scale {
    const FULL: Scale = Scale {
        echo_connections: 100,
        in_flight: 16,
        warmup_ms: 1000,
        measure_ms: 3000,
        idle_connections: 10_000,
        broadcast_clients: 10_000,
        broadcast_rounds: 20,
        cluster_clients: 1000,
        cluster_rounds: 50,
    };
    const QUICK: Scale = Scale {
        warmup_ms: 500,
        measure_ms: 1000,
        broadcast_rounds: 10,
        cluster_rounds: 20,
        ..Scale::FULL
    };
    const SMOKE: Scale = Scale {
        echo_connections: 10,
        in_flight: 4,
        warmup_ms: 50,
        measure_ms: 200,
        idle_connections: 200,
        broadcast_clients: 200,
        broadcast_rounds: 3,
        cluster_clients: 20,
        cluster_rounds: 3,
    };
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("server") {
        let stack = args
            .get(1)
            .and_then(|s| Stack::from_name(s))
            .expect("server STACK");
        servers::serve(stack, args.iter().any(|a| a == "--deflate"));
    }
    if args.first().map(String::as_str) == Some("agree") {
        return agree::main(&args[1..]);
    }
    let mut scale = Scale::FULL;
    let mut runs = 1;
    let mut filter = String::new();
    let mut measure_ms = None;
    let mut stacks: Vec<Stack> = Stack::ALL.to_vec();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--smoke" => scale = Scale::SMOKE,
            "--quick" => scale = Scale::QUICK,
            "--filter" => filter = it.next().expect("--filter TEXT").clone(),
            "--runs" => runs = it.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            "--measure-ms" => {
                measure_ms = Some(
                    it.next()
                        .and_then(|n| n.parse().ok())
                        .expect("--measure-ms N"),
                )
            }
            "--only" => {
                let names = it.next().expect("--only STACK,...");
                stacks = names
                    .split(',')
                    .map(|n| Stack::from_name(n).unwrap_or_else(|| panic!("no stack {n}")))
                    .collect();
                if !stacks.contains(&Stack::Ours) {
                    stacks.insert(0, Stack::Ours); // the ratios are to ours
                }
            }
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(ms) = measure_ms {
        scale.measure_ms = ms;
    }
    sys::pin_to_cpu(1);
    sys::raise_fd_limit();
    match workloads::run_all(&stacks, scale, runs, &filter) {
        Ok(table) => {
            report::print(&table, &stacks, scale, runs);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("load: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
