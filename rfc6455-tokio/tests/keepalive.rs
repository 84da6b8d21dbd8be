//! Keep-alive on tokio's clock: a half-open peer is found, a live or busy one is kept.
mod common;

use std::time::{Duration, Instant};

use common::{echo_server, timed};
use rfc6455::keepalive::KeepAliveConfig;
use rfc6455_tokio::{Error, Message, Options, Response, WebSocketStream, accept_with, connect};
use tokio::net::{TcpListener, TcpStream};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server with `keepalive` on its first connection: what its reads returned, in order,
/// and how long after the handshake the first error came.
async fn keepalive_server(
    keepalive: KeepAliveConfig,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(Vec<Result<Message, Error>>, Option<Duration>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let options = Options::new().keepalive(Some(keepalive));
        let mut ws: WebSocketStream<TcpStream> =
            accept_with(tcp, options, |_| async { Ok(Response::default()) })
                .await
                .unwrap();
        let start = Instant::now();
        let mut got = Vec::new();
        let mut failed_at = None;
        while let Some(item) = ws.next().await {
            if item.is_err() && failed_at.is_none() {
                failed_at = Some(start.elapsed());
            }
            if let Ok(message) = &item {
                if message.is_data() {
                    ws.send(message.clone()).await.unwrap();
                }
            }
            got.push(item);
        }
        (got, failed_at)
    });
    (addr, server)
}

#[tokio::test]
async fn a_half_open_peer_is_found_by_keepalive() {
    let config = KeepAliveConfig {
        interval: ms(150),
        timeout: ms(150),
        max_missed: 2,
    };
    let (addr, server) = keepalive_server(config).await;
    // The peer connects, then its application stops: the kernel still acknowledges, but
    // nothing answers the pings.
    let (mut client, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    let (got, failed_at) = timed(server).await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    match &got[0] {
        Err(Error::KeepAliveTimeout(timeout)) => {
            assert_eq!(timeout.missed, 2);
            assert!(timeout.silent_for >= ms(450), "{timeout:?}");
        }
        other => panic!("{other:?}"),
    }
    let failed_at = failed_at.unwrap();
    assert!(
        failed_at >= ms(450) && failed_at < ms(5000),
        "{failed_at:?}"
    );
    // What the silent peer would have seen: ping #0 and ping #1, then the end of the
    // transport without a close frame.
    let first = timed(client.next()).await.unwrap().unwrap();
    assert_eq!(first, Message::Ping(vec![0, 0, 0, 0].into()));
    let second = timed(client.next()).await.unwrap().unwrap();
    assert_eq!(second, Message::Ping(vec![0, 0, 0, 1].into()));
    let end = timed(client.next()).await.unwrap();
    assert!(matches!(end, Err(Error::Io(_))), "{end:?}");
    assert!(timed(client.next()).await.is_none());
}

#[tokio::test]
async fn a_peer_that_answers_is_kept_through_many_intervals() {
    let config = KeepAliveConfig {
        interval: ms(100),
        timeout: ms(100),
        max_missed: 1,
    };
    let (addr, server) = keepalive_server(config).await;
    let (mut client, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    let start = Instant::now();
    let mut pings = 0;
    // Read (answering pings) for a second of idleness.
    while start.elapsed() < ms(1000) {
        match tokio::time::timeout(ms(50), client.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("{other:?}"),
            Err(_) => {}
        }
    }
    assert!(pings >= 5, "{pings} pings in a second at a 100 ms interval");
    timed(client.send(Message::text("still here")))
        .await
        .unwrap();
    let echo = loop {
        match timed(client.next()).await.unwrap().unwrap() {
            Message::Ping(_) => {}
            other => break other,
        }
    };
    assert_eq!(echo, Message::text("still here"));
    timed(client.close(rfc6455_tokio::CloseCode::NORMAL, ""))
        .await
        .unwrap();
    while timed(client.next()).await.is_some() {}
    let (got, failed_at) = timed(server).await.unwrap();
    assert_eq!(failed_at, None, "{got:?}");
}

#[tokio::test]
async fn a_busy_peer_gets_no_pings() {
    let config = KeepAliveConfig {
        interval: ms(300),
        timeout: ms(300),
        max_missed: 1,
    };
    let (addr, server) = keepalive_server(config).await;
    let (mut client, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    // A message every 20 ms for 1.2 s: never 300 ms of silence.
    for i in 0..60u32 {
        timed(client.send(Message::text(i.to_string())))
            .await
            .unwrap();
        let echo = timed(client.next()).await.unwrap().unwrap();
        assert_eq!(
            echo,
            Message::text(i.to_string()),
            "no ping among the echoes"
        );
        tokio::time::sleep(ms(20)).await;
    }
    timed(client.close(rfc6455_tokio::CloseCode::NORMAL, ""))
        .await
        .unwrap();
    while timed(client.next()).await.is_some() {}
    let (got, failed_at) = timed(server).await.unwrap();
    assert_eq!(failed_at, None);
    assert_eq!(
        got.iter()
            .filter(|m| matches!(m, Ok(Message::Pong(_))))
            .count(),
        0
    );
}

#[tokio::test]
async fn keepalive_off_by_default_sends_nothing() {
    let addr = echo_server().await;
    let (mut client, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    // The default server (no keep-alive) stays silent.
    assert!(tokio::time::timeout(ms(400), client.next()).await.is_err());
}
