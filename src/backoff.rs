//! Reconnection policy: exponential backoff with jitter (sans-IO, no clock or RNG inside).
//!
//! After a failed connection attempt, or a connection that ended with a
//! [retryable](CloseCode::is_retryable) code, [`Backoff::next_delay`] says how long to wait
//! before the next attempt. The ceiling for attempt *n* (counting from 0) is
//! `min(max_delay, base * factor^n)`; [`Jitter`] picks the actual delay below it, from a
//! random `u64` the caller supplies. After [`max_attempts`](BackoffConfig::max_attempts)
//! failures in a row the policy gives up. A connection that stays up for
//! [`reset_after`](BackoffConfig::reset_after) resets the count, so the next outage starts
//! again from short delays.
//!
//! # Why jitter: the thundering herd
//!
//! When a server restarts, every client loses its connection in the same instant. Without
//! jitter they all compute the same delays and come back in the same instant, attempt after
//! attempt: the restarted server takes the whole fleet's handshakes at once, may fall over
//! again, and the cycle repeats. Jitter gives each client a different random delay, so the
//! returns are spread over the ceiling: with **full jitter** (uniform in `[0, ceiling]`) a
//! fleet of N clients arrives at about `N / ceiling` per second instead of N at once; with
//! **equal jitter** (uniform in `[ceiling/2, ceiling]`) every client still waits at least
//! half the ceiling (backoff keeps growing even for the luckiest client), and the fleet is
//! spread over the other half. The test `tests/backoff_herd.rs` simulates 10,000 clients
//! and prints the per-second histogram.
//!
//! For the spread to happen, the random values must differ between clients: seed them from
//! the OS (e.g. `getrandom`), not from a constant or the wall-clock second. They need not be
//! cryptographic.
//!
//! # Time
//!
//! `now` is a [`Duration`] since an epoch the caller chooses, read from a monotonic clock
//! (as in [`keepalive`](crate::keepalive)). It is only used to tell how long a connection
//! stayed up.
//!
//! ```
//! use core::time::Duration;
//! use rfc6455::backoff::{Backoff, BackoffConfig, Jitter, Reconnect};
//! use rfc6455::close::CloseCode;
//!
//! let secs = Duration::from_secs;
//! let config = BackoffConfig {
//!     base: secs(1),
//!     factor: 2.0,
//!     max_delay: secs(30),
//!     max_attempts: Some(10),
//!     reset_after: secs(60),
//!     jitter: Jitter::Full,
//!     retry_other_codes: true,
//! };
//! let mut backoff = Backoff::new(config);
//! // Ceilings: 1, 2, 4, 8, 16, 30, 30, ... seconds.
//! assert_eq!(backoff.ceiling(4), secs(16));
//! assert_eq!(backoff.ceiling(9), secs(30));
//!
//! // A connect attempt failed at t = 0. `random` comes from the caller's RNG.
//! let random: u64 = 0x8000_0000_0000_0000; // one half of the range
//! assert_eq!(backoff.next_delay(secs(0), random), Some(Duration::from_millis(500)));
//! assert_eq!(backoff.next_delay(secs(1), random), Some(secs(1))); // half of 2 s
//!
//! // The next attempt worked; an hour later the server restarts (1012).
//! backoff.connected(secs(2));
//! match backoff.after_close(CloseCode::SERVICE_RESTART, secs(3602), random) {
//!     Reconnect::After(delay) => assert_eq!(delay, Duration::from_millis(500)), // reset
//!     other => panic!("{other:?}"),
//! }
//! // 1008 (policy violation) will not get better by retrying.
//! assert_eq!(
//!     backoff.after_close(CloseCode::POLICY_VIOLATION, secs(3603), random),
//!     Reconnect::DoNotRetry(CloseCode::POLICY_VIOLATION)
//! );
//! ```
#![forbid(unsafe_code)]

use core::time::Duration;

use crate::close::CloseCode;

/// How the delay is picked below the ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// Exactly the ceiling. Every client that lost its connection at the same moment comes
    /// back at the same moment: only for a single client or for tests.
    None,
    /// Uniform in `[0, ceiling]`: the widest spread, the lowest mean wait.
    #[default]
    Full,
    /// Uniform in `[ceiling / 2, ceiling]`: a guaranteed minimum wait of half the ceiling.
    Equal,
}

/// The parameters of a [`Backoff`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    /// The ceiling of the first delay (default 500 ms).
    pub base: Duration,
    /// The ceiling's growth per failed attempt (default 2.0). Values below 1, and NaN, count
    /// as 1.
    pub factor: f64,
    /// The largest ceiling (default 30 s).
    pub max_delay: Duration,
    /// Failed attempts in a row after which to give up; `None` retries forever (default).
    pub max_attempts: Option<u32>,
    /// A connection that stayed up this long resets the attempt count (default 30 s).
    pub reset_after: Duration,
    /// How the delay is picked below the ceiling (default [`Jitter::Full`]).
    pub jitter: Jitter,
    /// Whether to reconnect after a close code that is neither
    /// [retryable](CloseCode::is_retryable) nor [permanent](CloseCode::is_permanent)
    /// (1005, 1014, 1015, application codes 3000-4999; default true).
    pub retry_other_codes: bool,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            base: Duration::from_millis(500),
            factor: 2.0,
            max_delay: Duration::from_secs(30),
            max_attempts: None,
            reset_after: Duration::from_secs(30),
            jitter: Jitter::Full,
            retry_other_codes: true,
        }
    }
}

/// What to do after a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconnect {
    /// Wait this long, then connect again.
    After(Duration),
    /// The close code says retrying will not help (see [`CloseCode::is_permanent`]), or it
    /// is neither permanent nor retryable and
    /// [`retry_other_codes`](BackoffConfig::retry_other_codes) is off.
    DoNotRetry(CloseCode),
    /// [`max_attempts`](BackoffConfig::max_attempts) failures in a row.
    GiveUp {
        /// The failed attempts.
        attempts: u32,
    },
}

/// The reconnection state of one client. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Backoff {
    config: BackoffConfig,
    /// Failed attempts since the last reset.
    attempt: u32,
    /// When the current connection opened.
    connected_at: Option<Duration>,
}

impl Backoff {
    /// A policy with no failures yet.
    pub const fn new(config: BackoffConfig) -> Self {
        Backoff {
            config,
            attempt: 0,
            connected_at: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }

    /// Failed attempts since the last reset: the exponent of the next ceiling.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Forget all failures.
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.connected_at = None;
    }

    /// Record that a connection opened at `now`. If it stays up for
    /// [`reset_after`](BackoffConfig::reset_after), the next delay starts from the base
    /// again.
    pub fn connected(&mut self, now: Duration) {
        self.connected_at = Some(now);
    }

    /// The delay ceiling of attempt `attempt` (from 0), before jitter:
    /// `min(max_delay, base * factor^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let max = self.config.max_delay;
        let base = self.config.base.min(max);
        if base.is_zero() {
            return Duration::ZERO;
        }
        let factor = self.config.factor;
        // NaN and factors below 1 fail this comparison: no growth.
        let factor = if factor >= 1.0 { factor } else { 1.0 };
        let mut growth = 1.0f64;
        let (mut square, mut exp) = (factor, attempt);
        while exp > 0 {
            if exp & 1 == 1 {
                growth *= square;
            }
            square *= square;
            exp >>= 1;
        }
        let secs = base.as_secs_f64() * growth;
        if secs >= max.as_secs_f64() {
            return max;
        }
        Duration::try_from_secs_f64(secs).map_or(max, |d| d.min(max))
    }

    /// The delay before the next attempt, after a failed attempt or a lost connection at
    /// `now`; `None` when [`max_attempts`](BackoffConfig::max_attempts) attempts failed in a
    /// row. `random` is a uniformly random `u64` from the caller.
    pub fn next_delay(&mut self, now: Duration, random: u64) -> Option<Duration> {
        if let Some(since) = self.connected_at.take() {
            if now.saturating_sub(since) >= self.config.reset_after {
                self.attempt = 0;
            }
        }
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.attempt >= max)
        {
            return None;
        }
        let ceiling = self.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        Some(jitter(self.config.jitter, ceiling, random))
    }

    /// Whether a connection that ended with `code` should be reconnected:
    /// [retryable](CloseCode::is_retryable) codes yes,
    /// [permanent](CloseCode::is_permanent) codes no, others as
    /// [`retry_other_codes`](BackoffConfig::retry_other_codes) says.
    pub fn should_retry(&self, code: CloseCode) -> bool {
        if code.is_retryable() {
            true
        } else if code.is_permanent() {
            false
        } else {
            self.config.retry_other_codes
        }
    }

    /// What to do after a connection ended at `now` with `code` (the peer's close code, or
    /// 1006 when the transport dropped or the keep-alive timed out).
    pub fn after_close(&mut self, code: CloseCode, now: Duration, random: u64) -> Reconnect {
        if !self.should_retry(code) {
            self.connected_at = None;
            return Reconnect::DoNotRetry(code);
        }
        match self.next_delay(now, random) {
            Some(delay) => Reconnect::After(delay),
            None => Reconnect::GiveUp {
                attempts: self.attempt,
            },
        }
    }
}

/// A delay at most `ceiling`, picked by `mode` from `random`.
fn jitter(mode: Jitter, ceiling: Duration, random: u64) -> Duration {
    // Nanoseconds, capped at u64::MAX (584 years) so the product below fits in u128.
    let cap = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    // `random / 2^64` of `span`: uniform in [0, span).
    let scaled = |span: u64| ((u128::from(span) * u128::from(random)) >> 64) as u64;
    let nanos = match mode {
        Jitter::None => cap,
        Jitter::Full => scaled(cap),
        Jitter::Equal => {
            let half = cap / 2;
            half + scaled(cap - half)
        }
    };
    Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_extremes() {
        let c = Duration::from_secs(8);
        assert_eq!(jitter(Jitter::Full, c, 0), Duration::ZERO);
        assert!(jitter(Jitter::Full, c, u64::MAX) < c);
        assert!(jitter(Jitter::Full, c, u64::MAX) > c - Duration::from_nanos(2));
        assert_eq!(jitter(Jitter::Equal, c, 0), Duration::from_secs(4));
        assert!(jitter(Jitter::Equal, c, u64::MAX) < c);
        assert_eq!(jitter(Jitter::None, c, 12345), c);
        assert_eq!(jitter(Jitter::Full, Duration::MAX, 0), Duration::ZERO);
        assert!(jitter(Jitter::None, Duration::MAX, 0) >= Duration::from_secs(584 * 365 * 86400));
    }
}
