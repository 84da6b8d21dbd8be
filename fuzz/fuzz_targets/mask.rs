//! The word-at-a-time masking functions against the byte loop, and the frame encoders
//! that mask while copying (`encode_frame_to_vec` into a vector's spare capacity,
//! `encode_frame` into a slice) against each other and the decoder.
//!
//! Input: 4 bytes of key, 8 bytes of offset (big-endian), 1 byte of start alignment and
//! cut point, then the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::frame::{Decoded, Decoder, FrameHeader, OpCode, encode_frame, encode_frame_to_vec};
use rfc6455::mask;

fuzz_target!(|data: &[u8]| {
    let Some((key, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let Some((offset, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let Some((&shape, payload)) = rest.split_first() else {
        return;
    };
    let key = *key;
    let offset = u64::from_be_bytes(*offset) as usize;
    let start = (shape & 15) as usize;
    let len = payload.len();

    // The byte loop of RFC 6455 section 5.3 (`offset % 4` first: `offset + i` could
    // overflow).
    let want: Vec<u8> = payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[(offset % 4 + i) % 4])
        .collect();

    // In place, starting at a chosen alignment inside a larger buffer.
    let mut buf = vec![0xA5u8; start + len + 8];
    buf[start..start + len].copy_from_slice(payload);
    mask::apply(&mut buf[start..start + len], key, offset);
    assert_eq!(&buf[start..start + len], &want[..]);
    assert!(
        buf[..start]
            .iter()
            .chain(&buf[start + len..])
            .all(|&b| b == 0xA5)
    );

    // Copying, into a destination at another alignment.
    let dst_start = (shape >> 4) as usize;
    let mut dst = vec![0x5Au8; dst_start + len + 8];
    mask::copy_masked(&mut dst[dst_start..dst_start + len], payload, key, offset);
    assert_eq!(&dst[dst_start..dst_start + len], &want[..]);
    assert!(
        dst[..dst_start]
            .iter()
            .chain(&dst[dst_start + len..])
            .all(|&b| b == 0x5A)
    );

    // In two pieces, the second continuing the key phase.
    let cut = if len == 0 {
        0
    } else {
        (shape as usize * 7) % (len + 1)
    };
    let mut pieces = payload.to_vec();
    let (a, b) = pieces.split_at_mut(cut);
    mask::apply(a, key, offset);
    mask::apply(b, key, (offset % 4) + cut);
    assert_eq!(pieces, want);

    // A frame of this payload appended after `start` bytes, masked (a client's) when the
    // offset is odd: the bytes `encode_frame` writes, decoding back to the payload.
    let masked = offset % 2 == 1;
    let header = FrameHeader::new(true, OpCode::Binary, masked.then_some(key), len as u64);
    let mut out = vec![0xC3u8; start];
    if shape & 0x80 != 0 {
        out.shrink_to_fit(); // growth from an exact capacity
    } else {
        out.reserve(len + 14 + (shape as usize & 0x70)); // room to spare
    }
    let n = encode_frame_to_vec(&header, payload, &mut out).expect("valid header");
    assert_eq!(out.len(), start + n);
    assert!(out[..start].iter().all(|&b| b == 0xC3));
    let mut slice = vec![0u8; n];
    assert_eq!(encode_frame(&header, payload, &mut slice), Ok(n));
    assert_eq!(&out[start..], &slice[..]);
    let role = if masked { Role::Server } else { Role::Client };
    match Decoder::new(role).decode(&mut out[start..]) {
        Ok(Decoded::Frame { frame, consumed }) => {
            assert_eq!(consumed, n);
            assert_eq!(frame.payload, payload);
        }
        other => panic!("decoded {other:?}"),
    }
});
