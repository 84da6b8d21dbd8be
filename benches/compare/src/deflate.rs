//! permessage-deflate (RFC 7692) rows: our negotiated `Connection` compressing and sending,
//! and receiving and inflating, against the raw backend it is built on (miniz_oxide, the
//! same version, level and flush, with no framing) and against yawc, a Rust WebSocket
//! implementation with permessage-deflate (on flate2, whose default backend is the same
//! miniz_oxide).
//!
//! Inputs: JSON-like text (records with ids, names, numbers and repeated keys) of 1 KiB and
//! 16 KiB, and random binary of 64 KiB (incompressible: stored blocks). Distinct payloads
//! are cycled (at least 8, and at least 64 KiB of them), so with context takeover a message
//! finds matches (repeated keys and names) in the ones before it, as on a real connection,
//! but never a whole copy of itself.
//!
//! Every implementation keeps its compressor (or decompressor) state from one message to
//! the next within a round and starts each round with fresh state (created in the timed
//! region, on its first message, for all three); our connections are negotiated through a
//! real opening handshake before each round, untimed.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt as _;
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output, create_comp_flags_from_zip_params,
};
use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};
use rfc6455::connection::{Config, Connection, Event, EventRef, Message};
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{ClientRequest, ServerResponse};

use crate::runner::{Measured, Settings, interleave, page_offset};
use crate::stream::{MemStream, Sink};
use crate::workload::{Expect, Kind, Rng, Tally, message_count};
use crate::zlibrs;

/// The payload bytes to aim for per round (deflate runs at 0.1-1 GB/s, so rounds of a few
/// milliseconds need less than the framing rows' 4 MiB).
pub const TARGET_BYTES: usize = 1 << 20;
/// The same for `--quick`.
pub const QUICK_TARGET_BYTES: usize = 128 << 10;

/// The extension string both ends agree on (what our server answers our client's offer):
/// a 32 KiB window both ways, context takeover unless `server_no_context_takeover`.
const EXT: &str = "permessage-deflate";
const EXT_NO_TAKEOVER: &str = "permessage-deflate; server_no_context_takeover";

/// The `00 00 ff ff` a sync flush ends with; stripped from each message on the wire
/// (section 7.2.1) and appended again before inflating (section 7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// DEFLATE's largest window, which both ends use here.
const WINDOW: usize = 32 << 10;

/// The implementations compared, in cell order.
pub const IMPS: [&str; 4] = [OURS, "miniz_oxide (raw)", "zlib-rs (raw)", "yawc"];

/// Our column: built with `--features ours-zlib-rs`, the crate's `deflate-zlib-rs` (zlib-rs
/// inflating, miniz_oxide compressing).
#[cfg(not(feature = "ours-zlib-rs"))]
const OURS: &str = "rfc6455";
#[cfg(feature = "ours-zlib-rs")]
const OURS: &str = "rfc6455 (deflate-zlib-rs)";

/// How many implementations a row compares.
pub const N: usize = IMPS.len();

/// What the messages carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// JSON-like text, sent as text messages.
    Json,
    /// Random bytes, sent as binary messages.
    Binary,
}

/// Which direction a row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// A server compresses and queues messages; the output is taken into a sink.
    Send { takeover: bool },
    /// A server reads a client's compressed, masked frames and inflates them.
    Receive,
}

/// One deflate row.
#[derive(Clone, Copy, Debug)]
pub struct Work {
    pub content: Content,
    pub len: usize,
    pub dir: Dir,
}

/// The rows, in table order.
pub fn workloads() -> Vec<Work> {
    let mut w = Vec::new();
    for (content, len) in [
        (Content::Json, 1 << 10),
        (Content::Json, 16 << 10),
        (Content::Binary, 64 << 10),
    ] {
        for dir in [
            Dir::Send { takeover: true },
            Dir::Send { takeover: false },
            Dir::Receive,
        ] {
            w.push(Work { content, len, dir });
        }
    }
    w
}

/// The row's name ("deflate ..." so that `--only deflate` selects them all).
pub fn name(w: &Work, size: impl Fn(usize) -> String) -> String {
    let what = match w.content {
        Content::Json => "JSON text",
        Content::Binary => "random binary",
    };
    match w.dir {
        Dir::Send { takeover: true } => format!("deflate send, server: {what} {}", size(w.len)),
        Dir::Send { takeover: false } => format!(
            "deflate send, server, no context takeover: {what} {}",
            size(w.len)
        ),
        Dir::Receive => format!(
            "deflate receive, server ← masked compressed {what} {}",
            size(w.len)
        ),
    }
}

/// One measured row.
pub struct Row {
    pub name: String,
    pub per_round: usize,
    /// In [`IMPS`] order.
    pub cells: [Option<Measured>; N],
    /// Compressed payload bytes / original payload bytes, per implementation (send rows;
    /// for receive rows, of the input, in the first cell).
    pub ratios: [Option<f64>; N],
    pub reference: String,
}

/// JSON-like text of exactly `len` bytes: an array of records with the same keys (ids,
/// names, e-mail addresses, numbers, tags, flags, timestamps), padded with spaces.
pub fn json(rng: &mut Rng, len: usize) -> Vec<u8> {
    const NAMES: [&str; 8] = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    const CITIES: [&str; 6] = ["Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi", "Lima"];
    const TAGS: [&str; 5] = ["admin", "beta", "ops", "billing", "support"];
    let mut s = String::from("[");
    loop {
        let id = 100_000 + rng.below(900_000);
        let name = NAMES[rng.below(NAMES.len() as u32) as usize];
        let n = rng.below(1000);
        let record = format!(
            "{{\"id\":{id},\"user\":{{\"name\":\"{name}_{n}\",\"email\":\"{name}.{n}@example.com\",\"city\":\"{}\"}},\"score\":{}.{:02},\"balance\":{},\"tags\":[\"{}\",\"{}\"],\"active\":{},\"updated_at\":{}}}",
            CITIES[rng.below(CITIES.len() as u32) as usize],
            rng.below(100),
            rng.below(100),
            rng.below(10_000_000),
            TAGS[rng.below(TAGS.len() as u32) as usize],
            TAGS[rng.below(TAGS.len() as u32) as usize],
            rng.below(2) == 1,
            1_764_000_000_000u64 + u64::from(rng.below(100_000_000)),
        );
        let sep = usize::from(s.len() > 1);
        if s.len() + sep + record.len() + 1 > len {
            break;
        }
        if sep == 1 {
            s.push(',');
        }
        s.push_str(&record);
    }
    s.push(']');
    while s.len() < len {
        s.push(' ');
    }
    assert_eq!(s.len(), len, "a record of at most {len} bytes fits");
    s.into_bytes()
}

/// The messages of a row: distinct payloads cycled, at least 8 and enough to span twice
/// the 32 KiB window (64 of 1 KiB), so that with context takeover no message finds an exact
/// copy of itself within reach, which would compress it to a few bytes.
pub struct Input {
    pub text: bool,
    pub payloads: Vec<Bytes>,
    /// The same payloads as `String`s (text rows), for `send_text`.
    strings: Vec<String>,
    messages: usize,
    pub payload_bytes: u64,
    expect: Expect,
}

impl Input {
    pub fn new(rng: &mut Rng, content: Content, len: usize, messages: usize) -> Self {
        let text = content == Content::Json;
        let distinct = (2 * WINDOW).div_ceil(len).max(8);
        let payloads: Vec<Bytes> = (0..messages.min(distinct))
            .map(|_| match content {
                Content::Json => Bytes::from(json(rng, len)),
                Content::Binary => {
                    let mut v = vec![0; len];
                    rng.fill(&mut v);
                    Bytes::from(v)
                }
            })
            .collect();
        let strings = if text {
            payloads
                .iter()
                .map(|p| String::from_utf8(p.to_vec()).expect("JSON is UTF-8"))
                .collect()
        } else {
            Vec::new()
        };
        let sent: Vec<&[u8]> = (0..messages)
            .map(|i| &payloads[i % payloads.len()][..])
            .collect();
        Input {
            text,
            expect: Expect::of(if text { Kind::Text } else { Kind::Binary }, &sent),
            payload_bytes: (messages * len) as u64,
            payloads,
            strings,
            messages,
        }
    }

    fn payload(&self, i: usize) -> &Bytes {
        &self.payloads[i % self.payloads.len()]
    }
}

/// The deflate settings of our server: defaults, enabled; `takeover` false also drops the
/// compressor's context after each message (announced as `server_no_context_takeover`).
fn server_config(takeover: bool) -> Config {
    Config::default().deflate(
        DeflateConfig::new()
            .enabled(true)
            .own_no_context_takeover(!takeover),
    )
}

fn client_config() -> Config {
    Config::default().deflate(DeflateConfig::new().enabled(true))
}

/// The level our connection compresses with by default (`DeflateConfig::level`), which the
/// raw backend and yawc use too.
pub fn level() -> u8 {
    DeflateConfig::new().level
}

/// Move all pending output of `from` into `to`.
fn pump(from: &mut Connection, to: &mut Connection) {
    let mut bytes = Vec::new();
    take_output(from, &mut bytes);
    to.receive(&bytes);
}

/// Append everything `conn` has queued to `sink` (as a vectored write would) and count
/// it as written.
#[inline]
fn take_output(conn: &mut Connection, sink: &mut Vec<u8>) {
    let mut n = 0;
    for s in conn.pending_output_slices() {
        sink.extend_from_slice(s);
        n += s.len();
    }
    conn.advance_output(n);
}

/// A client and a server with these configs after a real opening handshake, both open,
/// permessage-deflate negotiated (checked).
fn negotiated(client: Config, server: Config, takeover: bool) -> (Connection, Connection) {
    let request = ClientRequest::new("example.com", "/");
    let mut c = Connection::client(client, [5; 32], &request).expect("rfc6455: request");
    let mut s = Connection::server(server);
    pump(&mut c, &mut s);
    match s.poll_event() {
        Ok(Some(Event::Request(_))) => {}
        other => fail("rfc6455", &format!("expected the request, got {other:?}")),
    }
    s.accept(&ServerResponse::default())
        .expect("rfc6455: accept");
    pump(&mut s, &mut c);
    match c.poll_event() {
        Ok(Some(Event::Accepted(_))) => {}
        other => fail("rfc6455", &format!("expected the response, got {other:?}")),
    }
    for conn in [&c, &s] {
        match conn.deflate_params() {
            Some(p) if p.server_no_context_takeover != takeover => {}
            other => fail("rfc6455", &format!("negotiated {other:?}")),
        }
    }
    (c, s)
}

/// The data frames in `wire` (a stream of whole frames), unmasked: (first byte, payload).
fn frames(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let b0 = wire[at];
        let b1 = wire[at + 1];
        let mut pos = at + 2;
        let len = match b1 & 0x7f {
            126 => {
                pos += 2;
                u64::from(u16::from_be_bytes([wire[at + 2], wire[at + 3]]))
            }
            127 => {
                pos += 8;
                u64::from_be_bytes(wire[at + 2..at + 10].try_into().unwrap())
            }
            n => u64::from(n),
        } as usize;
        let key = (b1 & 0x80 != 0).then(|| {
            let k: [u8; 4] = wire[pos..pos + 4].try_into().unwrap();
            pos += 4;
            k
        });
        let mut payload = wire[pos..pos + len].to_vec();
        if let Some(k) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= k[i % 4];
            }
        }
        out.push((b0, payload));
        at = pos + len;
    }
    out
}

/// The compressed payload of each message in `wire`, one frame per message, each with RSV1
/// and FIN (checked).
fn compressed_payloads(who: &str, wire: &[u8]) -> Vec<Vec<u8>> {
    frames(wire)
        .into_iter()
        .map(|(b0, p)| {
            if b0 & 0xC0 != 0xC0 {
                fail(who, &format!("a frame without FIN and RSV1: {b0:#04x}"));
            }
            p
        })
        .collect()
}

/// Decode `wire` (what a server sent) with our client of a negotiated pair, as the peer
/// would; the tally of what it delivered.
fn tally_as_client(who: &str, wire: &[u8], takeover: bool) -> Tally {
    let (mut c, _s) = negotiated(client_config(), server_config(takeover), takeover);
    c.receive(wire);
    let mut t = Tally::new(true);
    loop {
        match c.poll_event() {
            Ok(Some(Event::Message(Message::Binary(b)))) => t.add(false, &b),
            Ok(Some(Event::Message(Message::Text(s)))) => t.add(true, s.as_bytes()),
            Ok(None) => return t,
            other => fail(who, &format!("its peer got {other:?}")),
        }
    }
}

/// A raw DEFLATE stream of messages inflated with one `InflateState` (context kept), each
/// given with its tail; the tally.
fn tally_raw_inflate(who: &str, text: bool, messages: &[Vec<u8>], max_len: usize) -> Tally {
    let mut st = InflateState::new_boxed(DataFormat::Raw);
    let mut out = vec![0; max_len + 1];
    let mut t = Tally::new(true);
    for m in messages {
        let mut input = m.clone();
        input.extend_from_slice(&TAIL);
        let n = raw_inflate_one(who, &mut st, &input, &mut out);
        t.add(text, &out[..n]);
    }
    t
}

// ---------------------------------------------------------------------------------------
// Sending.

/// Ours: `send_text` / `send_binary` on a negotiated server, the output taken into the
/// sink after each message.
fn ours_send(conn: &mut Connection, input: &Input, sink: &mut Vec<u8>) {
    for i in 0..input.messages {
        let r = if input.text {
            conn.send_text(&input.strings[i % input.strings.len()])
        } else {
            conn.send_binary(input.payload(i))
        };
        r.expect("rfc6455: send failed");
        take_output(conn, sink);
    }
}

/// The raw backend: a `CompressorOxide` with the flags our codec creates it with (raw
/// DEFLATE, the level, default strategy), each message compressed straight into the sink
/// and ended with a sync flush (a full flush without context takeover: the flush that
/// stops later matches reaching back, as ours uses), its tail removed. `bounds`, when
/// given, gets each message's end offset in the sink.
pub fn raw_send(
    input: &Input,
    takeover: bool,
    sink: &mut Vec<u8>,
    mut bounds: Option<&mut Vec<usize>>,
) {
    let flags = create_comp_flags_from_zip_params(i32::from(level()), -15, 0);
    let mut c = Box::new(CompressorOxide::new(flags));
    let flush = if takeover {
        TDEFLFlush::Sync
    } else {
        TDEFLFlush::Full
    };
    for i in 0..input.messages {
        let p = &input.payload(i)[..];
        let (status, used) = compress_to_output(&mut c, p, flush, |b| {
            sink.extend_from_slice(b);
            true
        });
        if status != TDEFLStatus::Okay || used != p.len() || !sink.ends_with(&TAIL) {
            fail(
                IMPS[1],
                &format!("compress: {status:?}, {used} of {}", p.len()),
            );
        }
        sink.truncate(sink.len() - TAIL.len());
        if let Some(b) = bounds.as_deref_mut() {
            b.push(sink.len());
        }
    }
}

fn yawc_options(takeover: bool) -> yawc::Options {
    let o = yawc::Options::default()
        .with_compression_level(yawc::CompressionLevel::new(u32::from(level())))
        .with_utf8();
    if takeover {
        o
    } else {
        o.server_no_context_takeover()
    }
}

/// yawc: a server `WebSocket` over the sink, permessage-deflate agreed, each message sent
/// with `SinkExt::send(Frame::text | Frame::binary)` (write and flush).
fn yawc_send(input: &Input, takeover: bool, sink: &mut Vec<u8>) {
    crate::impls::fws::rt().block_on(async {
        let ext = if takeover { EXT } else { EXT_NO_TAKEOVER };
        let mut ws = yawc::WebSocket::from_stream_with_extensions(
            Sink(sink),
            yawc::Role::Server,
            Some(ext),
            yawc_options(takeover),
        )
        .expect("yawc: from_stream");
        for i in 0..input.messages {
            let p = input.payload(i).clone();
            let frame = if input.text {
                yawc::Frame::text(p)
            } else {
                yawc::Frame::binary(p)
            };
            ws.send(frame).await.expect("yawc: send failed");
        }
    });
}

fn ratio(compressed: &[Vec<u8>], input: &Input) -> f64 {
    compressed.iter().map(|c| c.len()).sum::<usize>() as f64 / input.payload_bytes as f64
}

fn send_row(
    w: &Work,
    takeover: bool,
    input: &Input,
    s: &Settings,
) -> ([Measured; N], [f64; N], String) {
    // Untimed verification: each implementation's output decodes to the messages sent;
    // ours and the raw backend's compressed payloads are compared byte for byte.
    let mut wires: [Vec<u8>; N] = Default::default();
    let cap = input.payload_bytes as usize + 64 * input.messages + 4096;
    for w in &mut wires {
        w.reserve(cap);
    }
    let (_c, mut conn) = negotiated(client_config(), server_config(takeover), takeover);
    ours_send(&mut conn, input, &mut wires[0]);
    let mut bounds = Vec::new();
    raw_send(input, takeover, &mut wires[1], Some(&mut bounds));
    let mut zbounds = Vec::new();
    zlibrs::send(
        &input.payloads,
        input.messages,
        level(),
        takeover,
        &mut wires[2],
        Some(&mut zbounds),
    );
    yawc_send(input, takeover, &mut wires[3]);

    let ours_payloads = compressed_payloads(IMPS[0], &wires[0]);
    let split = |wire: &[u8], bounds: &[usize]| -> Vec<Vec<u8>> {
        let mut from = 0;
        bounds
            .iter()
            .map(|&b| {
                let p = wire[from..b].to_vec();
                from = b;
                p
            })
            .collect()
    };
    let raw_payloads = split(&wires[1], &bounds);
    let zlib_payloads = split(&wires[2], &zbounds);
    let yawc_payloads = compressed_payloads(IMPS[3], &wires[3]);
    for (who, wire) in [(IMPS[0], &wires[0]), (IMPS[3], &wires[3])] {
        let t = tally_as_client(who, wire, takeover);
        if t != input.expect.full {
            fail(
                who,
                &format!("peer decoded {t:?}, expected {:?}", input.expect.full),
            );
        }
    }
    // Both raw streams are inflated by miniz_oxide (zlib-rs's too: an oracle independent of
    // the compressor).
    for (imp, payloads) in [(1, &raw_payloads), (2, &zlib_payloads)] {
        let t = tally_raw_inflate(IMPS[imp], input.text, payloads, w.len);
        if t != input.expect.full {
            fail(
                IMPS[imp],
                &format!("inflated {t:?}, expected {:?}", input.expect.full),
            );
        }
    }
    let same = ours_payloads == raw_payloads;
    let ratios = [
        ratio(&ours_payloads, input),
        ratio(&raw_payloads, input),
        ratio(&zlib_payloads, input),
        ratio(&yawc_payloads, input),
    ];
    let lens = wires.each_ref().map(Vec::len);

    // Timed rounds: fresh state each round (our connection negotiated untimed before it).
    let mut round = |imp: usize, _r: usize| -> Duration {
        let sink = &mut wires[imp];
        sink.clear();
        let elapsed = match imp {
            0 => {
                let (_c, mut conn) = negotiated(client_config(), server_config(takeover), takeover);
                let start = Instant::now();
                ours_send(&mut conn, input, sink);
                start.elapsed()
            }
            1 => {
                let start = Instant::now();
                raw_send(input, takeover, sink, None);
                start.elapsed()
            }
            2 => {
                let start = Instant::now();
                zlibrs::send(
                    &input.payloads,
                    input.messages,
                    level(),
                    takeover,
                    sink,
                    None,
                );
                start.elapsed()
            }
            _ => {
                let start = Instant::now();
                yawc_send(input, takeover, sink);
                start.elapsed()
            }
        };
        if sink.len() != lens[imp] {
            fail(
                IMPS[imp],
                &format!(
                    "wrote {} bytes, {} in the checked pass",
                    sink.len(),
                    lens[imp]
                ),
            );
        }
        elapsed
    };
    let times = interleave(&[0, 1, 2, 3], s.rounds, &mut round);
    let m = measured(times, input);
    let reference = format!(
        "ours and raw compressed payloads {}",
        if same { "identical" } else { "DIFFER" }
    );
    (m, ratios, reference)
}

fn measured(times: Vec<Vec<Duration>>, input: &Input) -> [Measured; N] {
    let mut it = times
        .into_iter()
        .map(|t| Measured::from_rounds(t, input.messages as u64, input.payload_bytes));
    core::array::from_fn(|_| it.next().expect("one time series per implementation"))
}

// ---------------------------------------------------------------------------------------
// Receiving.

/// Ours: the negotiated server reads the socket straight into its buffer
/// (`receive_buffer` + `commit_received`) and hands out each inflated message with
/// `poll_event_ref`, as the framing rows' `decode` does.
fn ours_receive(conn: &mut Connection, mut input: &[u8], read: usize, t: &mut Tally) {
    while !input.is_empty() {
        let room = conn.receive_buffer(read);
        let n = room.len().min(input.len());
        room[..n].copy_from_slice(&input[..n]);
        conn.commit_received(n);
        input = &input[n..];
        while let Some(event) = conn.poll_event_ref().expect("rfc6455: decode failed") {
            match event {
                EventRef::Binary(b) => t.add(false, b),
                EventRef::Text(s) => t.add(true, s.as_bytes()),
                other => panic!("rfc6455: unexpected event {other:?}"),
            }
        }
    }
}

/// Inflate one message (tail included) into `out`; returns the bytes written.
#[inline]
fn raw_inflate_one(who: &str, st: &mut InflateState, mut input: &[u8], out: &mut [u8]) -> usize {
    let mut written = 0;
    loop {
        let r = inflate(st, input, &mut out[written..], MZFlush::Sync);
        written += r.bytes_written;
        input = &input[r.bytes_consumed..];
        match r.status {
            Ok(MZStatus::Ok) if input.is_empty() => return written,
            Ok(MZStatus::Ok) if written < out.len() => {}
            other => fail(who, &format!("inflate: {other:?}, {written} bytes out")),
        }
    }
}

/// The raw backend: one `InflateState` (raw DEFLATE, its 32 KiB window kept from message
/// to message) inflating each message's compressed payload with the tail appended (both
/// pre-built), with a sync flush, into one output buffer.
pub fn raw_receive(text: bool, messages: &[Vec<u8>], max_len: usize, t: &mut Tally) {
    let mut st = InflateState::new_boxed(DataFormat::Raw);
    let mut out = vec![0; max_len + 1];
    for m in messages {
        let n = raw_inflate_one(IMPS[1], &mut st, m, &mut out);
        t.add(text, &out[..n]);
    }
}

/// yawc: a server `WebSocket` over the in-memory socket, permessage-deflate agreed, UTF-8
/// checked (as ours does), `next_frame` per message.
fn yawc_receive(wire: &[u8], read: usize, messages: u64, t: &mut Tally) {
    crate::impls::fws::rt().block_on(async {
        let mut ws = yawc::WebSocket::from_stream_with_extensions(
            MemStream::new(wire, read),
            yawc::Role::Server,
            Some(EXT),
            yawc_options(true),
        )
        .expect("yawc: from_stream");
        while t.messages < messages {
            let frame = ws.next_frame().await.expect("yawc: read failed");
            match frame.opcode() {
                yawc::OpCode::Text => t.add(true, frame.payload()),
                yawc::OpCode::Binary => t.add(false, frame.payload()),
                other => panic!("yawc: unexpected frame {other:?}"),
            }
        }
    });
}

/// What our negotiated client sends for the messages (compressed, masked, context kept).
pub fn client_wire(input: &Input) -> Vec<u8> {
    let (mut c, _s) = negotiated(client_config(), server_config(true), true);
    let mut wire = Vec::new();
    for i in 0..input.messages {
        let r = if input.text {
            c.send_text(&input.strings[i % input.strings.len()])
        } else {
            c.send_binary(input.payload(i))
        };
        r.expect("rfc6455: client send failed");
        take_output(&mut c, &mut wire);
    }
    wire
}

/// Our negotiated server receiving `wire` (at most `read` bytes per read); the tally.
pub fn ours_receive_all(wire: &[u8], read: usize) -> Tally {
    let (_c, mut conn) = negotiated(client_config(), server_config(true), true);
    let mut t = Tally::new(false);
    ours_receive(&mut conn, wire, read, &mut t);
    t
}

fn receive_row(w: &Work, input: &Input, s: &Settings) -> ([Measured; N], [f64; N], String) {
    // The wire: our negotiated client sends the messages (compressed, masked, context
    // kept); the raw backend gets the same compressed payloads, unmasked, tails appended.
    let wire = client_wire(input);
    let compressed = compressed_payloads("rfc6455 client", &wire);
    let input_ratio = ratio(&compressed, input);
    let raw_input: Vec<Vec<u8>> = compressed
        .iter()
        .map(|p| {
            let mut v = p.clone();
            v.extend_from_slice(&TAIL);
            v
        })
        .collect();
    let messages = input.messages as u64;

    let len = wire.len();
    let mut arena = vec![0u8; len + 2 * crate::runner::PAGE];
    let mut placed = usize::MAX;
    let mut place = |arena: &mut Vec<u8>, r: usize| -> std::ops::Range<usize> {
        let at = page_offset(arena, r * 1043 % crate::runner::PAGE);
        if placed != at {
            arena[at..at + len].copy_from_slice(&wire);
            placed = at;
        }
        at..at + len
    };
    let mut round = |imp: usize, r: usize, full: bool| -> Duration {
        let range = place(&mut arena, r);
        let bytes = &arena[range];
        let mut t = Tally::new(full);
        let elapsed = match imp {
            0 => {
                let (_c, mut conn) = negotiated(client_config(), server_config(true), true);
                let start = Instant::now();
                ours_receive(&mut conn, bytes, s.read, &mut t);
                start.elapsed()
            }
            1 => {
                let start = Instant::now();
                raw_receive(input.text, &raw_input, w.len, &mut t);
                start.elapsed()
            }
            2 => {
                let start = Instant::now();
                zlibrs::receive(&raw_input, w.len, |out| t.add(input.text, out));
                start.elapsed()
            }
            _ => {
                let start = Instant::now();
                yawc_receive(bytes, s.read, messages, &mut t);
                start.elapsed()
            }
        };
        if !input.expect.matches(&t) {
            fail(
                IMPS[imp],
                &format!("delivered {t:?}, expected {:?}", input.expect),
            );
        }
        elapsed
    };
    for imp in 0..N {
        round(imp, 0, true);
    }
    let times = interleave(&[0, 1, 2, 3], s.rounds, |imp, r| round(imp, r, false));
    let m = measured(times, input);

    // References: the socket copy alone (ours and yawc pay it, the raw backend does not)
    // and, for text, `str::from_utf8` alone (ours and yawc check; the raw backend does not).
    let mut buf = vec![0u8; s.read];
    let copy = interleave(&[()], s.rounds, |_, _| {
        let mut stream = MemStream::new(&wire, s.read);
        let start = Instant::now();
        while !stream.drained() {
            let n = std::io::Read::read(&mut stream, &mut buf).unwrap_or(0);
            black_box(&buf[..n]);
        }
        start.elapsed()
    });
    let copy = Measured::from_rounds(copy.into_iter().next().unwrap_or_default(), messages, 0);
    let mut reference = format!("socket copy alone {:.0} ns/msg", copy.ns_per_op);
    if input.text {
        let utf8 = interleave(&[()], s.rounds, |_, _| {
            let start = Instant::now();
            for i in 0..input.messages {
                if std::str::from_utf8(black_box(&input.payload(i)[..])).is_err() {
                    fail("reference", "JSON is not UTF-8");
                }
            }
            start.elapsed()
        });
        let utf8 = Measured::from_rounds(utf8.into_iter().next().unwrap_or_default(), messages, 0);
        let _ = write!(
            reference,
            " · str::from_utf8 alone {:.0} ns/msg",
            utf8.ns_per_op
        );
    }
    (m, [input_ratio, f64::NAN, f64::NAN, f64::NAN], reference)
}

/// Generate the row's input from `seed` and measure it.
pub fn run(w: &Work, s: &Settings, target: usize, seed: u64, name: String) -> Row {
    let rng = &mut Rng::new(seed);
    let n = message_count(w.len, target, s.min_messages, s.max_messages);
    let input = Input::new(rng, w.content, w.len, n);
    let (cells, ratios, reference) = match w.dir {
        Dir::Send { takeover } => send_row(w, takeover, &input, s),
        Dir::Receive => receive_row(w, &input, s),
    };
    Row {
        name,
        per_round: n,
        cells: cells.map(Some),
        ratios: ratios.map(|r| (!r.is_nan()).then_some(r)),
        reference,
    }
}

/// The deflate rows' table.
pub fn table(rows: &[Row], fmt_ns: impl Fn(f64) -> String) -> String {
    let mut t = String::new();
    t.push_str("| Workload | msgs/round |");
    for imp in IMPS {
        let _ = write!(t, " {imp} ns/msg | {imp} MB/s |");
    }
    t.push_str(
        " rfc6455 ÷ miniz_oxide | zlib-rs ÷ miniz_oxide | yawc ÷ rfc6455 | compressed/original: rfc6455 · miniz_oxide · zlib-rs · yawc | References |\n",
    );
    t.push_str("|---|--:|");
    t.push_str(&"--:|--:|".repeat(N));
    t.push_str("--:|--:|--:|--:|---|\n");
    for row in rows {
        let _ = write!(t, "| {} | {} |", row.name, row.per_round);
        for cell in &row.cells {
            match cell {
                Some(m) => {
                    let mbps = m
                        .gbps
                        .map_or("–".to_string(), |g| format!("{:.0}", g * 1000.0));
                    let _ = write!(t, " {} | {mbps} |", fmt_ns(m.ns_per_op));
                }
                None => t.push_str(" n/a | n/a |"),
            }
        }
        let r = |a: usize, b: usize| match (&row.cells[a], &row.cells[b]) {
            (Some(x), Some(y)) => format!("{:.2}", x.ns_per_op / y.ns_per_op),
            _ => "–".to_string(),
        };
        let _ = write!(t, " {} | {} | {} |", r(0, 1), r(2, 1), r(3, 0));
        let ratios: Vec<String> = row
            .ratios
            .iter()
            .map(|r| r.map_or("–".to_string(), |r| format!("{r:.4}")))
            .collect();
        let _ = writeln!(t, " {} | {} |", ratios.join(" · "), row.reference);
    }
    t
}

/// The deflate table's legend.
pub fn legend(s: &Settings) -> String {
    format!(
        "\
- Deflate rows: level {} (our `DeflateConfig` default), 32 KiB windows, context takeover \
  unless the row says otherwise. ns/msg: median time per message; MB/s: payload bytes \
  before compression (10^6/s). \"rfc6455 ÷ raw\": our time over the raw backend's (the \
  codec's overhead: 1.10 = 10% on top of the backend); \"yawc ÷ rfc6455\": above 1 means \
  ours is faster.
- rfc6455: a server negotiated through a real opening handshake (untimed), \
  `send_text`/`send_binary` then `pending_output_slices` + `advance_output` into a \
  pre-reserved sink; receiving, `receive_buffer` + `commit_received` (at most {} per \
  read) + `poll_event_ref`, of frames our negotiated client sent (masked).
- miniz_oxide (raw): the backend alone, no framing: `CompressorOxide` \
  (`create_comp_flags_from_zip_params(level, -15, 0)`, as our codec creates it) with \
  `compress_to_output` straight into the sink, a sync flush (a full flush without \
  context takeover, as ours), the tail cut; receiving, one `InflateState` (raw) inflating \
  each message's compressed payload + `00 00 ff ff` (appended beforehand) with \
  `MZFlush::Sync` into one buffer. No socket copy, no unmasking, no UTF-8 check.
- zlib-rs {} (raw): the same as the miniz_oxide column on zlib-rs's `Deflate` \
  (level {}, window bits -15, memLevel 8, default strategy) with `Z_SYNC_FLUSH` per \
  message (`Z_FULL_FLUSH` without context takeover) and `Inflate` (raw, window bits 15) \
  with `Z_SYNC_FLUSH`; its output is checked by inflating it with miniz_oxide.
- yawc {} (default features off; flate2 {} on miniz_oxide {}): \
  `WebSocket::from_stream_with_extensions` with the agreed extension string, \
  `with_compression_level({})` + `with_utf8()` (UTF-8 checked, as ours does); \
  `SinkExt::send(Frame::text/binary)` / `next_frame()` on the tokio current-thread \
  runtime over the same in-memory streams.
- Checked: every implementation's output decoded by our negotiated client (the raw \
  backend's inflated by a fresh `InflateState`) against the messages sent, and its \
  length every round; receiving, the same tallies as the framing rows.
",
        level(),
        crate::size(s.read),
        crate::sys::locked_version("zlib-rs"),
        zlibrs::level(level()),
        crate::sys::locked_version("yawc"),
        crate::sys::locked_version("flate2"),
        crate::sys::locked_version("miniz_oxide"),
        level(),
    )
}

fn fail(who: &str, what: &str) -> ! {
    eprintln!("FAILED: {who} {what}");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_exact_records_with_repeated_keys() {
        let mut rng = Rng::new(3);
        for len in [300, 1 << 10, 16 << 10] {
            let j = String::from_utf8(json(&mut rng, len)).unwrap();
            assert_eq!(j.len(), len);
            assert!(j.starts_with("[{\"id\":") && j.trim_end().ends_with("}]"));
            let records = j.matches("\"id\":").count();
            assert!(records >= len / 300, "{records} records in {len} bytes");
            assert_eq!(j.matches("\"email\":").count(), records);
        }
    }

    #[test]
    fn frames_reads_back_masked_and_long_frames() {
        use rfc6455::frame::{FrameHeader, OpCode, encode_frame_to_vec};
        let mut wire = Vec::new();
        let big = vec![7u8; 70_000];
        for (payload, mask) in [(&b"abc"[..], Some([1, 2, 3, 4])), (&big[..], None)] {
            let h = FrameHeader::new(true, OpCode::Binary, mask, payload.len() as u64);
            encode_frame_to_vec(&h, payload, &mut wire).unwrap();
        }
        let f = frames(&wire);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].0, &f[0].1[..]), (0x82, &b"abc"[..]));
        assert_eq!((f[1].0, f[1].1.len()), (0x82, 70_000));
    }
}
