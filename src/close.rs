//! Close codes and close frame payloads (RFC 6455 sections 5.5.1 and 7.4).
//!
//! ```
//! use rfc6455::close::{CloseCode, CloseFrame};
//!
//! let mut buf = [0u8; 125];
//! let n = CloseFrame::new(CloseCode::GOING_AWAY, "restarting").encode(&mut buf).unwrap();
//! let parsed = CloseFrame::parse(&buf[..n]).unwrap().unwrap();
//! assert_eq!(parsed.code, CloseCode::GOING_AWAY);
//! assert_eq!(parsed.reason, "restarting");
//!
//! // An empty close payload carries no code; the application sees 1005.
//! assert_eq!(CloseFrame::parse(&[]).unwrap(), None);
//! ```
#![forbid(unsafe_code)]

use core::fmt;

/// The status code of a close frame (RFC 6455 section 7.4).
///
/// Any `u16` can be held; [`is_sendable`](Self::is_sendable) says whether it may appear in
/// a close frame on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept (e.g. binary for a text-only endpoint).
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Reserved: never sent on the wire.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame. Reserved: never sent on the wire.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: message data was inconsistent with its type (e.g. invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message or frame was too big to process.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway or proxy got an invalid response upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Reserved: never sent on the wire.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may be carried by a close frame on the wire: the codes defined by
    /// RFC 6455 and registered with IANA (1000-1003, 1007-1014) and the ranges for
    /// libraries and applications (3000-4999). 0-999, 1004-1006, 1015, 1016-2999 and
    /// 5000 and above are never valid on the wire.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether this code is reserved for reporting a local condition to the application
    /// (1005, 1006, 1015) and must never be sent.
    pub const fn is_local_only(self) -> bool {
        matches!(self.0, 1005 | 1006 | 1015)
    }

    /// Whether a connection that ended with this code is worth reconnecting (after a
    /// backoff): 1001 going away, 1006 abnormal closure (the transport dropped, or a
    /// keep-alive timed out), 1011 internal error, 1012 service restart, 1013 try again
    /// later. The condition is on the other side or in between, and is expected to pass.
    pub const fn is_retryable(self) -> bool {
        matches!(self.0, 1001 | 1006 | 1011 | 1012 | 1013)
    }

    /// Whether the reason a connection ended with this code would hold for a new
    /// connection too, so it should **not** be reconnected automatically: 1000 normal
    /// closure (the peer is done with us), and the codes that say this endpoint's own
    /// behaviour was refused, which a new connection would repeat: 1002 protocol error,
    /// 1003 unsupported data, 1007 invalid payload, 1008 policy violation, 1009 too big,
    /// 1010 mandatory extension.
    ///
    /// This is not `!is_retryable()`: codes that are neither permanent nor
    /// [retryable](Self::is_retryable) (1005, 1014, 1015, 3000-4999, and codes no
    /// registry defines) say nothing about a retry and are the application's call; see
    /// [`BackoffConfig::retry_other_codes`](crate::backoff::BackoffConfig::retry_other_codes).
    ///
    /// ```
    /// use rfc6455::close::CloseCode;
    ///
    /// assert!(CloseCode::SERVICE_RESTART.is_retryable());
    /// assert!(CloseCode::POLICY_VIOLATION.is_permanent());
    /// let app = CloseCode(4000);
    /// assert!(!app.is_retryable() && !app.is_permanent());
    /// ```
    pub const fn is_permanent(self) -> bool {
        matches!(self.0, 1000 | 1002 | 1003 | 1007 | 1008 | 1009 | 1010)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The longest close reason that fits in a control frame: 125 bytes less the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// A close frame's payload: a status code and a UTF-8 reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// Why the connection closes, for humans; may be empty.
    pub reason: &'a str,
}

/// A close payload that breaks RFC 6455 section 5.5.1 or 7.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseError {
    /// A 1-byte payload: a code needs two bytes.
    TruncatedCode,
    /// The code may not be sent on the wire.
    InvalidCode(CloseCode),
    /// The reason is not UTF-8; `valid_up_to` counts the reason bytes before the error.
    InvalidReason {
        /// Bytes of the reason that were valid.
        valid_up_to: usize,
    },
    /// The reason is longer than [`MAX_REASON_LEN`].
    ReasonTooLong {
        /// The reason's length in bytes.
        len: usize,
    },
    /// The output buffer cannot hold the payload.
    BufferTooSmall {
        /// Bytes the payload needs.
        required: usize,
    },
}

impl CloseError {
    /// The close code to send in reply: 1007 for a reason that is not UTF-8, 1002 for
    /// everything else.
    pub fn close_code(&self) -> CloseCode {
        match self {
            CloseError::InvalidReason { .. } => CloseCode::INVALID_PAYLOAD,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseError::TruncatedCode => f.write_str("close payload of 1 byte: a code needs 2"),
            CloseError::InvalidCode(code) => write!(f, "close code {code} may not be sent"),
            CloseError::InvalidReason { valid_up_to } => {
                write!(
                    f,
                    "close reason is not UTF-8 (valid up to byte {valid_up_to})"
                )
            }
            CloseError::ReasonTooLong { len } => {
                write!(f, "close reason of {len} bytes exceeds {MAX_REASON_LEN}")
            }
            CloseError::BufferTooSmall { required } => {
                write!(f, "close payload needs a buffer of {required} bytes")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CloseError {}

impl<'a> CloseFrame<'a> {
    /// A close payload with this code and reason. Checked when encoded.
    pub const fn new(code: CloseCode, reason: &'a str) -> Self {
        CloseFrame { code, reason }
    }

    /// Parse a received close payload. `Ok(None)` for an empty payload (no status code;
    /// report [`CloseCode::NO_STATUS`] to the application).
    pub fn parse(payload: &'a [u8]) -> Result<Option<Self>, CloseError> {
        match payload {
            [] => Ok(None),
            [_] => Err(CloseError::TruncatedCode),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(CloseError::InvalidCode(code));
                }
                if reason.len() > MAX_REASON_LEN {
                    return Err(CloseError::ReasonTooLong { len: reason.len() });
                }
                let reason =
                    core::str::from_utf8(reason).map_err(|e| CloseError::InvalidReason {
                        valid_up_to: e.valid_up_to(),
                    })?;
                Ok(Some(CloseFrame { code, reason }))
            }
        }
    }

    /// The encoded length: 2 bytes of code plus the reason.
    pub fn encoded_len(&self) -> usize {
        2 + self.reason.len()
    }

    /// Write the payload into `out`, checking that the code may be sent and that the reason
    /// fits in a control frame. Returns the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, CloseError> {
        if !self.code.is_sendable() {
            return Err(CloseError::InvalidCode(self.code));
        }
        if self.reason.len() > MAX_REASON_LEN {
            return Err(CloseError::ReasonTooLong {
                len: self.reason.len(),
            });
        }
        let n = self.encoded_len();
        let Some(dst) = out.get_mut(..n) else {
            return Err(CloseError::BufferTooSmall { required: n });
        };
        dst[..2].copy_from_slice(&self.code.0.to_be_bytes());
        dst[2..].copy_from_slice(self.reason.as_bytes());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_classified_as_section_7_4_says() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_sendable(), expected, "code {code}");
            let payload = code.to_be_bytes();
            assert_eq!(CloseFrame::parse(&payload).is_ok(), expected, "code {code}");
        }
    }

    #[test]
    fn retry_classes_are_disjoint_and_match_the_lists() {
        let retry = [1001, 1006, 1011, 1012, 1013];
        let no_retry = [1000, 1002, 1003, 1007, 1008, 1009, 1010];
        for code in 0..=u16::MAX {
            let c = CloseCode(code);
            assert_eq!(c.is_retryable(), retry.contains(&code), "code {code}");
            assert_eq!(c.is_permanent(), no_retry.contains(&code), "code {code}");
        }
    }

    #[test]
    fn one_byte_payload_is_a_protocol_error() {
        let err = CloseFrame::parse(&[3]).unwrap_err();
        assert_eq!(err, CloseError::TruncatedCode);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn invalid_reason_maps_to_1007() {
        let err = CloseFrame::parse(&[0x03, 0xE8, b'o', b'k', 0xFF]).unwrap_err();
        assert_eq!(err, CloseError::InvalidReason { valid_up_to: 2 });
        assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
    }

    #[test]
    fn encode_rejects_reserved_codes_and_long_reasons() {
        let mut buf = [0u8; 200];
        assert_eq!(
            CloseFrame::new(CloseCode::NO_STATUS, "").encode(&mut buf),
            Err(CloseError::InvalidCode(CloseCode::NO_STATUS))
        );
        let long = core::str::from_utf8(&[b'x'; 124]).unwrap();
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, long).encode(&mut buf),
            Err(CloseError::ReasonTooLong { len: 124 })
        );
        let ok = core::str::from_utf8(&[b'x'; 123]).unwrap();
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, ok).encode(&mut buf),
            Ok(125)
        );
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, "ab").encode(&mut buf[..3]),
            Err(CloseError::BufferTooSmall { required: 4 })
        );
    }
}
