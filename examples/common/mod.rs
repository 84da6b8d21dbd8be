//! Code shared by the examples: the echo server loop, the echo client check, randomness
//! from the operating system, and the monotonic clock handed to keep-alive and backoff.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{self, Error, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Event, Message};
#[cfg(feature = "deflate")]
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{ClientRequest, ServerResponse, parse_ws_url};

/// 32 bytes from the OS for the handshake nonce and masking keys.
pub fn seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .expect("reading /dev/urandom");
    seed
}

/// The examples' connection settings: the defaults, with permessage-deflate offered
/// (client) and accepted (server) unless `RFC6455_DEFLATE=0` is set or the crate is built
/// without the `deflate` feature.
#[cfg(feature = "deflate")]
pub fn config() -> Config {
    let deflate = std::env::var("RFC6455_DEFLATE").map_or(true, |v| v != "0");
    Config::new().deflate(DeflateConfig::new().enabled(deflate))
}

/// The examples' connection settings: the defaults (built without the `deflate` feature).
#[cfg(not(feature = "deflate"))]
pub fn config() -> Config {
    Config::new()
}

/// A client handshake for `url` with [`config`].
pub fn connect<S: Read + Write>(stream: S, url: &str) -> Result<WebSocket<S>, Error> {
    let url = parse_ws_url(url)?;
    let request = ClientRequest::new(url.authority, url.resource);
    blocking::connect_with(stream, config(), seed(), &request)
}

/// A random `u64` from the OS, e.g. for backoff jitter.
pub fn random_u64() -> u64 {
    let seed = seed();
    u64::from_le_bytes([
        seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7],
    ])
}

/// Monotonic time since the process first asked: the `now` of keep-alive and backoff.
pub fn now() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Where an example reads the time: [`now`] when it runs, a [`ManualClock`] in its tests, so
/// that keep-alive and backoff decisions can be checked without waiting for them.
pub type Clock = Arc<dyn Fn() -> Duration + Send + Sync>;

/// The [`Clock`] of a running example: [`now`].
pub fn system_clock() -> Clock {
    Arc::new(now)
}

/// A clock that only moves when told to (for tests); clones share the time.
#[derive(Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// The time now.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }

    /// Move the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).expect("less than 584 years");
        self.0.fetch_add(nanos, Ordering::SeqCst);
    }

    /// This clock as a [`Clock`].
    pub fn clock(&self) -> Clock {
        let this = self.clone();
        Arc::new(move || this.now())
    }
}

/// A socket read timeout that wakes us at `deadline` when it is `now` (both on one clock's
/// scale): at least 1 ms, since a zero timeout is refused; 1 s when there is no deadline.
pub fn timeout_until(deadline: Option<Duration>, now: Duration) -> Duration {
    deadline
        .map_or(Duration::from_secs(1), |d| d.saturating_sub(now))
        .max(Duration::from_millis(1))
}

/// Whether an I/O error is a read timeout (the kind differs between platforms).
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Accept connections forever, one thread each.
pub fn serve(listener: TcpListener) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || {
                    if let Err(e) = echo(stream) {
                        eprintln!("echo_server: connection ended: {e}");
                    }
                });
            }
            Err(e) => eprintln!("echo_server: accept failed: {e}"),
        }
    }
}

/// Echo every message on one connection until it closes.
pub fn echo(stream: TcpStream) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    // A client that stalls mid-handshake or mid-frame cannot hold a thread forever.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut ws = blocking::accept_with(stream, config(), |_| ServerResponse::default())?;
    let result = loop {
        match ws.read() {
            Ok(Event::Message(message)) => {
                if let Err(e) = ws.send(message) {
                    break Err(e);
                }
            }
            Ok(Event::Closed(_)) | Err(Error::Closed) => break Ok(()),
            Ok(_) => {} // pings are answered by the connection; pongs need nothing
            Err(e) => break Err(e),
        }
    };
    linger_close(ws.into_inner());
    result
}

/// Close the TCP connection without losing our last bytes: a close with unread input
/// would send a reset, which can discard the close frame before the peer reads it.
pub fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// The echo client's check against `url`: text, binary, a 70000-byte binary message, a
/// ping, then a clean close. `Ok` only if every step happened as expected.
pub fn echo_client(url: &str) -> Result<(), String> {
    let addr = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("not a ws:// URL: {url}"))?;
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut ws = connect(stream, url).map_err(|e| format!("handshake: {e}"))?;
    println!("connected to {url}");
    #[cfg(feature = "deflate")]
    println!("permessage-deflate: {:?}", ws.connection().deflate_params());

    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    let checks: [(&str, Message); 3] = [
        ("text \"hello\"", Message::Text("hello".into())),
        ("binary [1, 2, 3]", Message::Binary(vec![1u8, 2, 3].into())),
        ("binary of 70000 bytes", Message::Binary(big.into())),
    ];
    for (what, message) in checks {
        ws.send(message.clone())
            .map_err(|e| format!("send {what}: {e}"))?;
        match ws.read().map_err(|e| format!("read echo of {what}: {e}"))? {
            Event::Message(echoed) if echoed == message => println!("echoed: {what}"),
            other => return Err(format!("expected the echo of {what}, got {other:?}")),
        }
    }

    ws.ping(b"demo ping").map_err(|e| format!("ping: {e}"))?;
    loop {
        match ws.read().map_err(|e| format!("waiting for pong: {e}"))? {
            Event::Pong(payload) if &payload[..] == b"demo ping" => break,
            Event::Pong(other) => return Err(format!("pong with wrong payload {other:?}")),
            Event::Ping(_) => {}
            other => return Err(format!("expected a pong, got {other:?}")),
        }
    }
    println!("pong received");

    ws.close(CloseCode::NORMAL, "done")
        .map_err(|e| format!("close: {e}"))?;
    match ws.read().map_err(|e| format!("waiting for close: {e}"))? {
        Event::Closed(closed) if closed.code == CloseCode::NORMAL => {}
        other => return Err(format!("expected the close reply, got {other:?}")),
    }
    // The server closes TCP first; we see the end of the stream.
    match ws.read() {
        Err(Error::Closed) => {}
        other => return Err(format!("expected the server to close TCP, got {other:?}")),
    }
    let mut stream = ws.into_inner();
    let _ = stream.flush();
    println!("closed cleanly (1000)");
    Ok(())
}

/// Connect to `url`, which may carry a path and query, for the Autobahn client.
pub fn open(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    let addr = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or(Error::from(rfc6455::handshake::UrlError::Scheme))?;
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    connect(stream, url)
}
