//! The input buffer: bytes from the transport, either copied in ([`Connection::receive`])
//! or read straight into the buffer ([`Connection::receive_buffer`] and
//! [`Connection::commit_received`]), and the policy that keeps its memory bounded.

use bytes::{Buf, Bytes, BytesMut};

use super::reassembly::Reassembly;
use super::{Connection, DataKind};
use crate::frame::{DecoderConfig, FrameHeader};
use crate::utf8::Utf8Validator;

/// The most room `receive_buffer` lends at once, whatever it is asked for.
pub const MAX_ROOM: usize = 16 << 20;

/// How far a read may go past the end of a large frame: enough for the next header.
const READ_PAST: usize = 128;

/// Receive-side state.
#[derive(Debug)]
pub(crate) struct Rx {
    /// Bytes received are `buf[..filled]`; `buf[pos..filled]` is not consumed yet and
    /// starts with the current frame. `buf[filled..]` is room already initialised, kept so
    /// that lending it for the next read needs no zeroing.
    pub(super) buf: BytesMut,
    /// The end of the received bytes in `buf`.
    pub(super) filled: usize,
    /// Bytes at the front of `buf` already consumed (dropped lazily, once per batch).
    pub(super) pos: usize,
    pub(super) decoder: DecoderConfig,
    /// The frame whose header is parsed and whose payload is arriving.
    pub(super) frame: Option<RxFrame>,
    /// The data message in progress (fragmented, or any message in stream mode).
    pub(super) message: Option<RxMessage>,
    /// The reassembled payload of a fragmented message.
    pub(super) assembled: Reassembly,
    pub(super) utf8: Utf8Validator,
    /// The transport ended.
    pub(crate) eof: bool,
    /// The end was reported as an event.
    pub(super) eof_reported: bool,
    /// The largest capacity `buf` had since it was last released (`capacity()` alone
    /// cannot tell: after a split it counts only the unused tail).
    pub(super) peak: usize,
    /// The largest frame (header and payload) this connection received whole since it
    /// was last idle: a frame no larger gets its room reserved in one step, since the peer
    /// already made us hold that much with bytes it actually sent.
    pub(super) earned: usize,
    /// Stream mode: no frame's payload has to lie whole in `buf`.
    stream: bool,
    /// Bytes after `filled` lent by `receive_buffer` and not committed yet: the most
    /// `commit_received` may count.
    lent: usize,
}

#[derive(Debug)]
pub(super) struct RxFrame {
    pub(super) header: FrameHeader,
    /// Header bytes still at `buf[pos..]` (0 once a piece was streamed out).
    pub(super) header_len: usize,
    /// Payload bytes still to come out of `buf`, counted from the last piece taken.
    pub(super) remaining: usize,
    /// Payload bytes after the header that are already unmasked and validated.
    pub(super) ready: usize,
    /// Payload bytes already taken out as stream chunks: the mask phase base.
    pub(super) taken: usize,
    /// The payload is text (a text frame or a continuation of a text message).
    pub(super) text: bool,
    /// A single-frame text message whose payload is validated in one pass once whole.
    pub(super) whole_text: bool,
}

#[derive(Debug)]
pub(super) struct RxMessage {
    pub(super) kind: DataKind,
    /// Bytes of this message so far, including the current frame's declared length:
    /// checked against the limit when each header arrives.
    pub(super) size: u64,
    /// A chunk of this message was already delivered (stream mode).
    pub(super) started: bool,
}

impl Rx {
    pub(crate) fn new(decoder: DecoderConfig, stream: bool) -> Self {
        Rx {
            buf: BytesMut::new(),
            filled: 0,
            pos: 0,
            decoder,
            frame: None,
            message: None,
            assembled: Reassembly::default(),
            utf8: Utf8Validator::new(),
            eof: false,
            eof_reported: false,
            peak: 0,
            earned: 0,
            stream,
            lent: 0,
        }
    }

    /// Split `buf[start..end]` out as shared bytes; `end` must be the consumed position.
    pub(super) fn take(&mut self, start: usize, end: usize) -> Bytes {
        debug_assert_eq!(end, self.pos);
        let mut bytes = self.buf.split_to(end).freeze();
        bytes.advance(start);
        self.pos = 0;
        self.filled -= end;
        bytes
    }

    /// Release drained buffers holding more than `keep` bytes; returns the capacity freed.
    pub(crate) fn shrink(&mut self, keep: usize) -> usize {
        self.unlend();
        self.earned = 0;
        let mut freed = 0;
        if self.frame.is_none() && self.pos == self.filled && self.peak > keep {
            freed += self.peak;
            self.release();
        }
        if self.message.is_none() && self.assembled.capacity() > keep {
            freed += self.assembled.capacity();
            self.assembled.release();
        }
        freed
    }

    /// The bytes at `start..end` of the buffer (positions `locate` reported).
    pub(super) fn slice(&self, start: usize, end: usize) -> &[u8] {
        debug_assert!(end <= self.filled);
        &self.buf[start..end]
    }

    /// The first `len` unconsumed bytes (all of them if fewer): a handshake head.
    pub(crate) fn head(&self, len: usize) -> &[u8] {
        let input = &self.buf[self.pos..self.filled];
        &input[..len.min(input.len())]
    }

    /// Consume a handshake head of `len` bytes.
    pub(crate) fn consume_head(&mut self, len: usize) {
        self.pos += len;
    }

    pub(super) fn release(&mut self) {
        self.buf = BytesMut::new();
        self.filled = 0;
        self.pos = 0;
        self.peak = 0;
    }

    /// Drop all input.
    pub(super) fn discard(&mut self) {
        self.buf = BytesMut::new();
        self.filled = 0;
        self.pos = 0;
        self.peak = 0;
        self.frame = None;
        self.message = None;
    }
}

impl Rx {
    /// Where the frame in progress ends in `buf`, if its payload has to lie there whole
    /// before it is handed out: a single-frame message (not in stream mode) or a control
    /// frame. Fragments of a message being reassembled are copied out as they arrive, and
    /// stream mode hands out pieces, so neither needs room for its whole frame.
    fn whole_frame_end(&self) -> Option<usize> {
        let frame = self.frame.as_ref()?;
        let piecewise = self.stream || (frame.header.opcode.is_data() && self.message.is_some());
        (!piecewise).then(|| self.pos + frame.header_len + frame.remaining)
    }

    /// Forget room lent by `receive_buffer` that was never committed (it stays
    /// initialised room, beyond `filled`).
    pub(super) fn unlend(&mut self) {
        self.lent = 0;
    }

    /// Make room for `n` more bytes after `filled`: reuse the consumed front when the
    /// buffer is drained or the room at the end is short, grow otherwise. An incomplete
    /// frame grows the buffer to hold it whole, by at most the bytes already in it plus `n`
    /// at a time, so capacity stays within twice what actually arrived plus one read,
    /// whatever length the frame declares; or in one step, to a frame no larger than one
    /// the peer already sent whole (`earned`).
    fn make_room(&mut self, n: usize) {
        // Before a split or a move hides the front from `capacity()`.
        self.peak = self.peak.max(self.buf.capacity());
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
        // Where the frame in progress ends, if it is known to end past the capacity: then
        // its bytes are moved to the front now, while few of them are in.
        let fits = self
            .whole_frame_end()
            .is_none_or(|end| end <= self.buf.capacity());
        if self.buf.capacity() - self.filled >= n && (fits || self.pos == 0) {
            return;
        }
        if self.pos > 0 {
            // Move the unconsumed bytes to the front (the frame state counts from `pos`).
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
            if self.buf.capacity() - self.filled >= n {
                return;
            }
        }
        let ahead = match self.whole_frame_end() {
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
    fn append(&mut self, data: &[u8]) {
        self.make_room(data.len());
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
    fn read_size(&self, want: usize) -> usize {
        let Some(end) = self.whole_frame_end() else {
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
    fn lend(&mut self, n: usize) -> &mut [u8] {
        self.make_room(n);
        let end = self.filled + n;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.lent = n;
        &mut self.buf[self.filled..end]
    }

    /// After all events the input allowed: release memory a large message left behind,
    /// unless the next frame, already started, is large too.
    pub(super) fn settle(&mut self, reuse: usize, retained: usize) {
        let rest = self.filled - self.pos;
        let large_next = self
            .whole_frame_end()
            .is_some_and(|end| end - self.pos > reuse);
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
        if self.message.is_none() && self.assembled.capacity() > reuse {
            self.assembled.release();
        }
    }
}

impl Connection {
    /// Feed bytes read from the transport, in any split. Bytes that arrive after the
    /// peer's close frame, or after the connection failed, are discarded.
    ///
    /// To save the copy from your read buffer into the connection's, read into
    /// [`receive_buffer`](Self::receive_buffer) instead.
    pub fn receive(&mut self, data: &[u8]) {
        self.bytes_received = self.bytes_received.wrapping_add(data.len() as u64);
        if self.close_received || self.failed || self.rx.eof {
            return;
        }
        self.rx.unlend();
        self.rx.append(data);
    }

    /// Room in the connection's own input buffer for the next read from the transport:
    /// read into it, then report how many bytes arrived with
    /// [`commit_received`](Self::commit_received). This saves the copy that
    /// [`receive`](Self::receive) makes.
    ///
    /// `want` is the read size you would otherwise use (64 KiB suits most servers; at most
    /// [`MAX_ROOM`], 16 MiB, is lent at once). The slice is that long,
    /// except while a frame of at least `want / 2` bytes is incomplete:
    /// then it ends where that frame ends, so large payloads arrive whole at the front of
    /// the buffer and nothing after them has to be moved. The buffer grows with bytes that
    /// actually arrive, never by a length the peer declares. The room holds whatever it
    /// held before (earlier input of this connection, or zeroes where the buffer just
    /// grew); only the first `n` bytes you commit count. A drained buffer is kept
    /// for the next read while it is at most [`Config::reuse_capacity`](super::Config::reuse_capacity);
    /// with many idle connections, lend smaller reads or call
    /// [`shrink_buffers`](Self::shrink_buffers) when one goes idle.
    ///
    /// ```
    /// use std::io::Read;
    /// use rfc6455::Role;
    /// use rfc6455::connection::{Config, Connection, EventRef};
    ///
    /// let mut socket: &[u8] = &[0x82, 0x03, 1, 2, 3]; // stands in for a TcpStream
    /// let mut conn = Connection::new(Role::Client, Config::default(), [7; 32]);
    /// let n = socket.read(conn.receive_buffer(64 << 10)).unwrap();
    /// conn.commit_received(n);
    /// assert_eq!(conn.poll_event_ref().unwrap(), Some(EventRef::Binary(&[1, 2, 3])));
    /// ```
    pub fn receive_buffer(&mut self, want: usize) -> &mut [u8] {
        let rx = &mut self.rx;
        rx.unlend();
        if rx.pos == rx.filled {
            rx.pos = 0;
            rx.filled = 0;
        }
        let room = rx.read_size(want.clamp(1, MAX_ROOM));
        rx.lend(room)
    }

    /// Count the first `n` bytes of the slice [`receive_buffer`](Self::receive_buffer)
    /// returned as received. Like [`receive`](Self::receive), bytes after the peer's close
    /// frame or after a failure are discarded.
    ///
    /// # Panics
    /// If `n` is more than that slice held, or if no slice is lent: none since the last
    /// commit, or a call that takes input in (`receive`, a poll, `shrink_buffers`) came
    /// in between and took the room back.
    pub fn commit_received(&mut self, n: usize) {
        let rx = &mut self.rx;
        let lent = core::mem::take(&mut rx.lent);
        assert!(n <= lent, "commit_received({n}) after lending {lent} bytes");
        self.bytes_received = self.bytes_received.wrapping_add(n as u64);
        if !(self.close_received || self.failed || rx.eof) {
            rx.filled += n;
        }
    }

    /// Report that the transport ended (the peer closed its side, or a read failed).
    /// If the close handshake had not finished, [`poll_event`](Self::poll_event) then
    /// reports [`Event::Closed`](super::Event::Closed) with
    /// [`CloseCode::ABNORMAL`](crate::close::CloseCode::ABNORMAL) (1006).
    pub fn receive_eof(&mut self) {
        self.rx.eof = true;
    }
}
