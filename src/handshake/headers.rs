//! Header-field rules of RFC 7230 that the handshake needs: tokens, comma-separated lists
//! spread over repeated header lines, and the `Sec-WebSocket-Extensions` grammar of
//! RFC 6455 section 9.1 (name plus parameters, with quoted-string values).

use core::fmt;

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

/// One extension in a `Sec-WebSocket-Extensions` header: a name and its parameters, e.g.
/// `permessage-deflate; client_max_window_bits`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ExtensionOffer<'a> {
    name: &'a str,
    params: &'a str,
}

impl<'a> ExtensionOffer<'a> {
    /// The extension's name (a token), e.g. `permessage-deflate`.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The parameters, in order.
    pub fn params(&self) -> ExtensionParams<'a> {
        ExtensionParams {
            cursor: Cursor::new(self.params),
        }
    }

    /// The first parameter named `name` (ASCII case-insensitive), if any.
    pub fn param(&self, name: &str) -> Option<ExtensionParam<'a>> {
        self.params().find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

impl fmt::Debug for ExtensionOffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtensionOffer")
            .field("name", &self.name)
            .field("params", &DebugIter(self.params()))
            .finish()
    }
}

struct DebugIter<'a>(ExtensionParams<'a>);

impl fmt::Debug for DebugIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

/// An extension parameter: `name` or `name=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionParam<'a> {
    /// The parameter's name (a token).
    pub name: &'a str,
    /// The value, if the parameter has one.
    pub value: Option<ParamValue<'a>>,
}

/// A parameter value: a token, or a quoted-string whose escapes are kept as received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a str,
    quoted: bool,
}

impl<'a> ParamValue<'a> {
    /// The value as received: a token, or the text between the quotes with any
    /// backslash escapes still in place.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the value was a quoted-string.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The value without quotes, when that needs no unescaping (always for a token).
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.quoted || !self.raw.contains('\\')).then_some(self.raw)
    }

    /// The value's characters with quoted-pair escapes resolved.
    pub fn unescaped(&self) -> impl Iterator<Item = char> + 'a {
        let quoted = self.quoted;
        let mut escaped = false;
        self.raw.chars().filter(move |&c| {
            if quoted && !escaped && c == '\\' {
                escaped = true;
                false
            } else {
                escaped = false;
                true
            }
        })
    }

    /// Whether the unescaped value equals `s`.
    pub fn eq_unescaped(&self, s: &str) -> bool {
        self.unescaped().eq(s.chars())
    }
}

/// The parameters of one [`ExtensionOffer`].
#[derive(Clone, Debug)]
pub struct ExtensionParams<'a> {
    cursor: Cursor<'a>,
}

impl<'a> Iterator for ExtensionParams<'a> {
    type Item = ExtensionParam<'a>;

    fn next(&mut self) -> Option<ExtensionParam<'a>> {
        let c = &mut self.cursor;
        c.skip_ows();
        if !c.eat(b';') {
            c.finish();
            return None;
        }
        match c.param() {
            Some(p) => Some(p),
            None => {
                c.finish();
                None
            }
        }
    }
}

/// The extensions of one `Sec-WebSocket-Extensions` value, from [`parse_extension_list`].
#[derive(Clone, Debug)]
pub struct ExtensionList<'a> {
    cursor: Cursor<'a>,
}

impl<'a> ExtensionList<'a> {
    /// Iterates a value without validating it first: parsing stops at the first error.
    pub(crate) fn unchecked(value: &'a str) -> Self {
        ExtensionList {
            cursor: Cursor::new(value),
        }
    }
}

impl<'a> Iterator for ExtensionList<'a> {
    type Item = ExtensionOffer<'a>;

    fn next(&mut self) -> Option<ExtensionOffer<'a>> {
        match self.cursor.next_extension() {
            Ok(offer) => offer,
            Err(()) => {
                self.cursor.finish();
                None
            }
        }
    }
}

/// Parses a `Sec-WebSocket-Extensions` value (RFC 6455 section 9.1), e.g.
/// `permessage-deflate; client_max_window_bits, x-foo; a="b c"`. Returns `None` if it is
/// malformed anywhere. Empty list elements are skipped (RFC 7230 section 7).
///
/// ```
/// use rfc6455::handshake::parse_extension_list;
///
/// let mut list = parse_extension_list(r#"permessage-deflate; client_max_window_bits=10, x; q="a\"b""#)
///     .unwrap();
/// let deflate = list.next().unwrap();
/// assert_eq!(deflate.name(), "permessage-deflate");
/// let bits = deflate.param("client_max_window_bits").unwrap();
/// assert_eq!(bits.value.unwrap().as_str(), Some("10"));
/// let x = list.next().unwrap();
/// assert!(x.param("q").unwrap().value.unwrap().eq_unescaped("a\"b"));
/// assert!(list.next().is_none());
/// assert!(parse_extension_list("a; =b").is_none());
/// ```
pub fn parse_extension_list(value: &str) -> Option<ExtensionList<'_>> {
    is_extension_list(value).then(|| ExtensionList::unchecked(value))
}

/// Whether `value` is a well-formed extension list.
pub(crate) fn is_extension_list(value: &str) -> bool {
    let mut cursor = Cursor::new(value);
    loop {
        match cursor.next_extension() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(()) => return false,
        }
    }
}

/// A position in a header value being parsed.
#[derive(Clone, Debug)]
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn finish(&mut self) {
        self.pos = self.s.len();
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    /// A quoted-string (RFC 7230 section 3.2.6) starting at the opening quote; returns the
    /// text between the quotes.
    fn quoted(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'"' => return Some(&self.s[start..self.pos - 1]),
                b'\\' => {
                    let next = self.peek()?;
                    if !(next == b'\t' || next == b' ' || (0x21..=0x7e).contains(&next))
                        && next < 0x80
                    {
                        return None;
                    }
                    self.pos += 1;
                }
                b'\t' | b' ' | 0x21..=0x7e | 0x80.. => {}
                _ => return None,
            }
        }
    }

    /// `token [ "=" ( token / quoted-string ) ]`, with optional whitespace around `=`.
    fn param(&mut self) -> Option<ExtensionParam<'a>> {
        self.skip_ows();
        let name = self.token()?;
        let save = self.pos;
        self.skip_ows();
        if !self.eat(b'=') {
            self.pos = save;
            return Some(ExtensionParam { name, value: None });
        }
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            ParamValue {
                raw: self.quoted()?,
                quoted: true,
            }
        } else {
            ParamValue {
                raw: self.token()?,
                quoted: false,
            }
        };
        Some(ExtensionParam {
            name,
            value: Some(value),
        })
    }

    /// The next extension of a list, skipping empty elements; `Ok(None)` at the end.
    fn next_extension(&mut self) -> Result<Option<ExtensionOffer<'a>>, ()> {
        loop {
            self.skip_ows();
            match self.peek() {
                None => return Ok(None),
                Some(b',') => self.pos += 1,
                Some(_) => break,
            }
        }
        let name = self.token().ok_or(())?;
        let params_start = self.pos;
        let mut params_end = self.pos;
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.pos += 1;
                    break;
                }
                Some(b';') => {
                    self.pos += 1;
                    self.param().ok_or(())?;
                    params_end = self.pos;
                }
                Some(_) => return Err(()),
            }
        }
        Ok(Some(ExtensionOffer {
            name,
            params: &self.s[params_start..params_end],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn names(v: &str) -> Option<std::vec::Vec<&str>> {
        parse_extension_list(v).map(|l| l.map(|o| o.name()).collect())
    }

    #[test]
    fn extension_lists() {
        assert_eq!(names(""), Some(vec![]));
        assert_eq!(names(" , ,"), Some(vec![]));
        assert_eq!(names("a"), Some(vec!["a"]));
        assert_eq!(names("a,b ,, c ; x ; y = 1"), Some(vec!["a", "b", "c"]));
        assert_eq!(names(r#"a; q=",;""#), Some(vec!["a"]));
        assert_eq!(names("a b"), None);
        assert_eq!(names("a;"), None);
        assert_eq!(names("a; x="), None);
        assert_eq!(names("a; x=\"unterminated"), None);
        assert_eq!(names("a; x=\"bad\\\u{1}\""), None);
        assert_eq!(names("a; x=y z"), None);
        assert_eq!(names("\"a\""), None);
        assert_eq!(names("a; x=\"\u{7f}\""), None);
    }

    #[test]
    fn extension_params() {
        let offer = parse_extension_list(r#"e; a; b=1; c="x\"y"; d="""#)
            .unwrap()
            .next()
            .unwrap();
        let params: std::vec::Vec<_> = offer.params().collect();
        assert_eq!(params.len(), 4);
        assert_eq!(params[0].name, "a");
        assert_eq!(params[0].value, None);
        let b = params[1].value.unwrap();
        assert_eq!(
            (b.raw(), b.is_quoted(), b.as_str()),
            ("1", false, Some("1"))
        );
        let c = params[2].value.unwrap();
        assert_eq!(
            (c.raw(), c.is_quoted(), c.as_str()),
            (r#"x\"y"#, true, None)
        );
        assert_eq!(c.unescaped().collect::<std::string::String>(), "x\"y");
        let d = params[3].value.unwrap();
        assert_eq!(d.as_str(), Some(""));
        assert!(offer.param("B").is_some());
        assert!(offer.param("z").is_none());
    }

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
