//! Header-field rules of RFC 7230 that the handshake needs: header names, tokens, and
//! comma-separated lists spread over repeated header lines.

use super::error::HandshakeError;
use core::fmt;

use super::extensions::{ExtensionList, ExtensionOffer};

pub(crate) const HOST: &str = "Host";
pub(crate) const UPGRADE: &str = "Upgrade";
pub(crate) const CONNECTION: &str = "Connection";
pub(crate) const ORIGIN: &str = "Origin";
pub(crate) const SEC_KEY: &str = "Sec-WebSocket-Key";
pub(crate) const SEC_VERSION: &str = "Sec-WebSocket-Version";
pub(crate) const SEC_ACCEPT: &str = "Sec-WebSocket-Accept";
pub(crate) const SEC_PROTOCOL: &str = "Sec-WebSocket-Protocol";
pub(crate) const SEC_EXTENSIONS: &str = "Sec-WebSocket-Extensions";

/// The headers the handshake looks at, recognised case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    Host,
    Upgrade,
    Connection,
    Origin,
    Key,
    Version,
    Accept,
    Protocol,
    Extensions,
}

/// Classifies a header name. The names all differ in length, so one comparison decides.
pub(crate) fn classify(name: &str) -> Option<Known> {
    let (known, canonical) = match name.len() {
        4 => (Known::Host, HOST),
        6 => (Known::Origin, ORIGIN),
        7 => (Known::Upgrade, UPGRADE),
        10 => (Known::Connection, CONNECTION),
        17 => (Known::Key, SEC_KEY),
        20 => (Known::Accept, SEC_ACCEPT),
        21 => (Known::Version, SEC_VERSION),
        22 => (Known::Protocol, SEC_PROTOCOL),
        24 => (Known::Extensions, SEC_EXTENSIONS),
        _ => return None,
    };
    name.eq_ignore_ascii_case(canonical).then_some(known)
}

/// `tchar` of RFC 7230 section 3.2.6, as a table.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let specials = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
};

/// `tchar` of RFC 7230 section 3.2.6.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `s` can be sent as a header value: HTAB, SP, VCHAR and obs-text only.
pub(crate) fn is_field_value(s: &[u8]) -> bool {
    s.iter()
        .all(|&b| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80)
}

/// Removes optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

fn trim_ows_str(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether the comma-separated list `value` has an element equal to `token`, ignoring
/// ASCII case (used for `Connection: upgrade` and `Upgrade: websocket`).
pub(crate) fn list_contains(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|item| trim_ows(item).eq_ignore_ascii_case(token.as_bytes()))
}

/// Whether the comma-separated `value` holds `token` (ASCII case-insensitive) and nothing
/// else (empty list elements aside, RFC 7230 section 7).
pub(crate) fn list_is_only(value: &[u8], token: &str) -> bool {
    let mut items = value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
        .peekable();
    items.peek().is_some() && items.all(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}

/// The checks both roles make on `Upgrade` and `Connection` once all headers were seen:
/// each present, and carrying the `websocket` / `upgrade` token.
pub(crate) fn check_upgrade_headers(
    upgrade: bool,
    upgrade_ok: bool,
    connection: bool,
    connection_ok: bool,
) -> Result<(), HandshakeError> {
    if !upgrade {
        return Err(HandshakeError::MissingHeader { name: UPGRADE });
    }
    if !upgrade_ok {
        return Err(HandshakeError::MissingToken {
            name: UPGRADE,
            token: "websocket",
        });
    }
    if !connection {
        return Err(HandshakeError::MissingHeader { name: CONNECTION });
    }
    if !connection_ok {
        return Err(HandshakeError::MissingToken {
            name: CONNECTION,
            token: "upgrade",
        });
    }
    Ok(())
}

/// The comma-separated elements of one header value, trimmed, empty ones skipped
/// (RFC 7230 section 7).
pub(crate) fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(trim_ows_str).filter(|s| !s.is_empty())
}

/// The header lines of a head already validated by `httparse`: `name: value` lines ending
/// in LF or CRLF, up to the blank line.
#[derive(Clone, Debug)]
pub(crate) struct RawLines<'b> {
    rest: &'b [u8],
}

impl<'b> RawLines<'b> {
    pub(crate) fn new(block: &'b [u8]) -> Self {
        RawLines { rest: block }
    }
}

impl<'b> Iterator for RawLines<'b> {
    type Item = (&'b str, &'b [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest;
            let (line, after) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            self.rest = after;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                self.rest = &[];
                return None;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let Ok(name) = core::str::from_utf8(&line[..colon]) else {
                continue;
            };
            return Some((name, trim_ows(&line[colon + 1..])));
        }
    }
}

/// Where a parsed request's or response's headers live.
#[derive(Clone, Copy)]
pub(crate) enum HeaderSource<'b> {
    /// The header lines of a head parsed from bytes.
    Raw(&'b [u8]),
    /// A header map of the `http` crate.
    #[cfg(feature = "http")]
    Http(&'b http::HeaderMap),
}

impl<'b> HeaderSource<'b> {
    pub(crate) fn iter(&self) -> HeaderIter<'b> {
        match *self {
            HeaderSource::Raw(block) => HeaderIter(IterInner::Raw(RawLines::new(block))),
            #[cfg(feature = "http")]
            HeaderSource::Http(map) => HeaderIter(IterInner::Http {
                map,
                iter: map.iter(),
                taken: 0,
            }),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'b [u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl fmt::Debug for HeaderSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, Lossy(v))))
            .finish()
    }
}

struct Lossy<'a>(&'a [u8]);

impl fmt::Debug for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => fmt::Debug::fmt(self.0, f),
        }
    }
}

/// All header fields of a parsed request or response, in order, as (name, value) with the
/// value trimmed. Names are as received (bytes parsed by this crate) or lowercase (from the
/// `http` crate).
#[derive(Clone, Debug)]
pub struct HeaderIter<'b>(IterInner<'b>);

#[derive(Debug)]
enum IterInner<'b> {
    Raw(RawLines<'b>),
    #[cfg(feature = "http")]
    Http {
        map: &'b http::HeaderMap,
        iter: http::header::Iter<'b, http::HeaderValue>,
        /// Items taken so far, to clone by replaying (the `http` iterator is not `Clone`).
        taken: usize,
    },
}

impl Clone for IterInner<'_> {
    fn clone(&self) -> Self {
        match self {
            IterInner::Raw(lines) => IterInner::Raw(lines.clone()),
            #[cfg(feature = "http")]
            IterInner::Http { map, taken, .. } => {
                let mut iter = map.iter();
                for _ in 0..*taken {
                    iter.next();
                }
                IterInner::Http {
                    map,
                    iter,
                    taken: *taken,
                }
            }
        }
    }
}

impl<'b> Iterator for HeaderIter<'b> {
    type Item = (&'b str, &'b [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Raw(lines) => lines.next(),
            #[cfg(feature = "http")]
            IterInner::Http { iter, taken, .. } => {
                let (name, value) = iter.next()?;
                *taken += 1;
                Some((name.as_str(), trim_ows(value.as_bytes())))
            }
        }
    }
}

/// The values of every header named `name`, as UTF-8 (values that are not are skipped:
/// list headers are validated as ASCII before an iterator is handed out).
fn values_named<'b>(headers: &mut HeaderIter<'b>, name: &'static str) -> Option<&'b str> {
    headers.find_map(|(n, v)| {
        if n.eq_ignore_ascii_case(name) {
            core::str::from_utf8(v).ok()
        } else {
            None
        }
    })
}

/// The subprotocols a client offered, in order, over all its `Sec-WebSocket-Protocol`
/// lines.
#[derive(Clone, Debug)]
pub struct Protocols<'b> {
    headers: HeaderIter<'b>,
    current: core::str::Split<'b, char>,
}

impl<'b> Protocols<'b> {
    pub(crate) fn new(source: HeaderSource<'b>) -> Self {
        Protocols {
            headers: source.iter(),
            current: "".split(','),
        }
    }
}

impl<'b> Iterator for Protocols<'b> {
    type Item = &'b str;

    fn next(&mut self) -> Option<&'b str> {
        loop {
            for item in self.current.by_ref() {
                let item = trim_ows_str(item);
                if !item.is_empty() {
                    return Some(item);
                }
            }
            self.current = values_named(&mut self.headers, SEC_PROTOCOL)?.split(',');
        }
    }
}

/// The extensions of every `Sec-WebSocket-Extensions` line, in order.
#[derive(Clone, Debug)]
pub struct Extensions<'b> {
    headers: HeaderIter<'b>,
    current: ExtensionList<'b>,
}

impl<'b> Extensions<'b> {
    pub(crate) fn new(source: HeaderSource<'b>) -> Self {
        Extensions {
            headers: source.iter(),
            current: ExtensionList::unchecked(""),
        }
    }
}

impl<'b> Iterator for Extensions<'b> {
    type Item = ExtensionOffer<'b>;

    fn next(&mut self) -> Option<ExtensionOffer<'b>> {
        loop {
            if let Some(offer) = self.current.next() {
                return Some(offer);
            }
            let value = values_named(&mut self.headers, SEC_EXTENSIONS)?;
            self.current = ExtensionList::unchecked(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_table() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), expected, "{b:#x}");
        }
    }

    #[test]
    fn lists_and_tokens() {
        assert!(list_contains(b"keep-alive, Upgrade", "upgrade"));
        assert!(list_contains(b" UPGRADE ", "upgrade"));
        assert!(!list_contains(b"upgraded", "upgrade"));
        assert!(!list_contains(b"", "upgrade"));
        assert_eq!(
            list_items(" a, ,b ,").collect::<std::vec::Vec<_>>(),
            ["a", "b"]
        );
        assert!(is_token(b"chat.v2"));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b""));
        assert_eq!(trim_ows(b" \t x y\t "), b"x y");
        assert_eq!(classify("SEC-WEBSOCKET-KEY"), Some(Known::Key));
        assert_eq!(classify("Hosts"), None);
        assert_eq!(classify("hast"), None);
    }

    #[test]
    fn raw_lines() {
        let block = b"A: 1\r\nB:\t two \nC:\r\n\r\nD: no\r\n";
        let v: std::vec::Vec<_> = RawLines::new(block).collect();
        assert_eq!(v, [("A", &b"1"[..]), ("B", b"two"), ("C", b"")]);
    }
}
