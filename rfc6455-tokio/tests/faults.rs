//! Cancellation, a peer that never reads, handshake rejection and timeout.
mod common;

use std::time::Duration;

use common::timed;
use rfc6455::connection::Config;
use rfc6455_tokio::{Error, Message, Options, Rejection, Response, WebSocketStream, accept_with};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// A connected pair of loopback TCP streams.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (a.unwrap(), b.unwrap().0)
}

#[tokio::test]
async fn next_is_cancel_safe_in_select() {
    let (a, b) = pair().await;
    let mut server = WebSocketStream::server(a, Config::default());
    let mut client = WebSocketStream::client(b, Config::default()).unwrap();
    const N: u32 = 300;
    let sender = tokio::spawn(async move {
        for i in 0..N {
            // Some messages large enough to arrive over several reads.
            let text = format!("{i}:{}", "x".repeat((i as usize % 7) * 9000));
            server.send(Message::text(text)).await.unwrap();
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        server
    });
    let mut got = Vec::new();
    let mut cancelled = 0u32;
    timed(async {
        while got.len() < N as usize {
            tokio::select! {
                message = client.next() => got.push(message.unwrap().unwrap()),
                _ = tokio::time::sleep(Duration::from_micros(200)) => cancelled += 1,
            }
        }
    })
    .await;
    for (i, message) in got.iter().enumerate() {
        let text = message.to_text().unwrap();
        let expected = format!("{i}:{}", "x".repeat((i % 7) * 9000));
        assert_eq!(text, expected, "message {i}");
    }
    assert!(cancelled > 0, "the timer never won: nothing was cancelled");
    let _ = timed(sender).await.unwrap();
}

#[tokio::test]
async fn a_peer_that_never_reads_makes_send_wait_with_bounded_output() {
    let (a, _never_read) = pair().await;
    let bound = 256 << 10;
    let config = Config::new().max_queued_output(bound);
    let mut ws = WebSocketStream::server(a, config);
    let message = Message::binary(vec![0x5a; 64 << 10]);
    let mut sent = 0usize;
    let mut waited = false;
    // Kernel socket buffers take some megabytes; stop after 64 MiB at most.
    for _ in 0..1024 {
        match tokio::time::timeout(Duration::from_millis(300), ws.send(message.clone())).await {
            Ok(result) => {
                result.unwrap();
                sent += 1;
            }
            Err(_) => {
                waited = true;
                break;
            }
        }
        assert!(ws.connection().pending_output_len() <= bound);
    }
    assert!(waited, "send never waited after {sent} messages");
    assert!(
        ws.connection().pending_output_len() <= bound,
        "{} bytes pending",
        ws.connection().pending_output_len()
    );
}

#[tokio::test]
async fn accept_with_sees_the_request_and_rejects_with_a_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let result = accept_with(tcp, Options::new(), |request| async move {
                // An "auth lookup" that awaits.
                tokio::time::sleep(Duration::from_millis(5)).await;
                if request.path() == "/ok" && request.protocols().any(|p| p == "chat") {
                    Ok(Response {
                        protocol: Some("chat".into()),
                        headers: vec![("X-Test".into(), "1".into())],
                    })
                } else {
                    Err(Rejection::new(403, "Forbidden"))
                }
            })
            .await;
            results.push(result.map(|_| ()));
        }
        results
    });
    let host = addr.to_string();
    let request = rfc6455::handshake::ClientRequest {
        protocols: &["chat"],
        ..rfc6455::handshake::ClientRequest::new(&host, "/ok")
    };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (_ws, accepted) = timed(rfc6455_tokio::connect_request(
        tcp,
        &request,
        Options::new(),
    ))
    .await
    .unwrap();
    assert_eq!(accepted.protocol.as_deref(), Some("chat"));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let refused = timed(rfc6455_tokio::connect_with(
        tcp,
        &format!("ws://{addr}/no"),
        Options::new(),
    ))
    .await;
    match refused {
        Err(e) => assert_eq!(e.http_status(), Some(403), "{e:?}"),
        Ok(_) => panic!("the server accepted /no"),
    }
    let results = timed(server).await.unwrap();
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(Error::Rejected { status: 403 })));
}

#[tokio::test]
async fn a_silent_client_is_cut_by_the_handshake_timeout() {
    let (a, mut b) = pair().await;
    let options = Options::new().handshake_timeout(Some(Duration::from_millis(200)));
    let started = tokio::time::Instant::now();
    let result = timed(accept_with(a, options, |_| async {
        Ok(Response::default())
    }))
    .await;
    assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The server dropped the transport: the client sees its end.
    let mut buf = [0u8; 16];
    assert_eq!(timed(b.read(&mut buf)).await.unwrap(), 0);
}

#[tokio::test]
async fn a_bad_request_is_answered_with_its_status() {
    let (a, mut b) = pair().await;
    let server = tokio::spawn(accept_with(a, Options::new(), |_| async {
        Ok(Response::default())
    }));
    use tokio::io::AsyncWriteExt;
    // No Sec-WebSocket-Key: RFC 6455 section 4.2.1 makes that a 400.
    b.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let result = timed(server).await.unwrap();
    assert_eq!(result.err().and_then(|e| e.http_status()), Some(400));
    let mut answer = Vec::new();
    let _ = timed(b.read_to_end(&mut answer)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 400 "),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_reset_peer_is_one_io_error_then_the_end() {
    let (a, b) = pair().await;
    let mut ws = WebSocketStream::server(a, Config::default());
    // A frame header announcing 100 bytes, 3 of them, then the peer vanishes.
    {
        use tokio::io::AsyncWriteExt;
        let mut b = b;
        b.write_all(&[0x82, 0x80 | 100, 1, 2, 3, 4, 9, 9, 9])
            .await
            .unwrap();
        // Zero linger: the drop sends a reset (and does not block, the time being zero).
        #[allow(deprecated)]
        b.set_linger(Some(Duration::ZERO)).unwrap();
    }
    let first = timed(ws.next()).await;
    assert!(matches!(first, Some(Err(Error::Io(_)))), "{first:?}");
    assert!(timed(ws.next()).await.is_none());
}

/// A slowloris client: a valid request, one byte every 20 ms, so that each read brings
/// something. The handshake timeout counts from the start, not from the last byte.
#[tokio::test]
async fn a_slowloris_request_is_cut_by_the_handshake_timeout() {
    use tokio::io::AsyncWriteExt;
    let (a, mut b) = pair().await;
    let limit = Duration::from_millis(300);
    let options = Options::new().handshake_timeout(Some(limit));
    let started = tokio::time::Instant::now();
    let server = tokio::spawn(accept_with(a, options, |_| async {
        Ok(Response::default())
    }));
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let mut written = 0;
    for byte in request {
        if b.write_all(&[*byte]).await.is_err() {
            break;
        }
        written += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if server.is_finished() {
            break;
        }
    }
    let result = timed(server).await.unwrap();
    assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= limit && elapsed < limit * 5, "{elapsed:?}");
    // Cut well before the request was complete (it takes 20 ms a byte).
    assert!(written < request.len(), "{written} bytes written");
    let mut buf = [0u8; 64];
    let end = timed(b.read(&mut buf)).await;
    assert!(matches!(end, Ok(0) | Err(_)), "{end:?}");
}

/// Without the `rustls` feature a `wss://` URL is refused at once, before any connection,
/// with an error that names the missing feature.
#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn wss_without_the_rustls_feature_is_a_clear_error() {
    let result = timed(rfc6455_tokio::connect("wss://127.0.0.1:1/")).await;
    let Err(e) = result else {
        panic!("a wss:// URL without TLS connected")
    };
    assert!(matches!(e, Error::TlsNotEnabled), "{e:?}");
    assert!(e.to_string().contains("`rustls` feature"), "{e}");
}
