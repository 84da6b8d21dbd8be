//! The server side of the opening handshake: configurable limits, the 101 response with
//! the selected subprotocol and extensions, and rejections.

mod support;

use rfc6455::handshake::{
    AcceptKey, BuildError, HandshakeError as E, Limits, ServerHandshake, ServerResponse, Status,
    UPGRADE_REQUIRED,
};
use support::heads::{self, CONNECTION, HOST, KEY, KEY_LINE, UPGRADE, VERSION};

#[test]
fn configurable_limits() {
    let input = heads::request(&[], &["X-A: 1", "X-B: 2"]);
    let tight = Limits {
        max_headers: 6,
        ..Limits::default()
    };
    assert_eq!(
        ServerHandshake::new(tight).parse(&input).map(|_| ()),
        Err(E::TooManyHeaders { limit: 6 })
    );
    let enough = Limits {
        max_headers: 7,
        max_head_bytes: input.len(),
    };
    assert!(
        ServerHandshake::new(enough)
            .parse(&input)
            .unwrap()
            .is_complete()
    );
    let short = Limits {
        max_head_bytes: input.len() - 1,
        ..enough
    };
    assert_eq!(
        ServerHandshake::new(short).parse(&input).map(|_| ()),
        Err(E::HeadTooLarge {
            limit: input.len() - 1
        })
    );
}

#[test]
fn reset_parses_a_new_request() {
    let mut p = ServerHandshake::default();
    let first = heads::request(&[], &[]);
    assert!(p.parse(&first).unwrap().is_complete());
    p.reset();
    let second = heads::head(
        "GET /other HTTP/1.1",
        &[HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
    );
    let Status::Complete { value, .. } = p.parse(&second).unwrap() else {
        panic!("incomplete");
    };
    assert_eq!(value.path(), "/other");
}

fn parsed(input: &[u8]) -> rfc6455::handshake::Request<'_> {
    match ServerHandshake::default().parse(input) {
        Ok(Status::Complete { value, .. }) => value,
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc_response_and_selection() {
    let input = heads::request(
        &[],
        &[
            "Origin: http://example.com",
            "Sec-WebSocket-Protocol: chat, superchat",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ],
    );
    let request = parsed(&input);
    assert_eq!(request.header("origin"), Some(&b"http://example.com"[..]));
    assert_eq!(request.header("x-none"), None);
    assert_eq!(request.headers().count(), 8);

    let mut out = [0u8; 512];
    let response = ServerResponse {
        protocol: Some("chat"),
        extensions: &["permessage-deflate; server_no_context_takeover"],
        extra_headers: &[("X-Server", "t")],
    };
    let n = request.write_response(&response, &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: chat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\
         X-Server: t\r\n\r\n"
    );
    // Exactly `n` bytes suffice; one fewer reports the size needed.
    assert_eq!(request.write_response(&response, &mut out[..n]), Ok(n));
    assert_eq!(
        request.write_response(&response, &mut out[..n - 1]),
        Err(BuildError::BufferTooSmall { required: n })
    );
    #[cfg(feature = "alloc")]
    assert_eq!(request.response_to_vec(&response).unwrap(), &out[..n]);

    let cases: [(ServerResponse<'_>, BuildError); 6] = [
        (
            ServerResponse {
                protocol: Some("v9"),
                ..Default::default()
            },
            BuildError::ProtocolNotOffered,
        ),
        (
            ServerResponse {
                protocol: Some("Chat"),
                ..Default::default()
            },
            BuildError::ProtocolNotOffered,
        ),
        (
            ServerResponse {
                extensions: &["permessage-deflate", "x-other"],
                ..Default::default()
            },
            BuildError::ExtensionNotOffered { index: 1 },
        ),
        (
            ServerResponse {
                extensions: &["permessage-deflate; =1"],
                ..Default::default()
            },
            BuildError::InvalidExtension { index: 0 },
        ),
        (
            ServerResponse {
                extra_headers: &[("Sec-WebSocket-Accept", "x")],
                ..Default::default()
            },
            BuildError::ReservedHeader { index: 0 },
        ),
        (
            ServerResponse {
                extra_headers: &[("X-Ok", "1"), ("X-Bad", "a\r\nInjected: 1")],
                ..Default::default()
            },
            BuildError::InvalidHeader { index: 1 },
        ),
    ];
    for (response, err) in cases {
        assert_eq!(
            request.write_response(&response, &mut out),
            Err(err),
            "{response:?}"
        );
    }
}

#[test]
fn the_response_carries_the_accept_value_and_only_offered_protocols() {
    let input = heads::request(&[], &["Sec-WebSocket-Protocol: chat"]);
    let request = parsed(&input);
    let accept = AcceptKey::from_key(KEY.as_bytes());
    assert_eq!(request.accept_key(), accept);
    let mut out = [0u8; 256];
    let n = request
        .write_response(&ServerResponse::default(), &mut out)
        .unwrap();
    let head = std::str::from_utf8(&out[..n]).unwrap();
    assert!(
        head.contains(&format!("\r\nSec-WebSocket-Accept: {accept}\r\n")),
        "{head}"
    );
    // The one way to write a 101 checks the selection against the offers, so a
    // subprotocol the client did not offer never reaches the wire, a non-token or a header
    // injection included.
    for protocol in ["anything", "not a token", "chat\r\nX-Injected: 1"] {
        let response = ServerResponse {
            protocol: Some(protocol),
            ..Default::default()
        };
        assert_eq!(
            request.write_response(&response, &mut out),
            Err(BuildError::ProtocolNotOffered),
            "{protocol:?}"
        );
        #[cfg(feature = "alloc")]
        assert_eq!(
            request.response_to_vec(&response),
            Err(BuildError::ProtocolNotOffered),
            "{protocol:?}"
        );
    }
}

#[test]
fn rejections_match_errors() {
    let mut out = [0u8; 256];
    let version = heads::request(&[(4, "Sec-WebSocket-Version: 7")], &[]);
    let err = ServerHandshake::default()
        .parse(&version)
        .map(|_| ())
        .unwrap_err();
    let n = err.write_rejection(&mut out).unwrap();
    assert_eq!(&out[..n], UPGRADE_REQUIRED);
    assert!(
        std::str::from_utf8(&out[..n])
            .unwrap()
            .contains("\r\nSec-WebSocket-Version: 13\r\n")
    );
    let missing = heads::request(&[(0, "")], &[]);
    let err = ServerHandshake::default()
        .parse(&missing)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.http_status(), 400);
    let n = err.write_rejection(&mut out).unwrap();
    assert!(out[..n].starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert_eq!(err.to_string(), "missing Host header");
}
