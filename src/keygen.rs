//! Masking keys for client frames from caller-supplied entropy.
//!
//! RFC 6455 section 5.3 asks for masking keys that a peer cannot predict. The crate has no
//! RNG of its own: the caller seeds [`MaskKeyGen`] once per connection with 32 random bytes
//! (e.g. from `getrandom`), and the generator expands them with the ChaCha8 stream
//! function into as many keys as the connection needs, 16 per block.
//!
//! ```
//! use rfc6455::keygen::MaskKeyGen;
//!
//! let mut keys = MaskKeyGen::new([7; 32]); // use real randomness here
//! let a = keys.next_key();
//! let b = keys.next_key();
//! assert_ne!(a, b);
//! ```
#![forbid(unsafe_code)]

use core::fmt;

/// A ChaCha8 keystream cut into 4-byte masking keys.
#[derive(Clone)]
pub struct MaskKeyGen {
    key: [u32; 8],
    counter: u64,
    block: [u32; 16],
    next: usize,
}

impl fmt::Debug for MaskKeyGen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("MaskKeyGen").finish_non_exhaustive()
    }
}

#[inline(always)]
fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

impl MaskKeyGen {
    /// A generator seeded with 32 bytes of entropy.
    pub fn new(seed: [u8; 32]) -> Self {
        let mut key = [0u32; 8];
        for (k, chunk) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        MaskKeyGen {
            key,
            counter: 0,
            block: [0; 16],
            next: 16,
        }
    }

    /// The next masking key.
    #[inline]
    pub fn next_key(&mut self) -> [u8; 4] {
        if self.next == 16 {
            self.refill();
        }
        let word = self.block[self.next];
        self.next += 1;
        word.to_le_bytes()
    }

    /// The next masking key if one is computed already (no block to compute first);
    /// the same key [`next_key`](Self::next_key) would return.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(crate) fn ready_key(&mut self) -> Option<[u8; 4]> {
        let word = *self.block.get(self.next)?;
        self.next += 1;
        Some(word.to_le_bytes())
    }

    /// Give back the key [`ready_key`](Self::ready_key) just returned, unused: the next
    /// call returns it again.
    #[cfg(feature = "alloc")]
    #[inline]
    pub(crate) fn put_back(&mut self, key: [u8; 4]) {
        debug_assert_eq!(self.block[self.next - 1].to_le_bytes(), key);
        self.next -= 1;
    }

    fn refill(&mut self) {
        // "expand 32-byte k"
        let mut state = [
            0x6170_7865,
            0x3320_646e,
            0x7962_2d32,
            0x6b20_6574,
            self.key[0],
            self.key[1],
            self.key[2],
            self.key[3],
            self.key[4],
            self.key[5],
            self.key[6],
            self.key[7],
            self.counter as u32,
            (self.counter >> 32) as u32,
            0,
            0,
        ];
        let input = state;
        for _ in 0..4 {
            quarter(&mut state, 0, 4, 8, 12);
            quarter(&mut state, 1, 5, 9, 13);
            quarter(&mut state, 2, 6, 10, 14);
            quarter(&mut state, 3, 7, 11, 15);
            quarter(&mut state, 0, 5, 10, 15);
            quarter(&mut state, 1, 6, 11, 12);
            quarter(&mut state, 2, 7, 8, 13);
            quarter(&mut state, 3, 4, 9, 14);
        }
        for (s, i) in state.iter_mut().zip(input) {
            *s = s.wrapping_add(i);
        }
        self.block = state;
        self.counter = self.counter.wrapping_add(1);
        self.next = 0;
    }
}

/// 32 bytes from the operating system's random number generator (feature `getrandom`):
/// a seed for [`Connection::client`](crate::connection::Connection::client) and
/// [`Connection::upgraded_client`](crate::connection::Connection::upgraded_client), or for
/// a [`MaskKeyGen`].
///
/// ```
/// let seed = rfc6455::keygen::random_seed().expect("an OS RNG");
/// assert_ne!(seed, rfc6455::keygen::random_seed().unwrap());
/// ```
///
/// # Errors
///
/// When the operating system has no randomness to give.
#[cfg(feature = "getrandom")]
#[cfg_attr(docsrs, doc(cfg(feature = "getrandom")))]
pub fn random_seed() -> Result<[u8; 32], getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chacha_quarter_round_matches_rfc_8439_vector() {
        // RFC 8439 section 2.2.1.
        let mut s = [0u32; 16];
        s[0] = 0x1111_1111;
        s[1] = 0x0102_0304;
        s[2] = 0x9b8d_6f43;
        s[3] = 0x0123_4567;
        quarter(&mut s, 0, 1, 2, 3);
        assert_eq!(
            &s[..4],
            &[0xea2a_92f4, 0xcb1c_f8ce, 0x4581_472e, 0x5881_c4bb]
        );
    }

    #[test]
    fn different_seeds_give_different_streams_and_blocks_do_not_repeat() {
        let mut a = MaskKeyGen::new([1; 32]);
        let mut b = MaskKeyGen::new([2; 32]);
        let ka: std::vec::Vec<_> = (0..64).map(|_| a.next_key()).collect();
        let kb: std::vec::Vec<_> = (0..64).map(|_| b.next_key()).collect();
        assert_ne!(ka, kb);
        assert_ne!(&ka[..16], &ka[16..32]);
    }
}
