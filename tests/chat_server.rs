//! The chat_server example: the page over plain HTTP on the same port, broadcast to every
//! open client, and the keep-alive pinging idle clients and dropping one that stopped
//! answering. The server runs on a clock the tests move by hand: what it does at each instant
//! is checked exactly, and no assertion depends on how fast this machine is.
#![cfg(feature = "std")]

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;
mod support;
use support::time::ms;
use support::{conn, oracle};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chat_server::common::ManualClock;
use chat_server::{Env, Session};
use conn::take_output;
use oracle::client_frame;
use rfc6455::blocking::{self, Error, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Event, Message};
use rfc6455::frame::OpCode;
use rfc6455::keepalive::KeepAliveConfig;

const KEEPALIVE: KeepAliveConfig = KeepAliveConfig {
    interval: Duration::from_millis(200),
    timeout: Duration::from_millis(600),
    max_missed: 1,
};

/// A server on a hand-moved clock (at 0), and its log lines.
fn start() -> (SocketAddr, ManualClock, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let clock = ManualClock::default();
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let env = Env {
        now: clock.clock(),
        log: Arc::new(move |line| {
            let _ = tx.lock().unwrap().send(line);
        }),
    };
    thread::spawn(move || chat_server::serve(listener, KEEPALIVE, env));
    (addr, clock, rx)
}

/// Log lines until every one of `wanted` was seen (the client threads log in any order).
fn log_until(log: &Receiver<String>, wanted: &[&str]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    while !wanted.iter().all(|w| seen.iter().any(|line| line == w)) {
        let line = log
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e} waiting for {wanted:?}; so far: {seen:?}"));
        seen.push(line);
    }
    seen
}

/// Send a raw HTTP request and read the whole response (the server closes after it).
fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn join(addr: SocketAddr) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    blocking::connect(stream, &format!("ws://{addr}/ws"), [9; 32]).unwrap()
}

/// The next text message, skipping pings (which are answered automatically).
fn next_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match ws.read().unwrap() {
            Event::Message(Message::Text(text)) => return text.to_string(),
            Event::Ping(_) | Event::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

#[test]
fn serves_the_page_and_rejects_what_it_should() {
    let (addr, _, _) = start();
    let page = http(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body) = page.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/html"), "{head}");
    assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    assert!(body.contains("new WebSocket(url)") && body.contains("'/ws'"));

    let missing = http(addr, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
    // A WebSocket upgrade anywhere but /ws.
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    let elsewhere = http(
        addr,
        &format!("GET /chat HTTP/1.1\r\nHost: x\r\n{upgrade}{key}\r\n"),
    );
    assert!(elsewhere.starts_with("HTTP/1.1 404 "), "{elsewhere}");
    // Broken upgrades get the handshake's own answers.
    let no_key = http(
        addr,
        &format!("GET /ws HTTP/1.1\r\nHost: x\r\n{upgrade}\r\n"),
    );
    assert!(no_key.starts_with("HTTP/1.1 400 "), "{no_key}");
    let old = key.replace("13", "8");
    let version = http(
        addr,
        &format!("GET /ws HTTP/1.1\r\nHost: x\r\n{upgrade}{old}\r\n"),
    );
    assert!(version.starts_with("HTTP/1.1 426 "), "{version}");
    assert!(version.contains("Sec-WebSocket-Version: 13"), "{version}");
}

#[test]
fn every_message_goes_to_every_open_client() {
    let (addr, _, _) = start();
    let mut clients: Vec<_> = (0..3).map(|_| join(addr)).collect();
    // A client that saw its 101 is in the room: no message may be missed.
    clients[0].send_text("alice: hello").unwrap();
    for ws in &mut clients {
        assert_eq!(next_text(ws), "alice: hello");
    }
    clients[2].send_text("carol: hi").unwrap();
    for ws in &mut clients {
        assert_eq!(next_text(ws), "carol: hi");
    }
    // One leaves cleanly; the others go on.
    let mut carol = clients.pop().unwrap();
    carol.close(CloseCode::GOING_AWAY, "bye").unwrap();
    assert!(matches!(carol.read(), Ok(Event::Closed(c)) if c.code == CloseCode::GOING_AWAY));
    assert!(matches!(carol.read(), Err(Error::Closed)));
    clients[1].send_text("bob: still here").unwrap();
    for ws in &mut clients {
        assert_eq!(next_text(ws), "bob: still here");
    }
    // Binary messages are not relayed; a message over the 64 KiB chat limit is refused.
    clients[1].send_binary(b"\x00\x01").unwrap();
    clients[1].send_text(&"x".repeat(70_000)).unwrap();
    match clients[1].read() {
        Ok(Event::Closed(c)) => assert_eq!(c.code, CloseCode::TOO_BIG),
        other => panic!("{other:?}"),
    }
    clients[0].send_text("alice: anyone?").unwrap();
    assert_eq!(next_text(&mut clients[0]), "alice: anyone?");
}

/// A socket that counts the bytes read from it: what a client was sent on the wire.
#[cfg(feature = "deflate")]
struct Counting(TcpStream, usize);

#[cfg(feature = "deflate")]
impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1 += n;
        Ok(n)
    }
}

#[cfg(feature = "deflate")]
impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Each message is prepared once: compressed for the clients that negotiated
/// permessage-deflate, plain for the others, and the same for every client.
#[cfg(feature = "deflate")]
#[test]
fn the_room_compresses_for_deflate_clients_and_sends_plain_text_to_the_others() {
    use rfc6455::deflate::DeflateConfig;
    use rfc6455::handshake::ClientRequest;
    let (addr, _, _) = start();
    let deflate = Config::new().deflate(DeflateConfig::new().enabled(true));
    let mut clients: Vec<WebSocket<Counting>> = [deflate, deflate, Config::new()]
        .into_iter()
        .map(|config| {
            let stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let host = addr.to_string();
            let request = ClientRequest::new(&host, "/ws");
            blocking::connect_with(Counting(stream, 0), config, [9; 32], &request).unwrap()
        })
        .collect();
    // The plain client's first message waits for all three 101s (its own came last).
    let handshakes: Vec<usize> = clients.iter().map(|ws| ws.get_ref().1).collect();
    let mut sent = 0;
    for n in 0..3 {
        let text: String = (0..700)
            .map(|i| format!("{{\"line\":{n},\"id\":{i},\"price\":{}}},", i * 7 + n))
            .collect();
        sent += text.len();
        clients[2].send_text(&text).unwrap();
        for (i, ws) in clients.iter_mut().enumerate() {
            loop {
                match ws.read().unwrap() {
                    Event::Message(Message::Text(got)) => {
                        assert!(*got == *text, "client {i}, line {n}");
                        break;
                    }
                    Event::Ping(_) | Event::Pong(_) => {}
                    other => panic!("client {i}, line {n}: expected the line, got {other:?}"),
                }
            }
        }
    }
    let wire: Vec<usize> = clients
        .iter()
        .zip(&handshakes)
        .map(|(ws, h)| ws.get_ref().1 - h)
        .collect();
    // Compressed: the repetitive lines shrink several times over; plain: all of it.
    assert!(
        wire[0] < sent / 4 && wire[1] < sent / 4,
        "{wire:?} of {sent}"
    );
    assert_eq!(wire[0], wire[1], "the same compressed frames");
    assert!(wire[2] > sent, "{wire:?} of {sent}");
}

#[test]
fn idle_clients_are_pinged_and_dead_ones_dropped() {
    let (addr, clock, log) = start();
    let mut live = join(addr);
    let mut lines = log_until(&log, &["client 1 joined, 1 online"]);
    // A client that vanished: its socket stays open but nothing is read or answered.
    let mut dead = join(addr).into_inner();
    lines.extend(log_until(&log, &["client 2 joined, 2 online"]));

    // Both joined at 0. At 200 ms of silence both are pinged (sequence number 0).
    clock.advance(ms(200));
    let mut ping = [0u8; 6];
    dead.read_exact(&mut ping).unwrap();
    assert_eq!(ping, [0x89, 0x04, 0, 0, 0, 0]);
    // The live client answers (automatically, on read); the server sees the pong.
    assert!(matches!(live.read().unwrap(), Event::Ping(p) if p[..] == [0, 0, 0, 0]));
    lines.extend(log_until(&log, &["client 1 answered a ping"]));

    // At 800 ms the dead one's 600 ms are up: dropped, 800 ms after it was last heard from.
    // The live one, heard from at 200 ms, is pinged again (sequence number 1), not dropped.
    clock.advance(ms(600));
    let mut rest = Vec::new();
    dead.read_to_end(&mut rest).unwrap();
    assert_eq!(
        rest,
        [],
        "the dead client got only the one ping, then the end"
    );
    drop(dead); // the server logs the drop once it sees our end too (or after 2 s)
    assert!(matches!(live.read().unwrap(), Event::Ping(p) if p[..] == [0, 0, 0, 1]));
    let dropped = "client 2 dropped as dead (keep-alive timeout: nothing received for 800 ms, \
                   1 ping(s) unanswered), 1 online";
    // (A new batch of lines: the pong in it is the second one.)
    let wanted = [
        dropped,
        "client 1 pinged at 800 ms",
        "client 1 answered a ping",
    ];
    lines.extend(log_until(&log, &wanted));

    let of = |id: u64| -> Vec<&str> {
        let prefix = format!("client {id} ");
        let lines = lines.iter().filter(|l| l.starts_with(&prefix));
        lines.map(|l| &l[prefix.len()..]).collect()
    };
    // (The first two connections are numbered 1 and 2: the live one, then the dead one.)
    assert_eq!(
        of(2),
        ["joined, 2 online", "pinged at 200 ms", &dropped[9..]]
    );
    assert_eq!(
        of(1),
        [
            "joined, 1 online",
            "pinged at 200 ms",
            "answered a ping",
            "pinged at 800 ms",
            "answered a ping"
        ]
    );

    // The room still works for the live client.
    live.send_text("still here").unwrap();
    assert_eq!(next_text(&mut live), "still here");
}

#[test]
fn a_session_pings_after_the_interval_and_drops_after_the_timeout_to_the_millisecond() {
    let mut conn = conn::open_server(Config::default());
    let mut session = Session::new(KEEPALIVE, ms(1000)); // joined at 1 s
    assert_eq!(session.wake_at(), Some(ms(1200)));

    // Quiet until 1199 ms: nothing to do.
    let step = session.step(&mut conn, ms(1199));
    assert!(!step.pinged && step.dead.is_none() && step.ended.is_none());
    assert_eq!(take_output(&mut conn), []);
    // At 1200 ms: ping number 0, unmasked from the server (RFC 6455 5.5.2).
    assert!(session.step(&mut conn, ms(1200)).pinged);
    assert_eq!(take_output(&mut conn), [0x89, 0x04, 0, 0, 0, 0]);
    assert_eq!(session.wake_at(), Some(ms(1800)));

    // The pong arrives at 1500 ms, with a chat line: relayed, and the ping is settled.
    conn.receive(&client_frame(true, OpCode::Pong, &[0, 0, 0, 0]));
    conn.receive(&client_frame(true, OpCode::Text, b"hi"));
    let step = session.step(&mut conn, ms(1500));
    assert_eq!((step.pongs, step.pinged), (1, false));
    assert_eq!(
        step.texts.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["hi"]
    );
    assert!(step.dead.is_none());
    assert_eq!(session.wake_at(), Some(ms(1700)));

    // Silence again: ping number 1 at 1700 ms, not at 1699.
    assert!(!session.step(&mut conn, ms(1699)).pinged);
    assert!(session.step(&mut conn, ms(1700)).pinged);
    assert_eq!(take_output(&mut conn), [0x89, 0x04, 0, 0, 0, 1]);
    // No answer: alive at 2299 ms, dead at 2300, 800 ms after the last byte.
    let step = session.step(&mut conn, ms(2299));
    assert!(step.dead.is_none() && !step.pinged);
    let dead = session
        .step(&mut conn, ms(2300))
        .dead
        .expect("dead at 2300 ms");
    assert_eq!((dead.silent_for, dead.missed), (ms(800), 1));
    assert_eq!(take_output(&mut conn), [], "no close frame to a dead peer");
    assert_eq!(session.wake_at(), None);
}

#[test]
fn a_session_reports_a_close_and_traffic_counts_as_life() {
    let mut conn = conn::open_server(Config::default());
    let mut session = Session::new(KEEPALIVE, ms(0));
    // A client that talks every 150 ms is never pinged.
    for t in 1..=10 {
        conn.receive(&client_frame(true, OpCode::Text, b"."));
        let step = session.step(&mut conn, ms(150 * t));
        assert_eq!(
            (step.texts.len(), step.pinged),
            (1, false),
            "at {} ms",
            150 * t
        );
    }
    // 1001 with reason "bye": reported, and the close is answered (code 1001 echoed).
    conn.receive(&client_frame(true, OpCode::Close, b"\x03\xe9bye"));
    let step = session.step(&mut conn, ms(1600));
    assert_eq!(step.ended.as_deref(), Some("left (1001)"));
    assert!(step.dead.is_none());
    assert_eq!(take_output(&mut conn), [0x88, 0x02, 0x03, 0xe9]);
    assert!(conn.should_close_transport());
}
