//! Shared by the tests: a tokio echo server on loopback and a time limit.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use rfc6455_tokio::{Error, accept};
use tokio::net::TcpListener;

/// Every test step must end within this.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Run `work`, failing the test if it takes longer than [`LIMIT`].
pub async fn timed<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, work)
        .await
        .expect("test step timed out")
}

/// A server on 127.0.0.1 that echoes every data message on each connection it accepts.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = echo(tcp).await;
            });
        }
    });
    addr
}

async fn echo(tcp: tokio::net::TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut ws = accept(tcp).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_data() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

/// A payload whose bytes depend on their position, from a small LCG (not compressible to
/// nothing, so deflate has work to do).
pub fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

#[cfg(feature = "rustls")]
pub fn tls_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(feature = "rustls")]
/// A server config with a fresh self-signed certificate for `localhost` and 127.0.0.1,
/// and a client config that trusts that certificate (and nothing else).
pub fn tls_configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let made = rcgen::generate_simple_self_signed(["localhost".into(), "127.0.0.1".into()])
        .expect("rcgen");
    let cert: CertificateDer<'static> = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let server = ServerConfig::builder_with_provider(tls_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(tls_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[cfg(feature = "rustls")]
use rfc6455_tokio::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
#[cfg(feature = "rustls")]
use rfc6455_tokio::tls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
#[cfg(feature = "rustls")]
use std::sync::Arc;

/// What a [`Scripted`] transport does with a write.
#[derive(Clone, Copy, Debug)]
pub enum Writes {
    /// Takes every byte and drops it.
    Take,
    /// Never takes a byte (a peer that does not read): `Pending`.
    Block,
    /// Fails with a broken pipe.
    Fail,
}

/// An in-memory transport: reads hand out `chunks` in order, each in reads of whatever
/// size the reader asks for, with one wait (the task woken at once) after each chunk, then
/// wait for good once the script is over; writes do as `writes` says.
pub struct Scripted {
    chunks: std::collections::VecDeque<Vec<u8>>,
    at: usize,
    wait: bool,
    writes: Writes,
}

impl Scripted {
    pub fn new(chunks: impl IntoIterator<Item = Vec<u8>>, writes: Writes) -> Self {
        Scripted {
            chunks: chunks.into_iter().collect(),
            at: 0,
            wait: false,
            writes,
        }
    }
}

impl tokio::io::AsyncRead for Scripted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.wait {
            this.wait = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let Some(chunk) = this.chunks.front() else {
            return Poll::Pending;
        };
        let n = buf.remaining().min(chunk.len() - this.at);
        buf.put_slice(&chunk[this.at..this.at + n]);
        this.at += n;
        if this.at == chunk.len() {
            this.chunks.pop_front();
            this.at = 0;
            this.wait = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Scripted {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        match self.writes {
            Writes::Take => Poll::Ready(Ok(bytes.len())),
            Writes::Block => Poll::Pending,
            Writes::Fail => Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())),
        }
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
