//! Frames as a hostile peer writes them (any first byte, any declared length), and what a
//! connection under test has queued, decoded as its peer would read it.
#![allow(dead_code)]

use rfc6455::Role;
use rfc6455::connection::{Config, Connection, ProtocolError};
use rfc6455::frame::{Decoded, Decoder, DecoderConfig, OpCode, Rsv};

pub const KEY: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// A header with first byte `b0` declaring `len` payload bytes, masked when the receiver
/// is a server (as a client must send).
pub fn header(receiver: Role, b0: u8, len: u64) -> Vec<u8> {
    let mask = if receiver == Role::Server { 0x80 } else { 0 };
    let mut h = vec![b0];
    match len {
        0..=125 => h.push(mask | len as u8),
        126..=0xFFFF => {
            h.push(mask | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            h.push(mask | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
    }
    if receiver == Role::Server {
        h.extend_from_slice(&KEY);
    }
    h
}

/// A whole frame with first byte `b0`, masked for a server receiver.
pub fn frame(receiver: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = header(receiver, b0, payload.len() as u64);
    let start = f.len();
    f.extend_from_slice(payload);
    if receiver == Role::Server {
        for (i, b) in f[start..].iter_mut().enumerate() {
            *b ^= KEY[i % 4];
        }
    }
    f
}

/// The first byte of a frame: FIN, RSV bits (RSV1 = 4) and opcode.
pub fn b0(fin: bool, rsv: u8, opcode: u8) -> u8 {
    (u8::from(fin) << 7) | (rsv << 4) | opcode
}

pub fn connection(role: Role, config: Config) -> Connection {
    match role {
        rfc6455::Role::Server => Connection::upgraded_server(config),
        rfc6455::Role::Client => Connection::upgraded_client(config, [7; 32]),
    }
}

/// The frames `conn` has queued, decoded as its peer would: (opcode, payload).
pub fn queued(conn: &Connection) -> Vec<(OpCode, Vec<u8>)> {
    let mut wire: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
    let peer = match conn.role() {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut decoder = Decoder::with_config(DecoderConfig {
        role: peer,
        allowed_rsv: Rsv::NONE,
        max_frame_size: u64::MAX,
    });
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        match decoder.decode(&mut wire[pos..]) {
            Ok(Decoded::Frame { frame, consumed }) => {
                frames.push((frame.header.opcode, frame.payload.to_vec()));
                pos += consumed;
            }
            other => panic!("queued output is not whole frames: {other:?}"),
        }
    }
    frames
}

/// The code of the close frame `conn` queued (the last frame), if any.
pub fn close_sent(conn: &Connection) -> Option<u16> {
    match queued(conn).last() {
        Some((OpCode::Close, p)) if p.len() >= 2 => Some(u16::from_be_bytes([p[0], p[1]])),
        _ => None,
    }
}

/// Poll until the connection fails; no event may come first. Checks the failure's
/// aftermath: the close frame with the error's code is queued and later polls are empty.
pub fn failure(conn: &mut Connection) -> ProtocolError {
    let err = match conn.poll_event() {
        Err(e) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    };
    assert_eq!(close_sent(conn), Some(err.close_code().unwrap().0));
    assert_eq!(conn.poll_event(), Ok(None));
    assert_eq!(conn.poll_event_ref(), Ok(None));
    err
}
