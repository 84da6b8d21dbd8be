//! TLS by [rustls](https://docs.rs/rustls) (feature `rustls`, ring crypto provider).
//!
//! Clients: [`connect`](crate::connect) takes `wss://` URLs, verifying the server against
//! the CA roots of [webpki-roots](https://docs.rs/webpki-roots) (Mozilla's), with the URL's
//! host as the server name (SNI; an IP address host is checked against the certificate's IP
//! addresses and sends no SNI); the port defaults to 443. [`connect_tls_with`] takes the
//! caller's own [`rustls::ClientConfig`] (other roots, a self-signed CA, client
//! certificates). A failed TLS handshake (an untrusted or expired certificate, a name
//! mismatch, no common protocol version) is [`Error::Tls`].
//!
//! Servers: [`accept`](crate::accept) and [`accept_with`](crate::accept_with) take any
//! `AsyncRead + AsyncWrite`, so a [`tokio_rustls::server::TlsStream`] works as it is:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use rfc6455_tokio::tls::rustls::ServerConfig;
//! use rfc6455_tokio::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
//! use rfc6455_tokio::tls::rustls::pki_types::pem::PemObject;
//! use rfc6455_tokio::tls::{rustls, tokio_rustls::TlsAcceptor};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let certs = CertificateDer::pem_file_iter("cert.pem")?.collect::<Result<Vec<_>, _>>()?;
//! let key = PrivateKeyDer::from_pem_file("key.pem")?;
//! let provider = Arc::new(rustls::crypto::ring::default_provider());
//! let config = ServerConfig::builder_with_provider(provider)
//!     .with_safe_default_protocol_versions()?
//!     .with_no_client_auth()
//!     .with_single_cert(certs, key)?;
//! let acceptor = TlsAcceptor::from(Arc::new(config));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
//! let (tcp, _) = listener.accept().await?;
//! let mut ws = rfc6455_tokio::accept(acceptor.accept(tcp).await?).await?;
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
//! The rustls types are those of the versions this crate uses, re-exported here
//! ([`rustls`], [`tokio_rustls`]), so a config built with them always fits.

use std::sync::{Arc, OnceLock};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

pub use tokio_rustls;
pub use tokio_rustls::rustls;

use rfc6455::connection::Accepted;
use rfc6455::handshake::UrlError;

use crate::{Error, MaybeTlsStream, Options, Proxy, WebSocketStream};

/// Open a WebSocket to `url` with `options`, using `config` for a `wss://` URL (a `ws://`
/// URL connects without TLS). As [`connect`](crate::connect) otherwise: DNS, TCP (no
/// delay), TLS and the WebSocket handshake, all within the handshake timeout.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use rfc6455_tokio::Options;
/// use rfc6455_tokio::tls::{connect_tls_with, rustls};
///
/// # async fn run(ca: rustls::pki_types::CertificateDer<'static>) -> Result<(), Box<dyn std::error::Error>> {
/// let mut roots = rustls::RootCertStore::empty();
/// roots.add(ca)?;
/// let provider = Arc::new(rustls::crypto::ring::default_provider());
/// let config = rustls::ClientConfig::builder_with_provider(provider)
///     .with_safe_default_protocol_versions()?
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let (mut ws, _) = connect_tls_with("wss://localhost:9443/", Options::new(), Arc::new(config)).await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_tls_with(
    url: &str,
    options: Options,
    config: Arc<ClientConfig>,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Accepted), Error> {
    crate::proxy::connect_via_tls(url, None, options, Some(config)).await
}

/// [`connect_tls_with`] through an HTTP proxy (`None`: directly): the TLS handshake with
/// the target, verified with `config` (SNI and certificate for the URL's host), runs
/// inside the proxy's tunnel. See [`connect_via`](crate::connect_via).
pub async fn connect_tls_via(
    url: &str,
    proxy: Option<&Proxy>,
    options: Options,
    config: Arc<ClientConfig>,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Accepted), Error> {
    crate::proxy::connect_via_tls(url, proxy, options, Some(config)).await
}

/// The client config for `wss://` URLs without one of the caller's: webpki-roots' CAs,
/// the ring provider, TLS 1.2 and 1.3. Built once.
fn default_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("the ring provider supports TLS 1.2 and 1.3")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// The TLS server name for a URL's host: a DNS name, or an IP address (no SNI then).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_owned()).map_err(|_| Error::Url(UrlError::Host))
}

/// The TLS handshake of a client on `tcp`, verifying the server as `name`.
pub(crate) async fn client_handshake(
    tcp: TcpStream,
    name: ServerName<'static>,
    config: Option<Arc<ClientConfig>>,
) -> Result<TlsStream<TcpStream>, Error> {
    let connector = TlsConnector::from(config.unwrap_or_else(default_config));
    connector.connect(name, tcp).await.map_err(|e| {
        // tokio-rustls reports rustls' own errors as `InvalidData` I/O errors.
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => Error::Tls(tls.clone()),
            None => Error::Io(e),
        }
    })
}
