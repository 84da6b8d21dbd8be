//! Writing HTTP heads into caller buffers: the shared writer, checks on values the
//! application supplies, and the server's rejection responses.

use super::error::{BuildError, HandshakeError};
use super::extensions::is_extension_list;
use super::headers::{is_field_value, is_token};

/// Writes into a caller's buffer, counting the full length even past its end so that a
/// too-small buffer reports how much is required.
pub(crate) struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Out<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Out { buf, len: 0 }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    pub(crate) fn header(&mut self, name: &str, value: &[u8]) {
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(value);
        self.put(b"\r\n");
    }

    /// `name: a, b, c` for a non-empty list.
    pub(crate) fn list_header(&mut self, name: &str, items: &[&str]) {
        if items.is_empty() {
            return;
        }
        self.put(name.as_bytes());
        self.put(b": ");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.put(b", ");
            }
            self.put(item.as_bytes());
        }
        self.put(b"\r\n");
    }

    pub(crate) fn extra_headers(&mut self, headers: &[(&str, &str)]) {
        for (name, value) in headers {
            self.header(name, value.as_bytes());
        }
    }

    /// Ends the head with the blank line and reports the length written.
    pub(crate) fn finish(mut self) -> Result<usize, BuildError> {
        self.put(b"\r\n");
        if self.len > self.buf.len() {
            Err(BuildError::BufferTooSmall { required: self.len })
        } else {
            Ok(self.len)
        }
    }
}

/// Headers an application may not add: the handshake writes them itself, or they would
/// change how the head is framed.
fn is_reserved(name: &str) -> bool {
    const RESERVED: [&str; 6] = [
        "host",
        "upgrade",
        "connection",
        "origin",
        "content-length",
        "transfer-encoding",
    ];
    const PREFIX: &[u8] = b"sec-websocket-";
    RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r))
        || name
            .as_bytes()
            .get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

pub(crate) fn check_extra_headers(headers: &[(&str, &str)]) -> Result<(), BuildError> {
    for (index, (name, value)) in headers.iter().enumerate() {
        if !is_token(name.as_bytes()) || !is_field_value(value.as_bytes()) {
            return Err(BuildError::InvalidHeader { index });
        }
        if is_reserved(name) {
            return Err(BuildError::ReservedHeader { index });
        }
    }
    Ok(())
}

pub(crate) fn check_extensions(extensions: &[&str]) -> Result<(), BuildError> {
    for (index, ext) in extensions.iter().enumerate() {
        if ext.trim().is_empty() || !is_field_value(ext.as_bytes()) || !is_extension_list(ext) {
            return Err(BuildError::InvalidExtension { index });
        }
    }
    Ok(())
}

pub(crate) fn check_field(value: &str, field: &'static str) -> Result<(), BuildError> {
    if is_field_value(value.as_bytes()) && !value.trim().is_empty() {
        Ok(())
    } else {
        Err(BuildError::InvalidField { field })
    }
}

fn put_status(out: &mut Out<'_>, status: u16, reason: &str) {
    out.put(b"HTTP/1.1 ");
    out.put(&[
        b'0' + (status / 100 % 10) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ]);
    out.put(b" ");
    out.put(reason.as_bytes());
    out.put(b"\r\n");
}

/// Writes a response refusing the handshake: `HTTP/1.1 {status} {reason}`, then
/// `Connection: close`, `Content-Length: 0`, and `extra_headers` (e.g. `Location` for a
/// redirect, `WWW-Authenticate` for 401). Returns the bytes written.
///
/// # Errors
///
/// [`BuildError::InvalidField`] for a status outside 300..=599 (`"status"`) or a reason
/// with control characters (`"reason"`), [`BuildError::InvalidHeader`] /
/// [`BuildError::ReservedHeader`] for a bad extra header, and
/// [`BuildError::BufferTooSmall`].
///
/// ```
/// use rfc6455::handshake::write_rejection;
///
/// let mut out = [0u8; 128];
/// let n = write_rejection(403, "Forbidden", &[], &mut out).unwrap();
/// assert_eq!(
///     &out[..n],
///     b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
/// );
/// ```
pub fn write_rejection(
    status: u16,
    reason: &str,
    extra_headers: &[(&str, &str)],
    out: &mut [u8],
) -> Result<usize, BuildError> {
    if !(300..=599).contains(&status) {
        return Err(BuildError::InvalidField { field: "status" });
    }
    if !is_field_value(reason.as_bytes()) {
        return Err(BuildError::InvalidField { field: "reason" });
    }
    check_extra_headers(extra_headers)?;
    let mut w = Out::new(out);
    put_status(&mut w, status, reason);
    w.put(b"Connection: close\r\nContent-Length: 0\r\n");
    w.extra_headers(extra_headers);
    w.finish()
}

/// The fixed `400 Bad Request` response.
pub const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// The fixed `426 Upgrade Required` response, naming the one supported version
/// (RFC 6455 section 4.4) and, as RFC 7231 section 6.5.15 requires, the protocol to
/// upgrade to.
pub const UPGRADE_REQUIRED: &[u8] = b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nContent-Length: 0\r\n\r\n";

/// The fixed `431 Request Header Fields Too Large` response.
pub const HEADERS_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

fn copy_fixed(response: &[u8], out: &mut [u8]) -> Result<usize, BuildError> {
    let dst = out
        .get_mut(..response.len())
        .ok_or(BuildError::BufferTooSmall {
            required: response.len(),
        })?;
    dst.copy_from_slice(response);
    Ok(response.len())
}

impl HandshakeError {
    /// The fixed response for this error's [`http_status`](Self::http_status):
    /// [`BAD_REQUEST`], [`UPGRADE_REQUIRED`] or [`HEADERS_TOO_LARGE`].
    pub fn rejection(&self) -> &'static [u8] {
        match self.http_status() {
            426 => UPGRADE_REQUIRED,
            431 => HEADERS_TOO_LARGE,
            _ => BAD_REQUEST,
        }
    }

    /// Writes [`rejection`](Self::rejection) into `out`; returns the bytes written.
    ///
    /// # Errors
    ///
    /// [`BuildError::BufferTooSmall`].
    ///
    /// ```
    /// use rfc6455::handshake::{Limits, ServerHandshake, Status};
    ///
    /// let req = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
    /// let err = ServerHandshake::new(Limits::default()).parse(req).unwrap_err();
    /// assert_eq!(err.http_status(), 426);
    /// let mut out = [0u8; 256];
    /// let n = err.write_rejection(&mut out).unwrap();
    /// assert!(out[..n].starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    /// ```
    pub fn write_rejection(&self, out: &mut [u8]) -> Result<usize, BuildError> {
        copy_fixed(self.rejection(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_reports_required_length() {
        let mut small = [0u8; 4];
        let mut w = Out::new(&mut small);
        w.put(b"abc");
        w.put(b"def");
        assert_eq!(w.finish(), Err(BuildError::BufferTooSmall { required: 8 }));
        let mut exact = [0u8; 8];
        let mut w = Out::new(&mut exact);
        w.put(b"abcdef");
        assert_eq!(w.finish(), Ok(8));
        assert_eq!(&exact, b"abcdef\r\n");
    }

    #[test]
    fn reserved_names() {
        assert!(is_reserved("Sec-WebSocket-Protocol"));
        assert!(is_reserved("SEC-WEBSOCKET-anything"));
        assert!(is_reserved("content-length"));
        assert!(!is_reserved("Sec-WebSocke"));
        assert!(!is_reserved("X-Custom"));
    }

    #[test]
    fn rejections() {
        let mut out = [0u8; 256];
        let n = write_rejection(302, "Found", &[("Location", "/x")], &mut out).unwrap();
        assert_eq!(
            &out[..n],
            b"HTTP/1.1 302 Found\r\nConnection: close\r\nContent-Length: 0\r\nLocation: /x\r\n\r\n"
        );
        assert_eq!(
            write_rejection(101, "Switching Protocols", &[], &mut out),
            Err(BuildError::InvalidField { field: "status" })
        );
        assert_eq!(
            write_rejection(400, "Bad\r\nX: y", &[], &mut out),
            Err(BuildError::InvalidField { field: "reason" })
        );
        assert_eq!(
            write_rejection(400, "Bad", &[("Connection", "keep-alive")], &mut out),
            Err(BuildError::ReservedHeader { index: 0 })
        );
        assert_eq!(
            write_rejection(400, "Bad", &[("X", "ok"), ("Y", "a\nb")], &mut out),
            Err(BuildError::InvalidHeader { index: 1 })
        );
        let err = HandshakeError::TooManyHeaders { limit: 1 };
        let n = err.write_rejection(&mut out).unwrap();
        assert_eq!(&out[..n], HEADERS_TOO_LARGE);
        assert_eq!(
            err.write_rejection(&mut out[..10]),
            Err(BuildError::BufferTooSmall {
                required: HEADERS_TOO_LARGE.len()
            })
        );
    }
}
