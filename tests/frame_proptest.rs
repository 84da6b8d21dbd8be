//! Property tests of the frame encoder and decoder: every opcode, every length form and
//! its boundaries, masked and unmasked, every RSV combination; whole, at every split
//! point, and in pieces of random sizes.
//!
//! `PROPTEST_CASES=n` raises the case count for a deeper run.

mod support;
use cases::cases;
use proptest::prelude::*;
use rfc6455::Role;
use rfc6455::frame::{
    Decoded, Decoder, DecoderConfig, FrameHeader, OpCode, Rsv, encode_frame, encode_frame_in_place,
};
use support::{cases, oracle};

/// A frame to send: the header and a seed for its payload bytes.
#[derive(Clone, Debug)]
struct Spec {
    header: FrameHeader,
    seed: u64,
}

impl Spec {
    fn payload(&self) -> Vec<u8> {
        // xorshift64*: cheap bytes for payloads up to a few hundred KiB.
        let mut x = self.seed | 1;
        (0..self.header.payload_len)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    /// Bytes of the extended length field: 0, 2 or 8.
    fn ext_len(&self) -> usize {
        match self.header.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        }
    }

    fn header_len(&self) -> usize {
        2 + self.ext_len() + if self.header.mask.is_some() { 4 } else { 0 }
    }

    fn wire_len(&self) -> usize {
        self.header_len() + self.header.payload_len as usize
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.wire_len()];
        let n = encode_frame(&self.header, &self.payload(), &mut out).unwrap();
        assert_eq!(n, out.len());
        out
    }
}

fn opcode() -> impl Strategy<Value = OpCode> {
    prop_oneof![
        Just(OpCode::Continuation),
        Just(OpCode::Text),
        Just(OpCode::Binary),
        Just(OpCode::Close),
        Just(OpCode::Ping),
        Just(OpCode::Pong),
    ]
}

fn data_len() -> impl Strategy<Value = u64> {
    prop_oneof![
        // Each form's boundaries.
        3 => prop::sample::select(vec![0u64, 1, 125, 126, 127, 65535, 65536, 65537]),
        3 => 0..=1024u64,
        1 => 1024..=140_000u64,
    ]
}

fn control_len() -> impl Strategy<Value = u64> {
    prop_oneof![prop::sample::select(vec![0u64, 1, 124, 125]), 0..=125u64]
}

/// One frame, masked or not as its sender's role requires.
fn spec(masked: bool) -> impl Strategy<Value = Spec> {
    (
        opcode(),
        any::<bool>(),
        0..8u8,
        any::<[u8; 4]>(),
        any::<u64>(),
    )
        .prop_flat_map(move |(opcode, fin, rsv, key, seed)| {
            let len = if opcode.is_control() {
                control_len().boxed()
            } else {
                data_len().boxed()
            };
            len.prop_map(move |payload_len| Spec {
                header: FrameHeader {
                    // Control frames cannot be fragmented.
                    fin: fin || opcode.is_control(),
                    rsv: Rsv::from_bits(rsv),
                    opcode,
                    mask: masked.then_some(key),
                    payload_len,
                },
                seed,
            })
        })
}

fn any_spec() -> impl Strategy<Value = Spec> {
    any::<bool>().prop_flat_map(spec)
}

/// A stream of frames from one sender: all masked (client) or all unmasked (server).
fn stream() -> impl Strategy<Value = Vec<Spec>> {
    any::<bool>().prop_flat_map(|masked| prop::collection::vec(spec(masked), 1..5))
}

/// The decoder of the receiving end, accepting every RSV bit and any size.
fn receiver(masked: bool) -> Decoder {
    Decoder::with_config(DecoderConfig {
        role: if masked { Role::Server } else { Role::Client },
        allowed_rsv: Rsv::ALL,
        max_frame_size: u64::MAX,
    })
}

/// What the decoder must ask for when it holds the first `p` bytes of the frame: the rest
/// of the part of the header it is in (first two bytes, extended length, mask key), then
/// the rest of the payload.
fn expected_need(spec: &Spec, p: usize) -> usize {
    let ext_end = 2 + spec.ext_len();
    if p < 2 {
        2 - p
    } else if p < ext_end {
        ext_end - p
    } else if p < spec.header_len() {
        spec.header_len() - p
    } else {
        spec.wire_len() - p
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn both_encoders_agree_and_decode_back(spec in any_spec()) {
        let payload = spec.payload();
        let wire = spec.encode();
        prop_assert_eq!(spec.header.encoded_len(), spec.header_len());
        // The bytes RFC 6455 section 5.2 calls for, encoded by hand.
        let h = &spec.header;
        let b0 = oracle::b0(h.fin, h.rsv.bits(), h.opcode as u8);
        prop_assert_eq!(&wire, &oracle::encode(b0, h.mask, &payload));

        let mut in_place = payload.clone();
        let head = encode_frame_in_place(&spec.header, &mut in_place).unwrap();
        prop_assert_eq!(&head[..], &wire[..spec.header_len()]);
        prop_assert_eq!(&in_place[..], &wire[spec.header_len()..]);
        if spec.header.mask.is_none() {
            prop_assert_eq!(&in_place, &payload);
        }

        // Decoded whole, with a trailing byte of the next frame that must stay put.
        let mut buf = wire.clone();
        buf.push(0x81);
        let mut decoder = receiver(spec.header.mask.is_some());
        match decoder.decode(&mut buf).unwrap() {
            Decoded::Frame { frame, consumed } => {
                prop_assert_eq!(consumed, wire.len());
                prop_assert_eq!(frame.header, spec.header);
                prop_assert_eq!(&frame.payload[..], &payload[..]);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        prop_assert!(!decoder.in_frame());
        prop_assert_eq!(buf[wire.len()], 0x81);
    }

    #[test]
    fn every_prefix_is_incomplete_with_the_exact_need(spec in any_spec()) {
        let mut wire = spec.encode();
        let masked = spec.header.mask.is_some();
        let mut decoder = receiver(masked);
        for p in 0..wire.len() {
            let got = decoder.decode(&mut wire[..p]).unwrap();
            let want = expected_need(&spec, p);
            prop_assert_eq!(got, Decoded::Incomplete { needed: want }, "prefix {}", p);
        }
        // An incomplete decode leaves no state behind.
        prop_assert!(!decoder.in_frame());
        let mut piecewise = receiver(masked);
        for p in 0..spec.header_len() {
            let got = piecewise.decode_piece(&mut wire[..p]).unwrap();
            let want = expected_need(&spec, p);
            prop_assert_eq!(got, Decoded::Incomplete { needed: want }, "piece prefix {}", p);
        }
        match piecewise.decode_piece(&mut wire[..spec.header_len()]).unwrap() {
            Decoded::Header { header, consumed } => {
                prop_assert_eq!(header, spec.header);
                prop_assert_eq!(consumed, spec.header_len());
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        match decoder.decode(&mut wire).unwrap() {
            Decoded::Frame { frame, consumed } => {
                prop_assert_eq!(consumed, spec.wire_len());
                prop_assert_eq!(frame.header, spec.header);
                prop_assert_eq!(&frame.payload[..], &spec.payload()[..]);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn streams_decode_the_same_over_random_chunks(
        specs in stream(),
        chunks in prop::collection::vec(
            prop_oneof![3 => 1usize..=20, 2 => 1usize..=2000, 1 => 1usize..=70_000],
            1..12,
        ),
    ) {
        let masked = specs[0].header.mask.is_some();
        let wire: Vec<u8> = specs.iter().flat_map(Spec::encode).collect();
        let mut chunk_sizes = chunks.iter().copied().cycle();

        // Whole frames with `decode`, reading a chunk whenever it asks for more.
        let mut buf = wire.clone();
        let mut decoder = receiver(masked);
        let (mut start, mut received) = (0, 0);
        let mut frames = Vec::new();
        while start < buf.len() {
            match decoder.decode(&mut buf[start..received]).unwrap() {
                Decoded::Incomplete { needed } => {
                    prop_assert!(needed > 0 && received + needed <= buf.len());
                    received = (received + chunk_sizes.next().unwrap()).min(buf.len());
                }
                Decoded::Frame { frame, consumed } => {
                    frames.push((frame.header, frame.payload.to_vec()));
                    start += consumed;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(frames.len(), specs.len());
        for (spec, (header, payload)) in specs.iter().zip(&frames) {
            prop_assert_eq!(header, &spec.header);
            prop_assert_eq!(payload, &spec.payload());
        }

        // The same stream with `decode_piece`: payload pieces carry the mask phase.
        let mut buf = wire.clone();
        let mut decoder = receiver(masked);
        let (mut start, mut received) = (0, 0);
        let mut frames: Vec<(FrameHeader, Vec<u8>, bool)> = Vec::new();
        while start < buf.len() || decoder.in_frame() {
            match decoder.decode_piece(&mut buf[start..received]).unwrap() {
                Decoded::Incomplete { needed } => {
                    prop_assert!(needed > 0 && received + needed <= buf.len());
                    if decoder.in_frame() {
                        prop_assert_eq!(needed, 1);
                    }
                    received = (received + chunk_sizes.next().unwrap()).min(buf.len());
                }
                Decoded::Header { header, consumed } => {
                    prop_assert!(frames.last().is_none_or(|f| f.2), "header inside a frame");
                    prop_assert!(decoder.in_frame());
                    frames.push((header, Vec::new(), false));
                    start += consumed;
                }
                Decoded::Payload { data, consumed, last } => {
                    prop_assert_eq!(data.len(), consumed);
                    prop_assert!(consumed > 0 || last, "empty piece before the end");
                    let frame = frames.last_mut().unwrap();
                    prop_assert!(!frame.2, "payload after the last piece");
                    frame.1.extend_from_slice(data);
                    frame.2 = last;
                    prop_assert_eq!(decoder.in_frame(), !last);
                    start += consumed;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(frames.len(), specs.len());
        for (spec, (header, payload, done)) in specs.iter().zip(&frames) {
            prop_assert!(*done);
            prop_assert_eq!(header, &spec.header);
            prop_assert_eq!(payload, &spec.payload());
        }
    }

    #[test]
    fn piece_sizes_follow_the_buffer(spec in any_spec(), cut in any::<prop::sample::Index>()) {
        // Cut the payload once at a random point: the first piece is exactly what is
        // buffered, the second the rest, and unmasking across the cut is seamless.
        let mut wire = spec.encode();
        let hl = spec.header_len();
        let len = spec.header.payload_len as usize;
        let cut = cut.index(len + 1);
        let mut decoder = receiver(spec.header.mask.is_some());
        let Decoded::Header { consumed, .. } = decoder.decode_piece(&mut wire).unwrap() else {
            panic!("no header");
        };
        prop_assert_eq!(consumed, hl);
        let (first, second) = wire[hl..].split_at_mut(cut);
        let mut got = Vec::new();
        if cut > 0 {
            match decoder.decode_piece(first).unwrap() {
                Decoded::Payload { data, consumed, last } => {
                    prop_assert_eq!(consumed, cut);
                    prop_assert_eq!(last, cut == len);
                    got.extend_from_slice(data);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        if decoder.in_frame() || cut == 0 {
            // `decode` continues a frame started in pieces.
            match decoder.decode(second).unwrap() {
                Decoded::Payload { data, consumed, last } => {
                    prop_assert_eq!(consumed, len - cut);
                    prop_assert!(last);
                    got.extend_from_slice(data);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert!(!decoder.in_frame());
        prop_assert_eq!(got, spec.payload());
    }
}
