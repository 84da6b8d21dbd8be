//! [`MaybeTlsStream`]: the transport [`connect`](crate::connect) opens, plain TCP or TLS.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use rfc6455::handshake::{Limits, WsUrl};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::{Error, Proxy};

/// A transport that is either plain (`ws://`) or TLS (`wss://`, with the `rustls` feature):
/// what [`connect`](crate::connect) returns, so that one call takes either scheme.
///
/// More variants may come with other TLS features (hence `#[non_exhaustive]`); a match
/// needs a `_` arm.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// No TLS: a `ws://` URL.
    Plain(S),
    /// TLS by rustls: a `wss://` URL. Boxed: rustls' state is about 1 KiB, which a plain
    /// connection need not carry.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    Rustls(Box<tokio_rustls::client::TlsStream<S>>),
}

/// Forward a call to the variant's stream.
macro_rules! each {
    ($self:ident, $io:ident => $call:expr) => {
        match $self.get_mut() {
            MaybeTlsStream::Plain($io) => $call,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls($io) => {
                let $io = &mut **$io;
                $call
            }
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => Pin::new(io).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(io) => io.is_write_vectored(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => Pin::new(io).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => Pin::new(io).poll_shutdown(cx))
    }
}

/// The client's TLS settings for `wss://` URLs: the caller's `rustls::ClientConfig`, or
/// `None` for the default one (webpki-roots' CAs).
#[cfg(feature = "rustls")]
pub(crate) type TlsConfig = Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>;
/// Without the `rustls` feature there is nothing to configure: always `None`.
#[cfg(not(feature = "rustls"))]
pub(crate) type TlsConfig = Option<std::convert::Infallible>;

/// Resolve the URL's host, connect TCP (no delay), or through `proxy` open a tunnel to it
/// (the proxy's answer within `limits`), and for `wss://` do the TLS handshake. A `wss://`
/// URL is refused before any connection when TLS is not built in, or when its host cannot
/// be a TLS server name.
pub(crate) async fn open(
    url: &WsUrl<'_>,
    proxy: Option<&Proxy>,
    limits: Limits,
    tls: TlsConfig,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    #[cfg(feature = "rustls")]
    let name = match url.secure {
        true => Some(crate::tls::server_name(url.host)?),
        false => None,
    };
    #[cfg(not(feature = "rustls"))]
    if url.secure {
        let _ = tls;
        return Err(Error::TlsNotEnabled);
    }
    let tcp = match proxy {
        Some(proxy) => proxy.tunnel_with(url.host, url.port, limits).await?,
        None => {
            let tcp = TcpStream::connect((url.host, url.port)).await?;
            tcp.set_nodelay(true)?;
            tcp
        }
    };
    #[cfg(feature = "rustls")]
    if let Some(name) = name {
        let tls = crate::tls::client_handshake(tcp, name, tls).await?;
        return Ok(MaybeTlsStream::Rustls(Box::new(tls)));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}
