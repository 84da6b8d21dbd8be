//! Copying bytes: short copies as fixed-size moves, and the one place that works around a
//! slow case of some `memcpy`s.
//!
//! On AMD Zen CPUs, glibc's `memcpy` (which uses `rep movsb` for large copies) runs about
//! 17 times slower when the destination starts 1 to 63 bytes after the source, counted
//! modulo 4 KiB (measured here: 1.3 GB/s against 23 GB/s; see `benches/compare/README.md`).
//! Where the source lands relative to our buffers depends on the caller's allocations, so
//! a connection could be slow for its whole life by bad luck. Large copies in that window
//! use the vectorised copy loop of the masking module instead (a XOR with a zero key),
//! which has no such cliff. [`WORKAROUND`] turns this off everywhere.
//!
//! Every copy of payload bytes in the crate goes through [`copy`], [`copy_into`] or, for
//! appends to growing buffers, [`slow_memcpy`] and the `extend_*` functions here.
//!
//! The functions write to `&mut [u8]` or to `&mut [MaybeUninit<u8>]` (spare capacity of a
//! vector) alike, through [`Slot`]; everything here is safe code except the one bulk copy
//! into uninitialised bytes (`unsafe_code` is allowed for this module in lib.rs).

use core::mem::MaybeUninit;

use crate::mask;

/// The switch: `false` sends every copy to `memcpy`, with no check for the slow window.
pub(crate) const WORKAROUND: bool = true;

/// Copies at least this long are checked for the slow window.
const ALIASING_CHECK_MIN: usize = 2048;

/// Whether `dst` starts 1 to 63 bytes after `src`, modulo 4 KiB.
#[inline]
fn in_aliasing_window(dst: *const u8, src: *const u8) -> bool {
    let delta = (dst as usize).wrapping_sub(src as usize) % 4096;
    (1..64).contains(&delta)
}

/// Whether copying `src` to `dst` with `memcpy` would hit its slow case (and the
/// workaround is on): the copy should then go through [`copy`] or [`copy_into`], which
/// avoid `memcpy` there.
#[inline]
pub(crate) fn slow_memcpy(dst: *const u8, src: &[u8]) -> bool {
    WORKAROUND && src.len() >= ALIASING_CHECK_MIN && in_aliasing_window(dst, src.as_ptr())
}

/// A byte that can be written: an initialised `u8`, or a `MaybeUninit<u8>` of a vector's
/// spare capacity. Only ever written, never read, so the same code fills both.
pub(crate) trait Slot: Copy {
    /// The slot holding `byte`.
    fn from_byte(byte: u8) -> Self;

    /// Copy `src` into `dst` (equal lengths) with `memcpy`.
    fn copy_bulk(dst: &mut [Self], src: &[u8]);
}

impl Slot for u8 {
    #[inline(always)]
    fn from_byte(byte: u8) -> u8 {
        byte
    }

    #[inline(always)]
    fn copy_bulk(dst: &mut [u8], src: &[u8]) {
        dst.copy_from_slice(src);
    }
}

impl Slot for MaybeUninit<u8> {
    #[inline(always)]
    fn from_byte(byte: u8) -> Self {
        MaybeUninit::new(byte)
    }

    #[inline(always)]
    fn copy_bulk(dst: &mut [Self], src: &[u8]) {
        assert_eq!(dst.len(), src.len(), "copy: length mismatch");
        // SAFETY: both pointers are valid for `src.len()` bytes (the assert above), `u8`
        // and `MaybeUninit<u8>` have the same layout, and the regions cannot overlap: `dst`
        // is borrowed mutably while `src` is borrowed.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len())
        };
    }
}

/// Store `bytes` at the start of `dst`.
#[inline(always)]
pub(crate) fn put<T: Slot, const N: usize>(dst: &mut [T], bytes: [u8; N]) {
    dst[..N].copy_from_slice(&bytes.map(T::from_byte));
}

/// Copy `src` into `dst` (equal lengths). Short copies are fixed-size moves; large ones
/// in the slow window of `memcpy` take the vector loop (see the module comment).
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    copy_into(dst, src);
}

/// [`copy`] into bytes that may be uninitialised.
#[inline]
pub(crate) fn copy_into<T: Slot>(dst: &mut [T], src: &[u8]) {
    if src.len() <= 32 {
        copy_short(dst, src);
    } else if slow_memcpy(dst.as_ptr().cast::<u8>(), src) {
        // XOR with a zero key is a copy.
        mask::copy_masked_into(dst, src, [0; 4], 0);
    } else {
        T::copy_bulk(dst, src);
    }
}

/// Copy at most 32 bytes (equal lengths) with two overlapping fixed-size moves, which
/// compile to a few loads and stores instead of a call to `memcpy`.
#[inline(always)]
pub(crate) fn copy_short<T: Slot>(dst: &mut [T], src: &[u8]) {
    let n = src.len();
    debug_assert!(n <= 32 && dst.len() == n);
    if n >= 16 {
        copy_two::<T, 16>(dst, src);
    } else if n >= 8 {
        copy_two::<T, 8>(dst, src);
    } else if n >= 4 {
        copy_two::<T, 4>(dst, src);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = T::from_byte(*s);
        }
    }
}

/// Copy the first and the last `N` bytes (`N <= len < 2 * N`), both loaded before either
/// is stored, so that the compiler keeps them as fixed-size moves.
#[inline(always)]
fn copy_two<T: Slot, const N: usize>(dst: &mut [T], src: &[u8]) {
    let n = src.len();
    let first: [u8; N] = src[..N].try_into().unwrap_or([0; N]);
    let last: [u8; N] = src[n - N..].try_into().unwrap_or([0; N]);
    put(dst, first);
    put(&mut dst[n - N..], last);
}

/// Append `data` to `buf`.
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn extend_bytes_mut(buf: &mut bytes::BytesMut, data: &[u8]) {
    // Room first (as `extend_from_slice` would make), so the check sees where the bytes go.
    buf.reserve(data.len());
    let start = buf.len();
    if slow_memcpy(buf.as_ptr().wrapping_add(start), data) {
        buf.resize(start + data.len(), 0);
        copy(&mut buf[start..], data);
        return;
    }
    buf.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len as u32).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn the_window_is_1_to_63_bytes_after_the_source_modulo_4096() {
        let base = 0x10_0000usize;
        let at = |delta: usize| in_aliasing_window(delta as *const u8, base as *const u8);
        for delta in [0, 64, 100, 4095, 4096, 4096 + 64] {
            assert!(!at(base.wrapping_add(delta)), "delta {delta}");
        }
        for delta in [1, 2, 32, 63, 4096 + 1, 4096 + 63, 3 * 4096 + 40] {
            assert!(at(base + delta), "delta {delta}");
        }
        // Wrapping: a destination before the source in memory.
        assert!(!at(base - 1));
        let src = vec![0u8; ALIASING_CHECK_MIN];
        let dst = src.as_ptr().wrapping_add(4096 + 8);
        assert_eq!(slow_memcpy(dst, &src), WORKAROUND);
        assert!(
            !slow_memcpy(dst, &src[1..]),
            "shorter copies are not checked"
        );
    }

    /// Every length up to and past the short case, into initialised and uninitialised
    /// bytes, and into a destination in the slow window (the vector loop) and outside.
    #[test]
    fn copies_exactly_at_every_length_and_placement() {
        let pool = pattern(3 * 4096 + 5000);
        let mut dst = vec![0xEEu8; 4096 + 5000 + 8];
        let mut spare: Vec<u8> = Vec::with_capacity(4096 + 5000 + 8);
        for len in (0..70).chain([2047, 2048, 2049, 4100]) {
            for (delta, want_slow) in [(16usize, true), (2048, false)] {
                // A source `delta` bytes before `dst[4]`, modulo 4096.
                let target = dst.as_ptr() as usize + 4;
                let at = target
                    .wrapping_sub(delta)
                    .wrapping_sub(pool.as_ptr() as usize)
                    % 4096;
                let src = &pool[at..at + len];
                assert_eq!(
                    slow_memcpy(dst[4..].as_ptr(), src),
                    WORKAROUND && want_slow && len >= ALIASING_CHECK_MIN
                );
                dst.fill(0xEE);
                copy(&mut dst[4..4 + len], src);
                assert_eq!(&dst[4..4 + len], src, "len {len} delta {delta}");
                assert!(dst[..4].iter().chain(&dst[4 + len..]).all(|&b| b == 0xEE));

                spare.clear();
                copy_into(&mut spare.spare_capacity_mut()[..len], src);
                // Only the bytes written are counted as initialised.
                let written: Vec<u8> = spare.spare_capacity_mut()[..len]
                    .iter()
                    // SAFETY: copy_into wrote all `len` bytes just above.
                    .map(|b| unsafe { b.assume_init() })
                    .collect();
                assert_eq!(&written[..], src, "uninit: len {len} delta {delta}");
            }
        }
    }

    /// Appends into a `BytesMut` exactly, with the source placed in the slow window of
    /// the destination (the vector loop) and outside it (`memcpy`).
    #[cfg(feature = "alloc")]
    #[test]
    fn extend_bytes_mut_appends_exactly_in_and_out_of_the_window() {
        let pool = pattern(4096 + 5000);
        for shift in [0, 1, 7, 33, 79] {
            for delta in [32usize, 2048] {
                let mut buf = bytes::BytesMut::with_capacity(16);
                buf.extend_from_slice(&vec![9u8; shift]);
                buf.reserve(5000);
                let dst = buf.as_ptr() as usize + shift;
                let at = dst.wrapping_sub(delta).wrapping_sub(pool.as_ptr() as usize) % 4096;
                let data = &pool[at..at + 5000];
                assert_eq!(
                    slow_memcpy(dst as *const u8, data),
                    WORKAROUND && delta == 32
                );
                extend_bytes_mut(&mut buf, data);
                assert_eq!(&buf[..shift], &vec![9u8; shift][..]);
                assert_eq!(&buf[shift..], data, "shift {shift} delta {delta}");
            }
        }
    }
}
