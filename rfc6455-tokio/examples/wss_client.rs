//! A `wss://` client: sends one text message, prints the echo, closes.
//!
//! `cargo run -p rfc6455-tokio --features rustls --example tokio_wss_client -- wss://localhost:9443 [ca.pem]`
//!
//! The server is verified against webpki-roots' CAs, or, given a PEM file, against its
//! certificates only (e.g. the one `tokio_wss_echo_server` writes).
use std::sync::Arc;

use rfc6455_tokio::tls::rustls::pki_types::{CertificateDer, pem::PemObject};
use rfc6455_tokio::tls::rustls::{ClientConfig, RootCertStore, crypto};
use rfc6455_tokio::{CloseCode, Message, Options, connect, connect_tls_with};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: tokio_wss_client URL [ca.pem]")?;
    let (mut ws, _) = match args.next() {
        None => connect(&url).await?,
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca)? {
                roots.add(cert?)?;
            }
            let config =
                ClientConfig::builder_with_provider(crypto::ring::default_provider().into())
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            connect_tls_with(&url, Options::new(), Arc::new(config)).await?
        }
    };
    ws.send(Message::text("hello over TLS")).await?;
    println!("{:?}", ws.next().await.ok_or("no echo")??);
    ws.close(CloseCode::NORMAL, "done").await?;
    while ws.next().await.is_some() {}
    Ok(())
}
