//! The server's side: parsing and validating a client's upgrade request
//! (RFC 6455 section 4.2.1) and writing the `101 Switching Protocols` response
//! (section 4.2.2).

use core::mem::MaybeUninit;

use super::Status;
use super::accept::{AcceptKey, is_valid_key};
use super::error::{BuildError, HandshakeError, SyntaxError};
use super::extensions::{ExtensionList, is_extension_list};
use super::headers::{
    Extensions, HOST, HeaderIter, HeaderSource, Known, ORIGIN, Protocols, SEC_ACCEPT,
    SEC_EXTENSIONS, SEC_KEY, SEC_PROTOCOL, SEC_VERSION, check_upgrade_headers, classify, is_token,
    list_contains, list_items, trim_ows,
};
use super::limits::{HEADER_CAPACITY, HeadScanner, Limits};
use super::write::{Out, check_extensions, check_extra_headers};

/// Parses a client's opening handshake from bytes as they arrive.
///
/// Pass the whole buffer received so far to [`parse`](Self::parse) after every read: the
/// parser remembers how far it scanned, so each byte is looked at once however the input
/// is split, and `httparse` runs once, when the head is complete. The [`Limits`] are
/// enforced during the scan, so a head that never ends fails at the size limit.
#[derive(Clone, Debug)]
pub struct ServerHandshake {
    limits: Limits,
    scanner: HeadScanner,
}

impl ServerHandshake {
    /// A parser with the given limits.
    pub const fn new(limits: Limits) -> Self {
        ServerHandshake {
            limits,
            scanner: HeadScanner::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets the bytes scanned so far, to parse a new request.
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

    /// Parses and validates the request at the front of `buf`, the bytes received so far.
    ///
    /// Returns [`Status::Partial`] until the head is complete, then the validated request
    /// and the length of the head; bytes after it (`&buf[consumed..]`) belong to the
    /// WebSocket connection.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] for a head over the [`Limits`], malformed HTTP, or a request
    /// that is not a valid WebSocket upgrade; answer it with
    /// [`HandshakeError::write_rejection`]. Limit errors repeat on later calls.
    pub fn parse<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Request<'b>>, HandshakeError> {
        let Some(head) = self.scanner.scan(buf, &self.limits)? else {
            return Ok(Status::Partial);
        };
        let bytes = &buf[..head.len];
        let mut storage =
            [const { MaybeUninit::<httparse::Header<'b>>::uninit() }; HEADER_CAPACITY];
        let cap = self.limits.effective_max_headers();
        let mut req = httparse::Request::new(&mut []);
        match httparse_request(&mut req, bytes, &mut storage[..cap]) {
            Ok(httparse::Status::Complete(n)) if n == head.len => {}
            Ok(_) => return Err(HandshakeError::Syntax(SyntaxError::NewLine)),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HandshakeError::TooManyHeaders { limit: cap });
            }
            Err(e) => return Err(HandshakeError::Syntax(SyntaxError::from_httparse(e))),
        }
        let request = validate_request(
            req.method.unwrap_or_default(),
            req.version.unwrap_or_default() >= 1,
            req.path.unwrap_or_default(),
            req.headers.iter().map(|h| (h.name, h.value)),
            HeaderSource::Raw(&bytes[head.headers_start..]),
        )?;
        Ok(Status::Complete {
            value: request,
            consumed: head.len,
        })
    }
}

/// Runs `httparse` on a complete request head: the one call per head (counted in tests).
fn httparse_request<'h, 'b>(
    req: &mut httparse::Request<'h, 'b>,
    head: &'b [u8],
    headers: &'h mut [MaybeUninit<httparse::Header<'b>>],
) -> httparse::Result<usize> {
    #[cfg(test)]
    super::work::parse(head.len());
    req.parse_with_uninit_headers(head, headers)
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new(Limits::new())
    }
}

/// A validated WebSocket upgrade request, borrowing the bytes it was parsed from.
///
/// Everything RFC 6455 section 4.2.1 requires has been checked; what is left for the
/// application to decide — the resource, the origin, which subprotocol and extensions to
/// accept — is exposed here.
#[derive(Clone, Copy, Debug)]
pub struct Request<'b> {
    target: &'b str,
    host: &'b str,
    origin: Option<&'b str>,
    key: &'b str,
    headers: HeaderSource<'b>,
}

impl<'b> Request<'b> {
    /// The request target as sent: usually origin-form (`/chat?room=1`), possibly an
    /// absolute URI.
    pub fn target(&self) -> &'b str {
        self.target
    }

    /// The path of the target, without the query (`/chat`).
    pub fn path(&self) -> &'b str {
        split_target(self.target).0
    }

    /// The query of the target, without the `?`.
    pub fn query(&self) -> Option<&'b str> {
        split_target(self.target).1
    }

    /// The `Host` header value.
    pub fn host(&self) -> &'b str {
        self.host
    }

    /// The `Origin` header value, sent by browsers.
    pub fn origin(&self) -> Option<&'b str> {
        self.origin
    }

    /// The `Sec-WebSocket-Key` value (validated: base64 of 16 bytes).
    pub fn key(&self) -> &'b str {
        self.key
    }

    /// The `Sec-WebSocket-Accept` value to answer with.
    pub fn accept_key(&self) -> AcceptKey {
        AcceptKey::from_key(self.key.as_bytes())
    }

    /// The subprotocols offered, in the client's order of preference, across all
    /// `Sec-WebSocket-Protocol` lines.
    pub fn protocols(&self) -> Protocols<'b> {
        Protocols::new(self.headers)
    }

    /// The extensions offered, in order, across all `Sec-WebSocket-Extensions` lines.
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

    pub(crate) fn check_offered(&self, response: &ServerResponse<'_>) -> Result<(), BuildError> {
        if let Some(chosen) = response.protocol {
            if !self.protocols().any(|p| p == chosen) {
                return Err(BuildError::ProtocolNotOffered);
            }
        }
        check_extensions(response.extensions)?;
        for (index, ext) in response.extensions.iter().enumerate() {
            let offered = |name: &str| {
                self.extensions()
                    .any(|o| o.name().eq_ignore_ascii_case(name))
            };
            if !ExtensionList::unchecked(ext).all(|e| offered(e.name())) {
                return Err(BuildError::ExtensionNotOffered { index });
            }
        }
        Ok(())
    }

    /// Writes the `101 Switching Protocols` response accepting this request into `out`;
    /// returns the bytes written.
    ///
    /// # Errors
    ///
    /// [`BuildError::ProtocolNotOffered`] / [`BuildError::ExtensionNotOffered`] if the
    /// response selects something the client did not offer,
    /// [`BuildError::InvalidExtension`] for an extension that is not a valid
    /// `Sec-WebSocket-Extensions` value, [`BuildError::InvalidHeader`] /
    /// [`BuildError::ReservedHeader`] for an extra header that is malformed or one the
    /// handshake writes itself, and [`BuildError::BufferTooSmall`] with the length needed.
    pub fn write_response(
        &self,
        response: &ServerResponse<'_>,
        out: &mut [u8],
    ) -> Result<usize, BuildError> {
        self.check_offered(response)?;
        write_accept(&self.accept_key(), response, out)
    }

    /// [`write_response`](Self::write_response) into a new vector.
    ///
    /// # Errors
    ///
    /// As [`write_response`](Self::write_response), without `BufferTooSmall`.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn response_to_vec(
        &self,
        response: &ServerResponse<'_>,
    ) -> Result<alloc::vec::Vec<u8>, BuildError> {
        self.check_offered(response)?;
        super::to_vec(|out| write_accept(&self.accept_key(), response, out))
    }
}

/// Where a [`Request`]'s parts lie in the head it was parsed from, so that an owned copy
/// of the head can lend the request again without parsing it (`connection::UpgradeRequest`).
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestSpans {
    target: (usize, usize),
    host: (usize, usize),
    origin: Option<(usize, usize)>,
    key: (usize, usize),
    headers: (usize, usize),
}

#[cfg(feature = "alloc")]
impl<'b> Request<'b> {
    /// Where this request's parts lie in `head`, the bytes it was parsed from; `None` for
    /// a request built from an `http` header map.
    pub(crate) fn spans(&self, head: &[u8]) -> Option<RequestSpans> {
        // A single pattern without the `http` feature, two with it.
        #[allow(clippy::infallible_destructuring_match)]
        let block = match self.headers {
            HeaderSource::Raw(block) => block,
            #[cfg(feature = "http")]
            HeaderSource::Http(_) => return None,
        };
        let base = head.as_ptr() as usize;
        let span = |part: &[u8]| {
            let start = (part.as_ptr() as usize).wrapping_sub(base);
            let end = start.wrapping_add(part.len());
            (end <= head.len()).then_some((start, end))
        };
        Some(RequestSpans {
            target: span(self.target.as_bytes())?,
            host: span(self.host.as_bytes())?,
            origin: match self.origin {
                Some(origin) => Some(span(origin.as_bytes())?),
                None => None,
            },
            key: span(self.key.as_bytes())?,
            headers: span(block)?,
        })
    }

    /// The request whose parts `spans` located in `head` (the same bytes, validated then).
    pub(crate) fn from_spans(head: &'b [u8], spans: &RequestSpans) -> Request<'b> {
        let text = |(start, end): (usize, usize)| crate::utf8::from_validated(&head[start..end]);
        Request {
            target: text(spans.target),
            host: text(spans.host),
            origin: spans.origin.map(text),
            key: text(spans.key),
            headers: HeaderSource::Raw(&head[spans.headers.0..spans.headers.1]),
        }
    }
}

/// What the server accepts: the subprotocol and extensions it selected from the client's
/// offers, and headers of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerResponse<'a> {
    /// The selected subprotocol, one of those the client offered.
    pub protocol: Option<&'a str>,
    /// Accepted extensions with their response parameters, each a valid
    /// `Sec-WebSocket-Extensions` value such as `permessage-deflate; server_no_context_takeover`.
    pub extensions: &'a [&'a str],
    /// Further header fields, e.g. `("Set-Cookie", "...")`. The handshake's own headers
    /// are refused.
    pub extra_headers: &'a [(&'a str, &'a str)],
}

/// Writes the `101 Switching Protocols` response with the given accept value into `out`;
/// returns the bytes written. The selection must have passed [`Request::check_offered`]:
/// an offered subprotocol is a token (the request's offers were checked when it was
/// parsed) and the extensions were checked there, so only the extra headers are left.
fn write_accept(
    accept: &AcceptKey,
    response: &ServerResponse<'_>,
    out: &mut [u8],
) -> Result<usize, BuildError> {
    check_extra_headers(response.extra_headers)?;
    let mut w = Out::new(out);
    w.put(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    w.header(SEC_ACCEPT, accept.as_bytes());
    if let Some(p) = response.protocol {
        w.header(SEC_PROTOCOL, p.as_bytes());
    }
    w.list_header(SEC_EXTENSIONS, response.extensions);
    w.extra_headers(response.extra_headers);
    w.finish()
}

/// Splits a request target into path and query. An absolute URI's scheme and authority
/// are dropped; an empty path reads as `/`.
fn split_target(target: &str) -> (&str, Option<&str>) {
    let rest = match target.find("://") {
        Some(i) if !target.starts_with('/') => {
            let after = &target[i + 3..];
            match after.find(['/', '?', '#']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        _ => target,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    (if path.is_empty() { "/" } else { path }, query)
}

/// Origin-form (`/...`) or absolute-form (`scheme://...`).
pub(crate) fn is_valid_target(target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let Some((scheme, _)) = target.split_once("://") else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// `uri-host [ ":" port ]` characters (RFC 3986): unreserved, pct-encoded, sub-delims,
/// `:` and the brackets of an IP literal.
pub(crate) fn is_valid_host(host: &[u8]) -> bool {
    !host.is_empty()
        && host
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&b))
}

fn once<'b>(
    slot: &mut Option<&'b [u8]>,
    value: &'b [u8],
    name: &'static str,
) -> Result<(), HandshakeError> {
    if slot.replace(value).is_some() {
        return Err(HandshakeError::DuplicateHeader { name });
    }
    Ok(())
}

fn utf8<'b>(value: &'b [u8], name: &'static str) -> Result<&'b str, HandshakeError> {
    core::str::from_utf8(value).map_err(|_| HandshakeError::InvalidHeader { name })
}

/// Checks a request against RFC 6455 section 4.2.1. `fields` are the header fields in
/// order; `headers` is where the returned request finds them again.
pub(crate) fn validate_request<'b>(
    method: &str,
    http11: bool,
    target: &'b str,
    fields: impl Iterator<Item = (&'b str, &'b [u8])>,
    headers: HeaderSource<'b>,
) -> Result<Request<'b>, HandshakeError> {
    if method != "GET" {
        return Err(HandshakeError::Method);
    }
    if !http11 {
        return Err(HandshakeError::HttpVersion);
    }
    if !is_valid_target(target) {
        return Err(HandshakeError::Target);
    }
    let (mut host, mut origin, mut key, mut version) = (None, None, None, None);
    let (mut upgrade, mut upgrade_ok, mut connection, mut connection_ok) =
        (false, false, false, false);
    for (name, value) in fields {
        let Some(known) = classify(name) else {
            continue;
        };
        let value = trim_ows(value);
        match known {
            Known::Host => {
                once(&mut host, value, HOST)?;
                if !is_valid_host(value) {
                    return Err(HandshakeError::InvalidHeader { name: HOST });
                }
            }
            Known::Origin => {
                once(&mut origin, value, ORIGIN)?;
                utf8(value, ORIGIN)?;
            }
            Known::Key => once(&mut key, value, SEC_KEY)?,
            Known::Version => once(&mut version, value, SEC_VERSION)?,
            Known::Upgrade => {
                upgrade = true;
                upgrade_ok |= list_contains(value, "websocket");
            }
            Known::Connection => {
                connection = true;
                connection_ok |= list_contains(value, "upgrade");
            }
            Known::Protocol => {
                let list = utf8(value, SEC_PROTOCOL)?;
                if !list_items(list).all(|p| is_token(p.as_bytes())) {
                    return Err(HandshakeError::InvalidHeader { name: SEC_PROTOCOL });
                }
            }
            Known::Extensions => {
                if !is_extension_list(utf8(value, SEC_EXTENSIONS)?) {
                    return Err(HandshakeError::InvalidHeader {
                        name: SEC_EXTENSIONS,
                    });
                }
            }
            Known::Accept => {}
        }
    }
    let host = host.ok_or(HandshakeError::MissingHeader { name: HOST })?;
    check_upgrade_headers(upgrade, upgrade_ok, connection, connection_ok)?;
    match version {
        None => return Err(HandshakeError::MissingHeader { name: SEC_VERSION }),
        Some(b"13") => {}
        Some(_) => return Err(HandshakeError::UnsupportedVersion),
    }
    let key = key.ok_or(HandshakeError::MissingHeader { name: SEC_KEY })?;
    if !is_valid_key(key) {
        return Err(HandshakeError::InvalidKey);
    }
    Ok(Request {
        target,
        // Checked above: host characters and base64 are ASCII.
        host: utf8(host, HOST)?,
        origin: origin.map(|o| utf8(o, ORIGIN)).transpose()?,
        key: utf8(key, SEC_KEY)?,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("/chat?x=1"), ("/chat", Some("x=1")));
        assert_eq!(split_target("/"), ("/", None));
        assert_eq!(split_target("/a#f"), ("/a", None));
        assert_eq!(split_target("ws://h:1/p?q"), ("/p", Some("q")));
        assert_eq!(split_target("ws://h:1?q"), ("/", Some("q")));
        assert_eq!(split_target("ws://h"), ("/", None));
        assert!(is_valid_target("/"));
        assert!(is_valid_target("http://example.com/x"));
        assert!(!is_valid_target("*"));
        assert!(!is_valid_target("example.com:80"));
        assert!(!is_valid_target("1ws://x"));
        assert!(!is_valid_target("://x"));
    }

    #[test]
    fn targets_split_where_the_authority_ends() {
        // Absolute-form: the scheme, "://" and the authority go, whatever their lengths.
        assert_eq!(split_target("http://a/b/c?q"), ("/b/c", Some("q")));
        assert_eq!(split_target("wss://x.example:443/"), ("/", None));
        // Origin-form: a "://" in the query is not an authority.
        assert_eq!(
            split_target("/r?u=http://a/b"),
            ("/r", Some("u=http://a/b"))
        );
        assert_eq!(split_target("/ws://a/b"), ("/ws://a/b", None));
    }

    #[test]
    fn hosts() {
        assert!(is_valid_host(b"example.com:8080"));
        assert!(is_valid_host(b"[::1]:9001"));
        assert!(!is_valid_host(b""));
        assert!(!is_valid_host(b"a b"));
        assert!(!is_valid_host(b"a/b"));
    }
}
