//! Shared pieces of the connection fuzz targets: a counting allocator, owned records of
//! events and frames, a reference model of the receive rules, an output decoder, and the
//! opening-handshake driver of `connection_opening`.
//!
//! The reference model re-states RFC 6455's rules (sections 5.2-5.6, 7.4, 8.1) in the
//! plainest way, from scratch: frame headers, close payloads and close codes are judged by
//! [`rfc`], UTF-8 by `core::str::from_utf8`; nothing calls the crate's decoder, close
//! parser or close-code predicates. A connection that accepts what these rules forbid,
//! or rejects what they allow, disagrees with it.

pub mod opening;
pub mod rfc;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use rfc6455::Role;
use rfc6455::connection::{Config, DataKind, Event, EventRef, ProtocolError};

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
    /// A failure the connection reported.
    Error(Fail),
    /// A failure the reference model prescribes: any of these (see [`agrees`]).
    AnyOf(Vec<Fail>),
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
            Event::Accepted(_) | Event::Request(_) => {
                panic!("handshake event on an open connection")
            }
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
            EventRef::Accepted(_) | EventRef::Request(_) => {
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

/// Decode everything `sender` wrote, as its peer would, checking by the rules of
/// [`rfc`] that it is a sequence of whole, valid frames: masked exactly when the sender
/// is a client, no RSV bit, no reserved opcode, control frames final and short, lengths
/// minimal, close payloads valid, and nothing after a close frame.
pub fn decode_output(sender: Role, wire: &[u8]) -> Vec<OutFrame> {
    let receiver = match sender {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut pos = 0;
    let mut frames = Vec::new();
    while pos < wire.len() {
        let scan = rfc::scan_head(&wire[pos..], receiver, u64::MAX);
        assert!(
            scan.broken.is_empty(),
            "output at byte {pos} breaks {:?}",
            scan.broken
        );
        let head = scan
            .head
            .unwrap_or_else(|| panic!("output ends inside the frame header at byte {pos}"));
        let start = pos + head.size;
        let len = usize::try_from(head.len).expect("a length we could have sent");
        assert!(
            wire.len() - start >= len,
            "output ends inside the payload of the frame at byte {pos}"
        );
        let mut payload = wire[start..start + len].to_vec();
        if let Some(key) = head.mask {
            rfc::unmask(&mut payload, key, 0);
        }
        pos = start + len;
        assert!(
            !matches!(frames.last(), Some(OutFrame::Close(_))),
            "a frame was sent after the close frame"
        );
        frames.push(match head.opcode {
            0x9 => OutFrame::Ping(payload),
            0xA => OutFrame::Pong(payload),
            0x8 => match rfc::close_payload(&payload) {
                Ok(close) => OutFrame::Close(close.map(|(code, _)| code)),
                Err(e) => panic!("sent an invalid close payload {payload:?}: {e:?}"),
            },
            opcode => OutFrame::Data {
                opcode,
                fin: head.fin,
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

/// The message rules (sections 5.4 and 5.6) on a data frame's header: a continuation
/// continues a message, a new message does not interrupt one; and the message's size so
/// far, with this frame's declared length, stays within `max` (section 10.4). `message`
/// is the message in progress (its kind and size so far); `len` the frame's length if it
/// is known yet. Returns the rule broken, if any.
fn message_rule(
    opcode: u8,
    len: Option<u64>,
    message: Option<u64>,
    max: u64,
) -> Option<ProtocolError> {
    if !rfc::opcode_is_data(opcode) {
        return None;
    }
    let size = match (opcode, message) {
        (0, None) => return Some(ProtocolError::UnexpectedContinuation),
        (0, Some(so_far)) => so_far.saturating_add(len?),
        (_, Some(_)) => return Some(ProtocolError::ExpectedContinuation),
        (_, None) => len?,
    };
    (size > max).then_some(ProtocolError::MessageTooLarge { size, max })
}

/// The events RFC 6455 prescribes for a receiver in `role` with `config` that was fed
/// `input` (and then the end of the transport, if `eof`), polled to exhaustion.
///
/// Frames are cut and judged by [`rfc::scan_head`]; a failure is given as
/// [`Ev::AnyOf`] every rule the offending bytes break (the RFC orders none of them): the
/// header's rules as soon as the bytes they read are there, the message rules once the
/// header is whole (or alongside a broken header, as far as its bytes tell).
pub fn reference(role: Role, config: &Config, input: &[u8], eof: bool) -> Vec<Ev> {
    let mut pos = 0;
    let mut out = Vec::new();
    // The data message in progress: kind, bytes so far, size declared so far.
    let mut message: Option<(DataKind, Vec<u8>, u64)> = None;
    let mut oracle = TextOracle::default();
    let abnormal = Ev::Closed(1006, String::new());
    let max_message = config.max_message_size;
    loop {
        let scan = rfc::scan_head(&input[pos..], role, config.max_frame_size);
        let so_far = message.as_ref().map(|m| m.2);
        if !scan.broken.is_empty() {
            let mut fails: Vec<Fail> = scan
                .broken
                .iter()
                .map(|&e| Fail::Other(ProtocolError::Frame(e)))
                .collect();
            let opcode = scan.opcode.expect("a broken header has its first byte");
            if let Some(e) = message_rule(opcode, scan.len, so_far, max_message) {
                fails.push(Fail::Other(e));
            }
            out.push(Ev::AnyOf(fails));
            return out;
        }
        let Some(head) = scan.head else {
            if eof {
                out.push(abnormal);
            }
            return out;
        };
        pos += head.size;
        if let Some(e) = message_rule(head.opcode, Some(head.len), so_far, max_message) {
            out.push(Ev::AnyOf(vec![Fail::Other(e)]));
            return out;
        }
        let mut text = false;
        match (head.opcode, message.as_mut()) {
            (0, Some(m)) => {
                m.2 += head.len;
                text = m.0 == DataKind::Text;
            }
            (op @ (1 | 2), None) => {
                let kind = if op == 1 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                text = kind == DataKind::Text;
                message = Some((kind, Vec::new(), head.len));
                oracle = TextOracle::default();
            }
            _ => {}
        }
        // All of the payload that is there.
        let len = usize::try_from(head.len).unwrap_or(usize::MAX);
        let n = len.min(input.len() - pos);
        let mut data = input[pos..pos + n].to_vec();
        pos += n;
        if let Some(key) = head.mask {
            rfc::unmask(&mut data, key, 0);
        }
        let last = n == len;
        if rfc::opcode_is_data(head.opcode) {
            let m = message.as_mut().expect("a message is in progress");
            m.1.extend_from_slice(&data);
            if text {
                // Fail fast: as soon as a byte arrives that no continuation can fix.
                if let Err(offset) = oracle.impossible(&m.1) {
                    out.push(Ev::AnyOf(vec![Fail::Utf8 {
                        offset,
                        incomplete: false,
                    }]));
                    return out;
                }
                if let (true, Err(offset)) = (last && head.fin, oracle.finish(&m.1)) {
                    out.push(Ev::AnyOf(vec![Fail::Utf8 {
                        offset,
                        incomplete: true,
                    }]));
                    return out;
                }
            }
        }
        if !last {
            if eof {
                out.push(abnormal);
            }
            return out;
        }
        match head.opcode {
            0x9 => out.push(Ev::Ping(data)),
            0xA => out.push(Ev::Pong(data)),
            0x8 => {
                out.push(match rfc::close_payload(&data) {
                    Ok(Some((code, reason))) => Ev::Closed(code, reason.to_owned()),
                    Ok(None) => Ev::Closed(1005, String::new()),
                    Err(broken) => Ev::AnyOf(
                        broken
                            .into_iter()
                            .map(|e| Fail::Other(ProtocolError::Close(e)))
                            .collect(),
                    ),
                });
                return out;
            }
            _ if head.fin => {
                let (kind, bytes, _) = message.take().expect("a message is in progress");
                out.push(Ev::Message(kind, bytes));
            }
            _ => {}
        }
    }
}

/// Whether the events a connection reported are the ones [`reference`] prescribes: equal,
/// except that an error matches [`Ev::AnyOf`] a list that holds it.
pub fn agrees(got: &[Ev], want: &[Ev]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| match (g, w) {
            (Ev::Error(f), Ev::AnyOf(allowed)) => allowed.contains(f),
            (g, w) => g == w,
        })
}

/// Follows the frames a connection is fed, without allocating (for the targets' memory
/// checks): whether the input so far ends between frames and outside any fragmented
/// message, i.e. whether a connection that polled all of it holds no part of a frame or
/// message.
pub struct Framing {
    role: Role,
    head: [u8; 14],
    have: usize,
    remaining: u64,
    in_message: bool,
    broken: bool,
}

impl Framing {
    pub fn new(receiver: Role) -> Self {
        Framing {
            role: receiver,
            head: [0; 14],
            have: 0,
            remaining: 0,
            in_message: false,
            broken: false,
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.broken {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len() as u64);
                self.remaining -= n;
                data = &data[n as usize..];
                continue;
            }
            self.head[self.have] = data[0];
            self.have += 1;
            data = &data[1..];
            let scan = rfc::scan_head(&self.head[..self.have], self.role, u64::MAX);
            if !scan.broken.is_empty() {
                self.broken = true;
            } else if let Some(head) = scan.head {
                self.have = 0;
                self.remaining = head.len;
                if rfc::opcode_is_data(head.opcode) {
                    self.in_message = !head.fin;
                }
            }
        }
    }

    /// Between frames (no part of a header or payload pending), no broken header seen.
    pub fn between_frames(&self) -> bool {
        !self.broken && self.have == 0 && self.remaining == 0
    }

    /// A fragmented message has started and not ended (or a broken header was seen).
    pub fn in_message(&self) -> bool {
        self.broken || self.in_message
    }

    /// Between frames, outside a fragmented message, and no broken header seen.
    pub fn at_rest(&self) -> bool {
        self.between_frames() && !self.in_message()
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

/// The header length of a frame with a `payload`-byte payload (RFC 6455 section 5.2: the
/// shortest length form, then the key a client adds).
pub fn queue_frame_header(client: bool, payload: usize) -> usize {
    let length = match payload {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    };
    length + if client { 4 } else { 0 }
}

/// `Config::max_queued_output`'s rule, by its documentation: a frame of `payload` bytes
/// (its header as RFC 6455 section 5.2 writes it, with a key from a client) is refused when
/// `queued` bytes are unwritten and it would take them past `max`; any frame fits an empty
/// queue.
pub fn queue_room(
    client: bool,
    queued: usize,
    payload: usize,
    max: usize,
) -> Result<(), rfc6455::connection::SendError> {
    let frame = payload + queue_frame_header(client, payload);
    if queued == 0 || queued + frame <= max {
        Ok(())
    } else {
        Err(rfc6455::connection::SendError::QueueFull { queued, frame, max })
    }
}

/// The queue bound's verdict on a send of `payload` bytes that answered `got`, with `now`
/// bytes pending after it: the unwritten output before the send is `now`, less the frame if
/// it was queued (a refused send queues nothing).
pub fn queue_verdict(
    client: bool,
    now: usize,
    got: &Result<(), rfc6455::connection::SendError>,
    payload: usize,
    max: usize,
) -> Result<(), rfc6455::connection::SendError> {
    let queued = match got {
        Ok(()) => now
            .checked_sub(payload + queue_frame_header(client, payload))
            .expect("a queued frame adds its length to the output"),
        Err(_) => now,
    };
    queue_room(client, queued, payload, max)
}

impl SendModel {
    /// A data send in `state`: whole (`fragment` `None`) or one fragment (kind, fin), with
    /// `room` the queue bound's verdict ([`queue_room`]), which comes after the state and
    /// order checks. On success returns the opcode of the frame and updates the fragment
    /// state.
    pub fn data(
        &mut self,
        state: rfc6455::connection::State,
        kind: DataKind,
        fragment: Option<bool>,
        room: Result<(), rfc6455::connection::SendError>,
    ) -> Result<u8, rfc6455::connection::SendError> {
        use rfc6455::connection::{SendError, State};
        if state != State::Open || self.close_sent {
            return Err(SendError::NotOpen(state));
        }
        let opcode = if kind == DataKind::Text { 1 } else { 2 };
        match (fragment, self.tx_fragment) {
            (None, None) => room.map(|()| opcode),
            (None, Some(_)) => Err(SendError::FragmentOrder),
            (Some(fin), current) => {
                let opcode = match current {
                    None => opcode,
                    Some(k) if k == kind => 0,
                    Some(_) => return Err(SendError::FragmentOrder),
                };
                room?;
                self.tx_fragment = if fin { None } else { Some(kind) };
                Ok(opcode)
            }
        }
    }

    /// A ping or pong of `len` bytes in `state`, with `room` as for [`data`](Self::data).
    pub fn control(
        &self,
        state: rfc6455::connection::State,
        len: usize,
        room: Result<(), rfc6455::connection::SendError>,
    ) -> Result<(), rfc6455::connection::SendError> {
        use rfc6455::connection::{SendError, State};
        if state != State::Open || self.close_sent {
            Err(SendError::NotOpen(state))
        } else if len > 125 {
            Err(SendError::ControlTooLong { len })
        } else {
            room
        }
    }

    /// `close(code, reason)` in `state`.
    pub fn close(
        &mut self,
        state: rfc6455::connection::State,
        code: u16,
        reason: &str,
    ) -> Result<(), rfc6455::connection::SendError> {
        use rfc6455::close::{CloseCode, CloseError};
        use rfc6455::connection::{SendError, State};
        if self.close_sent || matches!(state, State::Closed | State::Connecting) {
            return Err(SendError::NotOpen(state));
        }
        if rfc::close_code_use(code) != rfc::CodeUse::Sendable {
            return Err(SendError::InvalidClose(CloseError::InvalidCode(CloseCode(
                code,
            ))));
        }
        if reason.len() > rfc::MAX_REASON {
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
