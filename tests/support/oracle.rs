//! Frames written and read by hand from RFC 6455 section 5.2, with none of the crate's
//! code: the oracle for what a connection must accept and what it must queue. Frames as a
//! hostile peer writes them (any first byte, any declared length), and what a connection
//! under test has queued, decoded as its peer would read it. The crate's types appear only
//! as names (`Role`, `OpCode`, the connection whose output is read); no byte passes through
//! its frame code.
#![allow(dead_code)]

use rfc6455::Role;
use rfc6455::frame::OpCode;

/// The masking key of every frame built here for a server to receive.
pub const KEY: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// A header: first byte `b0` (FIN, RSV, opcode), declaring `len` payload bytes, then the
/// masking key if given. The length takes the shortest form: 7 bits up to 125, then 16
/// bits up to 65535, then 64.
pub fn head(b0: u8, key: Option<[u8; 4]>, len: u64) -> Vec<u8> {
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let mut out = Vec::with_capacity(14);
    out.push(b0);
    if len <= 125 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xFFFF {
        out.push(mask_bit | 126);
        out.push((len >> 8) as u8);
        out.push(len as u8);
    } else {
        out.push(mask_bit | 127);
        for shift in (0..8).rev() {
            out.push((len >> (shift * 8)) as u8);
        }
    }
    if let Some(k) = key {
        out.extend_from_slice(&k);
    }
    out
}

/// A frame: first byte `b0` (FIN, RSV, opcode), the payload, masked with `key` if given.
/// The length takes the shortest form (see [`head`]).
pub fn encode(b0: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = head(b0, key, payload.len() as u64);
    out.reserve(payload.len());
    match key {
        Some(k) => out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4])),
        None => out.extend_from_slice(payload),
    }
    out
}

/// The key a peer of `receiver` masks with: [`KEY`] for a server receiver (a client must
/// mask, section 5.1), none for a client receiver.
pub fn key_for(receiver: Role) -> Option<[u8; 4]> {
    (receiver == Role::Server).then_some(KEY)
}

/// A header with first byte `b0` declaring `len` payload bytes, masked when the receiver
/// is a server (as a client must send).
pub fn header(receiver: Role, b0: u8, len: u64) -> Vec<u8> {
    head(b0, key_for(receiver), len)
}

/// A whole frame with first byte `b0`, masked for a server receiver.
pub fn frame(receiver: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    encode(b0, key_for(receiver), payload)
}

/// The first byte: FIN, the RSV bits (RSV1 = 4, RSV2 = 2, RSV3 = 1) and the opcode.
pub fn b0(fin: bool, rsv: u8, opcode: u8) -> u8 {
    (u8::from(fin) << 7) | (rsv << 4) | opcode
}

/// A close frame's payload: the code in network byte order, then the reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = vec![(code >> 8) as u8, code as u8];
    p.extend_from_slice(reason.as_bytes());
    p
}

/// Read back a stream of whole frames as `(first byte, unmasked payload)`. Panics if a
/// frame is cut off, or if its mask bit is not `masked` (a client must mask every frame,
/// a server none: section 5.1).
pub fn decode_all(mut wire: &[u8], masked: bool) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !wire.is_empty() {
        assert!(wire.len() >= 2, "cut-off header: {wire:02x?}");
        let (b0, b1) = (wire[0], wire[1]);
        assert_eq!(b1 & 0x80 != 0, masked, "mask bit of frame {b0:#04x}");
        let mut pos = 2;
        let len = match b1 & 0x7F {
            126 => {
                pos += 2;
                usize::from(wire[2]) << 8 | usize::from(wire[3])
            }
            127 => {
                pos += 8;
                wire[2..10]
                    .iter()
                    .fold(0usize, |n, &b| n << 8 | usize::from(b))
            }
            n => usize::from(n),
        };
        let key = if masked {
            let k = [wire[pos], wire[pos + 1], wire[pos + 2], wire[pos + 3]];
            pos += 4;
            k
        } else {
            [0; 4]
        };
        assert!(
            wire.len() >= pos + len,
            "cut-off payload of frame {b0:#04x}"
        );
        let payload = wire[pos..pos + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        frames.push((b0, payload));
        wire = &wire[pos + len..];
    }
    frames
}

/// The opcode of a first byte (section 5.2), by name; panics on a reserved one.
pub fn opcode(b0: u8) -> OpCode {
    match b0 & 0x0F {
        0x0 => OpCode::Continuation,
        0x1 => OpCode::Text,
        0x2 => OpCode::Binary,
        0x8 => OpCode::Close,
        0x9 => OpCode::Ping,
        0xA => OpCode::Pong,
        other => panic!("reserved opcode {other:#x} in frame {b0:#04x}"),
    }
}

/// Read back frames an endpoint sent without extensions: `(opcode, unmasked payload)`.
/// Besides what [`decode_all`] checks, panics on a set RSV bit, a reserved opcode, or a
/// control frame that is fragmented or longer than 125 bytes (section 5.5).
pub fn decode_frames(wire: &[u8], masked: bool) -> Vec<(OpCode, Vec<u8>)> {
    decode_all(wire, masked)
        .into_iter()
        .map(|(b0, payload)| {
            assert_eq!(b0 & 0x70, 0, "RSV bits of frame {b0:#04x}");
            if b0 & 0x08 != 0 {
                assert!(b0 & 0x80 != 0, "fragmented control frame {b0:#04x}");
                assert!(payload.len() <= 125, "control frame {b0:#04x} too long");
            }
            (opcode(b0), payload)
        })
        .collect()
}

// What a connection under test has queued, read with the decoder above.

/// The frames `conn` has queued, decoded as its peer would: (opcode, payload).
#[cfg(feature = "alloc")]
pub fn queued(conn: &rfc6455::connection::Connection) -> Vec<(OpCode, Vec<u8>)> {
    let wire: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
    decode_frames(&wire, conn.role() == Role::Client)
}

/// The code of the close frame `conn` queued (the last frame), if any.
#[cfg(feature = "alloc")]
pub fn close_sent(conn: &rfc6455::connection::Connection) -> Option<u16> {
    match queued(conn).last() {
        Some((OpCode::Close, p)) if p.len() >= 2 => Some(u16::from_be_bytes([p[0], p[1]])),
        _ => None,
    }
}

/// Poll until the connection fails; no event may come first. Checks the failure's
/// aftermath: the close frame with the error's code is queued and later polls are empty.
#[cfg(feature = "alloc")]
pub fn failure(conn: &mut rfc6455::connection::Connection) -> rfc6455::connection::ProtocolError {
    let err = match conn.poll_event() {
        Err(e) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    };
    assert_eq!(close_sent(conn), Some(err.close_code().unwrap().0));
    assert_eq!(conn.poll_event(), Ok(None));
    assert_eq!(conn.poll_event_ref(), Ok(None));
    err
}

/// A frame as a client sends it (FIN as given, no RSV, masked with [`KEY`]), for feeding a
/// server by hand.
pub fn client_frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    encode(b0(fin, 0, opcode as u8), Some(KEY), payload)
}

/// The header length of a frame with a `len`-byte payload, with a masking key or without
/// (section 5.2: the shortest length form, then 4 key bytes).
pub fn header_len(len: usize, masked: bool) -> usize {
    let base = match len {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    };
    base + if masked { 4 } else { 0 }
}
