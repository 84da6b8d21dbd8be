//! The chat_server example: the page over plain HTTP on the same port, broadcast to every
//! open client, and the keep-alive dropping a client that stopped answering.
#![cfg(feature = "std")]

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{self, Error, WebSocket};
use rfc6455::close::CloseCode;
use rfc6455::connection::{Event, Message};
use rfc6455::keepalive::KeepAliveConfig;

const KEEPALIVE: KeepAliveConfig = KeepAliveConfig {
    interval: Duration::from_millis(200),
    timeout: Duration::from_millis(600),
    max_missed: 1,
};

fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || chat_server::serve(listener, KEEPALIVE));
    addr
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
    let addr = start();
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
    let addr = start();
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

#[test]
fn idle_clients_are_pinged_and_dead_ones_dropped() {
    let addr = start();
    let mut live = join(addr);
    // A client that vanished: its socket stays open but nothing is read or answered.
    let dead = join(addr).into_inner();
    let joined = Instant::now();
    let watcher = thread::spawn(move || {
        let mut dead = dead;
        let mut received = Vec::new();
        dead.read_to_end(&mut received).unwrap();
        (joined.elapsed(), received)
    });

    // The live client answers every ping (automatically, on read) and stays.
    let mut pings = 0;
    while joined.elapsed() < KEEPALIVE.max_silence() * 2 {
        if let Event::Ping(_) = live.read().unwrap() {
            pings += 1;
        }
    }
    assert!(pings >= 3, "{pings} pings in {:?}", joined.elapsed());

    // The dead one got one ping (sequence number 0), then the end of the stream.
    let (gone, received) = watcher.join().unwrap();
    assert_eq!(received, [0x89, 0x04, 0, 0, 0, 0]);
    assert!(gone >= KEEPALIVE.max_silence(), "{gone:?}");
    assert!(
        gone < KEEPALIVE.max_silence() + Duration::from_millis(1500),
        "{gone:?}"
    );

    // The room still works for the live client.
    live.send_text("still here").unwrap();
    assert_eq!(next_text(&mut live), "still here");
}
