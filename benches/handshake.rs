//! Opening handshake benchmarks: a browser's request (Chromium's header set) parsed and
//! answered by the server side, and the client side's request and response.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::handshake::{
    ClientHandshake, ClientKey, ClientRequest, ServerHandshake, ServerResponse, Status,
};

/// The headers Chromium sends when a page opens `new WebSocket("ws://localhost:8080/chat")`.
const CHROMIUM_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\
\r\n";

fn server(c: &mut Criterion) {
    let mut g = c.benchmark_group("handshake/server");
    g.throughput(Throughput::Bytes(CHROMIUM_REQUEST.len() as u64));

    g.bench_function("parse_chromium", |b| {
        b.iter(|| {
            let mut parser = ServerHandshake::default();
            match parser.parse(black_box(CHROMIUM_REQUEST)) {
                Ok(Status::Complete { value, consumed }) => {
                    black_box((value.key(), consumed));
                }
                _ => unreachable!(),
            }
        })
    });

    g.bench_function("parse_and_respond_chromium", |b| {
        let mut out = [0u8; 256];
        b.iter(|| {
            let mut parser = ServerHandshake::default();
            let Ok(Status::Complete { value, .. }) = parser.parse(black_box(CHROMIUM_REQUEST))
            else {
                unreachable!()
            };
            let n = value
                .write_response(&ServerResponse::default(), &mut out)
                .unwrap();
            black_box(&out[..n]);
        })
    });

    // The same request arriving in 64-byte reads, parsed after each one.
    g.bench_function("parse_chromium_64_byte_reads", |b| {
        b.iter(|| {
            let mut parser = ServerHandshake::default();
            let mut end = 0;
            loop {
                end = (end + 64).min(CHROMIUM_REQUEST.len());
                if let Ok(Status::Complete { consumed, .. }) =
                    parser.parse(black_box(&CHROMIUM_REQUEST[..end]))
                {
                    break black_box(consumed);
                }
            }
        })
    });
    g.finish();
}

fn client(c: &mut Criterion) {
    let key = ClientKey::from_nonce(*b"the sample nonce");
    let request = ClientRequest {
        origin: Some("http://localhost:8080"),
        protocols: &["chat"],
        extensions: &["permessage-deflate; client_max_window_bits"],
        ..ClientRequest::new("localhost:8080", "/chat")
    };
    let mut g = c.benchmark_group("handshake/client");
    g.bench_function("encode_request", |b| {
        let mut out = [0u8; 512];
        b.iter(|| black_box(request.encode(black_box(&key), &mut out).unwrap()))
    });
    g.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    g.bench_function("parse_response", |b| {
        b.iter(|| {
            let mut handshake = ClientHandshake::new(&request, &key);
            match handshake.parse_response(black_box(RESPONSE)) {
                Ok(Status::Complete { value, consumed }) => black_box((value.protocol(), consumed)),
                _ => unreachable!(),
            }
        })
    });
    g.finish();
}

criterion_group!(benches, server, client);
criterion_main!(benches);
