//! Keep-alive: ping a quiet peer and declare it dead when it stays silent (sans-IO, no
//! clock inside).
//!
//! A TCP connection whose peer vanished without a FIN (a laptop suspended, a NAT mapping
//! dropped, a cable pulled) stays "open" for as long as nobody writes to it. [`KeepAlive`]
//! finds such connections: after [`interval`](KeepAliveConfig::interval) without receiving
//! anything it asks for a ping; if nothing at all arrives within
//! [`timeout`](KeepAliveConfig::timeout) of that ping, the ping counts as missed; after
//! [`max_missed`](KeepAliveConfig::max_missed) missed pings in a row the peer is dead and
//! [`poll`](KeepAlive::poll) reports a [`Timeout`], which the application treats like a
//! close with [`CloseCode::ABNORMAL`] (1006): drop the socket, and reconnect if it is a
//! client (1006 [is retryable](CloseCode::is_retryable)).
//!
//! Any received byte is proof of life, not only the pong: a peer busy sending a long
//! message is alive. Only silence on the receive side triggers pings, so a connection that
//! carries traffic costs nothing.
//!
//! # Time
//!
//! Every method takes `now`, a [`Duration`] since an epoch the caller chooses (process
//! start, boot, the connection's start) read from a **monotonic** clock: with `std`,
//! `epoch.elapsed()` of a `std::time::Instant` taken once. All instants handed to one
//! `KeepAlive` must share that epoch. Returned deadlines are on the same scale. Time that
//! goes backwards is treated as standing still.
//!
//! # Driving it
//!
//! Call [`poll`](KeepAlive::poll) (or, for a `Connection` with feature `alloc`, `drive`)
//! whenever something happened and when [`poll_timeout`](KeepAlive::poll_timeout) is
//! reached; sleep or block on the socket until then (e.g. a read timeout of
//! `poll_timeout - now`).
//!
//! ```
//! use core::time::Duration;
//! use rfc6455::keepalive::{Action, KeepAlive, KeepAliveConfig};
//!
//! let secs = Duration::from_secs;
//! let config = KeepAliveConfig { interval: secs(30), timeout: secs(10), max_missed: 1 };
//! let mut keepalive = KeepAlive::new(config, secs(0));
//!
//! // Nothing is due before 30 s of silence.
//! assert_eq!(keepalive.poll(secs(5)), Action::Wait);
//! assert_eq!(keepalive.poll_timeout(), Some(secs(30)));
//! // The peer talked at 20 s: the next ping moves to 50 s.
//! keepalive.received(secs(20));
//! assert_eq!(keepalive.poll_timeout(), Some(secs(50)));
//! // At 50 s a ping is due; send it (payload: a sequence number), then wait 10 s more.
//! assert!(matches!(keepalive.poll(secs(50)), Action::SendPing(_)));
//! assert_eq!(keepalive.poll_timeout(), Some(secs(60)));
//! // Silence until 60 s: the peer is dead, 40 s after it was last heard from.
//! match keepalive.poll(secs(60)) {
//!     Action::TimedOut(timeout) => {
//!         assert_eq!(timeout.silent_for, secs(40));
//!         assert_eq!(timeout.close_code().0, 1006);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(keepalive.poll_timeout(), None); // nothing more to do: drop the socket
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::time::Duration;

use crate::close::CloseCode;
#[cfg(feature = "alloc")]
use crate::connection::{Closed, Connection, Event, State};

/// When to ping and when to give up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeepAliveConfig {
    /// Receive-side silence after which a ping is sent (default 30 s).
    pub interval: Duration,
    /// How long to wait for any byte after a ping before it counts as missed (default 10 s).
    pub timeout: Duration,
    /// Missed pings in a row after which the peer is dead (default 1; 0 counts as 1). After
    /// each missed ping but the last, another ping is sent at once. With `timeout` equal to
    /// `interval` this reads "dead after `max_missed` unanswered pings, one per interval".
    pub max_missed: u32,
}

impl Default for KeepAliveConfig {
    fn default() -> Self {
        KeepAliveConfig {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_missed: 1,
        }
    }
}

impl KeepAliveConfig {
    /// The longest time a dead peer can go unnoticed, if polled on time:
    /// `interval + max_missed * timeout`.
    pub fn max_silence(&self) -> Duration {
        let missed = self.max_missed.max(1);
        self.interval
            .saturating_add(self.timeout.checked_mul(missed).unwrap_or(Duration::MAX))
    }
}

/// What the caller should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Action {
    /// Nothing; call again at [`KeepAlive::poll_timeout`] or when something arrives.
    Wait,
    /// Send a ping with this payload (a sequence number, big-endian), e.g. with
    /// `Connection::send_ping`.
    SendPing([u8; 4]),
    /// The peer is dead: close the transport without a closing handshake and report the
    /// connection as closed abnormally.
    TimedOut(Timeout),
}

/// The peer stayed silent through the configured number of pings.
///
/// For the application this is an abnormal closure: [`close_code`](Self::close_code) is
/// [`CloseCode::ABNORMAL`] (1006), which is never sent on the wire and is
/// [retryable](CloseCode::is_retryable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timeout {
    /// How long nothing had been received when the peer was declared dead.
    pub silent_for: Duration,
    /// The pings that went unanswered.
    pub missed: u32,
}

impl Timeout {
    /// [`CloseCode::ABNORMAL`]: the connection ended without a closing handshake.
    pub const fn close_code(&self) -> CloseCode {
        CloseCode::ABNORMAL
    }

    /// The timeout as the [`Event::Closed`] a dropped transport would have produced, so one
    /// code path handles both.
    #[cfg(feature = "alloc")]
    pub fn to_event(&self) -> Event {
        Event::Closed(Closed {
            code: self.close_code(),
            reason: alloc::format!("{self}"),
        })
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "keep-alive timeout: nothing received for {} ms, {} ping(s) unanswered",
            self.silent_for.as_millis(),
            self.missed
        )
    }
}

/// An unanswered ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outstanding {
    /// When it counts as missed.
    deadline: Duration,
    /// Pings missed before it.
    missed: u32,
}

/// The keep-alive state of one connection. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct KeepAlive {
    config: KeepAliveConfig,
    /// The last proof of life.
    last_seen: Duration,
    /// The latest `now` seen: time never goes backwards for us.
    clock: Duration,
    outstanding: Option<Outstanding>,
    /// Pings asked for so far: the next payload.
    sequence: u32,
    dead: bool,
    /// [`Connection::bytes_received`] at the last [`drive`](Self::drive).
    #[cfg(feature = "alloc")]
    seen_bytes: u64,
}

impl KeepAlive {
    /// Start watching a connection that opened (or was last heard from) at `now`.
    pub fn new(config: KeepAliveConfig, now: Duration) -> Self {
        KeepAlive {
            config,
            last_seen: now,
            clock: now,
            outstanding: None,
            sequence: 0,
            dead: false,
            #[cfg(feature = "alloc")]
            seen_bytes: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KeepAliveConfig {
        &self.config
    }

    /// Record proof of life at `now`: bytes (any frame, not only a pong) arrived from the
    /// peer. Clears any outstanding ping.
    pub fn received(&mut self, now: Duration) {
        if self.dead {
            return;
        }
        let now = self.tick(now);
        self.last_seen = now;
        self.outstanding = None;
    }

    /// When the peer was last heard from.
    pub fn last_seen(&self) -> Duration {
        self.last_seen
    }

    /// Whether a ping is waiting for an answer.
    pub fn is_awaiting_pong(&self) -> bool {
        self.outstanding.is_some()
    }

    /// Whether the peer was declared dead.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// When [`poll`](Self::poll) next has something to do (on the caller's time scale);
    /// `None` once the peer is dead. Calling earlier is harmless; calling later only delays
    /// the ping or the verdict.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.dead {
            return None;
        }
        Some(match self.outstanding {
            Some(ping) => ping.deadline,
            None => self.last_seen.saturating_add(self.config.interval),
        })
    }

    /// Advance to `now`: ask for a ping when the peer has been quiet for the interval, count
    /// a ping as missed when its timeout passed, and report the peer dead after
    /// [`max_missed`](KeepAliveConfig::max_missed) of them.
    ///
    /// A caller that wakes up late (after a suspend) gets a ping first, never an immediate
    /// verdict: the peer is given `timeout` to answer from the moment the ping is sent.
    pub fn poll(&mut self, now: Duration) -> Action {
        if self.dead {
            return Action::Wait;
        }
        let now = self.tick(now);
        match self.outstanding {
            None if now >= self.last_seen.saturating_add(self.config.interval) => self.ping(now, 0),
            Some(ping) if now >= ping.deadline => {
                let missed = ping.missed.saturating_add(1);
                if missed >= self.config.max_missed.max(1) {
                    self.dead = true;
                    self.outstanding = None;
                    Action::TimedOut(Timeout {
                        silent_for: now.saturating_sub(self.last_seen),
                        missed,
                    })
                } else {
                    self.ping(now, missed)
                }
            }
            _ => Action::Wait,
        }
    }

    /// [`poll`](Self::poll) for a [`Connection`] (feature `alloc`): counts the bytes the
    /// connection received since the last call as proof of life, queues due pings on it, and
    /// returns the [`Timeout`] when the peer is dead. Call it after feeding the connection
    /// and whenever [`poll_timeout`](Self::poll_timeout) is reached; then write the
    /// connection's pending output. Before each ping (the peer was quiet for a whole
    /// interval) it calls [`Connection::shrink_buffers`], so idle connections hold little
    /// memory.
    ///
    /// A connection that is [`State::Closing`] gets no pings, but the deadline still runs:
    /// a peer that never answers our close frame times out too. A [`State::Closed`]
    /// connection is left alone.
    ///
    /// ```
    /// use core::time::Duration;
    /// use rfc6455::connection::{Config, Connection};
    /// use rfc6455::keepalive::{KeepAlive, KeepAliveConfig};
    ///
    /// let secs = Duration::from_secs;
    /// let mut conn = Connection::upgraded_server(Config::default());
    /// let config = KeepAliveConfig { interval: secs(30), timeout: secs(10), max_missed: 1 };
    /// let mut keepalive = KeepAlive::new(config, secs(0));
    ///
    /// assert_eq!(keepalive.drive(&mut conn, secs(30)), None);
    /// assert_eq!(conn.pending_output_chunk(), b"\x89\x04\0\0\0\0"); // ping #0, to be written
    /// conn.advance_output(6);
    /// conn.receive(b"\x8a\x84\0\0\0\0\0\0\0\0"); // the client's (masked) pong
    /// assert_eq!(keepalive.drive(&mut conn, secs(31)), None);
    /// assert!(!keepalive.is_awaiting_pong());
    /// // Then silence: a ping at 61 s, dead at 71 s.
    /// assert_eq!(keepalive.drive(&mut conn, secs(61)), None);
    /// let timeout = keepalive.drive(&mut conn, secs(71)).unwrap();
    /// assert_eq!(timeout.silent_for, secs(40));
    /// ```
    #[cfg(feature = "alloc")]
    pub fn drive(&mut self, conn: &mut Connection, now: Duration) -> Option<Timeout> {
        let bytes = conn.bytes_received();
        if bytes != self.seen_bytes {
            self.seen_bytes = bytes;
            self.received(now);
        }
        if conn.state() == State::Closed {
            return None;
        }
        match self.poll(now) {
            Action::Wait => None,
            Action::SendPing(payload) => {
                // The peer was quiet for a whole interval: give back buffer memory a busy
                // period left behind before the connection sits idle.
                conn.shrink_buffers();
                // Refused only while Closing: the deadline set above still applies.
                let _ = conn.send_ping(&payload);
                None
            }
            Action::TimedOut(timeout) => Some(timeout),
        }
    }

    fn tick(&mut self, now: Duration) -> Duration {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn ping(&mut self, now: Duration, missed: u32) -> Action {
        self.outstanding = Some(Outstanding {
            deadline: now.saturating_add(self.config.timeout),
            missed,
        });
        let payload = self.sequence.to_be_bytes();
        self.sequence = self.sequence.wrapping_add(1);
        Action::SendPing(payload)
    }
}
