//! The receive side's state: the input buffer (`buffer.rs`) and the frame cursor on it —
//! the frame whose header was parsed, the message in progress, its reassembly and UTF-8
//! state — and the calls that take bytes in: [`Connection::receive`], or reading straight
//! into the buffer with [`Connection::receive_buffer`] and [`Connection::commit_received`]
//! or with [`Connection::receive_with`].

use super::buffer::InputBuffer;
use super::reassembly::Reassembly;
use super::{Connection, DataKind};
use crate::frame::FrameHeader;
use crate::utf8::Utf8Validator;

/// The longest slice [`Connection::receive_buffer`] lends for one read, whatever it is
/// asked for (16 MiB).
pub const MAX_READ_LEN: usize = 16 << 20;

/// Receive-side state.
#[derive(Debug)]
pub(crate) struct Rx {
    /// The bytes received and not yet handed out.
    pub(super) input: InputBuffer,
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
    /// Stream mode: no frame's payload has to lie whole in the input buffer.
    stream: bool,
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
    #[cfg(feature = "deflate")]
    /// The message is compressed (permessage-deflate: RSV1 on its first frame); its
    /// payload goes through the inflater.
    pub(super) compressed: bool,
    #[cfg(feature = "deflate")]
    /// Bytes inflated so far, for a compressed message: checked against the limit as
    /// they are produced.
    pub(super) inflated: u64,
}

impl Rx {
    pub(crate) fn new(stream: bool) -> Self {
        Rx {
            input: InputBuffer::default(),
            frame: None,
            message: None,
            assembled: Reassembly::default(),
            utf8: Utf8Validator::new(),
            eof: false,
            eof_reported: false,
            stream,
        }
    }

    /// Where the frame in progress ends in the input buffer, if its payload has to lie
    /// there whole before it is handed out: a single-frame message (not in stream mode) or
    /// a control frame. Fragments of a message being reassembled are copied out as they
    /// arrive, and stream mode hands out pieces, so neither needs room for its whole frame.
    fn whole_frame_end(&self) -> Option<usize> {
        let frame = self.frame.as_ref()?;
        let piecewise = self.stream || (frame.header.opcode.is_data() && self.message.is_some());
        (!piecewise).then(|| self.input.pos() + frame.header_len + frame.remaining)
    }

    /// Release drained buffers holding more than `keep` bytes; returns the capacity freed.
    pub(crate) fn shrink(&mut self, keep: usize) -> usize {
        let mut freed = self.input.shrink(keep, self.frame.is_some());
        if self.message.is_none() && self.assembled.capacity() > keep {
            freed += self.assembled.capacity();
            self.assembled.release();
        }
        freed
    }

    /// Drop all input, and the frame and message it was part of.
    pub(super) fn discard(&mut self) {
        self.input.release();
        self.frame = None;
        self.message = None;
    }

    /// After all events the input allowed: release memory a large message left behind,
    /// unless the next frame, already started, is large too.
    pub(super) fn settle(&mut self, reuse: usize, retained: usize) {
        let end = self.whole_frame_end();
        self.input.settle(reuse, retained, end);
        if self.message.is_none() && self.assembled.capacity() > reuse {
            self.assembled.release();
        }
    }
}

impl Connection {
    /// No more input is taken in: the connection closed (input after the peer's close
    /// frame or after a failure is discarded) or the transport ended.
    fn input_closed(&self) -> bool {
        matches!(self.phase, super::Phase::Closed(_)) || self.rx.eof
    }

    /// Feed bytes read from the transport, in any split. Bytes that arrive after the
    /// peer's close frame, or after the connection failed, are discarded.
    ///
    /// To save the copy from your read buffer into the connection's, read into
    /// [`receive_buffer`](Self::receive_buffer) instead.
    pub fn receive(&mut self, data: &[u8]) {
        self.bytes_received = self.bytes_received.wrapping_add(data.len() as u64);
        if self.input_closed() {
            return;
        }
        self.rx.input.unlend();
        let end = self.rx.whole_frame_end();
        self.rx.input.append(data, end);
    }

    /// Room in the connection's own input buffer for the next read from the transport:
    /// read into it, then report how many bytes arrived with
    /// [`commit_received`](Self::commit_received). This saves the copy that
    /// [`receive`](Self::receive) makes.
    ///
    /// `want` is the read size you would otherwise use (64 KiB suits most servers; at most
    /// [`MAX_READ_LEN`], 16 MiB, is lent at once). The slice is that long,
    /// except while a frame of at least `want / 2` bytes is incomplete:
    /// then it ends where that frame ends, so large payloads arrive whole at the front of
    /// the buffer and nothing after them has to be moved. The buffer grows with bytes that
    /// actually arrive, never by a length the peer declares. The room holds whatever it
    /// held before (earlier input of this connection, or zeroes where the buffer just
    /// grew); only the first `n` bytes you commit count. A drained buffer is kept
    /// for the next read while it is at most [`Config::active_buffer_capacity`](super::Config::active_buffer_capacity);
    /// with many idle connections, lend smaller reads or call
    /// [`shrink_buffers`](Self::shrink_buffers) when one goes idle.
    ///
    /// ```
    /// use std::io::Read;
    /// use rfc6455::connection::{Config, Connection, EventRef};
    ///
    /// let mut socket: &[u8] = &[0x82, 0x03, 1, 2, 3]; // stands in for a TcpStream
    /// let mut conn = Connection::upgraded_client(Config::default(), [7; 32]);
    /// let n = socket.read(conn.receive_buffer(64 << 10)).unwrap();
    /// conn.commit_received(n);
    /// assert_eq!(conn.poll_event_ref().unwrap(), Some(EventRef::Binary(&[1, 2, 3])));
    /// ```
    pub fn receive_buffer(&mut self, want: usize) -> &mut [u8] {
        let (room, end) = self.next_read(want);
        self.rx.input.lend(room, end)
    }

    /// Read from the transport straight into the connection's input buffer, into room that
    /// is not zeroed first: `read` gets the room as a [`BufMut`](bytes::BufMut) to append
    /// to, and every byte it appends counts as received (as with
    /// [`commit_received`](Self::commit_received)). Returns what `read` returns.
    ///
    /// The room is sized as for [`receive_buffer`](Self::receive_buffer): `want`, or up to
    /// where a large incomplete frame ends, and appending past it panics. It saves the
    /// zeroing that `receive_buffer`'s initialised slice needs where the buffer is new
    /// memory, as it is after every message handed out without a copy; readers that take
    /// uninitialised memory fill it directly (tokio's `AsyncReadExt::read_buf`, which the
    /// `rfc6455-tokio` driver uses, or `tokio_util::io::poll_read_buf`). Call
    /// `chunk_mut` only while `remaining_mut` is not 0: on a full buffer `BytesMut`
    /// reserves more.
    ///
    /// ```
    /// use rfc6455::bytes::BufMut;
    /// use rfc6455::connection::{Config, Connection, EventRef};
    ///
    /// let mut conn = Connection::upgraded_client(Config::default(), [7; 32]);
    /// // A transport's read would append to `room`; this one appends a frame itself.
    /// let n = conn.receive_with(64 << 10, |room| {
    ///     room.put_slice(&[0x82, 0x03, 1, 2, 3]);
    ///     5
    /// });
    /// assert_eq!(n, 5);
    /// assert_eq!(conn.poll_event_ref().unwrap(), Some(EventRef::Binary(&[1, 2, 3])));
    /// ```
    pub fn receive_with<R>(
        &mut self,
        want: usize,
        read: impl FnOnce(&mut dyn bytes::BufMut) -> R,
    ) -> R {
        let (room, end) = self.next_read(want);
        let (out, n) = self.rx.input.lend_spare(room, end, read);
        self.commit_received(n);
        out
    }

    /// The size of the next read into the input buffer and where the frame in progress
    /// ends if it must lie whole in the buffer; takes back room lent earlier.
    fn next_read(&mut self, want: usize) -> (usize, Option<usize>) {
        let rx = &mut self.rx;
        rx.input.unlend();
        rx.input.rewind_if_drained();
        let end = rx.whole_frame_end();
        (rx.input.read_size(want.clamp(1, MAX_READ_LEN), end), end)
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
        let keep = !self.input_closed();
        self.rx.input.commit(n, keep);
        self.bytes_received = self.bytes_received.wrapping_add(n as u64);
    }

    /// The bytes received that no event has consumed yet: a frame still arriving, or
    /// frames behind the last event (poll again before you read more: they may be whole).
    /// Input after the peer's close or a failure is dropped, so this is 0 then.
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection};
    ///
    /// let mut conn = Connection::upgraded_client(Config::default(), [7; 32]);
    /// conn.receive(&[0x82, 0x02, 1, 2, 0x82]); // a whole frame and a first byte
    /// assert_eq!(conn.pending_input_len(), 5);
    /// conn.poll_event()?;
    /// assert_eq!(conn.pending_input_len(), 1);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn pending_input_len(&self) -> usize {
        self.rx.input.filled() - self.rx.input.pos()
    }

    /// Report that the transport ended (the peer closed its side, or a read failed).
    /// If the close handshake had not finished, [`poll_event`](Self::poll_event) then
    /// reports [`Event::Closed`](super::Event::Closed) with
    /// [`CloseCode::ABNORMAL`](crate::close::CloseCode::ABNORMAL) (1006).
    pub fn receive_eof(&mut self) {
        self.rx.eof = true;
    }
}
