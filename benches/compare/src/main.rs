//! Side-by-side benchmark: rfc6455 vs tungstenite vs fastwebsockets, same workloads,
//! same in-memory "socket", interleaved rounds, one Markdown table.
//!
//! ```text
//! cargo run --release --manifest-path benches/compare/Cargo.toml            # full table
//! cargo run --release --manifest-path benches/compare/Cargo.toml -- --quick # smoke run
//! ```
//!
//! Options: `--quick`, `--rounds N`, `--read BYTES` (largest socket read, default 65536),
//! `--cpu N` (core to pin to; default the last allowed one), `--only SUBSTRING` (only the
//! rows whose name contains it).
//!
//! Every implementation's output is checked (message count, kinds, payload bytes and a
//! checksum) in an untimed full-checksum pass and again after every timed round; any
//! mismatch exits with status 1.

mod deflate;
mod impls;
mod runner;
mod stream;
mod sys;
mod workload;
mod zlibrs;

use std::fmt::Write as _;
use std::time::Instant;

use rfc6455::Role;

use impls::Imp;
use runner::{MaskFn, Measured, Settings};
use workload::{Kind, Rng, decode_input, encode_input, message_count};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// One row of the table.
enum Work {
    /// `role` receives messages of `len` bytes of `kind` (fragmented when `fragment`).
    Decode {
        role: Role,
        kind: Kind,
        len: usize,
        fragment: Option<usize>,
    },
    /// `role` sends binary messages of `len` bytes (through the frame layer alone, into
    /// a `Vec`, when `frames`).
    Encode {
        role: Role,
        len: usize,
        frames: bool,
    },
    /// Masking alone, `len` bytes.
    Mask { len: usize },
}

fn workloads() -> Vec<Work> {
    let mut w = Vec::new();
    for len in [0, 16, 125, KIB, 16 * KIB, MIB] {
        w.push(Work::Decode {
            role: Role::Server,
            kind: Kind::Binary,
            len,
            fragment: None,
        });
    }
    for len in [16, 16 * KIB] {
        w.push(Work::Decode {
            role: Role::Server,
            kind: Kind::Text,
            len,
            fragment: None,
        });
    }
    for len in [16, 64 * KIB] {
        w.push(Work::Decode {
            role: Role::Client,
            kind: Kind::Binary,
            len,
            fragment: None,
        });
    }
    w.push(Work::Decode {
        role: Role::Server,
        kind: Kind::Binary,
        len: MIB,
        fragment: Some(64 * KIB),
    });
    for role in [Role::Server, Role::Client] {
        for len in [16, 64 * KIB] {
            w.push(Work::Encode {
                role,
                len,
                frames: false,
            });
        }
    }
    for len in [16, 128, KIB, 16 * KIB, 64 * KIB, MIB] {
        w.push(Work::Mask { len });
    }
    // Last, so that the rows above keep their seeds (a row's index is its seed).
    for role in [Role::Server, Role::Client] {
        for len in [16, KIB] {
            w.push(Work::Encode {
                role,
                len,
                frames: true,
            });
        }
    }
    w
}

fn size(len: usize) -> String {
    match len {
        l if l >= MIB && l % MIB == 0 => format!("{} MiB", l / MIB),
        l if l >= KIB && l % KIB == 0 => format!("{} KiB", l / KIB),
        l => format!("{l} B"),
    }
}

struct Row {
    name: String,
    per_round: usize,
    cells: [Option<Measured>; 3],
    reference: String,
}

fn name(work: &Work) -> String {
    match *work {
        Work::Decode {
            role,
            kind,
            len,
            fragment,
        } => {
            let (who, masked) = match role {
                Role::Server => ("server", "masked"),
                Role::Client => ("client", "unmasked"),
            };
            let what = match kind {
                Kind::Binary => "binary",
                Kind::Text => "text (40% multi-byte)",
            };
            match fragment {
                None => format!("decode, {who} ← {masked} {what} {}", size(len)),
                Some(f) => format!(
                    "decode, {who} ← {masked} {what} {} in {} fragments",
                    size(len),
                    size(f)
                ),
            }
        }
        Work::Encode { role, len, frames } => {
            let who = match role {
                Role::Server => "server",
                Role::Client => "client (masked)",
            };
            let layer = if frames {
                " (frame layer, into a Vec)"
            } else {
                ""
            };
            format!("encode{layer}, {who}: binary {}", size(len))
        }
        Work::Mask { len } => format!("mask in place, {}", size(len)),
    }
}

/// Generate the workload's input (from `seed`, so a row's input does not depend on
/// which other rows run) and measure it.
fn run(work: &Work, s: &Settings, seed: u64) -> Row {
    let rng = &mut Rng::new(seed);
    let name = name(work);
    match *work {
        Work::Decode {
            role,
            kind,
            len,
            fragment,
        } => {
            // Roughly: the exact header sizes do not matter for picking a count.
            let wire = len + 14 * fragment.map_or(1, |f| len.div_ceil(f));
            let n = message_count(wire, s.target_bytes, s.min_messages, s.max_messages);
            let input = decode_input(rng, role, kind, len, fragment, n);
            let m = runner::decode(role, &input, fragment.is_some(), s);
            let copy = runner::socket_copy_reference(&input, s);
            let mut reference = format!("socket copy alone {}", fmt_ns(copy.ns_per_op));
            if kind == Kind::Text {
                let r = runner::utf8_reference(&input, s);
                reference += &format!(" · str::from_utf8 alone {:.2}", r.gbps.unwrap_or(0.0));
            }
            Row {
                name,
                per_round: n,
                cells: [Some(m[0]), Some(m[1]), Some(m[2])],
                reference,
            }
        }
        Work::Encode { role, len, frames } => {
            let n = message_count(len + 14, s.target_bytes, s.min_messages, s.max_messages);
            let input = encode_input(rng, role, len, n);
            let m = runner::encode(role, &input, frames, s);
            Row {
                name,
                per_round: n,
                cells: [Some(m[0]), Some(m[1]), Some(m[2])],
                reference: String::new(),
            }
        }
        Work::Mask { len } => {
            let results = runner::mask(len, s);
            let get = |f: MaskFn| results.iter().find(|(g, _)| *g == f).map(|(_, m)| *m);
            let gbps = |f: MaskFn| get(f).and_then(|m| m.gbps).unwrap_or(0.0);
            let reference = format!(
                "memcpy {:.1} · u64 loop {:.1} · our copy_masked {:.1}",
                gbps(MaskFn::Memcpy),
                gbps(MaskFn::XorU64),
                gbps(MaskFn::OursCopyMasked)
            );
            Row {
                name,
                per_round: (s.mask_bytes / len).max(1),
                cells: [get(MaskFn::Ours), None, get(MaskFn::FastWebSockets)],
                reference,
            }
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns < 100.0 {
        format!("{ns:.1}")
    } else if ns < 10_000.0 {
        format!("{ns:.0}")
    } else {
        let s = format!("{ns:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

fn table(rows: &[Row]) -> String {
    let mut t = String::new();
    t.push_str("| Workload | msgs/round |");
    for imp in Imp::ALL {
        let _ = write!(t, " {0} ns/msg | {0} GB/s |", imp.name());
    }
    t.push_str(" vs tungstenite | vs fastwebsockets | References |\n");
    t.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for row in rows {
        let _ = write!(t, "| {} | {} |", row.name, row.per_round);
        for cell in &row.cells {
            match cell {
                Some(m) => {
                    let gbps = m.gbps.map_or("–".to_string(), |g| format!("{g:.2}"));
                    let _ = write!(t, " {} | {gbps} |", fmt_ns(m.ns_per_op));
                }
                None => t.push_str(" n/a | n/a |"),
            }
        }
        for peer in [1, 2] {
            match (&row.cells[0], &row.cells[peer]) {
                (Some(ours), Some(p)) => {
                    let _ = write!(t, " {:.2}× |", p.ns_per_op / ours.ns_per_op);
                }
                _ => t.push_str(" – |"),
            }
        }
        let _ = writeln!(t, " {} |", row.reference);
    }
    t
}

fn usage() -> ! {
    eprintln!(
        "usage: rfc6455-compare [--quick] [--rounds N] [--read BYTES] [--cpu N] [--only SUBSTRING] [--zlib-level N] | --loop ENGINE OP ROW ITERS"
    );
    std::process::exit(2);
}

fn main() {
    let mut quick = false;
    let mut rounds = None;
    let mut read = 64 * KIB;
    let mut cpu = None;
    let mut only: Option<String> = None;
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("--loop") {
        zlibrs::run_loop(&all[1..]);
        return;
    }
    let mut args = all.into_iter();
    while let Some(a) = args.next() {
        let mut num = || -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage())
        };
        match a.as_str() {
            "--quick" => quick = true,
            "--rounds" => rounds = Some(num().max(1)),
            "--read" => read = num().max(1),
            "--cpu" => cpu = Some(num()),
            "--only" => only = Some(args.next().unwrap_or_else(|| usage())),
            "--zlib-level" => {
                zlibrs::LEVEL.store(num().min(9) as u8, std::sync::atomic::Ordering::Relaxed)
            }
            "--bench" => {} // passed by `cargo bench`-style runners; ignored
            _ => usage(),
        }
    }
    let s = if quick {
        Settings {
            rounds: rounds.unwrap_or(3),
            read,
            target_bytes: 512 * KIB,
            min_messages: 2,
            max_messages: 2_000,
            mask_bytes: 256 * KIB,
        }
    } else {
        Settings {
            // Short rounds (a few ms) fit between preemptions on a busy machine, and
            // the median of many of them is steadier than of a few long ones.
            rounds: rounds.unwrap_or(101),
            read,
            target_bytes: 4 * MIB,
            min_messages: 4,
            max_messages: 25_000,
            mask_bytes: 4 * MIB,
        }
    };

    // Each workload keeps its index as its seed, so a filtered run has the same inputs.
    let selected: Vec<(usize, Work)> = workloads()
        .into_iter()
        .enumerate()
        .filter(|(_, w)| only.as_ref().is_none_or(|f| name(w).contains(f.as_str())))
        .collect();
    // The deflate rows (their own table), seeded after the framing rows.
    let deflate_target = if quick {
        deflate::QUICK_TARGET_BYTES
    } else {
        deflate::TARGET_BYTES
    };
    let deflate_selected: Vec<(usize, deflate::Work, String)> = deflate::workloads()
        .into_iter()
        .enumerate()
        .map(|(i, w)| (i, w, deflate::name(&w, size)))
        .filter(|(_, _, n)| only.as_ref().is_none_or(|f| n.contains(f.as_str())))
        .collect();
    if selected.is_empty() && deflate_selected.is_empty() {
        eprintln!("no workload name contains {:?}", only.unwrap_or_default());
        std::process::exit(2);
    }

    let pinned = match sys::pin(cpu) {
        Ok(c) => format!("pinned to CPU {c} of {}", sys::cpu_count()),
        Err(e) => format!("NOT pinned ({e})"),
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "## rfc6455 vs tungstenite vs fastwebsockets{}",
        if quick { " (--quick smoke run)" } else { "" }
    );
    println!();
    println!(
        "- CPU: {} ({pinned}); load average at start: {}",
        sys::cpu_model(),
        load.join(" ")
    );
    println!("- Date: {}", sys::utc_now());
    println!(
        "- Versions: rfc6455 {} (this tree), tungstenite {}, fastwebsockets {} (tokio {}, current-thread runtime)",
        sys::locked_version("rfc6455"),
        sys::locked_version("tungstenite"),
        sys::locked_version("fastwebsockets"),
        sys::locked_version("tokio"),
    );
    println!(
        "- Method: median of {} interleaved rounds (order rotated each round); in-memory socket returning at most {} per read; inputs pre-generated; every round checked",
        s.rounds,
        size(s.read)
    );
    println!();

    let started = Instant::now();
    let mut rows = Vec::new();
    let mut spreads: Vec<(f64, String)> = Vec::new();
    for (i, work) in &selected {
        let t0 = Instant::now();
        let row = run(work, &s, 0x6455 + *i as u64);
        for (imp, m) in Imp::ALL.iter().zip(&row.cells) {
            if let Some(m) = m {
                spreads.push((m.spread, format!("{}, {}", row.name, imp.name())));
            }
        }
        eprintln!("  {:<60} {:>6.2} s", row.name, t0.elapsed().as_secs_f64());
        rows.push(row);
    }
    let mut deflate_rows = Vec::new();
    for (i, work, name) in deflate_selected {
        let t0 = Instant::now();
        let row = deflate::run(&work, &s, deflate_target, 0xDEF1 + i as u64, name);
        for (imp, m) in deflate::IMPS.iter().zip(&row.cells) {
            if let Some(m) = m {
                spreads.push((m.spread, format!("{}, {imp}", row.name)));
            }
        }
        eprintln!("  {:<60} {:>6.2} s", row.name, t0.elapsed().as_secs_f64());
        deflate_rows.push(row);
    }
    spreads.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median_spread = spreads[spreads.len() / 2].0;
    let (worst_spread, worst_cell) = spreads.last().cloned().unwrap_or_default();
    if !rows.is_empty() {
        print!("{}", table(&rows));
        println!();
        print!("{}", legend(&s));
    }
    if !deflate_rows.is_empty() {
        if !rows.is_empty() {
            println!();
        }
        println!(
            "### permessage-deflate: rfc6455 vs its raw backend (miniz_oxide {}) vs raw zlib-rs {} vs yawc {}",
            sys::locked_version("miniz_oxide"),
            sys::locked_version("zlib-rs"),
            sys::locked_version("yawc")
        );
        println!();
        print!("{}", deflate::table(&deflate_rows, fmt_ns));
        println!();
        print!("{}", deflate::legend(&s));
    }
    println!(
        "- Noise (interquartile range of the rounds / median): {:.0}% in the median cell, \
         {:.0}% at worst ({worst_cell}). Total run time {:.1} s.",
        median_spread * 100.0,
        worst_spread * 100.0,
        started.elapsed().as_secs_f64()
    );
}

fn legend(s: &Settings) -> String {
    format!(
        "\
- ns/msg: median time per message (masking: per call). GB/s: payload bytes (10^9/s), \
  headers excluded. \"vs X\": X's time divided by ours; above 1 means rfc6455 is faster.
- APIs: rfc6455 `Connection::receive_buffer` + `commit_received` (the socket read \
  straight into its buffer) + `poll_event_ref` (payload lent until the next call), `send_binary(&[u8])` below 4 KiB and `send(Message::Binary(Bytes))` from 4 KiB \
  + `pending_output_slices`/`advance_output`; \
  tungstenite `WebSocket::read` / `send` (write + flush); fastwebsockets \
  `WebSocket::read_frame` (`FragmentCollector` for the fragmented row) / \
  `write_frame(Frame::binary(Payload::Borrowed))` on a tokio current-thread runtime. \
  Default settings everywhere. Frame-layer encoding rows (\"frame layer, into a Vec\"): \
  each frame appended to the sink by rfc6455 `frame::encode_frame_to_vec`, tungstenite \
  `FrameHeader::format` + `extend_from_slice` (a client's payload then masked in place \
  with the u64 loop, as tungstenite's masking is not public), fastwebsockets \
  `Frame::fmt_head` + `extend_from_slice` (+ `fastwebsockets::unmask`); the same keys \
  for all three.
- Decoding: a fresh connection per round reads the pre-generated frames from an \
  in-memory socket (at most {} per read); the copy out of it is timed for all three. \
  Encoding: each message is written to a pre-reserved in-memory sink before the next.
- Checked: every implementation's message count, kinds, payload bytes and a checksum \
  over all payload bytes (untimed pass), and a sampled checksum after every timed round.
- References: decode rows, the socket copy alone (the same reads into one reused buffer, \
  ns/msg), which all three pay, so what each takes beyond it is its protocol work; text \
  rows, also `str::from_utf8` alone on the same payloads (GB/s); masking rows, \
  `copy_from_slice` of the same size, a plain u64 XOR loop, and rfc6455 \
  `mask::copy_masked` (copy and mask in one pass). tungstenite's masking is not public.
",
        size(s.read)
    )
}
