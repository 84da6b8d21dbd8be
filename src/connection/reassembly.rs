//! The reassembly buffer: the payload of a fragmented message, gathered as its fragments
//! arrive.

use alloc::vec::Vec;

use bytes::Bytes;

use crate::{copy, mask};

/// `buf[..len]` is the message so far. Every byte of `buf` is initialised, so a buffer
/// kept for the next message takes its fragments with no zeroing first.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    buf: Vec<u8>,
    len: usize,
}

impl Reassembly {
    /// The message so far.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes of memory held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Start a new message, keeping the buffer.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Give the buffer back.
    pub(crate) fn release(&mut self) {
        *self = Reassembly::default();
    }

    /// Append `data`, unmasked with `key` (when there is one) as the bytes at `offset..`
    /// of a masked payload, in one pass; returns the bytes appended, unmasked. Growth
    /// doubles the buffer but never past `limit` (the largest message allowed) unless the
    /// message itself is longer.
    pub(crate) fn extend_masked(
        &mut self,
        data: &[u8],
        key: Option<[u8; 4]>,
        offset: usize,
        limit: usize,
    ) -> &[u8] {
        let start = self.len;
        let end = start + data.len();
        if end > self.buf.len() {
            self.grow_with(data, key, offset, limit);
        } else {
            copy_unmasked(&mut self.buf[start..end], data, key, offset);
        }
        self.len = end;
        &self.buf[start..end]
    }

    /// Append past the initialised bytes: copy into the growing vector (doubling, so a
    /// message costs amortised linear copying however its fragments are sized; nothing to
    /// zero), then unmask in place while the bytes are in cache.
    #[cold]
    fn grow_with(&mut self, data: &[u8], key: Option<[u8; 4]>, offset: usize, limit: usize) {
        let start = self.len;
        let end = start + data.len();
        self.buf.truncate(start);
        if end > self.buf.capacity() {
            let target = (2 * self.buf.capacity()).min(limit).max(end);
            self.buf.reserve_exact(target - start);
        }
        let dst = self.buf.as_ptr().wrapping_add(start);
        if copy::slow_memcpy(dst, data) {
            // Where `memcpy` is slow (see the `copy` module): zero, then the vector loop.
            self.buf.resize(start + data.len(), 0);
            copy_unmasked(&mut self.buf[start..], data, key, offset);
            return;
        }
        self.buf.extend_from_slice(data);
        if let Some(key) = key {
            mask::apply(&mut self.buf[start..], key, offset);
        }
    }

    #[cfg(feature = "deflate")]
    /// Initialised room after the message so far for up to `max` more bytes (at least one
    /// when `max` is not 0), to be filled and counted with [`commit`](Self::commit): a
    /// full buffer doubles (from 4 KiB), but never past `max` bytes of room, so a caller
    /// that bounds `max` by its budget bounds the buffer.
    pub(crate) fn spare(&mut self, max: usize) -> &mut [u8] {
        if self.buf.len() == self.len {
            let grow = self.len.max(4096).min(max);
            // Exactly: `resize` alone would let the vector round its capacity up to twice
            // what it holds, past the bound the caller set.
            self.buf.reserve_exact(self.len + grow - self.buf.len());
            self.buf.resize(self.len + grow, 0);
        }
        let end = self.buf.len().min(self.len.saturating_add(max));
        &mut self.buf[self.len..end]
    }

    #[cfg(feature = "deflate")]
    /// Count `n` bytes written into [`spare`](Self::spare) room as part of the message;
    /// returns them.
    pub(crate) fn commit(&mut self, n: usize) -> &[u8] {
        let start = self.len;
        self.len += n;
        debug_assert!(self.len <= self.buf.len());
        &self.buf[start..self.len]
    }

    /// The message, as shared bytes (the buffer goes with it, without a copy).
    pub(crate) fn take(&mut self) -> Bytes {
        let mut buf = core::mem::take(&mut self.buf);
        buf.truncate(core::mem::take(&mut self.len));
        Bytes::from(buf)
    }
}

/// Copy `data` into `dst` (equal lengths), unmasked with `key` when there is one, in one
/// pass.
#[inline]
fn copy_unmasked(dst: &mut [u8], data: &[u8], key: Option<[u8; 4]>, offset: usize) {
    match key {
        Some(key) => mask::copy_masked(dst, data, key, offset),
        None => copy::copy(dst, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Growth into existing capacity where `memcpy` would be slow (the source 32 bytes
    /// before the destination, modulo 4 KiB) takes the vector copy, and appends exactly.
    #[test]
    fn growth_in_the_slow_memcpy_window_appends_exactly() {
        let key = [9, 8, 7, 6];
        let mut r = Reassembly::default();
        r.extend_masked(&[1; 3000], None, 0, usize::MAX);
        r.extend_masked(&[2; 100], None, 0, usize::MAX);
        assert_eq!((r.buf.len(), r.buf.capacity()), (3100, 6000));
        r.clear();
        r.extend_masked(&[3; 3050], None, 0, usize::MAX);
        let dst = r.buf.as_ptr() as usize + 3050;
        let pool: Vec<u8> = (0..16_384u32).map(|i| (i % 253) as u8).collect();
        let at = dst.wrapping_sub(32).wrapping_sub(pool.as_ptr() as usize) % 4096;
        let data = &pool[at..at + 2500];
        assert_eq!(copy::slow_memcpy(dst as *const u8, data), copy::WORKAROUND);
        let added = r.extend_masked(data, Some(key), 1, usize::MAX).to_vec();
        assert_eq!(
            r.buf.capacity(),
            6000,
            "no reallocation: the window case ran"
        );
        let mut want = data.to_vec();
        mask::apply(&mut want, key, 1);
        assert_eq!(added, want);
        assert_eq!(&r.as_slice()[..3050], &[3; 3050][..]);
        assert_eq!(&r.as_slice()[3050..], &want[..]);
    }

    #[test]
    fn appends_unmasked_across_growth_and_reuse() {
        let key = [0x11, 0x22, 0x33, 0x44];
        let plain: Vec<u8> = (0..10_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let mut masked = plain.clone();
        mask::apply(&mut masked, key, 0);
        let mut r = Reassembly::default();
        for round in 0..3 {
            r.clear();
            let mut at = 0;
            for step in [1, 7, 100, 3000, 5, 6887] {
                let added = r.extend_masked(&masked[at..at + step], Some(key), at, 12_000);
                assert_eq!(added, &plain[at..at + step]);
                at += step;
            }
            assert_eq!(r.as_slice(), &plain[..], "round {round}");
        }
        assert!(r.capacity() <= 12_000, "doubling stops at the limit");
        let before = r.capacity();
        r.clear();
        r.extend_masked(b"abc", None, 0, 12_000);
        assert_eq!(r.capacity(), before, "kept for the next message");
        assert_eq!(&r.take()[..], b"abc");
        assert_eq!((r.capacity(), r.as_slice().len()), (0, 0));
    }
}
