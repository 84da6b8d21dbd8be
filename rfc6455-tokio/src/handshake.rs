//! The opening handshakes: [`accept`], [`accept_with`], [`connect`], [`connect_with`],
//! [`connect_request`].

use std::future::{Future, poll_fn};
use std::time::Duration;

use rfc6455::connection::{Accepted, Config, Connection, Event, UpgradeRequest};
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{ClientRequest, ServerResponse, parse_ws_url};
use rfc6455::keepalive::KeepAliveConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::maybe_tls::MaybeTlsStream;
use crate::{Error, WebSocketStream};

/// Settings of a handshake and the connection after it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The codec's limits and behaviour. The default is [`Config::default`] with
    /// permessage-deflate enabled (offered by clients, accepted by servers).
    pub config: Config,
    /// How long the opening handshake may take (default 10 s; `None`: no limit). A peer
    /// that has not finished it by then gets [`Error::HandshakeTimeout`].
    pub handshake_timeout: Option<Duration>,
    /// Keep-alive pings and the dead-peer timeout, started once the handshake is done
    /// (default `None`: off). See [`WebSocketStream::set_keepalive`].
    pub keepalive: Option<KeepAliveConfig>,
}

impl Options {
    /// The defaults.
    pub fn new() -> Self {
        Options {
            config: Config::new().deflate(DeflateConfig::new().enabled(true)),
            handshake_timeout: Some(Duration::from_secs(10)),
            keepalive: None,
        }
    }

    /// Sets [`config`](Self::config).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`keepalive`](Self::keepalive).
    pub fn keepalive(mut self, keepalive: Option<KeepAliveConfig>) -> Self {
        self.keepalive = keepalive;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

/// What a server's [`accept_with`] callback accepts a request with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The subprotocol chosen, one the client offered.
    pub protocol: Option<String>,
    /// Further response headers, e.g. `Set-Cookie`.
    pub headers: Vec<(String, String)>,
}

/// A server's refusal of a request: the HTTP status (300 to 599) and reason phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
}

impl Rejection {
    /// A rejection with `status` and `reason`.
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Rejection {
            status,
            reason: reason.into(),
        }
    }
}

/// How long a server tries to write the HTTP error answer to a bad request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);

/// 32 bytes of OS randomness for the handshake nonce and the masking keys.
pub(crate) fn seed() -> Result<[u8; 32], Error> {
    rfc6455::keygen::random_seed().map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
}

pub(crate) async fn with_timeout<T>(
    timeout: Option<Duration>,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .unwrap_or(Err(Error::HandshakeTimeout)),
        None => work.await,
    }
}

/// The next handshake event; the transport ending first is an error.
async fn opening_event<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
) -> Result<Event, Error> {
    match poll_fn(|cx| ws.poll_event(cx)).await? {
        Some(Event::Closed(_)) | None => Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
        Some(event) => Ok(event),
    }
}

/// Accept a WebSocket on `stream` with the default [`Options`]: any path, no subprotocol.
/// A bad request is answered with 400, 426 or 431 and returned as [`Error::Handshake`].
pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, Options::default(), |_| async {
        Ok(Response::default())
    })
    .await
}

/// Accept a WebSocket on `stream`, letting `callback` decide: it gets the validated
/// request (path, query, headers, cookies, origin, offered subprotocols and extensions;
/// cheap to clone) and may await (an auth lookup) before it returns the [`Response`] or
/// a [`Rejection`] (sent, then returned as [`Error::Rejected`]). The handshake timeout
/// covers the callback too.
pub async fn accept_with<S, F, Fut>(
    stream: S,
    options: Options,
    callback: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(UpgradeRequest) -> Fut,
    Fut: Future<Output = Result<Response, Rejection>>,
{
    let mut ws = WebSocketStream::from_parts(stream, Connection::server(options.config), &[]);
    with_timeout(options.handshake_timeout, async {
        let request = loop {
            match opening_event(&mut ws).await {
                Ok(Event::Request(request)) => break request,
                Ok(_) => {}
                Err(e) => {
                    // A bad request: the codec queued its 400, 426 or 431; write it.
                    let _ = tokio::time::timeout(ANSWER_TIMEOUT, ws.flush()).await;
                    return Err(e);
                }
            }
        };
        match callback(request).await {
            Ok(response) => {
                let headers: Vec<(&str, &str)> = response
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                ws.connection_mut()
                    .accept(&ServerResponse {
                        protocol: response.protocol.as_deref(),
                        extra_headers: &headers,
                        ..ServerResponse::default()
                    })
                    .map_err(Error::Send)?;
                ws.flush().await?;
                Ok(())
            }
            Err(rejection) => {
                ws.connection_mut()
                    .reject(rejection.status, &rejection.reason)
                    .map_err(Error::Send)?;
                // Write the answer; the stream ends after it.
                while ws.next().await.is_some() {}
                Err(Error::Rejected {
                    status: rejection.status,
                })
            }
        }
    })
    .await?;
    ws.set_keepalive(options.keepalive);
    Ok(ws)
}

/// Open a WebSocket to a `ws://` or `wss://` URL: resolve the host, connect TCP (no
/// delay), for `wss://` do the TLS handshake, and then the WebSocket handshake, with the
/// default [`Options`] (the timeout covers DNS, TCP and TLS too). Returns the stream and
/// the server's answer (subprotocol, extensions).
///
/// `wss://` needs the `rustls` feature (the server is verified against webpki-roots' CAs;
/// `connect_tls_with` takes a `rustls::ClientConfig`);
/// without it a `wss://` URL is [`Error::TlsNotEnabled`].
pub async fn connect(
    url: &str,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Accepted), Error> {
    crate::proxy::connect_via(url, None, Options::default()).await
}

/// Open a WebSocket to `url` (its host and path; the scheme must be `ws`, or `wss` when
/// `stream` is already TLS) over the caller's connected `stream`.
pub async fn connect_with<S>(
    stream: S,
    url: &str,
    options: Options,
) -> Result<(WebSocketStream<S>, Accepted), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let parsed = parse_ws_url(url)?;
    let request = ClientRequest::new(parsed.authority, parsed.resource);
    connect_request(stream, &request, options).await
}

/// Open a WebSocket with a full [`ClientRequest`] (subprotocols, origin, headers) over the
/// caller's connected `stream`.
pub async fn connect_request<S>(
    stream: S,
    request: &ClientRequest<'_>,
    options: Options,
) -> Result<(WebSocketStream<S>, Accepted), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let conn = Connection::client(options.config, seed()?, request)?;
    let mut ws = WebSocketStream::from_parts(stream, conn, &[]);
    let accepted = with_timeout(options.handshake_timeout, async {
        loop {
            if let Event::Accepted(accepted) = opening_event(&mut ws).await? {
                return Ok(accepted);
            }
        }
    })
    .await?;
    ws.set_keepalive(options.keepalive);
    Ok((ws, accepted))
}
