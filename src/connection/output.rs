//! The output queue: encoded frames waiting for the caller to write them.
//!
//! Frames are written into one byte buffer, `buf`, whose bytes are all initialised: once it
//! has grown, later frames are copied (or copied and masked) straight into it, with no
//! zeroing first. Large unmasked payloads are queued by reference instead (`Bytes`), between
//! the buffer's bytes before and after them.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use bytes::{Buf, Bytes};

use crate::frame::FrameHeader;
use crate::frame::header::write_header;
use crate::frame::write_frame;

/// Payloads at least this large are queued by reference instead of copied, when they
/// need no masking.
const SHARE_THRESHOLD: usize = 4096;

/// A stretch of pending output, in order.
#[derive(Debug)]
enum Piece {
    /// The buffer's bytes from where the previous piece ended up to this offset.
    Own(usize),
    /// A payload queued by reference.
    Shared(Bytes),
}

/// Encoded frames waiting to be written: `buf[head..end]`, interleaved with the shared
/// payloads in `pieces`. What follows the last piece, up to `end`, is pending too.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pieces: VecDeque<Piece>,
    /// Every byte initialised: `buf.len()` is the room, not the pending count.
    buf: Vec<u8>,
    head: usize,
    end: usize,
    /// The bytes of the shared payloads in `pieces` not yet written. The pending count is
    /// `end - head + shared`, computed rather than kept beside `end`: updating both on
    /// every push let the compiler pair them into one 16-byte store and load, which the
    /// CPU could not forward from the separate 8-byte stores of `advance`, and cost about
    /// 2.5 ns per small frame (`perf annotate` of the compare bench's encode rows).
    shared: usize,
    /// How far the buffer grew before [`shrink`](Self::shrink) last released it between
    /// bursts (a `regrow_max` above 0), so that the next burst's first frame allocates that
    /// room at once instead of growing to it again; 0 otherwise.
    regrow: usize,
}

impl Output {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end - self.head + self.shared
    }

    /// `n` bytes of room at the end of the pending bytes, to be filled and then counted
    /// with `commit`.
    #[inline]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.end < n {
            self.make_room(n);
        }
        &mut self.buf[self.end..self.end + n]
    }

    #[inline]
    fn commit(&mut self, n: usize) {
        self.end += n;
    }

    #[cold]
    fn make_room(&mut self, n: usize) {
        let pending = self.end - self.head;
        if self.end == 0 {
            let size = n.max(2 * self.buf.len());
            if self.regrow > size {
                // Released between bursts: the room the last burst grew to, at once (one
                // allocation instead of one per doubling, each copying the bytes before).
                // Only the bytes about to be written are initialised, here and as later
                // frames follow (`resize` below, within the capacity).
                self.buf = Vec::with_capacity(self.regrow);
                self.buf.resize(n, 0);
                return;
            }
            // Nothing to keep: a zeroed allocation, which the allocator may hand out
            // without writing it (fresh pages), instead of growing and zeroing.
            self.buf = vec![0; size];
            return;
        }
        // Move the pending bytes to the front once the written part is at least as large
        // (each byte is moved at most once per byte written before it), or when the
        // buffer would otherwise have to be reallocated: growth then carries only the
        // pending bytes along, so the capacity stays within twice what is pending.
        if self.head >= pending || self.end + n > self.buf.capacity() {
            self.move_to_front();
        }
        // A no-op when the room is there already.
        self.buf.resize(self.buf.len().max(self.end + n), 0);
    }

    /// Move the pending bytes to the start of the buffer.
    fn move_to_front(&mut self) {
        if self.head == 0 {
            return;
        }
        self.buf.copy_within(self.head..self.end, 0);
        for piece in &mut self.pieces {
            if let Piece::Own(offset) = piece {
                *offset -= self.head;
            }
        }
        self.end -= self.head;
        self.head = 0;
    }

    /// Append a frame whose payload is copied (and masked, when the header has a key),
    /// with the frame layer's writer; a small frame into existing room is inlined into the
    /// caller.
    #[inline]
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        // The connection builds headers from checked parts only.
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let total = header.encoded_len() + payload.len();
        let dst = self.room(total);
        write_frame(dst, header, payload);
        self.commit(total);
    }

    /// [`push_frame`](Self::push_frame) when the room is there already, with no call
    /// (no growth); `false`, with nothing queued, when it is not.
    #[inline(always)]
    pub(crate) fn push_frame_into_room(&mut self, header: &FrameHeader, payload: &[u8]) -> bool {
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let total = header.encoded_len() + payload.len();
        let Some(dst) = self.buf.get_mut(self.end..self.end + total) else {
            return false;
        };
        write_frame(dst, header, payload);
        self.commit(total);
        true
    }

    /// Append bytes as they are (a handshake head).
    pub(crate) fn push_raw(&mut self, bytes: &[u8]) {
        self.room(bytes.len()).copy_from_slice(bytes);
        self.commit(bytes.len());
    }

    /// Append an unmasked frame whose payload is shared, not copied, if it is large.
    pub(crate) fn push_shared(&mut self, header: &FrameHeader, payload: Bytes) {
        if header.mask.is_some() || payload.len() < SHARE_THRESHOLD {
            self.push_frame(header, &payload);
            return;
        }
        self.push_by_ref(header, payload);
    }

    /// Append an unmasked frame whose payload is shared, whatever its length: the header
    /// is written into the buffer, the payload queued as it is (a `Bytes` handle, no copy).
    #[inline]
    pub(crate) fn push_by_ref(&mut self, header: &FrameHeader, payload: Bytes) {
        debug_assert!(header.mask.is_none(), "a shared payload must not be masked");
        debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
        let head_len = header.encoded_len();
        write_header(self.room(head_len), header);
        self.commit(head_len);
        self.shared += payload.len();
        self.pieces.push_back(Piece::Own(self.end));
        self.pieces.push_back(Piece::Shared(payload));
    }

    /// The next bytes to write: a prefix of the pending output.
    #[inline]
    pub(crate) fn front(&self) -> &[u8] {
        self.slices().next().unwrap_or(&[])
    }

    /// All pending output as slices, in order.
    #[inline]
    pub(crate) fn slices(&self) -> Slices<'_> {
        Slices {
            pieces: (!self.pieces.is_empty()).then(|| self.pieces.iter()),
            buf: &self.buf[..self.end],
            at: self.head,
        }
    }

    /// When nothing is pending: release the queue of pieces (a message was once sent by
    /// reference) and the buffer if it holds more than `keep` bytes. A released buffer's
    /// extent, up to `regrow_max` bytes, is the room the next first frame allocates at once
    /// (0 forgets it). Returns the bytes given back.
    pub(crate) fn shrink(&mut self, keep: usize, regrow_max: usize) -> usize {
        if self.len() > 0 {
            return 0;
        }
        let mut freed = self.pieces.capacity() * core::mem::size_of::<Piece>();
        self.pieces = VecDeque::new();
        let held = self.buf.capacity();
        // The bytes initialised are how far the pending bytes reached since the buffer was
        // allocated, so a burst smaller than the one before lowers the next allocation.
        if held > keep {
            self.regrow = self.buf.len().min(regrow_max);
            self.buf = Vec::new();
            freed += held;
        } else if regrow_max == 0 {
            self.regrow = 0;
        }
        freed
    }

    /// Drop `n` written bytes from the front; once all is written, keep the buffer for
    /// reuse unless it grew past `retain` bytes.
    #[inline]
    pub(crate) fn advance(&mut self, n: usize, retain: usize) {
        if n >= self.len() {
            // All written (the common case): no need to walk the pieces.
            self.shared = 0;
            self.head = 0;
            self.end = 0;
            if !self.pieces.is_empty() {
                self.pieces.clear();
            }
            if self.buf.capacity() > retain {
                self.buf = Vec::new();
            }
            return;
        }
        self.advance_partly(n);
    }

    fn advance_partly(&mut self, mut n: usize) {
        while n > 0 {
            match self.pieces.front_mut() {
                Some(Piece::Own(offset)) => {
                    let step = n.min(*offset - self.head);
                    self.head += step;
                    n -= step;
                    if self.head == *offset {
                        self.pieces.pop_front();
                    }
                }
                Some(Piece::Shared(payload)) => {
                    let step = n.min(payload.len());
                    payload.advance(step);
                    self.shared -= step;
                    n -= step;
                    if payload.is_empty() {
                        self.pieces.pop_front();
                    }
                }
                None => {
                    self.head += n;
                    n = 0;
                }
            }
        }
    }
}

/// The iterator behind [`Output::slices`]: non-empty slices, in order.
pub(crate) struct Slices<'a> {
    /// The pieces still to go; `None` when there are none, the common case, which is then
    /// one slice of the buffer with no walk over an empty queue.
    pieces: Option<alloc::collections::vec_deque::Iter<'a, Piece>>,
    /// The buffer up to the end of the pending bytes; empty once its tail was returned.
    buf: &'a [u8],
    /// Where the next stretch of the buffer starts.
    at: usize,
}

impl<'a> Iterator for Slices<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(pieces) = &mut self.pieces {
            for piece in pieces {
                let slice: &'a [u8] = match piece {
                    Piece::Own(offset) => {
                        let s = &self.buf[self.at..*offset];
                        self.at = *offset;
                        s
                    }
                    Piece::Shared(payload) => payload,
                };
                if !slice.is_empty() {
                    return Some(slice);
                }
            }
            self.pieces = None;
        }
        // What follows the last piece, once.
        let tail = self.buf.get(self.at..).unwrap_or_default();
        self.buf = &[];
        self.at = 0;
        (!tail.is_empty()).then_some(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    /// Numbers below `bound` from a xorshift generator started at `seed`.
    fn xorshift(mut rng: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % bound as u64) as usize
        }
    }

    fn pending(out: &Output) -> Vec<u8> {
        out.slices().flatten().copied().collect()
    }

    /// Pushes of every kind, written out in uneven steps, against a plain byte queue:
    /// the slices always concatenate to what was pushed and not yet written, the front is
    /// a prefix of them, and the buffer is moved to the front and reused along the way.
    #[test]
    fn matches_a_plain_queue_under_partial_writes() {
        let mut next = xorshift(0x1234_5678_9abc_def0u64);
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let mut out = Output::default();
        let mut model = alloc::collections::VecDeque::new();
        let mut moved = false;
        for step in 0..4000 {
            let len = match next(4) {
                0 => next(10),
                1 => next(200),
                2 => 4096 + next(5000),
                _ => next(70_000).min(data.len()),
            }
            .min(data.len());
            let payload = &data[..len];
            let mask = (next(2) == 0).then_some([1, 2, 3, next(256) as u8]);
            let header = FrameHeader::new(true, OpCode::Binary, mask, len as u64);
            let mut expected = header.encode().unwrap().as_bytes().to_vec();
            let mut body = payload.to_vec();
            if let Some(key) = mask {
                crate::mask::apply(&mut body, key, 0);
            }
            expected.extend_from_slice(&body);
            let head_before_push = out.head;
            match next(3) {
                0 => out.push_frame(&header, payload),
                1 => out.push_shared(&header, Bytes::copy_from_slice(payload)),
                _ => {
                    expected = data[..len.min(300)].to_vec();
                    out.push_raw(&expected);
                }
            }
            model.extend(expected);
            moved |= head_before_push > 0 && out.head == 0;
            assert_eq!(out.len(), model.len(), "step {step}");
            // Write out some, sometimes all, sometimes nothing.
            let n = match next(5) {
                0 => out.len(),
                1 => 0,
                _ => next(out.len() + 1),
            };
            let front = out.front().to_vec();
            assert!(front.len() <= model.len());
            assert!(
                front.iter().eq(model.iter().take(front.len())),
                "step {step}"
            );
            out.advance(n, 1 << 20);
            model.drain(..n);
            assert!(pending(&out).iter().eq(model.iter()), "step {step}");
            if step % 500 == 499 {
                // Drain now and then, so the buffer starts over.
                out.advance(out.len(), 1 << 20);
                model.clear();
                assert_eq!(out.end, 0);
            }
        }
        assert!(moved, "the pending bytes were never moved to the front");
    }

    /// Pending bytes are moved only when the written part is at least as large as they are
    /// (so each byte moves at most once per byte written before it) or when the buffer is
    /// reallocated anyway: not while the room is there within the capacity.
    #[test]
    fn pending_bytes_move_only_when_written_bytes_outnumber_them_or_on_growth() {
        let data = [3u8; 4096];
        let frame = |len: usize| FrameHeader::new(true, OpCode::Binary, None, len as u64);
        let mut out = Output::default();
        out.push_frame(&frame(1000), &data[..1000]); // 1004 bytes, capacity 1004
        out.push_frame(&frame(100), &data[..100]); // 102 more: capacity doubled
        assert_eq!((out.buf.len(), out.buf.capacity()), (1106, 2008));
        out.advance(10, usize::MAX);
        // 1106 + 902 fits the capacity exactly: the room is made in place, nothing moves.
        out.push_frame(&frame(898), &data[..898]);
        assert_eq!((out.head, out.end, out.buf.capacity()), (10, 2008, 2008));
        // 22 bytes more do not fit: the 1998 pending bytes move to the front first.
        out.push_frame(&frame(20), &data[..20]);
        assert_eq!((out.head, out.end), (0, 1998 + 22));
        // Written bytes at least as many as pending ones: moved, with no growth.
        out.advance(1100, usize::MAX);
        let capacity = out.buf.capacity();
        out.push_frame(&frame(800), &data[..800]);
        assert_eq!((out.head, out.end), (0, 920 + 804));
        assert_eq!(out.buf.capacity(), capacity);
    }

    /// SECURITY.md: buffers hold at most twice their contents while growing. The output's
    /// contents are the bytes pending since it was last empty; written bytes must not be
    /// carried into a larger allocation (fuzzing found 2.67 times: three 26,348-byte
    /// frames, 35,843 bytes written, two more frames).
    #[test]
    fn capacity_stays_within_twice_the_most_bytes_pending() {
        let frame = |len: usize| {
            (
                FrameHeader::new(true, OpCode::Binary, None, len as u64),
                len,
            )
        };
        let data = [7u8; 40_000];
        let mut out = Output::default();
        let (big, n) = frame(26_344); // 26,348 bytes with its header
        for _ in 0..3 {
            out.push_frame(&big, &data[..n]);
        }
        out.advance(35_843, 0);
        out.push_frame(&big, &data[..n]);
        let (small, n) = frame(330);
        out.push_frame(&small, &data[..n]);
        assert_eq!(out.len(), 79_044 - 35_843 + 26_348 + 334);
        assert!(out.buf.capacity() <= 2 * 79_044, "{}", out.buf.capacity());

        // And for any interleaving of pushes and partial writes.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let mut out = Output::default();
        let mut peak = 0;
        for step in 0..5000 {
            let (header, n) = frame(next(30_000));
            out.push_frame(&header, &data[..n]);
            peak = peak.max(out.len());
            assert!(
                out.buf.capacity() <= 2 * peak,
                "step {step}: capacity {} for at most {peak} pending",
                out.buf.capacity()
            );
            let written = match next(4) {
                0 => out.len(),
                _ => next(out.len() + 1),
            };
            // A drained buffer is released (retain 0), so the bound starts over.
            out.advance(written, 0);
            if out.len() == 0 {
                peak = 0;
            }
        }
    }

    /// `shrink(keep)` keeps a buffer of exactly `keep` bytes and releases one byte more,
    /// and only once nothing is pending.
    #[test]
    fn shrink_keeps_up_to_keep_bytes_when_idle() {
        let frame = FrameHeader::new(true, OpCode::Binary, None, 508); // 512 on the wire
        let mut out = Output::default();
        out.push_frame(&frame, &[1; 508]);
        assert_eq!(out.buf.capacity(), 512);
        assert_eq!(
            out.shrink(0, 0),
            0,
            "nothing is released while output is pending"
        );
        out.advance(512, usize::MAX);
        assert_eq!(out.shrink(512, 0), 0);
        assert_eq!(out.buf.capacity(), 512, "kept: not above keep");
        assert_eq!(out.shrink(511, 0), 512);
        assert_eq!(out.buf.capacity(), 0, "released: above keep");

        // A kept buffer too small for the next frame is replaced by one twice its size.
        out.push_frame(&frame, &[1; 508]);
        out.advance(512, usize::MAX);
        let larger = FrameHeader::new(true, OpCode::Binary, None, 596); // 600 on the wire
        out.push_frame(&larger, &[2; 596]);
        assert_eq!(out.buf.capacity(), 1024);
    }

    #[test]
    fn a_drained_buffer_is_reused_unless_it_grew_past_retain() {
        let mut out = Output::default();
        let header = FrameHeader::new(true, OpCode::Binary, Some([9, 8, 7, 6]), 3000);
        out.push_frame(&header, &[5; 3000]);
        let ptr = out.buf.as_ptr();
        out.advance(out.len(), 4096);
        out.push_frame(&header, &[6; 3000]);
        assert_eq!(out.buf.as_ptr(), ptr, "reused");
        out.advance(out.len(), 1024);
        assert_eq!(out.buf.capacity(), 0, "released: larger than retain");
        out.push_frame(&header, &[7; 3000]);
        assert_eq!(out.shrink(512, 0), 0, "pending: kept");
        out.advance(out.len(), 1 << 20);
        assert!(out.shrink(512, 0) >= 3006, "idle: released");
        assert_eq!(out.buf.capacity(), 0);
    }

    /// Released between bursts (`regrow_max` > 0), the buffer comes back at the size the
    /// burst reached, in one allocation, with only the written bytes initialised; a smaller
    /// burst lowers it, a shrink with nothing to release keeps it, and `regrow_max` 0 (the
    /// idle `shrink_buffers`) forgets it.
    #[test]
    fn a_buffer_released_between_bursts_comes_back_at_the_size_it_reached() {
        let header = FrameHeader::new(true, OpCode::Binary, None, 1020); // 1024 on the wire
        let burst = |out: &mut Output, frames: usize| {
            let mut buffers = Vec::new();
            for _ in 0..frames {
                out.push_frame(&header, &[4; 1020]);
                let at = (out.buf.as_ptr(), out.buf.capacity());
                if buffers.last() != Some(&at) {
                    buffers.push(at);
                }
            }
            assert!(pending(out).chunks(1024).all(|f| f[4..] == [4; 1020]));
            out.advance(out.len(), usize::MAX);
            buffers.len()
        };
        let mut out = Output::default();
        assert_eq!(burst(&mut out, 16), 5, "1, 2, 4, 8 and 16 KiB");
        assert_eq!(out.shrink(512, 1 << 20), 16 << 10);
        assert_eq!(out.buf.capacity(), 0, "released");
        out.push_frame(&header, &[4; 1020]);
        assert_eq!(
            (out.buf.capacity(), out.buf.len()),
            (16 << 10, 1024),
            "the burst's size at once, only the written bytes initialised"
        );
        assert_eq!(burst(&mut out, 15), 1, "no other allocation for the burst");

        // Capped by `regrow_max`; a smaller burst lowers it.
        out.shrink(512, 10_000);
        burst(&mut out, 2);
        assert_eq!(out.buf.capacity(), 10_000);
        out.shrink(512, 1 << 20);
        burst(&mut out, 1);
        assert_eq!(out.buf.capacity(), 2048, "the 2 KiB the last burst reached");

        // Kept across a shrink with nothing to release (a wake-up with no input)...
        burst(&mut out, 2);
        out.shrink(512, 1 << 20);
        assert_eq!(out.shrink(512, 1 << 20), 0);
        burst(&mut out, 1);
        assert_eq!(out.buf.capacity(), 2048);
        // ...and forgotten by the idle shrink, even one that releases nothing: the next
        // frame (a keep-alive ping) allocates only itself.
        out.shrink(512, 1 << 20);
        assert_eq!(out.shrink(512, 0), 0);
        let ping = FrameHeader::new(true, OpCode::Ping, None, 0);
        out.push_frame(&ping, &[]);
        assert_eq!(out.buf.capacity(), 2);
        out.advance(2, usize::MAX);
        // A released buffer with `regrow_max` 0 is forgotten too.
        burst(&mut out, 4);
        out.shrink(0, 0);
        burst(&mut out, 1);
        assert_eq!(out.buf.capacity(), 1024);
    }
}
