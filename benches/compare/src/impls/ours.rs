//! rfc6455: the sans-IO [`Connection`], fed `read`-sized chunks like a socket would.

use bytes::Bytes;
use rfc6455::Role;
use rfc6455::connection::{Config, Connection, EventRef, Message};
use rfc6455::frame::{FrameHeader, OpCode, encode_frame_to_vec};

use crate::workload::{EncodeInput, Tally, frame_key};

const SEED: [u8; 32] = [0x5A; 32];

/// Server or client decoding whole messages (fragmented ones are reassembled by the same
/// path), with `poll_event_ref`: payloads lent from the connection's buffer until the next
/// call, as fastwebsockets' `read_frame` lends its frames. `Config::default()`. The
/// "socket" is read straight into the connection's buffer (`receive_buffer`), as the
/// peers read into theirs: one copy of each byte, like `MemStream`'s.
pub fn decode(role: Role, mut input: &[u8], read: usize, _messages: u64, t: &mut Tally) {
    let mut conn = match role {
        rfc6455::Role::Server => Connection::upgraded_server(Config::default()),
        rfc6455::Role::Client => Connection::upgraded_client(Config::default(), SEED),
    };
    while !input.is_empty() {
        let room = conn.receive_buffer(read);
        let n = room.len().min(input.len());
        room[..n].copy_from_slice(&input[..n]);
        conn.commit_received(n);
        input = &input[n..];
        while let Some(event) = conn.poll_event_ref().expect("rfc6455: decode failed") {
            match event {
                EventRef::Binary(b) => t.add(false, b),
                EventRef::Text(s) => t.add(true, s.as_bytes()),
                other => panic!("rfc6455: unexpected event {other:?}"),
            }
        }
    }
}

/// Fragmented messages go through the same message-level path.
pub fn decode_fragmented(role: Role, input: &[u8], read: usize, messages: u64, t: &mut Tally) {
    decode(role, input, read, messages, t);
}

/// Queue each message the way a user would pick: small payloads with
/// `send_binary(&[u8])` (copied into the output buffer, like fastwebsockets' borrowed
/// payloads), large ones with `send(Message::Binary(Bytes))` (a server queues them by
/// reference; a client copies and masks in one pass); then write the pending slices out
/// as a vectored write would.
pub fn encode(role: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    let mut conn = match role {
        rfc6455::Role::Server => Connection::upgraded_server(Config::default()),
        rfc6455::Role::Client => Connection::upgraded_client(Config::default(), SEED),
    };
    let payloads: &[Bytes] = &input.payloads;
    for i in 0..input.messages {
        let payload = &payloads[i % payloads.len()];
        if payload.len() >= 4096 {
            conn.send(Message::Binary(payload.clone()))
        } else {
            conn.send_binary(payload)
        }
        .expect("rfc6455: send failed");
        let mut n = 0;
        for s in conn.pending_output_slices() {
            sink.extend_from_slice(s);
            n += s.len();
        }
        conn.advance_output(n);
    }
}

/// The frame layer: `frame::encode_frame_to_vec` appends each frame (header, then the
/// payload, masked while copied for a client) to the sink.
pub fn encode_frames(role: Role, input: &EncodeInput, sink: &mut Vec<u8>) {
    let payloads: &[Bytes] = &input.payloads;
    for i in 0..input.messages {
        let payload = &payloads[i % payloads.len()];
        let mask = (role == Role::Client).then(|| frame_key(i));
        let header = FrameHeader::new(true, OpCode::Binary, mask, payload.len() as u64);
        encode_frame_to_vec(&header, payload, sink).expect("rfc6455: encode failed");
    }
}

/// `mask::apply`, in place.
#[inline(never)]
pub fn mask(buf: &mut [u8], key: [u8; 4]) {
    rfc6455::mask::apply(buf, key, 0);
}
