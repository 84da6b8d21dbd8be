//! Errors of the opening handshake: what a peer's bytes got wrong ([`HandshakeError`]) and
//! why an outgoing request or response could not be written ([`BuildError`]).

use core::fmt;

/// The part of an HTTP head that `httparse` found malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyntaxError {
    /// A header name with a character outside `token`, or a line that is not a header.
    HeaderName,
    /// A header value with a forbidden control character.
    HeaderValue,
    /// A line ending other than CRLF or LF.
    NewLine,
    /// A malformed status line (response).
    Status,
    /// A malformed method or request-target (request).
    Token,
    /// A malformed or unknown HTTP version.
    Version,
}

impl SyntaxError {
    pub(crate) fn from_httparse(err: httparse::Error) -> Self {
        match err {
            httparse::Error::HeaderName => SyntaxError::HeaderName,
            httparse::Error::HeaderValue => SyntaxError::HeaderValue,
            httparse::Error::NewLine => SyntaxError::NewLine,
            httparse::Error::Status => SyntaxError::Status,
            httparse::Error::Token => SyntaxError::Token,
            // `TooManyHeaders` is mapped by the caller; anything else is version trouble.
            _ => SyntaxError::Version,
        }
    }

    fn as_str(&self) -> &'static str {
        match self {
            SyntaxError::HeaderName => "invalid header name",
            SyntaxError::HeaderValue => "invalid header value",
            SyntaxError::NewLine => "invalid line ending",
            SyntaxError::Status => "invalid status line",
            SyntaxError::Token => "invalid method or request target",
            SyntaxError::Version => "invalid HTTP version",
        }
    }
}

/// A peer's handshake broke RFC 6455 section 4, HTTP/1.1 syntax, or a configured limit.
///
/// Errors found in a client's request map to the HTTP status a server should reject it
/// with through [`http_status`](Self::http_status); a server builds that response with
/// [`write_rejection`](Self::write_rejection). Header names in the variants are the
/// canonical spellings, e.g. `"Sec-WebSocket-Key"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head (start line, headers and the blank line) did not end within the limit.
    HeadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The head has more header lines than the limit.
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The head is not valid HTTP/1.1.
    Syntax(SyntaxError),
    /// The request method is not `GET`.
    Method,
    /// The HTTP version is below 1.1.
    HttpVersion,
    /// The request target is neither a path (`/chat?x`) nor an absolute URI.
    Target,
    /// A required header is absent.
    MissingHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A header that may appear only once appears more than once.
    DuplicateHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A header's value is malformed (e.g. an empty `Host`, a bad extension list).
    InvalidHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A list header lacks the token the handshake needs (`Upgrade: websocket`,
    /// `Connection: upgrade`).
    MissingToken {
        /// The header's name.
        name: &'static str,
        /// The token that was expected.
        token: &'static str,
    },
    /// `Sec-WebSocket-Key` is not base64 of 16 bytes.
    InvalidKey,
    /// `Sec-WebSocket-Version` is not 13; answered with 426 and `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// The server answered with a status other than 101.
    UnexpectedStatus {
        /// The status code received.
        code: u16,
    },
    /// `Sec-WebSocket-Accept` does not match the key that was sent.
    AcceptMismatch,
    /// The server selected a subprotocol the client did not offer (or offered none).
    ProtocolNotOffered,
    /// The server accepted an extension the client did not offer.
    ExtensionNotOffered,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with: 431 for an exceeded header limit,
    /// 426 for an unsupported `Sec-WebSocket-Version`, 400 for everything else.
    ///
    /// Errors found in a server's response (unexpected status, accept mismatch, ...) have
    /// nobody to answer; they report 400 as well.
    pub fn http_status(&self) -> u16 {
        match self {
            HandshakeError::HeadTooLarge { .. } | HandshakeError::TooManyHeaders { .. } => 431,
            HandshakeError::UnsupportedVersion => 426,
            _ => 400,
        }
    }

    /// Whether the request was a well-formed HTTP/1.1 `GET` with a `Host` but no `Upgrade`
    /// header: an ordinary web request (a page, a favicon), not a failed WebSocket
    /// handshake. A server that shares its port with plain HTTP serves it instead of
    /// rejecting it. The head was complete: the request line is at the front of the buffer
    /// that was parsed, and the head ends at the first blank line.
    ///
    /// ```
    /// use rfc6455::handshake::{Limits, ServerHandshake};
    ///
    /// let page = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    /// let err = ServerHandshake::new(Limits::default()).parse(page).unwrap_err();
    /// assert!(err.is_plain_http());
    /// let bad = b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: h2c\r\n\r\n";
    /// let err = ServerHandshake::new(Limits::default()).parse(bad).unwrap_err();
    /// assert!(!err.is_plain_http()); // an upgrade, to something else: answer 400
    /// ```
    pub fn is_plain_http(&self) -> bool {
        matches!(self, HandshakeError::MissingHeader { name } if *name == super::headers::UPGRADE)
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::HeadTooLarge { limit } => {
                write!(f, "HTTP head exceeds the limit of {limit} bytes")
            }
            HandshakeError::TooManyHeaders { limit } => {
                write!(f, "more than {limit} header lines")
            }
            HandshakeError::Syntax(kind) => write!(f, "malformed HTTP head: {}", kind.as_str()),
            HandshakeError::Method => f.write_str("request method is not GET"),
            HandshakeError::HttpVersion => f.write_str("HTTP version below 1.1"),
            HandshakeError::Target => f.write_str("request target is not a path or absolute URI"),
            HandshakeError::MissingHeader { name } => write!(f, "missing {name} header"),
            HandshakeError::DuplicateHeader { name } => write!(f, "{name} header repeated"),
            HandshakeError::InvalidHeader { name } => write!(f, "malformed {name} header"),
            HandshakeError::MissingToken { name, token } => {
                write!(f, "{name} header lacks the {token:?} token")
            }
            HandshakeError::InvalidKey => {
                f.write_str("Sec-WebSocket-Key is not base64 of 16 bytes")
            }
            HandshakeError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version is not 13"),
            HandshakeError::UnexpectedStatus { code } => {
                write!(f, "server answered with status {code}, not 101")
            }
            HandshakeError::AcceptMismatch => {
                f.write_str("Sec-WebSocket-Accept does not match the key sent")
            }
            HandshakeError::ProtocolNotOffered => {
                f.write_str("server selected a subprotocol that was not offered")
            }
            HandshakeError::ExtensionNotOffered => {
                f.write_str("server accepted an extension that was not offered")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HandshakeError {}

/// An outgoing request or response could not be written.
///
/// These are mistakes of the local application (or a too small buffer), never of the peer.
/// Indices refer to the slice the offending item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildError {
    /// The output buffer is too small; `required` bytes are needed.
    BufferTooSmall {
        /// The full length of the output.
        required: usize,
    },
    /// A fixed field (`"host"`, `"target"`, `"origin"`, `"reason"`, `"status"`) holds a
    /// value that cannot be sent.
    InvalidField {
        /// The field's name.
        field: &'static str,
    },
    /// A subprotocol is not a token.
    InvalidProtocol {
        /// Its index in the protocol list.
        index: usize,
    },
    /// A subprotocol is listed twice.
    DuplicateProtocol {
        /// The index of the second occurrence.
        index: usize,
    },
    /// An extension string is not a valid `Sec-WebSocket-Extensions` value.
    InvalidExtension {
        /// Its index in the extension list.
        index: usize,
    },
    /// An extra header has an invalid name or value.
    InvalidHeader {
        /// Its index in the extra header list.
        index: usize,
    },
    /// An extra header is one the handshake writes itself (`Host`, `Upgrade`,
    /// `Connection`, `Sec-WebSocket-*`, `Content-Length`).
    ReservedHeader {
        /// Its index in the extra header list.
        index: usize,
    },
    /// The server response selects a subprotocol the client did not offer.
    ProtocolNotOffered,
    /// The server response accepts an extension the client did not offer.
    ExtensionNotOffered {
        /// Its index in the extension list.
        index: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::BufferTooSmall { required } => {
                write!(f, "output buffer too small: {required} bytes needed")
            }
            BuildError::InvalidField { field } => write!(f, "invalid {field}"),
            BuildError::InvalidProtocol { index } => {
                write!(f, "subprotocol #{index} is not a token")
            }
            BuildError::DuplicateProtocol { index } => {
                write!(f, "subprotocol #{index} is listed twice")
            }
            BuildError::InvalidExtension { index } => {
                write!(f, "extension #{index} is malformed")
            }
            BuildError::InvalidHeader { index } => {
                write!(f, "extra header #{index} has an invalid name or value")
            }
            BuildError::ReservedHeader { index } => {
                write!(
                    f,
                    "extra header #{index} is written by the handshake itself"
                )
            }
            BuildError::ProtocolNotOffered => {
                f.write_str("selected subprotocol was not offered by the client")
            }
            BuildError::ExtensionNotOffered { index } => {
                write!(f, "extension #{index} was not offered by the client")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BuildError {}
