//! RFC 6455 section 5.5.2: an endpoint MUST answer a ping with a pong (and MAY answer only the
//! most recent ping). While more than `Config::max_pending_output_for_pong` bytes are unsent,
//! the automatic pong is deferred, never dropped: the latest ping's payload is kept and its
//! pong queued as soon as the output drains to the bound. Expected bytes on the wire are
//! written out by hand from section 5.2, not produced by the crate's encoder.
#![cfg(feature = "std")]

mod support;
use support::{conn, counting, oracle};

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::Role;
use rfc6455::blocking;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Connection, Event, EventRef, Message};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const ROLES: [Role; 2] = [Role::Server, Role::Client];
const BOUND: usize = 64 << 10;

/// A ping as the peer of `receiver` writes it (masked towards a server).
fn ping(receiver: Role, payload: &[u8]) -> Vec<u8> {
    oracle::frame(receiver, oracle::b0(true, 0, 9), payload)
}

/// Frames `role` sent in `bytes`, as (first byte, unmasked payload), read by hand; a client's
/// must be masked, a server's not.
fn frames(role: Role, bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    oracle::decode_all(bytes, role == Role::Client)
}

/// Write `n` pending bytes (as a transport would) and return them.
fn write(conn: &mut Connection, n: usize) -> Vec<u8> {
    let bytes: Vec<u8> = conn
        .pending_output_slices()
        .flatten()
        .take(n)
        .copied()
        .collect();
    assert_eq!(bytes.len(), n);
    conn.advance_output(n);
    bytes
}

fn write_all(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    while conn.pending_output_len() > 0 {
        let n = conn.pending_output_len();
        wire.extend(write(conn, n));
    }
    wire
}

/// Feed one ping and check it comes out as an event.
fn receive_ping(conn: &mut Connection, payload: &[u8]) {
    conn.receive(&ping(conn.role(), payload));
    match conn.poll_event().unwrap() {
        Some(Event::Ping(p)) => assert_eq!(&p[..], payload),
        other => panic!("expected the ping, got {other:?}"),
    }
    assert_eq!(conn.poll_event(), Ok(None));
}

/// The header length of a `len`-byte frame from `role` (section 5.2).
fn header_len(role: Role, len: usize) -> usize {
    oracle::header_len(len, role == Role::Client)
}

#[test]
fn a_ping_behind_a_large_unsent_message_is_answered_once_the_message_is_written() {
    const MESSAGE: usize = 100_000;
    for role in ROLES {
        let mut conn = conn::open(role, Config::default(), [5; 32]);
        let data: Vec<u8> = (0..MESSAGE).map(|i| (i % 253) as u8).collect();
        conn.send_binary(&data).unwrap();
        let message_len = header_len(role, MESSAGE) + MESSAGE;
        assert_eq!(conn.pending_output_len(), message_len);

        receive_ping(&mut conn, b"are you there");
        // Over the bound: nothing is added yet.
        assert_eq!(conn.pending_output_len(), message_len, "{role:?}");

        // Write the message 10,000 bytes at a time: the pong is queued by the write that
        // brings the output down to the bound, and not before.
        let mut wire = Vec::new();
        let mut left = message_len;
        let pong_len = header_len(role, 13) + 13;
        while left > BOUND {
            let step = 10_000.min(left);
            wire.extend(write(&mut conn, step));
            left -= step;
            let expect = if left <= BOUND { left + pong_len } else { left };
            assert_eq!(conn.pending_output_len(), expect, "{role:?} at {left}");
        }
        wire.extend(write_all(&mut conn));
        assert_eq!(wire.len(), message_len + pong_len);
        let got = frames(role, &wire);
        assert_eq!(got.len(), 2, "{role:?}");
        assert_eq!((got[0].0, &got[0].1[..]), (0x82, &data[..]));
        assert_eq!((got[1].0, &got[1].1[..]), (0x8A, &b"are you there"[..]));
        if role == Role::Server {
            // Unmasked from a server: the exact bytes.
            assert_eq!(&wire[message_len..], b"\x8a\x0dare you there");
        } else {
            assert_eq!(
                wire[message_len + 1],
                0x80 | 13,
                "a client's pong is masked"
            );
        }
    }
}

#[test]
fn only_the_most_recent_deferred_ping_is_answered() {
    for role in ROLES {
        let mut conn = conn::open(role, Config::default(), [5; 32]);
        conn.send_binary(&vec![0u8; BOUND + 1]).unwrap();
        for p in [&b"first"[..], b"second", b"third"] {
            receive_ping(&mut conn, p);
        }
        let got = frames(role, &write_all(&mut conn));
        let ops: Vec<u8> = got.iter().map(|f| f.0).collect();
        assert_eq!(ops, [0x82, 0x8A], "{role:?}");
        assert_eq!(got[1].1, b"third");
    }
}

#[test]
fn the_write_that_reaches_the_bound_releases_the_deferred_pong() {
    // Deferred while over the bound by one byte; released by the one-byte write that meets
    // it; a later ping, over the bound again because of that pong, is deferred in turn and
    // answered too: two pongs, in order.
    for role in ROLES {
        let mut conn = conn::open(role, Config::default(), [5; 32]);
        conn.send_binary(&vec![0u8; BOUND + 1]).unwrap();
        receive_ping(&mut conn, b"old");
        let message_len = header_len(role, BOUND + 1) + BOUND + 1;
        let mut wire = write(&mut conn, message_len - BOUND - 1);
        assert_eq!(
            conn.pending_output_len(),
            BOUND + 1,
            "{role:?}: still deferred"
        );
        wire.extend(write(&mut conn, 1));
        let pong_len = header_len(role, 3) + 3;
        assert_eq!(conn.pending_output_len(), BOUND + pong_len, "{role:?}");
        receive_ping(&mut conn, b"new");
        assert_eq!(conn.pending_output_len(), BOUND + pong_len, "{role:?}");
        wire.extend(write_all(&mut conn));
        let got = frames(role, &wire);
        let pongs: Vec<&[u8]> = got
            .iter()
            .filter(|f| f.0 == 0x8A)
            .map(|f| &f.1[..])
            .collect();
        assert_eq!(pongs, [&b"old"[..], b"new"], "{role:?}");
    }
}

#[test]
fn ten_thousand_pings_while_the_peer_never_reads_cost_one_pending_pong() {
    for role in ROLES {
        let mut conn = conn::open(role, Config::default(), [5; 32]);
        conn.send_binary(&vec![7u8; BOUND]).unwrap();
        let payload = |i: usize| {
            let mut p = format!("ping {i:05} ").into_bytes();
            p.resize(125, b'.');
            p
        };
        // Pings answered at once until the output passes the bound.
        let mut answered = 0;
        while conn.pending_output_len() <= BOUND {
            receive_ping(&mut conn, &payload(answered));
            answered += 1;
        }
        let pending = conn.pending_output_len();
        receive_ping(&mut conn, &payload(answered));
        let live = counting::live();
        let mut allocs = 0;
        for i in answered + 1..answered + 10_000 {
            let frame = ping(role, &payload(i));
            // Count what the connection allocates, not what this loop does.
            let before = counting::allocs();
            conn.receive(&frame);
            let Ok(Some(EventRef::Ping(p))) = conn.poll_event_ref() else {
                panic!("{role:?}: ping {i} not delivered")
            };
            allocs += counting::allocs() - before;
            assert_eq!(p, &payload(i)[..]);
            assert_eq!(conn.pending_output_len(), pending, "{role:?}: ping {i}");
        }
        // One kept payload, reused: nothing allocated, nothing grown.
        assert_eq!(allocs, 0, "{role:?}");
        assert_eq!(counting::live(), live, "{role:?}");
        let got = frames(role, &write_all(&mut conn));
        let pongs: Vec<&Vec<u8>> = got.iter().filter(|f| f.0 == 0x8A).map(|f| &f.1).collect();
        assert_eq!(pongs.len(), answered + 1, "{role:?}");
        for (i, p) in pongs[..answered].iter().enumerate() {
            assert_eq!(**p, payload(i));
        }
        assert_eq!(
            *pongs[answered],
            payload(answered + 9_999),
            "the latest ping"
        );
    }
}

#[test]
fn a_deferred_pong_is_dropped_once_a_close_frame_is_queued() {
    for role in ROLES {
        for by_us in [true, false] {
            let mut conn = conn::open(role, Config::default(), [5; 32]);
            conn.send_binary(&vec![0u8; BOUND + 1]).unwrap();
            receive_ping(&mut conn, b"late");
            if by_us {
                conn.close(CloseCode::NORMAL, "").unwrap();
            } else {
                conn.receive(&oracle::frame(
                    role,
                    oracle::b0(true, 0, 8),
                    &1000u16.to_be_bytes(),
                ));
                assert!(matches!(conn.poll_event(), Ok(Some(Event::Closed(_)))));
            }
            let got = frames(role, &write_all(&mut conn));
            let ops: Vec<u8> = got.iter().map(|f| f.0).collect();
            // Nothing may follow a close frame (section 5.5.1).
            assert_eq!(ops, [0x82, 0x88], "{role:?} closed by us: {by_us}");
        }
    }
}

#[test]
fn without_auto_pong_nothing_is_deferred() {
    let mut config = Config::default();
    config.auto_pong = false;
    let mut conn = conn::open_server(config);
    conn.send_binary(&vec![0u8; BOUND + 1]).unwrap();
    receive_ping(&mut conn, b"x");
    let got = frames(Role::Server, &write_all(&mut conn));
    assert_eq!(got.len(), 1);
}

/// End to end over loopback TCP: a sans-IO echo loop that ignores `Event::Ping`, as most do.
/// The client writes a 64 KiB message and a ping before the server reads anything, so the
/// server sees the ping while its 64 KiB echo (over the bound by its header) is unsent. The
/// client must get the echo and then the pong.
#[test]
fn a_64_kib_echo_then_a_ping_end_to_end() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut io = stream.try_clone().unwrap();
        let mut ws = blocking::accept(stream).unwrap();
        sent_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        io.set_nonblocking(true).unwrap();
        let conn = ws.connection_mut();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut echoed = 0;
        while Instant::now() < deadline && !conn.should_close_transport() {
            // Read everything available, then handle every event, then write.
            loop {
                match io.read(conn.receive_buffer(64 << 10)) {
                    Ok(0) => {
                        conn.receive_eof();
                        break;
                    }
                    Ok(n) => conn.commit_received(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("server read: {e}"),
                }
            }
            while let Some(event) = conn.poll_event().unwrap() {
                if let Event::Message(message) = event {
                    conn.send(message).unwrap();
                    echoed += 1;
                }
            }
            while conn.pending_output_len() > 0 {
                match io.write(conn.pending_output_chunk()) {
                    Ok(n) => conn.advance_output(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("server write: {e}"),
                }
            }
            thread::sleep(Duration::from_millis(1));
        }
        echoed
    });

    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut ws = blocking::connect(stream, &format!("ws://{addr}/"), [3; 32]).unwrap();
    let data: Vec<u8> = (0..BOUND).map(|i| (i % 251) as u8).collect();
    ws.send_binary(&data).unwrap();
    ws.ping(b"still there?").unwrap();
    sent_tx.send(()).unwrap();
    match ws.read() {
        Ok(Event::Message(Message::Binary(b))) => assert!(b[..] == data[..], "echo differs"),
        other => panic!("expected the echo, got {other:?}"),
    }
    match ws.read() {
        Ok(Event::Pong(p)) => assert_eq!(&p[..], b"still there?"),
        other => panic!("expected the pong, got {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(ws.read(), Ok(Event::Closed(_))));
    assert_eq!(server.join().unwrap(), 1);
}
