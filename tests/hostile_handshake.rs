//! Hostile peers during the opening handshake: a header line that never ends, 10,000 tiny
//! headers, blank lines forever, a slowloris peer feeding one byte per call. Each case
//! asserts the exact error and HTTP status, the byte at which it comes, and that parsing
//! allocates nothing at all (a counting allocator), so a peer's head costs the embedder
//! its own buffer and nothing more. Real request formats of browsers and tools (the fuzz
//! seeds) are accepted the same way. That each byte is read once (16 times the input costs
//! 16 times the work, whole or split, and a failed head costs nothing more) is counted
//! inside the crate, where the bytes are read: the unit tests in `src/handshake/work.rs`.

mod support;
use support::counting;
use support::heads::NONCE;

use rfc6455::handshake::{
    ClientHandshake, ClientKey, ClientRequest, HandshakeError as E, Limits, ServerHandshake, Status,
};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const MAX_HEAD: usize = Limits::DEFAULT_MAX_HEAD_BYTES;

/// The server parser's outcome, without the borrowed request: the head length or the error.
fn server_parse(p: &mut ServerHandshake, buf: &[u8]) -> Option<Result<usize, E>> {
    match p.parse(buf) {
        Ok(Status::Partial) => None,
        Ok(Status::Complete { consumed, .. }) => Some(Ok(consumed)),
        Err(e) => Some(Err(e)),
    }
}

fn client_parse(h: &mut ClientHandshake<'_>, buf: &[u8]) -> Option<Result<usize, E>> {
    match h.parse_response(buf) {
        Ok(Status::Partial) => None,
        Ok(Status::Complete { consumed, .. }) => Some(Ok(consumed)),
        Err(e) => Some(Err(e)),
    }
}

/// Feed `input` one byte per call, as a slowloris peer would. Returns the outcome, how many
/// bytes had arrived when it came, and the allocations made by all the parse calls.
fn one_byte_at_a_time(
    input: &[u8],
    mut parse: impl FnMut(&[u8]) -> Option<Result<usize, E>>,
) -> (Option<Result<usize, E>>, usize, u64) {
    let mut allocations = 0;
    for n in 1..=input.len() {
        let before = counting::allocs();
        let outcome = parse(&input[..n]);
        allocations += counting::allocs() - before;
        if outcome.is_some() {
            return (outcome, n, allocations);
        }
    }
    (None, input.len(), allocations)
}

fn head_len(input: &[u8]) -> usize {
    let crlf = input
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = input.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    crlf.into_iter().chain(lf).min().expect("a complete head")
}

fn client_request() -> ClientRequest<'static> {
    ClientRequest {
        protocols: &["chat", "superchat"],
        extensions: &["permessage-deflate; client_max_window_bits"],
        ..ClientRequest::new("server.example.com", "/chat")
    }
}

/// Requests real clients sent (captured, see `fuzz/corpus/SOURCES.md`; also the fuzz
/// seeds), plus the RFC's example and hand-written ones: name, bytes, path.
const REQUESTS: &[(&str, &[u8], &str)] = &[
    (
        "rfc6455-1.2",
        include_bytes!("../fuzz/corpus/handshake_request/rfc6455-1.2"),
        "/chat",
    ),
    (
        "chromium",
        include_bytes!("../fuzz/corpus/handshake_request/chromium"),
        "/chat",
    ),
    (
        "firefox",
        include_bytes!("../fuzz/corpus/handshake_request/firefox"),
        "/chat",
    ),
    (
        "curl",
        include_bytes!("../fuzz/corpus/handshake_request/curl"),
        "/chat",
    ),
    (
        "node-ws",
        include_bytes!("../fuzz/corpus/handshake_request/node-ws"),
        "/chat",
    ),
    (
        "python-websockets",
        include_bytes!("../fuzz/corpus/handshake_request/python-websockets"),
        "/chat",
    ),
    (
        "bare-lf",
        include_bytes!("../fuzz/corpus/handshake_request/bare-lf"),
        "/",
    ),
];

#[test]
fn real_client_requests_are_accepted_without_allocating() {
    for &(name, input, path) in REQUESTS {
        let head = head_len(input);
        let mut parser = ServerHandshake::default();
        let before = counting::allocs();
        let Ok(Status::Complete { value, consumed }) = parser.parse(input) else {
            panic!("{name}: not accepted");
        };
        assert_eq!(counting::allocs(), before, "{name}: parsing allocated");
        assert_eq!(consumed, head, "{name}");
        assert_eq!(value.path(), path, "{name}");
        if name == "chromium" {
            assert_eq!(value.query(), Some("room=1"));
            assert_eq!(value.target(), "/chat?room=1");
        }
        let mut parser = ServerHandshake::default();
        let (outcome, at, allocations) =
            one_byte_at_a_time(input, |buf| server_parse(&mut parser, buf));
        assert_eq!(outcome, Some(Ok(head)), "{name}");
        assert_eq!((at, allocations), (head, 0), "{name}");
    }
    // A client speaking version 8 gets 426.
    let old = include_bytes!("../fuzz/corpus/handshake_request/version-8-426");
    let err = ServerHandshake::default()
        .parse(old)
        .map(|_| ())
        .unwrap_err();
    assert_eq!((err, err.http_status()), (E::UnsupportedVersion, 426));
    // curl with the key many tutorials copy: base64 of the 13 bytes "Hello, world!", not of
    // a 16-byte nonce, so section 4.2.1 calls for 400.
    let tutorial = include_bytes!("../fuzz/corpus/handshake_request/curl-13-byte-key");
    let err = ServerHandshake::default()
        .parse(tutorial)
        .map(|_| ())
        .unwrap_err();
    assert_eq!((err, err.http_status()), (E::InvalidKey, 400));
}

#[test]
fn real_server_responses_are_accepted_without_allocating() {
    let responses: &[(&str, &[u8], Result<(), E>)] = &[
        (
            "rfc6455-1.3",
            include_bytes!("../fuzz/corpus/handshake_response/rfc6455-1.3"),
            Ok(()),
        ),
        (
            "node-ws",
            include_bytes!("../fuzz/corpus/handshake_response/node-ws"),
            Ok(()),
        ),
        (
            "python-websockets",
            include_bytes!("../fuzz/corpus/handshake_response/python-websockets"),
            Ok(()),
        ),
        (
            "nginx-proxy",
            include_bytes!("../fuzz/corpus/handshake_response/nginx-proxy"),
            Ok(()),
        ),
        (
            "forbidden-403",
            include_bytes!("../fuzz/corpus/handshake_response/forbidden-403"),
            Err(E::UnexpectedStatus { code: 403 }),
        ),
    ];
    let request = client_request();
    let key = ClientKey::from_nonce(NONCE);
    for (name, input, expected) in responses {
        let head = head_len(input);
        let expected = expected.map(|()| head);
        let mut h = ClientHandshake::new(&request, &key);
        let before = counting::allocs();
        let whole = client_parse(&mut h, input);
        assert_eq!(counting::allocs(), before, "{name}: parsing allocated");
        assert_eq!(whole, Some(expected), "{name}");
        let mut h = ClientHandshake::new(&request, &key);
        let (outcome, at, allocations) = one_byte_at_a_time(input, |buf| client_parse(&mut h, buf));
        assert_eq!(outcome, Some(expected), "{name}");
        assert_eq!((at, allocations), (head, 0), "{name}");
    }
}

/// A head that starts with `start` and then repeats `filler` without end.
fn endless(start: &[u8], filler: &[u8], len: usize) -> Vec<u8> {
    let mut v = start.to_vec();
    while v.len() < len {
        v.extend_from_slice(filler);
    }
    v.truncate(len);
    v
}

#[test]
fn a_header_line_that_never_ends_fails_at_8_kib() {
    let cases: [(&str, &[u8]); 3] = [
        ("header line", b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "),
        ("request line", b"GET /"),
        ("leading blank lines", b"\r\n"),
    ];
    for (name, start) in cases {
        let filler: &[u8] = if name == "leading blank lines" {
            b"\r\n"
        } else {
            b"a"
        };
        let input = endless(start, filler, 3 * MAX_HEAD);
        let mut parser = ServerHandshake::default();
        let (outcome, at, allocations) =
            one_byte_at_a_time(&input, |buf| server_parse(&mut parser, buf));
        let err = E::HeadTooLarge { limit: MAX_HEAD };
        assert_eq!(outcome, Some(Err(err)), "{name}");
        // It fails the moment the head reaches the limit without ending, and keeps failing
        // however much more arrives.
        assert_eq!((at, allocations), (MAX_HEAD, 0), "{name}");
        assert_eq!(server_parse(&mut parser, &input), Some(Err(err)), "{name}");
        assert_eq!(err.http_status(), 431);
        let mut reply = [0u8; 256];
        let n = err.write_rejection(&mut reply).unwrap();
        assert!(reply[..n].starts_with(b"HTTP/1.1 431 "), "{name}");
    }
    // The same for a client reading a server's endless header.
    let input = endless(
        b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: ",
        b"z",
        2 * MAX_HEAD,
    );
    let request = client_request();
    let key = ClientKey::from_nonce(NONCE);
    let mut h = ClientHandshake::new(&request, &key);
    let (outcome, at, allocations) = one_byte_at_a_time(&input, |buf| client_parse(&mut h, buf));
    assert_eq!(outcome, Some(Err(E::HeadTooLarge { limit: MAX_HEAD })));
    assert_eq!((at, allocations), (MAX_HEAD, 0));
}

#[test]
fn ten_thousand_tiny_headers_fail_at_the_header_limit() {
    let start = b"GET / HTTP/1.1\r\n";
    let mut input = start.to_vec();
    for _ in 0..10_000 {
        input.extend_from_slice(b"a:b\r\n");
    }
    input.extend_from_slice(b"\r\n");
    // (limits, error, bytes received when it is found: the first byte of the line over
    // the limit, or the head limit)
    let big = 1 << 20;
    let cases = [
        (
            Limits::default(),
            E::TooManyHeaders { limit: 64 },
            16 + 64 * 5 + 1,
        ),
        // Any larger count acts as the parser's capacity, 128.
        (
            Limits {
                max_headers: 10_000,
                max_head_bytes: big,
            },
            E::TooManyHeaders { limit: 128 },
            16 + 128 * 5 + 1,
        ),
        // Whichever limit is reached first wins.
        (
            Limits {
                max_headers: 64,
                max_head_bytes: 256,
            },
            E::HeadTooLarge { limit: 256 },
            256,
        ),
    ];
    for (limits, err, at) in cases {
        let mut parser = ServerHandshake::new(limits);
        let before = counting::allocs();
        assert_eq!(server_parse(&mut parser, &input), Some(Err(err)));
        assert_eq!(counting::allocs(), before);
        assert_eq!(err.http_status(), 431);
        let mut parser = ServerHandshake::new(limits);
        let (outcome, fed, allocations) =
            one_byte_at_a_time(&input, |buf| server_parse(&mut parser, buf));
        assert_eq!(outcome, Some(Err(err)));
        assert_eq!((fed, allocations), (at, 0), "{limits:?}");
    }
    // A server's response with 10,000 headers.
    let mut response = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
    let status_len = response.len();
    for _ in 0..10_000 {
        response.extend_from_slice(b"a:b\r\n");
    }
    let request = client_request();
    let key = ClientKey::from_nonce(NONCE);
    let mut h = ClientHandshake::new(&request, &key);
    assert_eq!(
        client_parse(&mut h, &response),
        Some(Err(E::TooManyHeaders { limit: 64 }))
    );
    let mut h = ClientHandshake::new(&request, &key);
    let (outcome, fed, allocations) =
        one_byte_at_a_time(&response, |buf| client_parse(&mut h, buf));
    assert_eq!(outcome, Some(Err(E::TooManyHeaders { limit: 64 })));
    assert_eq!((fed, allocations), (status_len + 64 * 5 + 1, 0));
}

/// A valid request of exactly `len` bytes with `headers` extra header lines, padded in the
/// last one.
fn request_of(len: usize, headers: usize) -> Vec<u8> {
    let mut head = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n"
        .to_vec();
    for i in 0..headers - 1 {
        head.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    let pad = len - head.len() - "X-Pad: \r\n\r\n".len();
    head.extend_from_slice(format!("X-Pad: {}\r\n\r\n", "p".repeat(pad)).as_bytes());
    assert_eq!(head.len(), len);
    head
}

#[test]
fn slowloris_heads_complete_at_their_last_byte_without_allocating() {
    let limits = Limits {
        max_headers: 64,
        max_head_bytes: 64 << 10,
    };
    for len in [1000, 16_000] {
        let input = request_of(len, 50);
        let mut parser = ServerHandshake::new(limits);
        let (outcome, at, allocations) =
            one_byte_at_a_time(&input, |buf| server_parse(&mut parser, buf));
        assert_eq!(outcome, Some(Ok(len)));
        assert_eq!((at, allocations), (len, 0));
    }

    // The client side, on a response padded the same way.
    let request = client_request();
    let key = ClientKey::from_nonce(NONCE);
    for len in [1000, 16_000] {
        let mut input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            .to_vec();
        let pad = len - input.len() - "X-Pad: \r\n\r\n".len();
        input.extend_from_slice(format!("X-Pad: {}\r\n\r\n", "p".repeat(pad)).as_bytes());
        let mut h = ClientHandshake::with_limits(&request, &key, limits);
        let (outcome, at, allocations) =
            one_byte_at_a_time(&input, |buf| client_parse(&mut h, buf));
        assert_eq!((outcome, at, allocations), (Some(Ok(len)), len, 0));
    }

    // While a slow head is pending, the parser's state is a few words: the bytes are the
    // embedder's buffer, at most the head limit.
    let state = std::mem::size_of::<ServerHandshake>();
    println!("ServerHandshake: {state} bytes");
    assert!(state <= 128, "{state} bytes");
}
