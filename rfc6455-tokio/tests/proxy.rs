//! `connect_via` through a small HTTP CONNECT proxy written here (127.0.0.1 only): the
//! echo round trip, credentials, refusals, a proxy that closes mid-answer or stays silent,
//! the bytes after the proxy's answer; `Proxy::from_url`, `from_env_with` and the
//! `NO_PROXY` rules (pure functions: no environment is changed).
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{echo_server, timed};
use rfc6455_tokio::proxy::no_proxy_matches;
use rfc6455_tokio::rfc6455::handshake::{HandshakeError, ProxyError, UrlError};
use rfc6455_tokio::{Error, Message, Options, Proxy, connect_via};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the test proxy does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// Checks `Proxy-Authorization` against `auth` (if any; 407 when it differs), connects
    /// to the CONNECT target, answers 200 and relays both ways.
    Tunnel { auth: Option<&'static str> },
    /// Reads the request, sends these bytes (one write each), then holds the connection
    /// open until the client closes it.
    Answer(Vec<Vec<u8>>),
    /// Reads the request, sends these bytes, and closes.
    AnswerAndClose(&'static [u8]),
    /// Reads the request and never answers.
    Silent,
}

/// The request head, read up to the blank line (at most 8 KiB).
async fn read_head(tcp: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || tcp.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

/// A CONNECT proxy on 127.0.0.1; every request head it reads comes through the channel.
async fn proxy(behaviour: Behaviour) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, heads) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (behaviour, report) = (behaviour.clone(), report.clone());
            tokio::spawn(async move {
                client.set_nodelay(true).unwrap();
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let _ = report.send(head.clone());
                match behaviour {
                    Behaviour::Tunnel { auth } => {
                        let sent = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Proxy-Authorization: "));
                        if auth.is_some() && sent != auth {
                            let _ = client
                                .write_all(
                                    b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                                      Proxy-Authenticate: Basic realm=\"test\"\r\n\
                                      Content-Length: 0\r\n\r\n",
                                )
                                .await;
                            return;
                        }
                        let target = head
                            .strip_prefix("CONNECT ")
                            .and_then(|rest| rest.split(' ').next())
                            .unwrap()
                            .to_owned();
                        let Ok(mut server) = TcpStream::connect(target.as_str()).await else {
                            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                            return;
                        };
                        client
                            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                            .await
                            .unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                    Behaviour::Answer(pieces) => {
                        for piece in pieces {
                            client.write_all(&piece).await.unwrap();
                        }
                        let mut rest = Vec::new();
                        let _ = client.read_to_end(&mut rest).await;
                    }
                    Behaviour::AnswerAndClose(bytes) => {
                        let _ = client.write_all(bytes).await;
                    }
                    Behaviour::Silent => {
                        let mut rest = Vec::new();
                        let _ = client.read_to_end(&mut rest).await;
                    }
                }
            });
        }
    });
    (addr, heads)
}

fn local(addr: SocketAddr) -> Proxy {
    Proxy::new("127.0.0.1", addr.port())
}

#[tokio::test]
async fn echo_round_trip_through_the_proxy() {
    timed(async {
        let server = echo_server().await;
        let (proxy_addr, mut heads) = proxy(Behaviour::Tunnel { auth: None }).await;
        let url = format!("ws://127.0.0.1:{}/chat", server.port());
        let (mut ws, _) = connect_via(&url, Some(&local(proxy_addr)), Options::new())
            .await
            .unwrap();
        for text in ["through", "the", "tunnel"] {
            ws.send(Message::text(text)).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
        }
        let big = vec![7u8; 300_000];
        ws.send(Message::binary(big.clone())).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));
        ws.close(rfc6455_tokio::CloseCode::NORMAL, "bye")
            .await
            .unwrap();
        while ws.next().await.is_some() {}
        let authority = format!("127.0.0.1:{}", server.port());
        assert_eq!(
            heads.recv().await.unwrap(),
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"),
            "the CONNECT request, without credentials"
        );
    })
    .await
}

#[tokio::test]
async fn credentials_right_and_wrong() {
    timed(async {
        let server = echo_server().await;
        // base64("user:pass")
        let auth = Some("Basic dXNlcjpwYXNz");
        let (proxy_addr, mut heads) = proxy(Behaviour::Tunnel { auth }).await;
        let url = format!("ws://127.0.0.1:{}/", server.port());

        let good = local(proxy_addr).credentials("user", "pass");
        let (mut ws, _) = connect_via(&url, Some(&good), Options::new())
            .await
            .unwrap();
        ws.send(Message::text("authorized")).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("authorized")
        );
        assert!(
            heads
                .recv()
                .await
                .unwrap()
                .contains("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n")
        );

        let from_url =
            Proxy::from_url(&format!("http://user:pass@127.0.0.1:{}", proxy_addr.port())).unwrap();
        assert_eq!(from_url, good);
        connect_via(&url, Some(&from_url), Options::new())
            .await
            .unwrap();

        for proxy in [
            local(proxy_addr).credentials("user", "wrong"),
            local(proxy_addr),
        ] {
            let err = connect_via(&url, Some(&proxy), Options::new())
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Proxy(ProxyError::Refused { status: 407 })),
                "{err:?}"
            );
            assert_eq!(err.http_status(), Some(407));
            assert!(err.to_string().contains("407"), "{err}");
        }
    })
    .await
}

#[tokio::test]
async fn refusals_and_broken_proxies() {
    timed(async {
        // The proxies below never connect to the target: its name is not resolved.
        let url = "ws://example.invalid:9001/";
        let (forbidden, _) = proxy(Behaviour::AnswerAndClose(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
        ))
        .await;
        let err = connect_via(url, Some(&local(forbidden)), Options::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Proxy(ProxyError::Refused { status: 403 })),
            "{err:?}"
        );
        assert_eq!(err.http_status(), Some(403));

        // The target cannot be reached (nobody listens there): the proxy says 502.
        let gone = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let (tunnel, _) = proxy(Behaviour::Tunnel { auth: None }).await;
        let unreachable = format!("ws://127.0.0.1:{}/", gone.port());
        let err = connect_via(&unreachable, Some(&local(tunnel)), Options::new())
            .await
            .unwrap_err();
        assert_eq!(err.http_status(), Some(502), "{err:?}");

        // The proxy closes in the middle of its answer.
        let (closing, _) = proxy(Behaviour::AnswerAndClose(b"HTTP/1.1 200 Connection est")).await;
        let err = connect_via(url, Some(&local(closing)), Options::new())
            .await
            .unwrap_err();
        let Error::Io(io) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(
            err.to_string().contains("proxy closed the connection"),
            "{err}"
        );

        // Not HTTP at all.
        let (garbage, _) = proxy(Behaviour::AnswerAndClose(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")).await;
        let err = connect_via(url, Some(&local(garbage)), Options::new())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Proxy(ProxyError::Head(HandshakeError::Syntax(_)))
            ),
            "{err:?}"
        );
        assert_eq!(err.http_status(), None);

        // An answer that never ends is cut at the codec's limit (8 KiB by default).
        let endless = [&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'a'; 9000]].concat();
        let (big, _) = proxy(Behaviour::Answer(vec![endless])).await;
        let err = connect_via(url, Some(&local(big)), Options::new())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Proxy(ProxyError::Head(HandshakeError::HeadTooLarge {
                    limit: 8192
                }))
            ),
            "{err:?}"
        );

        // Nobody listening where the proxy should be.
        let err = connect_via(url, Some(&local(gone)), Options::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn a_silent_proxy_runs_into_the_handshake_timeout() {
    timed(async {
        let (silent, mut heads) = proxy(Behaviour::Silent).await;
        let options = Options::new().handshake_timeout(Some(Duration::from_millis(300)));
        let started = std::time::Instant::now();
        let err = connect_via("ws://127.0.0.1:9/", Some(&local(silent)), options)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::HandshakeTimeout), "{err:?}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(5),
            "{took:?}"
        );
        assert!(
            heads
                .recv()
                .await
                .unwrap()
                .starts_with("CONNECT 127.0.0.1:9 HTTP/1.1\r\n")
        );
    })
    .await
}

#[tokio::test]
async fn bytes_after_the_answer_stay_in_the_tunnel() {
    timed(async {
        // The answer one byte per write (the client sees it in pieces), then bytes of the
        // "target" in the same write as the answer's last byte.
        let answer = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n";
        let mut pieces: Vec<Vec<u8>> = answer[..answer.len() - 1]
            .iter()
            .map(|&b| vec![b])
            .collect();
        pieces.push([&answer[answer.len() - 1..], b"EARLY BYTES"].concat());
        let (dribbling, _) = proxy(Behaviour::Answer(pieces)).await;
        let mut tcp = local(dribbling)
            .tunnel("target.example", 443)
            .await
            .unwrap();
        let mut early = [0u8; 11];
        tcp.read_exact(&mut early).await.unwrap();
        assert_eq!(&early, b"EARLY BYTES");

        // An interim 100 before the 200, all in one write with the tunnel's bytes.
        let (interim, _) = proxy(Behaviour::Answer(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\x16\x03\x03".to_vec(),
        ]))
        .await;
        let mut tcp = local(interim).tunnel("::1", 9001).await.unwrap();
        let mut early = [0u8; 3];
        tcp.read_exact(&mut early).await.unwrap();
        assert_eq!(&early, b"\x16\x03\x03");
    })
    .await
}

#[test]
fn proxy_urls() {
    let p = Proxy::from_url("http://proxy.example:3128").unwrap();
    assert_eq!(p, Proxy::new("proxy.example", 3128));
    assert_eq!(
        Proxy::from_url("HTTP://proxy.example/").unwrap(),
        Proxy::new("proxy.example", 80)
    );
    assert_eq!(
        Proxy::from_url("10.0.0.1:8080").unwrap(),
        Proxy::new("10.0.0.1", 8080)
    );
    assert_eq!(
        Proxy::from_url("http://[::1]:3128").unwrap(),
        Proxy::new("::1", 3128)
    );
    let p = Proxy::from_url("http://us%65r:p%40ss:w@rd@proxy:1").unwrap();
    assert_eq!(p, Proxy::new("proxy", 1).credentials("user", "p@ss:w@rd"));
    assert_eq!(
        Proxy::from_url("http://user@proxy:1").unwrap(),
        Proxy::new("proxy", 1).credentials("user", "")
    );
    // The password is not in the Debug output.
    assert!(!format!("{p:?}").contains("p@ss"), "{p:?}");
    for (url, kind) in [
        ("https://proxy:443", UrlError::Scheme),
        ("socks5://proxy:1080", UrlError::Scheme),
        ("http://proxy:0", UrlError::Port),
        ("http://proxy:99999", UrlError::Port),
        ("http://", UrlError::Host),
        ("http://a b:1", UrlError::Host),
        ("http://proxy:1/path", UrlError::Resource),
        ("http://u%zz:p@proxy:1", UrlError::UserInfo),
        ("http://u%ff:p@proxy:1", UrlError::UserInfo),
    ] {
        match Proxy::from_url(url) {
            Err(Error::ProxyUrl(got)) => assert_eq!(got, kind, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

/// The environment as a list of pairs.
fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn proxies_from_the_environment() {
    let from = |url, pairs: &[(&str, &str)]| Proxy::from_env_with(url, vars(pairs)).unwrap();
    let http = ("http_proxy", "http://plain:1");
    let https = ("HTTPS_PROXY", "http://secure:2");
    let all = ("ALL_PROXY", "all:3");
    assert_eq!(
        from("ws://x/", &[http, https]),
        Some(Proxy::new("plain", 1))
    );
    assert_eq!(
        from("wss://x/", &[http, https]),
        Some(Proxy::new("secure", 2))
    );
    assert_eq!(from("wss://x/", &[http, all]), Some(Proxy::new("all", 3)));
    assert_eq!(from("ws://x/", &[all]), Some(Proxy::new("all", 3)));
    assert_eq!(from("ws://x/", &[]), None);
    // Lowercase first; empty values count as unset.
    assert_eq!(
        from(
            "wss://x/",
            &[("https_proxy", "lower:1"), ("HTTPS_PROXY", "upper:2")]
        ),
        Some(Proxy::new("lower", 1))
    );
    assert_eq!(
        from("wss://x/", &[("https_proxy", " "), https]),
        Some(Proxy::new("secure", 2))
    );
    // CGI: HTTP_PROXY may come from a request header; ignored.
    let upper = ("HTTP_PROXY", "http://evil:1");
    assert_eq!(from("ws://x/", &[upper]), Some(Proxy::new("evil", 1)));
    assert_eq!(from("ws://x/", &[upper, ("REQUEST_METHOD", "GET")]), None);
    // NO_PROXY, either case, lowercase first.
    let no = ("no_proxy", "x, .internal");
    assert_eq!(from("wss://x/", &[https, no]), None);
    assert_eq!(from("wss://a.internal:9/", &[https, no]), None);
    assert_eq!(
        from("wss://y/", &[https, no]),
        Some(Proxy::new("secure", 2))
    );
    assert_eq!(from("wss://y/", &[https, ("NO_PROXY", "*")]), None);
    assert_eq!(
        from("wss://y/", &[https, ("no_proxy", "z"), ("NO_PROXY", "*")]),
        Some(Proxy::new("secure", 2))
    );
    // Errors: a bad target, a proxy URL this crate cannot use.
    assert!(matches!(
        Proxy::from_env_with("http://x/", vars(&[])),
        Err(Error::Url(_))
    ));
    let socks = ("ALL_PROXY", "socks5://s:1080");
    assert!(matches!(
        Proxy::from_env_with("ws://x/", vars(&[socks])),
        Err(Error::ProxyUrl(UrlError::Scheme))
    ));
    // ...unless NO_PROXY exempts the target first.
    assert_eq!(from("ws://x/", &[socks, ("no_proxy", "x")]), None);
}

#[test]
fn no_proxy_rules() {
    let cases: &[(&str, &str, u16, bool)] = &[
        ("", "example.com", 80, false),
        ("*", "anything", 1, true),
        (" * ", "anything", 1, true),
        ("example.com", "example.com", 80, true),
        ("example.com", "EXAMPLE.com", 80, true),
        ("Example.COM", "ws.example.com", 80, true),
        ("example.com", "badexample.com", 80, false),
        ("example.com", "example.com.evil", 80, false),
        (".example.com", "example.com", 80, true),
        (".example.com", "a.b.example.com", 80, true),
        ("*.example.com", "a.example.com", 80, true),
        ("example.com.", "example.com", 80, true),
        ("example.com", "example.com.", 80, true),
        ("a.com,b.com", "b.com", 80, true),
        ("a.com , b.com", "b.com", 80, true),
        ("a.com,,", "c.com", 80, false),
        ("example.com:8443", "example.com", 8443, true),
        ("example.com:8443", "example.com", 443, false),
        ("localhost", "localhost", 9001, true),
        ("localhost", "127.0.0.1", 9001, false),
        ("127.0.0.1", "127.0.0.1", 1, true),
        ("127.0.0.1", "127.0.0.2", 1, false),
        ("127.0.0.1:9", "127.0.0.1", 9, true),
        ("127.0.0.1:9", "127.0.0.1", 10, false),
        ("::1", "::1", 1, true),
        ("[::1]", "::1", 1, true),
        ("[::1]:9001", "[::1]", 9001, true),
        ("[::1]:9001", "::1", 9002, false),
        ("10.0.0.0/8", "10.200.3.4", 1, true),
        ("10.0.0.0/8", "11.0.0.1", 1, false),
        ("192.168.1.0/24", "192.168.1.77", 1, true),
        ("192.168.1.0/24", "192.168.2.1", 1, false),
        ("0.0.0.0/0", "8.8.8.8", 1, true),
        ("10.0.0.0/33", "10.0.0.1", 1, false),
        ("10.0.0.0/8", "ten.example", 1, false),
        ("fd00::/8", "fd12::1", 1, true),
        ("fd00::/8", "fe80::1", 1, false),
        ("10.0.0.0/8", "::ffff:10.0.0.1", 1, false),
        (".", "example.com", 1, false),
    ];
    for &(list, host, port, expected) in cases {
        assert_eq!(
            no_proxy_matches(list, host, port),
            expected,
            "{list:?} {host} {port}"
        );
    }
}

#[cfg(feature = "rustls")]
mod tls {
    use rfc6455_tokio::tls::tokio_rustls::TlsAcceptor;
    use rfc6455_tokio::{MaybeTlsStream, Message, Options, accept, connect_tls_via};
    use tokio::net::TcpListener;

    use super::{Behaviour, common::timed, local, proxy};

    #[tokio::test]
    async fn wss_through_the_proxy_with_the_targets_sni() {
        timed(async {
            let (server_config, client_config) = super::common::tls_configs();

            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let acceptor = TlsAcceptor::from(server_config);
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let tls = acceptor.accept(tcp).await.unwrap();
                let sni = tls.get_ref().1.server_name().map(str::to_owned);
                let mut ws = accept(tls).await.unwrap();
                while let Some(message) = ws.next().await {
                    let message = message.unwrap();
                    if message.is_data() {
                        ws.send(message).await.unwrap();
                    }
                }
                sni
            });

            let (proxy_addr, mut heads) = proxy(Behaviour::Tunnel { auth: None }).await;
            // `localhost` resolves on the proxy's side; the client sends it as SNI.
            let url = format!("wss://localhost:{port}/secure");
            let (mut ws, _) = connect_tls_via(
                &url,
                Some(&local(proxy_addr)),
                Options::new(),
                client_config,
            )
            .await
            .unwrap();
            assert!(matches!(ws.get_ref(), MaybeTlsStream::Rustls(_)));
            ws.send(Message::text("tls in a tunnel")).await.unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                Message::text("tls in a tunnel")
            );
            ws.close(rfc6455_tokio::CloseCode::NORMAL, "")
                .await
                .unwrap();
            while ws.next().await.is_some() {}
            assert_eq!(server.await.unwrap().as_deref(), Some("localhost"));
            assert!(
                heads
                    .recv()
                    .await
                    .unwrap()
                    .starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n"))
            );
        })
        .await
    }
}
