//! Tunnels through an HTTP proxy (RFC 9110 section 9.3.6): the `CONNECT` request a client
//! sends to the proxy, and the parser of the proxy's answer.
//!
//! The client connects to the proxy, sends [`ConnectRequest::encode`]'s bytes, and feeds
//! what comes back to a [`ConnectHandshake`] until the head is complete. A 2xx status
//! means the proxy now relays bytes both ways: the TLS handshake (for `wss://`) and the
//! WebSocket handshake then run through the tunnel as over a direct connection. Any other
//! status is [`ProxyError::Refused`] (407: the proxy wants credentials, or other ones).
//! Nothing here needs an allocator.
//!
//! ```
//! use rfc6455::handshake::{ConnectHandshake, ConnectRequest, Limits, ProxyError, Status};
//!
//! let request = ConnectRequest::new("example.com", 443).basic_auth("aladdin", "opensesame");
//! let mut out = [0u8; 256];
//! let n = request.encode(&mut out).unwrap();
//! assert_eq!(
//!     &out[..n],
//!     &b"CONNECT example.com:443 HTTP/1.1\r\n\
//!        Host: example.com:443\r\n\
//!        Proxy-Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n\r\n"[..]
//! );
//!
//! let mut handshake = ConnectHandshake::new(Limits::default());
//! let reply = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03";
//! assert!(matches!(handshake.parse(&reply[..20]), Ok(Status::Partial)));
//! let Status::Complete { value, consumed } = handshake.parse(reply).unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(value.status(), 200);
//! // Bytes after the head came from the target through the tunnel: keep them.
//! assert_eq!(&reply[consumed..], b"\x16\x03");
//!
//! let refused = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
//!     Proxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n";
//! let err = ConnectHandshake::new(Limits::default()).parse(refused).unwrap_err();
//! assert_eq!(err, ProxyError::Refused { status: 407 });
//! assert_eq!(err.status(), Some(407));
//! ```

use core::fmt;
use core::mem::MaybeUninit;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Status;
use super::error::{BuildError, HandshakeError, SyntaxError};
use super::headers::{HeaderIter, HeaderSource};
use super::limits::{HEADER_CAPACITY, HeadScanner, Limits};
use super::server::is_valid_host;
use super::write::Out;

/// Interim (1xx) answers skipped before the final one; more are [`ProxyError::Refused`].
const MAX_INTERIM: usize = 4;

/// A `CONNECT` request: the target's host and port, and Basic credentials for the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectRequest<'a> {
    /// The target host: a DNS name or an IP address (IPv6 without brackets; they are
    /// added).
    pub host: &'a str,
    /// The target port.
    pub port: u16,
    /// `(user, password)` for `Proxy-Authorization: Basic` (RFC 7617): the user may not
    /// contain `:`; neither may contain control characters. Sent as UTF-8.
    pub basic_auth: Option<(&'a str, &'a str)>,
}

impl<'a> ConnectRequest<'a> {
    /// A request for a tunnel to `host:port`, without credentials.
    pub const fn new(host: &'a str, port: u16) -> Self {
        ConnectRequest {
            host,
            port,
            basic_auth: None,
        }
    }

    /// Sets [`basic_auth`](Self::basic_auth).
    pub const fn basic_auth(mut self, user: &'a str, password: &'a str) -> Self {
        self.basic_auth = Some((user, password));
        self
    }

    fn check(&self) -> Result<(), BuildError> {
        let host = self.host.as_bytes();
        // Brackets are ours to add; a host is one authority component.
        if !is_valid_host(host) || host.contains(&b'[') || host.contains(&b']') || self.port == 0 {
            return Err(BuildError::InvalidField { field: "host" });
        }
        if let Some((user, password)) = self.basic_auth {
            let control = |s: &str| s.bytes().any(|b| b < 0x20 || b == 0x7f);
            if control(user) || user.contains(':') {
                return Err(BuildError::InvalidField { field: "user" });
            }
            if control(password) {
                return Err(BuildError::InvalidField { field: "password" });
            }
        }
        Ok(())
    }

    /// Writes the request into `out`; returns the bytes written:
    /// `CONNECT host:port HTTP/1.1`, `Host: host:port`, and `Proxy-Authorization` when
    /// there are credentials.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidField`] for a host that cannot be sent or port 0 (`"host"`),
    /// a user with `:` or control characters (`"user"`), a password with control
    /// characters (`"password"`); [`BuildError::BufferTooSmall`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BuildError> {
        self.check()?;
        let mut w = Out::new(out);
        w.put(b"CONNECT ");
        self.put_authority(&mut w);
        w.put(b" HTTP/1.1\r\nHost: ");
        self.put_authority(&mut w);
        w.put(b"\r\n");
        if let Some((user, password)) = self.basic_auth {
            w.put(b"Proxy-Authorization: Basic ");
            put_base64(&mut w, [user.as_bytes(), b":", password.as_bytes()]);
            w.put(b"\r\n");
        }
        w.finish()
    }

    /// [`encode`](Self::encode) into a new vector.
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode), without `BufferTooSmall`.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn encode_to_vec(&self) -> Result<alloc::vec::Vec<u8>, BuildError> {
        super::to_vec(|out| self.encode(out))
    }

    fn put_authority(&self, w: &mut Out<'_>) {
        let ipv6 = self.host.contains(':');
        if ipv6 {
            w.put(b"[");
        }
        w.put(self.host.as_bytes());
        if ipv6 {
            w.put(b"]");
        }
        w.put(b":");
        let mut digits = [0u8; 5];
        let mut port = self.port;
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (port % 10) as u8;
            port /= 10;
            if port == 0 {
                break;
            }
        }
        w.put(&digits[start..]);
    }
}

/// Base64 (with padding) of the concatenated `parts`, three bytes at a time, without an
/// intermediate buffer.
fn put_base64<const N: usize>(w: &mut Out<'_>, parts: [&[u8]; N]) {
    let mut group = [0u8; 3];
    let mut filled = 0;
    let mut encoded = [0u8; 4];
    for &byte in parts.iter().flat_map(|p| p.iter()) {
        group[filled] = byte;
        filled += 1;
        if filled == 3 {
            let n = STANDARD.encode_slice(group, &mut encoded).unwrap_or(0);
            w.put(&encoded[..n]);
            filled = 0;
        }
    }
    if filled > 0 {
        let n = STANDARD
            .encode_slice(&group[..filled], &mut encoded)
            .unwrap_or(0);
        w.put(&encoded[..n]);
    }
}

/// Why a proxy did not open the tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered with a status other than 2xx: e.g. 407 (credentials missing or
    /// wrong; its `Proxy-Authenticate` header says which scheme it wants), 403 (the
    /// target is not allowed), 502 (the proxy could not reach the target). Also a 101,
    /// or more than four interim (1xx) answers.
    Refused {
        /// The status code received.
        status: u16,
    },
    /// The answer is not an HTTP/1.x response head within the [`Limits`]: a
    /// [`HandshakeError::HeadTooLarge`], [`HandshakeError::TooManyHeaders`] or
    /// [`HandshakeError::Syntax`].
    Head(HandshakeError),
}

impl ProxyError {
    /// The proxy's status, for [`ProxyError::Refused`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ProxyError::Refused { status } => Some(*status),
            ProxyError::Head(_) => None,
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Refused { status: 407 } => {
                f.write_str("proxy answered CONNECT with status 407 (authentication required)")
            }
            ProxyError::Refused { status } => {
                write!(f, "proxy answered CONNECT with status {status}")
            }
            ProxyError::Head(e) => write!(f, "proxy's answer to CONNECT: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyError::Head(e) => Some(e),
            ProxyError::Refused { .. } => None,
        }
    }
}

impl From<HandshakeError> for ProxyError {
    fn from(e: HandshakeError) -> Self {
        ProxyError::Head(e)
    }
}

/// Parses a proxy's answer to a [`ConnectRequest`], from bytes as they arrive.
///
/// Pass the whole buffer received so far on every call; each byte is scanned once.
/// Interim 1xx answers before the final one are skipped (at most four). The
/// [`Limits`] bound the heads together: `max_head_bytes` counts from the buffer's start.
#[derive(Clone, Debug)]
pub struct ConnectHandshake {
    limits: Limits,
    scanner: HeadScanner,
    /// Where the head being scanned starts: after the interim answers.
    offset: usize,
    interim: usize,
}

impl ConnectHandshake {
    /// Expects a proxy's answer within `limits`.
    pub const fn new(limits: Limits) -> Self {
        ConnectHandshake {
            limits,
            scanner: HeadScanner::new(),
            offset: 0,
            interim: 0,
        }
    }

    /// Forgets the bytes scanned so far.
    pub fn reset(&mut self) {
        self.scanner.reset();
        self.offset = 0;
        self.interim = 0;
    }

    /// Parses the proxy's answer at the front of `buf`, the bytes received so far.
    ///
    /// Returns [`Status::Partial`] until a final head is complete, then the 2xx response
    /// and the length of all heads; `&buf[consumed..]` are bytes of the tunnel (from the
    /// target), which belong to whatever runs over it.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Refused`] with the status of a non-2xx answer;
    /// [`ProxyError::Head`] for a head over the limits or not HTTP/1.x. The same error
    /// comes again on later calls with the same or more bytes.
    pub fn parse<'b>(&mut self, buf: &'b [u8]) -> Result<Status<ConnectResponse<'b>>, ProxyError> {
        loop {
            if buf.len() < self.offset {
                self.reset();
            }
            let limits = Limits {
                max_headers: self.limits.max_headers,
                max_head_bytes: self.limits.max_head_bytes.saturating_sub(self.offset),
            };
            let rest = &buf[self.offset..];
            let head = match self.scanner.scan(rest, &limits) {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(Status::Partial),
                Err(HandshakeError::HeadTooLarge { .. }) => {
                    return Err(ProxyError::Head(HandshakeError::HeadTooLarge {
                        limit: self.limits.max_head_bytes,
                    }));
                }
                Err(e) => return Err(ProxyError::Head(e)),
            };
            let bytes = &rest[..head.len];
            let mut storage =
                [const { MaybeUninit::<httparse::Header<'b>>::uninit() }; HEADER_CAPACITY];
            let cap = self.limits.effective_max_headers();
            let mut resp = httparse::Response::new(&mut []);
            let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
                &mut resp,
                bytes,
                &mut storage[..cap],
            );
            let error = match parsed {
                Ok(httparse::Status::Complete(n)) if n == head.len => None,
                Ok(_) => Some(HandshakeError::Syntax(SyntaxError::NewLine)),
                Err(httparse::Error::TooManyHeaders) => {
                    Some(HandshakeError::TooManyHeaders { limit: cap })
                }
                Err(e) => Some(HandshakeError::Syntax(SyntaxError::from_httparse(e))),
            };
            if let Some(e) = error {
                return Err(ProxyError::Head(e));
            }
            let status = resp.code.unwrap_or_default();
            match status {
                200..=299 => {
                    let consumed = self.offset + head.len;
                    return Ok(Status::Complete {
                        value: ConnectResponse {
                            status,
                            reason: resp.reason.unwrap_or(""),
                            headers: HeaderSource::Raw(&bytes[head.headers_start..]),
                        },
                        consumed,
                    });
                }
                100 | 102..=199 if self.interim < MAX_INTERIM => {
                    self.interim += 1;
                    self.offset += head.len;
                    self.scanner = HeadScanner::new();
                }
                _ => return Err(ProxyError::Refused { status }),
            }
        }
    }
}

/// A proxy's 2xx answer to `CONNECT`, borrowing the bytes it was parsed from.
#[derive(Clone, Copy, Debug)]
pub struct ConnectResponse<'b> {
    status: u16,
    reason: &'b str,
    headers: HeaderSource<'b>,
}

impl<'b> ConnectResponse<'b> {
    /// The status, 200 to 299.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (`Connection established`), possibly empty.
    pub fn reason(&self) -> &'b str {
        self.reason
    }

    /// The trimmed value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers.get(name)
    }

    /// All header fields, in order.
    pub fn headers(&self) -> HeaderIter<'b> {
        self.headers.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &ConnectRequest<'_>) -> Result<([u8; 256], usize), BuildError> {
        let mut out = [0u8; 256];
        let n = request.encode(&mut out)?;
        Ok((out, n))
    }

    #[test]
    fn requests() {
        let (out, n) = encode(&ConnectRequest::new("example.com", 9001)).unwrap();
        assert_eq!(
            &out[..n],
            b"CONNECT example.com:9001 HTTP/1.1\r\nHost: example.com:9001\r\n\r\n"
        );
        let (out, n) = encode(&ConnectRequest::new("::1", 1)).unwrap();
        assert_eq!(
            &out[..n],
            b"CONNECT [::1]:1 HTTP/1.1\r\nHost: [::1]:1\r\n\r\n"
        );
        let (out, n) = encode(&ConnectRequest::new("10.0.0.1", 65535)).unwrap();
        assert!(out[..n].starts_with(b"CONNECT 10.0.0.1:65535 HTTP/1.1\r\n"));
        // RFC 7617's example, and padding of one and two bytes.
        for (user, password, b64) in [
            (
                "Aladdin",
                "open sesame",
                &b"QWxhZGRpbjpvcGVuIHNlc2FtZQ=="[..],
            ),
            ("a", "b", b"YTpi"),
            ("ab", "", b"YWI6"),
            ("", "ab", b"OmFi"),
            ("abc", "", b"YWJjOg=="),
            ("user", "p\u{e4}ss", b"dXNlcjpww6Rzcw=="),
        ] {
            let request = ConnectRequest::new("h", 80).basic_auth(user, password);
            let (out, n) = encode(&request).unwrap();
            let expected = [
                &b"CONNECT h:80 HTTP/1.1\r\nHost: h:80\r\nProxy-Authorization: Basic "[..],
                b64,
                b"\r\n\r\n",
            ]
            .concat();
            assert_eq!(&out[..n], &expected[..], "{user:?} {password:?}");
        }
    }

    #[test]
    fn bad_requests() {
        let field = |field| Err(BuildError::InvalidField { field });
        for host in ["", "a b", "[::1]", "[::1", "::1]", "h\r\nX: y", "h/p"] {
            assert_eq!(
                encode(&ConnectRequest::new(host, 80)).map(|r| r.1),
                field("host")
            );
        }
        assert_eq!(
            encode(&ConnectRequest::new("h", 0)).map(|r| r.1),
            field("host")
        );
        let auth = |user, password| encode(&ConnectRequest::new("h", 1).basic_auth(user, password));
        assert_eq!(auth("a:b", "c").map(|r| r.1), field("user"));
        assert_eq!(auth("a\n", "c").map(|r| r.1), field("user"));
        assert_eq!(auth("a", "c\r\n").map(|r| r.1), field("password"));
        assert_eq!(auth("a", "c\x7f").map(|r| r.1), field("password"));
        // A too small buffer reports the whole length.
        let request = ConnectRequest::new("example.com", 443).basic_auth("u", "p");
        let (_, n) = encode(&request).unwrap();
        let mut small = [0u8; 10];
        assert_eq!(
            request.encode(&mut small),
            Err(BuildError::BufferTooSmall { required: n })
        );
        #[cfg(feature = "alloc")]
        assert_eq!(request.encode_to_vec().unwrap().len(), n);
    }

    /// Parses `input` whole, and fed one more byte at a time from every split point; all
    /// must agree. Returns the whole parse's outcome as (status, consumed).
    fn parse_all(input: &[u8], limits: Limits) -> Result<(u16, usize), ProxyError> {
        let whole = ConnectHandshake::new(limits)
            .parse(input)
            .map(|s| s.complete().map(|(r, n)| (r.status(), n)));
        for split in 0..=input.len() {
            let mut handshake = ConnectHandshake::new(limits);
            let mut outcome = handshake
                .parse(&input[..split])
                .map(|s| s.complete().map(|(r, n)| (r.status(), n)));
            if outcome.as_ref().is_ok_and(|o| o.is_none()) {
                for end in split + 1..=input.len() {
                    outcome = handshake
                        .parse(&input[..end])
                        .map(|s| s.complete().map(|(r, n)| (r.status(), n)));
                    if !outcome.as_ref().is_ok_and(|o| o.is_none()) {
                        break;
                    }
                }
            }
            assert_eq!(outcome, whole, "split at {split} of {input:?}");
            // Errors and complete heads stay as they are with the same bytes.
            let again = handshake
                .parse(input)
                .map(|s| s.complete().map(|(r, n)| (r.status(), n)));
            assert_eq!(again, whole, "again after split at {split}");
        }
        whole.map(|o| o.expect("complete"))
    }

    #[test]
    fn established() {
        let l = Limits::default();
        let head =
            b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test/1\r\nVia: 1.1 p\r\n\r\n";
        assert_eq!(parse_all(head, l), Ok((200, head.len())));
        let Status::Complete { value, .. } = ConnectHandshake::new(l).parse(head).unwrap() else {
            unreachable!()
        };
        assert_eq!(value.reason(), "Connection established");
        assert_eq!(value.header("proxy-agent"), Some(&b"test/1"[..]));
        assert_eq!(value.headers().count(), 2);
        // HTTP/1.0, LF line ends, an empty reason, another 2xx.
        assert_eq!(parse_all(b"HTTP/1.0 200 OK\n\n", l), Ok((200, 17)));
        assert_eq!(parse_all(b"HTTP/1.1 204 \r\n\r\n", l), Ok((204, 17)));
        // Interim answers are skipped; consumed covers them.
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
        assert_eq!(parse_all(interim, l), Ok((200, interim.len())));
    }

    #[test]
    fn bytes_after_the_head_are_the_tunnels() {
        let input = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n\x81\x05hello";
        let (status, consumed) = parse_all(input, Limits::default()).unwrap();
        assert_eq!(status, 200);
        assert_eq!(&input[consumed..], b"\x81\x05hello");
        // Even bytes that look like another head.
        let input = b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 407 No\r\n\r\n";
        assert_eq!(parse_all(input, Limits::default()), Ok((200, 19)));
    }

    #[test]
    fn refusals_carry_the_status() {
        let l = Limits::default();
        let auth = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
            Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse_all(auth, l), Err(ProxyError::Refused { status: 407 }));
        let forbidden = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden";
        let err = parse_all(forbidden, l).unwrap_err();
        assert_eq!(err, ProxyError::Refused { status: 403 });
        assert_eq!(err.status(), Some(403));
        for (input, status) in [
            (&b"HTTP/1.1 502 Bad Gateway\r\n\r\n"[..], 502),
            (b"HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n", 301),
            (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 101),
            (
                b"HTTP/1.1 199 Odd\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n",
                404,
            ),
        ] {
            assert_eq!(parse_all(input, l), Err(ProxyError::Refused { status }));
        }
        // At most four interim answers.
        let many = b"HTTP/1.1 100 C\r\n\r\n".repeat(5);
        assert_eq!(
            parse_all(&many, l),
            Err(ProxyError::Refused { status: 100 })
        );
        let four = [
            &b"HTTP/1.1 100 C\r\n\r\n".repeat(4)[..],
            b"HTTP/1.1 200 OK\r\n\r\n",
        ]
        .concat();
        assert_eq!(parse_all(&four, l), Ok((200, four.len())));
    }

    #[test]
    fn garbage_and_limits() {
        let l = Limits::default();
        for input in [
            &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
            b"HTTP/2 200\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"\x16\x03\x01\x00\x05hello\r\n\r\n",
        ] {
            let err = parse_all(input, l).unwrap_err();
            assert!(
                matches!(err, ProxyError::Head(HandshakeError::Syntax(_))),
                "{input:?}: {err:?}"
            );
            assert_eq!(err.status(), None);
        }
        assert_eq!(
            parse_all(b"HTTP/1.1 200 OK\r\n\rX", l),
            Err(ProxyError::Head(HandshakeError::Syntax(
                SyntaxError::NewLine
            )))
        );
        let small = Limits {
            max_headers: 2,
            max_head_bytes: 64,
        };
        let long = [&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'a'; 64], b"\r\n\r\n"].concat();
        assert_eq!(
            parse_all(&long, small),
            Err(ProxyError::Head(HandshakeError::HeadTooLarge { limit: 64 }))
        );
        let lines = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(
            parse_all(lines, small),
            Err(ProxyError::Head(HandshakeError::TooManyHeaders {
                limit: 2
            }))
        );
        // The limit counts interim heads too.
        let interim = [
            &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
            b"HTTP/1.1 200 Connection established\r\n\r\n",
        ]
        .concat();
        assert!(interim.len() > 60);
        let tight = Limits {
            max_headers: 2,
            max_head_bytes: 60,
        };
        assert_eq!(
            parse_all(&interim, tight),
            Err(ProxyError::Head(HandshakeError::HeadTooLarge { limit: 60 }))
        );
        // Nothing yet, and an unfinished head, are partial.
        let mut h = ConnectHandshake::new(l);
        assert!(matches!(h.parse(b""), Ok(Status::Partial)));
        assert!(matches!(
            h.parse(b"HTTP/1.1 200 OK\r\n"),
            Ok(Status::Partial)
        ));
        h.reset();
        assert!(h.parse(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().is_complete());
    }
}
