//! Deterministic bytes that look random (xorshift64, one byte per step): incompressible
//! test data that is the same on every run.

/// `len` bytes from the xorshift64 sequence started at `seed` (made odd, so never zero).
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
