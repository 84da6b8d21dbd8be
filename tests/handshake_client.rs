//! The client side of the opening handshake: writing the request, and a table of server
//! responses with the exact result or error each must give, fed whole and split at every
//! byte; leftover frames; a round trip through the server side.

mod support;

use rfc6455::handshake::{
    BuildError, ClientHandshake, ClientKey, ClientRequest, HandshakeError as E, Limits,
    ServerHandshake, ServerResponse, Status, SyntaxError, parse_ws_url,
};
use support::heads::{self, ACCEPT, CONNECTION, NONCE, OK, UPGRADE};

const PROTOCOLS: &[&str] = &["chat", "superchat"];
const EXTENSIONS: &[&str] = &[
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate, x-test; a=1",
];

fn request() -> ClientRequest<'static> {
    ClientRequest {
        protocols: PROTOCOLS,
        extensions: EXTENSIONS,
        ..ClientRequest::new("server.example.com", "/chat")
    }
}

/// The selected protocol and accepted extension names.
type Got = (Option<String>, Vec<String>);

fn summary(h: &mut ClientHandshake<'_>, buf: &[u8]) -> Option<Result<(Got, usize), E>> {
    match h.parse_response(buf) {
        Ok(Status::Partial) => None,
        Ok(Status::Complete { value, consumed }) => Some(Ok((
            (
                value.protocol().map(Into::into),
                value.extensions().map(|e| e.name().into()).collect(),
            ),
            consumed,
        ))),
        Err(e) => Some(Err(e)),
    }
}

fn none() -> Got {
    (None, vec![])
}

fn cases() -> Vec<(&'static str, Vec<u8>, Result<Got, E>)> {
    let many: Vec<&str> = std::iter::repeat_n("X-Filler: 1", 62).collect();
    let big = format!("X-Big: {}", "b".repeat(8200));
    vec![
        ("RFC response", heads::response(&[], &[]), Ok(none())),
        (
            "selected protocol",
            heads::response(&[], &["Sec-WebSocket-Protocol: superchat"]),
            Ok((Some("superchat".into()), vec![])),
        ),
        (
            "names and tokens in any case",
            heads::head(
                OK,
                &[
                    "upgrade: WebSocket",
                    "CONNECTION: upgrade",
                    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                ],
            ),
            Ok(none()),
        ),
        (
            "accepted extensions",
            heads::response(
                &[],
                &[
                    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover, X-Test",
                ],
            ),
            Ok((None, vec!["permessage-deflate".into(), "X-Test".into()])),
        ),
        (
            "LF line endings and no reason phrase",
            b"HTTP/1.1 101\nUpgrade: websocket\nConnection: Upgrade\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n"
                .to_vec(),
            Ok(none()),
        ),
        (
            "Upgrade: websocket twice, with an empty list element",
            heads::response(&[(0, "Upgrade: WebSocket, ")], &["Upgrade: websocket"]),
            Ok(none()),
        ),
        (
            "Connection list, padded accept",
            heads::response(
                &[
                    (1, "Connection: keep-alive, Upgrade"),
                    (2, "Sec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  "),
                ],
                &[],
            ),
            Ok(none()),
        ),
        (
            "62 more headers",
            heads::response(&[], &many[..61]),
            Ok(none()),
        ),
        (
            "200",
            heads::head("HTTP/1.1 200 OK", &[]),
            Err(E::UnexpectedStatus { code: 200 }),
        ),
        (
            "401",
            heads::head("HTTP/1.1 401 Unauthorized", &["WWW-Authenticate: Basic"]),
            Err(E::UnexpectedStatus { code: 401 }),
        ),
        (
            "HTTP/1.0",
            heads::head(
                "HTTP/1.0 101 Switching Protocols",
                &[UPGRADE, CONNECTION, ACCEPT],
            ),
            Err(E::HttpVersion),
        ),
        (
            "missing Upgrade",
            heads::response(&[(0, "")], &[]),
            Err(E::MissingHeader { name: "Upgrade" }),
        ),
        (
            "Upgrade without websocket",
            heads::response(&[(0, "Upgrade: h2c")], &[]),
            Err(E::MissingToken {
                name: "Upgrade",
                token: "websocket",
            }),
        ),
        (
            // RFC 6455 section 4.1: the client fails the connection if |Upgrade| "contains
            // a value that is not" websocket, in one field or in two (found by fuzzing).
            "Upgrade: websocket among others",
            heads::response(&[(0, "Upgrade: websocket, h2c")], &[]),
            Err(E::InvalidHeader { name: "Upgrade" }),
        ),
        (
            "a second Upgrade field with another value",
            heads::response(&[], &["Upgrade: h2c"]),
            Err(E::InvalidHeader { name: "Upgrade" }),
        ),
        (
            "an empty Upgrade field beside websocket",
            heads::response(&[], &["Upgrade:"]),
            Err(E::InvalidHeader { name: "Upgrade" }),
        ),
        (
            "missing Connection",
            heads::response(&[(1, "")], &[]),
            Err(E::MissingHeader { name: "Connection" }),
        ),
        (
            "Connection: close",
            heads::response(&[(1, "Connection: close")], &[]),
            Err(E::MissingToken {
                name: "Connection",
                token: "upgrade",
            }),
        ),
        (
            "missing accept",
            heads::response(&[(2, "")], &[]),
            Err(E::MissingHeader {
                name: "Sec-WebSocket-Accept",
            }),
        ),
        (
            "wrong accept",
            heads::response(
                &[(2, "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=")],
                &[],
            ),
            Err(E::AcceptMismatch),
        ),
        (
            "accept in another case",
            heads::response(
                &[(2, "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=")],
                &[],
            ),
            Err(E::AcceptMismatch),
        ),
        (
            "two accepts",
            heads::response(&[], &[ACCEPT]),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Accept",
            }),
        ),
        (
            "protocol not offered",
            heads::response(&[], &["Sec-WebSocket-Protocol: v9"]),
            Err(E::ProtocolNotOffered),
        ),
        (
            "protocol in another case",
            heads::response(&[], &["Sec-WebSocket-Protocol: Chat"]),
            Err(E::ProtocolNotOffered),
        ),
        (
            "two protocol headers",
            heads::response(
                &[],
                &[
                    "Sec-WebSocket-Protocol: chat",
                    "Sec-WebSocket-Protocol: chat",
                ],
            ),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "protocol list",
            heads::response(&[], &["Sec-WebSocket-Protocol: chat, superchat"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "empty protocol",
            heads::response(&[], &["Sec-WebSocket-Protocol:"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "extension not offered",
            heads::response(
                &[],
                &["Sec-WebSocket-Extensions: permessage-deflate, x-other"],
            ),
            Err(E::ExtensionNotOffered),
        ),
        (
            "malformed extensions",
            heads::response(&[], &["Sec-WebSocket-Extensions: permessage-deflate;"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Extensions",
            }),
        ),
        (
            "bad status code",
            heads::head("HTTP/1.1 1O1 Switching Protocols", &[]),
            Err(E::Syntax(SyntaxError::Status)),
        ),
        (
            "not HTTP",
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(),
            Err(E::Syntax(SyntaxError::Version)),
        ),
        (
            "header without colon",
            heads::response(&[], &["Nope"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "65 headers",
            heads::response(&[], &many),
            Err(E::TooManyHeaders { limit: 64 }),
        ),
        (
            "head over 8 KiB",
            heads::response(&[], &[&big]),
            Err(E::HeadTooLarge { limit: 8192 }),
        ),
        (
            "status before headers",
            heads::head("HTTP/1.1 302 Found", &["Location: /x"]),
            Err(E::UnexpectedStatus { code: 302 }),
        ),
    ]
}

#[test]
fn table_whole_and_split_at_every_byte() {
    let request = request();
    let key = ClientKey::from_nonce(NONCE);
    let cases = cases();
    assert!(cases.len() >= 30);
    for (name, input, expected) in cases {
        let whole = summary(&mut ClientHandshake::new(&request, &key), &input);
        assert_eq!(whole, Some(expected.map(|g| (g, input.len()))), "{name}");
        for cut in 0..=input.len() {
            let mut h = ClientHandshake::new(&request, &key);
            let first = summary(&mut h, &input[..cut]);
            let result = first.or_else(|| summary(&mut h, &input));
            assert_eq!(result, whole, "{name}, split at {cut}");
        }
    }
}

#[test]
fn protocol_when_none_offered() {
    let key = ClientKey::from_nonce(NONCE);
    let request = ClientRequest::new("h", "/");
    let input = heads::response(&[], &["Sec-WebSocket-Protocol: chat"]);
    let mut h = ClientHandshake::new(&request, &key);
    assert_eq!(
        h.parse_response(&input).map(|_| ()),
        Err(E::ProtocolNotOffered)
    );
    let input = heads::response(&[], &["Sec-WebSocket-Extensions: permessage-deflate"]);
    let mut h = ClientHandshake::new(&request, &key);
    assert_eq!(
        h.parse_response(&input).map(|_| ()),
        Err(E::ExtensionNotOffered)
    );
}

#[test]
fn frames_after_the_head_are_returned() {
    let request = request();
    let key = ClientKey::from_nonce(NONCE);
    let head = heads::response(&[], &["Sec-WebSocket-Protocol: chat"]);
    let frames = b"\x81\x05Hello\x89\x00";
    let input = [&head[..], frames].concat();
    let mut h = ClientHandshake::new(&request, &key);
    let mut n = 0;
    let (response, consumed) = loop {
        n += 1;
        if let Some(done) = h.parse_response(&input[..n]).unwrap().complete() {
            break done;
        }
    };
    assert_eq!(n, head.len());
    assert_eq!(response.protocol(), Some("chat"));
    assert_eq!(
        response.header("sec-websocket-protocol"),
        Some(&b"chat"[..])
    );
    assert_eq!(consumed, head.len());
    let whole = ClientHandshake::new(&request, &key)
        .parse_response(&input)
        .unwrap();
    let (_, consumed) = whole.complete().unwrap();
    assert_eq!(&input[consumed..], frames);
}

// That the scan reads each byte once however the response is split is counted where the
// bytes are read: the unit tests in `src/handshake/work.rs`.
#[test]
fn long_responses_complete_at_their_last_byte() {
    let request = request();
    let key = ClientKey::from_nonce(NONCE);
    let limits = Limits {
        max_head_bytes: 64 * 1024,
        ..Limits::default()
    };
    let completed_at = |pad: usize| {
        let line = format!("X-Pad: {}", "p".repeat(pad));
        let input = heads::response(&[], &[&line]);
        let mut h = ClientHandshake::with_limits(&request, &key, limits);
        for n in 1..=input.len() {
            if let Some((_, consumed)) = h.parse_response(&input[..n]).unwrap().complete() {
                assert_eq!(consumed, n);
                return (input.len(), n);
            }
        }
        panic!("incomplete");
    };
    let (len1, at1) = completed_at(900);
    let (len16, at16) = completed_at(900 + 15 * len1);
    assert_eq!(len16, 16 * len1);
    assert_eq!((at1, at16), (len1, len16));
}

#[test]
fn request_bytes() {
    let key = ClientKey::from_nonce(NONCE);
    let request = ClientRequest {
        origin: Some("http://example.com"),
        protocols: &["chat", "superchat"],
        extensions: &["permessage-deflate; client_max_window_bits"],
        extra_headers: &[("Authorization", "Bearer t")],
        ..ClientRequest::new("server.example.com", "/chat?x=1")
    };
    let mut out = [0u8; 512];
    let n = request.encode(&key, &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "GET /chat?x=1 HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Origin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Authorization: Bearer t\r\n\r\n"
    );
    assert_eq!(request.encode(&key, &mut out[..n]), Ok(n));
    assert_eq!(
        request.encode(&key, &mut out[..n - 1]),
        Err(BuildError::BufferTooSmall { required: n })
    );
    #[cfg(feature = "alloc")]
    assert_eq!(request.encode_to_vec(&key).unwrap(), &out[..n]);

    for (target, line) in [
        ("", "GET / HTTP/1.1\r\n"),
        ("?a=b", "GET /?a=b HTTP/1.1\r\n"),
    ] {
        let n = ClientRequest::new("h", target)
            .encode(&key, &mut out)
            .unwrap();
        assert!(out[..n].starts_with(line.as_bytes()), "{target:?}");
    }
}

#[test]
fn invalid_requests_are_refused() {
    let key = ClientKey::from_nonce([7; 16]);
    let mut out = [0u8; 512];
    let base = ClientRequest::new("h", "/");
    let cases = [
        (
            ClientRequest { host: "", ..base },
            BuildError::InvalidField { field: "host" },
        ),
        (
            ClientRequest {
                host: "a\r\nX: y",
                ..base
            },
            BuildError::InvalidField { field: "host" },
        ),
        (
            ClientRequest {
                target: "/a b",
                ..base
            },
            BuildError::InvalidField { field: "target" },
        ),
        (
            ClientRequest {
                target: "chat",
                ..base
            },
            BuildError::InvalidField { field: "target" },
        ),
        (
            ClientRequest {
                origin: Some("a\nb"),
                ..base
            },
            BuildError::InvalidField { field: "origin" },
        ),
        (
            ClientRequest {
                protocols: &["ok", "no way"],
                ..base
            },
            BuildError::InvalidProtocol { index: 1 },
        ),
        (
            ClientRequest {
                protocols: &["a", "b", "a"],
                ..base
            },
            BuildError::DuplicateProtocol { index: 2 },
        ),
        (
            ClientRequest {
                extensions: &[""],
                ..base
            },
            BuildError::InvalidExtension { index: 0 },
        ),
        (
            ClientRequest {
                extensions: &["x; y=\"z"],
                ..base
            },
            BuildError::InvalidExtension { index: 0 },
        ),
        (
            ClientRequest {
                extra_headers: &[("Bad Name", "v")],
                ..base
            },
            BuildError::InvalidHeader { index: 0 },
        ),
        (
            ClientRequest {
                extra_headers: &[("X", "\u{7f}")],
                ..base
            },
            BuildError::InvalidHeader { index: 0 },
        ),
        (
            ClientRequest {
                extra_headers: &[("X", "1"), ("sec-websocket-key", "k")],
                ..base
            },
            BuildError::ReservedHeader { index: 1 },
        ),
        (
            ClientRequest {
                extra_headers: &[("Host", "other")],
                ..base
            },
            BuildError::ReservedHeader { index: 0 },
        ),
    ];
    for (request, err) in cases {
        assert_eq!(request.encode(&key, &mut out), Err(err), "{request:?}");
    }
}

#[test]
fn round_trip_through_the_server() {
    let url = parse_ws_url("ws://127.0.0.1:9001/echo?agent=t").unwrap();
    let key = ClientKey::from_nonce(*b"0123456789abcdef");
    let request = ClientRequest {
        origin: Some("http://127.0.0.1"),
        protocols: &["v1", "v2"],
        extensions: &["permessage-deflate; client_max_window_bits"],
        ..ClientRequest::new(url.authority, url.resource)
    };
    let mut wire = [0u8; 512];
    let n = request.encode(&key, &mut wire).unwrap();

    let mut server = ServerHandshake::default();
    let (req, consumed) = server.parse(&wire[..n]).unwrap().complete().unwrap();
    assert_eq!(consumed, n);
    assert_eq!(
        (req.host(), req.path(), req.query()),
        ("127.0.0.1:9001", "/echo", Some("agent=t"))
    );
    assert_eq!(req.key(), key.as_str());
    assert_eq!(req.protocols().collect::<Vec<_>>(), ["v1", "v2"]);
    let offer = req.extensions().next().unwrap();
    assert_eq!(offer.name(), "permessage-deflate");
    let param = offer.params().next().unwrap();
    assert_eq!((param.name, param.value), ("client_max_window_bits", None));

    let mut reply = [0u8; 512];
    let response = ServerResponse {
        protocol: req.protocols().nth(1),
        extensions: &["permessage-deflate; client_max_window_bits=10"],
        ..ServerResponse::default()
    };
    let m = req.write_response(&response, &mut reply).unwrap();

    let mut client = ClientHandshake::new(&request, &key);
    let (resp, used) = client
        .parse_response(&reply[..m])
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(used, m);
    assert_eq!(resp.protocol(), Some("v2"));
    let ext = resp.extensions().next().unwrap();
    let bits = ext.param("client_max_window_bits").unwrap().value.unwrap();
    assert_eq!(bits.as_str(), Some("10"));
}

#[test]
fn rfc_key_and_accept() {
    let key = ClientKey::from_nonce(NONCE);
    assert_eq!(key.as_str(), "dGhlIHNhbXBsZSBub25jZQ==");
    let request = ClientRequest::new("h", "/");
    let h = ClientHandshake::new(&request, &key);
    assert_eq!(h.expected_accept().as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // Different nonces give different keys.
    assert_ne!(
        ClientKey::from_nonce([0; 16]),
        ClientKey::from_nonce([1; 16])
    );
}

#[test]
fn reset_forgets_a_partial_head() {
    let request = request();
    let key = ClientKey::from_nonce(NONCE);
    let mut h = ClientHandshake::new(&request, &key);
    let partial = b"HTTP/1.1 101 Switching Protocols\r\nX-Old: 1\r\n\r";
    assert!(matches!(h.parse_response(partial), Ok(Status::Partial)));
    // A new, longer response: without the reset the scanner would go on from the CR
    // above and fail on this response's byte at that index.
    let fresh = heads::response(&[], &[]);
    assert!(fresh.len() > partial.len() && fresh[partial.len()] != b'\n');
    h.reset();
    let (response, consumed) = h.parse_response(&fresh).unwrap().complete().unwrap();
    assert_eq!((response.protocol(), consumed), (None, fresh.len()));
}
