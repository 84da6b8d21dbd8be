//! The server side of the opening handshake: a table of requests with the exact result or
//! error each must give, fed whole and split at every byte; leftover bytes; long heads; a
//! never-ending header line.

mod support;

use rfc6455::handshake::{HandshakeError as E, Limits, ServerHandshake, Status, SyntaxError};
use support::heads::{self, CONNECTION, GET, HOST, KEY, KEY_LINE, UPGRADE, VERSION};

/// The fields a valid request is checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expect {
    path: String,
    query: Option<String>,
    host: String,
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<String>,
}

fn ok() -> Expect {
    Expect {
        path: "/chat".into(),
        query: None,
        host: "server.example.com".into(),
        origin: None,
        protocols: vec![],
        extensions: vec![],
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn summary(parser: &mut ServerHandshake, buf: &[u8]) -> Option<Result<(Expect, usize), E>> {
    match parser.parse(buf) {
        Ok(Status::Partial) => None,
        Ok(Status::Complete { value, consumed }) => {
            assert_eq!(value.key(), KEY);
            assert_eq!(value.accept_key().as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            Some(Ok((
                Expect {
                    path: value.path().into(),
                    query: value.query().map(Into::into),
                    host: value.host().into(),
                    origin: value.origin().map(Into::into),
                    protocols: value.protocols().map(Into::into).collect(),
                    extensions: value.extensions().map(|e| e.name().into()).collect(),
                },
                consumed,
            )))
        }
        Err(e) => Some(Err(e)),
    }
}

fn cases() -> Vec<(&'static str, Vec<u8>, Result<Expect, E>)> {
    let mut many = vec![HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION];
    many.extend(std::iter::repeat_n("X-Filler: 1", 60));
    let big = format!("X-Big: {}", "a".repeat(8200));
    vec![
        ("minimal", heads::request(&[], &[]), Ok(ok())),
        (
            "names in any case",
            heads::head(
                GET,
                &[
                    "hOsT: server.example.com",
                    "UPGRADE: websocket",
                    "connection: Upgrade",
                    "SEC-WEBSOCKET-KEY: dGhlIHNhbXBsZSBub25jZQ==",
                    "sec-websocket-version: 13",
                ],
            ),
            Ok(ok()),
        ),
        (
            "Upgrade token case",
            heads::request(&[(1, "Upgrade: WebSocket")], &[]),
            Ok(ok()),
        ),
        (
            "Connection list (Firefox)",
            heads::request(&[(2, "Connection: keep-alive, Upgrade")], &[]),
            Ok(ok()),
        ),
        (
            "Connection over two lines",
            heads::request(&[(2, "Connection: keep-alive")], &["Connection: upgrade"]),
            Ok(ok()),
        ),
        (
            "Upgrade list",
            heads::request(&[(1, "Upgrade: h2c, websocket")], &[]),
            Ok(ok()),
        ),
        (
            "whitespace around values",
            heads::request(
                &[
                    (3, "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ== \t"),
                    (4, "Sec-WebSocket-Version:13"),
                ],
                &[],
            ),
            Ok(ok()),
        ),
        (
            "LF line endings",
            heads::request(&[], &[])
                .split(|&b| b == b'\r')
                .flatten()
                .copied()
                .collect(),
            Ok(ok()),
        ),
        (
            "empty lines before the request line",
            [&b"\r\n\n"[..], &heads::request(&[], &[])].concat(),
            Ok(ok()),
        ),
        (
            "protocols over two lines",
            heads::request(
                &[],
                &[
                    "Sec-WebSocket-Protocol: chat, superchat",
                    "Sec-WebSocket-Protocol: v2",
                ],
            ),
            Ok(Expect {
                protocols: strings(&["chat", "superchat", "v2"]),
                ..ok()
            }),
        ),
        (
            "protocol list with empty elements",
            heads::request(&[], &["Sec-WebSocket-Protocol: , chat,, "]),
            Ok(Expect {
                protocols: strings(&["chat"]),
                ..ok()
            }),
        ),
        (
            "extension offers",
            heads::request(
                &[],
                &[
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
                    "Sec-WebSocket-Extensions: x-foo; a=\"b,c\", x-bar",
                ],
            ),
            Ok(Expect {
                extensions: strings(&["permessage-deflate", "x-foo", "x-bar"]),
                ..ok()
            }),
        ),
        (
            "absolute-form target",
            heads::head(
                "GET ws://server.example.com/chat?x=1 HTTP/1.1",
                &[HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
            ),
            Ok(Expect {
                query: Some("x=1".into()),
                ..ok()
            }),
        ),
        (
            "query",
            heads::head(
                "GET /chat?room=1&a HTTP/1.1",
                &[HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
            ),
            Ok(Expect {
                query: Some("room=1&a".into()),
                ..ok()
            }),
        ),
        (
            "origin and unrelated headers",
            heads::request(
                &[],
                &[
                    "Origin: http://example.com",
                    "Cookie: a=b",
                    "User-Agent: x/1",
                ],
            ),
            Ok(Expect {
                origin: Some("http://example.com".into()),
                ..ok()
            }),
        ),
        (
            "IPv6 host with port",
            heads::request(&[(0, "Host: [::1]:9001")], &[]),
            Ok(Expect {
                host: "[::1]:9001".into(),
                ..ok()
            }),
        ),
        ("60 extra headers", heads::head(GET, &many[..64]), Ok(ok())),
        // Errors, in the order the checks run.
        (
            "POST",
            heads::head("POST /chat HTTP/1.1", &[]),
            Err(E::Method),
        ),
        (
            "lowercase method",
            heads::request(&[], &[])
                .iter()
                .enumerate()
                .map(|(i, &b)| if i < 3 { b.to_ascii_lowercase() } else { b })
                .collect(),
            Err(E::Method),
        ),
        (
            "HTTP/1.0",
            heads::head(
                "GET /chat HTTP/1.0",
                &[HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
            ),
            Err(E::HttpVersion),
        ),
        (
            "HTTP/2.0",
            heads::head("GET /chat HTTP/2.0", &[]),
            Err(E::Syntax(SyntaxError::Version)),
        ),
        (
            "no version in request line",
            heads::head("GET /chat", &[]),
            Err(E::Syntax(SyntaxError::Token)),
        ),
        (
            "asterisk target",
            heads::head("GET * HTTP/1.1", &[]),
            Err(E::Target),
        ),
        (
            "authority-form target",
            heads::head("GET example.com:80 HTTP/1.1", &[]),
            Err(E::Target),
        ),
        (
            "missing Host",
            heads::request(&[(0, "")], &[]),
            Err(E::MissingHeader { name: "Host" }),
        ),
        (
            "two Hosts",
            heads::request(&[], &[HOST]),
            Err(E::DuplicateHeader { name: "Host" }),
        ),
        (
            "empty Host",
            heads::request(&[(0, "Host:")], &[]),
            Err(E::InvalidHeader { name: "Host" }),
        ),
        (
            "Host with a space",
            heads::request(&[(0, "Host: a b")], &[]),
            Err(E::InvalidHeader { name: "Host" }),
        ),
        (
            "missing Upgrade",
            heads::request(&[(1, "")], &[]),
            Err(E::MissingHeader { name: "Upgrade" }),
        ),
        (
            "Upgrade without websocket",
            heads::request(&[(1, "Upgrade: h2c")], &[]),
            Err(E::MissingToken {
                name: "Upgrade",
                token: "websocket",
            }),
        ),
        (
            "Upgrade with a longer token",
            heads::request(&[(1, "Upgrade: websockets")], &[]),
            Err(E::MissingToken {
                name: "Upgrade",
                token: "websocket",
            }),
        ),
        (
            "missing Connection",
            heads::request(&[(2, "")], &[]),
            Err(E::MissingHeader { name: "Connection" }),
        ),
        (
            "Connection without upgrade",
            heads::request(&[(2, "Connection: keep-alive")], &[]),
            Err(E::MissingToken {
                name: "Connection",
                token: "upgrade",
            }),
        ),
        (
            "Connection with a longer token",
            heads::request(&[(2, "Connection: upgraded")], &[]),
            Err(E::MissingToken {
                name: "Connection",
                token: "upgrade",
            }),
        ),
        (
            "missing version",
            heads::request(&[(4, "")], &[]),
            Err(E::MissingHeader {
                name: "Sec-WebSocket-Version",
            }),
        ),
        (
            "version 8",
            heads::request(&[(4, "Sec-WebSocket-Version: 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "version list",
            heads::request(&[(4, "Sec-WebSocket-Version: 13, 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "two versions",
            heads::request(&[], &[VERSION]),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Version",
            }),
        ),
        (
            "version 8 beats a missing key",
            heads::request(&[(3, ""), (4, "Sec-WebSocket-Version: 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "missing key",
            heads::request(&[(3, "")], &[]),
            Err(E::MissingHeader {
                name: "Sec-WebSocket-Key",
            }),
        ),
        (
            "short key",
            heads::request(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "key not base64",
            heads::request(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!!==")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "key of 17 bytes",
            heads::request(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZXg=")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "two keys",
            heads::request(&[], &[KEY_LINE]),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Key",
            }),
        ),
        (
            "protocol with a space",
            heads::request(&[], &["Sec-WebSocket-Protocol: chat room"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "protocol with a separator",
            heads::request(&[], &["Sec-WebSocket-Protocol: chat, (v2)"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "extension parameter without a name",
            heads::request(&[], &["Sec-WebSocket-Extensions: permessage-deflate; =1"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Extensions",
            }),
        ),
        (
            "extension with an unterminated quote",
            heads::request(&[], &["Sec-WebSocket-Extensions: x; a=\"b"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Extensions",
            }),
        ),
        (
            "two Origins",
            heads::request(&[], &["Origin: http://a", "Origin: http://b"]),
            Err(E::DuplicateHeader { name: "Origin" }),
        ),
        (
            "space in a header name",
            heads::request(&[], &["Bad Name: x"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "line without a colon",
            heads::request(&[], &["NoColon"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "folded header line",
            heads::request(&[], &["X-A: b", " folded"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "control character in a value",
            heads::request(&[], &["X-A: a\u{1}b"]),
            Err(E::Syntax(SyntaxError::HeaderValue)),
        ),
        (
            "CR without LF",
            heads::request(&[], &["\rX: y"]),
            Err(E::Syntax(SyntaxError::NewLine)),
        ),
        (
            "65 headers",
            heads::head(GET, &many[..65]),
            Err(E::TooManyHeaders { limit: 64 }),
        ),
        (
            "head over 8 KiB",
            heads::request(&[], &[&big]),
            Err(E::HeadTooLarge { limit: 8192 }),
        ),
        (
            "method before everything",
            heads::head("PUT /chat HTTP/1.1", &["Host: a b"]),
            Err(E::Method),
        ),
    ]
}

#[test]
fn table_whole_and_split_at_every_byte() {
    let cases = cases();
    assert!(cases.len() >= 50);
    for (name, input, expected) in cases {
        let whole = summary(&mut ServerHandshake::default(), &input);
        assert_eq!(whole, Some(expected.map(|e| (e, input.len()))), "{name}");

        // Two pieces, split at every byte.
        for cut in 0..=input.len() {
            let mut p = ServerHandshake::default();
            let first = summary(&mut p, &input[..cut]);
            let result = first.or_else(|| summary(&mut p, &input)).unwrap();
            assert_eq!(Some(result), whole, "{name}, split at {cut}");
        }
        // One byte at a time; nothing is reported before the deciding byte.
        let mut p = ServerHandshake::default();
        let mut got = None;
        for n in 1..=input.len() {
            if let Some(r) = summary(&mut p, &input[..n]) {
                got = Some(r);
                break;
            }
        }
        assert_eq!(got, whole, "{name}, byte at a time");
    }
}

#[test]
fn leftover_bytes_are_returned() {
    let head = heads::request(&[], &[]);
    let frame = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    let input = [&head[..], frame].concat();
    // Whatever the split, the bytes after the head come back untouched.
    for cut in 0..=input.len() {
        let mut p = ServerHandshake::default();
        let first = p.parse(&input[..cut]).unwrap();
        let status = if first.is_complete() {
            first
        } else {
            p.parse(&input).unwrap()
        };
        let (_, consumed) = status.complete().unwrap();
        assert_eq!(consumed, head.len());
        assert_eq!(&input[consumed..], frame);
    }
}

/// A request whose head is about `len` bytes, padded by one long header.
fn request_of_len(len: usize) -> Vec<u8> {
    let short = heads::request(&[], &["X-Pad: "]);
    let pad = "p".repeat(len - short.len());
    let line = format!("X-Pad: {pad}");
    heads::request(&[], &[&line])
}

/// The number of bytes shown when the head of `input` completed, fed one byte per call.
fn completed_at_byte_at_a_time(input: &[u8], limits: Limits) -> usize {
    let mut p = ServerHandshake::new(limits);
    for n in 1..=input.len() {
        if let Some((_, consumed)) = p.parse(&input[..n]).unwrap().complete() {
            assert_eq!(consumed, n);
            return n;
        }
    }
    panic!("request did not complete");
}

// That the scan reads each byte once however the input is split (16 times the input is 16
// times the work) is counted where the bytes are read: the unit tests in
// `src/handshake/work.rs`.
#[test]
fn long_heads_complete_at_their_last_byte_whole_or_split() {
    let limits = Limits {
        max_head_bytes: 64 * 1024,
        ..Limits::default()
    };
    for len in [1000, 16_000] {
        let input = request_of_len(len);
        assert_eq!(input.len(), len);
        assert_eq!(completed_at_byte_at_a_time(&input, limits), len);
        let mut p = ServerHandshake::new(limits);
        let (request, consumed) = p.parse(&input).unwrap().complete().unwrap();
        assert_eq!((consumed, request.path()), (len, "/chat"));
    }
}

#[test]
fn slowloris_header_line_fails_at_the_limit() {
    let limits = Limits {
        max_headers: 8,
        max_head_bytes: 1024,
    };
    let mut input = b"GET / HTTP/1.1\r\nX-Slow: ".to_vec();
    let mut p = ServerHandshake::new(limits);
    let mut calls = 0;
    let err = loop {
        calls += 1;
        match p.parse(&input) {
            Ok(Status::Partial) => input.push(b'a'),
            Ok(Status::Complete { .. }) => panic!("never-ending line completed"),
            Err(e) => break e,
        }
        assert!(calls < 10_000);
    };
    assert_eq!(err, E::HeadTooLarge { limit: 1024 });
    assert_eq!(input.len(), 1024);
    // The error sticks.
    assert_eq!(p.parse(&input).map(|_| ()), Err(err));
    assert_eq!(err.http_status(), 431);
}

#[test]
fn reset_forgets_a_partial_head_and_limits_are_kept() {
    let limits = Limits {
        max_headers: 9,
        max_head_bytes: 300,
    };
    let mut p = ServerHandshake::new(limits);
    assert_eq!(p.limits(), &limits);
    // A head cut right after a CR that can only be followed by LF.
    let partial = b"GET /old HTTP/1.1\r\nX-Old: 1\r\n\r";
    assert_eq!(p.parse(partial).map(|s| s.is_complete()), Ok(false));
    // A new, longer request on the same parser: without the reset the scanner would go
    // on from the CR above and fail on this request's byte at that index.
    let fresh = heads::request(&[], &[]);
    assert!(fresh.len() > partial.len() && fresh[partial.len()] != b'\n');
    p.reset();
    let (request, consumed) = p.parse(&fresh).unwrap().complete().unwrap();
    assert_eq!((request.path(), consumed), ("/chat", fresh.len()));
    assert_eq!(p.limits(), &limits);
}
