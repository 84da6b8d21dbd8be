//! Appending to buffers without hitting a slow path of some `memcpy`s.
//!
//! On AMD Zen CPUs, glibc's `memcpy` (which uses `rep movsb` for large copies) runs about
//! 17 times slower when the destination starts 1 to 63 bytes after the source, counted
//! modulo 4 KiB (measured here: 1.3 GB/s against 23 GB/s; see `benches/compare/README.md`).
//! Where the source lands relative to our buffers depends on the caller's allocations, so
//! a connection could be slow for its whole life by bad luck. Large appends in that window
//! use the vectorised copy loop of the masking module instead, which has no such cliff.

use bytes::BytesMut;

use crate::mask;

/// Append `data` to `buf`.
#[inline]
pub(crate) fn extend(buf: &mut BytesMut, data: &[u8]) {
    if data.len() >= mask::ALIASING_CHECK_MIN {
        buf.reserve(data.len());
        let start = buf.len();
        let dst = buf.as_ptr().wrapping_add(start);
        if mask::in_aliasing_window(dst, data.as_ptr()) {
            buf.resize(start + data.len(), 0);
            mask::copy(&mut buf[start..], data);
            return;
        }
    }
    buf.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn appends_exactly_at_every_relative_offset() {
        let source: alloc::vec::Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for shift in 0..80 {
            let mut buf = BytesMut::with_capacity(16);
            buf.extend_from_slice(&vec![9u8; shift]);
            extend(&mut buf, &source[..5000]);
            assert_eq!(&buf[..shift], &vec![9u8; shift][..]);
            assert_eq!(&buf[shift..], &source[..5000]);
        }
    }
}
