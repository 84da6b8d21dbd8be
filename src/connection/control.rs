//! Control frames on the receive side: automatic pongs, the closing handshake (RFC 6455
//! section 7) and failing the connection (section 7.1.7).

use alloc::string::{String, ToString};

use super::receive::{Ready, Step};
use super::{Closed, Connection, ProtocolError, State};
use crate::close::{CloseCode, CloseFrame};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};

impl Connection {
    pub(super) fn control_frame(
        &mut self,
        opcode: OpCode,
        start: usize,
        end: usize,
    ) -> Result<Step, ProtocolError> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong
                    && self.state == State::Open
                    && self.out.len() <= self.config.max_pending_output_for_pong
                {
                    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
                    let payload = &mut payload[..end - start];
                    payload.copy_from_slice(self.rx.slice(start, end));
                    self.queue_control(OpCode::Pong, payload);
                }
                Ok(Step::Ready(Ready::Ping { start, end }))
            }
            OpCode::Pong => Ok(Step::Ready(Ready::Pong { start, end })),
            _ => self.close_frame(start, end),
        }
    }

    fn close_frame(&mut self, start: usize, end: usize) -> Result<Step, ProtocolError> {
        let (code, reason) = match CloseFrame::parse(self.rx.slice(start, end)) {
            Ok(Some(frame)) => (frame.code, frame.reason.to_string()),
            Ok(None) => (CloseCode::NO_STATUS, String::new()),
            Err(e) => return Err(self.fail(e.into())),
        };
        if !self.close_sent {
            // Echo the peer's code (section 5.5.1); an empty close gets an empty reply.
            let body = code.0.to_be_bytes();
            let len = if code == CloseCode::NO_STATUS { 0 } else { 2 };
            self.queue_control(OpCode::Close, &body[..len]);
            self.close_sent = true;
        }
        self.close_received = true;
        self.state = State::Closed;
        self.rx.discard();
        Ok(Step::Ready(Ready::Closed(Closed { code, reason })))
    }

    /// Fail the connection (RFC 6455 section 7.1.7): queue a close frame with the error's
    /// code unless one was sent, drop all input, and hand the error back for returning.
    pub(crate) fn fail(&mut self, err: ProtocolError) -> ProtocolError {
        if !self.close_sent {
            let mut body = [0u8; 2 + 40];
            let frame = CloseFrame::new(err.close_code(), err.reason());
            if let Ok(n) = frame.encode(&mut body) {
                self.queue_control(OpCode::Close, &body[..n]);
            }
            self.close_sent = true;
        }
        self.failed = true;
        self.state = State::Closed;
        self.rx.discard();
        err
    }
}
