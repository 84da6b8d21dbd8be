//! `encode_frame_to_vec`: frames appended to a vector's spare capacity, checked against a
//! reference written here (RFC 6455 sections 5.2 and 5.3), against `encode_frame` into a
//! slice, and by decoding them back.
#![cfg(feature = "alloc")]

use rfc6455::Role;
use rfc6455::frame::{
    Decoded, Decoder, EncodeError, FrameHeader, OpCode, encode_frame, encode_frame_to_vec,
};

/// The frame of RFC 6455 section 5.2, byte by byte: header, then the payload masked with
/// key byte `i % 4` at byte `i`.
fn reference(header: &FrameHeader, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(header.fin as u8) << 7 | header.rsv.bits() << 4 | header.opcode as u8];
    let m = if header.mask.is_some() { 0x80 } else { 0 };
    let len = payload.len() as u64;
    if len < 126 {
        v.push(m | len as u8);
    } else if len < 65536 {
        v.extend([m | 126, (len >> 8) as u8, len as u8]);
    } else {
        v.push(m | 127);
        v.extend((0..8).rev().map(|i| (len >> (8 * i)) as u8));
    }
    match header.mask {
        Some(key) => {
            v.extend(key);
            v.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => v.extend(payload),
    }
    v
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// Lengths at both sides of every bound: the short-copy case (32), the 7-bit, 16-bit and
/// 64-bit length forms, and the vector kernels (256), each with every remainder modulo 4
/// (the key phase of the last bytes) and modulo 32 (the vector tail).
fn lengths() -> Vec<usize> {
    let mut lens: Vec<usize> = (0..=70).collect();
    for bound in [125, 126, 256, 2048, 65535, 65536] {
        lens.extend(bound - 5..bound + 5);
    }
    lens.extend([100_000, 100_003]);
    lens.sort();
    lens.dedup();
    lens
}

const KEYS: [Option<[u8; 4]>; 3] = [
    None,
    Some([0x37, 0xfa, 0x21, 0x3d]),
    Some([0xFF, 0, 0x80, 1]),
];

#[test]
fn appends_the_reference_frame_at_every_length_form_and_key_phase() {
    let pool = pattern(100_003 + 40, 7);
    let mut out = Vec::new();
    let mut slice = vec![0u8; 100_003 + 14];
    for len in lengths() {
        for key in KEYS {
            // The payload starts at every phase of a word (the source alignment), and the
            // vector already holds 0 to 3 bytes (the destination alignment).
            for shift in 0..4 {
                let payload = &pool[shift..shift + len];
                let header = FrameHeader::new(true, OpCode::Binary, key, len as u64);
                let want = reference(&header, payload);
                out.clear();
                out.extend(std::iter::repeat_n(0xEE, shift));
                assert_eq!(
                    encode_frame_to_vec(&header, payload, &mut out),
                    Ok(want.len())
                );
                assert_eq!(out.len(), shift + want.len());
                assert!(out[..shift].iter().all(|&b| b == 0xEE), "prefix kept");
                assert!(
                    out[shift..] == want[..],
                    "len {len} key {key:?} shift {shift}"
                );
                let n = encode_frame(&header, payload, &mut slice).unwrap();
                assert!(
                    slice[..n] == want[..],
                    "encode_frame: len {len} key {key:?}"
                );
            }
        }
    }
}

/// Frames appended one after another (the vector growing, or with room to spare) decode
/// back to their payloads, in order.
#[test]
fn consecutive_frames_decode_back() {
    let lens = [0usize, 1, 5, 32, 33, 125, 126, 300, 70_000, 3, 0, 4097];
    for role in [Role::Client, Role::Server] {
        for reserve in [0, 1 << 20] {
            let mut out = Vec::with_capacity(reserve);
            for (i, &len) in lens.iter().enumerate() {
                let key = (role == Role::Client).then_some([i as u8, 0x5A, !(i as u8), 0x11]);
                let opcode = if i == 0 { OpCode::Ping } else { OpCode::Text };
                let header = FrameHeader::new(true, opcode, key, len as u64);
                encode_frame_to_vec(&header, &pattern(len, i as u8), &mut out).unwrap();
            }
            // The peer of `role` decodes.
            let peer = match role {
                Role::Client => Role::Server,
                Role::Server => Role::Client,
            };
            let mut decoder = Decoder::new(peer);
            let mut at = 0;
            for (i, &len) in lens.iter().enumerate() {
                match decoder.decode(&mut out[at..]).unwrap() {
                    Decoded::Frame { frame, consumed } => {
                        assert_eq!(frame.payload, &pattern(len, i as u8)[..], "frame {i}");
                        at += consumed;
                    }
                    other => panic!("frame {i}: {other:?}"),
                }
            }
            assert_eq!(at, out.len());
        }
    }
}

/// A large unmasked payload whose source lies 1 to 63 bytes before the destination,
/// modulo 4 KiB (where some `memcpy`s are slow and the copy takes the vector loop), and
/// one well clear of it: both append exactly.
#[test]
fn large_copies_in_and_out_of_the_slow_memcpy_window_append_exactly() {
    let pool = pattern(4096 + 10_000, 3);
    for len in [2048, 5000, 9999] {
        for delta in [1usize, 17, 63, 64, 2048] {
            let mut out: Vec<u8> = Vec::with_capacity(len + 100);
            out.push(1);
            let header = FrameHeader::new(true, OpCode::Binary, None, len as u64);
            // The payload lands after the 1-byte prefix and a 4-byte header.
            let dst = out.as_ptr() as usize + 1 + header.encoded_len();
            let at = dst.wrapping_sub(delta).wrapping_sub(pool.as_ptr() as usize) % 4096;
            let payload = &pool[at..at + len];
            let ptr = out.as_ptr();
            encode_frame_to_vec(&header, payload, &mut out).unwrap();
            assert_eq!(out.as_ptr(), ptr, "no reallocation: the placement held");
            assert!(
                out[1..] == reference(&header, payload)[..],
                "len {len} delta {delta}"
            );
        }
    }
}

#[test]
fn errors_append_nothing() {
    let mut out = vec![9u8; 3];
    let cases = [
        (
            FrameHeader::new(true, OpCode::Binary, None, 4),
            3,
            EncodeError::LengthMismatch {
                header: 4,
                payload: 3,
            },
        ),
        (
            FrameHeader::new(false, OpCode::Ping, None, 1),
            1,
            EncodeError::FragmentedControl,
        ),
        (
            FrameHeader::new(true, OpCode::Close, Some([1; 4]), 126),
            126,
            EncodeError::ControlTooLong { len: 126 },
        ),
    ];
    for (header, len, err) in cases {
        assert_eq!(
            encode_frame_to_vec(&header, &vec![0; len], &mut out),
            Err(err)
        );
        assert_eq!(out, [9, 9, 9], "{header:?}");
    }
}
