//! WebSockets in a [hyper](https://hyper.rs) 1.x server (feature `hyper`), and so in
//! frameworks built on it such as axum: the handler answers the upgrade request with the
//! response [`upgrade`] returns, and awaits the [`HyperWebSocket`] (in a task of its own)
//! for the [`WebSocketStream`] on the upgraded connection.
//!
//! The request is checked by the codec, with the statuses [`accept`](crate::accept)
//! answers (400, or 426 with `Sec-WebSocket-Version: 13`), and permessage-deflate is
//! negotiated as there ([`Options::config`]) and in effect on the stream. HTTP/1.1 only:
//! hyper's HTTP/2 server does not carry RFC 8441's extended CONNECT to us.
//!
//! ```no_run
//! use hyper::body::Incoming;
//! use hyper::{Request, Response};
//! use rfc6455_tokio::hyper::{is_upgrade_request, upgrade};
//!
//! async fn handle(mut req: Request<Incoming>) -> Result<Response<String>, hyper::Error> {
//!     if !is_upgrade_request(&req) {
//!         return Ok(Response::new("not a WebSocket".into()));
//!     }
//!     match upgrade(&mut req) {
//!         Ok((response, websocket)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = websocket.await else { return };
//!                 while let Some(Ok(message)) = ws.next().await {
//!                     if message.is_data() && ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!             Ok(response)
//!         }
//!         // The codec's 400 or 426 (or the callback's rejection).
//!         Err(refused) => Ok(refused.into_response()),
//!     }
//! }
//! ```
//!
//! # axum
//!
//! axum serves with hyper 1.x and keeps hyper's upgrade handle in the request, so
//! [`upgrade`] works on its `Request` (`http::Request<axum::body::Body>`), and the
//! responses convert to its `Response` (`http::Response<axum::body::Body>`; that body has
//! a `Default`). This handler is generic over both body types, so it serves hyper and axum
//! alike; in axum, `async fn ws(mut req: axum::extract::Request) -> axum::response::Response
//! { websocket_route(&mut req) }` routed with `Router::new().route("/ws", get(ws))`.
//!
//! ```
//! use rfc6455_tokio::hyper::upgrade;
//!
//! fn websocket_route<B, R: Default>(req: &mut http::Request<B>) -> http::Response<R> {
//!     match upgrade(req) {
//!         Ok((response, websocket)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = websocket.await else { return };
//!                 while let Some(Ok(message)) = ws.next().await {
//!                     if message.is_data() && ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!             response
//!         }
//!         Err(refused) => refused.into_response(),
//!     }
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use ::hyper::upgrade::{OnUpgrade, Upgraded};
use http::{Request, Response as HttpResponse, StatusCode, header};
use hyper_util::rt::TokioIo;
use rfc6455::connection::Connection;
use rfc6455::handshake::{self, BuildError, ServerResponse};
use tokio::time::Sleep;

use crate::{Error, Options, Rejection, Response, WebSocketStream};

/// The stream [`HyperWebSocket`] gives: a WebSocket over hyper's upgraded connection.
pub type HyperStream = WebSocketStream<TokioIo<Upgraded>>;

/// Whether `req` asks for a WebSocket (its `Upgrade` header lists `websocket`). Such a
/// request goes to [`upgrade`], which answers it with 101 or, if it breaks a rule of the
/// handshake, with the codec's 400 or 426.
pub fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    req.headers()
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("websocket"))
}

/// Accept the WebSocket upgrade request `req` with the default [`Options`]: any path, no
/// subprotocol, permessage-deflate when offered. Returns the `101 Switching Protocols`
/// response for the handler to return (its body `R` empty: any body type with a
/// `Default`) and the future of the stream, which resolves once hyper has sent the
/// response and handed the connection over (await it in a task of its own, not in the
/// handler, which must return first).
///
/// # Errors
///
/// A request that is not a valid upgrade request: an [`UpgradeError`] with the codec's
/// answer to return instead ([`UpgradeError::into_response`]).
pub fn upgrade<B, R: Default>(
    req: &mut Request<B>,
) -> Result<(HttpResponse<R>, HyperWebSocket), UpgradeError> {
    upgrade_with(req, Options::default(), |_| Ok(Response::default()))
}

/// Accept the WebSocket upgrade request `req` as `decide` says, with `options`: `decide`
/// gets the validated request (path, headers, offered subprotocols and extensions) and
/// returns the [`Response`] (a subprotocol from the offered ones, further headers) or a
/// [`Rejection`]. The handshake timeout of `options` bounds the wait for hyper to hand the
/// connection over; the connection has `options.config`.
///
/// ```
/// use rfc6455_tokio::hyper::upgrade_with;
/// use rfc6455_tokio::{Options, Rejection, Response};
///
/// let mut req = http::Request::get("/chat")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .header("Connection", "Upgrade")
///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("Sec-WebSocket-Version", "13")
///     .header("Sec-WebSocket-Protocol", "v2.chat, v1.chat")
///     .body(())
///     .unwrap();
/// let (response, _websocket) = upgrade_with(&mut req, Options::new(), |request| {
///     match request.protocols().find(|p| p.starts_with("v1")) {
///         Some(protocol) => Ok(Response { protocol: Some(protocol.into()), ..Response::default() }),
///         None => Err(Rejection::new(400, "v1 only")),
///     }
/// })
/// .unwrap();
/// let response: http::Response<String> = response;
/// assert_eq!(response.status(), 101);
/// assert_eq!(response.headers()["sec-websocket-protocol"], "v1.chat");
/// ```
///
/// # Errors
///
/// An [`UpgradeError`] with the response to return instead: for a request that breaks the
/// handshake's rules the codec's 400 or 426 ([`Error::Handshake`]), for a rejection its
/// status ([`Error::Rejected`]), and 500 when `decide`'s answer cannot be sent (a
/// subprotocol that was not offered, a reserved header: [`Error::Build`]).
pub fn upgrade_with<B, R, F>(
    req: &mut Request<B>,
    options: Options,
    decide: F,
) -> Result<(HttpResponse<R>, HyperWebSocket), UpgradeError>
where
    R: Default,
    F: FnOnce(&handshake::Request<'_>) -> Result<Response, Rejection>,
{
    let (conn, response) = {
        let request = handshake::Request::from_http(req).map_err(|error| {
            let response = error.to_http_response();
            let status = Some(error.http_status());
            UpgradeError::new(Error::Handshake { status, error }, response)
        })?;
        let accepted = decide(&request).map_err(rejection)?;
        let headers: Vec<(&str, &str)> = accepted
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let response = ServerResponse {
            protocol: accepted.protocol.as_deref(),
            extra_headers: &headers,
            ..ServerResponse::default()
        };
        Connection::accept_http(options.config, &request, &response)
            .map_err(|e| server_error(Error::Build(e)))?
    };
    let websocket = HyperWebSocket {
        on_upgrade: ::hyper::upgrade::on(req),
        conn: Some(conn),
        timeout: options.handshake_timeout,
        timer: None,
    };
    Ok((response.map(|()| R::default()), websocket))
}

/// The answer to a [`Rejection`]: its status and reason (500 if the status is not one
/// from 300 to 599, as the codec's `reject` refuses those too).
fn rejection(rejection: Rejection) -> UpgradeError {
    let status = StatusCode::from_u16(rejection.status)
        .ok()
        .filter(|s| (300..=599).contains(&s.as_u16()));
    let Some(status) = status else {
        return server_error(Error::Build(BuildError::InvalidField { field: "status" }));
    };
    let mut response = closing(status);
    if let Ok(reason) = ::hyper::ext::ReasonPhrase::try_from(rejection.reason) {
        response.extensions_mut().insert(reason);
    }
    let status = status.as_u16();
    UpgradeError::new(Error::Rejected { status }, response)
}

fn server_error(error: Error) -> UpgradeError {
    UpgradeError::new(error, closing(StatusCode::INTERNAL_SERVER_ERROR))
}

/// An empty answer with `status` after which the connection is closed, as the codec's
/// rejections are.
fn closing(status: StatusCode) -> HttpResponse<()> {
    let mut response = HttpResponse::new(());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from_static("0"),
    );
    response
}

/// The WebSocket of an accepted upgrade, once hyper has sent the 101 and handed the
/// connection over: a future of the [`HyperStream`], from [`upgrade`] and
/// [`upgrade_with`]. It resolves to [`Error::Io`] if the connection ended first, and to
/// [`Error::HandshakeTimeout`] after [`Options::handshake_timeout`].
#[must_use = "the WebSocket is only there once this future is awaited"]
pub struct HyperWebSocket {
    on_upgrade: OnUpgrade,
    /// The open connection, negotiated in `upgrade_with`; taken when the future resolves.
    conn: Option<Connection>,
    timeout: Option<Duration>,
    /// Started at the first poll (`upgrade` may be called outside a tokio runtime).
    timer: Option<Pin<Box<Sleep>>>,
}

impl HyperWebSocket {
    /// The connection the stream will have (e.g. to see the negotiated
    /// [`deflate_params`](Connection::deflate_params)); `None` once resolved.
    pub fn connection(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }
}

impl fmt::Debug for HyperWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperWebSocket")
            .field("conn", &self.conn)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Future for HyperWebSocket {
    type Output = Result<HyperStream, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.conn.is_none() {
            return Poll::Ready(Err(Error::AlreadyClosed));
        }
        if let Poll::Ready(upgraded) = Pin::new(&mut this.on_upgrade).poll(cx) {
            let conn = this.conn.take().expect("checked above");
            return Poll::Ready(match upgraded {
                Ok(upgraded) => Ok(WebSocketStream::from_parts(
                    TokioIo::new(upgraded),
                    conn,
                    &[],
                )),
                Err(e) => Err(Error::Io(std::io::Error::other(e))),
            });
        }
        if let Some(limit) = this.timeout {
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
            ready!(timer.as_mut().poll(cx));
            this.conn = None;
            return Poll::Ready(Err(Error::HandshakeTimeout));
        }
        Poll::Pending
    }
}

/// A request [`upgrade`] or [`upgrade_with`] did not accept: why, and the HTTP response
/// to answer it with (no body; `Connection: close`; 426 carries
/// `Sec-WebSocket-Version: 13`).
#[derive(Debug)]
pub struct UpgradeError(Box<Refusal>);

#[derive(Debug)]
struct Refusal {
    error: Error,
    response: HttpResponse<()>,
}

impl UpgradeError {
    fn new(error: Error, response: HttpResponse<()>) -> Self {
        UpgradeError(Box::new(Refusal { error, response }))
    }
}

impl UpgradeError {
    /// Why: [`Error::Handshake`] (a bad request, with the status answered),
    /// [`Error::Rejected`], or [`Error::Build`] (the callback's answer could not be sent).
    pub fn error(&self) -> &Error {
        &self.0.error
    }

    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        self.0.response.status()
    }

    /// The answer, with an empty body of the handler's body type.
    pub fn into_response<R: Default>(self) -> HttpResponse<R> {
        self.0.response.map(|()| R::default())
    }

    /// The error, without the answer.
    pub fn into_error(self) -> Error {
        self.0.error
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WebSocket upgrade refused ({}): {}",
            self.status(),
            self.0.error
        )
    }
}

impl std::error::Error for UpgradeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}

impl From<UpgradeError> for Error {
    fn from(e: UpgradeError) -> Self {
        e.into_error()
    }
}
