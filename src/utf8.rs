//! Incremental, fail-fast UTF-8 validation for text messages and close reasons.
//!
//! A text message may arrive in many fragments, and a fragment boundary may split a
//! multi-byte character. [`Utf8Validator`] keeps at most three bytes of an unfinished
//! character between pieces and reports an error at the first byte that can never start
//! or continue a valid sequence, without waiting for the rest of the message
//! (RFC 6455 section 8.1; Autobahn cases 6.*).
//!
//! ```
//! use rfc6455::utf8::Utf8Validator;
//!
//! let text = "κόσμε".as_bytes();
//! let mut v = Utf8Validator::new();
//! for piece in text.chunks(3) {
//!     v.feed(piece).unwrap();
//! }
//! v.finish().unwrap();
//!
//! // 0xF4 0x90 can never begin a valid character: rejected at once, not at the end.
//! let mut v = Utf8Validator::new();
//! assert!(v.feed(&[b'a', 0xF4]).is_ok());
//! assert_eq!(v.feed(&[0x90]).unwrap_err().offset(), 1);
//! ```
// One `unsafe` block: handing out bytes this module already validated as `&str`.
#![deny(unsafe_code)]

use core::fmt;

use crate::close::CloseCode;

/// Invalid UTF-8 found while validating a text payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    offset: u64,
    incomplete: bool,
}

impl Utf8Error {
    /// The offset, counted from the first byte fed, of the character that is invalid.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the input was valid but ended inside a multi-byte character.
    pub fn is_incomplete(&self) -> bool {
        self.incomplete
    }

    /// The close code to send: 1007 (invalid frame payload data).
    pub fn close_code(&self) -> CloseCode {
        CloseCode::INVALID_PAYLOAD
    }
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.incomplete {
            write!(
                f,
                "text ends inside a UTF-8 sequence that starts at byte {}",
                self.offset
            )
        } else {
            write!(f, "invalid UTF-8 at byte {}", self.offset)
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Utf8Error {}

/// `simdutf8` hands inputs shorter than this to `core::str::from_utf8`, which takes a
/// branch per character: 23 ns for 16 bytes and 40 ns for 32 bytes of mixed multi-byte text
/// here, against 6 ns for 64 bytes through the vector check. Short text that is not ASCII
/// is padded to this length instead, from `PAD_MIN` bytes on.
const VECTOR_MIN: usize = 64;

/// Below this, padding (about 12 ns: the copy, and vector loads that cannot take their
/// bytes straight from the narrower stores just made) costs more than it saves.
const PAD_MIN: usize = 16;

/// Whether `bytes` is UTF-8: the vector check (SSE4.2/AVX2 chosen at run time with `std`,
/// NEON on aarch64), for short text too.
#[inline]
fn is_utf8(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n >= VECTOR_MIN {
        return simdutf8::basic::from_utf8(bytes).is_ok();
    }
    if bytes.is_ascii() {
        return true;
    }
    if n < PAD_MIN {
        return core::str::from_utf8(bytes).is_ok();
    }
    // Zero bytes after the text change nothing: NUL is ASCII, and a character cut off at
    // the end stays invalid when a NUL follows it.
    let mut padded = [0u8; VECTOR_MIN];
    crate::copy::copy(&mut padded[..n], bytes);
    simdutf8::basic::from_utf8(&padded).is_ok()
}

/// Validate a complete byte string as UTF-8.
pub fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    // The fast check only says yes or no; on no, the slower one finds where, with
    // `core::str::from_utf8`'s semantics.
    if is_utf8(bytes) {
        return Ok(from_validated(bytes));
    }
    simdutf8::compat::from_utf8(bytes).map_err(|e| Utf8Error {
        offset: e.valid_up_to() as u64,
        incomplete: e.error_len().is_none(),
    })
}

/// Where a possibly unfinished character at the end of `data` starts (`data.len()` if the
/// last character is complete or the end is invalid anyway).
fn unfinished_tail(data: &[u8]) -> usize {
    let n = data.len();
    for back in 1..=n.min(3) {
        let byte = data[n - back];
        if byte & 0xC0 != 0x80 {
            return if sequence_len(byte) > back {
                n - back
            } else {
                n
            };
        }
    }
    n
}

/// View bytes that were validated as UTF-8 (by [`validate`] or a [`Utf8Validator`] that
/// saw all of them and finished) as `&str`, without validating them again.
///
/// Crate-private: every caller passes bytes it validated and has not modified since. Debug
/// builds check.
#[allow(unsafe_code)]
#[inline]
pub(crate) fn from_validated(bytes: &[u8]) -> &str {
    debug_assert!(
        core::str::from_utf8(bytes).is_ok(),
        "bytes were not validated"
    );
    // SAFETY: the caller validated `bytes` as UTF-8 (`validate` just checked them; the
    // connection validates every text payload before it builds an event from it), and
    // `&[u8]` cannot have changed since.
    // Re-validating would double the cost of receiving text (see the text benchmarks).
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

/// An incremental UTF-8 validator that fails at the first impossible byte.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// Bytes of a character split across pieces (at most 3 are ever kept).
    partial: [u8; 4],
    partial_len: u8,
    /// Bytes validated so far, to report offsets.
    seen: u64,
}

/// The length of the sequence that `lead` starts (1 for bytes that are not a valid lead).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
            seen: 0,
        }
    }

    /// Forget all state, to validate a new message.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Whether the bytes fed so far end on a character boundary.
    pub fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// Validate the next piece of the message.
    ///
    /// Returns an error as soon as a byte is seen that no continuation could make valid.
    /// After an error the validator's state is unspecified; [`reset`](Self::reset) it.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            let have = self.partial_len as usize;
            let want = sequence_len(self.partial[0]);
            let take = (want - have).min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let filled = have + take;
            let start = self.seen - have as u64;
            match core::str::from_utf8(&self.partial[..filled]) {
                Ok(_) => {}
                Err(e) if e.error_len().is_none() => {
                    // Still a valid prefix: wait for more.
                    self.partial_len = filled as u8;
                    self.seen += take as u64;
                    return Ok(());
                }
                Err(_) => {
                    return Err(Utf8Error {
                        offset: start,
                        incomplete: false,
                    });
                }
            }
            self.partial_len = 0;
            self.seen += take as u64;
            data = &data[take..];
        }
        // Validate all but an unfinished last character with the fast check; only a
        // failure pays for locating the error.
        let cut = unfinished_tail(data);
        let (body, tail) = data.split_at(cut);
        if let Err(e) = validate(body) {
            return Err(Utf8Error {
                offset: self.seen + e.offset,
                incomplete: false,
            });
        }
        // The tail is an unfinished character: keep it if it can still become valid.
        if let Err(e) = core::str::from_utf8(tail) {
            if e.error_len().is_some() {
                return Err(Utf8Error {
                    offset: self.seen + (cut + e.valid_up_to()) as u64,
                    incomplete: false,
                });
            }
        }
        self.partial[..tail.len()].copy_from_slice(tail);
        self.partial_len = tail.len() as u8;
        self.seen += data.len() as u64;
        Ok(())
    }

    /// Declare the message complete: an error if it ended inside a character.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.partial_len == 0 {
            Ok(())
        } else {
            Err(Utf8Error {
                offset: self.seen - self.partial_len as u64,
                incomplete: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short input goes through the vector check padded with zeroes: it must agree with
    /// `core::str::from_utf8` on every prefix (so every character cut off at the end) and
    /// with every single byte changed, at every length up to and past the padded size.
    #[test]
    fn short_text_agrees_with_core_on_cuts_and_corruptions() {
        let text =
            "aé€𝄞 z\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}ü€𝄞xyz€𝄞é€𝄞abcdefghijé€𝄞".as_bytes();
        assert!(text.len() > VECTOR_MIN + 8);
        let bytes = [
            0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
        ];
        let mut checked = 0;
        for start in 0..8 {
            for end in start..=text.len() {
                let piece = &text[start..end];
                assert_eq!(validate(piece).is_ok(), core::str::from_utf8(piece).is_ok());
                if piece.len() <= VECTOR_MIN {
                    for at in 0..piece.len() {
                        for b in bytes {
                            let mut bad = [0u8; VECTOR_MIN];
                            bad[..piece.len()].copy_from_slice(piece);
                            bad[at] = b;
                            let bad = &bad[..piece.len()];
                            let want = core::str::from_utf8(bad).map_err(|e| e.valid_up_to());
                            let got = validate(bad).map_err(|e| e.offset() as usize);
                            assert_eq!(got.map(str::len), want.map(|_| bad.len()), "{bad:x?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn split_character_is_accepted_at_every_split() {
        let text = "a€𝄞ü".as_bytes();
        for cut in 0..=text.len() {
            let mut v = Utf8Validator::new();
            v.feed(&text[..cut]).unwrap();
            v.feed(&text[cut..]).unwrap();
            v.finish().unwrap();
        }
    }

    #[test]
    fn fails_fast_inside_a_sequence() {
        // 0xED 0xA0 starts a UTF-16 surrogate: invalid before the third byte arrives.
        let mut v = Utf8Validator::new();
        v.feed(b"ab").unwrap();
        v.feed(&[0xED]).unwrap();
        let err = v.feed(&[0xA0]).unwrap_err();
        assert_eq!(err.offset(), 2);
        assert!(!err.is_incomplete());
    }

    #[test]
    fn unfinished_character_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed(&[b'x', 0xE2, 0x82]).unwrap();
        let err = v.finish().unwrap_err();
        assert_eq!(err.offset(), 1);
        assert!(err.is_incomplete());
    }
}
