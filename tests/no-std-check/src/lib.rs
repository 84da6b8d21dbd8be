//! Uses the frame decoder and encoder, masking, close parsing, the UTF-8 validator and
//! both sides of the opening handshake from a `#![no_std]` static library with no
//! allocator. The handshake functions work on buffers the C program owns: it supplies the
//! peer's bytes and checks what comes back against the RFC's sample handshake.
#![no_std]

use core::hint::black_box;
use core::panic::PanicInfo;

use rfc6455::Role;
use rfc6455::close::{CloseCode, CloseFrame};
use rfc6455::frame::{
    Decoded, Decoder, DecoderConfig, FrameHeader, OpCode, Rsv, encode_frame, encode_frame_in_place,
};
use rfc6455::handshake::{
    AcceptKey, ClientHandshake, ClientKey, ClientRequest, Limits, ServerHandshake, ServerResponse,
    Status,
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

    // Masking in place for a vectored write, undone by masking again.
    let mut payload = black_box(*b"no_std masking check");
    let ping = FrameHeader::new(true, OpCode::Ping, Some(key), payload.len() as u64);
    let Ok(head) = encode_frame_in_place(&ping, &mut payload) else {
        return 6;
    };
    mask::apply(&mut payload, key, 0);
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

/// Fills `out[..src.len()]` and returns the length, or `None` if `out` is too small.
fn put(out: &mut [u8], src: &[u8]) -> Option<u32> {
    out.get_mut(..src.len())?.copy_from_slice(src);
    u32::try_from(src.len()).ok()
}

/// The buffers of [`rfc6455_no_std_server`]; `struct server_io` in main.c.
#[repr(C)]
pub struct ServerIo {
    /// In: a client's opening handshake, possibly followed by its first frame.
    pub request: [u8; 512],
    /// In: the bytes of `request` received.
    pub request_len: u32,
    /// Out: the `Sec-WebSocket-Key` the parser found.
    pub key: [u8; 64],
    /// Out: the length of `key`.
    pub key_len: u32,
    /// Out: the path of the request target.
    pub path: [u8; 64],
    /// Out: the length of `path`.
    pub path_len: u32,
    /// Out: `AcceptKey::from_key` applied to the key found.
    pub accept: [u8; 28],
    /// Out: the head's length; the rest of `request` belongs to the connection.
    pub consumed: u32,
    /// Out: the 101 response, selecting the subprotocol "chat" if the client offered it.
    pub response: [u8; 512],
    /// Out: the length of `response`.
    pub response_len: u32,
}

/// The server's side of the opening handshake on `io.request`, which is fed to the parser
/// as it would arrive, seven more bytes at a time. Returns 0 once `io`'s outputs are
/// filled, or the number of the step that failed (30 and up).
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_no_std_server(io: &mut ServerIo) -> u32 {
    let Some(input) = io.request.get(..io.request_len as usize) else {
        return 30;
    };
    let mut parser = ServerHandshake::new(Limits::default());
    let mut end = 0;
    let (request, consumed) = loop {
        if end == input.len() {
            return 31; // the whole input is not a complete head
        }
        end = (end + 7).min(input.len());
        match parser.parse(&input[..end]) {
            Ok(Status::Partial) => {}
            Ok(Status::Complete { value, consumed }) => break (value, consumed),
            Err(_) => return 32,
        }
    };
    let (Some(key_len), Some(path_len)) = (
        put(&mut io.key, request.key().as_bytes()),
        put(&mut io.path, request.path().as_bytes()),
    ) else {
        return 33;
    };
    (io.key_len, io.path_len) = (key_len, path_len);
    io.accept = *AcceptKey::from_key(request.key().as_bytes()).as_bytes();
    io.consumed = consumed as u32;
    let response = ServerResponse {
        protocol: request.protocols().find(|p| *p == "chat"),
        ..ServerResponse::default()
    };
    match request.write_response(&response, &mut io.response) {
        Ok(n) => io.response_len = n as u32,
        Err(_) => return 34,
    }
    0
}

/// The buffers of [`rfc6455_no_std_client`]; `struct client_io` in main.c.
#[repr(C)]
pub struct ClientIo {
    /// In: the 16-byte nonce the key is made of.
    pub nonce: [u8; 16],
    /// In: the server's answer, possibly followed by its first frame.
    pub response: [u8; 512],
    /// In: the bytes of `response` received.
    pub response_len: u32,
    /// Out: the request for ws://server.example.com/chat from http://example.com, offering
    /// the subprotocols "chat" and "superchat".
    pub request: [u8; 512],
    /// Out: the length of `request`.
    pub request_len: u32,
    /// Out: 0 the response was accepted, 1 it is incomplete, 2 it was rejected.
    pub verdict: u32,
    /// Out: the subprotocol the server selected, if accepted.
    pub protocol: [u8; 32],
    /// Out: the length of `protocol`.
    pub protocol_len: u32,
    /// Out: the head's length, if accepted.
    pub consumed: u32,
}

/// The client's side of the opening handshake: writes the request, then checks
/// `io.response` fed as it would arrive, seven more bytes at a time. Returns 0 when
/// `io.verdict` (and, if accepted, the rest) is filled, or the number of the step that
/// failed (40 and up).
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_no_std_client(io: &mut ClientIo) -> u32 {
    let request = ClientRequest {
        origin: Some("http://example.com"),
        protocols: &["chat", "superchat"],
        ..ClientRequest::new("server.example.com", "/chat")
    };
    let key = ClientKey::from_nonce(io.nonce);
    match request.encode(&key, &mut io.request) {
        Ok(n) => io.request_len = n as u32,
        Err(_) => return 40,
    }
    let Some(input) = io.response.get(..io.response_len as usize) else {
        return 41;
    };
    let mut handshake = ClientHandshake::new(&request, &key);
    let (mut end, mut verdict) = (0, 1);
    while end < input.len() {
        end = (end + 7).min(input.len());
        match handshake.parse_response(&input[..end]) {
            Ok(Status::Partial) => {}
            Ok(Status::Complete { value, consumed }) => {
                let Some(n) = put(&mut io.protocol, value.protocol().unwrap_or("").as_bytes())
                else {
                    return 42;
                };
                io.protocol_len = n;
                io.consumed = consumed as u32;
                verdict = 0;
                break;
            }
            Err(_) => {
                verdict = 2;
                break;
            }
        }
    }
    io.verdict = verdict;
    0
}
