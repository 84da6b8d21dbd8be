//! The client's upgrade request as the server connection hands it out: owned, so that the
//! response chosen from it can be passed back to the connection while it is read.

use bytes::Bytes;

use crate::handshake::{Extensions, HeaderIter, Protocols, Request, RequestSpans};

/// A validated WebSocket upgrade request, owned: [`Event::Request`](super::Event::Request)
/// carries it, and [`Connection::request`](super::Connection::request) lends it until the
/// request is accepted or rejected.
///
/// It shares the head's bytes with the connection (no copy) and was parsed once; the
/// accessors read it without parsing again. Because it does not borrow the connection, a
/// response can borrow it while [`Connection::accept`](super::Connection::accept) changes
/// the connection, and it stays readable after the decision:
///
/// ```
/// use rfc6455::connection::{Config, Connection, Event};
/// use rfc6455::handshake::ServerResponse;
///
/// let mut server = Connection::server(Config::default());
/// server.receive(b"GET /chat?room=7 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v2.chat, v1.chat\r\n\r\n");
/// let Some(Event::Request(request)) = server.poll_event()? else { panic!() };
/// let protocol = request.protocols().find(|p| p.starts_with("v1"));
/// server.accept(&ServerResponse { protocol, ..ServerResponse::default() })?;
/// assert_eq!((request.path(), request.query()), ("/chat", Some("room=7")));
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone)]
pub struct UpgradeRequest {
    head: Bytes,
    spans: RequestSpans,
}

impl UpgradeRequest {
    /// `request`, parsed from `head`, with its head kept.
    pub(crate) fn new(head: Bytes, spans: RequestSpans) -> Self {
        UpgradeRequest { head, spans }
    }

    /// The request as the handshake layer's borrowed view (what
    /// [`ServerHandshake::parse`](crate::handshake::ServerHandshake::parse) returns).
    pub fn as_request(&self) -> Request<'_> {
        Request::from_spans(&self.head, &self.spans)
    }

    /// The request head as received, up to and including its empty line.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The request target as sent (`/chat?room=1`); see [`Request::target`].
    pub fn target(&self) -> &str {
        self.as_request().target()
    }

    /// The path of the target, without the query (`/chat`).
    pub fn path(&self) -> &str {
        self.as_request().path()
    }

    /// The query of the target, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.as_request().query()
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        self.as_request().host()
    }

    /// The `Origin` header value, sent by browsers.
    pub fn origin(&self) -> Option<&str> {
        self.as_request().origin()
    }

    /// The subprotocols offered, in the client's order of preference.
    pub fn protocols(&self) -> Protocols<'_> {
        self.as_request().protocols()
    }

    /// The extensions offered, in order.
    pub fn extensions(&self) -> Extensions<'_> {
        self.as_request().extensions()
    }

    /// The trimmed value of the first header named `name` (ASCII case-insensitive), e.g.
    /// `Cookie` or `Authorization`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_request().header(name)
    }

    /// All header fields, in order.
    pub fn headers(&self) -> HeaderIter<'_> {
        self.as_request().headers()
    }
}

impl PartialEq for UpgradeRequest {
    fn eq(&self, other: &Self) -> bool {
        self.head == other.head
    }
}

impl Eq for UpgradeRequest {}

impl core::fmt::Debug for UpgradeRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.as_request(), f)
    }
}
