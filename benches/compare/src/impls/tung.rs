//! tungstenite: `WebSocket::read` / `send` over an in-memory `Read + Write` stream.

use tungstenite::protocol::Role as TRole;
use tungstenite::{Message, WebSocket};

use crate::stream::{MemStream, Sink};
use crate::workload::{EncodeInput, Tally};
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
