//! fastwebsockets: `WebSocket::read_frame` / `write_frame` (and `FragmentCollector` for
//! fragmented messages), driven by a current-thread tokio runtime over an in-memory
//! stream that is always ready (no sockets, no wake-ups).

use std::sync::OnceLock;

use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, Role as FRole, WebSocket};
use tokio::runtime::Runtime;

use crate::stream::{MemStream, Sink};
use crate::workload::{EncodeInput, Tally, frame_key};
use rfc6455::Role;

/// The current-thread runtime every async implementation runs on.
pub fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio runtime")
    })
}

fn role(r: Role) -> FRole {
    match r {
        Role::Server => FRole::Server,
        Role::Client => FRole::Client,
    }
}

#[inline(always)]
fn tally(frame: &Frame<'_>, t: &mut Tally) {
    match frame.opcode {
        OpCode::Binary => t.add(false, &frame.payload),
        OpCode::Text => t.add(true, &frame.payload),
        other => panic!(
            "fastwebsockets: unexpected frame {other:?} fin={}",
            frame.fin
        ),
    }
}

/// `WebSocket::read_frame` per message (every message is one frame here). Default
/// settings: auto-unmask, auto-pong, auto-close, 64 MiB limit.
pub fn decode(r: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    rt().block_on(async {
        let mut ws = WebSocket::after_handshake(MemStream::new(input, read), role(r));
        while t.messages < messages {
            let frame = ws.read_frame().await.expect("fastwebsockets: read failed");
            assert!(
                frame.fin,
                "fastwebsockets: fragment outside FragmentCollector"
            );
            tally(&frame, t);
        }
        assert!(ws.into_inner().drained(), "fastwebsockets: input left over");
    });
}

/// `FragmentCollector::read_frame`: whole reassembled messages.
pub fn decode_fragmented(r: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    rt().block_on(async {
        let ws = WebSocket::after_handshake(MemStream::new(input, read), role(r));
        let mut ws = FragmentCollector::new(ws);
        while t.messages < messages {
            let frame = ws.read_frame().await.expect("fastwebsockets: read failed");
            tally(&frame, t);
        }
        assert!(ws.into_inner().drained(), "fastwebsockets: input left over");
    });
}

/// `WebSocket::write_frame(Frame::binary(Payload::Borrowed))`: a server writes header
/// and payload with one vectored write above 1 KiB; a client first copies the payload to
/// an owned buffer to mask it (its key comes from `rand::random`).
pub fn encode(r: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    rt().block_on(async {
        let mut ws = WebSocket::after_handshake(Sink(sink), role(r));
        for i in 0..input.messages {
            let payload = &input.payloads[i % input.payloads.len()][..];
            let frame = Frame::binary(Payload::Borrowed(payload));
            ws.write_frame(frame)
                .await
                .expect("fastwebsockets: write failed");
        }
    });
}

/// The frame layer: `Frame::fmt_head` into a 14-byte array, appended to the sink with the
/// payload; for a client, masked in place afterwards with `fastwebsockets::unmask`.
pub fn encode_frames(r: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    for i in 0..input.messages {
        let payload = &input.payloads[i % input.payloads.len()][..];
        let mask = (r == Role::Client).then(|| frame_key(i));
        let mut frame = Frame::new(true, OpCode::Binary, mask, Payload::Borrowed(payload));
        let mut head = [0u8; 14];
        let n = frame.fmt_head(&mut head);
        sink.extend_from_slice(&head[..n]);
        let start = sink.len();
        sink.extend_from_slice(payload);
        if let Some(key) = mask {
            fastwebsockets::unmask(&mut sink[start..], key);
        }
    }
}

/// `fastwebsockets::unmask`, in place.
#[inline(never)]
pub fn mask(buf: &mut [u8], key: [u8; 4]) {
    fastwebsockets::unmask(buf, key);
}
