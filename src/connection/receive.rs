//! The receive path: bytes in, events out.

use alloc::string::ToString;

use bytes::{Buf, Bytes, BytesMut};

use super::{
    Chunk, Closed, Connection, DataKind, Event, Message, ProtocolError, ReceiveMode, State,
    Utf8Bytes,
};
use crate::close::{CloseCode, CloseFrame};
use crate::frame::header::{HeaderParse, parse_header};
use crate::frame::{DecoderConfig, FrameHeader, OpCode};
use crate::mask;
use crate::utf8::Utf8Validator;

/// Receive-side state.
#[derive(Debug)]
pub(crate) struct Rx {
    /// Bytes received and not yet consumed; starts with the current frame's header.
    buf: BytesMut,
    decoder: DecoderConfig,
    /// The frame whose header is parsed and whose payload is arriving.
    frame: Option<RxFrame>,
    /// The data message in progress (fragmented, or any message in stream mode).
    message: Option<RxMessage>,
    utf8: Utf8Validator,
    /// The transport ended.
    pub(crate) eof: bool,
    /// The end was reported as an event.
    eof_reported: bool,
}

#[derive(Debug)]
struct RxFrame {
    header: FrameHeader,
    /// Header bytes still at the front of `buf` (0 once a piece was streamed out).
    header_len: usize,
    /// Payload bytes still to come out of `buf`, counted from the last piece taken.
    remaining: usize,
    /// Payload bytes after the header that are already unmasked and validated.
    ready: usize,
    /// Payload bytes already taken out as stream chunks: the mask phase base.
    taken: usize,
    /// The payload is text (a text frame or a continuation of a text message).
    text: bool,
}

#[derive(Debug)]
struct RxMessage {
    kind: DataKind,
    /// Reassembled payload (messages mode).
    data: BytesMut,
    /// Bytes received for this message so far, including the current frame's declared
    /// length: checked against the limit when each header arrives.
    size: u64,
    /// A chunk of this message was already delivered (stream mode).
    started: bool,
}

impl Rx {
    pub(crate) fn new(decoder: DecoderConfig) -> Self {
        Rx {
            buf: BytesMut::new(),
            decoder,
            frame: None,
            message: None,
            utf8: Utf8Validator::new(),
            eof: false,
            eof_reported: false,
        }
    }
}

/// What processing the current frame led to.
enum Step {
    /// Wait for more bytes.
    NeedMore,
    /// A frame was consumed without anything to report; go on.
    Continue,
    /// Report this.
    Event(Event),
}

impl Connection {
    /// Feed bytes read from the transport, in any split. Bytes that arrive after the
    /// peer's close frame, or after the connection failed, are discarded.
    pub fn receive(&mut self, data: &[u8]) {
        self.bytes_received = self.bytes_received.wrapping_add(data.len() as u64);
        if self.close_received || self.failed || self.rx.eof {
            return;
        }
        self.rx.buf.extend_from_slice(data);
    }

    /// Report that the transport ended (the peer closed its side, or a read failed).
    /// If the close handshake had not finished, [`poll_event`](Self::poll_event) then
    /// reports [`Event::Closed`] with [`CloseCode::ABNORMAL`] (1006).
    pub fn receive_eof(&mut self) {
        self.rx.eof = true;
    }

    /// The next event from the bytes received so far, or `Ok(None)` when more input is
    /// needed (or nothing more can happen).
    ///
    /// On `Err` the connection has failed: a close frame with the error's close code is
    /// queued, the state is [`State::Closed`], and later calls return `Ok(None)`.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        loop {
            if self.close_received || self.failed {
                return Ok(None);
            }
            if self.rx.frame.is_none() {
                match parse_header(&self.rx.buf, &self.rx.decoder) {
                    Err(e) => return Err(self.fail(e.into())),
                    Ok(HeaderParse::Incomplete(_)) => return Ok(self.end_of_input()),
                    Ok(HeaderParse::Complete(header, len)) => self.start_frame(header, len)?,
                }
            }
            match self.advance_frame()? {
                Step::NeedMore => return Ok(self.end_of_input()),
                Step::Continue => {}
                Step::Event(event) => return Ok(Some(event)),
            }
        }
    }

    /// No more progress is possible with the bytes at hand: report an abnormal end if the
    /// transport ended before the close handshake did.
    fn end_of_input(&mut self) -> Option<Event> {
        if !self.rx.eof || self.rx.eof_reported {
            return None;
        }
        self.rx.eof_reported = true;
        self.rx.buf = BytesMut::new();
        if self.state == State::Closed {
            return None;
        }
        self.state = State::Closed;
        Some(Event::Closed(Closed {
            code: CloseCode::ABNORMAL,
            reason: alloc::string::String::new(),
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
                    if text {
                        self.rx.utf8.reset();
                    }
                    if !header.fin || stream {
                        self.rx.message = Some(RxMessage {
                            kind,
                            data: BytesMut::new(),
                            size: header.payload_len,
                            started: false,
                        });
                    }
                }
            }
            let size = self
                .rx
                .message
                .as_ref()
                .map_or(header.payload_len, |m| m.size);
            if size > self.config.max_message_size {
                return Err(self.fail(ProtocolError::MessageTooLarge {
                    size,
                    max: self.config.max_message_size,
                }));
            }
        }
        self.rx.frame = Some(RxFrame {
            header,
            header_len,
            remaining: payload_len,
            ready: 0,
            taken: 0,
            text,
        });
        Ok(())
    }

    /// Unmask and validate whatever new payload bytes arrived for the current frame; hand
    /// the frame on once it is complete (or a piece of it, in stream mode).
    fn advance_frame(&mut self) -> Result<Step, ProtocolError> {
        let rx = &mut self.rx;
        let Some(frame) = rx.frame.as_mut() else {
            return Ok(Step::NeedMore);
        };
        let available = (rx.buf.len() - frame.header_len).min(frame.remaining);
        if available > frame.ready {
            let fresh = &mut rx.buf[frame.header_len + frame.ready..frame.header_len + available];
            if let Some(key) = frame.header.mask {
                mask::apply(fresh, key, frame.taken + frame.ready);
            }
            if frame.text {
                if let Err(e) = rx.utf8.feed(fresh) {
                    return Err(self.fail(e.into()));
                }
            }
            frame.ready = available;
        }
        if frame.ready < frame.remaining {
            let stream = self.config.receive_mode == ReceiveMode::Stream;
            if stream && frame.header.opcode.is_data() && frame.ready > 0 {
                rx.buf.advance(frame.header_len);
                let data = rx.buf.split_to(frame.ready).freeze();
                frame.header_len = 0;
                frame.remaining -= frame.ready;
                frame.taken += frame.ready;
                frame.ready = 0;
                return Ok(Step::Event(self.stream_chunk(data, false)));
            }
            return Ok(Step::NeedMore);
        }
        let header = frame.header;
        let header_len = frame.header_len;
        let remaining = frame.remaining;
        let text = frame.text;
        rx.frame = None;
        rx.buf.advance(header_len);
        let payload = rx.buf.split_to(remaining).freeze();
        if header.opcode.is_control() {
            return self.control_frame(header.opcode, payload);
        }
        if header.fin && text {
            if let Err(e) = self.rx.utf8.finish() {
                return Err(self.fail(e.into()));
            }
        }
        if self.config.receive_mode == ReceiveMode::Stream {
            return Ok(Step::Event(self.stream_chunk(payload, header.fin)));
        }
        Ok(self.data_frame(header, payload))
    }

    /// A whole data frame in messages mode.
    fn data_frame(&mut self, header: FrameHeader, payload: Bytes) -> Step {
        let message = match (header.fin, self.rx.message.take()) {
            (true, None) => match header.opcode {
                OpCode::Text => Message::Text(Utf8Bytes::from_validated(payload)),
                _ => Message::Binary(payload),
            },
            (true, Some(mut msg)) => {
                msg.data.extend_from_slice(&payload);
                let data = msg.data.freeze();
                match msg.kind {
                    DataKind::Text => Message::Text(Utf8Bytes::from_validated(data)),
                    DataKind::Binary => Message::Binary(data),
                }
            }
            (false, Some(mut msg)) => {
                msg.data.extend_from_slice(&payload);
                self.rx.message = Some(msg);
                return Step::Continue;
            }
            (false, None) => {
                // start_frame created the message for a non-final first frame.
                return Step::Continue;
            }
        };
        Step::Event(Event::Message(message))
    }

    /// A piece of a data message in stream mode.
    fn stream_chunk(&mut self, data: Bytes, last: bool) -> Event {
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
        Event::Chunk(Chunk {
            kind,
            data,
            first,
            last,
        })
    }

    fn control_frame(&mut self, opcode: OpCode, payload: Bytes) -> Result<Step, ProtocolError> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong
                    && self.state == State::Open
                    && self.out.len() <= self.config.max_pending_output_for_pong
                {
                    self.queue_control(OpCode::Pong, &payload);
                }
                Ok(Step::Event(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Step::Event(Event::Pong(payload))),
            _ => self.close_frame(&payload),
        }
    }

    fn close_frame(&mut self, payload: &[u8]) -> Result<Step, ProtocolError> {
        let parsed = match CloseFrame::parse(payload) {
            Ok(parsed) => parsed,
            Err(e) => return Err(self.fail(e.into())),
        };
        let (code, reason) = match parsed {
            Some(frame) => (frame.code, frame.reason.to_string()),
            None => (CloseCode::NO_STATUS, alloc::string::String::new()),
        };
        if !self.close_sent {
            let mut body = [0u8; 2];
            let len = match parsed {
                Some(frame) => {
                    body = frame.code.0.to_be_bytes();
                    2
                }
                None => 0,
            };
            self.queue_control(OpCode::Close, &body[..len]);
            self.close_sent = true;
        }
        self.close_received = true;
        self.state = State::Closed;
        self.rx.buf = BytesMut::new();
        self.rx.message = None;
        Ok(Step::Event(Event::Closed(Closed { code, reason })))
    }

    /// Fail the connection (RFC 6455 section 7.1.7): queue a close frame with the error's
    /// code unless one was sent, drop all input, and hand the error back for returning.
    pub(crate) fn fail(&mut self, err: ProtocolError) -> ProtocolError {
        if !self.close_sent {
            let mut body = [0u8; 2 + 40];
            let reason = err.reason();
            let frame = CloseFrame::new(err.close_code(), reason);
            if let Ok(n) = frame.encode(&mut body) {
                self.queue_control(OpCode::Close, &body[..n]);
            }
            self.close_sent = true;
        }
        self.failed = true;
        self.state = State::Closed;
        self.rx.buf = BytesMut::new();
        self.rx.frame = None;
        self.rx.message = None;
        err
    }
}
