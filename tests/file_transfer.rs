//! The file_transfer example: a file many times the receiver's frame limit arrives intact
//! in 64 KiB fragments, the digest is checked on both ends, a wrong digest and an
//! oversized file are refused.
#![cfg(feature = "std")]

#[allow(dead_code)]
#[path = "../examples/file_transfer.rs"]
mod file_transfer;
mod support;

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;

use rfc6455::blocking;
use rfc6455::connection::{DataKind, Event};
use sha2::{Digest, Sha256};

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rfc6455-test-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Deterministic, incompressible test data.
fn data(len: usize) -> Vec<u8> {
    support::noise::bytes(len, 0x9E37_79B9_7F4A_7C15)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the receiver returned, what the sender returned, and the file written.
type Transfer = (
    Result<(u64, String), String>,
    Result<String, String>,
    Vec<u8>,
);

/// Run the example's receiver with `max_size` and its sender on `content`.
fn transfer(content: &[u8], max_size: u64) -> Transfer {
    let scratch = Scratch::new(&format!("transfer-{}-{max_size}", content.len()));
    let (original, copy) = (scratch.0.join("original"), scratch.0.join("copy"));
    fs::write(&original, content).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let out = copy.clone();
    let receiver = thread::spawn(move || file_transfer::receive(&listener, &out, max_size));
    let sent = file_transfer::send(&url, &original);
    let received = receiver.join().unwrap();
    let written = fs::read(&copy).unwrap_or_default();
    (received, sent, written)
}

#[test]
fn a_file_of_many_fragments_arrives_intact_and_verified() {
    // 3 MiB and a bit: 49 fragments, 48 times the receiver's 64 KiB frame limit, so it
    // only gets through as fragments, and the receiver never holds more than one.
    let content = data(3 * 1024 * 1024 + 123);
    let expected = sha256_hex(&content);
    let (received, sent, written) = transfer(&content, 4 << 20);
    assert_eq!(received, Ok((content.len() as u64, expected.clone())));
    assert_eq!(sent, Ok(expected));
    assert!(written == content, "the copy differs from the original");
}

#[test]
fn empty_and_exact_multiple_sizes() {
    for len in [0, file_transfer::FRAGMENT, 2 * file_transfer::FRAGMENT] {
        let content = data(len);
        let (received, sent, written) = transfer(&content, u64::MAX);
        assert_eq!(received, Ok((len as u64, sha256_hex(&content))), "{len}");
        assert!(sent.is_ok(), "{len}: {sent:?}");
        assert_eq!(written.len(), len);
    }
}

#[test]
fn a_file_over_the_receivers_cap_is_refused_with_1009() {
    let content = data(3 * 1024 * 1024);
    let (received, sent, _) = transfer(&content, 2 << 20);
    let err = received.unwrap_err();
    assert!(err.contains("exceeds the limit of 2097152"), "{err}");
    assert!(
        sent.is_err(),
        "the sender must not report success: {sent:?}"
    );
}

#[test]
fn a_wrong_digest_is_refused_with_4000() {
    let scratch = Scratch::new("mismatch");
    let out = scratch.0.join("copy");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = thread::spawn(move || file_transfer::receive(&listener, &out, u64::MAX));

    let stream = TcpStream::connect(addr).unwrap();
    let mut ws = blocking::connect(stream, &format!("ws://{addr}/"), [3; 32]).unwrap();
    let conn = ws.connection_mut();
    conn.send_fragment(DataKind::Binary, b"hello ", false)
        .unwrap();
    conn.send_fragment(DataKind::Binary, b"world", true)
        .unwrap();
    let wrong = sha256_hex(b"hello there");
    ws.send_text(&format!("sha256 {wrong}")).unwrap();
    match ws.read().unwrap() {
        Event::Closed(closed) => {
            assert_eq!(closed.code.0, 4000);
            assert_eq!(closed.reason, "sha-256 mismatch");
        }
        other => panic!("{other:?}"),
    }
    drop(ws);
    let err = receiver.join().unwrap().unwrap_err();
    assert!(err.contains(&sha256_hex(b"hello world")), "{err}");
    assert!(err.contains(&wrong), "{err}");
}
