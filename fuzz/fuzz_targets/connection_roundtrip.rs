//! A sender `Connection`'s output, carried to a receiving `Connection` of the other role in
//! arbitrary pieces, yields exactly what the sender was asked to send, and the closing
//! handshake completes.
//!
//! The sender is driven through its API (whole messages, owned messages, fragments in any
//! order, pings, pongs, close), each call's result checked against the API contract. The
//! receiver, polled alternately through `poll_event` and `poll_event_ref`, must report
//! exactly the messages, pings, pongs and close sent, in order, and stop with the exact
//! error its limits or the UTF-8 rule call for when the sender exceeds them or fragments
//! invalid text. At the end the receiver's output (pongs, close reply) travels back, and
//! the sender must see a pong for every ping answered and the closing handshake end.
//!
//! Odd-sized transfers are read into the receiver's `receive_buffer`, even ones fed with
//! `receive`.
//!
//! Input: byte 0 flags (bit 0: the server sends; bit 1: receiver in stream mode; bit 2:
//! receiver limits from bytes 1 and 2, frame = 16 * byte 1, message = 64 * byte 2, else
//! the defaults), bytes 1 and 2; then operations, each a tag byte and arguments (see
//! `Pair::step`).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Config, Connection, DataKind, Message, ProtocolError, ReceiveMode, State,
};
use rfc6455::frame::FrameError;
use rfc6455_fuzz::{Ev, Fail, Input, Rec, SendModel};

/// 16 KiB of ASCII letters, built once (a loop per byte is slow under instrumentation).
fn pattern() -> &'static [u8] {
    static PATTERN: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| (0..255 * 64).map(|i| (i % 61) as u8 + b'A').collect())
}

/// What the receiver must report for the frames sent so far, by RFC 6455's rules and its
/// limits: the message-level view of the frames the sender was asked to send.
struct Expect {
    config: Config,
    events: Vec<Ev>,
    /// The message being received: kind, bytes, and where its text is known valid up to.
    message: Option<(DataKind, Vec<u8>, usize)>,
    /// The receiver has stopped: a close or an error is expected.
    done: bool,
}

impl Expect {
    fn stop(&mut self, ev: Ev) {
        self.events.push(ev);
        self.done = true;
    }

    /// A frame of `len` payload bytes passes the frame limit.
    fn frame_fits(&mut self, len: usize) -> bool {
        if len as u64 > self.config.max_frame_size {
            self.stop(Ev::Error(Fail::Other(ProtocolError::Frame(
                FrameError::FrameTooLarge {
                    len: len as u64,
                    max: self.config.max_frame_size,
                },
            ))));
            return false;
        }
        true
    }

    fn data(&mut self, kind: DataKind, fin: bool, payload: &[u8]) {
        if self.done || !self.frame_fits(payload.len()) {
            return;
        }
        let (kind, mut bytes, mut valid) = self.message.take().unwrap_or((kind, Vec::new(), 0));
        bytes.extend_from_slice(payload);
        let size = bytes.len() as u64;
        if size > self.config.max_message_size {
            let max = self.config.max_message_size;
            self.stop(Ev::Error(Fail::Other(ProtocolError::MessageTooLarge {
                size,
                max,
            })));
            return;
        }
        if kind == DataKind::Text {
            match core::str::from_utf8(&bytes[valid..]) {
                Ok(_) => valid = bytes.len(),
                Err(e) => {
                    let offset = (valid + e.valid_up_to()) as u64;
                    if e.error_len().is_some() || fin {
                        let incomplete = e.error_len().is_none();
                        self.stop(Ev::Error(Fail::Utf8 { offset, incomplete }));
                        return;
                    }
                    valid += e.valid_up_to();
                }
            }
        }
        if fin {
            self.events.push(Ev::Message(kind, bytes));
        } else {
            self.message = Some((kind, bytes, valid));
        }
    }

    fn control(&mut self, ping: bool, payload: &[u8]) {
        if self.done || !self.frame_fits(payload.len()) {
            return;
        }
        self.events.push(if ping {
            Ev::Ping(payload.to_vec())
        } else {
            Ev::Pong(payload.to_vec())
        });
    }

    fn close(&mut self, code: u16, reason: &str) {
        if self.done || !self.frame_fits(2 + reason.len()) {
            return;
        }
        self.stop(Ev::Closed(code, reason.to_owned()));
    }
}

struct Pair {
    sender: Connection,
    receiver: Connection,
    model: SendModel,
    expect: Expect,
    got: Vec<Ev>,
    /// The message being received in stream mode.
    stream_msg: Option<(DataKind, Vec<u8>)>,
    /// Pongs the receiver queued, in order.
    pongs: Vec<Vec<u8>>,
    /// The close frame the receiver queued: code, or `None` for an empty one.
    receiver_close: Option<Option<u16>>,
    by_ref: bool,
}

impl Pair {
    fn poll_receiver(&mut self) {
        loop {
            let pending = self.receiver.pending_output_len();
            let state = self.receiver.state();
            self.by_ref = !self.by_ref;
            let result = if self.by_ref {
                self.receiver.poll_event_ref().map(|e| e.map(Rec::from_ref))
            } else {
                self.receiver.poll_event().map(|e| e.map(Rec::from_owned))
            };
            let rec = match result {
                Ok(None) => return,
                Ok(Some(rec)) => rec,
                Err(e) => {
                    assert!(self.receiver_close.is_none(), "error after close: {e:?}");
                    self.receiver_close = Some(Some(
                        e.close_code()
                            .expect("errors after the handshake have a close code")
                            .0,
                    ));
                    self.got.push(Ev::Error(Fail::from(e)));
                    continue;
                }
            };
            let ev = match rec {
                Rec::Message(kind, data) => Ev::Message(kind, data),
                Rec::Chunk {
                    kind,
                    data,
                    first,
                    last,
                } => {
                    match &mut self.stream_msg {
                        None => {
                            assert!(first);
                            self.stream_msg = Some((kind, data));
                        }
                        Some((k, acc)) => {
                            assert!(!first && *k == kind);
                            acc.extend_from_slice(&data);
                        }
                    }
                    if !last {
                        continue;
                    }
                    let (k, acc) = self.stream_msg.take().expect("set above");
                    Ev::Message(k, acc)
                }
                Rec::Ping(p) => {
                    if state == State::Open && pending <= 64 << 10 {
                        self.pongs.push(p.clone());
                    }
                    Ev::Ping(p)
                }
                Rec::Pong(p) => Ev::Pong(p),
                Rec::Closed(code, reason) => {
                    assert!(self.receiver_close.is_none());
                    let echo = (code != CloseCode::NO_STATUS.0).then_some(code);
                    self.receiver_close = Some(echo);
                    Ev::Closed(code, reason)
                }
            };
            self.got.push(ev);
        }
    }

    /// Move up to `n` bytes of the sender's output to the receiver.
    fn transfer(&mut self, n: usize) {
        let mut bytes = Vec::new();
        for slice in self.sender.pending_output_slices() {
            let take = (n - bytes.len()).min(slice.len());
            bytes.extend_from_slice(&slice[..take]);
            if bytes.len() == n {
                break;
            }
        }
        self.sender.advance_output(bytes.len());
        if n % 2 == 1 {
            // Odd counts are read straight into the receiver's buffer, in reads of at most
            // about half of them (shorter where a large frame ends), polling after each.
            let want = n / 2 + 1;
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let room = self.receiver.receive_buffer(want);
                let k = room.len().min(rest.len());
                room[..k].copy_from_slice(&rest[..k]);
                self.receiver.commit_received(k);
                rest = &rest[k..];
                self.poll_receiver();
            }
        } else {
            self.receiver.receive(&bytes);
        }
        self.poll_receiver();
    }

    fn data(&mut self, kind: DataKind, fragment: Option<bool>, payload: &[u8], owned: bool) {
        let state = self.sender.state();
        let got = match (fragment, owned) {
            (Some(fin), _) => self.sender.send_fragment(kind, payload, fin),
            (None, true) if kind == DataKind::Text => {
                let text = String::from_utf8(payload.to_vec()).expect("text");
                self.sender.send(Message::Text(text.into()))
            }
            (None, true) => self
                .sender
                .send(Message::Binary(Bytes::copy_from_slice(payload))),
            (None, false) if kind == DataKind::Text => self
                .sender
                .send_text(core::str::from_utf8(payload).expect("text")),
            (None, false) => self.sender.send_binary(payload),
        };
        let room = self.room(&got, payload.len());
        let want = self.model.data(state, kind, fragment, room);
        assert_eq!(got, want.map(|_| ()));
        if want.is_ok() {
            self.expect.data(kind, fragment.unwrap_or(true), payload);
        }
    }

    /// The queue bound's verdict on a send of `payload` bytes that answered `got`.
    fn room(
        &self,
        got: &Result<(), rfc6455::connection::SendError>,
        payload: usize,
    ) -> Result<(), rfc6455::connection::SendError> {
        let client = self.sender.role() == Role::Client;
        let now = self.sender.pending_output_len();
        rfc6455_fuzz::queue_verdict(
            client,
            now,
            got,
            payload,
            self.sender.config().max_queued_output,
        )
    }

    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        let tag = input.byte()?;
        match tag % 10 {
            0 => {
                let text = String::from_utf8_lossy(input.blob()?).into_owned();
                self.data(DataKind::Text, None, text.as_bytes(), tag & 0x80 != 0);
            }
            1 => {
                let data = input.blob()?;
                self.data(DataKind::Binary, None, data, tag & 0x80 != 0);
            }
            2 => {
                // Fragments carry any bytes, so fragmented text may be invalid.
                let flags = input.byte()?;
                let data = input.blob()?;
                let kind = if flags & 1 == 0 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                self.data(kind, Some(flags & 2 != 0), data, false);
            }
            3 | 4 => {
                let data = input.blob()?;
                let state = self.sender.state();
                let got = if tag % 10 == 3 {
                    self.sender.send_ping(data)
                } else {
                    self.sender.send_pong(data)
                };
                let room = self.room(&got, data.len());
                let want = self.model.control(state, data.len(), room);
                assert_eq!(got, want);
                if want.is_ok() {
                    self.expect.control(tag % 10 == 3, data);
                }
            }
            5 => {
                // A large message, to cross the limits and the by-reference threshold.
                let size = usize::from(input.byte()?) * 64;
                let payload = &pattern()[..size];
                let kind = if tag & 0x80 != 0 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                self.data(kind, None, payload, true);
            }
            6 => {
                let code = input.u16()?;
                let reason = String::from_utf8_lossy(input.blob()?).into_owned();
                let state = self.sender.state();
                let got = self.sender.close(CloseCode(code), &reason);
                let want = self.model.close(state, code, &reason);
                assert_eq!(got, want);
                if want.is_ok() {
                    assert_eq!(self.sender.state(), State::Closing);
                    self.expect.close(code, &reason);
                }
            }
            7 => {
                let n = input.u16()? as usize;
                self.transfer(n);
            }
            8 => {
                let n = input.byte()? as usize;
                self.transfer(n);
            }
            _ => {
                // A large fragment.
                let size = usize::from(input.byte()?) * 64;
                let flags = input.byte()?;
                let payload = vec![b'z'; size];
                let kind = if flags & 1 == 0 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                self.data(kind, Some(flags & 2 != 0), &payload, false);
            }
        }
        Some(())
    }

    fn finish(mut self) {
        self.transfer(usize::MAX);
        if std::env::var_os("FUZZ_DEBUG").is_some() {
            eprintln!("receiver saw {:?}", self.got);
        }
        assert_eq!(
            self.got, self.expect.events,
            "the receiver saw something else"
        );
        // Carry the receiver's pongs and close frame back to the sender.
        let back: Vec<u8> = self
            .receiver
            .pending_output_slices()
            .flatten()
            .copied()
            .collect();
        self.receiver.advance_output(back.len());
        self.sender.receive(&back);
        let mut seen = Vec::new();
        while let Some(event) = self
            .sender
            .poll_event()
            .expect("the receiver's output is valid")
        {
            seen.push(Rec::from_owned(event));
        }
        let mut want: Vec<Rec> = self.pongs.iter().cloned().map(Rec::Pong).collect();
        if let Some(code) = self.receiver_close {
            // The receiver's close: an echo of the sender's code, or its own failure code.
            let code = code.unwrap_or(CloseCode::NO_STATUS.0);
            let Some(Rec::Closed(got, _)) = seen.last() else {
                panic!("the sender did not see the receiver's close: {seen:?}");
            };
            assert_eq!(*got, code);
            want.push(seen.last().expect("checked").clone());
            assert_eq!(self.sender.state(), State::Closed);
            assert_eq!(self.receiver.state(), State::Closed);
        }
        assert_eq!(seen, want);
        if self.receiver_close.is_some() {
            // The sender's reply, if it had not closed yet, completes the handshake.
            let reply: Vec<u8> = self
                .sender
                .pending_output_slices()
                .flatten()
                .copied()
                .collect();
            self.sender.advance_output(reply.len());
            self.receiver.receive(&reply);
            assert_eq!(self.receiver.poll_event(), Ok(None));
            let server = match self.sender.role() {
                Role::Server => &self.sender,
                Role::Client => &self.receiver,
            };
            assert!(
                server.should_close_transport(),
                "the server must close the TCP connection"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(flags), Some(frame), Some(message)) = (input.byte(), input.byte(), input.byte())
    else {
        return;
    };
    let (sender_role, receiver_role) = if flags & 1 == 0 {
        (Role::Client, Role::Server)
    } else {
        (Role::Server, Role::Client)
    };
    let mut config = Config::default();
    if flags & 2 != 0 {
        config.receive_mode = ReceiveMode::Stream;
    }
    if flags & 4 != 0 {
        config.max_frame_size = u64::from(frame) * 16;
        config.max_message_size = u64::from(message) * 64;
    }
    let mut pair = Pair {
        sender: match sender_role {
            rfc6455::Role::Server => Connection::upgraded_server(Config::default()),
            rfc6455::Role::Client => Connection::upgraded_client(Config::default(), [0xC3; 32]),
        },
        receiver: match receiver_role {
            rfc6455::Role::Server => Connection::upgraded_server(config),
            rfc6455::Role::Client => Connection::upgraded_client(config, [0x3C; 32]),
        },
        model: SendModel::default(),
        expect: Expect {
            config,
            events: Vec::new(),
            message: None,
            done: false,
        },
        got: Vec::new(),
        stream_msg: None,
        pongs: Vec::new(),
        receiver_close: None,
        by_ref: flags & 8 != 0,
    };
    while pair.step(&mut input).is_some() {}
    pair.finish();
});
