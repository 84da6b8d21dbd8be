//! Control frames on the receive side: automatic pongs, the closing handshake (RFC 6455
//! section 7) and failing the connection (section 7.1.7).

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use super::receive::{Ready, Step};
use super::{Closed, Connection, End, Phase, ProtocolError};
use crate::close::{CloseCode, CloseFrame};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};

/// The payload of a ping whose automatic pong waits for the output to drain (boxed, so a
/// connection that never defers one pays a pointer for it, not 126 bytes).
#[derive(Debug)]
pub(super) struct DeferredPong {
    len: u8,
    payload: [u8; MAX_CONTROL_PAYLOAD],
}

impl Connection {
    pub(super) fn control_frame(
        &mut self,
        opcode: OpCode,
        start: usize,
        end: usize,
    ) -> Result<Step, ProtocolError> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && self.phase.is_open() {
                    self.answer_ping(start, end);
                }
                Ok(Step::Ready(Ready::Ping { start, end }))
            }
            OpCode::Pong => Ok(Step::Ready(Ready::Pong { start, end })),
            _ => self.close_frame(start, end),
        }
    }

    /// Answer the ping at `rx.buf[start..end]` (RFC 6455 section 5.5.2: an endpoint MUST
    /// answer a ping, and MAY answer only the most recent one). While more than
    /// [`max_pending_output_for_pong`](super::Config::max_pending_output_for_pong) bytes
    /// are unsent, the pong is deferred instead: only the latest ping's payload is kept
    /// (replacing an older deferred one), and [`flush_deferred_pong`](Self::flush_deferred_pong)
    /// queues it once the output has drained to the bound.
    fn answer_ping(&mut self, start: usize, end: usize) {
        if self.out.len() <= self.config.max_pending_output_for_pong {
            // No pong is deferred here: one deferred would have been queued by the
            // `advance_output` that brought the output down to the bound.
            let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
            let payload = &mut payload[..end - start];
            payload.copy_from_slice(self.rx.input.slice(start, end));
            self.queue_control(OpCode::Pong, payload);
            return;
        }
        let Phase::Open { deferred_pong, .. } = &mut self.phase else {
            return; // only an open connection answers pings
        };
        let ping = self.rx.input.slice(start, end);
        let kept = deferred_pong.get_or_insert_with(|| {
            Box::new(DeferredPong {
                len: 0,
                payload: [0; MAX_CONTROL_PAYLOAD],
            })
        });
        kept.payload[..ping.len()].copy_from_slice(ping);
        kept.len = ping.len() as u8;
    }

    /// Queue the deferred pong, if there is one and the output has drained to
    /// `max_pending_output_for_pong`. (Once the connection is no longer open, a close
    /// frame was queued and nothing may follow it: the deferred pong went with the open
    /// state.)
    #[cold]
    pub(super) fn flush_deferred_pong(&mut self) {
        if self.out.len() > self.config.max_pending_output_for_pong {
            return;
        }
        if let Phase::Open { deferred_pong, .. } = &mut self.phase {
            if let Some(pong) = deferred_pong.take() {
                self.queue_control(OpCode::Pong, &pong.payload[..usize::from(pong.len)]);
            }
        }
    }

    fn close_frame(&mut self, start: usize, end: usize) -> Result<Step, ProtocolError> {
        let (code, reason) = match CloseFrame::parse(self.rx.input.slice(start, end)) {
            Ok(Some(frame)) => (frame.code, frame.reason.to_string()),
            Ok(None) => (CloseCode::NO_STATUS, String::new()),
            Err(e) => return Err(self.fail(e.into())),
        };
        if self.phase.is_open() {
            // Echo the peer's code (section 5.5.1); an empty close gets an empty reply.
            let body = code.0.to_be_bytes();
            let len = if code == CloseCode::NO_STATUS { 0 } else { 2 };
            self.queue_control(OpCode::Close, &body[..len]);
        }
        self.phase = Phase::Closed(End::CloseExchanged);
        self.rx.discard();
        Ok(Step::Ready(Ready::Closed(Closed { code, reason })))
    }

    /// Fail the connection (RFC 6455 section 7.1.7): queue a close frame with the error's
    /// code unless one was sent, drop all input, and hand the error back for returning.
    pub(crate) fn fail(&mut self, err: ProtocolError) -> ProtocolError {
        if self.phase.is_open() {
            let mut body = [0u8; MAX_CONTROL_PAYLOAD];
            // Every error after the handshake has a close code.
            let code = err.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
            let frame = CloseFrame::new(code, err.reason());
            if let Ok(n) = frame.encode(&mut body) {
                self.queue_control(OpCode::Close, &body[..n]);
            }
        }
        self.phase = Phase::Closed(End::Failed);
        self.rx.discard();
        err
    }
}
