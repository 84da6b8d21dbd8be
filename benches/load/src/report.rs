//! The table: one row per measure, a column per stack (the median of the runs, and with
//! several runs their spread), and how many times better ours is than the best peer.

use crate::workloads::{Better, Table};
use crate::{Scale, Stack};

pub fn print(table: &Table, stacks: &[Stack], scale: Scale, runs: usize) {
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!("load: {date}, {cpu}; server on CPU 0, generator on CPU 1, loopback");
    println!(
        "{} echo connections x {} in flight, {} ms measured after {} ms; {} idle connections; \
         broadcast to {} clients x {} rounds; cluster: 2 servers x {} clients x {} rounds; \
         {runs} run(s), cells are medians{}",
        scale.echo_connections,
        scale.in_flight,
        scale.measure_ms,
        scale.warmup_ms,
        scale.idle_connections,
        scale.broadcast_clients,
        scale.broadcast_rounds,
        scale.cluster_clients,
        scale.cluster_rounds,
        if runs > 1 {
            " (± half the spread between runs, as % of the median)"
        } else {
            ""
        },
    );
    println!(
        "ratio: how many times better rfc6455-tokio is than the best peer in the row (> 1: ours wins)"
    );
    if stacks.contains(&Stack::Raw) {
        println!(
            "raw-tcp: no WebSocket, the server writes back the bytes it reads (not a peer, not \
             in the ratio; the ceiling where a burst is one read and one write: 16 B, 1 KiB, \
             1 in flight)"
        );
    }
    println!();
    let mut header = String::from("| workload | unit |");
    let mut rule = String::from("|---|---|");
    for s in stacks {
        header.push_str(&format!(" {} |", s.name()));
        rule.push_str("--:|");
    }
    println!("{header} ratio |");
    println!("{rule}--:|");
    for row in table {
        let mut line = format!("| {} | {} |", row.name, row.unit);
        let mut ours = None;
        let mut best_peer: Option<f64> = None;
        for s in stacks {
            let Some((_, values)) = row.cells.iter().find(|(c, _)| c == s) else {
                line.push_str(" – |");
                continue;
            };
            let (median, spread) = median_and_spread(values);
            line.push_str(&format!(
                " {}{} |",
                number(median),
                spread.map_or(String::new(), |p| format!(" ±{p:.0}%"))
            ));
            if *s == Stack::Ours {
                ours = Some(median);
            } else if s.websocket() {
                best_peer = Some(match (best_peer, row.better) {
                    (None, _) => median,
                    (Some(b), Better::Higher) => b.max(median),
                    (Some(b), Better::Lower) => b.min(median),
                    (Some(_), Better::Neither) => median,
                });
            }
        }
        let ratio = match (ours, best_peer, row.better) {
            (Some(o), Some(p), Better::Higher) if p > 0.0 => format!("{:.2}x", o / p),
            (Some(o), Some(p), Better::Lower) if o > 0.0 => format!("{:.2}x", p / o),
            _ => "–".into(),
        };
        println!("{line} {ratio} |");
    }
}

fn median_and_spread(values: &[f64]) -> (f64, Option<f64>) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let spread = (sorted.len() > 1 && median != 0.0)
        .then(|| (sorted[sorted.len() - 1] - sorted[0]) / median.abs() * 50.0);
    (median, spread)
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
