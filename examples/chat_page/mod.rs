//! What the chat servers (the std `chat_server` and rfc6455-tokio's `tokio_chat_server`)
//! answer to a request that is not the WebSocket upgrade on `/ws`.

use rfc6455::handshake::HandshakeError;

/// The answer to a complete request head that `ServerHandshake::parse` refused with
/// `error`: the page for a plain `GET /`, 404 for other plain requests, and otherwise the
/// rejection the handshake names (400, 426 or 431).
pub fn refused(head: &[u8], error: &HandshakeError) -> Vec<u8> {
    if error.is_plain_http() && head.starts_with(b"GET / ") {
        http(
            "200 OK",
            "text/html; charset=utf-8",
            include_str!("../chat.html"),
        )
    } else if error.is_plain_http() {
        http("404 Not Found", "text/plain", "not found")
    } else {
        let mut buf = [0u8; 256];
        let n = error.write_rejection(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    }
}

/// An upgrade request for another path than `/ws`.
pub fn not_ws() -> Vec<u8> {
    http("404 Not Found", "text/plain", "try /ws")
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
