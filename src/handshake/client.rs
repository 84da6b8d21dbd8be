//! The client's side: writing the upgrade request (RFC 6455 section 4.1) and parsing and
//! validating the server's response.

use core::mem::MaybeUninit;

use super::Status;
use super::accept::{AcceptKey, ClientKey};
use super::error::{BuildError, HandshakeError, SyntaxError};
use super::extensions::{ExtensionList, is_extension_list};
use super::headers::{
    Extensions, HOST, HeaderIter, HeaderSource, Known, ORIGIN, SEC_ACCEPT, SEC_EXTENSIONS, SEC_KEY,
    SEC_PROTOCOL, UPGRADE, check_upgrade_headers, classify, is_token, list_contains, list_is_only,
    trim_ows,
};
use super::limits::{HEADER_CAPACITY, Head, HeadScanner, Limits};
use super::server::{is_valid_host, is_valid_target};
use super::write::{Out, check_extensions, check_extra_headers, check_field};

/// What a client asks for in its opening handshake.
///
/// ```
/// use rfc6455::handshake::{ClientKey, ClientRequest};
///
/// let request = ClientRequest {
///     protocols: &["chat", "superchat"],
///     origin: Some("http://example.com"),
///     ..ClientRequest::new("server.example.com", "/chat")
/// };
/// let key = ClientKey::from_nonce(*b"the sample nonce");
/// let mut out = [0u8; 512];
/// let n = request.encode(&key, &mut out).unwrap();
/// assert_eq!(
///     &out[..n],
///     &b"GET /chat HTTP/1.1\r\n\
///        Host: server.example.com\r\n\
///        Upgrade: websocket\r\n\
///        Connection: Upgrade\r\n\
///        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///        Sec-WebSocket-Version: 13\r\n\
///        Origin: http://example.com\r\n\
///        Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"[..]
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRequest<'a> {
    /// The `Host` header: the URL's host, with `:port` unless it is the scheme's default.
    pub host: &'a str,
    /// The request target: path and query (`/chat?room=1`). Empty, or starting with `?`,
    /// is sent with a leading `/`.
    pub target: &'a str,
    /// The `Origin` header, if any (browsers always send one).
    pub origin: Option<&'a str>,
    /// Subprotocols offered, most preferred first; tokens, each at most once.
    pub protocols: &'a [&'a str],
    /// Extension offers, each a `Sec-WebSocket-Extensions` value such as
    /// `permessage-deflate; client_max_window_bits`.
    pub extensions: &'a [&'a str],
    /// Further header fields, e.g. `("Authorization", "Bearer ...")`. The handshake's own
    /// headers are refused.
    pub extra_headers: &'a [(&'a str, &'a str)],
}

impl<'a> ClientRequest<'a> {
    /// A request for `target` on `host`, with no origin, subprotocols, extensions or
    /// extra headers.
    pub const fn new(host: &'a str, target: &'a str) -> Self {
        ClientRequest {
            host,
            target,
            origin: None,
            protocols: &[],
            extensions: &[],
            extra_headers: &[],
        }
    }

    fn check(&self) -> Result<(), BuildError> {
        if !is_valid_host(self.host.as_bytes()) {
            return Err(BuildError::InvalidField { field: "host" });
        }
        let target = self.target;
        let form_ok = target.is_empty() || target.starts_with('?') || is_valid_target(target);
        if !form_ok || target.bytes().any(|b| b <= 0x20 || b == 0x7f) {
            return Err(BuildError::InvalidField { field: "target" });
        }
        if let Some(origin) = self.origin {
            check_field(origin, "origin")?;
        }
        for (index, p) in self.protocols.iter().enumerate() {
            if !is_token(p.as_bytes()) {
                return Err(BuildError::InvalidProtocol { index });
            }
            if self.protocols[..index].contains(p) {
                return Err(BuildError::DuplicateProtocol { index });
            }
        }
        check_extensions(self.extensions)?;
        check_extra_headers(self.extra_headers)
    }

    /// Writes the request with `key` into `out`; returns the bytes written.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidField`] for a host, target or origin that cannot be sent,
    /// [`BuildError::InvalidProtocol`], [`BuildError::DuplicateProtocol`],
    /// [`BuildError::InvalidExtension`], [`BuildError::InvalidHeader`],
    /// [`BuildError::ReservedHeader`], [`BuildError::BufferTooSmall`].
    pub fn encode(&self, key: &ClientKey, out: &mut [u8]) -> Result<usize, BuildError> {
        self.check()?;
        let mut w = Out::new(out);
        w.put(b"GET ");
        if self.target.is_empty() || self.target.starts_with('?') {
            w.put(b"/");
        }
        w.put(self.target.as_bytes());
        w.put(b" HTTP/1.1\r\n");
        w.header(HOST, self.host.as_bytes());
        w.put(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        w.header(SEC_KEY, key.as_bytes());
        w.put(b"Sec-WebSocket-Version: 13\r\n");
        if let Some(origin) = self.origin {
            w.header(ORIGIN, origin.as_bytes());
        }
        w.list_header(SEC_PROTOCOL, self.protocols);
        w.list_header(SEC_EXTENSIONS, self.extensions);
        w.extra_headers(self.extra_headers);
        w.finish()
    }

    /// [`encode`](Self::encode) into a new vector.
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode), without `BufferTooSmall`.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn encode_to_vec(&self, key: &ClientKey) -> Result<alloc::vec::Vec<u8>, BuildError> {
        super::to_vec(|out| self.encode(key, out))
    }
}

/// Parses and validates the server's response to a [`ClientRequest`], from bytes as they
/// arrive.
///
/// Like [`ServerHandshake`](super::ServerHandshake), pass the whole buffer received so far
/// on every call; each byte is scanned once, and `httparse` runs once the head is
/// complete.
#[derive(Clone, Debug)]
pub struct ClientHandshake<'a> {
    accept: AcceptKey,
    protocols: &'a [&'a str],
    extensions: &'a [&'a str],
    limits: Limits,
    scanner: HeadScanner,
}

impl<'a> ClientHandshake<'a> {
    /// Expects the response to `request` sent with `key`, with the default [`Limits`].
    pub fn new(request: &ClientRequest<'a>, key: &ClientKey) -> Self {
        Self::with_limits(request, key, Limits::new())
    }

    /// Expects the response to `request` sent with `key`, with the given limits.
    pub fn with_limits(request: &ClientRequest<'a>, key: &ClientKey, limits: Limits) -> Self {
        ClientHandshake {
            accept: key.accept_key(),
            protocols: request.protocols,
            extensions: request.extensions,
            limits,
            scanner: HeadScanner::new(),
        }
    }

    /// The `Sec-WebSocket-Accept` value the server must send.
    pub fn expected_accept(&self) -> &AcceptKey {
        &self.accept
    }

    /// Forgets the bytes scanned so far.
    pub fn reset(&mut self) {
        self.scanner.reset();
    }

    /// The bytes the head scanner has moved past since creation: its own position
    /// bookkeeping, so a rescan would not change it (the unit tests in `work.rs` count the
    /// bytes read and the `httparse` calls where they happen). Test-only.
    #[cfg(test)]
    pub(crate) fn bytes_scanned(&self) -> usize {
        self.scanner.examined()
    }

    /// Parses and validates the response at the front of `buf`, the bytes received so far.
    ///
    /// Returns [`Status::Partial`] until the head is complete, then the validated response
    /// and the length of the head; `&buf[consumed..]` holds any frames the server sent
    /// right after it.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] for a head over the [`Limits`], malformed HTTP, a status other
    /// than 101 ([`HandshakeError::UnexpectedStatus`]), or a response that breaks RFC 6455
    /// section 4.1 (the connection must then be failed).
    pub fn parse_response<'b>(
        &mut self,
        buf: &'b [u8],
    ) -> Result<Status<Response<'b>>, HandshakeError> {
        let Some(head) = self.scanner.scan(buf, &self.limits)? else {
            return Ok(Status::Partial);
        };
        let response = self.parse_head(buf, head)?;
        Ok(Status::Complete {
            value: response,
            consumed: head.len,
        })
    }

    /// The rest of [`parse_response`](Self::parse_response), for a head a scanner has
    /// already found in `buf` (the connection scans as bytes arrive): httparse once, then
    /// section 4.1's checks. Scans nothing again.
    pub(crate) fn parse_head<'b>(
        &self,
        buf: &'b [u8],
        head: Head,
    ) -> Result<Response<'b>, HandshakeError> {
        let bytes = &buf[..head.len];
        let mut storage =
            [const { MaybeUninit::<httparse::Header<'b>>::uninit() }; HEADER_CAPACITY];
        let cap = self.limits.effective_max_headers();
        let mut resp = httparse::Response::new(&mut []);
        match httparse_response(&mut resp, bytes, &mut storage[..cap]) {
            Ok(httparse::Status::Complete(n)) if n == head.len => {}
            Ok(_) => return Err(HandshakeError::Syntax(SyntaxError::NewLine)),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HandshakeError::TooManyHeaders { limit: cap });
            }
            Err(e) => return Err(HandshakeError::Syntax(SyntaxError::from_httparse(e))),
        }
        self.validate(
            resp.code.unwrap_or_default(),
            resp.version.unwrap_or_default() >= 1,
            resp.headers.iter().map(|h| (h.name, h.value)),
            HeaderSource::Raw(&bytes[head.headers_start..]),
        )
    }

    fn extension_offered(&self, name: &str) -> bool {
        self.extensions.iter().any(|offer| {
            ExtensionList::unchecked(offer).any(|o| o.name().eq_ignore_ascii_case(name))
        })
    }

    /// Checks a response against RFC 6455 section 4.1 (the client's checks on the
    /// server's handshake).
    pub(crate) fn validate<'b>(
        &self,
        code: u16,
        http11: bool,
        fields: impl Iterator<Item = (&'b str, &'b [u8])>,
        headers: HeaderSource<'b>,
    ) -> Result<Response<'b>, HandshakeError> {
        if code != 101 {
            return Err(HandshakeError::UnexpectedStatus { code });
        }
        if !http11 {
            return Err(HandshakeError::HttpVersion);
        }
        let (mut accept, mut protocol) = (None, None);
        let (mut upgrade, mut upgrade_ok, mut connection, mut connection_ok) =
            (false, false, false, false);
        let mut upgrade_other = false;
        let mut extensions = false;
        for (name, value) in fields {
            let Some(known) = classify(name) else {
                continue;
            };
            let value = trim_ows(value);
            match known {
                Known::Upgrade => {
                    // Section 4.1: the client fails the connection if the field "contains
                    // a value that is not" `websocket` (a server only needs it among
                    // others: section 4.2.1).
                    upgrade = true;
                    upgrade_ok |= list_contains(value, "websocket");
                    upgrade_other |= !list_is_only(value, "websocket");
                }
                Known::Connection => {
                    connection = true;
                    connection_ok |= list_contains(value, "upgrade");
                }
                Known::Accept => {
                    if accept.replace(value).is_some() {
                        return Err(HandshakeError::DuplicateHeader { name: SEC_ACCEPT });
                    }
                }
                Known::Protocol => {
                    if protocol.replace(value).is_some() {
                        return Err(HandshakeError::DuplicateHeader { name: SEC_PROTOCOL });
                    }
                    if !is_token(value) {
                        return Err(HandshakeError::InvalidHeader { name: SEC_PROTOCOL });
                    }
                }
                Known::Extensions => {
                    let ok = core::str::from_utf8(value).is_ok_and(is_extension_list);
                    if !ok {
                        return Err(HandshakeError::InvalidHeader {
                            name: SEC_EXTENSIONS,
                        });
                    }
                    extensions = true;
                }
                Known::Host | Known::Origin | Known::Key | Known::Version => {}
            }
        }
        check_upgrade_headers(upgrade, upgrade_ok, connection, connection_ok)?;
        if upgrade_other {
            return Err(HandshakeError::InvalidHeader { name: UPGRADE });
        }
        match accept {
            None => return Err(HandshakeError::MissingHeader { name: SEC_ACCEPT }),
            Some(a) if a == self.accept.as_bytes() => {}
            Some(_) => return Err(HandshakeError::AcceptMismatch),
        }
        // A token is ASCII, so this conversion cannot fail.
        let protocol = protocol.and_then(|p| core::str::from_utf8(p).ok());
        if let Some(p) = protocol {
            if !self.protocols.contains(&p) {
                return Err(HandshakeError::ProtocolNotOffered);
            }
        }
        if extensions && !Extensions::new(headers).all(|e| self.extension_offered(e.name())) {
            return Err(HandshakeError::ExtensionNotOffered);
        }
        Ok(Response { protocol, headers })
    }
}

/// Runs `httparse` on a complete response head: the one call per head (counted in tests).
fn httparse_response<'h, 'b>(
    resp: &mut httparse::Response<'h, 'b>,
    head: &'b [u8],
    headers: &'h mut [MaybeUninit<httparse::Header<'b>>],
) -> httparse::Result<usize> {
    #[cfg(test)]
    super::work::parse(head.len());
    httparse::ParserConfig::default().parse_response_with_uninit_headers(resp, head, headers)
}

/// A validated `101 Switching Protocols` response, borrowing the bytes it was parsed from.
#[derive(Clone, Copy, Debug)]
pub struct Response<'b> {
    protocol: Option<&'b str>,
    headers: HeaderSource<'b>,
}

impl<'b> Response<'b> {
    /// The subprotocol the server selected (one of those offered), if any.
    pub fn protocol(&self) -> Option<&'b str> {
        self.protocol
    }

    /// The extensions the server accepted, with its parameters, in order; each was
    /// offered by the client.
    pub fn extensions(&self) -> Extensions<'b> {
        Extensions::new(self.headers)
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
