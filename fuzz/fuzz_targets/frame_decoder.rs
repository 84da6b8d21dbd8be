//! The frame decoder on arbitrary bytes, in both roles and under random configurations.
//!
//! The same stream is decoded three ways: whole with `decode`, with `decode` while it
//! arrives in chunks, and with `decode_piece` in chunks. All three must find the same
//! frames and end the same way (the same error, or the same number of missing bytes).
//! Every accepted frame must also encode back to exactly the bytes it was decoded from,
//! since the decoder only accepts the shortest length encoding.
//!
//! Input layout (so seeds are easy to write by hand):
//! - byte 0: bit 0 role (0 client, 1 server); bits 1-3 allowed RSV bits; bits 4-5 the
//!   frame size limit: 0 none, 1 the default, 2 `8 * (byte 1 >> 3)`, 3 the next 8 bytes
//!   (big-endian);
//! - byte 1: bits 0-2: the number of chunk sizes less one;
//! - that many bytes: chunk sizes (0 stands for 256);
//! - [8 bytes of limit];
//! - the rest: the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::frame::{Decoded, Decoder, DecoderConfig, FrameError, FrameHeader, Rsv, encode_frame};

#[derive(Debug, PartialEq)]
enum Event {
    Frame(FrameHeader, Vec<u8>),
    Error(FrameError),
    Incomplete(usize),
}

fn parse_input(data: &[u8]) -> Option<(DecoderConfig, Vec<usize>, &[u8])> {
    let (&flags, rest) = data.split_first()?;
    let (&chunk_byte, rest) = rest.split_first()?;
    let (sizes, mut rest) = rest.split_at_checked((chunk_byte & 7) as usize + 1)?;
    let chunks = sizes
        .iter()
        .map(|&c| if c == 0 { 256 } else { c as usize })
        .collect();
    let max_frame_size = match (flags >> 4) & 3 {
        0 => u64::MAX,
        1 => DecoderConfig::DEFAULT_MAX_FRAME_SIZE,
        2 => 8 * u64::from(chunk_byte >> 3),
        _ => {
            let (limit, tail) = rest.split_at_checked(8)?;
            rest = tail;
            u64::from_be_bytes(limit.try_into().unwrap())
        }
    };
    let cfg = DecoderConfig {
        role: if flags & 1 == 0 {
            Role::Client
        } else {
            Role::Server
        },
        allowed_rsv: Rsv::from_bits(flags >> 1),
        max_frame_size,
    };
    Some((cfg, chunks, rest))
}

/// Check a decoded frame against the rules and the bytes it came from.
fn check_frame(cfg: &DecoderConfig, header: &FrameHeader, payload: &[u8], original: &[u8]) {
    assert_eq!(header.payload_len, payload.len() as u64);
    assert!(header.payload_len <= cfg.max_frame_size);
    assert_eq!(header.mask.is_some(), cfg.role == Role::Server);
    assert!(cfg.allowed_rsv.contains(header.rsv));
    if header.opcode.is_control() {
        assert!(header.fin && payload.len() <= 125);
    }
    let mut out = vec![0u8; original.len()];
    let n = encode_frame(header, payload, &mut out).expect("an accepted frame encodes");
    assert_eq!(&out[..n], original, "re-encoding differs from the wire");
}

fn decode_whole(cfg: DecoderConfig, stream: &[u8]) -> Vec<Event> {
    let mut buf = stream.to_vec();
    let mut decoder = Decoder::with_config(cfg);
    let mut events = Vec::new();
    let mut pos = 0;
    loop {
        match decoder.decode(&mut buf[pos..]) {
            Ok(Decoded::Frame { frame, consumed }) => {
                assert!(consumed >= 2 && pos + consumed <= stream.len());
                let original = &stream[pos..pos + consumed];
                check_frame(&cfg, &frame.header, frame.payload, original);
                events.push(Event::Frame(frame.header, frame.payload.to_vec()));
                pos += consumed;
            }
            Ok(Decoded::Incomplete { needed }) => {
                assert!(needed > 0);
                events.push(Event::Incomplete(needed));
                return events;
            }
            Ok(other) => panic!("decode outside a piecewise frame returned {other:?}"),
            Err(e) => {
                events.push(Event::Error(e));
                return events;
            }
        }
    }
}

fn decode_chunked(cfg: DecoderConfig, stream: &[u8], chunks: &[usize]) -> Vec<Event> {
    let mut buf = stream.to_vec();
    let mut decoder = Decoder::with_config(cfg);
    let mut sizes = chunks.iter().cycle();
    let mut events = Vec::new();
    let (mut pos, mut received) = (0, 0);
    loop {
        match decoder.decode(&mut buf[pos..received]) {
            Ok(Decoded::Frame { frame, consumed }) => {
                events.push(Event::Frame(frame.header, frame.payload.to_vec()));
                pos += consumed;
            }
            Ok(Decoded::Incomplete { needed }) => {
                assert!(needed > 0);
                if received == stream.len() {
                    events.push(Event::Incomplete(needed));
                    return events;
                }
                received = (received + sizes.next().unwrap()).min(stream.len());
            }
            Ok(other) => panic!("decode outside a piecewise frame returned {other:?}"),
            Err(e) => {
                events.push(Event::Error(e));
                return events;
            }
        }
    }
}

fn decode_in_pieces(cfg: DecoderConfig, stream: &[u8], chunks: &[usize]) -> Vec<Event> {
    let mut buf = stream.to_vec();
    let mut decoder = Decoder::with_config(cfg);
    let mut sizes = chunks.iter().cycle();
    let mut events = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let (mut pos, mut received) = (0, 0);
    loop {
        assert_eq!(decoder.in_frame(), current.is_some());
        match decoder.decode_piece(&mut buf[pos..received]) {
            Ok(Decoded::Header { header, consumed }) => {
                assert!(current.is_none());
                assert_eq!(consumed, header.encoded_len());
                current = Some((header, Vec::new()));
                pos += consumed;
            }
            Ok(Decoded::Payload {
                data,
                consumed,
                last,
            }) => {
                assert_eq!(data.len(), consumed);
                assert!(consumed > 0 || last);
                let (header, mut payload) = current.take().expect("payload inside a frame");
                payload.extend_from_slice(data);
                pos += consumed;
                if last {
                    assert_eq!(payload.len() as u64, header.payload_len);
                    events.push(Event::Frame(header, payload));
                } else {
                    current = Some((header, payload));
                }
            }
            Ok(Decoded::Incomplete { needed }) => {
                assert!(needed > 0);
                if received == stream.len() {
                    // Mid-frame, `decode` would report the missing payload bytes.
                    let needed = match &current {
                        Some((header, payload)) => {
                            assert_eq!(needed, 1);
                            usize::try_from(header.payload_len - payload.len() as u64)
                                .unwrap_or(usize::MAX)
                        }
                        None => needed,
                    };
                    events.push(Event::Incomplete(needed));
                    return events;
                }
                received = (received + sizes.next().unwrap()).min(stream.len());
            }
            Ok(other) => panic!("decode_piece returned {other:?}"),
            Err(e) => {
                assert!(current.is_none());
                events.push(Event::Error(e));
                return events;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((cfg, chunks, stream)) = parse_input(data) else {
        return;
    };
    let whole = decode_whole(cfg, stream);
    assert_eq!(
        whole,
        decode_chunked(cfg, stream, &chunks),
        "chunked decode differs"
    );
    assert_eq!(
        whole,
        decode_in_pieces(cfg, stream, &chunks),
        "piecewise decode differs"
    );
    for event in &whole {
        if let Event::Error(e) = event {
            assert!(matches!(e.close_code().0, 1002 | 1009));
        }
    }
});
