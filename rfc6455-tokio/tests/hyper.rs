//! The `hyper` feature: a hyper 1.x server on 127.0.0.1 upgrading with
//! `rfc6455_tokio::hyper`, and our own client, plain HTTP and bad requests against it.
//! Some tests run the `tokio_hyper_server` example's handler itself.
#![cfg(feature = "hyper")]

mod common;
#[allow(dead_code)]
#[path = "../examples/hyper_server.rs"]
mod hyper_server;

use std::future::Future;
use std::net::SocketAddr;

use common::{payload, timed};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rfc6455_tokio::hyper::{is_upgrade_request, upgrade, upgrade_with};
use rfc6455_tokio::rfc6455::deflate::DeflateParams;
use rfc6455_tokio::rfc6455::handshake::ClientRequest;
use rfc6455_tokio::{
    CloseCode, Error, Message, Options, Rejection, Response as Accept, connect, connect_request,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A hyper HTTP/1 server (with upgrades) on 127.0.0.1 answering with `handler`.
async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<String>, hyper::Error>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let conn = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service_fn(handler))
                    .with_upgrades();
                let _ = conn.await;
            });
        }
    });
    addr
}

/// Send `request` as is and read the answer until the server closes the connection.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    String::from_utf8(answer).unwrap()
}

fn upgrade_head(path: &str, version: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn our_client_echoes_text_and_1_mib_binary_with_deflate_on_both_sides() {
    timed(async {
        // The server reports the deflate parameters its stream runs with.
        let (report, mut reported) = mpsc::unbounded_channel::<Option<DeflateParams>>();
        let addr = serve(move |mut req: Request<Incoming>| {
            let report = report.clone();
            async move {
                let (response, websocket) = match upgrade(&mut req) {
                    Ok(accepted) => accepted,
                    Err(refused) => return Ok(refused.into_response()),
                };
                tokio::spawn(async move {
                    let mut ws = websocket.await.unwrap();
                    report.send(ws.connection().deflate_params()).unwrap();
                    while let Some(Ok(message)) = ws.next().await {
                        if message.is_data() {
                            ws.send(message).await.unwrap();
                        }
                    }
                });
                Ok(response)
            }
        })
        .await;

        let (mut ws, accepted) = connect(&format!("ws://{addr}/ws")).await.unwrap();
        let extensions = accepted.extensions.unwrap_or_default();
        assert!(
            extensions.starts_with("permessage-deflate"),
            "{extensions:?}"
        );
        let ours = ws.connection().deflate_params();
        assert!(ours.is_some(), "the client runs deflate");
        assert_eq!(reported.recv().await.unwrap(), ours, "so does the server");

        let big = payload(1 << 20, 11);
        let sent = [
            Message::text("hello"),
            Message::text("a compressible line\n".repeat(4000)),
            Message::binary(big.clone()),
        ];
        for message in &sent {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(&ws.next().await.unwrap().unwrap(), message);
        }
        // The 1 MiB echo byte for byte, checked against the generator once more.
        ws.send(Message::binary(big)).await.unwrap();
        match ws.next().await.unwrap().unwrap() {
            Message::Binary(data) => assert!(data.len() == 1 << 20 && data == payload(1 << 20, 11)),
            other => panic!("expected the bytes, got {other:?}"),
        }
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
        assert!(ws.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn example_serves_the_page_and_echoes_on_ws() {
    timed(async {
        let addr = serve(hyper_server::handle).await;
        let answer = raw(
            addr,
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        let page = include_str!("../../examples/chat.html");
        assert!(answer.ends_with(page), "the body is the chat page");
        let missing = raw(
            addr,
            "GET /nothing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");

        let (mut ws, accepted) = connect(&format!("ws://{addr}/ws")).await.unwrap();
        assert!(accepted.extensions.is_some(), "deflate accepted");
        ws.send(Message::text("echo me")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo me"));
    })
    .await;
}

#[tokio::test]
async fn bad_requests_get_the_codecs_status_and_no_upgrade() {
    timed(async {
        let addr = serve(hyper_server::handle).await;
        let answer = raw(addr, &upgrade_head("/ws", "8", "")).await;
        let head = answer.to_ascii_lowercase();
        assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
        assert!(
            head.contains("\r\nsec-websocket-version: 13\r\n"),
            "{answer}"
        );
        assert!(!head.contains("sec-websocket-accept"), "{answer}");
        // Read to the end: the server closed the connection, nothing followed the answer.
        assert!(answer.ends_with("\r\n\r\n"), "{answer}");

        // No key: 400.
        let no_key = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                      Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let answer = raw(addr, no_key).await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");

        // Our own client sees the status too.
        let (report, mut reported) = mpsc::unbounded_channel();
        let addr = serve(move |mut req: Request<Incoming>| {
            let report = report.clone();
            async move {
                assert!(is_upgrade_request(&req));
                // A hand-made request the codec refuses: it lacks Connection: Upgrade.
                req.headers_mut().remove("connection");
                let refused = upgrade::<_, String>(&mut req).map(|_| ()).unwrap_err();
                report.send(refused.error().http_status()).unwrap();
                Ok(refused.into_response())
            }
        })
        .await;
        match connect(&format!("ws://{addr}/ws")).await {
            Err(Error::Handshake {
                status: Some(400), ..
            }) => {}
            other => panic!("expected a 400, got {other:?}"),
        }
        assert_eq!(reported.recv().await.unwrap(), Some(400));
    })
    .await;
}

#[test]
fn is_upgrade_request_looks_at_the_upgrade_header() {
    let with = |value: &str| {
        let req = http::Request::get("/").header("Upgrade", value).body(());
        is_upgrade_request(&req.unwrap())
    };
    assert!(with("websocket"));
    assert!(with("h2c, WebSocket"));
    assert!(!with("h2c"));
    assert!(!is_upgrade_request(
        &http::Request::get("/").body(()).unwrap()
    ));
}

/// A server that accepts a `v1` subprotocol from the offer and refuses clients without one.
async fn v1_server() -> SocketAddr {
    serve(|mut req: Request<Incoming>| async move {
        let options = Options::new();
        let decided = upgrade_with(&mut req, options, |request| {
            match request.protocols().find(|p| p.starts_with("v1")) {
                Some(p) => Ok(Accept {
                    protocol: Some(p.to_owned()),
                    headers: vec![("X-Picked".into(), p.to_owned())],
                }),
                None => Err(Rejection::new(403, "v1 only")),
            }
        });
        Ok(match decided {
            Ok((response, websocket)) => {
                tokio::spawn(async move {
                    let mut ws = websocket.await?;
                    let deflate = ws.connection().deflate_params().is_some();
                    ws.send(Message::text(format!("deflate {deflate}"))).await?;
                    while ws.next().await.is_some() {}
                    Ok::<(), Error>(())
                });
                response
            }
            Err(refused) => refused.into_response(),
        })
    })
    .await
}

#[tokio::test]
async fn a_subprotocol_picked_from_the_offer_is_in_the_response() {
    timed(async {
        let addr = v1_server().await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let request = ClientRequest {
            protocols: &["v2.chat", "v1.chat", "v1.old"],
            ..ClientRequest::new("localhost", "/ws")
        };
        let (mut ws, accepted) = connect_request(tcp, &request, Options::new())
            .await
            .unwrap();
        assert_eq!(accepted.protocol.as_deref(), Some("v1.chat"));
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("deflate true")
        );

        // The raw answer: 101 with the protocol and the callback's header.
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let head = upgrade_head("/ws", "13", "Sec-WebSocket-Protocol: v0, v1.x\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0; 1024];
        let n = tcp.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 101 "), "{answer}");
        assert!(
            answer.contains("\r\nsec-websocket-protocol: v1.x\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nx-picked: v1.x\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
            "{answer}"
        );

        // No v1 offered: the callback's rejection, with its reason phrase.
        let answer = raw(
            addr,
            &upgrade_head("/ws", "13", "Sec-WebSocket-Protocol: v2\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 403 v1 only\r\n"), "{answer}");
    })
    .await;
}
