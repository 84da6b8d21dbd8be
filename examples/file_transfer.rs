//! Send a file as one binary message in 64 KiB fragments; the receiver streams it to disk
//! and checks its SHA-256.
//!
//! ```text
//! cargo run --release --example file_transfer -- receive 127.0.0.1:9002 copy.bin
//! cargo run --release --example file_transfer -- send ws://127.0.0.1:9002/ original.bin
//! cargo run --release --example file_transfer -- demo 200    # both ends, a 200 MiB file
//! ```
//!
//! The receiver reads in `ReceiveMode::Stream` and accepts frames of at most 64 KiB: each
//! piece goes to disk as it arrives, so its memory stays at a few buffers whatever the file
//! size. After the message the sender sends `sha256 <hex>`; the receiver answers
//! `ok <hex>`, or closes with 4000 if its own digest differs.
mod common;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use rfc6455::blocking::{self, Error};
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, DataKind, Event, Message, ReceiveMode};
use rfc6455::handshake::ServerResponse;
use sha2::{Digest, Sha256};

pub const FRAGMENT: usize = 64 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["receive", addr, out] => TcpListener::bind(addr)
            .map_err(|e| format!("bind {addr}: {e}"))
            .and_then(|listener| receive(&listener, Path::new(out), u64::MAX))
            .map(|(size, hex)| format!("received {size} bytes, sha256 {hex} verified")),
        ["send", url, path] => {
            send(url, Path::new(path)).map(|hex| format!("sent, sha256 {hex} confirmed"))
        }
        ["demo", ref mib @ ..] => mib
            .first()
            .map_or(Ok(64), |s| s.parse())
            .map_err(|e| format!("MIB: {e}"))
            .and_then(demo),
        _ => Err("usage: file_transfer receive ADDR OUT | send URL FILE | demo [MIB]".into()),
    };
    match result {
        Ok(done) => println!("file_transfer: {done}"),
        Err(e) => {
            eprintln!("file_transfer: {e}");
            std::process::exit(1);
        }
    }
}

/// Send `path` to the receiver at `url`; returns the SHA-256 it confirmed.
pub fn send(url: &str, path: &Path) -> Result<String, String> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ws = common::open(url).map_err(|e| format!("connect: {e}"))?;
    let (mut piece, mut next, mut hasher) = (vec![0; FRAGMENT], vec![0; FRAGMENT], Sha256::new());
    let mut len = fill(&mut file, &mut piece)?;
    loop {
        let next_len = fill(&mut file, &mut next)?; // read ahead: is this the last piece?
        hasher.update(&piece[..len]);
        let fin = next_len == 0;
        ws.connection_mut()
            .send_fragment(DataKind::Binary, &piece[..len], fin)
            .map_err(|e| e.to_string())?;
        ws.flush().map_err(|e| format!("send: {e}"))?;
        if fin {
            break;
        }
        (piece, next, len) = (next, piece, next_len);
    }
    let hex = hex(&hasher.finalize());
    ws.send_text(&format!("sha256 {hex}"))
        .map_err(|e| e.to_string())?;
    let reply = loop {
        match ws
            .read()
            .map_err(|e| format!("waiting for the receiver: {e}"))?
        {
            Event::Message(Message::Text(reply)) => break reply.to_string(),
            Event::Closed(c) => return Err(format!("receiver closed: {} {}", c.code, c.reason)),
            _ => {}
        }
    };
    ws.close(CloseCode::NORMAL, "done")
        .map_err(|e| e.to_string())?;
    while ws.read().is_ok() {} // the receiver's close, then the end of the stream
    (reply == format!("ok {hex}"))
        .then_some(hex)
        .ok_or(format!("receiver answered {reply:?}"))
}

/// Accept one sender on `listener` and write its file to `out`, refusing files over
/// `max_size` bytes (with 1009); returns the size and the verified SHA-256.
pub fn receive(listener: &TcpListener, out: &Path, max_size: u64) -> Result<(u64, String), String> {
    let (stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let mut config = Config::default();
    config.receive_mode = ReceiveMode::Stream;
    config.max_frame_size = FRAGMENT as u64;
    config.max_message_size = max_size;
    let mut ws = blocking::accept_with(stream, config, |_| ServerResponse::default())
        .map_err(|e| format!("handshake: {e}"))?;
    let mut file =
        BufWriter::new(File::create(out).map_err(|e| format!("{}: {e}", out.display()))?);
    let (mut hasher, mut size, mut text, mut verified) = (Sha256::new(), 0u64, Vec::new(), None);
    let outcome = loop {
        match ws.read() {
            Ok(Event::Chunk(chunk)) if chunk.kind == DataKind::Binary => {
                if let Err(e) = file.write_all(&chunk.data) {
                    let _ = ws.close(CloseCode::INTERNAL_ERROR, "cannot write the file");
                    break Err(format!("{}: {e}", out.display()));
                }
                hasher.update(&chunk.data);
                size += chunk.data.len() as u64;
            }
            Ok(Event::Chunk(chunk)) if text.len() + chunk.data.len() <= 128 => {
                text.extend_from_slice(&chunk.data); // text comes in pieces too, in stream mode
                if !chunk.last {
                    continue;
                }
                let ours = hex(&hasher.finalize_reset());
                if text != format!("sha256 {ours}").as_bytes() {
                    let _ = ws.close(CloseCode(4000), "sha-256 mismatch");
                    let theirs = String::from_utf8_lossy(&text);
                    break Err(format!("sha-256 mismatch: got {theirs}, computed {ours}"));
                }
                if let Err(e) = file.flush() {
                    let _ = ws.close(CloseCode::INTERNAL_ERROR, "cannot write the file");
                    break Err(format!("{}: {e}", out.display()));
                }
                let _ = ws.send_text(&format!("ok {ours}"));
                verified = Some(ours);
            }
            Ok(Event::Chunk(_)) => break Err("unexpected long text message".into()),
            Ok(Event::Closed(_)) | Err(Error::Closed) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e.to_string()),
        }
    };
    common::linger_close(ws.into_inner()); // let our last frame reach the sender
    outcome?;
    verified
        .map(|hex| (size, hex))
        .ok_or_else(|| format!("closed after {size} bytes, before the digest"))
}

/// Read until `buf` is full or the file ends; returns the bytes read.
fn fill(file: &mut File, buf: &mut [u8]) -> Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]).map_err(|e| e.to_string())? {
            0 => break,
            read => n += read,
        }
    }
    Ok(n)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Both ends over loopback with a generated file of `mib` MiB.
fn demo(mib: u64) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("rfc6455-file-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (original, copy) = (dir.join("original.bin"), dir.join("copy.bin"));
    let mut writer = BufWriter::new(File::create(&original).map_err(|e| e.to_string())?);
    let mut x = common::random_u64() | 1;
    for _ in 0..mib * 1024 * 1024 / 8 {
        x ^= x << 13; // xorshift: incompressible filler
        x ^= x >> 7;
        x ^= x << 17;
        writer
            .write_all(&x.to_le_bytes())
            .map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "ws://{}/",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let started = std::time::Instant::now();
    let receiver = std::thread::spawn(move || receive(&listener, &copy, u64::MAX));
    let sent = send(&url, &original);
    let received = receiver.join().map_err(|_| "receiver panicked")?;
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let (size, hex) = received?;
    sent?;
    Ok(format!(
        "{size} bytes in {secs:.2} s ({:.0} MiB/s), sha256 {hex} verified",
        size as f64 / secs / 1048576.0
    ))
}
