//! The reconnecting_client example against a server that misbehaves on purpose: it vanishes,
//! stays down, accepts and then goes silent, restarts with 1012, and finally says goodbye.
//!
//! The client runs on a clock the test moves by hand, its backoff waits only move that clock
//! (each one released by the test), and its randomness is a fixed list: every wait, every
//! ping and the keep-alive's verdict are checked exactly against values worked out by hand
//! from the policy below, and no assertion depends on how fast this machine is. One test runs
//! the real environment and checks, coarsely, that it really waits.
#![cfg(feature = "std")]

#[allow(dead_code)]
#[path = "../examples/reconnecting_client.rs"]
mod client;
mod support;
use support::time::ms;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use client::Change;
use client::common::ManualClock;
use rfc6455::backoff::{BackoffConfig, Jitter, Reconnect};
use rfc6455::blocking::{self, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::Event;
use rfc6455::keepalive::KeepAliveConfig;

const KEEPALIVE: KeepAliveConfig = KeepAliveConfig {
    interval: Duration::from_millis(200),
    timeout: Duration::from_millis(600),
    max_missed: 1,
};

/// Ceilings 40, 80, 160, 320, 320, ... ms; reset after a minute up.
fn policy(max_attempts: Option<u32>, jitter: Jitter) -> BackoffConfig {
    BackoffConfig {
        base: Duration::from_millis(40),
        factor: 2.0,
        max_delay: Duration::from_millis(320),
        max_attempts,
        reset_after: Duration::from_secs(60),
        jitter,
        retry_other_codes: true,
    }
}

/// Random values that are exact fractions of 2^64: full jitter waits exactly that fraction of
/// the ceiling.
const HALF: u64 = 1 << 63;
const QUARTER: u64 = 1 << 62;
const THREE_QUARTERS: u64 = 3 << 62;

/// The waits the client slept, in order.
type Slept = Arc<Mutex<Vec<Duration>>>;

/// The client's world in a test: a hand-moved clock, waits that only move it (and, if gated,
/// block until the test releases them), and random values from a list.
struct TestEnv {
    clock: ManualClock,
    randoms: VecDeque<u64>,
    slept: Slept,
    gate: Option<Receiver<()>>,
}

impl client::Env for TestEnv {
    fn now(&self) -> Duration {
        self.clock.now()
    }

    fn sleep(&mut self, delay: Duration) {
        self.slept.lock().unwrap().push(delay);
        self.clock.advance(delay);
        if let Some(gate) = &self.gate {
            gate.recv().unwrap();
        }
    }

    fn random(&mut self) -> u64 {
        self.randoms
            .pop_front()
            .expect("the client drew more random values than planned")
    }
}

fn test_env(randoms: &[u64], gated: bool) -> (TestEnv, Slept, Option<Sender<()>>) {
    let slept = Arc::default();
    let (go, gate) = channel();
    let env = TestEnv {
        clock: ManualClock::default(),
        randoms: randoms.iter().copied().collect(),
        slept: Arc::clone(&slept),
        gate: gated.then_some(gate),
    };
    (env, slept, gated.then_some(go))
}

/// A change as a line, to compare sequences with hand-written ones.
fn show(change: &Change) -> String {
    match change {
        Change::Connecting { attempt } => format!("connecting {attempt}"),
        Change::Failed(_) => "failed".into(),
        Change::Open => "open".into(),
        Change::Message(text) => format!("message {text}"),
        Change::Closed { code, reason } => format!("closed {} {reason}", code.0),
        Change::Waiting(delay) => format!("wait {} us", delay.as_micros()),
        Change::Stopped(_) => "stopped".into(),
    }
}

/// Changes until (and including) the first one `stop` accepts, as lines.
fn until(rx: &Receiver<Change>, stop: impl Fn(&Change) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let change = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e} waiting; so far: {seen:?}"));
        seen.push(show(&change));
        if stop(&change) {
            return seen;
        }
    }
}

fn is_waiting(c: &Change) -> bool {
    matches!(c, Change::Waiting(_))
}

fn accept(listener: &TcpListener) -> WebSocket<TcpStream> {
    let (stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    blocking::accept(stream).unwrap()
}

/// Wait for the client's close reply, then close TCP as the server does.
fn finish(mut ws: WebSocket<TcpStream>) {
    loop {
        match ws.read() {
            Ok(Event::Closed(_)) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(ws.connection().should_close_transport());
}

/// The next event, which must be a ping with this payload (the pong goes out before it
/// returns).
fn expect_ping(ws: &mut WebSocket<TcpStream>, sequence: u32) {
    match ws.read() {
        Ok(Event::Ping(payload)) => assert_eq!(payload[..], sequence.to_be_bytes()),
        other => panic!("expected ping {sequence}, got {other:?}"),
    }
}

#[test]
fn survives_a_vanishing_a_silent_and_a_restarting_server_then_stops_on_1000() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("ws://{addr}/ws");
    let randoms = [HALF, THREE_QUARTERS, QUARTER, HALF, THREE_QUARTERS, HALF];
    let (env, slept, go) = test_env(&randoms, true);
    let (clock, go) = (env.clock.clone(), go.unwrap());
    let (tx, rx) = channel();
    let runner = thread::spawn(move || {
        client::run(&url, KEEPALIVE, policy(None, Jitter::Full), env, |change| {
            let _ = tx.send(change);
        })
    });

    // 1. Connected at 0; then the server process dies: no close frame, the port is closed.
    let mut ws = accept(&listener);
    ws.send_text("one").unwrap();
    let seen = until(&rx, |c| matches!(c, Change::Message(_)));
    assert_eq!(seen, ["connecting 1", "open", "message one"]);
    ws.get_ref().shutdown(Shutdown::Both).unwrap();
    drop((ws, listener));
    // Attempt 0 of the policy: half of 40 ms.
    let lost = until(&rx, is_waiting);
    assert_eq!(lost, ["closed 1006 connection lost", "wait 20000 us"]);

    // 2. Down for two attempts: refused, with waits of 3/4 of 80 ms and 1/4 of 160 ms.
    go.send(()).unwrap();
    assert_eq!(
        until(&rx, is_waiting),
        ["connecting 2", "failed", "wait 60000 us"]
    );
    go.send(()).unwrap();
    assert_eq!(
        until(&rx, is_waiting),
        ["connecting 3", "failed", "wait 40000 us"]
    );
    // Back up at 120 ms (20 + 60 + 40).
    let listener = TcpListener::bind(addr).unwrap();
    go.send(()).unwrap();
    let silent = accept(&listener);
    assert_eq!(
        until(&rx, |c| matches!(c, Change::Open)),
        ["connecting 4", "open"]
    );

    // 3. A server that accepts and then goes silent (a dropped NAT mapping, a frozen
    //    process): TCP stays up, the ping goes unanswered, the keep-alive gives up.
    //    At 320 ms (200 ms of silence) the client pings: a masked ping, payload 0.
    clock.advance(ms(200));
    let mut frame = [0u8; 10];
    let mut raw = silent.get_ref(); // read past the connection: nothing answers the ping
    raw.read_exact(&mut frame).unwrap();
    assert_eq!(
        frame[..2],
        [0x89, 0x84],
        "a masked ping of 4 bytes: {frame:?}"
    );
    let payload: Vec<u8> = (0..4).map(|i| frame[6 + i] ^ frame[2 + i]).collect();
    assert_eq!(payload, [0, 0, 0, 0]);
    //    At 920 ms the ping's 600 ms are up: dead, 800 ms after the last byte. The connection
    //    lasted 800 ms, far from the minute that resets the policy: attempt 3, 1/2 of 320 ms.
    clock.advance(ms(600));
    assert_eq!(
        until(&rx, is_waiting),
        [
            "closed 1006 keep-alive timeout: nothing received for 800 ms, 1 ping(s) unanswered",
            "wait 160000 us"
        ]
    );
    drop(silent);

    // 4. A live server, from 1080 ms: it answers the pings and the client stays.
    go.send(()).unwrap();
    let mut live = accept(&listener);
    assert_eq!(
        until(&rx, |c| matches!(c, Change::Open)),
        ["connecting 5", "open"]
    );
    clock.advance(ms(200));
    expect_ping(&mut live, 0); // answered: the pong is on its way before this returns
    live.send_text("are you there").unwrap();
    until(&rx, |c| matches!(c, Change::Message(_)));
    //    900 ms later: more than the 800 ms a peer may stay silent. A client that missed the
    //    pong (or the message) would give up here; this one pings again, once it has been
    //    quiet for 200 ms from when it read them: move the clock until it does.
    clock.advance(ms(900));
    live.get_ref().set_read_timeout(Some(ms(300))).unwrap();
    let mut waits = 0;
    let ping = loop {
        match live.read() {
            Err(blocking::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock && waits < 20 => {
                waits += 1;
                clock.advance(ms(200));
            }
            other => break other,
        }
    };
    assert!(
        matches!(&ping, Ok(Event::Ping(p)) if p[..] == [0, 0, 0, 1]),
        "{ping:?}"
    );
    live.get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    //    A minute later the server restarts (1012): the connection was up long enough to
    //    reset the policy, so the wait is attempt 0's again, 3/4 of 40 ms.
    clock.advance(Duration::from_secs(60));
    live.close(CloseCode::SERVICE_RESTART, "restarting")
        .unwrap();
    finish(live);
    assert_eq!(
        until(&rx, is_waiting),
        ["closed 1012 restarting", "wait 30000 us"]
    );

    // 5. Goodbye: 1000 means "do not reconnect".
    go.send(()).unwrap();
    let mut last = accept(&listener);
    last.send_text("bye").unwrap();
    last.close(CloseCode::NORMAL, "done").unwrap();
    finish(last);
    let end = until(&rx, |c| matches!(c, Change::Stopped(_)));
    assert_eq!(
        end,
        [
            "connecting 2",
            "open",
            "message bye",
            "closed 1000 done",
            "stopped"
        ]
    );
    assert_eq!(
        runner.join().unwrap(),
        Reconnect::DoNotRetry(CloseCode::NORMAL)
    );
    // It slept exactly what it said it would wait, and nothing else.
    assert_eq!(
        *slept.lock().unwrap(),
        [ms(20), ms(60), ms(40), ms(160), ms(30)]
    );
}

#[test]
fn gives_up_after_max_attempts_with_growing_waits() {
    // A port nobody listens on.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("ws://{addr}/");
    let (env, slept, _) = test_env(&[HALF; 4], false);
    let clock = env.clock.clone();
    let (tx, rx) = channel();
    let stopped = client::run(&url, KEEPALIVE, policy(Some(3), Jitter::Full), env, |c| {
        tx.send(c).unwrap()
    });
    assert_eq!(stopped, Reconnect::GiveUp { attempts: 3 });
    let changes: Vec<String> = rx.try_iter().map(|c| show(&c)).collect();
    // Half of 40, 80 and 160 ms; the fourth failure is the third in a row after the first.
    assert_eq!(
        changes,
        [
            "connecting 1",
            "failed",
            "wait 20000 us",
            "connecting 2",
            "failed",
            "wait 40000 us",
            "connecting 3",
            "failed",
            "wait 80000 us",
            "connecting 4",
            "failed",
            "stopped",
        ]
    );
    assert_eq!(*slept.lock().unwrap(), [ms(20), ms(40), ms(80)]);
    assert_eq!(clock.now(), ms(140));
}

/// The one wall-clock check: the real environment sleeps the waits it reports. Without
/// jitter they are 40 + 80 + 160 ms; a sleep never ends early, and 10 s of slack is for a
/// loaded machine.
#[test]
fn the_real_environment_really_waits() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("ws://{addr}/");
    let mut waits = Vec::new();
    let started = Instant::now();
    let stopped = client::run(
        &url,
        KEEPALIVE,
        policy(Some(3), Jitter::None),
        client::System,
        |c| {
            if let Change::Waiting(delay) = c {
                waits.push(delay);
                assert!(waits.len() <= 3, "more waits than max_attempts: {waits:?}");
            }
        },
    );
    let took = started.elapsed();
    assert_eq!(stopped, Reconnect::GiveUp { attempts: 3 });
    assert_eq!(waits, [ms(40), ms(80), ms(160)]);
    assert!(took >= ms(280), "{took:?}");
    assert!(took < ms(280) + Duration::from_secs(10), "{took:?}");
}
