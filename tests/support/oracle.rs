//! Frames written and read by hand from RFC 6455 section 5.2, with none of the crate's
//! code: the oracle for what a connection must accept and what it must queue.
#![allow(dead_code)]

/// A frame: first byte `b0` (FIN, RSV, opcode), the payload, masked with `key` if given.
/// The length takes the shortest form: 7 bits up to 125, then 16 bits up to 65535, then 64.
pub fn encode(b0: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    let mut out = Vec::with_capacity(len + 14);
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
            out.push(((len as u64) >> (shift * 8)) as u8);
        }
    }
    match key {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
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
