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
/// The status line of the valid response.
pub const OK: &str = "HTTP/1.1 101 Switching Protocols";
/// The accept key answering [`KEY`] (section 1.3).
pub const ACCEPT: &str = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

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

/// `start` and `lines` with `replace` applied: each (index, line) replaces that line (an
/// empty line removes it); `add` lines go at the end.
pub fn edited<'a>(
    start: &str,
    mut lines: Vec<&'a str>,
    replace: &[(usize, &'a str)],
    add: &[&'a str],
) -> Vec<u8> {
    for &(i, l) in replace {
        lines[i] = l;
    }
    lines.retain(|l| !l.is_empty());
    lines.extend_from_slice(add);
    head(start, &lines)
}

/// The valid request: [`GET`] with [`HOST`], [`UPGRADE`], [`CONNECTION`], [`KEY_LINE`] and
/// [`VERSION`] (indices 0 to 4), [`edited`] by `replace` and `add`.
pub fn request(replace: &[(usize, &str)], add: &[&str]) -> Vec<u8> {
    edited(
        GET,
        vec![HOST, UPGRADE, CONNECTION, KEY_LINE, VERSION],
        replace,
        add,
    )
}

/// The valid response to it: [`OK`] with [`UPGRADE`], [`CONNECTION`] and [`ACCEPT`]
/// (indices 0 to 2), [`edited`] by `replace` and `add`.
pub fn response(replace: &[(usize, &str)], add: &[&str]) -> Vec<u8> {
    edited(OK, vec![UPGRADE, CONNECTION, ACCEPT], replace, add)
}
