//! The send path: calls in, frames queued for the caller to write.

use super::{Connection, DataKind, Message, Phase, SendError, Unsent};
use crate::Role;
use crate::close::{CloseCode, CloseFrame};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};

impl Connection {
    /// Queue a text message in one frame.
    ///
    /// Queues bytes: write [`pending_output_len`](Self::pending_output_len) bytes before
    /// you wait for input.
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] unless the connection is open, [`SendError::FragmentOrder`]
    /// while a fragmented message is being sent, [`SendError::QueueFull`] if the frame
    /// would take the output past [`Config::max_queued_output`](super::Config::max_queued_output).
    /// Nothing is queued then.
    #[inline]
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message_bytes(DataKind::Text, text.as_bytes())
    }

    /// Queue a binary message in one frame. Queues bytes and fails as
    /// [`send_text`](Self::send_text) does.
    #[inline]
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message_bytes(DataKind::Binary, data)
    }

    /// Queue a message in one frame. A server queues a large payload by reference, without
    /// copying it (unless it is compressed: permessage-deflate compresses messages of at
    /// least [`DeflateConfig::threshold`](crate::deflate::DeflateConfig::threshold) bytes).
    /// Queues bytes and fails as [`send_text`](Self::send_text) does.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.send_message(message, true)
            .map_err(|unsent| unsent.error)
    }

    /// [`send`](Self::send), handing the message back when it is refused, so that a caller
    /// that retries once the output drains (on [`SendError::QueueFull`]) keeps it without
    /// cloning it first. Queues bytes as `send` does.
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, Message, SendError};
    ///
    /// let mut server = Connection::upgraded_server(Config::default().max_queued_output(8));
    /// server.try_send(Message::from("first"))?; // an empty queue takes any one frame
    /// let unsent = server.try_send(Message::from("second")).unwrap_err();
    /// assert!(matches!(unsent.error, SendError::QueueFull { .. }));
    /// server.advance_output(server.pending_output_len()); // written
    /// server.try_send(unsent.message)?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn try_send(&mut self, message: Message) -> Result<(), Unsent> {
        self.send_message(message, true)
    }

    /// Queue a message in one frame, uncompressed even when permessage-deflate is
    /// negotiated (e.g. an image that is compressed already). Otherwise as
    /// [`send`](Self::send).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), SendError> {
        self.send_message(message, false)
            .map_err(|unsent| unsent.error)
    }

    fn send_message(&mut self, message: Message, compress: bool) -> Result<(), Unsent> {
        if let Err(error) = self.check_message_allowed() {
            return Err(Unsent { message, error });
        }
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.into_bytes()),
            Message::Binary(data) => (DataKind::Binary, data),
        };
        #[cfg(feature = "deflate")]
        if compress && self.compresses(payload.len()) {
            return self
                .send_compressed(kind.opcode(), &payload, true)
                .map_err(|error| Unsent {
                    message: super::receive::message(kind, payload),
                    error,
                });
        }
        #[cfg(not(feature = "deflate"))]
        let _ = compress;
        if let Err(error) = self.check_room(payload.len()) {
            return Err(Unsent {
                message: super::receive::message(kind, payload),
                error,
            });
        }
        let header = self.header(true, kind.opcode(), payload.len());
        self.out.push_shared(&header, payload);
        Ok(())
    }

    /// Queue one fragment of a message sent in pieces (e.g. 64 KiB chunks of a file),
    /// without building the whole message in memory. The first call starts a message of
    /// `kind`; later calls continue it and must use the same `kind`; the call with `fin`
    /// ends it. Control frames may be sent between fragments; other messages may not.
    ///
    /// For text, each fragment need not end on a character boundary, but the whole
    /// message must be UTF-8: the peer checks.
    ///
    /// With permessage-deflate negotiated, a fragmented message is always compressed:
    /// each fragment is compressed and flushed as it is queued, so the peer can inflate
    /// it without waiting for the rest.
    ///
    /// Queues bytes and fails as [`send_text`](Self::send_text) does (a fragment that
    /// breaks the order is [`SendError::FragmentOrder`]).
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        let Phase::Open { sending, .. } = &mut self.phase else {
            return Err(SendError::NotOpen(self.state()));
        };
        let opcode = match *sending {
            None => kind.opcode(),
            Some(current) if current == kind => OpCode::Continuation,
            Some(_) => return Err(SendError::FragmentOrder),
        };
        #[cfg(feature = "deflate")]
        let compressed = self.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        let compressed = false;
        if compressed {
            #[cfg(feature = "deflate")]
            self.send_compressed(opcode, data, fin)?;
        } else {
            self.check_room(data.len())?;
            let header = self.header(fin, opcode, data.len());
            self.out.push_frame(&header, data);
        }
        if let Phase::Open { sending, .. } = &mut self.phase {
            *sending = if fin { None } else { Some(kind) };
        }
        Ok(())
    }

    /// Queue a ping (payload at most 125 bytes). Queues bytes and fails as
    /// [`send_text`](Self::send_text) does ([`SendError::ControlTooLong`] for a longer
    /// payload).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queue an unsolicited pong (payload at most 125 bytes), e.g. as a heartbeat. Queues
    /// bytes and fails as [`send_ping`](Self::send_ping) does.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Start the closing handshake: queue a close frame with `code` and `reason` (at most
    /// 123 bytes). The state becomes [`State::Closing`](super::State::Closing) until the
    /// peer's close arrives. Only an open connection can start it: once the peer's close
    /// arrived, the connection has answered it already.
    ///
    /// Queues bytes: write them; the bound of
    /// [`Config::max_queued_output`](super::Config::max_queued_output) does not apply (a
    /// close frame is at most 125 bytes, sent once).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !self.phase.is_open() {
            return Err(SendError::NotOpen(self.state()));
        }
        let mut body = [0u8; MAX_CONTROL_PAYLOAD];
        let n = CloseFrame::new(code, reason)
            .encode(&mut body)
            .map_err(SendError::InvalidClose)?;
        self.queue_control(OpCode::Close, &body[..n]);
        self.phase = Phase::Closing;
        Ok(())
    }

    #[inline]
    fn send_message_bytes(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        if self.push_small_message(kind, data) {
            return Ok(());
        }
        self.send_message_bytes_general(kind, data)
    }

    /// The common small message (at most 32 bytes, connection open, not compressed, room
    /// in the output buffer, a masking key ready for a client) queued with no function
    /// call; `false`, with nothing changed, when any of that does not hold, and
    /// [`send_message_bytes_general`](Self::send_message_bytes_general) then queues the
    /// same bytes or returns the error. Without a call on this path the compiler saves no
    /// registers here, which is most of what it saves: `send_binary` of 16 bytes plus the
    /// bench's copy of the output and `advance_output`, counted by callgrind, takes 151
    /// instructions instead of 179 as a server and 206 instead of 228 as a client
    /// (benches/compare `encode, server: binary 16 B`: see the 2026-12-03 note).
    /// `tests::small_messages_take_either_path_to_the_same_bytes` feeds both paths the
    /// same sends.
    #[inline(always)]
    fn push_small_message(&mut self, kind: DataKind, data: &[u8]) -> bool {
        if data.len() > 32 || !matches!(self.phase, Phase::Open { sending: None, .. }) {
            return false;
        }
        #[cfg(feature = "deflate")]
        if self.compresses(data.len()) {
            return false;
        }
        if self.check_room(data.len()).is_err() {
            return false;
        }
        let mask = match self.role {
            Role::Client => match self.keys.ready_key() {
                Some(key) => Some(key),
                None => return false,
            },
            Role::Server => None,
        };
        let header = FrameHeader::new(true, kind.opcode(), mask, data.len() as u64);
        if self.out.push_frame_into_room(&header, data) {
            return true;
        }
        if let Some(key) = mask {
            // Not used after all: the general path takes it again.
            self.keys.put_back(key);
        }
        false
    }

    /// Every whole message sent from a byte slice that the small-message path declined.
    #[inline(never)]
    fn send_message_bytes_general(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        self.check_message_allowed()?;
        #[cfg(feature = "deflate")]
        if self.compresses(data.len()) {
            return self.send_compressed(kind.opcode(), data, true);
        }
        self.check_room(data.len())?;
        let header = self.header(true, kind.opcode(), data.len());
        self.out.push_frame(&header, data);
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if !self.phase.is_open() {
            return Err(SendError::NotOpen(self.state()));
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong { len: payload.len() });
        }
        self.check_room(payload.len())?;
        self.queue_control(opcode, payload);
        Ok(())
    }

    /// A whole message may be queued: the connection is open and sends no fragmented one.
    #[inline]
    pub(super) fn check_message_allowed(&self) -> Result<(), SendError> {
        match self.phase {
            Phase::Open { sending: None, .. } => Ok(()),
            Phase::Open {
                sending: Some(_), ..
            } => Err(SendError::FragmentOrder),
            _ => Err(SendError::NotOpen(self.state())),
        }
    }

    /// A frame with a `payload_len`-byte payload fits under `max_queued_output`, or the
    /// queue is empty (any one frame is accepted into an empty queue).
    #[inline]
    pub(super) fn check_room(&self, payload_len: usize) -> Result<(), SendError> {
        let queued = self.out.len();
        if queued == 0 {
            return Ok(());
        }
        let length_len = match payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        let key_len = if self.role == Role::Client { 4 } else { 0 };
        let frame = payload_len.saturating_add(length_len + key_len);
        let max = self.config.max_queued_output;
        if queued.saturating_add(frame) <= max {
            return Ok(());
        }
        Err(SendError::QueueFull { queued, frame, max })
    }

    /// Queue a control frame the connection itself decided to send.
    pub(crate) fn queue_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let header = self.header(true, opcode, payload.len());
        self.out.push_frame(&header, payload);
    }

    #[inline]
    pub(super) fn header(&mut self, fin: bool, opcode: OpCode, len: usize) -> FrameHeader {
        let mask = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        FrameHeader::new(fin, opcode, mask, len as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{Config, Connection};
    use alloc::vec::Vec;

    fn pending(conn: &Connection) -> Vec<u8> {
        conn.pending_output_slices().flatten().copied().collect()
    }

    /// `send_binary`/`send_text` (which try the small-message path first) and the general
    /// path alone, fed the same sends on twin connections, queue the same bytes and return
    /// the same results: every length 0..=40 around the 32-byte cut, both roles (the
    /// client across several key blocks, so both with a key ready and without), a fresh
    /// buffer (no room yet), a queue bound that refuses some sends, a fragmented message
    /// in progress, and a closing connection. The small path must have queued some of
    /// them itself. (`send_binary` and `send_text` are that path, then the general one.)
    #[test]
    fn small_messages_take_either_path_to_the_same_bytes() {
        for role in [Role::Server, Role::Client] {
            for max_queued in [1 << 20, 100] {
                let config = Config::new().max_queued_output(max_queued);
                let make = || match role {
                    Role::Server => Connection::upgraded_server(config),
                    Role::Client => Connection::upgraded_client(config, [9; 32]),
                };
                let (mut fast, mut general) = (make(), make());
                if max_queued < 1000 {
                    // A buffer with room past the queue bound, so that the bound, not
                    // the room, refuses sends (any one message fits an empty queue).
                    for conn in [&mut fast, &mut general] {
                        conn.send_binary(&[1; 1000]).unwrap();
                        let n = conn.pending_output_len();
                        conn.advance_output(n);
                    }
                }
                let (mut taken, mut refused) = (0, 0);
                let data: Vec<u8> = (0..40u8).map(|b| b.wrapping_mul(37)).collect();
                for step in 0..200usize {
                    let len = step % 41;
                    let kind = if step % 3 == 0 {
                        DataKind::Text
                    } else {
                        DataKind::Binary
                    };
                    if [150, 160, 190].contains(&step) {
                        // Room for the fragments and the close frame below.
                        let n = fast.pending_output_len();
                        fast.advance_output(n);
                        general.advance_output(n);
                    }
                    if step == 150 {
                        // A fragmented message in progress: whole messages are refused.
                        fast.send_fragment(DataKind::Binary, b"ab", false).unwrap();
                        general
                            .send_fragment(DataKind::Binary, b"ab", false)
                            .unwrap();
                    }
                    if step == 160 {
                        fast.send_fragment(DataKind::Binary, b"c", true).unwrap();
                        general.send_fragment(DataKind::Binary, b"c", true).unwrap();
                    }
                    if step == 190 {
                        fast.close(CloseCode::NORMAL, "").unwrap();
                        general.close(CloseCode::NORMAL, "").unwrap();
                    }
                    let text = &b"0123456789abcdefghijklmnopqrstuvwxyzABCD"[..len];
                    let bytes = match kind {
                        DataKind::Text => text,
                        DataKind::Binary => &data[..len],
                    };
                    let a = if fast.push_small_message(kind, bytes) {
                        taken += 1;
                        Ok(())
                    } else {
                        fast.send_message_bytes_general(kind, bytes)
                    };
                    let b = general.send_message_bytes_general(kind, bytes);
                    assert_eq!(a, b, "{role:?} step {step} len {len}");
                    refused += usize::from(matches!(a, Err(SendError::QueueFull { .. })));
                    assert_eq!(pending(&fast), pending(&general), "{role:?} step {step}");
                    // Drain now and then so that sends meet an empty, a part-full and a
                    // full queue.
                    if step % 7 == 6 {
                        let n = fast.pending_output_len();
                        fast.advance_output(n);
                        general.advance_output(n);
                    }
                }
                assert!(
                    taken > 20,
                    "{role:?}: the small path queued {taken} messages"
                );
                assert_eq!(
                    refused > 0,
                    max_queued == 100,
                    "{role:?}: {refused} refused"
                );
            }
        }
    }
}
