//! The example frames of RFC 6455 section 5.7, decoded in the receiving role and encoded
//! back byte for byte.

use rfc6455::Role;
use rfc6455::frame::{
    Decoded, Decoder, FrameError, FrameHeader, OpCode, encode_frame, encode_frame_in_place,
};

/// The masking key of every masked example in section 5.7.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The role that receives a frame: masked frames come from a client, so a server reads
/// them; unmasked frames come from a server, so a client reads them.
fn receiver(masked: bool) -> Role {
    if masked { Role::Server } else { Role::Client }
}

/// A frame the RFC describes, and what it must decode to.
struct Vector {
    name: &'static str,
    wire: Vec<u8>,
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    header_len: usize,
}

/// A payload pattern for the two long binary examples (the RFC gives only their headers).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

fn with_payload(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut wire = header.to_vec();
    wire.extend_from_slice(payload);
    wire
}

fn vectors() -> Vec<Vector> {
    let p256 = pattern(256);
    let p64k = pattern(65536);
    vec![
        Vector {
            name: "single-frame unmasked text",
            wire: vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            fin: true,
            opcode: OpCode::Text,
            mask: None,
            payload: b"Hello".to_vec(),
            header_len: 2,
        },
        Vector {
            name: "single-frame masked text",
            wire: vec![
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            fin: true,
            opcode: OpCode::Text,
            mask: Some(KEY),
            payload: b"Hello".to_vec(),
            header_len: 6,
        },
        Vector {
            name: "fragmented text, first frame",
            wire: vec![0x01, 0x03, 0x48, 0x65, 0x6c],
            fin: false,
            opcode: OpCode::Text,
            mask: None,
            payload: b"Hel".to_vec(),
            header_len: 2,
        },
        Vector {
            name: "fragmented text, last frame",
            wire: vec![0x80, 0x02, 0x6c, 0x6f],
            fin: true,
            opcode: OpCode::Continuation,
            mask: None,
            payload: b"lo".to_vec(),
            header_len: 2,
        },
        Vector {
            name: "unmasked ping",
            wire: vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            fin: true,
            opcode: OpCode::Ping,
            mask: None,
            payload: b"Hello".to_vec(),
            header_len: 2,
        },
        Vector {
            name: "masked pong",
            wire: vec![
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            fin: true,
            opcode: OpCode::Pong,
            mask: Some(KEY),
            payload: b"Hello".to_vec(),
            header_len: 6,
        },
        Vector {
            name: "256 bytes binary, 16-bit length",
            wire: with_payload(&[0x82, 0x7E, 0x01, 0x00], &p256),
            fin: true,
            opcode: OpCode::Binary,
            mask: None,
            payload: p256,
            header_len: 4,
        },
        Vector {
            name: "64 KiB binary, 64-bit length",
            wire: with_payload(
                &[0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00],
                &p64k,
            ),
            fin: true,
            opcode: OpCode::Binary,
            mask: None,
            payload: p64k,
            header_len: 10,
        },
    ]
}

#[test]
fn rfc_examples_decode_to_what_the_rfc_says() {
    for v in vectors() {
        let mut wire = v.wire.clone();
        let mut decoder = Decoder::new(receiver(v.mask.is_some()));
        let Decoded::Frame { frame, consumed } = decoder.decode(&mut wire).unwrap() else {
            panic!("{}: not decoded as a whole frame", v.name);
        };
        assert_eq!(consumed, v.wire.len(), "{}", v.name);
        assert_eq!(frame.header.fin, v.fin, "{}", v.name);
        assert!(frame.header.rsv.is_empty(), "{}", v.name);
        assert_eq!(frame.header.opcode, v.opcode, "{}", v.name);
        assert_eq!(frame.header.mask, v.mask, "{}", v.name);
        assert_eq!(
            frame.header.payload_len,
            v.payload.len() as u64,
            "{}",
            v.name
        );
        assert_eq!(frame.header.encoded_len(), v.header_len, "{}", v.name);
        assert_eq!(&frame.payload[..], &v.payload[..], "{}", v.name);
        assert!(!decoder.in_frame(), "{}", v.name);
    }
}

#[test]
fn rfc_examples_encode_back_to_the_same_bytes() {
    for v in vectors() {
        let header = FrameHeader::new(v.fin, v.opcode, v.mask, v.payload.len() as u64);

        let encoded = header.encode().unwrap();
        assert_eq!(&encoded[..], &v.wire[..v.header_len], "{}: header", v.name);

        let mut out = vec![0u8; v.wire.len()];
        let n = encode_frame(&header, &v.payload, &mut out).unwrap();
        assert_eq!(n, v.wire.len(), "{}", v.name);
        assert_eq!(out, v.wire, "{}: encode_frame", v.name);

        let mut payload = v.payload.clone();
        let head = encode_frame_in_place(&header, &mut payload).unwrap();
        assert_eq!(
            with_payload(&head, &payload),
            v.wire,
            "{}: encode_frame_in_place",
            v.name
        );
    }
}

#[test]
fn fragmented_example_decodes_from_one_buffer() {
    // "Hel" then "lo", back to back as they would arrive.
    let mut wire = vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let mut decoder = Decoder::new(Role::Client);
    let Decoded::Frame { frame, consumed } = decoder.decode(&mut wire).unwrap() else {
        panic!("first fragment not decoded");
    };
    assert_eq!(consumed, 5);
    assert!(!frame.header.fin);
    assert_eq!(frame.header.opcode, OpCode::Text);
    assert_eq!(frame.payload, b"Hel");
    let Decoded::Frame { frame, consumed } = decoder.decode(&mut wire[5..]).unwrap() else {
        panic!("second fragment not decoded");
    };
    assert_eq!(consumed, 4);
    assert!(frame.header.fin);
    assert_eq!(frame.header.opcode, OpCode::Continuation);
    assert_eq!(frame.payload, b"lo");
}

#[test]
fn rfc_examples_in_the_wrong_role_are_rejected() {
    for v in vectors() {
        let masked = v.mask.is_some();
        let mut wire = v.wire.clone();
        let err = Decoder::new(receiver(masked).peer())
            .decode(&mut wire)
            .unwrap_err();
        let expected = if masked {
            FrameError::MaskedFrame
        } else {
            FrameError::UnmaskedFrame
        };
        assert_eq!(err, expected, "{}", v.name);
        assert_eq!(err.close_code().0, 1002, "{}", v.name);
        assert_eq!(
            wire, v.wire,
            "{}: a rejected frame is left untouched",
            v.name
        );
    }
}

#[test]
fn rfc_examples_decode_in_pieces() {
    for v in vectors() {
        let mut wire = v.wire.clone();
        let mut decoder = Decoder::new(receiver(v.mask.is_some()));
        let Decoded::Header { header, consumed } = decoder.decode_piece(&mut wire).unwrap() else {
            panic!("{}: no header", v.name);
        };
        assert_eq!(consumed, v.header_len, "{}", v.name);
        assert_eq!(header.opcode, v.opcode, "{}", v.name);
        assert_eq!(header.mask, v.mask, "{}", v.name);
        assert!(decoder.in_frame(), "{}", v.name);
        // Hand the payload over three bytes at a time: the key phase must carry over.
        let mut got = Vec::new();
        let mut pos = v.header_len;
        loop {
            let end = (pos + 3).min(wire.len());
            match decoder.decode_piece(&mut wire[pos..end]).unwrap() {
                Decoded::Payload {
                    data,
                    consumed,
                    last,
                } => {
                    assert_eq!(data.len(), consumed, "{}", v.name);
                    got.extend_from_slice(data);
                    pos += consumed;
                    if last {
                        break;
                    }
                }
                other => panic!("{}: unexpected {other:?}", v.name),
            }
        }
        assert_eq!(pos, v.wire.len(), "{}", v.name);
        assert_eq!(got, v.payload, "{}", v.name);
        assert!(!decoder.in_frame(), "{}", v.name);
    }
}
