//! The reconnecting_client example against a server that misbehaves on purpose: it vanishes,
//! stays down, accepts and then goes silent, restarts with 1012, and finally says goodbye.
#![cfg(feature = "std")]

#[allow(dead_code)]
#[path = "../examples/reconnecting_client.rs"]
mod client;

use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use client::Change;
use rfc6455::backoff::{Backoff, BackoffConfig, Jitter, Reconnect};
use rfc6455::blocking::{self, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::Event;
use rfc6455::keepalive::KeepAliveConfig;

const KEEPALIVE: KeepAliveConfig = KeepAliveConfig {
    interval: Duration::from_millis(200),
    // Generous, so a loaded machine does not miss a pong of the live server below.
    timeout: Duration::from_millis(600),
    max_missed: 1,
};

fn policy(max_attempts: Option<u32>) -> BackoffConfig {
    BackoffConfig {
        base: Duration::from_millis(40),
        factor: 2.0,
        max_delay: Duration::from_millis(320),
        max_attempts,
        reset_after: Duration::from_secs(60),
        jitter: Jitter::Full,
        retry_other_codes: true,
    }
}

/// Changes until (and including) the first one `stop` accepts.
fn until(rx: &Receiver<Change>, stop: impl Fn(&Change) -> bool) -> Vec<Change> {
    let mut seen = Vec::new();
    loop {
        let change = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e} waiting; so far: {seen:?}"));
        let done = stop(&change);
        seen.push(change);
        if done {
            return seen;
        }
    }
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

/// Every wait is within the ceiling of its attempt (counted from the last reset).
fn check_waits(changes: &[Change], first_attempt: u32, config: BackoffConfig) -> u32 {
    let backoff = Backoff::new(config);
    let mut attempt = first_attempt;
    for change in changes {
        if let Change::Waiting(delay) = change {
            assert!(
                *delay <= backoff.ceiling(attempt),
                "attempt {attempt}: waited {delay:?}"
            );
            attempt += 1;
        }
    }
    attempt
}

#[test]
fn survives_a_vanishing_a_silent_and_a_restarting_server_then_stops_on_1000() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("ws://{addr}/ws");
    let (tx, rx) = channel();
    let runner = thread::spawn(move || {
        client::run(&url, KEEPALIVE, policy(None), client::System, |change| {
            let _ = tx.send(change);
        })
    });

    // 1. Connected; then the server process dies: no close frame, the port is closed.
    let mut ws = accept(&listener);
    until(&rx, |c| matches!(c, Change::Open));
    ws.send_text("one").unwrap();
    until(&rx, |c| matches!(c, Change::Message(m) if m == "one"));
    ws.get_ref().shutdown(Shutdown::Both).unwrap();
    drop((ws, listener));
    let lost = until(&rx, |c| matches!(c, Change::Closed { .. }));
    assert!(
        matches!(lost.last(), Some(Change::Closed { code, .. }) if *code == CloseCode::ABNORMAL)
    );

    // 2. Down for a while: attempts are refused and the waits grow within their ceilings.
    thread::sleep(Duration::from_millis(400));
    let listener = TcpListener::bind(addr).unwrap();
    let mut silent = accept(&listener);
    let back = until(&rx, |c| matches!(c, Change::Open));
    let refused = back
        .iter()
        .filter(|c| matches!(c, Change::Failed(_)))
        .count();
    assert!(refused >= 1, "no refused attempt while down: {back:?}");
    let attempts = check_waits(&back, 0, policy(None));
    assert_eq!(attempts as usize, refused + 1);
    assert!(
        matches!(back[back.len() - 2], Change::Connecting { attempt } if attempt == attempts + 1)
    );

    // 3. A server that accepts and then goes silent (a dropped NAT mapping, a frozen
    //    process): TCP stays up, pings go unanswered, the keep-alive gives up.
    let opened = Instant::now();
    let dead = until(&rx, |c| matches!(c, Change::Closed { .. }));
    let waited = opened.elapsed();
    match dead.last() {
        Some(Change::Closed { code, reason }) => {
            assert_eq!(*code, CloseCode::ABNORMAL);
            assert!(reason.contains("keep-alive timeout"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // (The client's clock started just before ours: allow a little slack.)
    assert!(
        waited + Duration::from_millis(50) >= KEEPALIVE.max_silence(),
        "{waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // The silent server did receive the ping (the client did not just give up).
    silent
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    assert!(matches!(silent.read(), Ok(Event::Ping(_))));
    drop(silent);

    // 4. A live server: pings are answered and the client stays, then a restart (1012).
    let mut live = accept(&listener);
    until(&rx, |c| matches!(c, Change::Open));
    let mut pings = 0;
    while pings < 3 {
        if let Ok(Event::Ping(_)) = live.read() {
            pings += 1;
        }
    }
    live.close(CloseCode::SERVICE_RESTART, "restarting")
        .unwrap();
    finish(live);
    let restarted = until(&rx, |c| matches!(c, Change::Waiting(_)));
    let closes: Vec<_> = restarted
        .iter()
        .filter_map(|c| match c {
            Change::Closed { code, reason } => Some((code.0, reason.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(1012, "restarting")], "{restarted:?}");

    // 5. Goodbye: 1000 means "do not reconnect".
    let mut last = accept(&listener);
    last.send_text("bye").unwrap();
    last.close(CloseCode::NORMAL, "done").unwrap();
    finish(last);
    let end = until(&rx, |c| matches!(c, Change::Stopped(_)));
    assert!(matches!(&end[end.len() - 3], Change::Message(m) if m == "bye"));
    assert!(matches!(&end[end.len() - 2], Change::Closed { code, .. } if code.0 == 1000));
    assert_eq!(
        runner.join().unwrap(),
        Reconnect::DoNotRetry(CloseCode::NORMAL)
    );
}

#[test]
fn gives_up_after_max_attempts_with_growing_waits() {
    // A port nobody listens on.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (tx, rx) = channel();
    let url = format!("ws://{addr}/");
    let stopped = client::run(&url, KEEPALIVE, policy(Some(3)), client::System, |c| {
        tx.send(c).unwrap()
    });
    assert_eq!(stopped, Reconnect::GiveUp { attempts: 3 });
    let changes: Vec<Change> = rx.try_iter().collect();
    let count = |f: fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
    assert_eq!(count(|c| matches!(c, Change::Connecting { .. })), 4);
    assert_eq!(count(|c| matches!(c, Change::Failed(_))), 4);
    assert_eq!(check_waits(&changes, 0, policy(Some(3))), 3);
    assert!(matches!(changes.last(), Some(Change::Stopped(_))));
}
