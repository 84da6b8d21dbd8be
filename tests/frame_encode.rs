//! The encoder's checks and header layout.

use rfc6455::frame::{
    EncodeError, FrameHeader, MAX_HEADER_LEN, OpCode, Rsv, encode_frame, encode_frame_in_place,
};

#[test]
fn control_frames_must_be_final_and_short() {
    for op in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
        let payload = [0u8; 126];
        let header = FrameHeader::new(true, op, None, 126);
        let mut out = [0u8; 200];
        assert_eq!(
            encode_frame(&header, &payload, &mut out),
            Err(EncodeError::ControlTooLong { len: 126 })
        );
        let header = FrameHeader::new(false, op, None, 0);
        assert_eq!(
            encode_frame(&header, &[], &mut out),
            Err(EncodeError::FragmentedControl)
        );
        let mut empty: [u8; 0] = [];
        assert_eq!(
            encode_frame_in_place(&header, &mut empty),
            Err(EncodeError::FragmentedControl)
        );
        let header = FrameHeader::new(true, op, Some([1, 2, 3, 4]), 125);
        assert_eq!(encode_frame(&header, &payload[..125], &mut out), Ok(131));
    }
}

#[test]
fn lengths_of_two_to_the_63_cannot_be_encoded() {
    for len in [1u64 << 63, u64::MAX] {
        let header = FrameHeader::new(true, OpCode::Binary, None, len);
        assert_eq!(header.validate(), Err(EncodeError::LengthTooLarge));
        assert_eq!(header.encode(), Err(EncodeError::LengthTooLarge));
    }
    let header = FrameHeader::new(true, OpCode::Binary, Some([0; 4]), (1 << 63) - 1);
    let encoded = header.encode().unwrap();
    assert_eq!(encoded.len(), MAX_HEADER_LEN);
    assert_eq!(
        &encoded[..10],
        &[0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    );
}

#[test]
fn payload_must_match_the_declared_length() {
    let header = FrameHeader::new(true, OpCode::Text, None, 4);
    let mut out = [0u8; 16];
    assert_eq!(
        encode_frame(&header, b"abc", &mut out),
        Err(EncodeError::LengthMismatch {
            header: 4,
            payload: 3
        })
    );
    let mut payload = *b"abcde";
    assert_eq!(
        encode_frame_in_place(&header, &mut payload),
        Err(EncodeError::LengthMismatch {
            header: 4,
            payload: 5
        })
    );
    assert_eq!(&payload, b"abcde", "nothing masked on error");
}

#[test]
fn output_buffer_must_hold_the_whole_frame() {
    let key = Some([9, 9, 9, 9]);
    for (mask, payload_len, head_len) in [
        (None, 0usize, 2usize),
        (None, 125, 2),
        (key, 126, 8),
        (None, 65536, 10),
        (key, 65536, 14),
    ] {
        let payload = vec![0x5A; payload_len];
        let header = FrameHeader::new(true, OpCode::Binary, mask, payload_len as u64);
        let total = head_len + payload_len;
        let mut out = vec![0xEE; total];
        assert_eq!(
            encode_frame(&header, &payload, &mut out[..total - 1]),
            Err(EncodeError::BufferTooSmall { required: total })
        );
        assert_eq!(encode_frame(&header, &payload, &mut out), Ok(total));
        // A larger buffer is fine and only the frame's bytes are written.
        let mut big = vec![0xEE; total + 3];
        assert_eq!(encode_frame(&header, &payload, &mut big), Ok(total));
        assert_eq!(&big[..total], &out[..]);
        assert_eq!(&big[total..], &[0xEE; 3]);
    }
}

#[test]
fn header_layout_for_each_length_form() {
    // (payload length, expected header bytes without mask)
    let rows: [(u64, &[u8]); 7] = [
        (0, &[0x82, 0]),
        (125, &[0x82, 125]),
        (126, &[0x82, 126, 0, 126]),
        (0xFFFF, &[0x82, 126, 0xFF, 0xFF]),
        (0x1_0000, &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        (
            0x0123_4567_89AB_CDEF,
            &[0x82, 127, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF],
        ),
        (
            (1 << 63) - 1,
            &[0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        ),
    ];
    for (len, expected) in rows {
        let header = FrameHeader::new(true, OpCode::Binary, None, len);
        assert_eq!(&header.encode().unwrap()[..], expected, "len {len}");
        assert_eq!(header.encoded_len(), expected.len());
        let key = [0xA1, 0xB2, 0xC3, 0xD4];
        let masked = FrameHeader::new(true, OpCode::Binary, Some(key), len);
        let encoded = masked.encode().unwrap();
        let mut want = expected.to_vec();
        want[1] |= 0x80;
        want.extend_from_slice(&key);
        assert_eq!(&encoded[..], &want[..], "masked len {len}");
        assert_eq!(masked.encoded_len(), want.len());
        assert_eq!(encoded.as_ref(), encoded.as_bytes());
    }
}

#[test]
fn first_byte_carries_fin_rsv_and_opcode() {
    let rows = [
        (true, Rsv::NONE, OpCode::Text, 0x81),
        (false, Rsv::NONE, OpCode::Text, 0x01),
        (true, Rsv::RSV1, OpCode::Binary, 0xC2),
        (false, Rsv::RSV2, OpCode::Continuation, 0x20),
        (true, Rsv::RSV3, OpCode::Close, 0x98),
        (true, Rsv::ALL, OpCode::Ping, 0xF9),
        (true, Rsv::RSV1.union(Rsv::RSV3), OpCode::Pong, 0xDA),
    ];
    for (fin, rsv, opcode, byte) in rows {
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: None,
            payload_len: 0,
        };
        assert_eq!(header.encode().unwrap()[0], byte, "{header:?}");
    }
}
