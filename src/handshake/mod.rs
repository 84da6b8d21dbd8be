//! The opening handshake (RFC 6455 section 4): the HTTP/1.1 Upgrade exchange, on bytes,
//! for both roles.
//!
//! Parsing works on the caller's buffer of bytes received so far and never copies: a
//! parsed [`Request`] or [`Response`] borrows it. Output is written into caller buffers.
//! Nothing here needs an allocator; `*_to_vec` conveniences exist with the `alloc`
//! feature. Heads are found incrementally (each byte scanned once however the input is
//! split) within configurable [`Limits`], then parsed with `httparse`.
//!
//! A client behind an HTTP proxy first opens a tunnel with `CONNECT`: [`ConnectRequest`]
//! writes the request, [`ConnectHandshake`] parses the proxy's answer.
//!
//! # Server
//!
//! ```
//! use rfc6455::handshake::{ServerHandshake, ServerResponse, Limits, Status};
//!
//! let mut parser = ServerHandshake::new(Limits::default());
//! let mut received = Vec::new();
//! let mut reply = [0u8; 256];
//! // Bytes arrive in pieces; the last piece also carries the client's first frame.
//! for piece in [
//!     &b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"[..],
//!     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
//!     b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n",
//!     b"Sec-WebSocket-Version: 13\r\n\r\n\x81\x85",
//! ] {
//!     received.extend_from_slice(piece);
//!     match parser.parse(&received) {
//!         Ok(Status::Partial) => continue,
//!         Ok(Status::Complete { value: request, consumed }) => {
//!             assert_eq!(request.path(), "/chat");
//!             assert_eq!(request.origin(), Some("http://example.com"));
//!             // Pick the first offered subprotocol we support.
//!             let protocol = request.protocols().find(|p| *p == "chat");
//!             let response = ServerResponse { protocol, ..ServerResponse::default() };
//!             let n = request.write_response(&response, &mut reply).unwrap();
//!             assert_eq!(
//!                 &reply[..n],
//!                 &b"HTTP/1.1 101 Switching Protocols\r\n\
//!                    Upgrade: websocket\r\n\
//!                    Connection: Upgrade\r\n\
//!                    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
//!                    Sec-WebSocket-Protocol: chat\r\n\r\n"[..]
//!             );
//!             // Whatever followed the head belongs to the WebSocket connection.
//!             assert_eq!(&received[consumed..], b"\x81\x85");
//!         }
//!         Err(err) => {
//!             // Answer with 400, 426 or 431 and close.
//!             let n = err.write_rejection(&mut reply).unwrap();
//!             let _ = &reply[..n];
//!             unreachable!("{err}");
//!         }
//!     }
//! }
//! ```
//!
//! # Client
//!
//! ```
//! use rfc6455::handshake::{parse_ws_url, ClientHandshake, ClientKey, ClientRequest, Status};
//!
//! let url = parse_ws_url("ws://server.example.com/chat").unwrap();
//! assert!(!url.secure);
//! let request = ClientRequest {
//!     protocols: &["chat"],
//!     ..ClientRequest::new(url.authority, url.resource)
//! };
//! // 16 fresh random bytes per connection (or `ClientKey::random()` with `getrandom`).
//! let key = ClientKey::from_nonce(*b"the sample nonce");
//! let mut out = [0u8; 512];
//! let n = request.encode(&key, &mut out).unwrap();
//! assert!(out[..n].starts_with(b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"));
//!
//! let mut handshake = ClientHandshake::new(&request, &key);
//! let reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
//!     Sec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi";
//! assert!(matches!(handshake.parse_response(&reply[..40]), Ok(Status::Partial)));
//! let Status::Complete { value: response, consumed } = handshake.parse_response(reply).unwrap()
//! else {
//!     unreachable!()
//! };
//! assert_eq!(response.protocol(), Some("chat"));
//! // A frame the server sent right after its head.
//! assert_eq!(&reply[consumed..], b"\x81\x02hi");
//! ```
#![forbid(unsafe_code)]

mod accept;
mod client;
mod error;
mod extensions;
mod headers;
#[cfg(feature = "http")]
mod http;
pub(crate) mod limits;
mod proxy;
mod server;
mod url;
#[cfg(test)]
pub(crate) mod work;
mod write;

pub use accept::{ACCEPT_LEN, AcceptKey, ClientKey, KEY_LEN, WEBSOCKET_GUID};
pub use client::{ClientHandshake, ClientRequest, Response};
pub use error::{BuildError, HandshakeError, SyntaxError};
pub use extensions::{
    ExtensionList, ExtensionOffer, ExtensionParam, ExtensionParams, ParamValue,
    parse_extension_list,
};
pub use headers::{Extensions, HeaderIter, Protocols};
pub use limits::Limits;
pub use proxy::{ConnectHandshake, ConnectRequest, ConnectResponse, ProxyError};
#[cfg(feature = "alloc")]
pub(crate) use server::RequestSpans;
pub use server::{Request, ServerHandshake, ServerResponse};
pub use url::{UrlError, WsUrl, parse_ws_url};
pub use write::{BAD_REQUEST, HEADERS_TOO_LARGE, UPGRADE_REQUIRED, write_rejection};

/// The progress of parsing a head from bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Status<T> {
    /// The head is not complete: call again with more bytes appended.
    Partial,
    /// The head is complete and valid.
    Complete {
        /// The parsed request or response.
        value: T,
        /// The head's length; `&buf[consumed..]` is what the peer sent after it.
        consumed: usize,
    },
}

impl<T> Status<T> {
    /// Whether the head is complete.
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete { .. })
    }

    /// The value and the bytes consumed, once complete.
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Status::Partial => None,
            Status::Complete { value, consumed } => Some((value, consumed)),
        }
    }
}

/// Runs a writer once to learn the length, then into a vector of exactly that size.
#[cfg(feature = "alloc")]
fn to_vec(
    mut write: impl FnMut(&mut [u8]) -> Result<usize, BuildError>,
) -> Result<alloc::vec::Vec<u8>, BuildError> {
    let len = match write(&mut []) {
        Ok(len) => len,
        Err(BuildError::BufferTooSmall { required }) => required,
        Err(e) => return Err(e),
    };
    let mut out = alloc::vec![0u8; len];
    let n = write(&mut out)?;
    out.truncate(n);
    Ok(out)
}
