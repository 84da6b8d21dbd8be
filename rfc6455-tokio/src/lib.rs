//! An async [tokio](https://tokio.rs) driver for the [`rfc6455`] sans-IO WebSocket codec.
//!
//! [`WebSocketStream`] drives a [`rfc6455::connection::Connection`] over any
//! `AsyncRead + AsyncWrite + Unpin` transport: a [`Stream`](futures_core::Stream) of
//! [`Message`]s and a [`Sink`](futures_sink::Sink) of them, with pongs and close replies
//! sent by itself. The handshakes are [`accept`], [`accept_with`], [`connect`],
//! [`connect_with`] and [`connect_request`]; [`WebSocketStream::server`] and
//! [`WebSocketStream::client`] wrap a stream upgraded elsewhere. With the feature `hyper`,
//! the `hyper` module upgrades requests that a hyper 1.x server (or axum) received.
//! [`WebSocketStream::split`] gives a reader and a writer for two tasks;
//! [`Options::keepalive`] (or [`WebSocketStream::set_keepalive`]) pings a quiet peer and
//! ends the connection when it stays silent.
//!
//! TLS: with the `rustls` feature, [`connect`] takes `wss://` URLs and the
//! `tls` module has `connect_tls_with` (the caller's `rustls::ClientConfig`) and a
//! TLS server example; without it a `wss://` URL is [`Error::TlsNotEnabled`].
//!
//! Proxies: [`connect_via`] tunnels through an HTTP proxy with `CONNECT` ([`Proxy`], from
//! a URL or, when asked, from `HTTPS_PROXY`/`NO_PROXY` with [`Proxy::from_env`]; see the
//! [`proxy`] module).
//!
//! ```no_run
//! use rfc6455_tokio::{Message, accept};
//!
//! # async fn run() -> Result<(), rfc6455_tokio::Error> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let (tcp, _) = listener.accept().await?;
//! let mut ws = accept(tcp).await?;
//! while let Some(message) = ws.next().await {
//!     let message = message?;
//!     if message.is_data() {
//!         ws.send(message).await?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Memory: a read first goes into a small buffer on the stack, so a connection waiting for
//! input holds no read buffer; buffers a burst grew are given back
//! ([`shrink_buffers_between_bursts`](rfc6455::connection::Connection::shrink_buffers_between_bursts))
//! each time it waits with nothing pending, and the next burst's output comes back in one
//! allocation. Output is written with one vectored write per wake-up, and a sender waits
//! ([`Sink::poll_ready`](futures_sink::Sink::poll_ready)) while the output is over the
//! codec's [`max_queued_output`](rfc6455::connection::Config::max_queued_output).
//!
//! Cancel safety (e.g. in `tokio::select!`): `next` and `flush` are cancel-safe, on the
//! stream and on the halves of a split one; `send`, `feed`, `send_prepared`,
//! `feed_prepared`, `ping` and `close` are cancel-safe until their message is queued
//! (cancelled later, it stays queued and is written by the next call that writes); the
//! handshake functions own the transport, so cancelling one drops the connection.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod handshake;
#[cfg(feature = "hyper")]
pub mod hyper;
mod maybe_tls;
mod message;
pub mod proxy;
mod split;
mod stream;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;

pub use error::Error;
pub use handshake::{
    Options, Rejection, Response, accept, accept_with, connect, connect_request, connect_with,
};
pub use maybe_tls::MaybeTlsStream;
pub use message::{CloseFrame, Message};
pub use proxy::{Proxy, connect_via};
pub use rfc6455;
pub use rfc6455::close::CloseCode;
pub use split::{WebSocketReader, WebSocketWriter};
pub use stream::WebSocketStream;
#[cfg(feature = "rustls")]
pub use tls::{connect_tls_via, connect_tls_with};
