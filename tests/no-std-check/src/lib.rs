//! Uses the frame decoder and encoder, masking, close parsing and the UTF-8 validator
//! from a `#![no_std]` static library with no allocator.
#![no_std]

use core::hint::black_box;
use core::panic::PanicInfo;

use rfc6455::Role;
use rfc6455::close::{CloseCode, CloseFrame};
use rfc6455::frame::{
    Decoded, Decoder, DecoderConfig, FrameHeader, OpCode, Rsv, encode_frame, encode_frame_in_place,
};
use rfc6455::mask;
use rfc6455::utf8::Utf8Validator;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Runs a small round trip through every no_std API. Returns 0 on success, or the number
/// of the step that went wrong.
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_no_std_check() -> u32 {
    // The masked "Hello" of RFC 6455 section 5.7, as a server receives it.
    let key = black_box([0x37, 0xfa, 0x21, 0x3d]);
    let mut wire = [0u8; 32];
    let header = FrameHeader::new(true, OpCode::Text, Some(key), 5);
    let Ok(n) = encode_frame(&header, b"Hello", &mut wire) else {
        return 1;
    };
    let mut decoder = Decoder::with_config(DecoderConfig {
        role: Role::Server,
        allowed_rsv: Rsv::RSV1,
        max_frame_size: 1 << 20,
    });
    let payload_ok = match decoder.decode(&mut wire[..n]) {
        Ok(Decoded::Frame { frame, consumed }) => consumed == n && frame.payload == b"Hello",
        _ => false,
    };
    if !payload_ok {
        return 2;
    }

    // The same frame in pieces, arriving three bytes at a time.
    let Ok(n) = encode_frame(&header, b"Hello", &mut wire) else {
        return 3;
    };
    let mut piecewise = Decoder::new(Role::Server);
    let (mut pos, mut received) = (0, 0);
    let mut text = [0u8; 5];
    let mut got = 0;
    while pos < n || piecewise.in_frame() {
        match piecewise.decode_piece(&mut wire[pos..received]) {
            Ok(Decoded::Incomplete { .. }) if received < n => received = (received + 3).min(n),
            Ok(Decoded::Header { consumed, .. }) => pos += consumed,
            Ok(Decoded::Payload { data, consumed, .. }) => {
                text[got..got + data.len()].copy_from_slice(data);
                got += data.len();
                pos += consumed;
            }
            _ => return 4,
        }
    }
    if &text != b"Hello" {
        return 5;
    }

    // Masking in place for a vectored write, undone by the byte loop.
    let mut payload = black_box(*b"no_std masking check");
    let ping = FrameHeader::new(true, OpCode::Ping, Some(key), payload.len() as u64);
    let Ok(head) = encode_frame_in_place(&ping, &mut payload) else {
        return 6;
    };
    mask::apply_bytewise(&mut payload, key, 0);
    if head.len() != 6 || &payload != b"no_std masking check" {
        return 7;
    }
    let mut copy = [0u8; 20];
    mask::copy_masked(&mut copy, &payload, key, 1);
    mask::apply(&mut copy, key, 1);
    if copy != payload {
        return 8;
    }

    // A close payload, encoded and parsed back.
    let mut close = [0u8; 125];
    let Ok(n) = CloseFrame::new(CloseCode::GOING_AWAY, "bye").encode(&mut close) else {
        return 9;
    };
    match CloseFrame::parse(&close[..n]) {
        Ok(Some(frame)) if frame.code == CloseCode::GOING_AWAY && frame.reason == "bye" => {}
        _ => return 10,
    }

    // UTF-8 split inside a character, then a surrogate rejected at once.
    let mut v = Utf8Validator::new();
    let clef = "𝄞".as_bytes();
    if v.feed(&clef[..1]).is_err() || v.feed(&clef[1..]).is_err() || v.finish().is_err() {
        return 11;
    }
    v.reset();
    if v.feed(&[0xED]).is_err() || v.feed(&[0xA0]).is_ok() {
        return 12;
    }
    0
}
