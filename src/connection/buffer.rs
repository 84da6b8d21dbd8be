//! The input buffer: the bytes received from the transport and the policy that keeps its
//! memory bounded (grow with bytes that arrived, never by a declared length; reuse while
//! busy; release what a large message left behind). What the bytes mean, the frame and
//! message in progress, is `input::Rx`'s; it tells the buffer where the frame in progress
//! ends (`frame_end`, a position in the buffer) when that frame must lie whole in it.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// How far a read may go past the end of a large frame: enough for the next header.
const READ_PAST: usize = 128;

/// Bytes received are `buf[..filled]`; `buf[pos..filled]` is not consumed yet and starts
/// with the current frame. `buf[filled..]` is room already initialised, kept so that lending
/// it for the next read needs no zeroing. Positions handed out (`pos`, `filled`, and the
/// ranges of `slice`) are offsets into `buf`, valid until the next call that takes input in
/// or splits bytes out.
#[derive(Debug, Default)]
pub(crate) struct InputBuffer {
    buf: BytesMut,
    /// The end of the received bytes in `buf`.
    filled: usize,
    /// Bytes at the front of `buf` already consumed (dropped lazily, once per batch).
    pos: usize,
    /// The largest capacity `buf` had since it was last released (`capacity()` alone
    /// cannot tell: after a split it counts only the unused tail).
    peak: usize,
    /// The largest frame (header and payload) this connection received whole since it
    /// was last idle: a frame no larger gets its room reserved in one step, since the peer
    /// already made us hold that much with bytes it actually sent.
    earned: usize,
    /// Bytes after `filled` lent by `lend` and not committed yet: the most `commit` may
    /// count.
    lent: usize,
}

impl InputBuffer {
    /// Where the unconsumed bytes start.
    #[inline]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Where the received bytes end.
    #[inline]
    pub(super) fn filled(&self) -> usize {
        self.filled
    }

    /// The unconsumed bytes, `pos..filled`.
    #[inline]
    pub(super) fn unconsumed(&mut self) -> &mut [u8] {
        &mut self.buf[self.pos..self.filled]
    }

    /// The received bytes at `start..end`.
    #[inline]
    pub(super) fn slice(&self, start: usize, end: usize) -> &[u8] {
        debug_assert!(end <= self.filled);
        &self.buf[start..end]
    }

    /// The received bytes at `start..end`, to unmask in place.
    #[inline]
    pub(super) fn slice_mut(&mut self, start: usize, end: usize) -> &mut [u8] {
        debug_assert!(end <= self.filled);
        &mut self.buf[start..end]
    }

    /// Mark everything before `pos` as consumed.
    #[inline]
    pub(super) fn consume_to(&mut self, pos: usize) {
        debug_assert!(pos <= self.filled);
        self.pos = pos;
    }

    /// A frame of `len` bytes (header and payload) arrived whole.
    #[inline]
    pub(super) fn earn(&mut self, len: usize) {
        self.earned = self.earned.max(len);
    }

    /// Split `start..end` out as shared bytes; `end` must be the consumed position.
    #[inline]
    pub(super) fn take(&mut self, start: usize, end: usize) -> Bytes {
        debug_assert_eq!(end, self.pos);
        let mut bytes = self.buf.split_to(end).freeze();
        bytes.advance(start);
        self.pos = 0;
        self.filled -= end;
        bytes
    }

    /// The first `len` unconsumed bytes (all of them if fewer): a handshake head.
    pub(super) fn head(&self, len: usize) -> &[u8] {
        let input = &self.buf[self.pos..self.filled];
        &input[..len.min(input.len())]
    }

    /// Consume a handshake head of `len` bytes.
    pub(super) fn consume_head(&mut self, len: usize) {
        self.pos += len;
    }

    /// Consume a handshake head of `len` bytes and hand it out, shared, without a copy.
    pub(super) fn split_head(&mut self, len: usize) -> Bytes {
        let start = self.pos;
        self.pos += len;
        self.take(start, self.pos)
    }

    /// Give the memory back: nothing received is kept (what the peer earned is: see
    /// `shrink` for forgetting it).
    pub(super) fn release(&mut self) {
        self.buf = BytesMut::new();
        self.filled = 0;
        self.pos = 0;
        self.peak = 0;
    }

    /// Release the buffer if it is drained and holds more than `keep` bytes, and forget
    /// what the peer earned; returns the capacity freed.
    pub(super) fn shrink(&mut self, keep: usize, frame_in_progress: bool) -> usize {
        self.lent = 0;
        self.earned = 0;
        if frame_in_progress || self.pos != self.filled || self.peak <= keep {
            return 0;
        }
        let freed = self.peak;
        self.release();
        freed
    }

    /// Forget room lent by `lend` that was never committed (it stays initialised room,
    /// beyond `filled`).
    #[inline]
    pub(super) fn unlend(&mut self) {
        self.lent = 0;
    }

    /// Count `n` of the lent bytes as received (`false` drops them: input is closed).
    ///
    /// # Panics
    /// If `n` is more than was lent.
    pub(super) fn commit(&mut self, n: usize, keep: bool) {
        let lent = core::mem::take(&mut self.lent);
        assert!(n <= lent, "commit_received({n}) after lending {lent} bytes");
        if keep {
            self.filled += n;
        }
    }

    /// Start over at the front when everything received was consumed.
    #[inline]
    pub(super) fn rewind_if_drained(&mut self) {
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
    }

    /// Make room for `n` more bytes after `filled`: reuse the consumed front when the
    /// buffer is drained or the room at the end is short, grow otherwise. An incomplete
    /// frame grows the buffer to hold it whole, by at most the bytes already in it plus `n`
    /// at a time, so capacity stays within twice what actually arrived plus one read,
    /// whatever length the frame declares; or in one step, to a frame no larger than one
    /// the peer already sent whole (`earned`).
    fn make_room(&mut self, n: usize, frame_end: Option<usize>) {
        // The frame counts from `pos`, which moves below.
        let frame_len = frame_end.map(|end| end - self.pos);
        // Before a split or a move hides the front from `capacity()`.
        self.peak = self.peak.max(self.buf.capacity());
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
        // Where the frame in progress ends, if it is known to end past the capacity: then
        // its bytes are moved to the front now, while few of them are in.
        let fits = frame_len.is_none_or(|len| self.pos + len <= self.buf.capacity());
        if self.buf.capacity() - self.filled >= n && (fits || self.pos == 0) {
            return;
        }
        if self.pos > 0 {
            // Move the unconsumed bytes to the front.
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
            if self.buf.capacity() - self.filled >= n {
                return;
            }
        }
        let ahead = match frame_len.map(|len| self.pos + len) {
            Some(end) => {
                // With room for a read that goes on a little past the frame.
                let missing = end.saturating_sub(self.filled) + READ_PAST;
                if end - self.pos <= self.earned {
                    missing
                } else {
                    missing.min(self.filled + n)
                }
            }
            None => 0,
        };
        // Nothing past `filled` is worth keeping through a reallocation.
        self.buf.truncate(self.filled);
        self.buf.reserve(n.max(ahead));
        self.peak = self.peak.max(self.buf.capacity());
    }

    /// Append `data` after `filled`.
    pub(super) fn append(&mut self, data: &[u8], frame_end: Option<usize>) {
        self.make_room(data.len(), frame_end);
        let end = self.filled + data.len();
        if end <= self.buf.len() {
            crate::copy::copy(&mut self.buf[self.filled..end], data);
        } else {
            self.buf.truncate(self.filled);
            crate::copy::extend_bytes_mut(&mut self.buf, data);
        }
        self.filled = end;
    }

    /// How much to read next: `want`, except while a frame of at least `want / 2` bytes is
    /// incomplete, when the read stops [`READ_PAST`] bytes after that frame ends. Its
    /// payload then lies whole in the buffer, at most that little of what follows has to be
    /// moved, and the next header is likely in: if it starts another large frame, the
    /// buffer is kept for it (see `settle`).
    pub(super) fn read_size(&self, want: usize, frame_end: Option<usize>) -> usize {
        let Some(end) = frame_end else {
            return want;
        };
        let missing = end.saturating_sub(self.filled);
        if missing > 0 && end - self.pos >= want / 2 {
            (missing + READ_PAST).min(want)
        } else {
            want
        }
    }

    /// Lend `n` bytes of room after `filled`, zeroing only what was never initialised.
    pub(super) fn lend(&mut self, n: usize, frame_end: Option<usize>) -> &mut [u8] {
        self.make_room(n, frame_end);
        let end = self.filled + n;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.lent = n;
        &mut self.buf[self.filled..end]
    }

    /// Lend `n` bytes of room after `filled` to `read` as a [`BufMut`] to append to, not
    /// zeroed: the reader writes the bytes itself (an uninitialised read). Returns what
    /// `read` returned and how many bytes it appended, which `commit` may then count.
    pub(super) fn lend_spare<R>(
        &mut self,
        n: usize,
        frame_end: Option<usize>,
        read: impl FnOnce(&mut dyn BufMut) -> R,
    ) -> (R, usize) {
        self.make_room(n, frame_end);
        // Appends go at `len`: the initialised room after `filled` is given up (a later
        // `lend` zeroes it again). `make_room` left `n` bytes of capacity past `filled`, so
        // appends within the limit never reallocate.
        self.buf.truncate(self.filled);
        let out = read(&mut (&mut self.buf).limit(n));
        let appended = self.buf.len() - self.filled;
        self.lent = appended;
        (out, appended)
    }

    /// After all events the input allowed: release memory a large message left behind,
    /// unless the next frame, already started, is large too.
    /// `frame_end` is where the frame in progress ends, if it must lie whole in the buffer.
    pub(super) fn settle(&mut self, reuse: usize, retained: usize, frame_end: Option<usize>) {
        let rest = self.filled - self.pos;
        let large_next = frame_end.is_some_and(|end| end - self.pos > reuse);
        if large_next {
            // Keep it: the frame will need about as much.
        } else if self.peak > reuse && rest == 0 {
            self.release();
        } else if self.peak > reuse && rest <= reuse / 4 {
            // A large read that ended inside the next frame: keep those bytes, not the read's
            // buffer (the frame state counts from `pos`, so moving them is safe). Linear: the
            // new buffer holds at most half the reuse capacity, so it must take in at least a
            // quarter of it (at least `rest` new bytes) before it can grow past it again.
            let mut kept = BytesMut::with_capacity((2 * rest).max(retained));
            kept.extend_from_slice(&self.buf[self.pos..self.filled]);
            self.buf = kept;
            self.filled = rest;
            self.pos = 0;
            self.peak = self.buf.capacity();
        }
    }
}
