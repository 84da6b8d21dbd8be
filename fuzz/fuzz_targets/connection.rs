//! The connection state machine in either role, fed arbitrary bytes in arbitrary pieces,
//! interleaved with arbitrary API calls, polled through both `poll_event` and
//! `poll_event_ref`.
//!
//! Each input runs twice. The lean run keeps nothing but the connection and checks after
//! every step, with a counting global allocator, the memory bounds SECURITY.md states
//! (see `Run::check_memory`): each buffer within twice what it may hold by the limits and
//! by what the caller fed or queued since it last drained, or the reuse capacity; pending
//! output within what the caller queued plus the pong pause, one pong and one close; and
//! after `shrink_buffers` on an idle connection, at most the retained capacity per
//! buffer. The full run records everything and checks:
//! - every call's result is exactly what the API contract says (send errors included);
//! - the state only moves forward (Open, Closing, Closed); after an `Err`, or after
//!   `Closed`, every poll returns `Ok(None)`; errors carry 1002, 1007 or 1009;
//! - the events equal those of a reference model of RFC 6455's receive rules over the
//!   bytes the connection accepted (stream-mode chunks joined, with their flags checked),
//!   written from scratch in `rfc6455_fuzz` (its own header rules and close-code table);
//! - everything written decodes, as the peer would, into valid frames that are exactly
//!   the frames asked for plus the automatic pongs and close frames, nothing after close.
//!
//! Bytes are fed with `receive` or read into `receive_buffer` (op 0 with bit 7 set) or
//! with `receive_with` (bits 7 and 5).
//!
//! Input: byte 0 flags (bit 0 server, bit 1 stream mode, bit 2 auto-pong off, bit 3 no
//! size limits, bits 4-7 retained capacity / 64), byte 1 frame limit / 16, byte 2 message
//! limit / 64, byte 3 pong pause / 64, byte 4 bit 0: the default limits instead (all of
//! `Config::default()` but bits 0-2); then operations, each a tag byte and arguments (see
//! `Run::step`).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::bytes::BufMut;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Config, Connection, DataKind, Message, ProtocolError, ReceiveMode, SendError, State,
};
use rfc6455::frame::OpCode;
use rfc6455_fuzz::{
    Counting, Ev, Fail, Framing, Input, OutFrame, Rec, SendModel, agrees, decode_output,
    live_bytes, rank, reference,
};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most bytes one input may feed through repetition, to keep runs fast.
const MAX_AMPLIFIED: usize = 64 << 10;

/// The largest automatic reply: a pong or close of 125 payload bytes, masked (RFC 6455
/// section 5.2: 2 header bytes and a 4-byte key).
const MAX_REPLY: usize = 2 + 4 + 125;

/// Bookkeeping beside the buffers that SECURITY.md's memory claims count: the control
/// block of a receive buffer that was split (`bytes`), and small fixed allocations.
const BOOKKEEPING: usize = 128;

fn config(flags: u8, frame: u8, message: u8, pong: u8, preset: u8) -> Config {
    let mut c = Config::default();
    if flags & 2 != 0 {
        c.receive_mode = ReceiveMode::Stream;
    }
    c.auto_pong = flags & 4 == 0;
    if preset & 1 != 0 {
        // The limits every application gets unless it changes them.
        return c;
    }
    if flags & 8 != 0 {
        c.max_frame_size = u64::MAX;
        c.max_message_size = u64::MAX;
    } else {
        c.max_frame_size = u64::from(frame) * 16;
        c.max_message_size = u64::from(message) * 64;
    }
    c.max_pending_output_for_pong = usize::from(pong) * 64;
    c.idle_buffer_capacity = usize::from(flags >> 4) * 64;
    // Buffers up to this size are kept for reuse once drained: 0 to 30 KiB.
    c.active_buffer_capacity = c.idle_buffer_capacity * 32;
    c
}

/// A writer that takes at most `max` bytes per call.
struct Trickle<'a> {
    out: &'a mut Vec<u8>,
    max: usize,
}

impl std::io::Write for Trickle<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Run {
    conn: Connection,
    role: Role,
    cfg: Config,
    full: bool,
    // Memory accounting (both runs).
    base: isize,
    fed_total: usize,
    fed_since_drain: usize,
    fed_since_drain_max: usize,
    pending_max: usize,
    pending_max_ever: usize,
    /// Bytes the caller's own calls queued since the output was last seen empty.
    queued_by_caller: usize,
    amplified: usize,
    lent_max: usize,
    /// Where the bytes fed so far leave the frames (both runs; allocation-free).
    framing: Framing,
    eof: bool,
    // The model (full run).
    accepted: Vec<u8>,
    errored: bool,
    closed_seen: bool,
    model: SendModel,
    state: State,
    events: Vec<Ev>,
    stream_msg: Option<(DataKind, Vec<u8>)>,
    written: Vec<u8>,
    expected_out: Vec<OutFrame>,
    /// The automatic pong deferred while the output was over the pong pause (RFC 6455
    /// section 5.5.2: the latest ping is answered once the output drains to the pause):
    /// its payload's length (both runs) and the payload (full run).
    deferred: Option<(usize, Vec<u8>)>,
}

impl Run {
    fn new(role: Role, cfg: Config, full: bool) -> Run {
        let base = live_bytes();
        Run {
            conn: match role {
                rfc6455::Role::Server => Connection::upgraded_server(cfg),
                rfc6455::Role::Client => Connection::upgraded_client(cfg, [0x5A; 32]),
            },
            role,
            cfg,
            full,
            base,
            fed_total: 0,
            fed_since_drain: 0,
            fed_since_drain_max: 0,
            pending_max: 0,
            pending_max_ever: 0,
            queued_by_caller: 0,
            amplified: 0,
            lent_max: 0,
            framing: Framing::new(role),
            eof: false,
            accepted: Vec::new(),
            errored: false,
            closed_seen: false,
            model: SendModel::default(),
            state: State::Open,
            events: Vec::new(),
            stream_msg: None,
            written: Vec::new(),
            expected_out: Vec::new(),
            deferred: None,
        }
    }

    fn receive(&mut self, data: &[u8]) {
        self.conn.receive(data);
        self.note_fed(data);
    }

    /// Feed `data` the read-into way: reads of at most `want` bytes into the room
    /// `receive_buffer` lends, the rest of each room scribbled over, or with `spare` into
    /// the room `receive_with` lends, appended in two pieces; with `abandon`, one more room
    /// is lent and never committed or appended to (a read that failed).
    fn receive_into(&mut self, mut data: &[u8], want: usize, abandon: bool, spare: bool) {
        self.lent_max = self.lent_max.max(want);
        while !data.is_empty() {
            let n = if spare {
                self.conn.receive_with(want, |room| {
                    let len = room.remaining_mut();
                    assert!(len >= 1 && len <= want);
                    let n = len.min(data.len());
                    room.put_slice(&data[..n / 2]);
                    room.put_slice(&data[n / 2..n]);
                    n
                })
            } else {
                let room = self.conn.receive_buffer(want);
                assert!(!room.is_empty() && room.len() <= want);
                let n = room.len().min(data.len());
                room[..n].copy_from_slice(&data[..n]);
                room[n..].fill(0xA5);
                self.conn.commit_received(n);
                n
            };
            self.note_fed(&data[..n]);
            data = &data[n..];
        }
        if abandon && spare {
            self.conn
                .receive_with(want, |room| assert!(room.remaining_mut() >= 1));
        } else if abandon {
            self.conn.receive_buffer(want).fill(0x5A);
        }
    }

    fn note_fed(&mut self, data: &[u8]) {
        self.fed_total += data.len();
        self.fed_since_drain += data.len();
        self.fed_since_drain_max = self.fed_since_drain_max.max(self.fed_since_drain);
        if !self.eof {
            self.framing.feed(data);
            if self.full {
                self.accepted.extend_from_slice(data);
            }
        }
    }

    /// The automatic answer to a ping that arrived in `state_before` with `pending_before`
    /// bytes unsent: a pong queued at once (true), or deferred while the output is over
    /// the pong pause (only the latest ping need be answered: RFC 6455 section 5.5.2), or
    /// none (auto-pong off, or the connection no longer open).
    fn auto_pong(&mut self, ping: &[u8], state_before: State, pending_before: usize) -> bool {
        if !self.cfg.auto_pong || state_before != State::Open {
            return false;
        }
        if pending_before <= self.cfg.max_pending_output_for_pong {
            // A deferred pong would have gone out when the output drained.
            assert!(self.deferred.is_none(), "a pong deferred under the pause");
            return true;
        }
        let kept = if self.full { ping.to_vec() } else { Vec::new() };
        self.deferred = Some((ping.len(), kept));
        false
    }

    /// Count what one of the caller's send calls queued.
    fn note_queued(&mut self, pending_before: usize) {
        let now = self.conn.pending_output_len();
        self.queued_by_caller += now.saturating_sub(pending_before);
    }

    fn receive_eof(&mut self) {
        self.conn.receive_eof();
        self.eof = true;
    }

    /// One poll; returns whether it produced an event.
    fn poll(&mut self, by_ref: bool) -> bool {
        let pending_before = self.conn.pending_output_len();
        let state_before = self.conn.state();
        let result: Result<Option<Rec>, ProtocolError> = if by_ref {
            self.conn.poll_event_ref().map(|e| e.map(Rec::from_ref))
        } else {
            self.conn.poll_event().map(|e| e.map(Rec::from_owned))
        };
        if !matches!(result, Ok(Some(_))) {
            self.fed_since_drain = 0;
        }
        let more = matches!(result, Ok(Some(_)));
        if !self.full {
            if let Ok(Some(Rec::Ping(p))) = &result {
                self.auto_pong(p, state_before, pending_before);
            }
            return more;
        }
        if self.errored || self.closed_seen {
            assert_eq!(result, Ok(None), "a poll after the end returned something");
        }
        match result {
            Ok(None) => {}
            Err(e) => {
                assert!(
                    matches!(e.close_code().map(|c| c.0), Some(1002 | 1007 | 1009)),
                    "{e:?}"
                );
                assert_eq!(self.conn.state(), State::Closed);
                if !self.model.close_sent {
                    self.expected_out
                        .push(OutFrame::Close(e.close_code().map(|c| c.0)));
                    self.model.close_sent = true;
                }
                self.errored = true;
                self.stream_msg = None;
                self.events.push(Ev::Error(Fail::from(e)));
            }
            Ok(Some(rec)) => self.record(rec, state_before, pending_before),
        }
        self.check_state();
        more
    }

    fn record(&mut self, rec: Rec, state_before: State, pending_before: usize) {
        let stream = self.cfg.receive_mode == ReceiveMode::Stream;
        match rec {
            Rec::Message(kind, data) => {
                assert!(!stream, "whole message in stream mode");
                assert!(data.len() as u64 <= self.cfg.max_message_size);
                self.events.push(Ev::Message(kind, data));
            }
            Rec::Chunk {
                kind,
                data,
                first,
                last,
            } => {
                assert!(stream, "chunk in messages mode");
                match &mut self.stream_msg {
                    None => {
                        assert!(first, "a message's first chunk is not marked first");
                        self.stream_msg = Some((kind, data));
                    }
                    Some((k, acc)) => {
                        assert!(!first, "first chunk inside a message");
                        assert_eq!(*k, kind, "kind changed inside a message");
                        acc.extend_from_slice(&data);
                    }
                }
                let (k, acc) = self.stream_msg.as_ref().expect("set above");
                assert!(acc.len() as u64 <= self.cfg.max_message_size);
                if *k == DataKind::Text {
                    // Valid so far; may end inside a character unless it is the last.
                    match core::str::from_utf8(acc) {
                        Ok(_) => {}
                        Err(e) => assert!(!last && e.error_len().is_none(), "bad text chunk"),
                    }
                }
                if last {
                    let (k, acc) = self.stream_msg.take().expect("set above");
                    self.events.push(Ev::Message(k, acc));
                }
            }
            Rec::Ping(p) => {
                assert!(p.len() <= 125);
                if self.auto_pong(&p, state_before, pending_before) {
                    self.expected_out.push(OutFrame::Pong(p.clone()));
                }
                self.events.push(Ev::Ping(p));
            }
            Rec::Pong(p) => {
                assert!(p.len() <= 125);
                self.events.push(Ev::Pong(p));
            }
            Rec::Closed(code, reason) => {
                assert_eq!(self.conn.state(), State::Closed);
                if code == 1006 {
                    assert!(self.eof, "1006 without the end of the transport");
                } else if !self.model.close_sent {
                    // Section 5.5.1: echo the code received; 1005 stands for none.
                    let echo = (code != 1005).then_some(code);
                    self.expected_out.push(OutFrame::Close(echo));
                    self.model.close_sent = true;
                }
                self.closed_seen = true;
                self.stream_msg = None;
                self.events.push(Ev::Closed(code, reason));
            }
        }
    }

    fn check_state(&mut self) {
        let now = self.conn.state();
        assert!(rank(now) >= rank(self.state), "{:?} -> {now:?}", self.state);
        assert_ne!(now, State::Connecting);
        self.state = now;
        if self.conn.should_close_transport() {
            assert_eq!(now, State::Closed);
            assert_eq!(self.conn.pending_output_len(), 0);
        }
    }

    fn poll_all(&mut self, mut by_ref: bool) {
        // Each poll makes progress on a bounded input, so this ends.
        while self.poll(by_ref) {
            by_ref = !by_ref;
        }
    }

    fn sent_data(
        &mut self,
        got: Result<(), SendError>,
        kind: DataKind,
        fragment: Option<bool>,
        payload: &[u8],
    ) {
        if !self.full {
            return;
        }
        let room = self.room(&got, payload.len());
        let want = self.model.data(self.conn.state(), kind, fragment, room);
        assert_eq!(got, want.map(|_| ()), "data send result");
        if let Ok(opcode) = want {
            self.expected_out.push(OutFrame::Data {
                opcode,
                fin: fragment.unwrap_or(true),
                payload: payload.to_vec(),
            });
        }
        self.check_state();
    }

    /// The queue bound's verdict on a send of `payload` bytes that answered `got`.
    fn room(
        &self,
        got: &Result<(), rfc6455::connection::SendError>,
        payload: usize,
    ) -> Result<(), rfc6455::connection::SendError> {
        let client = self.role == Role::Client;
        let now = self.conn.pending_output_len();
        rfc6455_fuzz::queue_verdict(client, now, got, payload, self.cfg.max_queued_output)
    }

    fn sent_control(&mut self, got: Result<(), SendError>, opcode: OpCode, payload: &[u8]) {
        if !self.full {
            return;
        }
        let room = self.room(&got, payload.len());
        let want = self.model.control(self.conn.state(), payload.len(), room);
        assert_eq!(got, want, "control send result");
        if want.is_ok() {
            self.expected_out.push(if opcode == OpCode::Ping {
                OutFrame::Ping(payload.to_vec())
            } else {
                OutFrame::Pong(payload.to_vec())
            });
        }
        self.check_state();
    }

    fn close(&mut self, code: u16, reason: &str) {
        let state = self.conn.state();
        let got = self.conn.close(CloseCode(code), reason);
        if !self.full {
            return;
        }
        let want = self.model.close(state, code, reason);
        assert_eq!(got, want, "close result");
        if want.is_ok() {
            self.expected_out.push(OutFrame::Close(Some(code)));
            assert_eq!(self.conn.state(), State::Closing);
        }
        self.check_state();
    }

    /// Pending output as one vector, checking the three views of it agree.
    fn pending(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for slice in self.conn.pending_output_slices() {
            assert!(!slice.is_empty());
            all.extend_from_slice(slice);
        }
        assert_eq!(all.len(), self.conn.pending_output_len());
        let front = self.conn.pending_output_chunk();
        assert!(all.starts_with(front));
        assert_eq!(front.is_empty(), all.is_empty());
        all
    }

    fn advance(&mut self, n: usize) {
        let left = self.conn.pending_output_len().saturating_sub(n);
        if self.full {
            let all = self.pending();
            self.written.extend_from_slice(&all[..n.min(all.len())]);
        }
        self.conn.advance_output(n);
        let pong = self.released_pong(left);
        assert_eq!(self.conn.pending_output_len(), left + pong, "deferred pong");
    }

    /// After a write that left `left` bytes pending: the deferred pong's frame length if
    /// the write released it (the connection still open and the output within the pause),
    /// and the pong expected in its place in the output; it is dropped once the
    /// connection is no longer open.
    fn released_pong(&mut self, left: usize) -> usize {
        let Some((len, _)) = self.deferred else {
            return 0;
        };
        if self.conn.state() != State::Open {
            self.deferred = None;
            return 0;
        }
        if left > self.cfg.max_pending_output_for_pong {
            return 0;
        }
        let (_, payload) = self.deferred.take().expect("checked above");
        self.expected_out.push(OutFrame::Pong(payload));
        let mask = if self.role == Role::Client { 4 } else { 0 };
        2 + mask + len
    }

    fn write_to(&mut self, max: usize) {
        let mut sink = Vec::new();
        // The deferred pong goes out in the same call, once the output is within the
        // pause (a write of the whole output reaches it, or the connection is not open).
        let before = self.conn.pending_output_len() + self.released_pong(0);
        let n = self
            .conn
            .write_to(&mut Trickle {
                out: &mut sink,
                max,
            })
            .expect("an infallible writer");
        assert_eq!(n, before);
        assert_eq!(sink.len(), before);
        assert_eq!(self.conn.pending_output_len(), 0);
        if self.full {
            self.written.extend_from_slice(&sink);
        }
    }

    /// The memory bounds of SECURITY.md ("Memory bounded by the limits and by what the
    /// application feeds"), per buffer, as live heap (lean run only):
    /// - the receive buffer "holds the bytes fed since the last `poll_event` that returned
    ///   `Ok(None)`, plus at most one incomplete frame (14 header bytes and at most
    ///   `max_frame_size` of payload)", and "room lent by `receive_buffer(want)` for a read
    ///   is at most `want` bytes";
    /// - "the reassembly buffer of a fragmented message holds at most `max_message_size`
    ///   bytes";
    /// - the output holds what is pending (what the caller queued, by reference or copied,
    ///   and the automatic replies);
    /// - "buffers may have up to twice the capacity of their contents while growing.
    ///   Drained buffers up to `active_buffer_capacity` are kept for reuse";
    ///
    /// so each buffer is within the larger of twice its contents and the reuse capacity,
    /// and within the reuse capacity once drained ("larger ones are released as soon as
    /// drained"): once everything fed was polled, the receive buffer when no frame is partly
    /// in, the reassembly buffer when no fragmented message is. Limits are capped by the
    /// bytes fed (no buffer grows by a declared length). Besides
    /// the buffers: the output's queue of by-reference payloads, which SECURITY.md does not
    /// count (two 32-byte entries per payload of at least 4 KiB; the queue doubles and is
    /// kept when drained: `pending_max_ever / 16`), and [`BOOKKEEPING`].
    ///
    /// And the automatic replies: "pongs stop while more than `max_pending_output_for_pong`
    /// bytes are unsent (so at most that much plus one 127-131 byte pong), and at most one
    /// close frame is ever queued", so pending output is within what the caller queued
    /// since it was last empty plus that.
    fn check_memory(&mut self) {
        let pending = self.conn.pending_output_len();
        if pending == 0 {
            self.queued_by_caller = 0;
        }
        assert!(
            pending <= self.queued_by_caller + self.cfg.max_pending_output_for_pong + 2 * MAX_REPLY,
            "pending output {pending}: the caller queued {} since it was last empty, the pong \
             pause is {}",
            self.queued_by_caller,
            self.cfg.max_pending_output_for_pong
        );
        self.pending_max = if pending == 0 {
            0
        } else {
            self.pending_max.max(pending)
        };
        self.pending_max_ever = self.pending_max_ever.max(pending);
        if self.full {
            return;
        }
        let cap = |limit: u64| {
            usize::try_from(limit)
                .unwrap_or(usize::MAX)
                .min(self.fed_total)
        };
        let frame = cap(self.cfg.max_frame_size);
        let message = cap(self.cfg.max_message_size);
        let reuse = self
            .cfg
            .active_buffer_capacity
            .max(self.cfg.idle_buffer_capacity);
        let mut receive = self.fed_since_drain_max + 14 + frame + self.lent_max;
        let mut message = message;
        if !self.eof && self.conn.state() != State::Closed {
            // "Drained buffers up to `active_buffer_capacity` are kept for reuse; larger ones are
            // released as soon as drained": everything fed was polled and no frame is
            // partly in, or no fragmented message is in progress.
            if self.fed_since_drain == 0 && self.framing.between_frames() {
                receive = 0;
            }
            // (A message is in progress until its last fragment is whole, not only
            // until that fragment's header is in.)
            if self.fed_since_drain == 0 && self.framing.at_rest() {
                message = 0;
            }
        }
        let out = self.pending_max;
        let bound = (2 * receive).max(reuse)
            + (2 * message).max(reuse)
            // Copied bytes within the larger of twice theirs and the reuse capacity, the
            // caller's by-reference payloads at their size.
            + (2 * out).max(reuse + out)
            + self.pending_max_ever / 16
            + BOOKKEEPING;
        let live = live_bytes() - self.base;
        assert!(
            live <= bound as isize,
            "live heap {live} over the bound {bound} (receive {receive}: fed since drain {}, \
             frame {frame}, lent {}; message {message}; pending {out}, ever {}; reuse {reuse})",
            self.fed_since_drain_max,
            self.lent_max,
            self.pending_max_ever,
        );
    }

    /// `shrink_buffers`, and SECURITY.md's claim on it: it "gives back everything above
    /// `idle_buffer_capacity`" (per buffer: receive, reassembly, output) when the connection
    /// is idle (everything fed was polled, between frames and messages, nothing pending).
    /// `shrink_buffers_between_bursts` gives back the same (its remembered size only sets
    /// the next allocation, within the reuse capacity `check_memory` allows).
    fn shrink(&mut self, between_bursts: bool) {
        let before = live_bytes();
        let freed = if between_bursts {
            self.conn.shrink_buffers_between_bursts()
        } else {
            self.conn.shrink_buffers()
        };
        let after = live_bytes();
        if self.full {
            return;
        }
        assert!(
            after <= before,
            "shrink_buffers allocated {} bytes",
            after - before
        );
        if freed > 0 {
            assert!(
                after < before,
                "shrink_buffers reported {freed} bytes freed, none were"
            );
        }
        let idle = !self.eof
            && matches!(self.conn.state(), State::Open | State::Closing)
            && self.conn.pending_output_len() == 0
            && self.fed_since_drain == 0
            && self.framing.at_rest();
        if idle {
            let live = after - self.base;
            let bound = 3 * self.cfg.idle_buffer_capacity + BOOKKEEPING;
            assert!(
                live <= bound as isize,
                "idle after shrink_buffers: live heap {live} over {bound} (retained capacity {}; \
                 freed {freed})",
                self.cfg.idle_buffer_capacity
            );
        }
    }

    /// Run one operation; `None` when the input is used up.
    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        let tag = input.byte()?;
        let pending_before = self.conn.pending_output_len();
        if matches!(tag % 16, 6..=11 | 14) {
            // The caller's own sends: what they queue is the caller's.
            self.step_op(tag, input)?;
            self.note_queued(pending_before);
            return Some(());
        }
        self.step_op(tag, input)
    }

    fn step_op(&mut self, tag: u8, input: &mut Input<'_>) -> Option<()> {
        match tag % 16 {
            0 if tag & 0x80 != 0 => {
                // Read into the connection's buffer, in reads of up to a third of the blob
                // (bit 5: with `receive_with`).
                let data = input.blob()?;
                self.receive_into(data, data.len() / 3 + 1, tag & 0x40 != 0, tag & 0x20 != 0);
            }
            0 => {
                let data = input.blob()?;
                self.receive(data);
            }
            1 => {
                let n = input.u16()? as usize;
                let data = input.take(n);
                self.receive(data);
            }
            2 => {
                // Amplify: feed a pattern many times, polling (and maybe writing) after each.
                let spec = input.byte()?;
                let pattern = input.blob()?;
                let count = usize::from(spec & 0x7F) * 16 + 1;
                for _ in 0..count {
                    if pattern.is_empty() || self.amplified + pattern.len() > MAX_AMPLIFIED {
                        break;
                    }
                    self.amplified += pattern.len();
                    self.receive(pattern);
                    self.poll_all(tag & 0x80 != 0);
                    if spec & 0x80 != 0 {
                        let n = self.conn.pending_output_len();
                        self.advance(n);
                    }
                }
            }
            3 => {
                self.poll(false);
            }
            4 => {
                self.poll(true);
            }
            5 => self.poll_all(tag & 0x80 != 0),
            6 => {
                let text = String::from_utf8_lossy(input.blob()?).into_owned();
                let got = self.conn.send_text(&text);
                self.sent_data(got, DataKind::Text, None, text.as_bytes());
            }
            7 => {
                let data = input.blob()?;
                let got = self.conn.send_binary(data);
                self.sent_data(got, DataKind::Binary, None, data);
            }
            8 => {
                let flags = input.byte()?;
                let data = input.blob()?;
                let kind = if flags & 1 == 0 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                let fin = flags & 2 != 0;
                let got = self.conn.send_fragment(kind, data, fin);
                self.sent_data(got, kind, Some(fin), data);
            }
            9 => {
                let data = input.blob()?;
                let got = self.conn.send_ping(data);
                self.sent_control(got, OpCode::Ping, data);
            }
            10 => {
                let data = input.blob()?;
                let got = self.conn.send_pong(data);
                self.sent_control(got, OpCode::Pong, data);
            }
            11 => {
                let code = input.u16()?;
                let reason = String::from_utf8_lossy(input.blob()?).into_owned();
                self.close(code, &reason);
            }
            12 if tag & 0x80 != 0 => self.shrink(tag & 0x40 != 0),
            12 => self.receive_eof(),
            13 => {
                let n = input.u16()? as usize;
                self.advance(n);
            }
            14 => {
                // An owned message, large enough to be queued by reference.
                let size = usize::from(input.byte()?) * 64;
                let fill = input.byte()?;
                // Bytes fill, fill + 1, ... (wrapping), copied a block at a time.
                let ramp: Vec<u8> = (0..=255u8).chain(0..=255).collect();
                let mut payload = vec![0u8; size];
                for block in payload.chunks_mut(256) {
                    let n = block.len();
                    block.copy_from_slice(&ramp[usize::from(fill)..][..n]);
                }
                let (kind, message) = if tag & 0x80 != 0 {
                    let mut text = String::from_utf8_lossy(&payload).into_owned();
                    // Exactly its bytes, for the memory bound.
                    text.shrink_to_fit();
                    let bytes = text.clone().into_bytes();
                    (DataKind::Text, (Message::Text(text.into()), bytes))
                } else {
                    let bytes = payload.clone();
                    (
                        DataKind::Binary,
                        (Message::Binary(Bytes::from(payload)), bytes),
                    )
                };
                let (message, bytes) = message;
                let got = self.conn.send(message);
                self.sent_data(got, kind, None, &bytes);
            }
            _ => {
                // 64 bytes to 16 KiB per write call (a byte per call makes slow runs).
                let max = (input.byte()? as usize + 1) * 64;
                self.write_to(max);
            }
        }
        Some(())
    }

    fn finish(mut self) {
        self.poll_all(false);
        if !self.full {
            self.check_memory();
            return;
        }
        while self.conn.pending_output_len() > 0 {
            self.advance(self.conn.pending_output_len());
        }
        self.check_state();
        let sent = decode_output(self.role, &self.written);
        assert_eq!(
            sent, self.expected_out,
            "frames written differ from frames asked for"
        );
        let want = reference(self.role, &self.cfg, &self.accepted, self.eof);
        if std::env::var_os("FUZZ_DEBUG").is_some() {
            eprintln!(
                "{:?}, {} bytes in, {} events, last {:?}; {} frames out, last {:?}",
                self.role,
                self.accepted.len(),
                self.events.len(),
                self.events.last(),
                sent.len(),
                sent.last()
            );
        }
        assert!(
            agrees(&self.events, &want),
            "events differ from the reference model:\n got {:?}\nwant {want:?}",
            self.events
        );
    }
}

fn run(data: &[u8], full: bool) {
    let mut input = Input(data);
    let (Some(flags), Some(frame), Some(message), Some(pong), Some(preset)) = (
        input.byte(),
        input.byte(),
        input.byte(),
        input.byte(),
        input.byte(),
    ) else {
        return;
    };
    let role = if flags & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let mut run = Run::new(role, config(flags, frame, message, pong, preset), full);
    while run.step(&mut input).is_some() {
        run.check_memory();
    }
    run.finish();
}

fuzz_target!(|data: &[u8]| {
    run(data, false);
    run(data, true);
});
