//! The 1.0 API of the connection's send side (issue 13): send backpressure, the output
//! views (io slices, `bytes::Buf`, `write_to`), the received bytes not yet consumed, and the
//! README's sans-IO loop over loopback TCP. Expected bytes are read back with the
//! hand-written decoder of `support/oracle.rs`.
#![cfg(feature = "std")]

mod support;

use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::{Buf, Bytes};
use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Connection, DataKind, Event, Message, SendError};
use rfc6455::handshake::{ClientRequest, ServerResponse};
use support::conn::{self, take_output as drain};
use support::oracle;

/// An open connection in `role` (a client draws its keys from `[9; 32]`).
fn open(role: Role, config: Config) -> Connection {
    conn::open(role, config, [9; 32])
}

/// The header length of a `len`-byte frame from `role` (section 5.2).
fn header_len(role: Role, len: usize) -> usize {
    oracle::header_len(len, role == Role::Client)
}

// ---- Backpressure -------------------------------------------------------------------

#[test]
fn a_send_past_the_queue_bound_is_refused_and_queues_nothing() {
    for role in [Role::Server, Role::Client] {
        let mut conn = open(role, Config::new().max_queued_output(1000));
        conn.send_binary(&[1; 600]).unwrap();
        let queued = 600 + header_len(role, 600);
        assert_eq!(conn.pending_output_len(), queued);
        let before: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
        let refused = SendError::QueueFull {
            queued,
            frame: 600 + header_len(role, 600),
            max: 1000,
        };
        assert_eq!(conn.send_binary(&[2; 600]), Err(refused));
        assert_eq!(conn.send_text(&"x".repeat(600)), Err(refused));
        assert_eq!(
            conn.send(Message::Binary(Bytes::from(vec![3; 600]))),
            Err(refused)
        );
        assert_eq!(
            conn.send_fragment(DataKind::Binary, &[4; 600], false),
            Err(refused)
        );
        let after: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
        assert_eq!(before, after, "{role:?}: a refused send queued something");
        // Exactly at the bound is accepted; one byte more is not.
        let room = (0..1000)
            .rev()
            .find(|&p| queued + p + header_len(role, p) <= 1000)
            .unwrap();
        let mut probe = open(role, Config::new().max_queued_output(1000));
        probe.send_binary(&[1; 600]).unwrap();
        assert!(matches!(
            probe.send_binary(&vec![0; room + 1]),
            Err(SendError::QueueFull { .. })
        ));
        probe.send_binary(&vec![0; room]).unwrap();
        assert_eq!(probe.pending_output_len(), 1000, "{role:?}");
        // Pings and pongs count too; the close frame does not.
        assert!(matches!(
            probe.send_ping(b"p"),
            Err(SendError::QueueFull { .. })
        ));
        assert!(matches!(
            probe.send_pong(b"p"),
            Err(SendError::QueueFull { .. })
        ));
        probe.close(CloseCode::NORMAL, "bye").unwrap();
        assert!(probe.pending_output_len() > 1000);
    }
}

/// `try_send` refuses what `send` refuses, queues nothing then, and hands the message back
/// as it was given (text stays text), so it can be sent again once the output drains.
#[test]
fn a_refused_try_send_hands_the_message_back() {
    for role in [Role::Server, Role::Client] {
        let mut conn = open(role, Config::new().max_queued_output(1000));
        conn.try_send(Message::Binary(Bytes::from(vec![1; 600])))
            .unwrap();
        let before: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
        let queued = 600 + header_len(role, 600);
        let refused = SendError::QueueFull {
            queued,
            frame: 5000 + header_len(role, 5000),
            max: 1000,
        };
        for message in [
            Message::Binary(Bytes::from(vec![2; 5000])),
            Message::from("é".repeat(2500)),
        ] {
            assert_eq!(conn.send(message.clone()), Err(refused), "{role:?}");
            let unsent = conn.try_send(message.clone()).unwrap_err();
            assert_eq!(unsent.error, refused, "{role:?}");
            assert_eq!(unsent.message, message, "{role:?}");
        }
        let after: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
        assert_eq!(before, after, "{role:?}: a refused send queued something");
        // Sent again once the output drains, it goes out as given.
        let unsent = conn.try_send(Message::from("é".repeat(2500))).unwrap_err();
        drain(&mut conn);
        conn.try_send(unsent.message).unwrap();
        let frames = oracle::decode_all(&drain(&mut conn), role == Role::Client);
        assert_eq!(frames, vec![(0x81, "é".repeat(2500).into_bytes())]);
        // Refused for other reasons, it comes back too.
        conn.send_fragment(DataKind::Binary, b"part", false)
            .unwrap();
        let unsent = conn.try_send(Message::from("late")).unwrap_err();
        assert_eq!(unsent.error, SendError::FragmentOrder);
        assert_eq!(unsent.message, Message::from("late"));
        assert_eq!(SendError::from(unsent.clone()), SendError::FragmentOrder);
        assert_eq!(
            unsent.to_string(),
            format!("message of 4 bytes not sent: {}", SendError::FragmentOrder)
        );
        let source = std::error::Error::source(&unsent).expect("the reason is the source");
        assert_eq!(source.to_string(), SendError::FragmentOrder.to_string());
        let umbrella: rfc6455::Error = unsent.into();
        assert_eq!(umbrella, rfc6455::Error::Send(SendError::FragmentOrder));
        conn.close(CloseCode::NORMAL, "").unwrap();
        let unsent = conn.try_send(Message::from("closed")).unwrap_err();
        assert!(matches!(unsent.error, SendError::NotOpen(_)), "{unsent}");
        assert_eq!(unsent.message, Message::from("closed"));
    }
}

#[test]
fn any_one_message_fits_an_empty_queue() {
    for role in [Role::Server, Role::Client] {
        let mut conn = open(role, Config::new().max_queued_output(100));
        conn.send_binary(&[7; 5000]).unwrap();
        let wire = drain(&mut conn);
        let frames = oracle::decode_all(&wire, role == Role::Client);
        assert_eq!(frames, vec![(0x82, vec![7; 5000])]);
        conn.send(Message::Binary(Bytes::from(vec![8; 70_000])))
            .unwrap();
        assert_eq!(conn.pending_output_len(), 70_000 + header_len(role, 70_000));
    }
}

#[test]
fn the_unflushed_send_loop_of_the_report_stops_at_the_default_bound() {
    // The report: 10,000 `send_binary(&[0; 1000])` queued 10,040,000 bytes with no error.
    let mut conn = Connection::upgraded_server(Config::default());
    let mut accepted = 0;
    let mut first_refusal = None;
    for _ in 0..10_000 {
        match conn.send_binary(&[0; 1000]) {
            Ok(()) => accepted += 1,
            Err(e) => {
                first_refusal.get_or_insert(e);
            }
        }
    }
    let max = Config::default().max_queued_output;
    assert_eq!(max, 1 << 20);
    assert_eq!(accepted, max / 1004);
    assert_eq!(conn.pending_output_len(), accepted * 1004);
    assert_eq!(
        first_refusal,
        Some(SendError::QueueFull {
            queued: accepted * 1004,
            frame: 1004,
            max
        })
    );
    // Writing what is queued makes room again.
    let n = conn.pending_output_chunk().len().min(5000);
    conn.advance_output(n);
    conn.send_binary(&[0; 1000]).unwrap();
}

#[test]
fn a_refused_fragment_leaves_the_message_where_it_was() {
    let mut conn = open(Role::Server, Config::new().max_queued_output(200));
    conn.send_fragment(DataKind::Text, b"first ", false)
        .unwrap();
    conn.send_binary(&[0; 0]).unwrap_err(); // a new message may not start now
    conn.send_fragment(DataKind::Text, &[b'a'; 150], false)
        .unwrap();
    assert!(matches!(
        conn.send_fragment(DataKind::Text, &[b'b'; 150], true),
        Err(SendError::QueueFull { .. })
    ));
    let first = drain(&mut conn);
    // Still inside the text message: the next fragment is a continuation, and a whole
    // message is still refused.
    assert_eq!(conn.send_text("no"), Err(SendError::FragmentOrder));
    conn.send_fragment(DataKind::Text, b"last", true).unwrap();
    let second = drain(&mut conn);
    assert_eq!(
        oracle::decode_all(&first, false),
        vec![(0x01, b"first ".to_vec()), (0x00, vec![b'a'; 150])]
    );
    assert_eq!(
        oracle::decode_all(&second, false),
        vec![(0x80, b"last".to_vec())]
    );
    conn.send_text("now").unwrap();
}

// ---- Output views ---------------------------------------------------------------------

/// A server's output with a payload queued by reference between copied frames.
fn mixed_output() -> (Connection, Vec<u8>) {
    let mut conn = Connection::upgraded_server(Config::default());
    conn.send_text("before").unwrap();
    conn.send(Message::Binary(Bytes::from(vec![5; 10_000])))
        .unwrap();
    conn.send_text("after").unwrap();
    let mut expected = oracle::encode(0x81, None, b"before");
    expected.extend(oracle::encode(0x82, None, &[5; 10_000]));
    expected.extend(oracle::encode(0x81, None, b"after"));
    (conn, expected)
}

#[test]
fn io_slices_cover_the_pending_output_in_order() {
    let (conn, expected) = mixed_output();
    let mut slots = [IoSlice::new(&[]); 8];
    let n = conn.pending_output_io_slices(&mut slots);
    assert!(n >= 2, "the shared payload is its own slice");
    let joined: Vec<u8> = slots[..n].iter().flat_map(|s| s.iter().copied()).collect();
    assert_eq!(joined, expected);
    // A short array takes the first slices only.
    let mut one = [IoSlice::new(&[]); 1];
    assert_eq!(conn.pending_output_io_slices(&mut one), 1);
    assert_eq!(&*one[0], conn.pending_output_chunk());
}

#[test]
fn the_buf_view_writes_everything_and_reports_it() {
    for step in [1, 7, 4096, usize::MAX] {
        let (mut conn, expected) = mixed_output();
        let mut written = Vec::new();
        let mut buf = conn.pending_output_buf();
        assert_eq!(buf.remaining(), expected.len());
        while buf.has_remaining() {
            let n = buf.chunk().len().min(step);
            assert!(n > 0);
            written.extend_from_slice(&buf.chunk()[..n]);
            buf.advance(n);
        }
        assert_eq!(written, expected, "step {step}");
        assert_eq!(conn.pending_output_len(), 0);
    }
    let (mut conn, expected) = mixed_output();
    let mut out = Vec::new();
    let mut buf = conn.pending_output_buf();
    while buf.has_remaining() {
        let mut slots = [IoSlice::new(&[]); 4];
        let n = buf.chunks_vectored(&mut slots);
        let wrote = out.write_vectored(&slots[..n]).unwrap();
        buf.advance(wrote);
    }
    assert_eq!(out, expected);
}

#[test]
#[should_panic(expected = "past the")]
fn the_buf_view_refuses_to_advance_past_its_end() {
    let (mut conn, expected) = mixed_output();
    conn.pending_output_buf().advance(expected.len() + 1);
}

#[test]
fn the_buf_view_lets_a_deferred_pong_through() {
    let config = Config::new().max_pending_output_for_pong(100);
    let mut conn = Connection::upgraded_server(config);
    conn.send_binary(&[1; 1000]).unwrap();
    conn.receive(&oracle::encode(0x89, Some([9, 8, 7, 6]), b"are you there"));
    assert!(matches!(conn.poll_event().unwrap(), Some(Event::Ping(_))));
    assert_eq!(conn.pending_output_len(), 1004, "the pong waits");
    let mut written = Vec::new();
    let mut buf = conn.pending_output_buf();
    while buf.has_remaining() {
        let n = buf.chunk().len().min(300);
        written.extend_from_slice(&buf.chunk()[..n]);
        buf.advance(n);
    }
    let frames = oracle::decode_all(&written, false);
    assert_eq!(
        frames,
        vec![(0x82, vec![1; 1000]), (0x8A, b"are you there".to_vec())]
    );
}

// ---- The README's sans-IO loop ----------------------------------------------------------

/// The server loop of the README's "Sans-IO" snippet, verbatim but for the comments.
fn serve(mut socket: TcpStream) -> std::io::Result<()> {
    let mut conn = Connection::server(Config::default());
    loop {
        match socket.read(conn.receive_buffer(64 << 10))? {
            0 => conn.receive_eof(),
            n => conn.commit_received(n),
        }
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Request(request))) => {
                    let protocol = request.protocols().find(|p| *p == "chat");
                    let _ = conn.accept(&ServerResponse {
                        protocol,
                        ..Default::default()
                    });
                }
                Ok(Some(Event::Message(message))) => {
                    let _ = conn.send(message);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => eprintln!("{e}"),
            }
        }
        conn.write_to(&mut socket)?;
        if conn.should_close_transport() {
            return Ok(());
        }
    }
}

#[test]
fn the_readme_loop_echoes_a_4_mib_message_answers_pings_and_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        serve(socket)
    });
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = ClientRequest {
        protocols: &["chat"],
        ..ClientRequest::new("127.0.0.1", "/")
    };
    let mut ws =
        rfc6455::blocking::connect_with(stream, Config::default(), [5; 32], &request).unwrap();
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    ws.send_binary(&big).unwrap();
    ws.ping(b"still there?").unwrap();
    let mut got_pong = false;
    let echoed = loop {
        match ws.read().unwrap() {
            Event::Pong(p) => {
                assert_eq!(&p[..], b"still there?");
                got_pong = true;
            }
            Event::Message(Message::Binary(b)) => break b,
            other => panic!("{other:?}"),
        }
    };
    assert!(echoed == big, "the echo differs");
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    loop {
        match ws.read() {
            Ok(Event::Closed(closed)) => assert_eq!(closed.code, CloseCode::NORMAL),
            Ok(Event::Pong(_)) => got_pong = true,
            Ok(other) => panic!("{other:?}"),
            Err(_) => break,
        }
    }
    assert!(got_pong);
    server.join().unwrap().unwrap();
}

#[test]
fn pending_input_counts_what_no_event_consumed() {
    let mut conn = Connection::upgraded_server(Config::default());
    let first = oracle::encode(0x82, Some([1, 2, 3, 4]), &[9; 300]);
    let second = oracle::encode(0x81, Some([4, 3, 2, 1]), b"tail");
    conn.receive(&first[..100]);
    assert_eq!(conn.poll_event().unwrap(), None);
    assert_eq!(conn.pending_input_len(), 100, "a frame still arriving");
    conn.receive(&first[100..]);
    conn.receive(&second[..3]);
    assert!(matches!(
        conn.poll_event().unwrap(),
        Some(Event::Message(_))
    ));
    assert_eq!(conn.pending_input_len(), 3, "the next frame's first bytes");
    conn.receive(&second[3..]);
    assert_eq!(conn.pending_input_len(), second.len());
    assert!(matches!(
        conn.poll_event().unwrap(),
        Some(Event::Message(_))
    ));
    assert_eq!(conn.pending_input_len(), 0);
    // Dropped after the peer's close.
    conn.receive(&oracle::encode(0x88, Some([1; 4]), &[]));
    conn.receive(&[0x82, 0x80]);
    assert!(matches!(conn.poll_event().unwrap(), Some(Event::Closed(_))));
    conn.receive(&[0x82]);
    assert_eq!(conn.pending_input_len(), 0);
}

/// A writer that takes at most `step` bytes per call.
struct Trickle {
    out: Vec<u8>,
    step: usize,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_to_returns_the_bytes_it_wrote() {
    let (mut conn, expected) = mixed_output();
    let mut socket = Trickle {
        out: Vec::new(),
        step: 1000,
    };
    assert_eq!(conn.write_to(&mut socket).unwrap(), expected.len());
    assert_eq!(socket.out, expected);
    assert_eq!(conn.write_to(&mut socket).unwrap(), 0, "nothing left");
}

/// A writer that takes up to `step` bytes per call and logs which call it was:
/// `true` for `write_vectored`.
struct Calls {
    out: Vec<u8>,
    step: usize,
    vectored: Vec<bool>,
}

impl Calls {
    fn new(step: usize) -> Self {
        Calls {
            out: Vec::new(),
            step,
            vectored: Vec::new(),
        }
    }
}

impl Write for Calls {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.vectored.push(false);
        let n = buf.len().min(self.step);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        self.vectored.push(true);
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(self.step - n);
            self.out.extend_from_slice(&buf[..take]);
            n += take;
            if n == self.step {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_to_writes_one_slice_plainly_and_several_vectored() {
    // Copied frames only: one slice, plain writes (a `send` on a socket), even when short.
    let mut conn = Connection::upgraded_server(Config::default());
    conn.send_text("one").unwrap();
    conn.send_binary(&[9; 300]).unwrap();
    let mut expected = oracle::encode(0x81, None, b"one");
    expected.extend(oracle::encode(0x82, None, &[9; 300]));
    let mut socket = Calls::new(100);
    assert_eq!(conn.write_to(&mut socket).unwrap(), expected.len());
    assert_eq!(socket.out, expected);
    assert_eq!(
        socket.vectored, [false; 4],
        "four plain writes of up to 100 bytes"
    );

    // A payload queued by reference: several slices, vectored, until one is left.
    let (mut conn, expected) = mixed_output();
    let mut socket = Calls::new(5006);
    assert_eq!(conn.write_to(&mut socket).unwrap(), expected.len());
    assert_eq!(socket.out, expected);
    // 8 + 4 bytes in the buffer, 10,000 by reference, 7 in the buffer: two vectored writes
    // of 5,006 bytes end at the shared payload's end, and the last frame is one slice.
    assert_eq!(socket.vectored, [true, true, false]);
}

#[test]
fn the_queue_bound_counts_each_length_form_exactly() {
    // A payload in each length form (7-bit, 16-bit, 64-bit) exactly filling the room left,
    // then one byte more: the header length of each form is counted as RFC 6455 5.2 writes it.
    for role in [Role::Server, Role::Client] {
        for payload in [0, 100, 125, 126, 1000, 65_535, 65_536, 70_000] {
            let first = 10;
            let queued = first + header_len(role, first);
            let max = queued + payload + header_len(role, payload);
            let mut conn = open(role, Config::new().max_queued_output(max));
            conn.send_binary(&vec![1; first]).unwrap();
            conn.send_binary(&vec![2; payload]).unwrap();
            assert_eq!(conn.pending_output_len(), max, "{role:?} {payload}");
            let mut conn = open(role, Config::new().max_queued_output(max - 1));
            conn.send_binary(&vec![1; first]).unwrap();
            assert_eq!(
                conn.send_binary(&vec![2; payload]),
                Err(SendError::QueueFull {
                    queued,
                    frame: payload + header_len(role, payload),
                    max: max - 1
                }),
                "{role:?} {payload}"
            );
        }
    }
}
