//! The `http` feature: validation of `http::Request`/`http::Response` values parsed
//! elsewhere, and conversions to them.
#![cfg(feature = "http")]

use rfc6455::handshake::{
    BuildError, ClientHandshake, ClientKey, ClientRequest, HandshakeError as E, Request,
    ServerHandshake, ServerResponse,
};

fn upgrade_request() -> http::request::Builder {
    http::Request::get("/chat?room=1")
        .header("Host", "server.example.com")
        .header("Upgrade", "websocket")
        .header("Connection", "keep-alive, Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13")
}

#[test]
fn validates_http_requests() {
    let req = upgrade_request()
        .header("Sec-WebSocket-Protocol", "chat")
        .header("Sec-WebSocket-Protocol", "superchat, v3")
        .header(
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits",
        )
        .header("Origin", "http://example.com")
        .body(())
        .unwrap();
    let request = Request::from_http(&req).unwrap();
    assert_eq!((request.path(), request.query()), ("/chat", Some("room=1")));
    assert_eq!(request.host(), "server.example.com");
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["chat", "superchat", "v3"]
    );
    let names: Vec<_> = request.extensions().map(|e| e.name()).collect();
    assert_eq!(names, ["permessage-deflate"]);
    assert_eq!(request.header("UPGRADE"), Some(&b"websocket"[..]));
    // Cloned iterators over an `http::HeaderMap` resume where the original was.
    let mut protocols = request.protocols();
    protocols.next();
    assert_eq!(protocols.clone().collect::<Vec<_>>(), ["superchat", "v3"]);

    let response = request
        .http_response(&ServerResponse {
            protocol: Some("superchat"),
            extensions: &["permessage-deflate"],
            extra_headers: &[("X-Id", "7")],
        })
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    let h = response.headers();
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "Upgrade");
    assert_eq!(h["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(h["sec-websocket-protocol"], "superchat");
    assert_eq!(h["sec-websocket-extensions"], "permessage-deflate");
    assert_eq!(h["x-id"], "7");
    assert_eq!(
        request
            .http_response(&ServerResponse {
                protocol: Some("nope"),
                ..Default::default()
            })
            .unwrap_err(),
        BuildError::ProtocolNotOffered
    );
}

#[test]
fn http_request_errors() {
    let cases: Vec<(http::Request<()>, E)> = vec![
        (
            upgrade_request().method("POST").body(()).unwrap(),
            E::Method,
        ),
        (
            upgrade_request()
                .version(http::Version::HTTP_10)
                .body(())
                .unwrap(),
            E::HttpVersion,
        ),
        (
            upgrade_request()
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .body(())
                .unwrap(),
            E::DuplicateHeader {
                name: "Sec-WebSocket-Key",
            },
        ),
        (
            http::Request::get("/")
                .header("Host", "h")
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "8")
                .body(())
                .unwrap(),
            E::UnsupportedVersion,
        ),
        (
            http::Request::get("/")
                .header("Upgrade", "websocket")
                .body(())
                .unwrap(),
            E::MissingHeader { name: "Host" },
        ),
    ];
    for (req, err) in cases {
        assert_eq!(Request::from_http(&req).map(|_| ()), Err(err), "{req:?}");
    }
    let rejection = E::UnsupportedVersion.to_http_response();
    assert_eq!(rejection.status(), 426);
    assert_eq!(rejection.headers()["sec-websocket-version"], "13");
    assert_eq!(
        E::TooManyHeaders { limit: 1 }.to_http_response().status(),
        431
    );
}

#[test]
fn bytes_and_http_agree() {
    let key = ClientKey::from_nonce(*b"the sample nonce");
    let client = ClientRequest {
        origin: Some("http://example.com"),
        protocols: &["chat", "superchat"],
        extensions: &["permessage-deflate; client_max_window_bits"],
        extra_headers: &[("Cookie", "a=b")],
        ..ClientRequest::new("server.example.com", "?x")
    };
    // The client's request as an `http::Request`, validated as such...
    let as_http = client.to_http(&key).unwrap();
    assert_eq!(as_http.uri(), "/?x");
    let from_http = Request::from_http(&as_http).unwrap();
    // ...and as bytes, parsed by the server.
    let wire = client.encode_to_vec(&key).unwrap();
    let (from_bytes, _) = ServerHandshake::default()
        .parse(&wire)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(from_http.target(), from_bytes.target());
    assert_eq!(from_http.key(), from_bytes.key());
    assert_eq!(from_http.origin(), from_bytes.origin());
    assert!(from_http.protocols().eq(from_bytes.protocols()));
    assert!(
        from_http
            .extensions()
            .map(|e| e.name())
            .eq(from_bytes.extensions().map(|e| e.name()))
    );
    // The parsed request converts back to an `http::Request` with the same headers.
    let back = from_bytes.to_http().unwrap();
    assert_eq!(back.uri(), "/?x");
    assert_eq!(back.headers(), as_http.headers());

    // The server's answer, checked by the client as an `http::Response`.
    let response = from_http
        .http_response(&ServerResponse {
            protocol: Some("chat"),
            ..Default::default()
        })
        .unwrap();
    let handshake = ClientHandshake::new(&client, &key);
    let checked = handshake.check_http_response(&response).unwrap();
    assert_eq!(checked.protocol(), Some("chat"));

    let mut wrong = response;
    wrong.headers_mut().insert(
        "sec-websocket-accept",
        "HSmrc0sMlYUkAGmm5OPpG2HaGWk=".parse().unwrap(),
    );
    assert_eq!(
        handshake.check_http_response(&wrong).map(|_| ()),
        Err(E::AcceptMismatch)
    );
    *wrong.status_mut() = http::StatusCode::FORBIDDEN;
    assert_eq!(
        handshake.check_http_response(&wrong).map(|_| ()),
        Err(E::UnexpectedStatus { code: 403 })
    );
}

/// `Connection::accept_http`: a client connection's request, as an HTTP server would have
/// parsed it, is accepted with permessage-deflate negotiated; the client takes the
/// response (serialised as the HTTP server would) and the two exchange compressed
/// messages both ways.
#[cfg(feature = "deflate")]
#[test]
fn accept_http_negotiates_deflate_for_a_real_client() {
    use rfc6455::connection::{Config, Connection, Event, Message};
    use rfc6455::deflate::DeflateConfig;

    let config = Config::new().deflate(DeflateConfig::new().enabled(true));
    let offer = ClientRequest {
        protocols: &["v2.chat", "v1.chat"],
        ..ClientRequest::new("server.example.com", "/chat")
    };
    let mut client = Connection::client(config, [9; 32], &offer).unwrap();
    let mut wire = Vec::new();
    client.write_to(&mut wire).unwrap();
    let (parsed, _) = ServerHandshake::default()
        .parse(&wire)
        .unwrap()
        .complete()
        .unwrap();
    let req = parsed.to_http().unwrap();
    let request = Request::from_http(&req).unwrap();
    let (mut server, response) = Connection::accept_http(
        config,
        &request,
        &ServerResponse {
            protocol: Some("v1.chat"),
            extra_headers: &[("X-Id", "7")],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["sec-websocket-protocol"], "v1.chat");
    assert_eq!(response.headers()["x-id"], "7");
    let params = server.deflate_params().expect("deflate negotiated");

    // The response on the wire, as hyper would write it.
    let mut head = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
    for (name, value) in response.headers() {
        head.extend_from_slice(format!("{name}: ").as_bytes());
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    client.receive(&head);
    let Some(Event::Accepted(accepted)) = client.poll_event().unwrap() else {
        panic!("the client accepts the response")
    };
    assert_eq!(accepted.protocol.as_deref(), Some("v1.chat"));
    assert_eq!(client.deflate_params(), Some(params));

    let text = "compressible text, ".repeat(500);
    client.send_text(&text).unwrap();
    let mut frames = Vec::new();
    client.write_to(&mut frames).unwrap();
    assert!(
        frames.len() < text.len() / 4,
        "compressed: {} bytes",
        frames.len()
    );
    assert_eq!(frames[0] & 0x40, 0x40, "RSV1 set on a compressed message");
    server.receive(&frames);
    match server.poll_event().unwrap() {
        Some(Event::Message(Message::Text(got))) => assert_eq!(got.as_str(), text),
        other => panic!("expected the text, got {other:?}"),
    }
    server.send_binary(text.as_bytes()).unwrap();
    let mut back = Vec::new();
    server.write_to(&mut back).unwrap();
    assert!(
        back.len() < text.len() / 4,
        "compressed: {} bytes",
        back.len()
    );
    client.receive(&back);
    match client.poll_event().unwrap() {
        Some(Event::Message(Message::Binary(got))) => assert_eq!(&got[..], text.as_bytes()),
        other => panic!("expected the bytes, got {other:?}"),
    }
}

/// `accept_http` refuses what `accept` refuses, and without deflate enabled (or offered)
/// the response lists no extension and the connection compresses nothing.
#[cfg(feature = "deflate")]
#[test]
fn accept_http_errors_and_no_deflate() {
    use rfc6455::connection::{Config, Connection};
    use rfc6455::deflate::DeflateConfig;

    let req = upgrade_request()
        .header("Sec-WebSocket-Protocol", "chat")
        .header("Sec-WebSocket-Extensions", "permessage-deflate")
        .body(())
        .unwrap();
    let request = Request::from_http(&req).unwrap();
    let on = Config::new().deflate(DeflateConfig::new().enabled(true));
    let off = Config::new().deflate(DeflateConfig::new().enabled(false));
    let not_offered = ServerResponse {
        protocol: Some("superchat"),
        ..Default::default()
    };
    assert_eq!(
        Connection::accept_http(on, &request, &not_offered).unwrap_err(),
        BuildError::ProtocolNotOffered
    );
    let lists_deflate = ServerResponse {
        extensions: &["permessage-deflate"],
        ..Default::default()
    };
    assert_eq!(
        Connection::accept_http(on, &request, &lists_deflate).unwrap_err(),
        BuildError::InvalidExtension { index: 0 }
    );
    // With deflate off the application may accept the extension itself (and then must
    // install it with `with_deflate`); the connection negotiates nothing.
    let (conn, response) = Connection::accept_http(off, &request, &lists_deflate).unwrap();
    assert_eq!(
        response.headers()["sec-websocket-extensions"],
        "permessage-deflate"
    );
    assert_eq!(conn.deflate_params(), None);
    let (conn, response) = Connection::accept_http(off, &request, &Default::default()).unwrap();
    assert!(!response.headers().contains_key("sec-websocket-extensions"));
    assert_eq!(conn.deflate_params(), None);

    // Enabled but not offered: nothing negotiated.
    let plain = upgrade_request().body(()).unwrap();
    let plain = Request::from_http(&plain).unwrap();
    let (conn, response) = Connection::accept_http(on, &plain, &Default::default()).unwrap();
    assert!(!response.headers().contains_key("sec-websocket-extensions"));
    assert_eq!(conn.deflate_params(), None);
    assert_eq!(
        response.headers()["sec-websocket-accept"],
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}
