//! Timing: a verification pass, then interleaved rounds, median per implementation.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rfc6455::Role;

use std::io::Read;

use crate::impls::{Imp, fws, ours, tung};
use crate::stream::MemStream;
use crate::workload::{DecodeInput, EncodeInput, Tally, tally_wire};

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub rounds: usize,
    /// The largest read the in-memory socket returns.
    pub read: usize,
    /// Wire bytes to aim for per round (message-level workloads).
    pub target_bytes: usize,
    pub min_messages: usize,
    pub max_messages: usize,
    /// Bytes to mask per round (masking workloads).
    pub mask_bytes: usize,
}

/// One implementation's result for a workload.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub ns_per_op: f64,
    /// Payload bytes per nanosecond = GB/s (10^9 bytes per second); None for empty payloads.
    pub gbps: Option<f64>,
    /// Interquartile range of the rounds, relative to the median.
    pub spread: f64,
}

impl Measured {
    pub fn from_rounds(mut rounds: Vec<Duration>, ops: u64, bytes_per_round: u64) -> Self {
        rounds.sort();
        let ns = |d: Duration| d.as_nanos() as f64;
        let median = ns(rounds[rounds.len() / 2]);
        let q1 = ns(rounds[rounds.len() / 4]);
        let q3 = ns(rounds[rounds.len() * 3 / 4]);
        Measured {
            ns_per_op: median / ops as f64,
            gbps: (bytes_per_round > 0).then(|| bytes_per_round as f64 / median),
            spread: (q3 - q1) / median,
        }
    }
}

/// Run `round(imp, r)` for every implementation in `imps`, for rounds `r` in
/// `0..rounds`, rotating the order each round so that no implementation always runs
/// first (or right after the same neighbour). Returns all round times per
/// implementation, in `imps` order.
pub fn interleave<K: Copy>(
    imps: &[K],
    rounds: usize,
    mut round: impl FnMut(K, usize) -> Duration,
) -> Vec<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(rounds); imps.len()];
    for r in 0..rounds {
        for k in 0..imps.len() {
            let i = (r + k) % imps.len();
            times[i].push(round(imps[i], r));
        }
    }
    times
}

pub const PAGE: usize = 4096;

/// The offset into `buf` of its first page-aligned byte plus `skew`.
pub fn page_offset(buf: &[u8], skew: usize) -> usize {
    (PAGE - buf.as_ptr() as usize % PAGE) % PAGE + skew
}

type DecodeFn = fn(Role, &[u8], usize, u64, &mut Tally);

fn decode_fn(imp: Imp, fragmented: bool) -> DecodeFn {
    match (imp, fragmented) {
        (Imp::Ours, false) => ours::decode,
        (Imp::Ours, true) => ours::decode_fragmented,
        (Imp::Tungstenite, false) => tung::decode,
        (Imp::Tungstenite, true) => tung::decode_fragmented,
        (Imp::FastWebSockets, false) => fws::decode,
        (Imp::FastWebSockets, true) => fws::decode_fragmented,
    }
}

fn decode_round(
    imp: Imp,
    role: Role,
    wire: &[u8],
    input: &DecodeInput,
    fragmented: bool,
    s: &Settings,
    full: bool,
) -> Duration {
    let f = decode_fn(imp, fragmented);
    let mut t = Tally::new(full);
    let start = Instant::now();
    f(role, wire, s.read, input.messages, &mut t);
    let elapsed = start.elapsed();
    if !input.expect.matches(&t) {
        let want = if full {
            input.expect.full
        } else {
            input.expect.sample
        };
        fail(imp, &format!("decoded {t:?}, expected {want:?}"));
    }
    elapsed
}

/// A message-level decoding workload: `role` receives `input`, fed in `s.read` pieces.
///
/// Input bytes are never modified (each implementation copies them into its own buffer,
/// as from a socket, and unmasks there), so every round reads pristine input. Before
/// each round (untimed) the input moves to a new offset within a page: this machine's
/// `memcpy` runs up to 30 times slower when the destination lies a few bytes past the
/// source modulo 4 KiB, and a fixed layout could hit that in one implementation's
/// buffer on every read; rotating the layout leaves such rounds to the median.
pub fn decode(role: Role, input: &DecodeInput, fragmented: bool, s: &Settings) -> Vec<Measured> {
    let len = input.wire.len();
    let mut arena = vec![0u8; len + 2 * PAGE];
    let mut placed = usize::MAX;
    let mut place = |arena: &mut Vec<u8>, r: usize| -> std::ops::Range<usize> {
        let at = page_offset(arena, r * 1043 % PAGE);
        if placed != at {
            arena[at..at + len].copy_from_slice(&input.wire);
            placed = at;
        }
        at..at + len
    };
    for imp in Imp::ALL {
        let wire = place(&mut arena, 0);
        decode_round(imp, role, &arena[wire], input, fragmented, s, true);
    }
    let times = interleave(&Imp::ALL, s.rounds, |imp, r| {
        let wire = place(&mut arena, r);
        decode_round(imp, role, &arena[wire], input, fragmented, s, false)
    });
    times
        .into_iter()
        .map(|t| Measured::from_rounds(t, input.messages, input.payload_bytes))
        .collect()
}

/// Reference for decode rows: the in-memory socket's copy alone, i.e. the same input
/// read in `s.read` pieces into one reused buffer, which every implementation does first.
/// What an implementation takes beyond it is its own protocol work.
pub fn socket_copy_reference(input: &DecodeInput, s: &Settings) -> Measured {
    let mut buf = vec![0u8; s.read];
    let round = |_: (), _: usize| {
        let mut stream = MemStream::new(&input.wire, s.read);
        let start = Instant::now();
        while !stream.drained() {
            let n = stream.read(&mut buf).unwrap_or(0);
            black_box(&buf[..n]);
        }
        start.elapsed()
    };
    let times = interleave(&[()], s.rounds, round);
    Measured::from_rounds(
        times.into_iter().next().unwrap_or_default(),
        input.messages,
        input.payload_bytes,
    )
}

/// Reference for text rows: `core::str::from_utf8` alone over the same (unmasked)
/// payloads, message by message, as many as one decoding round delivers.
pub fn utf8_reference(input: &DecodeInput, s: &Settings) -> Measured {
    let n = input.messages as usize;
    let round = |_: (), _: usize| {
        let start = Instant::now();
        for i in 0..n {
            let p = black_box(&input.variants[i % input.variants.len()][..]);
            if std::str::from_utf8(p).is_err() {
                eprintln!("FAILED: generated text is not UTF-8");
                std::process::exit(1);
            }
        }
        start.elapsed()
    };
    let times = interleave(&[()], s.rounds, round);
    let bytes: u64 = (0..n)
        .map(|i| input.variants[i % input.variants.len()].len() as u64)
        .sum();
    Measured::from_rounds(
        times.into_iter().next().unwrap_or_default(),
        n as u64,
        bytes,
    )
}

type EncodeFn = fn(Role, &EncodeInput, &mut Vec<u8>);

fn encode_fn(imp: Imp, frames: bool) -> EncodeFn {
    match (imp, frames) {
        (Imp::Ours, false) => ours::encode,
        (Imp::Tungstenite, false) => tung::encode,
        (Imp::FastWebSockets, false) => fws::encode,
        (Imp::Ours, true) => ours::encode_frames,
        (Imp::Tungstenite, true) => tung::encode_frames,
        (Imp::FastWebSockets, true) => fws::encode_frames,
    }
}

/// An encoding workload: `role` sends `input.messages` binary messages, each written to
/// a pre-reserved sink before the next is queued (message level), or (`frames`) each
/// frame appended to the sink by the frame layer.
pub fn encode(role: Role, input: &EncodeInput, frames: bool, s: &Settings) -> Vec<Measured> {
    let mut sinks: Vec<Vec<u8>> = Imp::ALL
        .iter()
        .map(|_| Vec::with_capacity(input.wire_bytes + 64))
        .collect();
    let round = |imp: Imp, sinks: &mut Vec<Vec<u8>>, full: bool| {
        let sink = &mut sinks[imp as usize];
        sink.clear();
        let f = encode_fn(imp, frames);
        let start = Instant::now();
        f(role, input, sink);
        let elapsed = start.elapsed();
        if sink.len() != input.wire_bytes {
            let got = sink.len();
            fail(
                imp,
                &format!("wrote {got} bytes, expected {}", input.wire_bytes),
            );
        }
        if full {
            match tally_wire(role, sink) {
                Ok(t) if t == input.expect.full => {}
                Ok(t) => fail(
                    imp,
                    &format!("peer decoded {t:?}, expected {:?}", input.expect.full),
                ),
                Err(e) => fail(imp, &format!("peer could not decode the output: {e}")),
            }
        }
        elapsed
    };
    for imp in Imp::ALL {
        round(imp, &mut sinks, true);
    }
    let times = interleave(&Imp::ALL, s.rounds, |imp, _| round(imp, &mut sinks, false));
    times
        .into_iter()
        .map(|t| Measured::from_rounds(t, input.messages as u64, input.payload_bytes))
        .collect()
}

/// The masking functions compared; the references are not WebSocket implementations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskFn {
    Ours,
    FastWebSockets,
    /// `copy_from_slice` of the same size (a second buffer).
    Memcpy,
    /// A plain loop XORing 8-byte words.
    XorU64,
    /// rfc6455 `mask::copy_masked`: copy and mask in one pass (a second buffer).
    OursCopyMasked,
}

impl MaskFn {
    pub const ALL: [MaskFn; 5] = [
        MaskFn::Ours,
        MaskFn::FastWebSockets,
        MaskFn::Memcpy,
        MaskFn::XorU64,
        MaskFn::OursCopyMasked,
    ];
}

#[inline(never)]
fn memcpy(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(src);
}

#[inline(never)]
fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    rfc6455::mask::copy_masked(dst, src, key, 0);
}

/// The reference: XOR the key, repeated to 8 bytes, over each 8-byte word; the tail
/// byte by byte (8 is a multiple of 4, so the key phase carries over).
#[inline(never)]
pub fn xor_u64(buf: &mut [u8], key: [u8; 4]) {
    let k = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes((&*w).try_into().unwrap()) ^ k;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

fn mask_once(f: MaskFn, buf: &mut [u8], src: &[u8], key: [u8; 4]) {
    match f {
        MaskFn::Ours => ours::mask(buf, key),
        MaskFn::FastWebSockets => fws::mask(buf, key),
        MaskFn::Memcpy => memcpy(buf, src),
        MaskFn::XorU64 => xor_u64(buf, key),
        MaskFn::OursCopyMasked => copy_masked(buf, src, key),
    }
}

/// Check every masking function against a byte-by-byte XOR, at every start phase.
fn verify_mask(len: usize) {
    let key = [0x9c, 0x01, 0xe7, 0x42];
    let src: Vec<u8> = (0..len + 3).map(|i| (i * 131 + 7) as u8).collect();
    for skew in 0..4 {
        let src = &src[skew..skew + len];
        let want: Vec<u8> = src
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        for f in MaskFn::ALL {
            let mut buf = if matches!(f, MaskFn::Memcpy | MaskFn::OursCopyMasked) {
                vec![0; len]
            } else {
                src.to_vec()
            };
            mask_once(f, &mut buf, src, key);
            let expected = if f == MaskFn::Memcpy { src } else { &want[..] };
            if buf != expected {
                eprintln!("FAILED: masking function {f:?} is wrong at length {len}, skew {skew}");
                std::process::exit(1);
            }
        }
    }
}

/// Each masking function over a `len`-byte buffer, repeated to about `s.mask_bytes`
/// per round. The buffer stays cache-hot (as a payload just read from a socket is).
/// The buffer (masked in place, or the destination of the copying functions) starts
/// half a page past a page boundary and the copy source on one: 64-byte aligned, and
/// clear of the `memcpy` slow case described at [`decode`].
pub fn mask(len: usize, s: &Settings) -> Vec<(MaskFn, Measured)> {
    verify_mask(len);
    let calls = (s.mask_bytes / len).max(1);
    let span = len.div_ceil(PAGE) * PAGE;
    let mut arena = vec![0u8; 2 * span + 3 * PAGE];
    let at = page_offset(&arena, 0);
    let (src, buf) = arena[at..].split_at_mut(span);
    let src = &mut src[..len];
    src.fill(0xA5);
    let buf = &mut buf[PAGE / 2..PAGE / 2 + len];
    let src = &*src;
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let round = |f: MaskFn, buf: &mut [u8]| match f {
        MaskFn::Ours => timed(calls, buf, |b| ours::mask(b, black_box(key))),
        MaskFn::FastWebSockets => timed(calls, buf, |b| fws::mask(b, black_box(key))),
        MaskFn::Memcpy => timed(calls, buf, |b| memcpy(b, black_box(src))),
        MaskFn::XorU64 => timed(calls, buf, |b| xor_u64(b, black_box(key))),
        MaskFn::OursCopyMasked => timed(calls, buf, |b| {
            copy_masked(b, black_box(src), black_box(key))
        }),
    };
    for f in MaskFn::ALL {
        round(f, buf);
    }
    let times = interleave(&MaskFn::ALL, s.rounds, |f, _| round(f, buf));
    MaskFn::ALL
        .into_iter()
        .zip(times)
        .map(|(f, t)| {
            (
                f,
                Measured::from_rounds(t, calls as u64, (calls * len) as u64),
            )
        })
        .collect()
}

/// `calls` direct calls of `f` on `buf`, hidden from the optimizer between calls.
#[inline(always)]
fn timed(calls: usize, buf: &mut [u8], mut f: impl FnMut(&mut [u8])) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        f(black_box(&mut *buf));
    }
    start.elapsed()
}

fn fail(imp: Imp, what: &str) -> ! {
    eprintln!("FAILED: {} {what}", imp.name());
    std::process::exit(1);
}
