use alloc::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::frame::FrameHeader;
use crate::mask;

/// Payloads at least this large are queued by reference instead of copied, when they
/// need no masking.
const SHARE_THRESHOLD: usize = 4096;

/// Masked payloads at least this large are masked while copied (`mask::copy_masked`).
const FUSED_MASK_MIN: usize = 1024;

/// Write `header` into `buf` with fixed-size stores (reserved by the caller): cheaper for
/// the common small frame than building the header apart and copying it in.
#[inline(always)]
fn put_header(buf: &mut BytesMut, header: &FrameHeader) {
    buf.put_u8((u8::from(header.fin) << 7) | (header.rsv.bits() << 4) | header.opcode as u8);
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    match header.payload_len {
        n @ 0..=125 => buf.put_u8(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            buf.put_u8(mask_bit | 126);
            buf.put_u16(n as u16);
        }
        n => {
            buf.put_u8(mask_bit | 127);
            buf.put_u64(n);
        }
    }
    if let Some(key) = header.mask {
        buf.put_u32(u32::from_be_bytes(key));
    }
}

/// Encoded frames waiting for the caller to write them: small frames are copied into one
/// contiguous tail buffer; large unmasked payloads are queued as shared `Bytes`.
#[derive(Debug, Default)]
pub(crate) struct Output {
    chunks: VecDeque<Bytes>,
    tail: BytesMut,
    len: usize,
    /// The largest capacity the tail had since it was last released.
    peak: usize,
    /// Bytes written out from the front of the tail since it was last released: after
    /// `advance`, `capacity()` no longer counts them, though the allocation still holds them.
    advanced: usize,
}

impl Output {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Append a frame whose payload is copied (and masked, when the header has a key).
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        // The connection builds headers from checked parts only.
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let head_len = header.encoded_len();
        self.tail.reserve(head_len + payload.len());
        put_header(&mut self.tail, header);
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
        self.len += head_len + payload.len();
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
        let written = self.tail.split();
        // The split part still lives in the tail's allocation: count it as held.
        self.advanced += written.len();
        self.chunks.push_back(written.freeze());
        self.chunks.push_back(payload);
    }

    /// The next bytes to write: a prefix of the pending output.
    #[inline]
    pub(crate) fn front(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.tail,
        }
    }

    /// All pending output as slices, in order.
    #[inline]
    pub(crate) fn slices(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .map(|c| &c[..])
            .chain(core::iter::once(&self.tail[..]))
            .filter(|s| !s.is_empty())
    }

    /// An upper estimate of the tail's allocation.
    fn held(&self) -> usize {
        self.peak.max(self.tail.capacity() + self.advanced)
    }

    fn release(&mut self) {
        self.tail = BytesMut::new();
        self.peak = 0;
        self.advanced = 0;
    }

    /// Release the buffer if nothing is pending and it holds more than `keep` bytes.
    pub(crate) fn shrink(&mut self, keep: usize) -> usize {
        let held = self.held();
        if self.len > 0 || held <= keep {
            return 0;
        }
        self.release();
        held
    }

    /// Drop `n` written bytes from the front; once all is written, keep the buffer for
    /// reuse unless it grew past `retain` bytes.
    pub(crate) fn advance(&mut self, mut n: usize, retain: usize) {
        self.peak = self.peak.max(self.tail.capacity());
        n = n.min(self.len);
        self.len -= n;
        if self.len == 0 {
            // All written (the common case): no need to move through the buffers first.
            n = 0;
        }
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
                    self.advanced += n;
                    n = 0;
                }
            }
        }
        if self.len == 0 {
            if !self.chunks.is_empty() {
                self.chunks.clear();
            }
            if self.held() > retain {
                self.release();
            } else {
                self.tail.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{OpCode, Rsv};

    #[test]
    fn put_header_writes_what_encode_writes() {
        for len in [0u64, 1, 125, 126, 65535, 65536, u32::MAX as u64 + 7] {
            for mask in [None, Some([1, 2, 3, 4])] {
                for (fin, opcode) in [
                    (true, OpCode::Text),
                    (false, OpCode::Binary),
                    (true, OpCode::Ping),
                ] {
                    if opcode.is_control() && len > 125 {
                        continue;
                    }
                    let mut header = FrameHeader::new(fin, opcode, mask, len);
                    header.rsv = Rsv::RSV1;
                    let mut buf = BytesMut::new();
                    put_header(&mut buf, &header);
                    assert_eq!(&buf[..], header.encode().unwrap().as_bytes(), "{header:?}");
                    assert_eq!(buf.len(), header.encoded_len());
                }
            }
        }
    }
}
