//! The `Sec-WebSocket-Extensions` grammar of RFC 6455 section 9.1: a list of extensions,
//! each a name plus parameters whose values are tokens or quoted-strings.

use core::fmt;

use super::headers::is_tchar;

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
}
