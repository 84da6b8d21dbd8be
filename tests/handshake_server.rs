//! The server side of the opening handshake: a table of requests with the exact result or
//! error each must give, fed whole and split at every byte; leftover bytes; the linear
//! scan; limits; the 101 response and rejections.

use rfc6455::handshake::{
    BuildError, HandshakeError as E, Limits, ServerHandshake, ServerResponse, Status, SyntaxError,
    UPGRADE_REQUIRED, write_response,
};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

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

/// A request line plus header lines, CRLF-terminated, ending with the blank line.
fn req(start: &str, lines: &[&str]) -> Vec<u8> {
    let mut out = format!("{start}\r\n");
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

const HOST: &str = "Host: server.example.com";
const UPGRADE: &str = "Upgrade: websocket";
const CONNECTION: &str = "Connection: Upgrade";
const KEY_LINE: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
const VERSION: &str = "Sec-WebSocket-Version: 13";
const GET: &str = "GET /chat HTTP/1.1";

/// The valid request's header lines with `replace` applied: each (index, line) replaces
/// that header (an empty line removes it); `add` lines go at the end.
fn base(replace: &[(usize, &str)], add: &[&str]) -> Vec<u8> {
    let mut lines: Vec<&str> = vec![HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION];
    for &(i, l) in replace {
        lines[i] = l;
    }
    lines.retain(|l| !l.is_empty());
    lines.extend_from_slice(add);
    req(GET, &lines)
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
        ("minimal", base(&[], &[]), Ok(ok())),
        (
            "names in any case",
            req(
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
            base(&[(1, "Upgrade: WebSocket")], &[]),
            Ok(ok()),
        ),
        (
            "Connection list (Firefox)",
            base(&[(2, "Connection: keep-alive, Upgrade")], &[]),
            Ok(ok()),
        ),
        (
            "Connection over two lines",
            base(&[(2, "Connection: keep-alive")], &["Connection: upgrade"]),
            Ok(ok()),
        ),
        (
            "Upgrade list",
            base(&[(1, "Upgrade: h2c, websocket")], &[]),
            Ok(ok()),
        ),
        (
            "whitespace around values",
            base(
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
            base(&[], &[])
                .split(|&b| b == b'\r')
                .flatten()
                .copied()
                .collect(),
            Ok(ok()),
        ),
        (
            "empty lines before the request line",
            [&b"\r\n\n"[..], &base(&[], &[])].concat(),
            Ok(ok()),
        ),
        (
            "protocols over two lines",
            base(
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
            base(&[], &["Sec-WebSocket-Protocol: , chat,, "]),
            Ok(Expect {
                protocols: strings(&["chat"]),
                ..ok()
            }),
        ),
        (
            "extension offers",
            base(
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
            req(
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
            req(
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
            base(
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
            base(&[(0, "Host: [::1]:9001")], &[]),
            Ok(Expect {
                host: "[::1]:9001".into(),
                ..ok()
            }),
        ),
        ("60 extra headers", req(GET, &many[..64]), Ok(ok())),
        // Errors, in the order the checks run.
        ("POST", req("POST /chat HTTP/1.1", &[]), Err(E::Method)),
        (
            "lowercase method",
            base(&[], &[])
                .iter()
                .enumerate()
                .map(|(i, &b)| if i < 3 { b.to_ascii_lowercase() } else { b })
                .collect(),
            Err(E::Method),
        ),
        (
            "HTTP/1.0",
            req(
                "GET /chat HTTP/1.0",
                &[HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
            ),
            Err(E::HttpVersion),
        ),
        (
            "HTTP/2.0",
            req("GET /chat HTTP/2.0", &[]),
            Err(E::Syntax(SyntaxError::Version)),
        ),
        (
            "no version in request line",
            req("GET /chat", &[]),
            Err(E::Syntax(SyntaxError::Token)),
        ),
        (
            "asterisk target",
            req("GET * HTTP/1.1", &[]),
            Err(E::Target),
        ),
        (
            "authority-form target",
            req("GET example.com:80 HTTP/1.1", &[]),
            Err(E::Target),
        ),
        (
            "missing Host",
            base(&[(0, "")], &[]),
            Err(E::MissingHeader { name: "Host" }),
        ),
        (
            "two Hosts",
            base(&[], &[HOST]),
            Err(E::DuplicateHeader { name: "Host" }),
        ),
        (
            "empty Host",
            base(&[(0, "Host:")], &[]),
            Err(E::InvalidHeader { name: "Host" }),
        ),
        (
            "Host with a space",
            base(&[(0, "Host: a b")], &[]),
            Err(E::InvalidHeader { name: "Host" }),
        ),
        (
            "missing Upgrade",
            base(&[(1, "")], &[]),
            Err(E::MissingHeader { name: "Upgrade" }),
        ),
        (
            "Upgrade without websocket",
            base(&[(1, "Upgrade: h2c")], &[]),
            Err(E::MissingToken {
                name: "Upgrade",
                token: "websocket",
            }),
        ),
        (
            "Upgrade with a longer token",
            base(&[(1, "Upgrade: websockets")], &[]),
            Err(E::MissingToken {
                name: "Upgrade",
                token: "websocket",
            }),
        ),
        (
            "missing Connection",
            base(&[(2, "")], &[]),
            Err(E::MissingHeader { name: "Connection" }),
        ),
        (
            "Connection without upgrade",
            base(&[(2, "Connection: keep-alive")], &[]),
            Err(E::MissingToken {
                name: "Connection",
                token: "upgrade",
            }),
        ),
        (
            "Connection with a longer token",
            base(&[(2, "Connection: upgraded")], &[]),
            Err(E::MissingToken {
                name: "Connection",
                token: "upgrade",
            }),
        ),
        (
            "missing version",
            base(&[(4, "")], &[]),
            Err(E::MissingHeader {
                name: "Sec-WebSocket-Version",
            }),
        ),
        (
            "version 8",
            base(&[(4, "Sec-WebSocket-Version: 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "version list",
            base(&[(4, "Sec-WebSocket-Version: 13, 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "two versions",
            base(&[], &[VERSION]),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Version",
            }),
        ),
        (
            "version 8 beats a missing key",
            base(&[(3, ""), (4, "Sec-WebSocket-Version: 8")], &[]),
            Err(E::UnsupportedVersion),
        ),
        (
            "missing key",
            base(&[(3, "")], &[]),
            Err(E::MissingHeader {
                name: "Sec-WebSocket-Key",
            }),
        ),
        (
            "short key",
            base(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "key not base64",
            base(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!!==")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "key of 17 bytes",
            base(&[(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZXg=")], &[]),
            Err(E::InvalidKey),
        ),
        (
            "two keys",
            base(&[], &[KEY_LINE]),
            Err(E::DuplicateHeader {
                name: "Sec-WebSocket-Key",
            }),
        ),
        (
            "protocol with a space",
            base(&[], &["Sec-WebSocket-Protocol: chat room"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "protocol with a separator",
            base(&[], &["Sec-WebSocket-Protocol: chat, (v2)"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Protocol",
            }),
        ),
        (
            "extension parameter without a name",
            base(&[], &["Sec-WebSocket-Extensions: permessage-deflate; =1"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Extensions",
            }),
        ),
        (
            "extension with an unterminated quote",
            base(&[], &["Sec-WebSocket-Extensions: x; a=\"b"]),
            Err(E::InvalidHeader {
                name: "Sec-WebSocket-Extensions",
            }),
        ),
        (
            "two Origins",
            base(&[], &["Origin: http://a", "Origin: http://b"]),
            Err(E::DuplicateHeader { name: "Origin" }),
        ),
        (
            "space in a header name",
            base(&[], &["Bad Name: x"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "line without a colon",
            base(&[], &["NoColon"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "folded header line",
            base(&[], &["X-A: b", " folded"]),
            Err(E::Syntax(SyntaxError::HeaderName)),
        ),
        (
            "control character in a value",
            base(&[], &["X-A: a\u{1}b"]),
            Err(E::Syntax(SyntaxError::HeaderValue)),
        ),
        (
            "CR without LF",
            base(&[], &["\rX: y"]),
            Err(E::Syntax(SyntaxError::NewLine)),
        ),
        (
            "65 headers",
            req(GET, &many[..65]),
            Err(E::TooManyHeaders { limit: 64 }),
        ),
        (
            "head over 8 KiB",
            base(&[], &[&big]),
            Err(E::HeadTooLarge { limit: 8192 }),
        ),
        (
            "method before everything",
            req("PUT /chat HTTP/1.1", &["Host: a b"]),
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
    let head = base(&[], &[]);
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
    let short = base(&[], &["X-Pad: "]);
    let pad = "p".repeat(len - short.len());
    let line = format!("X-Pad: {pad}");
    base(&[], &[&line])
}

/// Bytes examined when `input` arrives one byte per call.
fn scanned_byte_at_a_time(input: &[u8], limits: Limits) -> usize {
    let mut p = ServerHandshake::new(limits);
    for n in 1..=input.len() {
        if p.parse(&input[..n]).unwrap().is_complete() {
            assert_eq!(n, input.len());
            return p.bytes_scanned();
        }
    }
    panic!("request did not complete");
}

#[test]
fn scanning_is_linear_in_the_input() {
    let limits = Limits {
        max_head_bytes: 64 * 1024,
        ..Limits::default()
    };
    let one = request_of_len(1000);
    let sixteen = request_of_len(16_000);
    assert_eq!((one.len(), sixteen.len()), (1000, 16_000));
    let a = scanned_byte_at_a_time(&one, limits);
    let b = scanned_byte_at_a_time(&sixteen, limits);
    // Each byte is examined exactly once, however the input is split.
    assert_eq!(a, one.len());
    assert_eq!(b, sixteen.len());
    assert_eq!(b, 16 * a);
    // Whole-buffer parsing examines the same bytes.
    let mut p = ServerHandshake::new(limits);
    assert!(p.parse(&sixteen).unwrap().is_complete());
    assert_eq!(p.bytes_scanned(), sixteen.len());
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
    assert_eq!(p.bytes_scanned(), 1024);
    // The error sticks.
    assert_eq!(p.parse(&input).map(|_| ()), Err(err));
    assert_eq!(err.http_status(), 431);
}

#[test]
fn configurable_limits() {
    let input = base(&[], &["X-A: 1", "X-B: 2"]);
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
    let first = base(&[], &[]);
    assert!(p.parse(&first).unwrap().is_complete());
    p.reset();
    let second = req(
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
    let input = base(
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
fn response_without_offer_check() {
    let accept = rfc6455::handshake::accept_key(KEY.as_bytes());
    let mut out = [0u8; 256];
    let response = ServerResponse {
        protocol: Some("anything"),
        ..Default::default()
    };
    let n = write_response(&accept, &response, &mut out).unwrap();
    assert!(out[..n].ends_with(b"Sec-WebSocket-Protocol: anything\r\n\r\n"));
    let bad = ServerResponse {
        protocol: Some("not a token"),
        ..Default::default()
    };
    assert_eq!(
        write_response(&accept, &bad, &mut out),
        Err(BuildError::InvalidProtocol { index: 0 })
    );
}

#[test]
fn rejections_match_errors() {
    let mut out = [0u8; 256];
    let version = base(&[(4, "Sec-WebSocket-Version: 7")], &[]);
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
    let missing = base(&[(0, "")], &[]);
    let err = ServerHandshake::default()
        .parse(&missing)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.http_status(), 400);
    let n = err.write_rejection(&mut out).unwrap();
    assert!(out[..n].starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert_eq!(err.to_string(), "missing Host header");
}
