//! A small parser for `ws://` and `wss://` URLs (RFC 6455 section 3).

use core::fmt;

/// The parts of a WebSocket URL a client needs to connect and build its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsUrl<'a> {
    /// `true` for `wss` (TLS, which this crate does not provide: a caller without TLS must
    /// refuse such URLs), `false` for `ws`.
    pub secure: bool,
    /// The host to connect to, without the brackets of an IPv6 literal.
    pub host: &'a str,
    /// The port: explicit, or 80 for `ws` and 443 for `wss`.
    pub port: u16,
    /// The authority as written (`host[:port]`, brackets kept): the `Host` header value.
    pub authority: &'a str,
    /// The resource name: path and query as written, `/` when both are absent. A URL with
    /// a query and no path (`ws://h?x`) gives `?x`, which
    /// [`ClientRequest::encode`](super::ClientRequest::encode) sends as `/?x`.
    pub resource: &'a str,
}

/// Why a string is not a WebSocket URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`, or `://` is missing.
    Scheme,
    /// The URL has user information (`user@`), which WebSocket URLs do not allow.
    UserInfo,
    /// The host is empty or has characters a host cannot have.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// The resource has whitespace or control characters.
    Resource,
    /// The URL has a fragment (`#...`), which RFC 6455 section 3 forbids.
    Fragment,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "URL scheme is not ws:// or wss://",
            UrlError::UserInfo => "WebSocket URLs cannot carry user information",
            UrlError::Host => "invalid host in URL",
            UrlError::Port => "invalid port in URL",
            UrlError::Resource => "invalid characters in URL path or query",
            UrlError::Fragment => "WebSocket URLs cannot have a fragment",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for UrlError {}

fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}

fn parse_port(s: &str, default: u16) -> Result<u16, UrlError> {
    if s.is_empty() {
        return Ok(default);
    }
    if s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port);
    }
    match s.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::Port),
        Ok(port) => Ok(port),
    }
}

/// Parses a `ws://` or `wss://` URL.
///
/// ```
/// use rfc6455::handshake::parse_ws_url;
///
/// let url = parse_ws_url("ws://example.com:9001/chat?room=1").unwrap();
/// assert_eq!((url.secure, url.host, url.port), (false, "example.com", 9001));
/// assert_eq!(url.authority, "example.com:9001");
/// assert_eq!(url.resource, "/chat?room=1");
///
/// let url = parse_ws_url("WSS://[::1]").unwrap();
/// assert_eq!((url.secure, url.host, url.port, url.resource), (true, "::1", 443, "/"));
/// ```
///
/// # Errors
///
/// A [`UrlError`] saying which part is wrong.
pub fn parse_ws_url(url: &str) -> Result<WsUrl<'_>, UrlError> {
    let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
    let (secure, default_port) = if scheme.eq_ignore_ascii_case("ws") {
        (false, 80)
    } else if scheme.eq_ignore_ascii_case("wss") {
        (true, 443)
    } else {
        return Err(UrlError::Scheme);
    };
    if rest.contains('#') {
        return Err(UrlError::Fragment);
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, resource) = rest.split_at(split);
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    let (host, port) = if let Some(literal) = authority.strip_prefix('[') {
        let (inner, after) = literal.split_once(']').ok_or(UrlError::Host)?;
        let valid = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !valid {
            return Err(UrlError::Host);
        }
        let port = match after {
            "" => "",
            _ => after.strip_prefix(':').ok_or(UrlError::Host)?,
        };
        (inner, port)
    } else {
        let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
        if host.is_empty() || !host.bytes().all(is_host_char) {
            return Err(UrlError::Host);
        }
        (host, port)
    };
    let port = parse_port(port, default_port)?;
    if resource.bytes().any(|b| b <= 0x20 || b == 0x7f) {
        return Err(UrlError::Resource);
    }
    Ok(WsUrl {
        secure,
        host,
        port,
        authority,
        resource: if resource.is_empty() { "/" } else { resource },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_urls() {
        let u = parse_ws_url("ws://localhost").unwrap();
        assert_eq!(
            u,
            WsUrl {
                secure: false,
                host: "localhost",
                port: 80,
                authority: "localhost",
                resource: "/"
            }
        );
        let u = parse_ws_url("ws://127.0.0.1:9001?agent=x").unwrap();
        assert_eq!(
            (u.port, u.resource, u.authority),
            (9001, "?agent=x", "127.0.0.1:9001")
        );
        let u = parse_ws_url("wss://h:/p").unwrap();
        assert_eq!((u.secure, u.port, u.resource), (true, 443, "/p"));
        let u = parse_ws_url("ws://[fe80::1]:8080/").unwrap();
        assert_eq!(
            (u.host, u.port, u.authority),
            ("fe80::1", 8080, "[fe80::1]:8080")
        );
    }

    #[test]
    fn invalid_urls() {
        assert_eq!(parse_ws_url("http://h/"), Err(UrlError::Scheme));
        assert_eq!(parse_ws_url("ws:/h"), Err(UrlError::Scheme));
        assert_eq!(parse_ws_url("ws://u@h/"), Err(UrlError::UserInfo));
        assert_eq!(parse_ws_url("ws:///x"), Err(UrlError::Host));
        assert_eq!(parse_ws_url("ws://a b/"), Err(UrlError::Host));
        assert_eq!(parse_ws_url("ws://[::1/"), Err(UrlError::Host));
        assert_eq!(parse_ws_url("ws://[]/"), Err(UrlError::Host));
        assert_eq!(parse_ws_url("ws://[::1]x/"), Err(UrlError::Host));
        assert_eq!(parse_ws_url("ws://h:0/"), Err(UrlError::Port));
        assert_eq!(parse_ws_url("ws://h:65536/"), Err(UrlError::Port));
        assert_eq!(parse_ws_url("ws://h:+80/"), Err(UrlError::Port));
        assert_eq!(parse_ws_url("ws://h:1:2/"), Err(UrlError::Port));
        assert_eq!(parse_ws_url("ws://h/a b"), Err(UrlError::Resource));
        assert_eq!(parse_ws_url("ws://h/#f"), Err(UrlError::Fragment));
    }
}
