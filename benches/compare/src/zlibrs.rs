//! The zlib-rs column of the deflate rows: zlib-rs's own `Deflate` and `Inflate` (raw
//! DEFLATE, no framing) on the same payloads as the miniz_oxide column, and the
//! `--loop` mode that runs one raw backend on one row a fixed number of times, for
//! instruction counts under callgrind (which stay the same on a loaded machine).

use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Inflate, InflateFlush, Status, Strategy};

use crate::deflate::{self, Content, Input};
use crate::workload::{Rng, Tally, message_count};

/// The level the zlib-rs column compresses at, when not the one ours uses (`--zlib-level`):
/// zlib-rs's level 1 is its "quick" strategy (fixed Huffman codes only, never stored
/// blocks), level 2 the first with dynamic codes, like miniz_oxide's level 1.
pub static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);

/// The level for the zlib-rs column: `--zlib-level`, else `ours`.
pub fn level(ours: u8) -> u8 {
    match LEVEL.load(Ordering::Relaxed) {
        u8::MAX => ours,
        l => l,
    }
}

/// The `00 00 ff ff` a sync flush ends with.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A raw zlib-rs compressor at `level` with zlib's defaults otherwise (memLevel 8, default
/// strategy, a 32 KiB window).
fn compressor(level: u8) -> Deflate {
    Deflate::new_with_config(DeflateConfig {
        level: i32::from(level),
        window_bits: -15,
        mem_level: 8,
        strategy: Strategy::Default,
        ..DeflateConfig::default()
    })
}

/// Compress `input` into the spare capacity of `sink` with `flush`, growing it as needed,
/// until zlib-rs has consumed everything and leaves room unused (then the flush is done).
fn compress_into(c: &mut Deflate, mut input: &[u8], flush: DeflateFlush, sink: &mut Vec<u8>) {
    loop {
        if sink.capacity() - sink.len() < 64 {
            sink.reserve(input.len() / 2 + 256);
        }
        let (in0, out0) = (c.total_in(), c.total_out());
        let status = c.compress_uninit(input, sink.spare_capacity_mut(), flush);
        let used = (c.total_in() - in0) as usize;
        let wrote = (c.total_out() - out0) as usize;
        // SAFETY: zlib-rs initialised the `wrote` bytes it reports (total_out) from the start
        // of the spare capacity, which `wrote` does not exceed.
        unsafe { sink.set_len(sink.len() + wrote) };
        input = &input[used..];
        match status {
            Ok(Status::Ok | Status::BufError) => {}
            other => panic!("zlib-rs compress: {other:?}"),
        }
        if input.is_empty() && sink.len() < sink.capacity() {
            return;
        }
    }
}

/// Compress `messages` messages (the payloads cycled) into `sink`, each ended with a sync
/// flush (a full flush without context takeover) and its tail cut. `bounds`, when given,
/// gets each message's end offset.
pub fn send(
    payloads: &[Bytes],
    messages: usize,
    level: u8,
    takeover: bool,
    sink: &mut Vec<u8>,
    mut bounds: Option<&mut Vec<usize>>,
) {
    let mut c = compressor(self::level(level));
    let flush = if takeover {
        DeflateFlush::SyncFlush
    } else {
        DeflateFlush::FullFlush
    };
    for i in 0..messages {
        compress_into(&mut c, &payloads[i % payloads.len()], flush, sink);
        assert!(
            sink.ends_with(&TAIL),
            "zlib-rs: a flush ends with 00 00 ff ff"
        );
        sink.truncate(sink.len() - TAIL.len());
        if let Some(b) = bounds.as_deref_mut() {
            b.push(sink.len());
        }
    }
}

/// One raw `Inflate` (its window kept from message to message) inflating each message
/// (tail appended) with a sync flush into one buffer of `max_len + 1` bytes; `each` gets
/// every inflated message.
pub fn receive(messages: &[Vec<u8>], max_len: usize, mut each: impl FnMut(&[u8])) {
    let mut st = Inflate::new(false, 15);
    let mut out = vec![0; max_len + 1];
    for m in messages {
        let mut input = &m[..];
        let mut written = 0;
        loop {
            let (in0, out0) = (st.total_in(), st.total_out());
            let r = st.decompress(input, &mut out[written..], InflateFlush::SyncFlush);
            input = &input[(st.total_in() - in0) as usize..];
            written += (st.total_out() - out0) as usize;
            match r {
                Ok(Status::Ok | Status::BufError) if input.is_empty() => break,
                Ok(Status::Ok) if written < out.len() => {}
                other => panic!("zlib-rs inflate: {other:?}, {written} bytes out"),
            }
        }
        each(&out[..written]);
    }
}

/// `--loop ENGINE OP ROW ITERS`: run one raw backend (`miniz` or `zlib-rs`), or our
/// connection (`ours`, `inflate` only: our server receiving our client's frames), on one row's
/// payloads (`json1k`, `json16k`, `bin64k`), compressing (`compress`: context kept) or
/// inflating (`inflate`: what miniz_oxide compressed, as our codec does, prepared before
/// the loop),
/// `ITERS` times over the row's messages (1 MiB of payload). For
/// `valgrind --tool=callgrind --toggle-collect=...` or plain instruction counts: the
/// preparation is the same for both engines, so differences are the loop's.
pub fn run_loop(args: &[String]) {
    let (args, zlevel) = match args {
        [flag, l, rest @ ..] if flag == "--zlib-level" => (rest, l.parse().ok()),
        _ => (args, None),
    };
    if let Some(l) = zlevel {
        LEVEL.store(l, Ordering::Relaxed);
    }
    let [engine, op, row, iters] = args else {
        eprintln!(
            "usage: --loop [--zlib-level N] miniz|zlib-rs|ours compress|inflate json1k|json16k|bin64k ITERS"
        );
        std::process::exit(2);
    };
    let (content, len) = match row.as_str() {
        "json1k" => (Content::Json, 1 << 10),
        "json16k" => (Content::Json, 16 << 10),
        "bin64k" => (Content::Binary, 64 << 10),
        _ => panic!("unknown row {row}"),
    };
    let iters: usize = iters.parse().expect("ITERS is a number");
    let (zlib, ours) = match engine.as_str() {
        "miniz" => (false, false),
        "zlib-rs" => (true, false),
        // Our connection receiving our client's frames (on the backend this binary was
        // built with: `--features ours-zlib-rs` for zlib-rs).
        "ours" => (false, true),
        _ => panic!("unknown engine {engine}"),
    };
    let mut rng = Rng::new(0xC0FFEE);
    let messages = message_count(len, deflate::TARGET_BYTES, 4, 25_000);
    let input = Input::new(&mut rng, content, len, messages);
    let level = deflate::level();
    let compress = |sink: &mut Vec<u8>, bounds: Option<&mut Vec<usize>>| {
        if zlib {
            send(&input.payloads, messages, level, true, sink, bounds);
        } else {
            deflate::raw_send(&input, true, sink, bounds);
        }
    };
    let mut sink = Vec::with_capacity(input.payload_bytes as usize + 64 * messages + 4096);
    let mut checked = 0u64;
    match op.as_str() {
        "compress" => {
            for _ in 0..iters {
                sink.clear();
                compress(&mut sink, None);
                checked += black_box(sink.len()) as u64;
            }
        }
        "inflate" if ours => {
            let wire = deflate::client_wire(&input);
            for _ in 0..iters {
                let t = deflate::ours_receive_all(&wire, 64 << 10);
                assert_eq!(t.messages, messages as u64, "every message received");
                checked += black_box(t.messages);
            }
        }
        _ if ours => panic!("ours: only inflate"),
        "inflate" => {
            // Both engines inflate the same stream: miniz_oxide's at our level, byte for
            // byte what our codec sends with a 32 KiB window.
            let mut bounds = Vec::new();
            deflate::raw_send(&input, true, &mut sink, Some(&mut bounds));
            let mut from = 0;
            let msgs: Vec<Vec<u8>> = bounds
                .iter()
                .map(|&b| {
                    let mut m = sink[from..b].to_vec();
                    m.extend_from_slice(&TAIL);
                    from = b;
                    m
                })
                .collect();
            for _ in 0..iters {
                let mut t = Tally::new(false);
                if zlib {
                    receive(&msgs, len, |out| t.add(input.text, out));
                } else {
                    deflate::raw_receive(input.text, &msgs, len, &mut t);
                }
                assert_eq!(t.messages, messages as u64, "every message inflated");
                checked += black_box(t.messages);
            }
        }
        _ => panic!("unknown op {op}"),
    }
    eprintln!("{engine} {op} {row}: {iters} x {messages} messages of {len} bytes ({checked})");
}
