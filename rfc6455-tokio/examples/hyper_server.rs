//! A hyper 1.x server: `GET /` serves the chat page, `/ws` is an echo WebSocket on the
//! same port (the page's messages come back to it).
//!
//! `cargo run --release -p rfc6455-tokio --features hyper --example tokio_hyper_server -- 127.0.0.1:9001`
mod common;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rfc6455_tokio::hyper::{is_upgrade_request, upgrade_with};

/// `/` the page, `/ws` the echo WebSocket (tests/hyper.rs runs this too).
pub async fn handle(mut req: Request<Incoming>) -> Result<Response<String>, hyper::Error> {
    match req.uri().path() {
        "/ws" if is_upgrade_request(&req) => {
            match upgrade_with(&mut req, common::options(), |_| Ok(Default::default())) {
                Ok((response, websocket)) => {
                    tokio::spawn(async move {
                        if let Err(e) = async { common::echo(websocket.await?).await }.await {
                            eprintln!("hyper_server: connection ended: {e}");
                        }
                    });
                    Ok(response)
                }
                Err(refused) => Ok(refused.into_response()),
            }
        }
        "/" => Ok(Response::new(
            include_str!("../../examples/chat.html").into(),
        )),
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(String::new())
            .unwrap()),
    }
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("hyper_server on http://{}", listener.local_addr().unwrap());
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(handle);
            let conn = http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = conn.with_upgrades().await {
                eprintln!("hyper_server: {e}");
            }
        });
    }
}
