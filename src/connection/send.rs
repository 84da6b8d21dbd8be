//! The send path: calls in, frames queued for the caller to write.

use super::{Connection, DataKind, Message, SendError, State};
use crate::Role;
use crate::close::{CloseCode, CloseFrame};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};

impl DataKind {
    fn opcode(self) -> OpCode {
        match self {
            DataKind::Text => OpCode::Text,
            DataKind::Binary => OpCode::Binary,
        }
    }
}

impl Connection {
    /// Queue a text message in one frame.
    #[inline]
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message_bytes(DataKind::Text, text.as_bytes())
    }

    /// Queue a binary message in one frame.
    #[inline]
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message_bytes(DataKind::Binary, data)
    }

    /// Queue a message in one frame. A server queues a large payload by reference, without
    /// copying it.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if self.tx_fragment.is_some() {
            return Err(SendError::FragmentOrder);
        }
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.into_bytes()),
            Message::Binary(data) => (DataKind::Binary, data),
        };
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
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        self.check_data_allowed()?;
        let opcode = match self.tx_fragment {
            None => kind.opcode(),
            Some(current) if current == kind => OpCode::Continuation,
            Some(_) => return Err(SendError::FragmentOrder),
        };
        self.tx_fragment = if fin { None } else { Some(kind) };
        let header = self.header(fin, opcode, data.len());
        self.out.push_frame(&header, data);
        Ok(())
    }

    /// Queue a ping (payload at most 125 bytes).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queue an unsolicited pong (payload at most 125 bytes), e.g. as a heartbeat.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Start the closing handshake: queue a close frame with `code` and `reason` (at most
    /// 123 bytes). The state becomes [`State::Closing`] until the peer's close arrives, or
    /// [`State::Closed`] if it already had.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.close_sent || matches!(self.state, State::Closed | State::Connecting) {
            return Err(SendError::NotOpen(self.state));
        }
        let mut body = [0u8; MAX_CONTROL_PAYLOAD];
        let n = CloseFrame::new(code, reason)
            .encode(&mut body)
            .map_err(SendError::InvalidClose)?;
        self.queue_control(OpCode::Close, &body[..n]);
        self.close_sent = true;
        self.state = if self.close_received {
            State::Closed
        } else {
            State::Closing
        };
        Ok(())
    }

    #[inline]
    fn send_message_bytes(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if self.tx_fragment.is_some() {
            return Err(SendError::FragmentOrder);
        }
        let header = self.header(true, kind.opcode(), data.len());
        self.out.push_frame(&header, data);
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong { len: payload.len() });
        }
        self.queue_control(opcode, payload);
        Ok(())
    }

    fn check_data_allowed(&self) -> Result<(), SendError> {
        if self.state != State::Open || self.close_sent {
            return Err(SendError::NotOpen(self.state));
        }
        Ok(())
    }

    /// Queue a control frame the connection itself decided to send.
    pub(crate) fn queue_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let header = self.header(true, opcode, payload.len());
        self.out.push_frame(&header, payload);
    }

    #[inline]
    fn header(&mut self, fin: bool, opcode: OpCode, len: usize) -> FrameHeader {
        let mask = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        FrameHeader::new(fin, opcode, mask, len as u64)
    }
}
