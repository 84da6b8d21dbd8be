//! A client that stays connected: heartbeats find a dead server, backoff with jitter paces
//! the reconnects, and every state change is printed.
//!
//! `cargo run --release --example reconnecting_client -- ws://127.0.0.1:8080/ws [PING_MS] [TIMEOUT_MS]`
//!
//! Try it against `chat_server`: stop the server, start it again, and watch. The client
//! stops when the server closes with a code that says not to retry (e.g. 1000, 1008).
//!
//! Time, waiting and randomness come from an [`Env`]: the system's in `main`, a clock the
//! tests move by hand (and waits that only move it) in `tests/reconnecting_client.rs`.
pub mod common;

use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rfc6455::backoff::{Backoff, BackoffConfig, Reconnect};
use rfc6455::blocking::{self, Error, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::{Event, Message};
use rfc6455::handshake::parse_ws_url;
use rfc6455::keepalive::{KeepAlive, KeepAliveConfig};

/// A change of the client's state, as reported to the caller of [`run`].
#[derive(Debug)]
pub enum Change {
    Connecting { attempt: u32 },
    Failed(String),
    Open,
    Message(String),
    Closed { code: CloseCode, reason: String },
    Waiting(Duration),
    Stopped(Reconnect),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Connecting { attempt } => write!(f, "connecting (attempt {attempt})"),
            Change::Failed(error) => write!(f, "failed: {error}"),
            Change::Open => write!(f, "open"),
            Change::Message(text) => write!(f, "message: {text}"),
            Change::Closed { code, reason } => write!(f, "closed: {code} {reason}"),
            Change::Waiting(delay) => write!(f, "reconnecting in {:.2} s", delay.as_secs_f64()),
            Change::Stopped(Reconnect::DoNotRetry(code)) => {
                write!(f, "stopped: close code {code} says not to retry")
            }
            Change::Stopped(why) => write!(f, "stopped: {why:?}"),
        }
    }
}

/// What [`run`] takes from the world besides the network.
pub trait Env {
    /// Monotonic time: keep-alive deadlines, and how long a connection stayed up.
    fn now(&self) -> Duration;
    /// Wait `delay` before the next attempt.
    fn sleep(&mut self, delay: Duration);
    /// A uniformly random `u64`, for the backoff's jitter.
    fn random(&mut self) -> u64;
}

/// The [`Env`] of the running example: the monotonic clock, a real sleep, the OS's randomness.
pub struct System;

impl Env for System {
    fn now(&self) -> Duration {
        common::now()
    }

    fn sleep(&mut self, delay: Duration) {
        std::thread::sleep(delay);
    }

    fn random(&mut self) -> u64 {
        common::random_u64()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let mut ms = |default| {
        Duration::from_millis(
            args.next()
                .map_or(default, |a| a.parse().expect("milliseconds")),
        )
    };
    let keepalive = KeepAliveConfig {
        interval: ms(15_000),
        timeout: ms(5_000),
        max_missed: 1,
    };
    let stopped = run(
        &url,
        keepalive,
        BackoffConfig::default(),
        System,
        |change| println!("{change}"),
    );
    std::process::exit(i32::from(
        stopped != Reconnect::DoNotRetry(CloseCode::NORMAL),
    ));
}

/// Connect to `url` and stay connected, reporting every change to `on`, until a close code
/// says not to retry or the policy gives up.
pub fn run(
    url: &str,
    keepalive: KeepAliveConfig,
    policy: BackoffConfig,
    mut env: impl Env,
    mut on: impl FnMut(Change),
) -> Reconnect {
    let mut backoff = Backoff::new(policy);
    loop {
        on(Change::Connecting {
            attempt: backoff.attempts() + 1,
        });
        let code = match open(url) {
            Ok(mut ws) => {
                // One instant for the backoff and the keep-alive, taken before the caller
                // hears of it: the handshake's bytes are the first proof of life.
                let opened = env.now();
                backoff.connected(opened);
                let mut alive = KeepAlive::new(keepalive, opened);
                let _ = alive.drive(ws.connection_mut(), opened); // nothing is due yet
                on(Change::Open);
                let (code, reason) = session(ws, alive, &env, &mut on);
                on(Change::Closed { code, reason });
                code
            }
            Err(e) => {
                on(Change::Failed(e.to_string())); // refused, unreachable, rejected
                CloseCode::ABNORMAL
            }
        };
        let (now, random) = (env.now(), env.random());
        match backoff.after_close(code, now, random) {
            Reconnect::After(delay) => {
                on(Change::Waiting(delay));
                env.sleep(delay);
            }
            stop => {
                on(Change::Stopped(stop));
                return stop;
            }
        }
    }
}

fn open(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    let parsed = parse_ws_url(url)?;
    let addr = (parsed.host, parsed.port)
        .to_socket_addrs()?
        .next()
        .ok_or(Error::from(rfc6455::handshake::UrlError::Host))?;
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?; // a server that never answers
    blocking::connect(stream, url, common::seed())
}

/// Print messages and keep the connection alive until it ends; returns how it ended.
fn session(
    mut ws: WebSocket<TcpStream>,
    mut keepalive: KeepAlive,
    env: &impl Env,
    on: &mut impl FnMut(Change),
) -> (CloseCode, String) {
    loop {
        if let Some(timeout) = keepalive.drive(ws.connection_mut(), env.now()) {
            return (timeout.close_code(), timeout.to_string()); // dropping the socket
        }
        let wait = common::timeout_until(keepalive.poll_timeout(), env.now());
        let result = ws
            .flush()
            .and_then(|()| Ok(ws.get_ref().set_read_timeout(Some(wait))?));
        match result.and_then(|()| ws.read()) {
            Ok(Event::Message(Message::Text(text))) => on(Change::Message(text.to_string())),
            Ok(Event::Message(Message::Binary(data))) => {
                on(Change::Message(format!("{} bytes", data.len())))
            }
            Ok(Event::Closed(closed)) => {
                common::linger_close(ws.into_inner()); // the server closes TCP first
                let reason = match closed.code {
                    CloseCode::ABNORMAL => "connection lost".into(), // EOF, no close frame
                    _ => closed.reason,
                };
                return (closed.code, reason);
            }
            Ok(_) => {} // pings are answered for us; pongs were counted as life
            Err(Error::Io(e)) if common::is_timeout(&e) => {} // time for the keep-alive
            Err(e) => return (CloseCode::ABNORMAL, e.to_string()),
        }
    }
}
