//! rfc6455: the sans-IO [`Connection`], fed `read`-sized chunks like a socket would.

use bytes::Bytes;
use rfc6455::Role;
use rfc6455::connection::{Config, Connection, Event, Message};

use crate::workload::{EncodeInput, Tally};

const SEED: [u8; 32] = [0x5A; 32];

/// Server or client decoding whole messages (fragmented ones are reassembled by the same
/// path). `Config::default()`: 64 MiB messages, 16 MiB frames, 512 B retained buffers.
pub fn decode(role: Role, input: &[u8], read: usize, _messages: u64, t: &mut Tally) {
    let mut conn = Connection::new(role, Config::default(), SEED);
    for chunk in input.chunks(read) {
        conn.receive(chunk);
        while let Some(event) = conn.poll_event().expect("rfc6455: decode failed") {
            match event {
                Event::Message(Message::Binary(b)) => t.add(false, &b),
                Event::Message(Message::Text(s)) => t.add(true, s.as_bytes()),
                other => panic!("rfc6455: unexpected event {other:?}"),
            }
        }
    }
}

/// Fragmented messages go through the same message-level path.
pub fn decode_fragmented(role: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    decode(role, input, read, messages, t);
}

/// Queue each message with `send(Message::Binary(Bytes))` (a server queues large
/// payloads by reference; a client copies and masks), then write the pending slices
/// out as a vectored write would.
pub fn encode(role: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    let mut conn = Connection::new(role, Config::default(), SEED);
    let payloads: &[Bytes] = &input.payloads;
    for i in 0..input.messages {
        let payload = payloads[i % payloads.len()].clone();
        conn.send(Message::Binary(payload))
            .expect("rfc6455: send failed");
        let mut n = 0;
        for s in conn.pending_output_slices() {
            sink.extend_from_slice(s);
            n += s.len();
        }
        conn.advance_output(n);
    }
}

/// `mask::apply`, in place.
#[inline(never)]
pub fn mask(buf: &mut [u8], key: [u8; 4]) {
    rfc6455::mask::apply(buf, key, 0);
}
