//! The receive path: bytes in, events out.
//!
//! Work is split in two steps. `locate` parses headers, unmasks and validates payload
//! bytes in place as they arrive, applies the message rules and says where the next
//! event's payload lies in the input buffer. Then [`Connection::poll_event`] hands that
//! payload out as shared `Bytes` split from the buffer, and
//! [`Connection::poll_event_ref`] lends it as a slice; neither copies it.

use alloc::string::String;

use bytes::Bytes;

use super::input::{RxFrame, RxMessage};
use super::opening::Opened;
use super::{
    Chunk, ChunkRef, Closed, Connection, DataKind, End, Event, EventRef, Message, Phase,
    ProtocolError, ReceiveMode, Utf8Bytes,
};
use crate::close::CloseCode;
use crate::frame::header::{HeaderParse, parse_header};
use crate::frame::{FrameError, FrameHeader, OpCode, Rsv};
use crate::mask;
use crate::utf8;

/// Where the next event's payload is: `buf[start..end]` unless stated otherwise.
pub(super) enum Ready {
    /// A message in a single frame.
    Single {
        kind: DataKind,
        start: usize,
        end: usize,
    },
    /// A fragmented message, complete in `assembled`.
    Assembled {
        kind: DataKind,
    },
    /// A piece of a message (stream mode).
    Chunk {
        kind: DataKind,
        start: usize,
        end: usize,
        first: bool,
        last: bool,
    },
    /// A piece of a compressed message, inflated into `assembled` (stream mode).
    #[cfg(feature = "deflate")]
    Inflated {
        kind: DataKind,
        first: bool,
        last: bool,
    },
    Ping {
        start: usize,
        end: usize,
    },
    Pong {
        start: usize,
        end: usize,
    },
    Closed(Closed),
    /// A step of the opening handshake.
    Opening(Opened),
}

/// What processing the current frame led to.
pub(super) enum Step {
    NeedMore,
    Continue,
    Ready(Ready),
}

impl Connection {
    /// The next event from the bytes received so far, or `Ok(None)` when more input is
    /// needed (or nothing more can happen). Payloads are shared `Bytes` split from the
    /// input buffer, without a copy, for messages in a single frame.
    ///
    /// May queue bytes: pongs, the reply to the peer's close, and on a failure the close
    /// frame (or, for a bad upgrade request, the HTTP 400, 426 or 431 response). Write
    /// [`pending_output_len`](Self::pending_output_len) bytes after polling, before you
    /// wait for input.
    ///
    /// On `Err` the connection has failed: a close frame with the error's close code is
    /// queued (for a failed handshake, the HTTP error response), the state is
    /// [`State::Closed`](super::State::Closed), and later calls return `Ok(None)`.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if let Some((kind, start, end)) = self.small_message()? {
            return Ok(Some(Event::Message(message(
                kind,
                self.rx.input.take(start, end),
            ))));
        }
        let Some(ready) = self.locate()? else {
            return Ok(None);
        };
        let rx = &mut self.rx;
        Ok(Some(match ready {
            Ready::Single { kind, start, end } => {
                Event::Message(message(kind, rx.input.take(start, end)))
            }
            Ready::Assembled { kind } => Event::Message(message(kind, rx.assembled.take())),
            Ready::Chunk {
                kind,
                start,
                end,
                first,
                last,
            } => Event::Chunk(Chunk {
                kind,
                data: rx.input.take(start, end),
                first,
                last,
            }),
            #[cfg(feature = "deflate")]
            Ready::Inflated { kind, first, last } => Event::Chunk(Chunk {
                kind,
                data: rx.assembled.take(),
                first,
                last,
            }),
            Ready::Ping { start, end } => Event::Ping(rx.input.take(start, end)),
            Ready::Pong { start, end } => Event::Pong(rx.input.take(start, end)),
            Ready::Closed(closed) => Event::Closed(closed),
            Ready::Opening(Opened::Client(accepted)) => Event::Accepted(accepted),
            Ready::Opening(Opened::Request) => Event::Request(self.pending_request().clone()),
        }))
    }

    /// Like [`poll_event`](Self::poll_event), but lends the payload from the
    /// connection's buffers until the next call: no reference counting and no
    /// allocation, even for fragmented messages once the reassembly buffer has grown.
    /// Queues bytes as `poll_event` does.
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, EventRef};
    ///
    /// let mut server = Connection::upgraded_server(Config::default());
    /// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    /// let mut total = 0;
    /// while let Some(event) = server.poll_event_ref()? {
    ///     if let EventRef::Text(text) = event {
    ///         total += text.len(); // `text` borrows `server` until the next call
    ///     }
    /// }
    /// assert_eq!(total, 5);
    /// # Ok::<(), rfc6455::connection::ProtocolError>(())
    /// ```
    #[inline]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        if let Some((kind, start, end)) = self.small_message()? {
            return Ok(Some(data_ref(kind, self.rx.input.slice(start, end))));
        }
        let Some(ready) = self.locate()? else {
            return Ok(None);
        };
        let rx = &self.rx;
        Ok(Some(match ready {
            Ready::Single { kind, start, end } => data_ref(kind, rx.input.slice(start, end)),
            Ready::Assembled { kind } => data_ref(kind, rx.assembled.as_slice()),
            Ready::Chunk {
                kind,
                start,
                end,
                first,
                last,
            } => EventRef::Chunk(ChunkRef {
                kind,
                data: rx.input.slice(start, end),
                first,
                last,
            }),
            #[cfg(feature = "deflate")]
            Ready::Inflated { kind, first, last } => EventRef::Chunk(ChunkRef {
                kind,
                data: rx.assembled.as_slice(),
                first,
                last,
            }),
            Ready::Ping { start, end } => EventRef::Ping(rx.input.slice(start, end)),
            Ready::Pong { start, end } => EventRef::Pong(rx.input.slice(start, end)),
            Ready::Closed(closed) => EventRef::Closed(closed),
            Ready::Opening(Opened::Client(accepted)) => EventRef::Accepted(accepted),
            Ready::Opening(Opened::Request) => EventRef::Request(self.pending_request()),
        }))
    }

    fn locate(&mut self) -> Result<Option<Ready>, ProtocolError> {
        self.rx.input.unlend();
        if let Phase::Connecting(_) = self.phase {
            if let Some(opened) = self.poll_opening()? {
                return Ok(Some(Ready::Opening(opened)));
            }
            if let Phase::Connecting(_) = self.phase {
                return Ok(self.end_of_input());
            }
        }
        if let Some((kind, start, end)) = self.small_message()? {
            return Ok(Some(Ready::Single { kind, start, end }));
        }
        loop {
            if let Phase::Closed(_) = self.phase {
                // The input was dropped; the transport's end, if it came, was reported.
                return Ok(None);
            }
            if self.rx.frame.is_none() {
                let decoder = self.decoder_config();
                match parse_header(self.rx.input.unconsumed(), &decoder) {
                    Err(e) => return Err(self.fail(e.into())),
                    Ok(HeaderParse::Incomplete(_)) => return Ok(self.end_of_input()),
                    Ok(HeaderParse::Complete(header, len)) => self.start_frame(header, len)?,
                }
            }
            match self.advance_frame()? {
                Step::NeedMore => return Ok(self.end_of_input()),
                Step::Continue => {}
                Step::Ready(ready) => return Ok(Some(ready)),
            }
        }
    }

    /// The common case in one pass: a whole message of at most 64 KiB (a 7- or 16-bit
    /// length) in one final, correctly masked text or binary frame whose header and
    /// payload are all in the buffer, with nothing else in progress. Anything else,
    /// including every header error, goes through the general path (`parse_header`, the
    /// one header parser), which delivers the same events; invalid UTF-8 fails here.
    /// Inlined into both poll functions, so the common event is built without a round
    /// trip through [`Ready`]; returns the kind and the payload's position.
    ///
    /// Why it reads the header itself instead of calling `parse_header`: measured with
    /// `benches/compare` (`--only decode`, `--rounds 51`, pinned, three interleaved runs
    /// each, 2026-12-02, the other core busy), median ns per message, hand-read / through
    /// `parse_header`: server 0 B 11.3 / 17.8, server 16 B 18.0 / 23.4, client 16 B 14.1 /
    /// 18.6; from 125 B up the two are within noise. `parse_header`'s general result (an
    /// enum carrying a whole `FrameHeader`, every rule checked in order) costs 4-6 ns a
    /// message that this path, which only has to recognise the common case, does not pay.
    /// The same input goes through both paths in `tests/connection_proptest.rs` (every
    /// input fed whole, where this path takes it, and split, where it cannot) and in
    /// `tests/limits_every_path.rs`.
    #[inline(always)]
    fn small_message(&mut self) -> Result<Option<(DataKind, usize, usize)>, ProtocolError> {
        let rx = &mut self.rx;
        rx.input.unlend();
        // Once closed, the input is dropped and no more is taken in, so an empty buffer
        // stops this path then.
        debug_assert!(!matches!(self.phase, Phase::Closed(_)) || rx.input.unconsumed().is_empty());
        if matches!(self.phase, Phase::Connecting(_))
            || rx.frame.is_some()
            || rx.message.is_some()
            || self.config.receive_mode == ReceiveMode::Stream
        {
            return Ok(None);
        }
        let pos = rx.input.pos();
        let input = rx.input.unconsumed();
        let (Some(&b0), Some(&b1)) = (input.first(), input.get(1)) else {
            return Ok(None);
        };
        let kind = match b0 {
            0x81 => DataKind::Text,
            0x82 => DataKind::Binary,
            _ => return Ok(None),
        };
        let masked = b1 & 0x80 != 0;
        let (len, length_len) = match b1 & 0x7F {
            n @ 0..=125 => (n as usize, 0),
            126 => match input.get(2..4) {
                // The 16-bit form, minimally encoded (shorter ones are an error, reported
                // by the general path).
                Some(&[hi, lo]) if u16::from_be_bytes([hi, lo]) >= 126 => {
                    (usize::from(u16::from_be_bytes([hi, lo])), 2)
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let header_len = 2 + length_len + if masked { 4 } else { 0 };
        if masked != self.role.expects_masked_incoming()
            || len as u64 > self.config.max_message_size.min(self.config.max_frame_size)
            || input.len() < header_len + len
        {
            return Ok(None);
        }
        let mask_key = match &input[..header_len] {
            &[.., k0, k1, k2, k3] if masked => Some([k0, k1, k2, k3]),
            _ => None,
        };
        let payload = &mut input[header_len..header_len + len];
        if let Some(key) = mask_key {
            mask::apply(payload, key, 0);
        }
        if kind == DataKind::Text {
            if let Err(e) = utf8::validate(payload) {
                return Err(self.fail(e.into()));
            }
        }
        // As the general path does for every frame it completes (see `make_room`).
        rx.input.earn(header_len + len);
        let start = pos + header_len;
        rx.input.consume_to(start + len);
        Ok(Some((kind, start, start + len)))
    }

    /// No more progress is possible with the bytes at hand: release memory a large message
    /// left behind, and report an abnormal end if the transport ended before the close
    /// handshake did.
    fn end_of_input(&mut self) -> Option<Ready> {
        let rx = &mut self.rx;
        rx.settle(
            self.config.active_buffer_capacity,
            self.config.idle_buffer_capacity,
        );
        if !rx.eof || rx.eof_reported {
            return None;
        }
        rx.eof_reported = true;
        rx.discard();
        if let Phase::Closed(_) = self.phase {
            return None;
        }
        self.phase = Phase::Closed(End::TransportEnded);
        Some(Ready::Closed(Closed {
            code: CloseCode::ABNORMAL,
            reason: String::new(),
        }))
    }

    /// Message-level checks on a new header, then make it the current frame.
    fn start_frame(&mut self, header: FrameHeader, header_len: usize) -> Result<(), ProtocolError> {
        let Ok(payload_len) = usize::try_from(header.payload_len) else {
            return Err(self.fail(ProtocolError::MessageTooLarge {
                size: header.payload_len,
                max: usize::MAX as u64,
            }));
        };
        let mut text = false;
        let mut whole_text = false;
        // RSV1 reaches here only once permessage-deflate is negotiated (the header parser
        // refuses it otherwise), and then only the first frame of a data message may carry
        // it (RFC 7692 section 6.1).
        let compressed = header.rsv.contains(Rsv::RSV1);
        if compressed && !matches!(header.opcode, OpCode::Text | OpCode::Binary) {
            return Err(self.fail(ProtocolError::Frame(FrameError::ReservedBits(
                Rsv::RSV1.bits(),
            ))));
        }
        if header.opcode.is_data() {
            let stream = self.config.receive_mode == ReceiveMode::Stream;
            match (header.opcode, self.rx.message.as_mut()) {
                (OpCode::Continuation, None) => {
                    return Err(self.fail(ProtocolError::UnexpectedContinuation));
                }
                (OpCode::Continuation, Some(msg)) => {
                    msg.size += header.payload_len;
                    text = msg.kind == DataKind::Text;
                }
                (_, Some(_)) => return Err(self.fail(ProtocolError::ExpectedContinuation)),
                (opcode, None) => {
                    let kind = if opcode == OpCode::Text {
                        DataKind::Text
                    } else {
                        DataKind::Binary
                    };
                    text = kind == DataKind::Text;
                    whole_text = text && header.fin && !compressed;
                    self.rx.utf8.reset();
                    if (!header.fin || compressed) && !stream {
                        self.rx.assembled.clear();
                    }
                    if !header.fin || stream || compressed {
                        self.rx.message = Some(RxMessage {
                            kind,
                            size: header.payload_len,
                            started: false,
                            #[cfg(feature = "deflate")]
                            compressed,
                            #[cfg(feature = "deflate")]
                            inflated: 0,
                        });
                    }
                }
            }
            let (size, in_compressed) = match self.rx.message.as_ref() {
                #[cfg(feature = "deflate")]
                Some(m) => (m.size, m.compressed),
                #[cfg(not(feature = "deflate"))]
                Some(m) => (m.size, false),
                None => (header.payload_len, false),
            };
            // The header parser allowed DEFLATE's expansion over the frame limit once the
            // extension is negotiated (`wire_limit`): only a compressed message may use it.
            // Its decompressed size is checked against `max_message_size` as it inflates.
            let compressed = compressed || in_compressed;
            if !compressed && header.payload_len > self.config.max_frame_size {
                return Err(self.fail(ProtocolError::Frame(FrameError::FrameTooLarge {
                    len: header.payload_len,
                    max: self.config.max_frame_size,
                })));
            }
            let max = if compressed {
                self.wire_limit(self.config.max_message_size)
            } else {
                self.config.max_message_size
            };
            if size > max {
                return Err(self.fail(ProtocolError::MessageTooLarge { size, max }));
            }
        }
        self.rx.frame = Some(RxFrame {
            header,
            header_len,
            remaining: payload_len,
            ready: 0,
            taken: 0,
            text,
            whole_text,
        });
        Ok(())
    }

    /// Unmask and validate whatever new payload bytes arrived for the current frame; hand
    /// the frame on once it is complete (or a piece of it, in stream mode).
    fn advance_frame(&mut self) -> Result<Step, ProtocolError> {
        let stream = self.config.receive_mode == ReceiveMode::Stream;
        let rx = &mut self.rx;
        let Some(frame) = rx.frame.as_mut() else {
            return Ok(Step::NeedMore);
        };
        #[cfg(feature = "deflate")]
        if frame.header.opcode.is_data() && rx.message.as_ref().is_some_and(|m| m.compressed) {
            return self.inflate_frame();
        }
        let base = rx.input.pos() + frame.header_len;
        let available = (rx.input.filled() - base).min(frame.remaining);
        if !stream && frame.header.opcode.is_data() && rx.message.is_some() {
            // A fragment of a message being reassembled: unmask its bytes while copying
            // them out as they arrive (one pass), and drop them from the input buffer so a
            // frame that straddles reads leaves nothing large to move.
            if available > 0 {
                let fresh = rx.input.slice(base, base + available);
                let limit = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
                let unmasked =
                    rx.assembled
                        .extend_masked(fresh, frame.header.mask, frame.taken, limit);
                if frame.text {
                    if let Err(e) = rx.utf8.feed(unmasked) {
                        return Err(self.fail(e.into()));
                    }
                }
            }
            rx.input.consume_to(base + available);
            frame.header_len = 0;
            frame.remaining -= available;
            frame.taken += available;
            if frame.remaining > 0 {
                return Ok(Step::NeedMore);
            }
            let (fin, text) = (frame.header.fin, frame.text);
            rx.frame = None;
            if !fin {
                return Ok(Step::Continue);
            }
            if text {
                if let Err(e) = rx.utf8.finish() {
                    return Err(self.fail(e.into()));
                }
            }
            let kind = rx.message.take().map_or(DataKind::Binary, |m| m.kind);
            return Ok(Step::Ready(Ready::Assembled { kind }));
        }
        if available > frame.ready {
            let fresh = rx.input.slice_mut(base + frame.ready, base + available);
            if let Some(key) = frame.header.mask {
                mask::apply(fresh, key, frame.taken + frame.ready);
            }
            if frame.text {
                // A single-frame text message that is already whole is validated in one
                // pass below; anything else piece by piece, failing at the first bad byte.
                let whole = frame.whole_text && frame.ready == 0 && available == frame.remaining;
                frame.whole_text = whole;
                if !whole {
                    if let Err(e) = rx.utf8.feed(fresh) {
                        return Err(self.fail(e.into()));
                    }
                }
            }
            frame.ready = available;
        }
        if frame.ready < frame.remaining {
            if stream && frame.header.opcode.is_data() && frame.ready > 0 {
                let (start, end) = (base, base + frame.ready);
                rx.input.consume_to(end);
                frame.header_len = 0;
                frame.remaining -= frame.ready;
                frame.taken += frame.ready;
                frame.ready = 0;
                return Ok(Step::Ready(self.chunk(start, end, false)));
            }
            return Ok(Step::NeedMore);
        }
        let header = frame.header;
        let (start, end) = (base, base + frame.remaining);
        let (text, whole_text) = (frame.text, frame.whole_text);
        rx.input.earn(frame.header_len + frame.remaining);
        rx.frame = None;
        rx.input.consume_to(end);
        if header.opcode.is_control() {
            return self.control_frame(header.opcode, start, end);
        }
        if header.fin && text {
            let checked = if whole_text {
                utf8::validate(rx.input.slice(start, end)).map(|_| ())
            } else {
                rx.utf8.finish()
            };
            if let Err(e) = checked {
                return Err(self.fail(e.into()));
            }
        }
        if stream {
            return Ok(Step::Ready(self.chunk(start, end, header.fin)));
        }
        // Fragments of a message went through the reassembly branch above, and
        // `start_frame` makes every non-final first frame start a message.
        debug_assert!(header.fin && self.rx.message.is_none());
        let kind = if header.opcode == OpCode::Text {
            DataKind::Text
        } else {
            DataKind::Binary
        };
        Ok(Step::Ready(Ready::Single { kind, start, end }))
    }

    /// A piece of a data message in stream mode.
    fn chunk(&mut self, start: usize, end: usize, last: bool) -> Ready {
        let (kind, first) = match self.rx.message.as_mut() {
            Some(msg) => {
                let first = !msg.started;
                msg.started = true;
                (msg.kind, first)
            }
            None => (DataKind::Binary, true),
        };
        if last {
            self.rx.message = None;
        }
        Ready::Chunk {
            kind,
            start,
            end,
            first,
            last,
        }
    }
}

/// The message of `kind` with `payload` (text already validated).
pub(super) fn message(kind: DataKind, payload: Bytes) -> Message {
    match kind {
        DataKind::Text => Message::Text(Utf8Bytes::from_validated(payload)),
        DataKind::Binary => Message::Binary(payload),
    }
}

fn data_ref(kind: DataKind, payload: &[u8]) -> EventRef<'_> {
    match kind {
        DataKind::Text => EventRef::Text(utf8::from_validated(payload)),
        DataKind::Binary => EventRef::Binary(payload),
    }
}
