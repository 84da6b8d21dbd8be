//! HTTP heads of the opening handshake written out by hand: the request of RFC 6455
//! section 1.3 (its sample key), line by line, so a test can replace, drop or add a header.
#![allow(dead_code)]

/// The sample nonce of section 1.3, whose key is [`KEY`].
pub const NONCE: [u8; 16] = *b"the sample nonce";
/// The key of section 1.3's sample request.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const HOST: &str = "Host: server.example.com";
pub const UPGRADE: &str = "Upgrade: websocket";
pub const CONNECTION: &str = "Connection: Upgrade";
pub const KEY_LINE: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
pub const VERSION: &str = "Sec-WebSocket-Version: 13";
/// The request line of the valid request.
pub const GET: &str = "GET /chat HTTP/1.1";

/// A start line (request or status line) plus header lines, each CRLF-terminated, then the
/// blank line.
pub fn head(start: &str, lines: &[&str]) -> Vec<u8> {
    let mut out = format!("{start}\r\n");
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The valid request (`GET /chat` with [`HOST`], [`UPGRADE`], [`CONNECTION`], [`KEY_LINE`],
/// [`VERSION`], in that order) with `replace` applied: each (index, line) replaces that
/// header (an empty line removes it); `add` lines go at the end.
pub fn request(replace: &[(usize, &str)], add: &[&str]) -> Vec<u8> {
    let mut lines: Vec<&str> = vec![HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION];
    for &(i, l) in replace {
        lines[i] = l;
    }
    lines.retain(|l| !l.is_empty());
    lines.extend_from_slice(add);
    head(GET, &lines)
}
