//! Shared pieces of the connection fuzz targets: a counting allocator, owned records of
//! events and frames, a reference model of the receive rules, and an output decoder.
//!
//! The reference model re-states RFC 6455's message rules (sections 5.4, 5.5, 5.6, 8.1)
//! in the plainest way: frames are cut with the crate's `Decoder` (fuzzed separately
//! against whole, chunked and piecewise decoding), everything else is done here from
//! scratch, so a connection that accepts what these rules forbid, or rejects what they
//! allow, disagrees with it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use rfc6455::Role;
use rfc6455::close::{CloseCode, CloseFrame};
use rfc6455::connection::{Config, DataKind, Event, EventRef, ProtocolError};
use rfc6455::frame::{Decoded, Decoder, DecoderConfig, OpCode, Rsv};

/// Reads a fuzz input as a sequence of operation arguments.
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    /// The next byte.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    /// The next `n` bytes, or all that is left.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }

    /// A length byte and that many bytes (or all that is left).
    pub fn blob(&mut self) -> Option<&'a [u8]> {
        let n = self.byte()? as usize;
        Some(self.take(n))
    }
}

/// A global allocator that counts the live heap bytes of the process.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// Live heap bytes allocated through [`Counting`].
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// How a connection failed, comparable (a `Utf8Error` cannot be built outside the crate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fail {
    /// Invalid UTF-8 in a text message, at this offset from the message start.
    Utf8 { offset: u64, incomplete: bool },
    /// Any other protocol error.
    Other(ProtocolError),
}

impl From<ProtocolError> for Fail {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Utf8(u) => Fail::Utf8 {
                offset: u.offset(),
                incomplete: u.is_incomplete(),
            },
            other => Fail::Other(other),
        }
    }
}

/// What the application saw, with whole messages (stream chunks are joined by the
/// caller before they are recorded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Message(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Closed(u16, String),
    Error(Fail),
}

/// One event as returned by either poll method, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rec {
    Message(DataKind, Vec<u8>),
    Chunk {
        kind: DataKind,
        data: Vec<u8>,
        first: bool,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Closed(u16, String),
}

impl Rec {
    pub fn from_owned(event: Event) -> Rec {
        use rfc6455::connection::Message;
        match event {
            Event::Message(Message::Text(t)) => {
                // The text was validated by the connection; check it anyway.
                assert!(core::str::from_utf8(t.as_bytes()).is_ok());
                Rec::Message(DataKind::Text, t.as_bytes().to_vec())
            }
            Event::Message(Message::Binary(b)) => Rec::Message(DataKind::Binary, b.to_vec()),
            Event::Chunk(c) => Rec::Chunk {
                kind: c.kind,
                data: c.data.to_vec(),
                first: c.first,
                last: c.last,
            },
            Event::Ping(p) => Rec::Ping(p.to_vec()),
            Event::Pong(p) => Rec::Pong(p.to_vec()),
            Event::Closed(c) => Rec::Closed(c.code.0, c.reason),
            // The targets build open connections (`Connection::new`): no handshake events.
            Event::Accepted(_) | Event::Request => panic!("handshake event on an open connection"),
        }
    }

    pub fn from_ref(event: EventRef<'_>) -> Rec {
        match event {
            EventRef::Text(t) => {
                assert!(core::str::from_utf8(t.as_bytes()).is_ok());
                Rec::Message(DataKind::Text, t.as_bytes().to_vec())
            }
            EventRef::Binary(b) => Rec::Message(DataKind::Binary, b.to_vec()),
            EventRef::Chunk(c) => Rec::Chunk {
                kind: c.kind,
                data: c.data.to_vec(),
                first: c.first,
                last: c.last,
            },
            EventRef::Ping(p) => Rec::Ping(p.to_vec()),
            EventRef::Pong(p) => Rec::Pong(p.to_vec()),
            EventRef::Closed(c) => Rec::Closed(c.code.0, c.reason),
            EventRef::Accepted(_) | EventRef::Request => {
                panic!("handshake event on an open connection")
            }
        }
    }
}

/// A frame on the wire, as the peer decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutFrame {
    /// A data frame: opcode 0, 1 or 2.
    Data {
        opcode: u8,
        fin: bool,
        payload: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame's code (`None` for an empty payload); reasons are not compared.
    Close(Option<u16>),
}

/// Decode everything `sender` wrote, as its peer would, checking that it is a sequence of
/// whole, valid frames: masked exactly when the sender is a client, control frames final
/// and short, close payloads valid, and nothing after a close frame.
pub fn decode_output(sender: Role, wire: &[u8]) -> Vec<OutFrame> {
    let receiver = match sender {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut decoder = Decoder::with_config(DecoderConfig {
        role: receiver,
        allowed_rsv: Rsv::NONE,
        max_frame_size: u64::MAX,
    });
    let mut buf = wire.to_vec();
    let mut pos = 0;
    let mut frames = Vec::new();
    while pos < buf.len() {
        let (frame, consumed) = match decoder.decode(&mut buf[pos..]) {
            Ok(Decoded::Frame { frame, consumed }) => (frame, consumed),
            other => panic!("output at byte {pos} is not a whole valid frame: {other:?}"),
        };
        pos += consumed;
        assert!(
            !matches!(frames.last(), Some(OutFrame::Close(_))),
            "a frame was sent after the close frame"
        );
        let payload = frame.payload.to_vec();
        frames.push(match frame.header.opcode {
            OpCode::Ping => OutFrame::Ping(payload),
            OpCode::Pong => OutFrame::Pong(payload),
            OpCode::Close => match CloseFrame::parse(&payload) {
                Ok(Some(close)) => OutFrame::Close(Some(close.code.0)),
                Ok(None) => OutFrame::Close(None),
                Err(e) => panic!("sent an invalid close payload {payload:?}: {e}"),
            },
            op => OutFrame::Data {
                opcode: op as u8,
                fin: frame.header.fin,
                payload,
            },
        });
    }
    frames
}

/// Validates a growing text message without re-reading it: `checked` bytes are known to
/// be valid and to end on a character boundary.
#[derive(Default)]
struct TextOracle {
    checked: usize,
}

impl TextOracle {
    /// `Err(offset)` if no continuation can make `text` valid.
    fn impossible(&mut self, text: &[u8]) -> Result<(), u64> {
        match core::str::from_utf8(&text[self.checked..]) {
            Ok(_) => {
                self.checked = text.len();
                Ok(())
            }
            Err(e) => {
                let at = self.checked + e.valid_up_to();
                if e.error_len().is_some() {
                    return Err(at as u64);
                }
                self.checked = at;
                Ok(())
            }
        }
    }

    /// `Err(offset)` if `text` is a complete message that is not valid.
    fn finish(&self, text: &[u8]) -> Result<(), u64> {
        match core::str::from_utf8(&text[self.checked..]) {
            Ok(_) => Ok(()),
            Err(e) => Err((self.checked + e.valid_up_to()) as u64),
        }
    }
}

/// The events RFC 6455 prescribes for a receiver in `role` with `config` that was fed
/// `input` (and then the end of the transport, if `eof`), polled to exhaustion.
pub fn reference(role: Role, config: &Config, input: &[u8], eof: bool) -> Vec<Ev> {
    let mut decoder = Decoder::with_config(DecoderConfig {
        role,
        allowed_rsv: Rsv::NONE,
        max_frame_size: config.max_frame_size,
    });
    let mut buf = input.to_vec();
    let mut pos = 0;
    let mut out = Vec::new();
    // The data message in progress: kind, bytes so far, size declared so far.
    let mut message: Option<(DataKind, Vec<u8>, u64)> = None;
    let mut oracle = TextOracle::default();
    let abnormal = Ev::Closed(CloseCode::ABNORMAL.0, String::new());
    loop {
        let header = match decoder.decode_piece(&mut buf[pos..]) {
            Err(e) => {
                out.push(Ev::Error(Fail::Other(ProtocolError::Frame(e))));
                return out;
            }
            Ok(Decoded::Header { header, consumed }) => {
                pos += consumed;
                header
            }
            Ok(Decoded::Incomplete { .. }) => {
                if eof {
                    out.push(abnormal);
                }
                return out;
            }
            Ok(other) => panic!("decode_piece between frames returned {other:?}"),
        };
        let opcode = header.opcode;
        let len = header.payload_len;
        let mut text = false;
        if opcode.is_data() {
            match (opcode, message.as_mut()) {
                (OpCode::Continuation, None) => {
                    out.push(Ev::Error(Fail::Other(
                        ProtocolError::UnexpectedContinuation,
                    )));
                    return out;
                }
                (OpCode::Continuation, Some(m)) => {
                    m.2 += len;
                    text = m.0 == DataKind::Text;
                }
                (_, Some(_)) => {
                    out.push(Ev::Error(Fail::Other(ProtocolError::ExpectedContinuation)));
                    return out;
                }
                (op, None) => {
                    let kind = if op == OpCode::Text {
                        DataKind::Text
                    } else {
                        DataKind::Binary
                    };
                    text = kind == DataKind::Text;
                    message = Some((kind, Vec::new(), len));
                    oracle = TextOracle::default();
                }
            }
            let size = message.as_ref().map_or(0, |m| m.2);
            if size > config.max_message_size {
                out.push(Ev::Error(Fail::Other(ProtocolError::MessageTooLarge {
                    size,
                    max: config.max_message_size,
                })));
                return out;
            }
        }
        // All of the payload that is there, in one piece.
        let (data, last) = match decoder.decode_piece(&mut buf[pos..]) {
            Ok(Decoded::Payload {
                data,
                consumed,
                last,
            }) => {
                pos += consumed;
                (data.to_vec(), last)
            }
            Ok(Decoded::Incomplete { .. }) => (Vec::new(), false),
            other => panic!("decode_piece inside a frame returned {other:?}"),
        };
        if opcode.is_data() {
            let m = message.as_mut().expect("a message is in progress");
            m.1.extend_from_slice(&data);
            if text {
                // Fail fast: as soon as a byte arrives that no continuation can fix.
                if let Err(offset) = oracle.impossible(&m.1) {
                    out.push(Ev::Error(Fail::Utf8 {
                        offset,
                        incomplete: false,
                    }));
                    return out;
                }
                if last && header.fin {
                    if let Err(offset) = oracle.finish(&m.1) {
                        out.push(Ev::Error(Fail::Utf8 {
                            offset,
                            incomplete: true,
                        }));
                        return out;
                    }
                }
            }
        }
        if !last {
            if eof {
                out.push(abnormal);
            }
            return out;
        }
        match opcode {
            OpCode::Ping => out.push(Ev::Ping(data)),
            OpCode::Pong => out.push(Ev::Pong(data)),
            OpCode::Close => {
                out.push(match CloseFrame::parse(&data) {
                    Ok(Some(close)) => Ev::Closed(close.code.0, close.reason.to_owned()),
                    Ok(None) => Ev::Closed(CloseCode::NO_STATUS.0, String::new()),
                    Err(e) => Ev::Error(Fail::Other(ProtocolError::Close(e))),
                });
                return out;
            }
            _ if header.fin => {
                let (kind, bytes, _) = message.take().expect("a message is in progress");
                out.push(Ev::Message(kind, bytes));
            }
            _ => {}
        }
    }
}

/// What the send API must answer, by its contract: tracks whether a close frame was
/// queued and which fragmented message is being sent.
#[derive(Debug, Default)]
pub struct SendModel {
    /// A close frame was queued (by `close`, a close reply, or a failure).
    pub close_sent: bool,
    /// The kind of the fragmented message being sent.
    pub tx_fragment: Option<DataKind>,
}

impl SendModel {
    /// A data send in `state`: whole (`fragment` `None`) or one fragment (kind, fin).
    /// On success returns the opcode of the frame and updates the fragment state.
    pub fn data(
        &mut self,
        state: rfc6455::connection::State,
        kind: DataKind,
        fragment: Option<bool>,
    ) -> Result<u8, rfc6455::connection::SendError> {
        use rfc6455::connection::{SendError, State};
        if state != State::Open || self.close_sent {
            return Err(SendError::NotOpen(state));
        }
        let opcode = if kind == DataKind::Text { 1 } else { 2 };
        match (fragment, self.tx_fragment) {
            (None, None) => Ok(opcode),
            (None, Some(_)) => Err(SendError::FragmentOrder),
            (Some(fin), current) => {
                let opcode = match current {
                    None => opcode,
                    Some(k) if k == kind => 0,
                    Some(_) => return Err(SendError::FragmentOrder),
                };
                self.tx_fragment = if fin { None } else { Some(kind) };
                Ok(opcode)
            }
        }
    }

    /// A ping or pong of `len` bytes in `state`.
    pub fn control(
        &self,
        state: rfc6455::connection::State,
        len: usize,
    ) -> Result<(), rfc6455::connection::SendError> {
        use rfc6455::connection::{SendError, State};
        if state != State::Open || self.close_sent {
            Err(SendError::NotOpen(state))
        } else if len > 125 {
            Err(SendError::ControlTooLong { len })
        } else {
            Ok(())
        }
    }

    /// `close(code, reason)` in `state`.
    pub fn close(
        &mut self,
        state: rfc6455::connection::State,
        code: u16,
        reason: &str,
    ) -> Result<(), rfc6455::connection::SendError> {
        use rfc6455::close::{CloseError, MAX_REASON_LEN};
        use rfc6455::connection::{SendError, State};
        if self.close_sent || matches!(state, State::Closed | State::Connecting) {
            return Err(SendError::NotOpen(state));
        }
        if !CloseCode(code).is_sendable() {
            return Err(SendError::InvalidClose(CloseError::InvalidCode(CloseCode(
                code,
            ))));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(SendError::InvalidClose(CloseError::ReasonTooLong {
                len: reason.len(),
            }));
        }
        self.close_sent = true;
        Ok(())
    }
}

/// The order the connection states come in: a state may only move to a higher rank.
pub fn rank(s: rfc6455::connection::State) -> u8 {
    use rfc6455::connection::State;
    match s {
        State::Connecting => 0,
        State::Open => 1,
        State::Closing => 2,
        State::Closed => 3,
    }
}
