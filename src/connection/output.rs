use alloc::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use crate::frame::FrameHeader;
use crate::mask;

/// Payloads at least this large are queued by reference instead of copied, when they
/// need no masking.
const SHARE_THRESHOLD: usize = 4096;

/// Masked payloads at least this large are masked while copied (`mask::copy_masked`).
const FUSED_MASK_MIN: usize = 1024;

/// Encoded frames waiting for the caller to write them: small frames are copied into one
/// contiguous tail buffer; large unmasked payloads are queued as shared `Bytes`.
#[derive(Debug, Default)]
pub(crate) struct Output {
    chunks: VecDeque<Bytes>,
    tail: BytesMut,
    len: usize,
    /// The largest capacity the tail had since it was last released.
    peak: usize,
}

impl Output {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Append a frame whose payload is copied (and masked, when the header has a key).
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        // The connection builds headers from checked parts only.
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let head = header.encode_unchecked();
        self.tail.reserve(head.len() + payload.len());
        self.tail.extend_from_slice(&head);
        let start = self.tail.len();
        match header.mask {
            // Large client payloads: mask while copying, one pass over the source.
            Some(key) if payload.len() >= FUSED_MASK_MIN => {
                self.tail.resize(start + payload.len(), 0);
                mask::copy_masked(&mut self.tail[start..], payload, key, 0);
            }
            Some(key) => {
                self.tail.extend_from_slice(payload);
                mask::apply(&mut self.tail[start..], key, 0);
            }
            None => super::copy::extend(&mut self.tail, payload),
        }
        self.len += head.len() + payload.len();
    }

    /// Append bytes as they are (a handshake head).
    pub(crate) fn push_raw(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Append an unmasked frame whose payload is shared, not copied, if it is large.
    pub(crate) fn push_shared(&mut self, header: &FrameHeader, payload: Bytes) {
        if header.mask.is_some() || payload.len() < SHARE_THRESHOLD {
            self.push_frame(header, &payload);
            return;
        }
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let head = header.encode_unchecked();
        self.tail.extend_from_slice(&head);
        self.len += head.len() + payload.len();
        self.chunks.push_back(self.tail.split().freeze());
        self.chunks.push_back(payload);
    }

    /// The next bytes to write: a prefix of the pending output.
    pub(crate) fn front(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.tail,
        }
    }

    /// All pending output as slices, in order.
    pub(crate) fn slices(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .map(|c| &c[..])
            .chain(core::iter::once(&self.tail[..]))
            .filter(|s| !s.is_empty())
    }

    /// Release the buffer if nothing is pending and it holds more than `keep` bytes.
    pub(crate) fn shrink(&mut self, keep: usize) -> usize {
        if self.len > 0 || self.peak.max(self.tail.capacity()) <= keep {
            return 0;
        }
        let freed = self.peak.max(self.tail.capacity());
        self.tail = BytesMut::new();
        self.peak = 0;
        freed
    }

    /// Drop `n` written bytes from the front; once all is written, keep the buffer for
    /// reuse unless it grew past `retain` bytes.
    pub(crate) fn advance(&mut self, mut n: usize, retain: usize) {
        self.peak = self.peak.max(self.tail.capacity());
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            match self.chunks.front_mut() {
                Some(chunk) => {
                    let step = n.min(chunk.len());
                    chunk.advance(step);
                    n -= step;
                    if chunk.is_empty() {
                        self.chunks.pop_front();
                    }
                }
                None => {
                    self.tail.advance(n);
                    n = 0;
                }
            }
        }
        if self.len == 0 {
            self.chunks.clear();
            if self.peak > retain {
                self.tail = BytesMut::new();
                self.peak = 0;
            } else {
                self.tail.clear();
            }
        }
    }
}
