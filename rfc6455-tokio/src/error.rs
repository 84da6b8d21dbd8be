//! The driver's one error type.

use std::fmt;
use std::io;

use rfc6455::close::CloseCode;
use rfc6455::connection::{ProtocolError, SendError};
use rfc6455::handshake::{BuildError, HandshakeError, ProxyError, UrlError};

/// What can go wrong on a [`WebSocketStream`](crate::WebSocketStream) or in a handshake.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection ended normally (the close handshake is done): a send after the peer's
    /// close frame arrived, before the stream has reported its end.
    ConnectionClosed,
    /// The connection was used after its end was reported (the stream returned `None`,
    /// or a previous call failed it).
    AlreadyClosed,
    /// Reading from or writing to the transport failed, or the peer ended the transport
    /// without a close frame ([`io::ErrorKind::UnexpectedEof`]).
    Io(io::Error),
    /// The peer broke the protocol or a limit; the codec has sent the close frame with
    /// [`close_code`](Error::close_code).
    Protocol(ProtocolError),
    /// A send the codec refused (e.g. a control payload over 125 bytes, a close code that
    /// may not be sent).
    Send(SendError),
    /// The opening handshake failed. `status` is the HTTP status involved: the one a
    /// server answered us with (client), or the one we answered a bad request with
    /// (server); `None` when there was no status (e.g. a bad `Sec-WebSocket-Accept`).
    Handshake {
        /// The HTTP status, if any.
        status: Option<u16>,
        /// What was wrong.
        error: HandshakeError,
    },
    /// Our own handshake request or response could not be built.
    Build(BuildError),
    /// The URL is not a `ws://` or `wss://` URL this driver can connect to.
    Url(UrlError),
    /// A proxy URL ([`Proxy::from_url`](crate::Proxy::from_url), a proxy variable of the
    /// environment) is not `http://[user:password@]host[:port]`; the variant says which
    /// part is wrong ([`UrlError::Scheme`]: not `http://`).
    ProxyUrl(UrlError),
    /// The HTTP proxy did not open the tunnel: [`ProxyError::Refused`] with its status
    /// (407: credentials missing or wrong; 403: target not allowed; 502: target not
    /// reached), or an answer that is not HTTP. The status is also
    /// [`http_status`](Error::http_status).
    Proxy(ProxyError),
    /// A `wss://` URL given to [`connect`](crate::connect) by a build without TLS: enable
    /// the crate's `rustls` feature, or connect TLS yourself and use
    /// [`connect_with`](crate::connect_with).
    TlsNotEnabled,
    /// The TLS handshake failed: e.g. the server's certificate is not trusted
    /// ([`rustls::Error::InvalidCertificate`](tokio_rustls::rustls::Error::InvalidCertificate)),
    /// or the peer sent a TLS alert. (TLS errors after the handshake come as [`Error::Io`].)
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    Tls(tokio_rustls::rustls::Error),
    /// The opening handshake did not finish within the configured timeout.
    HandshakeTimeout,
    /// The peer stayed silent through the keep-alive pings
    /// ([`WebSocketStream::set_keepalive`](crate::WebSocketStream::set_keepalive)): the
    /// transport was shut down without a close frame (for the application a 1006 end,
    /// [retryable](CloseCode::is_retryable)).
    KeepAliveTimeout(rfc6455::keepalive::Timeout),
    /// The server's callback rejected the request; this status was sent.
    Rejected {
        /// The HTTP status sent.
        status: u16,
    },
}

impl Error {
    /// The close code we sent because of this error, if any.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(e) => e.close_code(),
            _ => None,
        }
    }

    /// The HTTP status of a failed handshake, if any: also the status of a proxy's
    /// refusal ([`Error::Proxy`]).
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Proxy(e) => e.status(),
            Error::Handshake { status, .. } => *status,
            Error::Rejected { status } => Some(*status),
            _ => None,
        }
    }
}

impl Error {
    /// A client's view of a failed handshake: only the server's own status counts.
    pub(crate) fn client_handshake(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Handshake(error) => Error::Handshake {
                status: match error {
                    HandshakeError::UnexpectedStatus { code } => Some(code),
                    _ => None,
                },
                error,
            },
            e => Error::Protocol(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ConnectionClosed => f.write_str("connection closed"),
            Error::AlreadyClosed => f.write_str("connection already closed"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Send(e) => write!(f, "{e}"),
            Error::Handshake { error, .. } => write!(f, "opening handshake: {error}"),
            Error::Build(e) => write!(f, "handshake: {e}"),
            Error::Url(e) => write!(f, "URL: {e}"),
            Error::ProxyUrl(e) => f.write_str(match e {
                UrlError::Scheme => "proxy URL: scheme is not http://",
                UrlError::UserInfo => "proxy URL: user or password badly percent-encoded",
                UrlError::Host => "proxy URL: invalid host",
                UrlError::Port => "proxy URL: invalid port",
                UrlError::Resource | UrlError::Fragment => "proxy URL: has a path",
                _ => "proxy URL: invalid",
            }),
            Error::Proxy(e) => write!(f, "{e}"),
            Error::TlsNotEnabled => f.write_str(
                "wss:// URL, but rfc6455-tokio was built without TLS (its `rustls` feature)",
            ),
            #[cfg(feature = "rustls")]
            Error::Tls(e) => write!(f, "TLS handshake: {e}"),
            Error::HandshakeTimeout => f.write_str("opening handshake timed out"),
            Error::KeepAliveTimeout(timeout) => write!(f, "{timeout}"),
            Error::Rejected { status } => write!(f, "request rejected with status {status}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Send(e) => Some(e),
            Error::Handshake { error, .. } => Some(error),
            Error::Build(e) => Some(e),
            Error::Url(e) | Error::ProxyUrl(e) => Some(e),
            Error::Proxy(e) => Some(e),
            #[cfg(feature = "rustls")]
            Error::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        match e {
            // A server's view: the status we answered the bad request with. The client
            // side maps its errors with `Error::client_handshake`.
            ProtocolError::Handshake(error) => Error::Handshake {
                status: Some(error.http_status()),
                error,
            },
            e => Error::Protocol(e),
        }
    }
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Error::Build(e)
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Error::Url(e)
    }
}
