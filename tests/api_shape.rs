//! The 1.0 API of the connection (issue 13): send backpressure, the owned upgrade request,
//! the output views, the configuration builder, the umbrella error and the lifecycle.
//! Expected bytes are read back with the hand-written decoder of `support/oracle.rs`.
#![cfg(feature = "std")]

mod support;

use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::{Buf, Bytes};
use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Config, Connection, DataKind, Event, EventRef, Message, ProtocolError, ReceiveMode, SendError,
    State,
};
use rfc6455::handshake::{BuildError, ClientRequest, HandshakeError, Limits, ServerResponse};
use support::oracle;

const REQUEST: &[u8] = b"GET /chat?room=7 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\nCookie: session=abc\r\n\
    Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n\r\n";

fn open(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::upgraded_server(config),
        Role::Client => Connection::upgraded_client(config, [9; 32]),
    }
}

fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    conn.write_to(&mut out).unwrap();
    out
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

// ---- The upgrade request --------------------------------------------------------------

#[test]
fn the_request_event_carries_the_request_and_it_outlives_the_decision() {
    let mut server = Connection::server(Config::default());
    let mut input = REQUEST.to_vec();
    input.extend_from_slice(&oracle::encode(0x81, Some([1, 2, 3, 4]), b"early"));
    server.receive(&input);
    assert_eq!(server.request(), None);
    let Some(Event::Request(request)) = server.poll_event().unwrap() else {
        panic!("no request event");
    };
    assert_eq!(server.request(), Some(&request));
    assert_eq!(request.head(), REQUEST);
    assert_eq!(request.target(), "/chat?room=7");
    assert_eq!((request.path(), request.query()), ("/chat", Some("room=7")));
    assert_eq!(request.host(), "example.com");
    assert_eq!(request.origin(), Some("https://example.com"));
    assert_eq!(request.header("cookie"), Some(&b"session=abc"[..]));
    assert_eq!(request.headers().count(), 8);
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["v2.chat", "v1.chat"]
    );
    // Waiting for the decision: nothing more is reported, the early frame waits.
    assert_eq!(server.poll_event().unwrap(), None);
    assert_eq!(server.pending_output_len(), 0);
    // The response borrows the request while the connection changes.
    let protocol = request.protocols().find(|p| p.starts_with("v1"));
    server
        .accept(&ServerResponse {
            protocol,
            ..ServerResponse::default()
        })
        .unwrap();
    assert_eq!(server.state(), State::Open);
    assert_eq!(server.request(), None);
    assert_eq!(request.path(), "/chat");
    let reply = String::from_utf8(drain(&mut server)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(reply.contains("\r\nSec-WebSocket-Protocol: v1.chat\r\n"));
    assert!(reply.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert_eq!(
        server.poll_event().unwrap(),
        Some(Event::Message(Message::Text("early".into())))
    );
    assert_eq!(
        server.accept(&ServerResponse::default()),
        Err(SendError::NoPendingRequest)
    );
    assert_eq!(server.reject(403, "no"), Err(SendError::NoPendingRequest));
}

#[test]
fn poll_event_ref_lends_the_same_request() {
    let mut server = Connection::server(Config::default());
    server.receive(REQUEST);
    let lent = match server.poll_event_ref().unwrap() {
        Some(EventRef::Request(request)) => request.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(Some(&lent), server.request());
    assert_eq!(lent.head(), REQUEST);
}

#[test]
fn no_decision_without_a_pending_request() {
    // Before the request is whole.
    let mut server = Connection::server(Config::default());
    server.receive(&REQUEST[..40]);
    assert_eq!(server.poll_event().unwrap(), None);
    assert_eq!(
        server.accept(&ServerResponse::default()),
        Err(SendError::NoPendingRequest)
    );
    assert_eq!(server.reject(400, "no"), Err(SendError::NoPendingRequest));
    assert_eq!(server.pending_output_len(), 0);
    // On connections that have no request to decide.
    let request = ClientRequest::new("example.com", "/");
    let mut client = Connection::client(Config::default(), [1; 32], &request).unwrap();
    let queued = client.pending_output_len();
    for conn in [
        &mut client,
        &mut Connection::upgraded_server(Config::default()),
    ] {
        assert_eq!(
            conn.accept(&ServerResponse::default()),
            Err(SendError::NoPendingRequest)
        );
        assert_eq!(conn.reject(400, "no"), Err(SendError::NoPendingRequest));
    }
    assert_eq!(client.pending_output_len(), queued);
}

#[test]
fn a_refused_response_leaves_the_request_pending() {
    let mut server = Connection::server(Config::default());
    server.receive(REQUEST);
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(Event::Request(_))
    ));
    let unoffered = ServerResponse {
        protocol: Some("v3.chat"),
        ..ServerResponse::default()
    };
    assert_eq!(
        server.accept(&unoffered),
        Err(SendError::Handshake(BuildError::ProtocolNotOffered))
    );
    assert_eq!(server.pending_output_len(), 0);
    assert_eq!(server.state(), State::Connecting);
    assert!(server.request().is_some());
    server.reject(403, "Forbidden").unwrap();
    assert_eq!(server.state(), State::Closed);
    let reply = drain(&mut server);
    assert!(reply.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    assert!(server.should_close_transport());
}

#[test]
fn the_handshake_limits_come_from_the_config() {
    let limits = Limits {
        max_head_bytes: 64,
        ..Limits::new()
    };
    let mut server = Connection::server(Config::new().handshake_limits(limits));
    server.receive(REQUEST);
    let err = server.poll_event().unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Handshake(HandshakeError::HeadTooLarge { .. })
    ));
    assert_eq!((err.close_code(), err.http_status()), (None, Some(431)));
    assert!(drain(&mut server).starts_with(b"HTTP/1.1 431 "));
    // The same limit on the client side, for the server's response.
    let request = ClientRequest::new("example.com", "/");
    let mut client =
        Connection::client(Config::new().handshake_limits(limits), [1; 32], &request).unwrap();
    drain(&mut client);
    client.receive(&[b'a'; 100]);
    assert!(matches!(
        client.poll_event(),
        Err(ProtocolError::Handshake(
            HandshakeError::HeadTooLarge { .. }
        ))
    ));
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

// ---- Config ---------------------------------------------------------------------------

#[test]
fn each_builder_method_sets_its_own_field() {
    let d = Config::default();
    assert_eq!(Config::new(), d);
    let limits = Limits {
        max_headers: 3,
        max_head_bytes: 99,
    };
    let c = Config::new()
        .max_message_size(11)
        .max_frame_size(12)
        .max_queued_output(13)
        .auto_pong(false)
        .max_pending_output_for_pong(14)
        .receive_mode(ReceiveMode::Stream)
        .active_buffer_capacity(15)
        .idle_buffer_capacity(16)
        .handshake_limits(limits);
    assert_eq!(
        (c.max_message_size, c.max_frame_size, c.max_queued_output),
        (11, 12, 13)
    );
    assert_eq!(
        (c.auto_pong, c.max_pending_output_for_pong, c.receive_mode),
        (false, 14, ReceiveMode::Stream)
    );
    assert_eq!(
        (
            c.active_buffer_capacity,
            c.idle_buffer_capacity,
            c.handshake_limits
        ),
        (15, 16, limits)
    );
    // The defaults the docs state.
    assert_eq!(
        (d.max_message_size, d.max_frame_size, d.max_queued_output),
        (64 << 20, 16 << 20, 1 << 20)
    );
    assert_eq!(
        (d.auto_pong, d.max_pending_output_for_pong, d.receive_mode),
        (true, 64 << 10, ReceiveMode::Messages)
    );
    assert_eq!(
        (
            d.active_buffer_capacity,
            d.idle_buffer_capacity,
            d.handshake_limits
        ),
        (128 << 10, 512, Limits::new())
    );
}

#[test]
fn the_config_reaches_the_connection() {
    // Every setting the connection keeps, observed through its behaviour.
    let mut conn = Connection::upgraded_server(Config::new().max_message_size(10));
    conn.receive(&oracle::encode(0x82, Some([1; 4]), &[0; 11]));
    assert!(matches!(
        conn.poll_event(),
        Err(ProtocolError::MessageTooLarge { size: 11, max: 10 })
    ));
    let mut conn = Connection::upgraded_server(Config::new().max_frame_size(10));
    conn.receive(&oracle::encode(0x82, Some([1; 4]), &[0; 11]));
    assert_eq!(
        conn.poll_event().unwrap_err().close_code(),
        Some(CloseCode::TOO_BIG)
    );
    let mut conn = Connection::upgraded_server(Config::new().auto_pong(false));
    conn.receive(&oracle::encode(0x89, Some([1; 4]), b"x"));
    assert!(matches!(conn.poll_event().unwrap(), Some(Event::Ping(_))));
    assert_eq!(conn.pending_output_len(), 0);
    let mut conn = Connection::upgraded_server(Config::new().receive_mode(ReceiveMode::Stream));
    conn.receive(&oracle::encode(0x82, Some([1; 4]), b"abc"));
    assert!(matches!(conn.poll_event().unwrap(), Some(Event::Chunk(_))));
}

// ---- Errors ---------------------------------------------------------------------------

#[test]
fn every_layer_error_converts_to_the_umbrella_one() {
    let too_big = ProtocolError::MessageTooLarge { size: 2, max: 1 };
    let e = rfc6455::Error::from(too_big);
    assert_eq!(e, rfc6455::Error::Protocol(too_big));
    assert_eq!(
        (e.close_code(), e.http_status()),
        (Some(CloseCode::TOO_BIG), None)
    );
    assert_eq!(e.to_string(), too_big.to_string());
    // A failed handshake has one place, whichever layer reported it.
    let hs = HandshakeError::UnsupportedVersion;
    assert_eq!(
        rfc6455::Error::from(ProtocolError::Handshake(hs)),
        rfc6455::Error::Handshake(hs)
    );
    assert_eq!(rfc6455::Error::from(hs).http_status(), Some(426));
    assert_eq!(rfc6455::Error::from(hs).close_code(), None);
    assert_eq!(ProtocolError::Handshake(hs).close_code(), None);
    let send = SendError::FragmentOrder;
    assert_eq!(rfc6455::Error::from(send), rfc6455::Error::Send(send));
    assert_eq!(rfc6455::Error::from(send).close_code(), None);
    let build = BuildError::ProtocolNotOffered;
    assert_eq!(rfc6455::Error::from(build), rfc6455::Error::Build(build));
    let url = rfc6455::handshake::parse_ws_url("http://x/").unwrap_err();
    assert_eq!(rfc6455::Error::from(url), rfc6455::Error::Url(url));
    let wrapped = rfc6455::Error::from(send);
    let source = std::error::Error::source(&wrapped).unwrap();
    assert_eq!(source.to_string(), send.to_string());
}

// ---- Lifecycle ------------------------------------------------------------------------

#[test]
fn each_state_allows_what_it_should() {
    // Connecting: nothing may be sent.
    let request = ClientRequest::new("example.com", "/");
    let mut client = Connection::client(Config::default(), [1; 32], &request).unwrap();
    assert_eq!(
        client.send_ping(b""),
        Err(SendError::NotOpen(State::Connecting))
    );
    assert_eq!(
        client.close(CloseCode::NORMAL, ""),
        Err(SendError::NotOpen(State::Connecting))
    );
    for role in [Role::Server, Role::Client] {
        let masked = role == Role::Server; // what the peer sends
        let key = masked.then_some([3, 1, 4, 1]);
        // Closing: we sent our close; data still arrives, nothing more may be sent.
        let mut conn = open(role, Config::default());
        conn.close(CloseCode::NORMAL, "done").unwrap();
        assert_eq!(conn.state(), State::Closing);
        assert_eq!(
            conn.close(CloseCode::NORMAL, ""),
            Err(SendError::NotOpen(State::Closing))
        );
        assert_eq!(conn.send_text("x"), Err(SendError::NotOpen(State::Closing)));
        assert_eq!(conn.send_pong(b""), Err(SendError::NotOpen(State::Closing)));
        conn.receive(&oracle::encode(0x82, key, b"late"));
        assert!(matches!(
            conn.poll_event().unwrap(),
            Some(Event::Message(_))
        ));
        conn.receive(&oracle::encode(0x88, key, &oracle::close_payload(1000, "")));
        assert!(matches!(conn.poll_event().unwrap(), Some(Event::Closed(_))));
        assert_eq!(conn.state(), State::Closed);
        drain(&mut conn);
        // RFC 6455 7.1.1: the server closes the TCP connection first; the client waits.
        assert_eq!(conn.should_close_transport(), role == Role::Server);
        conn.receive_eof();
        assert_eq!(
            conn.poll_event().unwrap(),
            None,
            "no 1006 after a clean close"
        );
        assert!(conn.should_close_transport());
        // The peer's close first: answered, and then nothing more may be sent.
        let mut conn = open(role, Config::default());
        conn.receive(&oracle::encode(0x88, key, &oracle::close_payload(1001, "")));
        assert!(matches!(conn.poll_event().unwrap(), Some(Event::Closed(_))));
        assert_eq!(
            conn.close(CloseCode::NORMAL, ""),
            Err(SendError::NotOpen(State::Closed))
        );
        let wire = drain(&mut conn);
        assert_eq!(
            oracle::decode_all(&wire, role == Role::Client),
            vec![(0x88, oracle::close_payload(1001, ""))]
        );
        // The transport ends first: 1006, and the transport can go.
        let mut conn = open(role, Config::default());
        conn.receive_eof();
        match conn.poll_event().unwrap() {
            Some(Event::Closed(closed)) => assert_eq!(closed.code, CloseCode::ABNORMAL),
            other => panic!("{other:?}"),
        }
        assert!(conn.should_close_transport());
        assert_eq!(
            drain(&mut conn),
            b"",
            "nothing is sent after the transport ended"
        );
        // A failure: the close frame goes out, then the transport.
        let mut conn = open(role, Config::default());
        conn.receive(&oracle::encode(0x80, key, b"orphan"));
        assert_eq!(
            conn.poll_event(),
            Err(ProtocolError::UnexpectedContinuation)
        );
        assert!(
            !conn.should_close_transport(),
            "the close frame is not written yet"
        );
        drain(&mut conn);
        assert!(conn.should_close_transport());
        conn.receive(&oracle::encode(0x82, key, b"ignored"));
        assert_eq!(conn.poll_event().unwrap(), None);
    }
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

// ---- Gaps the mutation baseline found -------------------------------------------------

#[test]
fn the_connection_keeps_the_config_it_was_built_with() {
    let config = Config::new()
        .max_frame_size(1234)
        .max_queued_output(99)
        .receive_mode(ReceiveMode::Stream);
    assert_eq!(Connection::upgraded_server(config).config(), &config);
    assert_eq!(
        Connection::upgraded_client(config, [1; 32]).config(),
        &config
    );
    assert_eq!(Connection::server(config).config(), &config);
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

#[test]
fn a_client_accepts_an_extension_it_offered() {
    let request = ClientRequest {
        extensions: &["x-foo"],
        ..ClientRequest::new("example.com", "/")
    };
    let mut client = Connection::client(Config::default(), [7; 32], &request).unwrap();
    let sent = String::from_utf8(drain(&mut client)).unwrap();
    assert!(sent.contains("\r\nSec-WebSocket-Extensions: x-foo\r\n"));
    let mut server = Connection::server(Config::default());
    server.receive(sent.as_bytes());
    let Some(Event::Request(offer)) = server.poll_event().unwrap() else {
        panic!("no request");
    };
    assert_eq!(
        offer.extensions().map(|e| e.name()).collect::<Vec<_>>(),
        ["x-foo"]
    );
    server
        .accept(&ServerResponse {
            extensions: &["x-foo"],
            ..ServerResponse::default()
        })
        .unwrap();
    client.receive(&drain(&mut server));
    match client.poll_event().unwrap() {
        Some(Event::Accepted(accepted)) => {
            assert_eq!(accepted.extensions.as_deref(), Some("x-foo"));
            assert_eq!(accepted.protocol, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.state(), State::Open);
}

#[test]
fn should_close_transport_for_each_way_of_ending() {
    for role in [Role::Server, Role::Client] {
        let key = (role == Role::Server).then_some([3, 1, 4, 1]);
        // Open, and closing: never.
        let mut conn = open(role, Config::default());
        assert!(!conn.should_close_transport());
        conn.close(CloseCode::NORMAL, "").unwrap();
        drain(&mut conn);
        assert!(!conn.should_close_transport(), "{role:?} closing");
        // Failed: both roles, once the close frame is written.
        let mut conn = open(role, Config::default());
        conn.receive(&oracle::encode(0x83, key, b""));
        conn.poll_event().unwrap_err();
        assert!(!conn.should_close_transport());
        drain(&mut conn);
        assert!(conn.should_close_transport(), "{role:?} failed");
        // The transport ended: both roles.
        let mut conn = open(role, Config::default());
        conn.receive_eof();
        assert!(matches!(conn.poll_event().unwrap(), Some(Event::Closed(_))));
        assert!(conn.should_close_transport(), "{role:?} ended");
    }
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
