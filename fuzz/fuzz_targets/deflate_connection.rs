//! permessage-deflate (RFC 7692) on the receiving side: a server that negotiated it in a
//! real opening handshake with a client, fed frames built from the input. The client
//! compresses messages the input chooses (whole, fragmented, highly compressible ones
//! many times larger than the input), and the input adds frames of its own around them:
//! any first byte (RSV1 on first frames or continuations, control frames, reserved bits)
//! with any payload, so compressed payloads that are invalid, truncated, end in a final
//! block, or refer to history the inflater does not have; and it corrupts bytes of the
//! client's frames.
//!
//! The wire is fed to three servers, each with `max_message_size` 64 KiB: in messages mode
//! whole and in the input's pieces, and in stream mode in the same pieces, polled only once
//! after each (so bytes arrive while a frame is partly inflated). Invariants:
//! - nothing panics;
//! - every message delivered, and every stream message's chunks together, are within
//!   `max_message_size`; text is valid UTF-8 (a stream chunk may end inside a character,
//!   only the last one must be complete); a compressed message's stream chunks are at
//!   most 16 KiB;
//! - after an error the connection's last queued frame is a close frame with the error's
//!   close code, and every later poll returns nothing;
//! - the whole and split runs give the same events and the same error, and stream mode
//!   the same messages (chunks joined) and the same error (any split gives the same
//!   result);
//! - with only the client's own frames on the wire, the messages delivered are exactly
//!   those it sent, until one over the limit, which fails with 1009;
//! - the heap stays bounded: the peak of live bytes while a server receives is within
//!   what the limits allow (see [`heap_bound`]).
//!
//! Input: byte 0 flags (bits 0-2 the client's window bits - 8 it offers, bits 3-5 the
//! server's limit on it, bit 6 client no context takeover, bit 7 server no context
//! takeover), byte 1 (bits 0-3 the client's level, 0..=9 taken mod 10; bits 4-6 the
//! server's window bits - 8 the client asks for), then operations, a tag byte each
//! (see [`build`]).
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use libfuzzer_sys::fuzz_target;
use rfc6455::connection::{Config, Connection, DataKind, Event, ProtocolError, ReceiveMode};
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{ClientRequest, ServerResponse};
use rfc6455_fuzz::Input;

/// Counts live heap bytes and their peak since [`reset_peak`].
struct Peak;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(n: isize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation may hold both blocks at once.
        grew(new_size as isize);
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Peak = Peak;

/// The servers' message limit.
const LIMIT: usize = 64 << 10;

/// The servers' reuse capacity (small, so that the heap bound is tight).
const REUSE: usize = 4 << 10;

/// The most a compressed message's piece inflates to in stream mode.
const INFLATE_STEP: usize = 16 << 10;

/// The most plaintext the client compresses for one input (amplified messages included).
const MAX_PLAIN: usize = 80 << 10;

/// The decompressor's state: miniz_oxide's `DecompressorOxide` (11 KiB in 0.9: its Huffman
/// tables, 3 * (288 + 32) * 2 bytes of trees among them) rounded up, and the 32 KiB window
/// DEFLATE needs.
const INFLATER: usize = 16 * 1024 + 32 * 1024;

/// Small allocations beside the buffers: the `Bytes` control blocks of messages and chunks,
/// the output queue's entries, one close frame or pong.
const MARGIN: usize = 4 * 1024;

fn server_config(mode: ReceiveMode, flags: u8) -> Config {
    Config::new()
        .max_message_size(LIMIT as u64)
        .receive_mode(mode)
        .active_buffer_capacity(REUSE)
        .idle_buffer_capacity(256)
        .deflate(
            DeflateConfig::new()
                .enabled(true)
                .peer_max_window_bits(8 + (flags >> 3 & 7))
                .own_no_context_takeover(flags & 128 != 0)
                .threshold(0),
        )
}

fn client_config(flags: u8, level: u8) -> Config {
    Config::new().deflate(
        DeflateConfig::new()
            .enabled(true)
            .own_max_window_bits(8 + (flags & 7))
            .peer_max_window_bits(8 + (level >> 4 & 7))
            .own_no_context_takeover(flags & 64 != 0)
            .level((level & 15) % 10)
            .threshold(0),
    )
}

/// What the wire was built from.
struct Wire {
    bytes: Vec<u8>,
    cuts: Vec<usize>,
    /// Only the client's own, unaltered frames (and so every message it sent in order).
    clean: bool,
    /// The messages the client sent whole or finished, in order.
    sent: Vec<(DataKind, Vec<u8>)>,
}

/// The client's operations: tag % 8 =
/// - 0: a message (bit 4: binary), the next blob as its bytes (text made valid);
/// - 1: a fragment (bit 4: binary, bit 5: fin), the next blob (bit 6: repeated to the next
///   u16 * 4 bytes), as it is: text fragments may be invalid UTF-8;
/// - 2: an amplified message (bit 4: binary): a blob repeated to the next u16 * 4 bytes;
/// - 3: a ping, the next blob (at most 125 bytes);
/// - 4: a frame of the input's own: first byte, a blob as payload, masked with the next
///   4 bytes (a short declared length is not written: the payload's is);
/// - 5: the client's next message (bit 4: binary) with one byte of its frame (the next u16,
///   mod its length) xored with the next byte;
/// - 6: a cut in the wire at its current length plus the next byte;
/// - 7: a close frame of the client's (code from the next u16).
fn build(input: &mut Input<'_>, client: &mut Connection) -> Wire {
    let mut wire = Wire {
        bytes: Vec::new(),
        cuts: Vec::new(),
        clean: true,
        sent: Vec::new(),
    };
    let mut plain = 0usize;
    let mut fragments: Option<(DataKind, Vec<u8>)> = None;
    while let Some(tag) = input.byte() {
        let kind = if tag & 16 == 0 {
            DataKind::Text
        } else {
            DataKind::Binary
        };
        match tag % 8 {
            0 | 2 | 5 => {
                let mut data = match input.blob() {
                    Some(b) => b.to_vec(),
                    None => break,
                };
                if tag % 8 == 2 {
                    let n = usize::from(input.u16().unwrap_or(0)) * 4;
                    if data.is_empty() {
                        data.push(0);
                    }
                    data = data.iter().copied().cycle().take(n).collect();
                }
                if plain + data.len() > MAX_PLAIN {
                    continue;
                }
                plain += data.len();
                let sent = match kind {
                    DataKind::Text => {
                        let text = String::from_utf8_lossy(&data).into_owned();
                        let ok = client.send_text(&text).is_ok();
                        data = text.into_bytes();
                        ok
                    }
                    DataKind::Binary => client.send_binary(&data).is_ok(),
                };
                let mut out = take(client);
                if tag % 8 == 5 && !out.is_empty() {
                    let at = usize::from(input.u16().unwrap_or(0)) % out.len();
                    let x = input.byte().unwrap_or(1) | 1;
                    out[at] ^= x;
                    wire.clean = false;
                }
                if sent {
                    wire.sent.push((kind, data));
                }
                wire.bytes.extend(out);
            }
            1 => {
                let Some(blob) = input.blob() else { break };
                let mut data = blob.to_vec();
                if tag & 64 != 0 {
                    let n = usize::from(input.u16().unwrap_or(0)) * 4;
                    if data.is_empty() {
                        data.push(0);
                    }
                    data = data.iter().copied().cycle().take(n).collect();
                }
                if plain + data.len() > MAX_PLAIN {
                    continue;
                }
                plain += data.len();
                let data = &data[..];
                let fin = tag & 32 != 0;
                if client.send_fragment(kind, data, fin).is_ok() {
                    let (k, acc) = fragments.get_or_insert_with(|| (kind, Vec::new()));
                    acc.extend_from_slice(data);
                    // Text the server refuses (1007), or a message it refuses before its
                    // end (1009): what follows does not arrive.
                    let refused = match std::str::from_utf8(acc) {
                        Ok(_) => false,
                        Err(e) => *k == DataKind::Text && (fin || e.error_len().is_some()),
                    };
                    if refused || acc.len() > LIMIT {
                        wire.clean = false;
                    }
                    if fin {
                        let (k, acc) = fragments.take().expect("inserted above");
                        wire.sent.push((k, acc));
                    }
                }
                wire.bytes.extend(take(client));
            }
            3 => {
                let Some(data) = input.blob() else { break };
                let _ = client.send_ping(&data[..data.len().min(125)]);
                wire.bytes.extend(take(client));
            }
            4 => {
                let (Some(b0), Some(payload)) = (input.byte(), input.blob()) else {
                    break;
                };
                let key = [
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                ];
                wire.bytes.extend(masked_frame(b0, key, payload));
                wire.clean = false;
            }
            6 => {
                let Some(d) = input.byte() else { break };
                wire.cuts.push(wire.bytes.len() + usize::from(d));
            }
            _ => {
                let code = input.u16().unwrap_or(1000);
                let _ = client.close(rfc6455::close::CloseCode(code), "");
                wire.bytes.extend(take(client));
                // A close the server refuses (a code that may not be sent) fails it.
                wire.clean = false;
            }
        }
    }
    wire
}

/// A masked frame with `b0` as its first byte (the mask bit and length written here).
fn masked_frame(b0: u8, key: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

fn take(conn: &mut Connection) -> Vec<u8> {
    let bytes: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
    conn.advance_output(bytes.len());
    bytes
}

/// What a server delivered: complete messages (stream chunks joined), pings and pongs, the close
/// frame it got, and its error.
/// Messages, pings and pongs are recorded by length and hash, so that recording allocates
/// nothing beyond the list itself (allocated before the heap is measured).
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Message(DataKind, usize, u64),
    Ping(u64),
    /// An unsolicited pong (RFC 6455 section 5.5.3 allows one) from a frame of the input's.
    Pong(u64),
    Closed(u16),
    Error(Option<u16>),
}

/// The most live heap a server may add while it receives `fed` bytes, as SECURITY.md
/// states it ("buffers may have up to twice the capacity of their contents while
/// growing"; the allocator above counts a reallocation as holding both blocks, which it may
/// while it copies): its receive buffer within twice what was fed or the reuse capacity;
/// the message being reassembled within twice the limit plus the one byte that tells "at"
/// from "past" it, in stream mode a 16 KiB piece growing and the chunk copied out of it,
/// or a piece of the receive buffer; the inflater's state; and [`MARGIN`].
fn heap_bound(mode: ReceiveMode, fed: usize) -> usize {
    let receive = (2 * fed).max(REUSE);
    let message = match mode {
        ReceiveMode::Messages => (2 * (LIMIT + 1)).max(REUSE),
        ReceiveMode::Stream => 2 * INFLATE_STEP + fed,
    };
    receive + message + INFLATER + MARGIN
}

/// Feed `wire` in the pieces `cuts` make and poll after each (with `lag`, only once after
/// each piece but the last, so that bytes arrive while a frame is partly inflated),
/// checking the invariants; the deliveries.
fn receive(server: &mut Connection, wire: &[u8], cuts: &[usize], lag: bool) -> Vec<Got> {
    let mode = server.config().receive_mode;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(wire.len())).collect();
    points.sort_unstable();
    points.push(wire.len());
    // At most one event per 2 bytes of wire (a frame has at least that many).
    let mut got = Vec::with_capacity(wire.len() / 2 + 2);
    // The stream message being joined, with room for all a message may hold, allocated
    // before the heap is measured.
    let mut joined: Vec<u8> = Vec::with_capacity(LIMIT + 1);
    let mut joining: Option<DataKind> = None;
    let base = live();
    reset_peak();
    let mut start = 0;
    let mut ended = false;
    let pieces = points.len();
    for (i, end) in points.into_iter().enumerate() {
        server.receive(&wire[start..end]);
        start = end;
        let mut budget = if lag && i + 1 < pieces { 1 } else { usize::MAX };
        while !ended && budget > 0 {
            budget -= 1;
            let event = server.poll_event();
            match event {
                Ok(None) => break,
                Ok(Some(Event::Message(m))) => {
                    assert_eq!(mode, ReceiveMode::Messages);
                    assert!(m.len() <= LIMIT, "a message of {} bytes", m.len());
                    let kind = match &m {
                        rfc6455::connection::Message::Text(t) => {
                            assert!(std::str::from_utf8(t.as_bytes()).is_ok());
                            DataKind::Text
                        }
                        rfc6455::connection::Message::Binary(_) => DataKind::Binary,
                    };
                    got.push(Got::Message(kind, m.len(), hash(m.as_bytes())));
                }
                Ok(Some(Event::Chunk(c))) => {
                    assert_eq!(mode, ReceiveMode::Stream);
                    assert_eq!(c.first, joining.is_none(), "chunk flags");
                    if let Some(k) = joining {
                        assert_eq!(k, c.kind);
                    }
                    joining = Some(c.kind);
                    assert!(
                        joined.len() + c.data.len() <= LIMIT,
                        "a stream message of {} bytes",
                        joined.len() + c.data.len()
                    );
                    joined.extend_from_slice(&c.data);
                    if c.kind == DataKind::Text
                        && let Err(e) = std::str::from_utf8(&joined)
                    {
                        assert!(!c.last && e.error_len().is_none(), "invalid text chunk");
                    }
                    if c.last {
                        got.push(Got::Message(c.kind, joined.len(), hash(&joined)));
                        joined.clear();
                        joining = None;
                    }
                }
                Ok(Some(Event::Ping(p))) => got.push(Got::Ping(hash(&p))),
                Ok(Some(Event::Pong(p))) => got.push(Got::Pong(hash(&p))),
                Ok(Some(Event::Closed(c))) => {
                    got.push(Got::Closed(c.code.0));
                    ended = true;
                }
                Ok(Some(other)) => panic!("unexpected {other:?}"),
                Err(e) => {
                    check_close(server, &e);
                    got.push(Got::Error(e.close_code().map(|c| c.0)));
                    ended = true;
                }
            }
            // Output is written as soon as it is queued; a close frame is checked above.
            let n = server.pending_output_len();
            server.advance_output(n);
        }
        if ended {
            assert!(
                matches!(server.poll_event(), Ok(None)),
                "a poll after the end"
            );
        }
        let grown = peak() - base;
        let bound = heap_bound(mode, end);
        assert!(
            grown <= bound as isize,
            "{mode:?}: the heap grew by {grown} bytes while receiving, over {bound} ({end} fed)"
        );
    }
    got
}

/// FNV-1a, 64 bits.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// After `error`, the last frame queued is a close frame with its code.
fn check_close(server: &Connection, error: &ProtocolError) {
    let out: Vec<u8> = server.pending_output_slices().flatten().copied().collect();
    // Server frames are unmasked; what it queued since the last poll is whole frames.
    let mut rest = &out[..];
    let mut last = None;
    while rest.len() >= 2 {
        let len = usize::from(rest[1] & 0x7F);
        assert!(len < 126, "a control frame of {len} bytes");
        last = Some((rest[0], &rest[2..2 + len]));
        rest = &rest[2 + len..];
    }
    let (b0, payload) = last.expect("a close frame after an error");
    assert_eq!(b0, 0x88, "the last frame queued is a close frame");
    let code = error
        .close_code()
        .expect("a protocol error has a close code")
        .0;
    assert!(payload.len() >= 2);
    assert_eq!(
        u16::from_be_bytes([payload[0], payload[1]]),
        code,
        "{error:?}"
    );
}

/// A client and `servers.len()` servers that all answered its request.
fn handshake(client: Config, servers: &mut [Connection]) -> Connection {
    let request = ClientRequest::new("example.com", "/");
    let mut c = Connection::client(client, [7; 32], &request).expect("request");
    let head = take(&mut c);
    let mut response = Vec::new();
    for (i, s) in servers.iter_mut().enumerate() {
        s.receive(&head);
        match s.poll_event().expect("valid request") {
            Some(Event::Request(_)) => {}
            other => panic!("expected the request, got {other:?}"),
        }
        s.accept(&ServerResponse::default()).expect("accept");
        let r = take(s);
        if i == 0 {
            response = r;
        } else {
            assert_eq!(r, response, "the same response from every server");
        }
    }
    c.receive(&response);
    match c.poll_event().expect("valid response") {
        Some(Event::Accepted(_)) => {}
        other => panic!("expected the response, got {other:?}"),
    }
    assert_eq!(c.deflate_params(), servers[0].deflate_params());
    assert!(c.deflate_params().is_some());
    c
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(flags), Some(level)) = (input.byte(), input.byte()) else {
        return;
    };
    let mut servers = [
        Connection::server(server_config(ReceiveMode::Messages, flags)),
        Connection::server(server_config(ReceiveMode::Messages, flags)),
        Connection::server(server_config(ReceiveMode::Stream, flags)),
    ];
    let mut client = handshake(client_config(flags, level), &mut servers);
    let wire = build(&mut input, &mut client);
    drop(client);
    let [whole, split, stream] = &mut servers;
    let got_whole = receive(whole, &wire.bytes, &[], false);
    let got_split = receive(split, &wire.bytes, &wire.cuts, false);
    let got_stream = receive(stream, &wire.bytes, &wire.cuts, true);
    assert_eq!(got_whole, got_split, "whole and split differ");
    assert_eq!(got_whole, got_stream, "messages and stream mode differ");
    if wire.clean {
        let messages: Vec<(DataKind, usize, u64)> = got_whole
            .iter()
            .filter_map(|g| match g {
                Got::Message(k, n, h) => Some((*k, *n, *h)),
                _ => None,
            })
            .collect();
        let sent: Vec<(DataKind, usize, u64)> = wire
            .sent
            .iter()
            .map(|(k, b)| (*k, b.len(), hash(b)))
            .collect();
        let fits = wire
            .sent
            .iter()
            .position(|(_, b)| b.len() > LIMIT)
            .unwrap_or(wire.sent.len());
        assert_eq!(messages, sent[..fits], "the client's messages");
        let error = got_whole.iter().find_map(|g| match g {
            Got::Error(code) => Some(*code),
            _ => None,
        });
        let want = (fits < wire.sent.len()).then_some(Some(1009));
        assert_eq!(error, want, "the error");
    }
});
