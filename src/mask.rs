//! Masking (RFC 6455 section 5.3): XOR of a 4-byte key over a payload.
//!
//! Masking is its own inverse, so the same functions mask (client encoding) and unmask
//! (server decoding). Every function takes an `offset`: the number of payload bytes that
//! were already processed with this key, so a payload can be handled in pieces of any size
//! and the key phase carries over (only `offset % 4` matters).
//!
//! ```
//! use rfc6455::mask;
//!
//! let key = [0x37, 0xfa, 0x21, 0x3d];
//! let mut data = *b"Hello";
//! mask::apply(&mut data, key, 0);
//! assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 section 5.7
//!
//! // Unmasking in two pieces gives the same result as in one.
//! let (a, b) = data.split_at_mut(2);
//! mask::apply(a, key, 0);
//! mask::apply(b, key, 2);
//! assert_eq!(&data, b"Hello");
//! ```
#![forbid(unsafe_code)]

/// The key rotated so that its first byte applies to the byte at `offset`.
#[inline]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_be_bytes(key)
        .rotate_left(((offset % 4) * 8) as u32)
        .to_be_bytes()
}

/// XOR `key` over `buf` in place, as the bytes at positions `offset..offset + buf.len()`
/// of a masked payload.
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], offset: usize) {
    if buf.len() < 16 {
        apply_bytewise(buf, key, offset);
        return;
    }
    let key = rotated(key, offset);
    // Align the bulk to 8 bytes so the word loop runs on aligned loads and stores.
    let head = buf.as_ptr().align_offset(8).min(buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    apply_bytewise(head_bytes, key, 0);
    let key = rotated(key, head);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = rest.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let value = u64::from_ne_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    apply_bytewise(chunks.into_remainder(), key, 0);
}

/// Copy `src` into `dst` while XORing `key` over it, as the bytes at positions
/// `offset..offset + src.len()` of a masked payload: one pass instead of a copy followed
/// by [`apply`].
///
/// # Panics
/// If `dst` and `src` differ in length, like [`slice::copy_from_slice`].
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len(), "copy_masked: length mismatch");
    let key = rotated(key, offset);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let value =
            u64::from_ne_bytes([sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]]) ^ word;
        dc.copy_from_slice(&value.to_ne_bytes());
    }
    for (i, (db, sb)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *db = sb ^ key[i % 4];
    }
}

/// The reference implementation: one byte at a time. Used for short buffers and as the
/// oracle in tests.
#[inline]
pub fn apply_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // Reduce first: `offset + i` would overflow for offsets near `usize::MAX`.
    let phase = offset % 4;
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(phase + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn matches_bytewise_for_every_offset_and_alignment() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..9 {
            for len in [0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 200] {
                for offset in 0..5 {
                    let mut fast = data.clone();
                    let mut slow = data.clone();
                    apply(&mut fast[start..start + len], key, offset);
                    apply_bytewise(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                    let mut copied = std::vec![0u8; len];
                    copy_masked(&mut copied, &data[start..start + len], key, offset);
                    assert_eq!(&copied[..], &slow[start..start + len]);
                }
            }
        }
    }
}
