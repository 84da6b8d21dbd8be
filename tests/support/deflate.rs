//! permessage-deflate test helpers: Python's zlib as the independent oracle of what goes
//! on the wire (`zlib_oracle.py` beside this file), connections that negotiated the
//! extension through a real opening handshake, and compressed frames read back off the wire.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use rfc6455::connection::{Config, Connection, Event};
use rfc6455::handshake::{ClientRequest, ServerResponse};

use super::conn::{pump, take_output};
use super::oracle::decode_all;

const ORACLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/zlib_oracle.py");

fn run_oracle(job: &str, blobs: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    let mut input = format!("{job}\n").into_bytes();
    for blob in blobs {
        input.extend_from_slice(&(blob.len() as u32).to_be_bytes());
        input.extend_from_slice(blob);
    }
    let mut child = Command::new("python3")
        .arg(ORACLE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (the zlib oracle needs it)");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("the oracle ends");
    writer.join().unwrap().expect("the oracle reads its input");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut blobs = Vec::new();
    let mut rest = &out.stdout[..];
    while !rest.is_empty() {
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        blobs.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    Ok(blobs)
}

/// Inflate `messages` (payloads as sent, tail removed) with one
/// `zlib.decompressobj(wbits=-window_bits)`, as a peer with that window and context
/// takeover does; `Err` with zlib's message if it refuses them.
pub fn zlib_inflate(window_bits: u8, messages: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    run_oracle(&format!("inflate {window_bits}"), messages)
}

/// Compress `messages` as a zlib peer with that window does: sync flush, tail removed;
/// `takeover` false starts each from an empty window; `final_block` ends each with a
/// final (BFINAL) block instead of the sync flush.
pub fn zlib_deflate(
    window_bits: u8,
    level: u8,
    takeover: bool,
    final_block: bool,
    messages: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let job = format!(
        "deflate {window_bits} {level} {} {}",
        u8::from(takeover),
        u8::from(final_block)
    );
    run_oracle(&job, messages).expect("zlib compresses anything")
}

/// A client and a server with these configs after a real opening handshake (request and
/// response through `Connection::client` / `Connection::server`), both open.
pub fn negotiated(client: Config, server: Config) -> (Connection, Connection) {
    let request = ClientRequest::new("example.com", "/");
    let mut c = Connection::client(client, [5; 32], &request).expect("request");
    let mut s = Connection::server(server);
    pump(&mut c, &mut s);
    match s.poll_event().expect("valid request") {
        Some(Event::Request(_)) => {}
        other => panic!("expected the request, got {other:?}"),
    }
    s.accept(&ServerResponse::default()).expect("accept");
    pump(&mut s, &mut c);
    match c.poll_event().expect("valid response") {
        Some(Event::Accepted(_)) => {}
        other => panic!("expected the response, got {other:?}"),
    }
    (c, s)
}

/// The data frames `conn` queued, taken: (first byte, unmasked payload).
pub fn take_frames(conn: &mut Connection) -> Vec<(u8, Vec<u8>)> {
    let masked = conn.role() == rfc6455::Role::Client;
    decode_all(&take_output(conn), masked)
}

/// The compressed payload of each message in `frames` (RSV1 on its first frame), its
/// fragments joined.
pub fn compressed_messages(frames: &[(u8, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for (b0, payload) in frames {
        let opcode = b0 & 0x0F;
        if opcode >= 8 {
            continue;
        }
        if opcode != 0 {
            assert!(current.is_none(), "a new message inside another");
            assert!(b0 & 0x40 != 0, "message sent uncompressed: {b0:#04x}");
            current = Some(Vec::new());
        } else {
            assert!(b0 & 0x40 == 0, "RSV1 on a continuation frame");
        }
        current
            .as_mut()
            .expect("a message")
            .extend_from_slice(payload);
        if b0 & 0x80 != 0 {
            out.push(current.take().unwrap());
        }
    }
    assert!(current.is_none(), "unfinished message");
    out
}
