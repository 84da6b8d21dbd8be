//! tungstenite: `WebSocket::read` / `send` over an in-memory `Read + Write` stream.

use tungstenite::protocol::Role as TRole;
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::{Message, WebSocket};

use crate::runner::xor_u64;
use crate::stream::{MemStream, Sink};
use crate::workload::{EncodeInput, Tally, frame_key};
use rfc6455::Role;

fn role(r: Role) -> TRole {
    match r {
        Role::Server => TRole::Server,
        Role::Client => TRole::Client,
    }
}

/// `WebSocket::read` until all messages are in (default config: 128 KiB read buffer,
/// 64 MiB messages, 16 MiB frames); fragmented messages are reassembled by `read` too.
pub fn decode(r: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    let mut ws = WebSocket::from_raw_socket(MemStream::new(input, read), role(r), None);
    while t.messages < messages {
        match ws.read().expect("tungstenite: read failed") {
            Message::Binary(b) => t.add(false, &b),
            Message::Text(s) => t.add(true, s.as_bytes()),
            other => panic!("tungstenite: unexpected message {other:?}"),
        }
    }
    assert!(ws.get_ref().drained(), "tungstenite: input left over");
}

pub fn decode_fragmented(r: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    decode(r, input, read, messages, t);
}

/// `WebSocket::send(Message::Binary(Bytes))`: write + flush per message.
pub fn encode(r: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    let mut ws = WebSocket::from_raw_socket(Sink(sink), role(r), None);
    for i in 0..input.messages {
        let payload = input.payloads[i % input.payloads.len()].clone();
        ws.send(Message::Binary(payload))
            .expect("tungstenite: send failed");
    }
}

/// The frame layer: `FrameHeader::format` into the sink, then the payload appended with
/// `extend_from_slice`; for a client, masked in place afterwards with the plain u64 loop
/// of the masking rows (tungstenite's masking is not public).
pub fn encode_frames(r: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    for i in 0..input.messages {
        let payload = &input.payloads[i % input.payloads.len()][..];
        let mask = (r == Role::Client).then(|| frame_key(i));
        let header = FrameHeader {
            opcode: OpCode::Data(Data::Binary),
            mask,
            ..FrameHeader::default()
        };
        header
            .format(payload.len() as u64, sink)
            .expect("tungstenite: format failed");
        let start = sink.len();
        sink.extend_from_slice(payload);
        if let Some(key) = mask {
            xor_u64(&mut sink[start..], key);
        }
    }
}
