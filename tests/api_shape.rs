//! The 1.0 API of the connection (issue 13): the owned upgrade request, the configuration
//! builder, the umbrella error and the lifecycle. Expected bytes are read back with the
//! hand-written decoder of `support/oracle.rs`.
#![cfg(feature = "std")]

mod support;

use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Config, Connection, Event, EventRef, Message, ProtocolError, ReceiveMode, SendError, State,
};
use rfc6455::handshake::{BuildError, ClientRequest, HandshakeError, Limits, ServerResponse};
use support::conn::{self, take_output as drain};
use support::oracle;

const REQUEST: &[u8] = b"GET /chat?room=7 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\nCookie: session=abc\r\n\
    Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n\r\n";

/// An open connection in `role` (a client draws its keys from `[9; 32]`).
fn open(role: Role, config: Config) -> Connection {
    conn::open(role, config, [9; 32])
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
