//! The opening handshake driven through the connection: CONNECTING -> OPEN in both roles.
#![cfg(feature = "alloc")]

use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Accepted, Closed, Config, Event, Message, ProtocolError, SendError, State,
};
use rfc6455::handshake::{ClientRequest, HandshakeError, Limits, ServerResponse};

mod support;
use support::conn;

use conn::{events, take_output};

#[test]
fn client_and_server_open_and_exchange_in_any_split() {
    let request = ClientRequest {
        protocols: &["chat", "superchat"],
        ..ClientRequest::new("example.com", "/room?id=7")
    };
    let mut client = conn::client_handshake(&request, [3; 32], Config::default()).unwrap();
    assert_eq!(client.state(), State::Connecting);
    assert_eq!(
        client.send_text("too early"),
        Err(SendError::NotOpen(State::Connecting))
    );
    // The client may send its first message right behind the request once open; here the
    // request alone goes first.
    let request_bytes = take_output(&mut client);
    for cut in [1, 17, request_bytes.len() / 2, request_bytes.len()] {
        let mut server = conn::server_handshake(Limits::default(), Config::default());
        server.receive(&request_bytes[..cut]);
        let mut got = events(&mut server);
        server.receive(&request_bytes[cut..]);
        got.extend(events(&mut server));
        assert_eq!(
            got,
            vec![Event::Request(server.request().unwrap().clone())],
            "cut {cut}"
        );
        let req = server.request().unwrap();
        assert_eq!(req.path(), "/room");
        assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    }
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(&request_bytes);
    assert_eq!(
        events(&mut server),
        vec![Event::Request(server.request().unwrap().clone())]
    );
    // A subprotocol the client did not offer is refused, and nothing is sent.
    assert!(matches!(
        server.accept(&ServerResponse {
            protocol: Some("other"),
            ..ServerResponse::default()
        }),
        Err(SendError::Handshake(_))
    ));
    assert_eq!(server.pending_output_len(), 0);
    server
        .accept(&ServerResponse {
            protocol: Some("superchat"),
            ..ServerResponse::default()
        })
        .unwrap();
    assert_eq!(server.state(), State::Open);
    // The server's first message goes out right behind its 101 response.
    server.send_text("welcome").unwrap();
    let reply = take_output(&mut server);
    for cut in 0..=reply.len() {
        let mut c = conn::client_handshake(&request, [3; 32], Config::default()).unwrap();
        take_output(&mut c);
        c.receive(&reply[..cut]);
        let mut got = events(&mut c);
        c.receive(&reply[cut..]);
        got.extend(events(&mut c));
        assert_eq!(
            got,
            vec![
                Event::Accepted(Accepted {
                    protocol: Some("superchat".into()),
                    extensions: None
                }),
                Event::Message(Message::Text("welcome".into())),
            ],
            "cut {cut}"
        );
        assert_eq!(c.state(), State::Open);
    }
    client.receive(&reply);
    events(&mut client);
    client.send_binary(&[1, 2, 3]).unwrap();
    server.receive(&take_output(&mut client));
    assert_eq!(
        events(&mut server),
        vec![Event::Message(Message::Binary(vec![1, 2, 3].into()))]
    );
}

#[test]
fn frames_right_behind_the_request_are_kept() {
    let request = ClientRequest::new("example.com", "/");
    let mut client = conn::client_handshake(&request, [1; 32], Config::default()).unwrap();
    let mut bytes = take_output(&mut client);
    // A masked text frame "Hello" (RFC 6455 section 5.7) in the same read.
    bytes.extend([
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(&bytes);
    assert_eq!(
        events(&mut server),
        vec![Event::Request(server.request().unwrap().clone())]
    );
    // Nothing is read past the head until the request is accepted.
    assert_eq!(events(&mut server), vec![]);
    server.accept(&ServerResponse::default()).unwrap();
    assert_eq!(
        events(&mut server),
        vec![Event::Message(Message::Text("Hello".into()))]
    );
}

#[test]
fn bad_request_is_answered_by_the_connection() {
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    );
    let err = server.poll_event().unwrap_err();
    assert_eq!(
        err,
        ProtocolError::Handshake(HandshakeError::UnsupportedVersion)
    );
    assert_eq!(server.state(), State::Closed);
    let reply = String::from_utf8(take_output(&mut server)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 426 "), "{reply}");
    assert!(reply.contains("Sec-WebSocket-Version: 13\r\n"), "{reply}");
    assert!(server.should_close_transport());
    assert_eq!(server.poll_event(), Ok(None));
}

#[test]
fn rejection_and_wrong_accept_key() {
    let request = ClientRequest::new("example.com", "/");
    let mut client = conn::client_handshake(&request, [1; 32], Config::default()).unwrap();
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(&take_output(&mut client));
    assert_eq!(
        events(&mut server),
        vec![Event::Request(server.request().unwrap().clone())]
    );
    server.reject(403, "Forbidden").unwrap();
    assert_eq!(server.state(), State::Closed);
    let reply = take_output(&mut server);
    assert!(reply.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    client.receive(&reply);
    let err = client.poll_event().unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Handshake(HandshakeError::UnexpectedStatus { .. })
    ));
    assert!(client.should_close_transport());

    // A 101 whose accept key belongs to another request.
    let mut client = conn::client_handshake(&request, [2; 32], Config::default()).unwrap();
    take_output(&mut client);
    client.receive(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    assert_eq!(
        client.poll_event().unwrap_err(),
        ProtocolError::Handshake(HandshakeError::AcceptMismatch)
    );
}

#[test]
fn eof_during_the_handshake_is_an_abnormal_close() {
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(b"GET / HTTP/1.1\r\nHost: a\r\n");
    assert_eq!(events(&mut server), vec![]);
    server.receive_eof();
    assert_eq!(
        events(&mut server),
        vec![Event::Closed(Closed {
            code: CloseCode::ABNORMAL,
            reason: String::new()
        })]
    );
    assert_eq!(server.state(), State::Closed);
}

/// A frame where the opening handshake belongs is a malformed head, never a message: the
/// frame fast path must not run before the connection is open (it did not, but nothing
/// checked it).
#[test]
fn a_frame_before_the_handshake_is_not_a_message() {
    // A masked text frame "hello", as RFC 6455 section 5.7 writes it.
    let frame = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut server = conn::server_handshake(Limits::default(), Config::default());
    server.receive(&frame);
    server.receive(b"\r\n\r\n");
    assert!(
        matches!(
            server.poll_event(),
            Err(rfc6455::connection::ProtocolError::Handshake(_))
        ),
        "the server refuses the head"
    );
    let request = ClientRequest::new("example.com", "/");
    let mut client = conn::client_handshake(&request, [3; 32], Config::default()).unwrap();
    // Unmasked, as from a server, then the end of a head.
    client.receive(b"\x81\x05hello\r\n\r\n");
    assert!(
        matches!(
            client.poll_event_ref(),
            Err(rfc6455::connection::ProtocolError::Handshake(_))
        ),
        "the client refuses the response"
    );
}
