//! Keep-alive: when pings are due, when the peer is dead, and driving a real connection.

use core::time::Duration;

use proptest::prelude::*;
use rfc6455::keepalive::{Action, KeepAlive, KeepAliveConfig, Timeout};

mod support;
#[cfg(feature = "alloc")]
use support::conn;
use support::time::ms;

fn config(interval: u64, timeout: u64, max_missed: u32) -> KeepAliveConfig {
    KeepAliveConfig {
        interval: ms(interval),
        timeout: ms(timeout),
        max_missed,
    }
}

#[test]
fn ping_after_interval_dead_after_timeout() {
    let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
    assert_eq!(ka.poll_timeout(), Some(ms(1000)));
    assert_eq!(ka.poll(ms(999)), Action::Wait);
    assert_eq!(ka.poll(ms(1000)), Action::SendPing([0, 0, 0, 0]));
    assert!(ka.is_awaiting_pong());
    assert_eq!(ka.poll_timeout(), Some(ms(1300)));
    assert_eq!(ka.poll(ms(1299)), Action::Wait);
    assert_eq!(
        ka.poll(ms(1300)),
        Action::TimedOut(Timeout {
            silent_for: ms(1300),
            missed: 1
        })
    );
    assert!(ka.is_dead());
    assert_eq!(ka.poll_timeout(), None);
    // Dead stays dead: no more pings, no second verdict, late bytes change nothing.
    assert_eq!(ka.poll(ms(5000)), Action::Wait);
    ka.received(ms(5001));
    assert!(ka.is_dead());
    assert_eq!(ka.poll(ms(9000)), Action::Wait);
}

#[test]
fn any_received_byte_postpones_the_ping_and_answers_it() {
    let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
    ka.received(ms(700));
    assert_eq!(ka.poll(ms(1000)), Action::Wait);
    assert_eq!(ka.poll_timeout(), Some(ms(1700)));
    assert_eq!(ka.poll(ms(1700)), Action::SendPing([0, 0, 0, 0]));
    // A data frame (not a pong) arriving during the wait counts.
    ka.received(ms(1800));
    assert!(!ka.is_awaiting_pong());
    assert_eq!(ka.poll(ms(2000)), Action::Wait);
    assert_eq!(ka.poll_timeout(), Some(ms(2800)));
    assert_eq!(ka.poll(ms(2800)), Action::SendPing([0, 0, 0, 1]));
    assert_eq!(ka.last_seen(), ms(1800));
}

#[test]
fn missed_pong_count_pings_again_each_timeout() {
    let cfg = config(1000, 500, 3);
    assert_eq!(cfg.max_silence(), ms(2500));
    let mut ka = KeepAlive::new(cfg, ms(0));
    let mut pings = Vec::new();
    let mut verdict = None;
    // Poll exactly when asked to, as an event loop would.
    while let Some(at) = ka.poll_timeout() {
        match ka.poll(at) {
            Action::SendPing(p) => pings.push((at, u32::from_be_bytes(p))),
            Action::TimedOut(t) => verdict = Some((at, t)),
            Action::Wait => panic!("woken at {at:?} for nothing"),
        }
    }
    assert_eq!(pings, [(ms(1000), 0), (ms(1500), 1), (ms(2000), 2)]);
    let (at, timeout) = verdict.unwrap();
    assert_eq!(at, ms(2500));
    assert_eq!(timeout.missed, 3);
    assert_eq!(timeout.silent_for, cfg.max_silence());
    assert_eq!(timeout.close_code().0, 1006);
    assert!(timeout.close_code().is_retryable());
}

#[test]
fn zero_max_missed_counts_as_one() {
    let mut ka = KeepAlive::new(config(100, 50, 0), ms(0));
    assert!(matches!(ka.poll(ms(100)), Action::SendPing(_)));
    assert!(matches!(ka.poll(ms(150)), Action::TimedOut(t) if t.missed == 1));
}

#[test]
fn a_late_wakeup_pings_before_any_verdict() {
    // The process was suspended for an hour: the peer gets a ping and a full timeout.
    let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
    assert!(matches!(ka.poll(ms(3_600_000)), Action::SendPing(_)));
    assert_eq!(ka.poll_timeout(), Some(ms(3_600_300)));
    ka.received(ms(3_600_100));
    assert_eq!(ka.poll(ms(3_600_300)), Action::Wait);
    assert!(!ka.is_dead());
}

#[test]
fn time_going_backwards_stands_still() {
    let mut ka = KeepAlive::new(config(1000, 300, 1), ms(5000));
    assert_eq!(ka.poll(ms(10)), Action::Wait);
    ka.received(ms(1)); // earlier than the start: counts as "now" = 5000
    assert_eq!(ka.last_seen(), ms(5000));
    assert!(matches!(ka.poll(ms(6000)), Action::SendPing(_)));
    // A stale timestamp cannot time the ping out early or late.
    assert_eq!(ka.poll(ms(100)), Action::Wait);
    assert!(matches!(ka.poll(ms(6300)), Action::TimedOut(_)));
}

#[test]
fn extreme_durations_do_not_overflow() {
    let cfg = KeepAliveConfig {
        interval: Duration::MAX,
        timeout: Duration::MAX,
        max_missed: u32::MAX,
    };
    assert_eq!(cfg.max_silence(), Duration::MAX);
    let mut ka = KeepAlive::new(cfg, Duration::MAX - ms(1));
    assert_eq!(ka.poll_timeout(), Some(Duration::MAX));
    assert!(matches!(ka.poll(Duration::MAX), Action::SendPing(_)));
    // The deadline saturates at Duration::MAX and is reached at once: a miss, ping again.
    assert_eq!(ka.poll(Duration::MAX), Action::SendPing(1u32.to_be_bytes()));
    assert!(!ka.is_dead());
}

proptest! {
    /// Whatever the schedule of received bytes and polls: the verdict never comes before
    /// `max_silence` of silence, and a poller that keeps to `poll_timeout` gets it exactly
    /// then.
    #[test]
    fn verdict_never_early_and_exact_when_polled_on_time(
        interval in 1u64..5000,
        timeout in 1u64..5000,
        max_missed in 1u32..5,
        steps in proptest::collection::vec((0u64..3000, any::<bool>()), 0..60),
    ) {
        let cfg = config(interval, timeout, max_missed);
        let mut ka = KeepAlive::new(cfg, ms(0));
        let mut now = ms(0);
        let mut last_rx = ms(0);
        for (advance, rx) in steps {
            now += ms(advance);
            if rx {
                ka.received(now);
                last_rx = now;
            }
            if let Action::TimedOut(t) = ka.poll(now) {
                prop_assert!(t.silent_for >= cfg.max_silence());
                prop_assert_eq!(t.silent_for, now - last_rx);
                return Ok(());
            }
        }
        // Then silence, polled exactly on time.
        let start = last_rx;
        loop {
            let at = ka.poll_timeout().unwrap();
            match ka.poll(at) {
                Action::TimedOut(t) => {
                    prop_assert!(at >= start + cfg.max_silence());
                    prop_assert_eq!(t.silent_for, at - start);
                    prop_assert_eq!(t.missed, max_missed);
                    // Not later than one full cycle after the last event we fed.
                    prop_assert!(at <= now.max(start) + cfg.max_silence());
                    break;
                }
                Action::SendPing(_) => {}
                Action::Wait => prop_assert!(false, "woken for nothing at {:?}", at),
            }
        }
    }
}

#[cfg(feature = "alloc")]
mod with_connection {
    use super::*;
    use crate::conn::{self, events, pump};
    use rfc6455::connection::{Config, Event, State};

    #[test]
    fn a_live_peer_never_times_out_and_a_silent_one_does_on_time() {
        let cfg = config(1000, 400, 2);
        let mut server = conn::open_server(Config::default());
        let mut client = conn::open_client(Config::default(), [7; 32]);
        let mut ka = KeepAlive::new(cfg, ms(0));
        let mut pings = 0;
        let mut last_ping = None;
        // An hour of an idle but live client, the server waking only when asked to.
        while pings < 3600 {
            let now = ka.poll_timeout().unwrap();
            assert_eq!(ka.drive(&mut server, now), None, "at {now:?}");
            assert!(
                server.pending_output_len() > 0,
                "woken at {now:?} without a ping"
            );
            // Each ping comes one interval after the previous pong arrived.
            if let Some(prev) = last_ping {
                assert_eq!(now - prev, ms(1030));
            }
            last_ping = Some(now);
            pings += 1;
            pump(&mut server, &mut client);
            assert!(matches!(events(&mut client)[..], [Event::Ping(_)]));
            pump(&mut client, &mut server); // the automatic pong
            assert!(matches!(events(&mut server)[..], [Event::Pong(_)]));
            // The pong arrives 30 ms later; the server notices on its next drive.
            assert_eq!(ka.drive(&mut server, now + ms(30)), None);
        }
        // The client vanishes (no FIN): pings go out and nothing comes back.
        let silent_since = ka.last_seen();
        let timeout = loop {
            let at = ka.poll_timeout().unwrap();
            if let Some(t) = ka.drive(&mut server, at) {
                break t;
            }
            server.advance_output(server.pending_output_len()); // lost on the wire
        };
        assert_eq!(timeout.silent_for, cfg.max_silence());
        assert_eq!(timeout.missed, 2);
        assert_eq!(server.state(), State::Open); // the caller drops the socket
        match timeout.to_event() {
            Event::Closed(closed) => {
                assert_eq!(closed.code.0, 1006);
                assert!(
                    closed.reason.contains("keep-alive timeout"),
                    "{}",
                    closed.reason
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(ka.last_seen() == silent_since);
    }

    #[test]
    fn bytes_of_an_unfinished_frame_count_as_life() {
        let mut server = conn::open_server(Config::default());
        let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
        assert_eq!(ka.drive(&mut server, ms(1000)), None);
        assert!(ka.is_awaiting_pong());
        // Two bytes of a frame header: no event yet, but the peer is there.
        server.receive(&[0x82, 0xFE]);
        assert_eq!(server.poll_event().unwrap(), None);
        assert_eq!(server.bytes_received(), 2);
        assert_eq!(ka.drive(&mut server, ms(1200)), None);
        assert!(!ka.is_awaiting_pong());
        assert_eq!(ka.poll_timeout(), Some(ms(2200)));
    }

    #[test]
    fn closing_gets_no_ping_but_still_times_out_and_closed_is_left_alone() {
        let mut server = conn::open_server(Config::default());
        server
            .close(rfc6455::close::CloseCode::GOING_AWAY, "bye")
            .unwrap();
        let queued = server.pending_output_len();
        let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
        assert_eq!(ka.drive(&mut server, ms(1000)), None);
        assert_eq!(server.pending_output_len(), queued, "no ping while Closing");
        assert!(ka.drive(&mut server, ms(1300)).is_some());

        let mut closed = conn::open_server(Config::default());
        closed.receive_eof();
        assert!(matches!(events(&mut closed)[..], [Event::Closed(_)]));
        let mut ka = KeepAlive::new(config(1000, 300, 1), ms(0));
        assert_eq!(ka.drive(&mut closed, ms(10_000)), None);
        assert_eq!(ka.drive(&mut closed, ms(20_000)), None);
        assert_eq!(closed.pending_output_len(), 0);
    }
}
