//! Table tests of every header rule the decoder enforces: each row asserts the exact
//! `FrameError`, its close code, and the number of bytes after which the decoder can tell
//! (shorter prefixes are `Incomplete`, every longer one fails the same way).

use rfc6455::Role;
use rfc6455::frame::{Decoded, Decoder, DecoderConfig, FrameError, OpCode, Rsv};

const PROTOCOL_ERROR: u16 = 1002;
const TOO_BIG: u16 = 1009;

fn config(role: Role, allowed_rsv: Rsv, max_frame_size: u64) -> DecoderConfig {
    DecoderConfig {
        role,
        allowed_rsv,
        max_frame_size,
    }
}

fn default_config(role: Role) -> DecoderConfig {
    DecoderConfig::new(role)
}

/// The MASK bit a frame must carry to be accepted by `role`.
fn mask_bit(role: Role) -> u8 {
    if role == Role::Server { 0x80 } else { 0 }
}

/// Assert that `wire` is rejected with `expected` and `close_code` once `decided_at` bytes
/// are present, by `decode` and `decode_piece` alike, and that no prefix shorter than
/// that fails or yields a frame.
#[track_caller]
fn rejects(
    cfg: DecoderConfig,
    wire: &[u8],
    decided_at: usize,
    expected: FrameError,
    close_code: u16,
) {
    assert!(decided_at <= wire.len(), "row needs {decided_at} bytes");
    assert_eq!(expected.close_code().0, close_code, "{expected:?}");
    for p in 0..=wire.len() {
        let mut buf = wire[..p].to_vec();
        let mut buf2 = buf.clone();
        let whole = Decoder::with_config(cfg).decode(&mut buf);
        let piece = Decoder::with_config(cfg).decode_piece(&mut buf2);
        if p < decided_at {
            assert!(
                matches!(whole, Ok(Decoded::Incomplete { needed }) if needed > 0),
                "prefix {p} of {wire:02x?}: decode gave {whole:?}"
            );
            assert!(
                matches!(piece, Ok(Decoded::Incomplete { needed }) if needed > 0),
                "prefix {p} of {wire:02x?}: decode_piece gave {piece:?}"
            );
        } else {
            assert_eq!(whole, Err(expected), "prefix {p} of {wire:02x?}");
            assert_eq!(piece, Err(expected), "prefix {p} of {wire:02x?}");
        }
        assert_eq!(
            buf,
            &wire[..p],
            "a rejected header leaves the buffer untouched"
        );
        assert_eq!(
            buf2,
            &wire[..p],
            "a rejected header leaves the buffer untouched"
        );
    }
}

/// Assert that no prefix of `wire` is rejected and the whole of it is one frame.
#[track_caller]
fn accepts(cfg: DecoderConfig, wire: &[u8]) {
    for p in 0..wire.len() {
        let mut buf = wire[..p].to_vec();
        let got = Decoder::with_config(cfg).decode(&mut buf);
        assert!(
            matches!(got, Ok(Decoded::Incomplete { .. })),
            "prefix {p} of {wire:02x?}: {got:?}"
        );
    }
    let mut buf = wire.to_vec();
    let got = Decoder::with_config(cfg).decode(&mut buf);
    assert!(
        matches!(got, Ok(Decoded::Frame { consumed, .. }) if consumed == wire.len()),
        "{wire:02x?}: {got:?}"
    );
}

const ROLES: [Role; 2] = [Role::Client, Role::Server];

#[test]
fn reserved_opcodes_are_rejected_from_the_first_byte() {
    let reserved = [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF];
    for role in ROLES {
        for op in reserved {
            for fin in [0x80, 0x00] {
                let wire = [fin | op, mask_bit(role), 0, 0, 0, 0];
                rejects(
                    default_config(role),
                    &wire,
                    1,
                    FrameError::ReservedOpcode(op),
                    PROTOCOL_ERROR,
                );
            }
        }
    }
    // The six defined opcodes are accepted.
    for op in [0x0, 0x1, 0x2, 0x8, 0x9, 0xA] {
        accepts(default_config(Role::Client), &[0x80 | op, 0x00]);
    }
}

#[test]
fn every_rsv_combination_with_no_extension() {
    let cfg = config(Role::Client, Rsv::NONE, 1 << 20);
    accepts(cfg, &[0x81, 0x00]);
    // (bits as in byte 0 >> 4, reported stray bits)
    let rows = [
        (0b001, 0b001),
        (0b010, 0b010),
        (0b011, 0b011),
        (0b100, 0b100),
        (0b101, 0b101),
        (0b110, 0b110),
        (0b111, 0b111),
    ];
    for (bits, stray) in rows {
        let wire = [0x80 | (bits << 4) | 0x1, 0x00];
        rejects(
            cfg,
            &wire,
            1,
            FrameError::ReservedBits(stray),
            PROTOCOL_ERROR,
        );
    }
}

#[test]
fn every_rsv_combination_with_rsv1_allowed() {
    let cfg = config(Role::Server, Rsv::RSV1, 1 << 20);
    for bits in [0b000, 0b100] {
        let wire = [0x80 | (bits << 4) | 0x1, 0x80, 1, 2, 3, 4];
        accepts(cfg, &wire);
        let mut buf = wire;
        let Ok(Decoded::Frame { frame, .. }) = Decoder::with_config(cfg).decode(&mut buf) else {
            panic!("rsv {bits:03b} not accepted");
        };
        assert_eq!(frame.header.rsv, Rsv::from_bits(bits));
        assert_eq!(frame.header.rsv.contains(Rsv::RSV1), bits == 0b100);
    }
    // RSV2 and RSV3 stay forbidden, and only they are reported.
    let rows = [
        (0b001, 0b001),
        (0b010, 0b010),
        (0b011, 0b011),
        (0b101, 0b001),
        (0b110, 0b010),
        (0b111, 0b011),
    ];
    for (bits, stray) in rows {
        let wire = [0x80 | (bits << 4) | 0x2, 0x80, 1, 2, 3, 4];
        rejects(
            cfg,
            &wire,
            1,
            FrameError::ReservedBits(stray),
            PROTOCOL_ERROR,
        );
    }
}

#[test]
fn every_rsv_combination_is_accepted_when_all_are_allowed() {
    let cfg = config(Role::Client, Rsv::ALL, 1 << 20);
    for bits in 0..8u8 {
        let mut wire = [0x80 | (bits << 4) | 0x2, 0x01, 0xAB];
        let Ok(Decoded::Frame { frame, .. }) = Decoder::with_config(cfg).decode(&mut wire) else {
            panic!("rsv {bits:03b} not accepted");
        };
        assert_eq!(frame.header.rsv.bits(), bits);
        assert_eq!(frame.payload, &[0xAB]);
    }
}

#[test]
fn control_frames_longer_than_125_bytes() {
    for role in ROLES {
        for op in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
            let m = mask_bit(role);
            // 126 and 127 announce an extended length: too long whatever follows.
            let wire = [0x80 | op as u8, m | 126, 0x00, 0x7D, 1, 2, 3, 4];
            rejects(
                default_config(role),
                &wire,
                2,
                FrameError::ControlTooLong { len: 126 },
                PROTOCOL_ERROR,
            );
            let wire = [0x80 | op as u8, m | 127, 0, 0, 0, 0, 0, 0, 0, 5];
            rejects(
                default_config(role),
                &wire,
                2,
                FrameError::ControlTooLong { len: 127 },
                PROTOCOL_ERROR,
            );
            // 125 bytes is the limit and is accepted.
            let mut wire = vec![0x80 | op as u8, m | 125];
            if m != 0 {
                wire.extend_from_slice(&[9, 8, 7, 6]);
            }
            wire.extend_from_slice(&[0x55; 125]);
            accepts(default_config(role), &wire);
        }
    }
}

#[test]
fn fragmented_control_frames() {
    for role in ROLES {
        for op in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
            let wire = [op as u8, mask_bit(role), 1, 2, 3, 4];
            rejects(
                default_config(role),
                &wire,
                1,
                FrameError::FragmentedControl,
                PROTOCOL_ERROR,
            );
        }
        // Data frames may be fragmented.
        for op in [OpCode::Continuation, OpCode::Text, OpCode::Binary] {
            let mut wire = vec![op as u8, mask_bit(role)];
            if role == Role::Server {
                wire.extend_from_slice(&[1, 2, 3, 4]);
            }
            accepts(default_config(role), &wire);
        }
    }
}

#[test]
fn sixty_four_bit_length_with_the_top_bit_set() {
    for role in ROLES {
        let m = mask_bit(role);
        for top in [0x80, 0xC0, 0xFF] {
            let wire = [0x82, m | 127, top, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
            // Decided by the first length byte, before the other seven arrive.
            rejects(
                default_config(role),
                &wire,
                3,
                FrameError::LengthMsbSet,
                PROTOCOL_ERROR,
            );
        }
    }
}

#[test]
fn non_minimal_sixteen_bit_lengths() {
    for role in ROLES {
        let m = mask_bit(role);
        for len in [0u16, 1, 100, 125] {
            let [hi, lo] = len.to_be_bytes();
            let wire = [0x82, m | 126, hi, lo, 1, 2, 3, 4];
            rejects(
                default_config(role),
                &wire,
                4,
                FrameError::NonMinimalLength { len: len as u64 },
                PROTOCOL_ERROR,
            );
        }
        // 126 is the shortest length that needs the 16-bit form.
        let mut wire = vec![0x82, m | 126, 0x00, 126];
        if m != 0 {
            wire.extend_from_slice(&[1, 2, 3, 4]);
        }
        wire.extend_from_slice(&[0; 126]);
        accepts(default_config(role), &wire);
    }
}

#[test]
fn non_minimal_sixty_four_bit_lengths() {
    for role in ROLES {
        let m = mask_bit(role);
        for len in [0u64, 1, 125, 126, 1000, 0xFFFF] {
            let mut wire = vec![0x82, m | 127];
            wire.extend_from_slice(&len.to_be_bytes());
            wire.extend_from_slice(&[1, 2, 3, 4]);
            rejects(
                default_config(role),
                &wire,
                10,
                FrameError::NonMinimalLength { len },
                PROTOCOL_ERROR,
            );
        }
        // 65536 is the shortest length that needs the 64-bit form.
        let mut wire = vec![0x82, m | 127, 0, 0, 0, 0, 0, 1, 0, 0];
        if m != 0 {
            wire.extend_from_slice(&[1, 2, 3, 4]);
        }
        wire.resize(wire.len() + 65536, 0x33);
        accepts(default_config(role), &wire);
    }
}

#[test]
fn masking_must_match_the_role() {
    // A client must not receive masked frames.
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    rejects(
        default_config(Role::Client),
        &wire,
        2,
        FrameError::MaskedFrame,
        PROTOCOL_ERROR,
    );
    // A server must not receive unmasked frames, not even empty ones.
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    rejects(
        default_config(Role::Server),
        &wire,
        2,
        FrameError::UnmaskedFrame,
        PROTOCOL_ERROR,
    );
    rejects(
        default_config(Role::Server),
        &[0x89, 0x00],
        2,
        FrameError::UnmaskedFrame,
        PROTOCOL_ERROR,
    );
    rejects(
        default_config(Role::Client),
        &[0x8A, 0x80, 0, 0, 0, 0],
        2,
        FrameError::MaskedFrame,
        PROTOCOL_ERROR,
    );
}

#[test]
fn frame_too_large_is_decided_from_the_header_alone() {
    let huge = (1u64 << 63) - 1;
    let default_max = DecoderConfig::DEFAULT_MAX_FRAME_SIZE;
    for role in ROLES {
        // Only the ten header bytes: no mask key, no payload. Must not wait for either.
        let mut wire = vec![0x82, mask_bit(role) | 127];
        wire.extend_from_slice(&huge.to_be_bytes());
        assert_eq!(wire.len(), 10);
        rejects(
            default_config(role),
            &wire,
            10,
            FrameError::FrameTooLarge {
                len: huge,
                max: default_max,
            },
            TOO_BIG,
        );
        let mut buf = wire.clone();
        let err = Decoder::new(role).decode(&mut buf).unwrap_err();
        assert_eq!(err.close_code().0, TOO_BIG);
    }
}

#[test]
fn frame_size_limit_in_every_length_form() {
    for role in ROLES {
        let m = mask_bit(role);
        let key: &[u8] = if m != 0 { &[1, 2, 3, 4] } else { &[] };
        // (limit, header without key, declared length, decided at)
        let rows: [(u64, Vec<u8>, u64, usize); 4] = [
            (0, vec![0x82, m | 1], 1, 2),
            (100, vec![0x82, m | 101], 101, 2),
            (1000, vec![0x82, m | 126, 0x03, 0xE9], 1001, 4),
            (
                70_000,
                vec![0x82, m | 127, 0, 0, 0, 0, 0, 1, 0x11, 0x71],
                70_001,
                10,
            ),
        ];
        for (max, head, len, decided_at) in rows {
            let cfg = config(role, Rsv::NONE, max);
            let mut wire = head.clone();
            wire.extend_from_slice(key);
            rejects(
                cfg,
                &wire,
                decided_at,
                FrameError::FrameTooLarge { len, max },
                TOO_BIG,
            );
            // One byte less is within the limit.
            let cfg = config(role, Rsv::NONE, max + 1);
            let mut wire = head;
            wire.extend_from_slice(key);
            wire.resize(wire.len() + len as usize, 0);
            accepts(cfg, &wire);
        }
        // An empty frame passes a zero limit.
        let mut wire = vec![0x81, m];
        wire.extend_from_slice(key);
        accepts(config(role, Rsv::NONE, 0), &wire);
    }
}

#[test]
fn the_first_broken_rule_in_wire_order_is_reported() {
    let client = default_config(Role::Client);
    // RSV bits come before the opcode.
    rejects(client, &[0xF3, 0x00], 1, FrameError::ReservedBits(7), 1002);
    // The opcode comes before the FIN rule and the mask bit.
    rejects(
        client,
        &[0x0B, 0x80],
        1,
        FrameError::ReservedOpcode(0xB),
        1002,
    );
    // FIN on a control frame comes before its length.
    rejects(
        client,
        &[0x09, 0x7E],
        1,
        FrameError::FragmentedControl,
        1002,
    );
    // The mask bit comes before the control length.
    rejects(client, &[0x89, 0xFE], 2, FrameError::MaskedFrame, 1002);
    // The top length bit comes before the size limit.
    let wire = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
    rejects(
        config(Role::Client, Rsv::NONE, 0),
        &wire,
        3,
        FrameError::LengthMsbSet,
        1002,
    );
    // A non-minimal length is reported even under a limit it would break.
    let wire = [0x82, 0x7E, 0x00, 0x05];
    rejects(
        config(Role::Client, Rsv::NONE, 1),
        &wire,
        4,
        FrameError::NonMinimalLength { len: 5 },
        1002,
    );
}

#[test]
fn errors_describe_themselves() {
    let rows: [(FrameError, &str); 5] = [
        (FrameError::ReservedOpcode(0xB), "0xb"),
        (FrameError::ReservedBits(0b011), "0b011"),
        (FrameError::ControlTooLong { len: 126 }, "126"),
        (FrameError::NonMinimalLength { len: 77 }, "77"),
        (FrameError::FrameTooLarge { len: 99, max: 10 }, "10"),
    ];
    for (err, needle) in rows {
        let text = err.to_string();
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}
