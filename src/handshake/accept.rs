//! `Sec-WebSocket-Key` generation and the `Sec-WebSocket-Accept` computation
//! (RFC 6455 sections 4.1 and 4.2.2), without an allocator.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 section 1.3 appends to the key before hashing.
pub const WEBSOCKET_GUID: &[u8; 36] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of an encoded `Sec-WebSocket-Key`: 16 bytes in base64.
pub const KEY_LEN: usize = 24;

/// Length of an encoded `Sec-WebSocket-Accept`: a SHA-1 digest (20 bytes) in base64.
pub const ACCEPT_LEN: usize = 28;

/// Encodes `input` as padded base64 into `out`, which must be exactly the encoded length.
fn encode_into(input: &[u8], out: &mut [u8]) {
    let written = STANDARD.encode_slice(input, out);
    debug_assert_eq!(written, Ok(out.len()));
}

/// Views base64 output as text. Base64 output is ASCII, so this never takes the fallback.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// A client's `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (24 characters).
///
/// The crate has no random number generator: the caller supplies the 16 bytes, which must
/// be freshly and unpredictably chosen for every connection (RFC 6455 section 4.1). With
/// the `getrandom` feature, `ClientKey::random` fills them from the operating system.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey([u8; KEY_LEN]);

impl ClientKey {
    /// Encodes a 16-byte nonce as a key.
    ///
    /// ```
    /// use rfc6455::handshake::ClientKey;
    ///
    /// // The nonce of RFC 6455 section 4.1's example.
    /// let key = ClientKey::from_nonce(*b"the sample nonce");
    /// assert_eq!(key.as_str(), "dGhlIHNhbXBsZSBub25jZQ==");
    /// ```
    pub fn from_nonce(nonce: [u8; 16]) -> Self {
        let mut out = [0u8; KEY_LEN];
        encode_into(&nonce, &mut out);
        ClientKey(out)
    }

    /// A key from 16 bytes of the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// Whatever `getrandom` reports when no randomness is available.
    #[cfg(feature = "getrandom")]
    #[cfg_attr(docsrs, doc(cfg(feature = "getrandom")))]
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        Ok(Self::from_nonce(nonce))
    }

    /// The key as sent in the `Sec-WebSocket-Key` header.
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// The key's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The `Sec-WebSocket-Accept` value a server must answer this key with.
    pub fn accept_key(&self) -> AcceptKey {
        AcceptKey::from_key(&self.0)
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientKey").field(&self.as_str()).finish()
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Sec-WebSocket-Accept` value: base64 of SHA-1(key ‖ GUID), 28 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcceptKey([u8; ACCEPT_LEN]);

impl AcceptKey {
    /// Computes the accept value for a `Sec-WebSocket-Key` exactly as it appeared in the
    /// request (surrounding whitespace already removed).
    ///
    /// ```
    /// use rfc6455::handshake::AcceptKey;
    ///
    /// // RFC 6455 section 1.3.
    /// let accept = AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==");
    /// assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
    pub fn from_key(key: &[u8]) -> Self {
        let mut sha = Sha1::new();
        sha.update(key);
        sha.update(WEBSOCKET_GUID);
        let digest = sha.finalize();
        let mut out = [0u8; ACCEPT_LEN];
        encode_into(&digest, &mut out);
        AcceptKey(out)
    }

    /// The value as sent in the `Sec-WebSocket-Accept` header.
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// The value's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8; ACCEPT_LEN] {
        &self.0
    }
}

impl fmt::Debug for AcceptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AcceptKey").field(&self.as_str()).finish()
    }
}

impl fmt::Display for AcceptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `key` (already trimmed) is a valid `Sec-WebSocket-Key`: base64 that decodes to
/// exactly 16 bytes (RFC 6455 section 4.2.1, item 5).
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    if key.len() != KEY_LEN {
        return false;
    }
    // 24 base64 characters decode to at most 18 bytes; 16 means "==" padding.
    let mut out = [0u8; 18];
    matches!(STANDARD.decode_slice(key, &mut out), Ok(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_accept() {
        let accept = AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn rfc_example_key_from_nonce() {
        let key = ClientKey::from_nonce(*b"the sample nonce");
        assert_eq!(key.as_str(), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(key.accept_key().as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn second_vector() {
        // Computed independently with `printf '%s' \
        // 'x3JJHMbDL1EzLkh9GBhXDw==258EAFA5-E914-47DA-95CA-C5AB0DC85B11' |
        // openssl sha1 -binary | base64`.
        assert_eq!(
            AcceptKey::from_key(b"x3JJHMbDL1EzLkh9GBhXDw==").as_str(),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
        );
    }

    #[test]
    fn key_validation() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_valid_key(ClientKey::from_nonce([0xff; 16]).as_bytes()));
        // 15 bytes encoded (no padding needed: 20 chars).
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j"));
        // 17 bytes -> 24 chars with one '=': wrong decoded length.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZXg="));
        // Not base64.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ!!"));
        // Non-canonical trailing bits.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
        assert!(!is_valid_key(b""));
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn random_keys_differ() {
        let a = ClientKey::random().unwrap();
        let b = ClientKey::random().unwrap();
        assert!(is_valid_key(a.as_bytes()));
        assert_ne!(a, b);
    }
}
