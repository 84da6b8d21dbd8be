//! The send path: calls in, frames queued for the caller to write.

use super::{Connection, DataKind, Message, Phase, SendError};
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
    }

    /// Queue a message in one frame, uncompressed even when permessage-deflate is
    /// negotiated (e.g. an image that is compressed already). Otherwise as
    /// [`send`](Self::send).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), SendError> {
        self.send_message(message, false)
    }

    fn send_message(&mut self, message: Message, compress: bool) -> Result<(), SendError> {
        self.check_message_allowed()?;
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.into_bytes()),
            Message::Binary(data) => (DataKind::Binary, data),
        };
        #[cfg(feature = "deflate")]
        if compress && self.compresses(payload.len()) {
            return self.send_compressed(kind.opcode(), &payload, true);
        }
        #[cfg(not(feature = "deflate"))]
        let _ = compress;
        self.check_room(payload.len())?;
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
