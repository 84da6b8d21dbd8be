//! A `wss://` echo server with a self-signed certificate for `localhost` and 127.0.0.1,
//! made at start (rcgen) and written to a PEM file for the client to trust:
//!
//! `cargo run -p rfc6455-tokio --features rustls --example tokio_wss_echo_server -- 127.0.0.1:9443 ca.pem`
//!
//! A real server loads its certificate and key instead (see the `rfc6455_tokio::tls` docs).
mod common;

use std::sync::Arc;

use rfc6455_tokio::tls::rustls::pki_types::PrivateKeyDer;
use rfc6455_tokio::tls::rustls::{ServerConfig, crypto};
use rfc6455_tokio::tls::tokio_rustls::TlsAcceptor;
use rfc6455_tokio::{Error, accept};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or("127.0.0.1:9443".into());
    let made = rcgen::generate_simple_self_signed(["localhost".into(), "127.0.0.1".into()])?;
    std::fs::write(args.next().unwrap_or("ca.pem".into()), made.cert.pem())?;
    let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let config = ServerConfig::builder_with_provider(crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on wss://{}", listener.local_addr()?);
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            if let Err(e) = echo(acceptor, tcp).await {
                eprintln!("wss_echo_server: connection ended: {e}");
            }
        });
    }
    Ok(())
}

async fn echo(acceptor: TlsAcceptor, tcp: TcpStream) -> Result<(), Error> {
    let tls = acceptor.accept(tcp).await?;
    common::echo(accept(tls).await?).await
}
