//! `wss://`: our `accept` behind a tokio-rustls server, our `connect`/`connect_tls_with`
//! as the client, with a self-signed certificate made at test time.
#![cfg(feature = "rustls")]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use common::{echo_server, payload, timed, tls_configs};
use rfc6455_tokio::rfc6455::handshake::UrlError;
use rfc6455_tokio::tls::rustls::{self, CertificateError, ProtocolVersion, ServerConfig};
use rfc6455_tokio::tls::tokio_rustls::TlsAcceptor;
use rfc6455_tokio::{
    CloseCode, CloseFrame, Error, MaybeTlsStream, Message, Options, accept, connect,
    connect_tls_with,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What the server saw on one connection: the SNI the client sent, every message, and
/// what a send after the end gave; or why the TLS handshake failed.
#[derive(Debug)]
struct Seen {
    sni: Option<String>,
    messages: Vec<Message>,
    late: Result<(), Error>,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Echo every data message until the client closes.
    Echo,
    /// Echo the first data message, then close with 4000 "server bye".
    CloseAfterFirst,
}

/// A TLS server on 127.0.0.1 running our `accept` over tokio-rustls; each connection's
/// [`Seen`] (or its TLS error) comes through the channel.
async fn tls_server(
    config: Arc<ServerConfig>,
    mode: Mode,
) -> (SocketAddr, mpsc::UnboundedReceiver<Result<Seen, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(config);
    let (report, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, report) = (acceptor.clone(), report.clone());
            tokio::spawn(async move {
                let tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => return report.send(Err(e.to_string())),
                };
                let sni = tls.get_ref().1.server_name().map(str::to_owned);
                let mut ws = accept(tls).await.expect("WebSocket handshake over TLS");
                let mut messages = Vec::new();
                while let Some(message) = ws.next().await {
                    let message = message.expect("a message");
                    messages.push(message.clone());
                    if message.is_data() {
                        ws.send(message).await.unwrap();
                        if let Mode::CloseAfterFirst = mode {
                            ws.close(CloseCode(4000), "server bye").await.unwrap();
                        }
                    }
                }
                let late = ws.send(Message::text("late")).await;
                report.send(Ok(Seen {
                    sni,
                    messages,
                    late,
                }))
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn wss_echo_text_1_mib_ping_and_client_close() {
    timed(async {
        let (server_config, client_config) = tls_configs();
        let (addr, mut seen) = tls_server(server_config, Mode::Echo).await;
        let url = format!("wss://localhost:{}/echo", addr.port());
        let (mut ws, _) = connect_tls_with(&url, Options::new(), client_config)
            .await
            .unwrap();
        let MaybeTlsStream::Rustls(tls) = ws.get_ref() else {
            panic!("a wss:// URL gives a TLS stream")
        };
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(ProtocolVersion::TLSv1_3)
        );

        ws.send(Message::text("hello over TLS")).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("hello over TLS")
        );
        let big = payload(1 << 20, 11);
        ws.send(Message::binary(big.clone())).await.unwrap();
        let Message::Binary(echoed) = ws.next().await.unwrap().unwrap() else {
            panic!("a binary echo")
        };
        assert_eq!(echoed.len(), 1 << 20);
        assert!(echoed[..] == big[..], "the 1 MiB echo differs");
        ws.ping(&b"tls ping"[..]).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Pong((&b"tls ping"[..]).into())
        );

        ws.close(CloseCode::NORMAL, "client bye").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
        );
        assert!(ws.next().await.is_none(), "the stream ends after the close");
        assert!(matches!(
            ws.send(Message::text("late")).await,
            Err(Error::AlreadyClosed)
        ));

        let server = seen.recv().await.unwrap().unwrap();
        assert_eq!(server.sni.as_deref(), Some("localhost"), "SNI from the URL");
        let closes: Vec<_> = server
            .messages
            .iter()
            .filter(|m| matches!(m, Message::Close(_)))
            .collect();
        assert_eq!(
            closes,
            [&Message::Close(Some(CloseFrame::new(
                CloseCode::NORMAL,
                "client bye"
            )))],
            "the server sees the close once"
        );
        assert_eq!(server.messages[0], Message::text("hello over TLS"));
        assert!(matches!(server.late, Err(Error::AlreadyClosed)));
    })
    .await
}

#[tokio::test]
async fn wss_server_closes_first() {
    timed(async {
        let (server_config, client_config) = tls_configs();
        let (addr, mut seen) = tls_server(server_config, Mode::CloseAfterFirst).await;
        // An IP address host: checked against the certificate's IP address, no SNI.
        let url = format!("wss://127.0.0.1:{}/", addr.port());
        let (mut ws, _) = connect_tls_with(&url, Options::new(), client_config)
            .await
            .unwrap();
        ws.send(Message::text("one")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("one"));
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Close(Some(CloseFrame::new(CloseCode(4000), "server bye")))
        );
        assert!(ws.next().await.is_none(), "the stream ends after the close");
        assert!(ws.next().await.is_none(), "and stays ended");

        let server = seen.recv().await.unwrap().unwrap();
        assert_eq!(server.sni, None, "no SNI for an IP address");
        assert_eq!(
            server.messages,
            [
                Message::text("one"),
                // Our close echoed by the client's codec: code kept, no reason.
                Message::Close(Some(CloseFrame::new(CloseCode(4000), "")))
            ]
        );
    })
    .await
}

#[tokio::test]
async fn default_roots_refuse_a_self_signed_server() {
    timed(async {
        let (server_config, _) = tls_configs();
        let (addr, mut seen) = tls_server(server_config, Mode::Echo).await;
        let started = Instant::now();
        match connect(&format!("wss://localhost:{}/", addr.port())).await {
            Err(Error::Tls(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))) => {
            }
            other => panic!("expected an unknown-issuer certificate error, got {other:?}"),
        }
        // Refused by the handshake, not by a timeout.
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        // The client told the server with an alert.
        let server = seen.recv().await.unwrap();
        let alert = server.expect_err("the server's TLS handshake fails");
        assert!(alert.contains("UnknownCA"), "{alert}");
    })
    .await
}

#[tokio::test]
async fn ws_urls_stay_plain() {
    timed(async {
        let addr = echo_server().await;
        let (mut ws, _) = connect(&format!("ws://{addr}/")).await.unwrap();
        assert!(matches!(ws.get_ref(), MaybeTlsStream::Plain(_)));
        // The config is for wss:// only: a ws:// URL connects without TLS.
        let (_, client_config) = tls_configs();
        let (mut ws2, _) =
            connect_tls_with(&format!("ws://{addr}/"), Options::new(), client_config)
                .await
                .unwrap();
        assert!(matches!(ws2.get_ref(), MaybeTlsStream::Plain(_)));
        for ws in [&mut ws, &mut ws2] {
            ws.send(Message::text("plain")).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("plain"));
        }
    })
    .await
}

#[tokio::test]
async fn a_bad_host_name_is_a_url_error() {
    let (_, client_config) = tls_configs();
    let result = timed(connect_tls_with(
        "wss://bad_host!:1/",
        Options::new(),
        client_config,
    ))
    .await;
    // Refused before any connection (nothing listens on port 1 anyway).
    assert!(
        matches!(result, Err(Error::Url(UrlError::Host))),
        "{result:?}"
    );
}

/// The 1 MiB echo's speed over TLS and plain TCP (permessage-deflate off, so the
/// difference is TLS's): `cargo test --release -p rfc6455-tokio --features rustls --test
/// tls -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn throughput_tls_vs_plain() {
    timed(async {
        const ROUNDS: usize = 32;
        let options = {
            let mut options = Options::new();
            options.config = options
                .config
                .deflate(rfc6455_tokio::rfc6455::deflate::DeflateConfig::new().enabled(false));
            options
        };
        let big = payload(1 << 20, 3);
        let (server_config, client_config) = tls_configs();
        let (tls_addr, _seen) = tls_server(server_config, Mode::Echo).await;
        let plain_addr = echo_server().await;
        for url in [
            format!("ws://{plain_addr}/"),
            format!("wss://localhost:{}/", tls_addr.port()),
        ] {
            let (mut ws, _) = connect_tls_with(&url, options, client_config.clone())
                .await
                .unwrap();
            let started = Instant::now();
            for _ in 0..ROUNDS {
                ws.send(Message::binary(big.clone())).await.unwrap();
                let echoed = ws.next().await.unwrap().unwrap();
                assert_eq!(echoed.as_bytes().len(), 1 << 20);
            }
            let secs = started.elapsed().as_secs_f64();
            // Each MiB goes both ways.
            eprintln!(
                "{url}: {ROUNDS} x 1 MiB echoed in {secs:.3} s, {:.0} MiB/s each way",
                ROUNDS as f64 / secs
            );
            ws.close(CloseCode::NORMAL, "").await.unwrap();
            while ws.next().await.is_some() {}
        }
    })
    .await
}
