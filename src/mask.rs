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
// The `unsafe` here: calling the AVX2-compiled kernels after run-time detection.
// Everything else is safe code; writing into uninitialised bytes goes through
// `copy::Slot`.
// (`unsafe_code` is allowed for this module in lib.rs.)
#![deny(unsafe_op_in_unsafe_fn)]

use crate::copy::{self, Slot};

/// The key rotated so that its first byte applies to the byte at `offset`.
#[inline(always)]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_be_bytes(key)
        .rotate_left(((offset % 4) * 8) as u32)
        .to_be_bytes()
}

/// Below this length the word loop beats dispatching to a vector kernel.
const WIDE_MIN: usize = 256;

/// XOR `key` over `buf` in place, as the bytes at positions `offset..offset + buf.len()`
/// of a masked payload.
///
/// Long buffers use the widest vector unit available: with `std` on x86_64, AVX2 is
/// detected at run time; otherwise the kernel is compiled for the target's features
/// (SSE2 on any x86_64, NEON on aarch64, plain 64-bit words elsewhere).
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], offset: usize) {
    if buf.len() < WIDE_MIN {
        apply_words(buf, rotated(key, offset));
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, which is all `avx2::apply` requires.
        unsafe { avx2::apply(buf, rotated(key, offset)) };
        return;
    }
    apply_wide(buf, rotated(key, offset));
}

/// Copy `src` into `dst` while XORing `key` over it, as the bytes at positions
/// `offset..offset + src.len()` of a masked payload: one pass instead of a copy followed
/// by [`apply`].
///
/// # Panics
/// If `dst` and `src` differ in length, like [`slice::copy_from_slice`].
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    copy_masked_into(dst, src, key, offset);
}

/// [`copy_masked`] into bytes that may be uninitialised (a vector's spare capacity).
#[inline]
pub(crate) fn copy_masked_into<T: Slot>(dst: &mut [T], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len(), "copy_masked: length mismatch");
    #[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
    if src.len() >= WIDE_MIN && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, which is all `avx2::copy_masked` requires.
        unsafe { avx2::copy_masked(dst, src, rotated(key, offset)) };
        return;
    }
    copy_masked_wide(dst, src, rotated(key, offset));
}

/// [`copy_masked`] for at most 32 bytes at offset 0, inlined: word loads, XORs and
/// stores, no dispatch.
#[inline(always)]
pub(crate) fn copy_masked_short<T: Slot>(dst: &mut [T], src: &[u8], key: [u8; 4]) {
    debug_assert!(src.len() <= 32);
    copy_masked_words(dst, src, key);
}

/// The key repeated over a 64-bit word, in memory order.
#[inline(always)]
fn key_word(key: [u8; 4]) -> u64 {
    // The same four bytes in both halves: the byte order of the halves does not matter.
    let half = u32::from_ne_bytes(key) as u64;
    half | (half << 32)
}

#[inline(always)]
fn load(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    u64::from_ne_bytes(word)
}

/// Word-at-a-time masking in place for short buffers; `key` is already rotated to byte 0.
#[inline(always)]
fn apply_words(buf: &mut [u8], key: [u8; 4]) {
    let word = key_word(key);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let value = load(chunk) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    let mut rest = chunks.into_remainder();
    if rest.len() >= 4 {
        let (four, tail) = rest.split_at_mut(4);
        let value = u32::from_ne_bytes([four[0], four[1], four[2], four[3]]) ^ word as u32;
        four.copy_from_slice(&value.to_ne_bytes());
        rest = tail;
    }
    for (b, k) in rest.iter_mut().zip(key) {
        *b ^= k;
    }
}

/// [`apply_words`] while copying (equal lengths): each word is loaded from `src`, XORed
/// and stored to `dst`, which is never read.
#[inline(always)]
fn copy_masked_words<T: Slot>(dst: &mut [T], src: &[u8], key: [u8; 4]) {
    debug_assert_eq!(dst.len(), src.len());
    let word = key_word(key);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dw, sw) in (&mut d).zip(&mut s) {
        copy::put(dw, (load(sw) ^ word).to_ne_bytes());
    }
    let (mut dr, mut sr) = (d.into_remainder(), s.remainder());
    if sr.len() >= 4 {
        let value = u32::from_ne_bytes([sr[0], sr[1], sr[2], sr[3]]) ^ word as u32;
        copy::put(dr, value.to_ne_bytes());
        dr = &mut dr[4..];
        sr = &sr[4..];
    }
    for ((d, s), k) in dr.iter_mut().zip(sr).zip(key) {
        *d = T::from_byte(s ^ k);
    }
}

/// 32 bytes per step, written so the compiler turns each step into vector loads, XORs and
/// stores for whatever vector unit it compiles for. A multiple of 4, so the key phase is
/// the same at every step.
#[inline(always)]
fn apply_wide(buf: &mut [u8], key: [u8; 4]) {
    // Align the stores: a vector store that straddles two cache lines costs double.
    let head = buf.as_ptr().align_offset(32).min(buf.len());
    let (head_bytes, buf) = buf.split_at_mut(head);
    apply_words(head_bytes, key);
    let key = rotated(key, head);
    let word = key_word(key);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for lane in block.chunks_exact_mut(8) {
            let value = load(lane) ^ word;
            lane.copy_from_slice(&value.to_ne_bytes());
        }
    }
    apply_words(blocks.into_remainder(), key);
}

#[inline(always)]
fn copy_masked_wide<T: Slot>(dst: &mut [T], src: &[u8], key: [u8; 4]) {
    let word = key_word(key);
    let mut d = dst.chunks_exact_mut(32);
    let mut s = src.chunks_exact(32);
    for (db, sb) in (&mut d).zip(&mut s) {
        for (dl, sl) in db.chunks_exact_mut(8).zip(sb.chunks_exact(8)) {
            copy::put(dl, (load(sl) ^ word).to_ne_bytes());
        }
    }
    copy_masked_words(d.into_remainder(), s.remainder(), key);
}

/// The same kernels compiled with AVX2 enabled, for run-time dispatch.
#[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
mod avx2 {
    #[target_feature(enable = "avx2")]
    pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
        super::apply_wide(buf, key);
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn copy_masked<T: crate::copy::Slot>(dst: &mut [T], src: &[u8], key: [u8; 4]) {
        super::copy_masked_wide(dst, src, key);
    }
}

/// The reference: one byte at a time, the oracle of the tests.
#[cfg(test)]
fn apply_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
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
            for len in [
                0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200,
            ] {
                for offset in 0..5 {
                    let mut fast = data.clone();
                    let mut slow = data.clone();
                    apply(&mut fast[start..start + len], key, offset);
                    apply_bytewise(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                    let mut copied = std::vec![0u8; len];
                    copy_masked(&mut copied, &data[start..start + len], key, offset);
                    assert_eq!(&copied[..], &slow[start..start + len]);
                    crate::copy::copy(&mut copied, &data[start..start + len]);
                    assert_eq!(&copied[..], &data[start..start + len]);
                    if len <= 32 && offset == 0 {
                        copy_masked_short(&mut copied, &data[start..start + len], key);
                        assert_eq!(&copied[..], &slow[start..start + len]);
                    }
                }
            }
        }
    }

    /// Regression: the byte loop computed `offset + i`, which overflowed (and panicked in
    /// debug builds) for offsets near `usize::MAX` even though only `offset % 4` matters.
    #[test]
    fn bytewise_keeps_the_phase_for_offsets_near_usize_max() {
        let key = [1, 2, 4, 8];
        for offset in [usize::MAX, usize::MAX - 1, usize::MAX - 2, usize::MAX - 3] {
            let mut a = [0u8; 5];
            apply_bytewise(&mut a, key, offset);
            let want: Vec<u8> = (0..5).map(|i| key[(offset % 4 + i) % 4]).collect();
            assert_eq!(&a[..], &want[..], "offset {offset}");
        }
    }

    /// The byte-at-a-time reference of RFC 6455 section 5.3, written here: byte `i` of
    /// the payload is XORed with key byte `i % 4`; `phase` payload bytes came before.
    fn reference(buf: &mut [u8], key: [u8; 4], phase: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(phase + i) % 4];
        }
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
            .collect()
    }

    /// Lengths from the wide threshold on that leave every tail size after the 32-byte
    /// blocks, and longer ones.
    fn wide_lengths() -> Vec<usize> {
        let mut lens: Vec<usize> = (WIDE_MIN..WIDE_MIN + 2 * 32 + 1).collect();
        lens.extend([511, 512, 513, 1000, 4096 + 31]);
        lens
    }

    /// Whether `apply` and `copy_masked` dispatch to the AVX2 kernels on this machine
    /// (the same condition as theirs).
    #[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
    fn avx2_dispatch() -> bool {
        std::is_x86_feature_detected!("avx2")
    }

    #[cfg(not(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2"))))]
    fn avx2_dispatch() -> bool {
        false
    }

    #[test]
    fn wide_apply_matches_the_reference_at_every_start_phase_and_tail() {
        // Print what was reached, so a run on a machine without AVX2 says so.
        std::println!("AVX2 kernels dispatched: {}", avx2_dispatch());
        let key = [0xA1, 0x5C, 0x3E, 0x97];
        const SLACK: usize = 40;
        for len in wide_lengths() {
            // Starts 0..=31 into the buffer: every alignment of the head before the
            // aligned 32-byte stores.
            let original = pattern(32 + len + SLACK, len as u8);
            for start in 0..32 {
                for offset in [0, 1, 2, 3, 5, usize::MAX - 1, usize::MAX] {
                    let mut got = original.clone();
                    let mut want = original.clone();
                    apply(&mut got[start..start + len], key, offset);
                    reference(&mut want[start..start + len], key, offset % 4);
                    assert!(
                        got == want,
                        "apply: len {len} start {start} offset {offset}, first difference at {:?}",
                        got.iter().zip(&want).position(|(a, b)| a != b)
                    );
                }
            }
        }
    }

    #[test]
    fn wide_copy_masked_matches_the_reference_at_every_start_phase_and_tail() {
        let key = [0x0F, 0xF0, 0x66, 0x99];
        const SLACK: usize = 40;
        for len in wide_lengths() {
            let src = pattern(32 + len, len as u8);
            let before = pattern(32 + len + SLACK, !(len as u8));
            for (src_start, dst_start) in (0..32).map(|i| (i, (i * 7 + 3) % 32)) {
                for phase in 0..4 {
                    let mut dst = before.clone();
                    copy_masked(
                        &mut dst[dst_start..dst_start + len],
                        &src[src_start..src_start + len],
                        key,
                        phase,
                    );
                    let mut want = before.clone();
                    want[dst_start..dst_start + len]
                        .copy_from_slice(&src[src_start..src_start + len]);
                    reference(&mut want[dst_start..dst_start + len], key, phase);
                    assert!(
                        dst == want,
                        "copy_masked: len {len} src {src_start} dst {dst_start} phase {phase}"
                    );
                }
            }
        }
    }
}
