//! Reconnection policy: delay bounds for every attempt and jitter mode, giving up, reset
//! after a healthy connection, and decisions by close code.

mod support;
use support::splitmix;
use support::time::ms;

use core::time::Duration;
use splitmix::SplitMix;

use proptest::prelude::*;
use rfc6455::backoff::{Backoff, BackoffConfig, Jitter, Reconnect};
use rfc6455::close::CloseCode;

fn config(jitter: Jitter) -> BackoffConfig {
    BackoffConfig {
        base: ms(100),
        factor: 2.0,
        max_delay: ms(10_000),
        max_attempts: None,
        reset_after: ms(5_000),
        jitter,
        retry_other_codes: true,
    }
}

/// The ceiling computed independently, in floating point.
fn expected_ceiling(cfg: &BackoffConfig, attempt: u32) -> Duration {
    let secs = cfg.base.as_secs_f64() * cfg.factor.powi(attempt.min(1000) as i32);
    if secs >= cfg.max_delay.as_secs_f64() {
        cfg.max_delay
    } else {
        Duration::from_secs_f64(secs)
    }
}

#[test]
fn ceilings_grow_by_the_factor_up_to_the_maximum() {
    let backoff = Backoff::new(config(Jitter::None));
    let ceilings: Vec<u64> = (0..10)
        .map(|n| backoff.ceiling(n).as_millis() as u64)
        .collect();
    assert_eq!(
        ceilings,
        [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
    );
    assert_eq!(backoff.ceiling(u32::MAX), ms(10_000));
    // Without jitter the delays are the ceilings.
    let mut b = Backoff::new(config(Jitter::None));
    for n in 0..10 {
        assert_eq!(b.next_delay(ms(0), 42), Some(backoff.ceiling(n)));
    }
}

#[test]
fn odd_configurations_do_not_panic() {
    for factor in [f64::NAN, -3.0, 0.5, 1.0, f64::INFINITY, 1e300] {
        let cfg = BackoffConfig {
            factor,
            ..config(Jitter::Full)
        };
        let b = Backoff::new(cfg);
        for n in [0, 1, 2, 63, 64, 1000, u32::MAX] {
            let c = b.ceiling(n);
            assert!(c <= cfg.max_delay, "factor {factor} attempt {n}");
            let grows = factor > 1.0;
            if !grows || n == 0 {
                assert_eq!(c, cfg.base, "factor {factor} attempt {n}");
            }
        }
    }
    // Zero base: always zero. Base above the maximum: the maximum.
    let zero = Backoff::new(BackoffConfig {
        base: Duration::ZERO,
        ..config(Jitter::Full)
    });
    assert_eq!(zero.ceiling(u32::MAX), Duration::ZERO);
    let big = Backoff::new(BackoffConfig {
        base: Duration::MAX,
        max_delay: Duration::MAX,
        ..config(Jitter::Equal)
    });
    assert_eq!(big.ceiling(0), Duration::MAX);
    assert_eq!(big.ceiling(7), Duration::MAX);
    let mut big = big;
    assert!(big.next_delay(ms(0), u64::MAX).is_some());
}

proptest! {
    /// Every delay of every attempt stays within its jitter mode's bounds.
    #[test]
    fn every_delay_is_within_bounds(
        base_ms in 1u64..5_000,
        factor in 1.0f64..4.0,
        max_ms in 1u64..120_000,
        randoms in proptest::collection::vec(any::<u64>(), 1..40),
        mode in prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)],
    ) {
        let cfg = BackoffConfig {
            base: ms(base_ms),
            factor,
            max_delay: ms(max_ms),
            jitter: mode,
            ..config(mode)
        };
        let mut b = Backoff::new(cfg);
        for (n, random) in randoms.into_iter().enumerate() {
            let ceiling = b.ceiling(n as u32);
            let want = expected_ceiling(&cfg, n as u32);
            // Floating-point rounding may differ by a nanosecond or so.
            prop_assert!(ceiling.abs_diff(want) <= Duration::from_nanos(2), "{:?} vs {:?}", ceiling, want);
            prop_assert!(ceiling <= cfg.max_delay);
            let delay = b.next_delay(ms(0), random).unwrap();
            prop_assert!(delay <= ceiling);
            match mode {
                Jitter::None => prop_assert_eq!(delay, ceiling),
                Jitter::Full => {}
                Jitter::Equal => prop_assert!(delay >= ceiling / 2),
            }
        }
    }
}

#[test]
fn jitter_is_uniform_over_its_range() {
    // 10 buckets over [0, ceiling] (full) or [ceiling/2, ceiling] (equal), 20,000 draws.
    for mode in [Jitter::Full, Jitter::Equal] {
        let cfg = BackoffConfig {
            base: ms(1000),
            factor: 1.0,
            ..config(mode)
        };
        let mut rng = SplitMix(1);
        let mut buckets = [0u32; 10];
        for _ in 0..20_000 {
            let mut b = Backoff::new(cfg);
            let d = b.next_delay(ms(0), rng.next()).unwrap().as_secs_f64();
            let (lo, hi) = if mode == Jitter::Full {
                (0.0, 1.0)
            } else {
                (0.5, 1.0)
            };
            let i = ((d - lo) / (hi - lo) * 10.0) as usize;
            buckets[i.min(9)] += 1;
        }
        for (i, &n) in buckets.iter().enumerate() {
            assert!((1_700..=2_300).contains(&n), "{mode:?} bucket {i}: {n}");
        }
    }
}

#[test]
fn gives_up_after_max_attempts() {
    let mut b = Backoff::new(BackoffConfig {
        max_attempts: Some(3),
        ..config(Jitter::Full)
    });
    for _ in 0..3 {
        assert!(b.next_delay(ms(0), 7).is_some());
    }
    assert_eq!(b.next_delay(ms(0), 7), None);
    assert_eq!(
        b.after_close(CloseCode::ABNORMAL, ms(0), 7),
        Reconnect::GiveUp { attempts: 3 }
    );
    b.reset();
    assert!(b.next_delay(ms(0), 7).is_some());
}

#[test]
fn a_healthy_connection_resets_the_count_and_a_short_one_does_not() {
    let mut b = Backoff::new(config(Jitter::None));
    for _ in 0..5 {
        b.next_delay(ms(0), 0);
    }
    assert_eq!(b.attempts(), 5);
    // Up for 4.999 s: not long enough, the next delay keeps growing (attempt 5: 3.2 s).
    b.connected(ms(10_000));
    assert_eq!(b.next_delay(ms(14_999), 0), Some(ms(3200)));
    assert_eq!(b.attempts(), 6);
    // A failed attempt after that does not count as connected time.
    assert_eq!(b.next_delay(ms(60_000), 0), Some(ms(6400)));
    // Up for exactly 5 s: reset, the next delay is the base again.
    b.connected(ms(70_000));
    assert_eq!(b.next_delay(ms(75_000), 0), Some(ms(100)));
    assert_eq!(b.attempts(), 1);
    // Through after_close as well.
    b.connected(ms(80_000));
    assert_eq!(
        b.after_close(CloseCode::SERVICE_RESTART, ms(90_000), 0),
        Reconnect::After(ms(100))
    );
}

#[test]
fn close_codes_decide_whether_to_retry() {
    let mut b = Backoff::new(config(Jitter::None));
    for code in [1001, 1006, 1011, 1012, 1013] {
        assert!(matches!(
            b.after_close(CloseCode(code), ms(0), 0),
            Reconnect::After(_)
        ));
    }
    let attempts = b.attempts();
    for code in [1000, 1002, 1003, 1007, 1008, 1009, 1010] {
        assert_eq!(
            b.after_close(CloseCode(code), ms(0), 0),
            Reconnect::DoNotRetry(CloseCode(code))
        );
    }
    assert_eq!(b.attempts(), attempts, "a refusal is not an attempt");
    // Others follow the configuration.
    for code in [1005, 1014, 1015, 3000, 4999] {
        assert!(b.should_retry(CloseCode(code)));
    }
    let strict = Backoff::new(BackoffConfig {
        retry_other_codes: false,
        ..config(Jitter::None)
    });
    for code in [1005, 1014, 1015, 3000, 4999] {
        assert!(!strict.should_retry(CloseCode(code)));
    }
    assert!(strict.should_retry(CloseCode::ABNORMAL));
}
