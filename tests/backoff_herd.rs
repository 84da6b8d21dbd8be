//! The thundering herd, simulated: 10,000 clients lose their connection in the same instant
//! when the server restarts, retry with the default backoff policy, and the restarted
//! server counts the handshakes it gets per second.
//!
//! `cargo test --test backoff_herd -- --nocapture` prints the histograms.

mod support;
use support::splitmix;

use core::time::Duration;
use splitmix::SplitMix;

use rfc6455::backoff::{Backoff, BackoffConfig, Jitter, Reconnect};
use rfc6455::close::CloseCode;

const CLIENTS: usize = 10_000;
/// The server is down from t = 0 to t = 10 s.
const DOWN_FOR: Duration = Duration::from_secs(10);
/// With full jitter, the busiest second after the restart takes less than this fraction of
/// the fleet (measured: 14.9%, the first second after the restart; without jitter: 100%).
const FULL_JITTER_PEAK: f64 = 0.20;
/// With equal jitter (a narrower spread, for a guaranteed minimum wait): measured 26.4%.
const EQUAL_JITTER_PEAK: f64 = 0.30;

struct Outcome {
    /// Successful handshakes per second after the restart.
    per_second: Vec<usize>,
    /// Attempts made while the server was down (refused by the OS, cheap).
    refused: usize,
    /// When the last client was back.
    last: Duration,
}

fn simulate(jitter: Jitter) -> Outcome {
    let config = BackoffConfig {
        jitter,
        ..BackoffConfig::default()
    };
    let mut per_second = vec![0usize; 120];
    let mut refused = 0;
    let mut last = Duration::ZERO;
    for client in 0..CLIENTS {
        // Each client seeds its own generator (in real life: from the OS).
        let mut rng = SplitMix(client as u64 ^ 0x5EED);
        let mut backoff = Backoff::new(config);
        backoff.connected(Duration::ZERO); // connected a while ago; lost it at t = 0
        let mut now = Duration::ZERO;
        let mut outcome = backoff.after_close(CloseCode::SERVICE_RESTART, now, rng.next());
        loop {
            let Reconnect::After(delay) = outcome else {
                panic!("client {client} stopped: {outcome:?}");
            };
            now += delay;
            if now >= DOWN_FOR {
                break;
            }
            refused += 1;
            outcome = match backoff.next_delay(now, rng.next()) {
                Some(d) => Reconnect::After(d),
                None => Reconnect::GiveUp { attempts: 0 },
            };
        }
        per_second[now.as_secs() as usize] += 1;
        last = last.max(now);
    }
    Outcome {
        per_second,
        refused,
        last,
    }
}

fn report(name: &str, o: &Outcome) -> f64 {
    let peak = *o.per_second.iter().max().unwrap();
    println!(
        "{name}: peak {peak} handshakes in one second ({:.1}% of {CLIENTS}), {} refused attempts \
         while down, last client back at {:.1} s",
        100.0 * peak as f64 / CLIENTS as f64,
        o.refused,
        o.last.as_secs_f64()
    );
    for (second, &n) in o.per_second.iter().enumerate().filter(|(_, n)| **n > 0) {
        println!(
            "  {second:>3} s {n:>6} {}",
            "#".repeat((n * 60).div_ceil(peak))
        );
    }
    peak as f64 / CLIENTS as f64
}

#[test]
fn jitter_spreads_the_reconnect_storm() {
    let none = simulate(Jitter::None);
    let full = simulate(Jitter::Full);
    let equal = simulate(Jitter::Equal);
    for o in [&none, &full, &equal] {
        assert_eq!(
            o.per_second.iter().sum::<usize>(),
            CLIENTS,
            "everyone is back"
        );
        assert!(
            o.per_second[..DOWN_FOR.as_secs() as usize]
                .iter()
                .all(|&n| n == 0)
        );
    }
    // Without jitter every client follows the same schedule: all of them in one second.
    assert_eq!(report("no jitter", &none), 1.0);
    let full_peak = report("full jitter", &full);
    let equal_peak = report("equal jitter", &equal);
    assert!(
        full_peak < FULL_JITTER_PEAK,
        "full jitter peak {full_peak} >= {FULL_JITTER_PEAK}"
    );
    assert!(
        equal_peak < EQUAL_JITTER_PEAK,
        "equal jitter peak {equal_peak} >= {EQUAL_JITTER_PEAK}"
    );
    // The spread is bounded too: nobody waits more than the last ceiling past the restart.
    let max = BackoffConfig::default().max_delay;
    for o in [&full, &equal] {
        assert!(o.last < DOWN_FOR + max, "{:?}", o.last);
    }
}
