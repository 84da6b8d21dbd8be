//! Unit tests of `codec.rs`.
use super::*;
use alloc::vec;
use std::format;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::string::{String, ToString};

mod context;

/// A small deterministic generator (xorshift64*), so failures repeat (the backends' tests
/// use it too).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A size in `1..=max`, spread over the orders of magnitude.
    pub(crate) fn size(&mut self, max: usize) -> usize {
        let bits = self.below(usize::BITS as usize - max.leading_zeros() as usize + 1);
        1 + self.below((1usize << bits).min(max))
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Random bytes repeated with period `period`: the only matches are `period` back.
fn periodic(rng: &mut Rng, period: usize, len: usize) -> Vec<u8> {
    let unit = rng.bytes(period);
    unit.iter().copied().cycle().take(len).collect()
}

/// Text shaped like a JSON API's records.
fn json(rng: &mut Rng, len: usize) -> Vec<u8> {
    const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "eve", "mallory"];
    const TAGS: [&str; 4] = ["admin", "user", "ops", "dev"];
    let mut s = String::from("[");
    while s.len() < len {
        let r = rng.next();
        s += &format!(
            "{{\"id\":{},\"name\":\"{}_{}\",\"tags\":[\"{}\"],\"score\":{}.{:03},\"on\":{}}},",
            r % 100_000,
            NAMES[(r >> 20) as usize % NAMES.len()],
            (r >> 24) % 1000,
            TAGS[(r >> 30) as usize % TAGS.len()],
            (r >> 40) % 100,
            (r >> 48) % 1000,
            r >> 63 == 1
        );
    }
    s.truncate(len);
    s.into_bytes()
}

/// Compress `message` in random pieces (`fin` on the last), checking each call against
/// `Deflater::bound`; returns the frames' payloads.
fn compress_pieces(d: &mut Deflater, message: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut rest = message;
    loop {
        let n = if rng.below(3) == 0 {
            rest.len()
        } else {
            rng.size(rest.len().max(1)).min(rest.len())
        };
        let (now, later) = rest.split_at(n);
        let fin = later.is_empty();
        let mut out = Vec::new();
        d.compress(now, fin, &mut out);
        assert!(
            out.len() <= Deflater::bound(now.len()),
            "bound for {}",
            now.len()
        );
        frames.push(out);
        rest = later;
        if fin {
            return frames;
        }
    }
}

/// Inflate one message's payload given in random pieces, into random room (down to 1
/// byte), checking each call's promises; returns the message.
fn inflate_pieces(
    inf: &mut Inflater,
    payload: &[u8],
    rng: &mut Rng,
) -> Result<Vec<u8>, InflateError> {
    let mut message = Vec::new();
    let mut rest = payload;
    loop {
        let n = rng.size(rest.len().max(1)).min(rest.len());
        let (mut piece, later) = rest.split_at(n);
        let last = later.is_empty();
        for _ in 0..10_000_000 {
            let mut out = vec![0xaa; rng.size(1 << 17)];
            let p = inf.inflate(piece, &mut out, last)?;
            assert!(p.consumed <= piece.len() && p.produced <= out.len());
            message.extend_from_slice(&out[..p.produced]);
            piece = &piece[p.consumed..];
            if p.done {
                assert!(piece.is_empty(), "done with input left");
                break;
            }
        }
        assert!(piece.is_empty(), "no end");
        rest = later;
        if last {
            return Ok(message);
        }
    }
}

fn payloads(rng: &mut Rng, size: usize) -> [Vec<u8>; 3] {
    [rng.bytes(size), periodic(rng, 7, size), json(rng, size)]
}

#[test]
fn round_trips() {
    let mut rng = Rng(0x5eed);
    let sizes = [
        0,
        1,
        100,
        32 * 1024 - 1,
        32 * 1024,
        32 * 1024 + 1,
        200 * 1024,
    ];
    for level in [0, 1, 6, 9] {
        for bits in [8, 9, 12, 15] {
            for takeover in [false, true] {
                let mut d = Deflater::new(level, bits, takeover);
                let mut inf = Inflater::new(bits, takeover);
                for &size in &sizes {
                    for message in payloads(&mut rng, size) {
                        let frames = compress_pieces(&mut d, &message, &mut rng);
                        let payload = frames.concat();
                        let back = inflate_pieces(&mut inf, &payload, &mut rng).unwrap();
                        assert!(back == message, "level {level} bits {bits} size {size}");
                    }
                }
            }
        }
    }
}

#[test]
fn empty_message_is_a_valid_payload() {
    for takeover in [false, true] {
        let mut d = Deflater::new(6, 15, takeover);
        let mut inf = Inflater::new(15, takeover);
        for _ in 0..3 {
            let mut out = Vec::new();
            d.compress(&[], true, &mut out);
            assert!(!out.is_empty() && out.len() <= 2, "{out:02x?}");
            let mut room = [0u8; 8];
            let p = inf.inflate(&out, &mut room, true).unwrap();
            assert_eq!((p.consumed, p.produced, p.done), (out.len(), 0, true));
        }
    }
}

/// `done` is exact: with 1 byte of room, the call that writes the message's last byte
/// is the one that says `done`, and every call before it does not.
#[test]
fn done_is_exact_with_one_byte_of_room() {
    let mut rng = Rng(7);
    for level in [0, 1, 9] {
        for takeover in [false, true] {
            let mut d = Deflater::new(level, 15, takeover);
            let mut inf = Inflater::new(15, takeover);
            for size in [1, 2, 3, 300, 40_000, 70_000] {
                for message in payloads(&mut rng, size) {
                    let mut payload = Vec::new();
                    d.compress(&message, true, &mut payload);
                    let mut input = &payload[..];
                    for (i, &expected) in message.iter().enumerate() {
                        let mut room = [0u8; 1];
                        let p = inf.inflate(input, &mut room, true).unwrap();
                        assert_eq!((p.produced, room[0]), (1, expected));
                        assert_eq!(p.done, i + 1 == message.len(), "byte {i} of {size}");
                        input = &input[p.consumed..];
                    }
                    assert!(input.is_empty());
                }
            }
        }
    }
}

/// Without `last`, `done` means the piece's input is used up and everything it holds
/// is handed out, also when that fills `out` exactly.
#[test]
fn done_when_output_fills_exactly() {
    let mut rng = Rng(11);
    let message = json(&mut rng, 5000);
    let mut d = Deflater::new(6, 15, true);
    let mut first = Vec::new();
    d.compress(&message[..3000], false, &mut first);
    let mut second = Vec::new();
    d.compress(&message[3000..], true, &mut second);
    let mut inf = Inflater::new(15, true);
    let mut out = vec![0; 3000];
    let p = inf.inflate(&first, &mut out, false).unwrap();
    assert_eq!((p.consumed, p.produced, p.done), (first.len(), 3000, true));
    let mut rest = vec![0; 2000];
    let p = inf.inflate(&second, &mut rest, true).unwrap();
    assert_eq!((p.consumed, p.produced, p.done), (second.len(), 2000, true));
    assert!(out == message[..3000] && rest == message[3000..]);
}

/// A message ending in a final block (BFINAL), and one made of two streams, inflate
/// to the whole message; the next message (with takeover) starts a new stream.
#[test]
fn final_blocks_inside_a_message() {
    let mut rng = Rng(3);
    let a = json(&mut rng, 10_000);
    let b = json(&mut rng, 7_000);
    // miniz_oxide's one-shot compression ends its stream with a final block.
    let stream_a = miniz_oxide::deflate::compress_to_vec(&a, 6);
    let mut d = Deflater::new(6, 15, false);
    let mut stream_b = Vec::new();
    d.compress(&b, true, &mut stream_b);
    let stream_b_final = miniz_oxide::deflate::compress_to_vec(&b, 1);
    let cases: [(Vec<u8>, Vec<u8>); 4] = [
        (stream_a.clone(), a.clone()),
        ([&stream_a[..], &stream_b].concat(), [&a[..], &b].concat()),
        (
            [&stream_a[..], &stream_b_final].concat(),
            [&a[..], &b].concat(),
        ),
        // After a final block, an empty stream ended by the tail.
        ([&stream_a[..], &[0x00]].concat(), a.clone()),
    ];
    for takeover in [false, true] {
        let mut inf = Inflater::new(15, takeover);
        for _ in 0..2 {
            for (payload, message) in &cases {
                let back = inflate_pieces(&mut inf, payload, &mut rng).unwrap();
                assert!(
                    back == *message,
                    "takeover {takeover}: {} of {}, first difference at {:?}",
                    back.len(),
                    message.len(),
                    back.iter().zip(message.iter()).position(|(a, b)| a != b)
                );
            }
        }
    }
}

/// DEFLATE bits from `(value, bit count, huffman)` fields: header fields go least
/// significant bit first, Huffman codes most significant bit first (RFC 1951 section
/// 3.1.1); the last byte is padded with zeros.
pub(crate) fn pack_bits(fields: &[(u32, u32, bool)]) -> Vec<u8> {
    let mut bits: Vec<bool> = Vec::new();
    for &(value, n, huffman) in fields {
        for i in 0..n {
            let shift = if huffman { n - 1 - i } else { i };
            bits.push(value >> shift & 1 == 1);
        }
    }
    bits.chunks(8)
        .map(|byte| {
            byte.iter()
                .rev()
                .fold(0u8, |acc, &b| acc << 1 | u8::from(b))
        })
        .collect()
}

/// BFINAL, fixed Huffman codes, the literal 'a', length code 257, distance code 30.
fn fixed_block_with_distance_code_30() -> Vec<u8> {
    pack_bits(&[
        (1, 1, false),
        (1, 2, false),
        (0x30 + u32::from(b'a'), 8, true),
        (257 - 256, 7, true),
        (30, 5, true),
    ])
}

#[test]
fn invalid_data_fails() {
    let mut rng = Rng(5);
    let mut good = Vec::new();
    Deflater::new(6, 15, false).compress(&json(&mut rng, 2000), true, &mut good);
    let cases: [&[u8]; 4] = [
        // Block type 3 (reserved).
        &[0xff, 0xff, 0xff],
        // A stored block whose length and its complement disagree.
        &[0x00, 0x05, 0x00, 0x00, 0x00],
        // A fixed block with 'a', then a match with distance code 30 (reserved).
        &fixed_block_with_distance_code_30(),
        &good[..good.len() / 2],
    ];
    for (i, payload) in cases.iter().enumerate() {
        let mut inf = Inflater::new(15, false);
        let mut out = vec![0; 1 << 16];
        let mut failed = inf.inflate(payload, &mut out, true).is_err();
        if i == 3 {
            // Half a stream is not invalid by itself; followed by garbage it is.
            failed = inf.inflate(&[0xff; 8], &mut out, true).is_err();
        }
        assert!(failed, "case {i}");
        // And it stays failed.
        assert_eq!(inf.inflate(&good, &mut [0; 16], true), Err(InflateError));
    }
}

/// 1 MiB of zeros inflated into 64 KiB of room: every call writes at most that, and
/// only the call that writes the last byte is `done`.
#[test]
fn bomb_is_inflated_in_bounded_steps() {
    let zeros = vec![0u8; 1 << 20];
    let mut payload = Vec::new();
    Deflater::new(9, 15, false).compress(&zeros, true, &mut payload);
    assert!(payload.len() < 2048, "{}", payload.len());
    let mut inf = Inflater::new(15, false);
    let mut input = &payload[..];
    let mut total = 0;
    let mut calls = 0;
    loop {
        let mut out = vec![1u8; 1 << 16];
        let p = inf.inflate(input, &mut out, true).unwrap();
        calls += 1;
        assert!(p.produced <= out.len() && out[..p.produced].iter().all(|&b| b == 0));
        total += p.produced;
        input = &input[p.consumed..];
        if p.done {
            break;
        }
        assert!(calls < 100);
    }
    assert_eq!((total, calls), (1 << 20, 16));
}

/// `bound` holds for incompressible input of many sizes, whole and in pieces, at every
/// window size, with and without takeover, for stored blocks, the fast path (1), greedy
/// (2) and lazy (6, 9) matching.
#[test]
fn bound_holds_for_random_input() {
    let mut rng = Rng(13);
    let sizes = [
        0, 1, 2, 31, 32, 33, 47, 48, 49, 100, 255, 256, 257, 511, 512, 513, 1000, 4095, 4096, 4097,
        16383, 16384, 16385, 31743, 31744, 32767, 32768, 32769, 65535, 65536, 65537, 100_000,
        140_000,
    ];
    let mut worst = 0usize;
    for level in [0, 1, 2, 6, 9] {
        for bits in 8..=15 {
            for takeover in [false, true] {
                let mut d = Deflater::new(level, bits, takeover);
                for &size in &sizes {
                    let input = rng.bytes(size);
                    // An odd start, so chunks do not line up with the calls.
                    let mut out = Vec::new();
                    d.compress(&input[..size / 3], false, &mut out);
                    assert!(out.len() <= Deflater::bound(size / 3));
                    out.clear();
                    d.compress(&input[size / 3..], true, &mut out);
                    let n = size - size / 3;
                    assert!(out.len() <= Deflater::bound(n), "{level} {bits} {n}");
                    worst = worst.max(out.len().saturating_sub(n));
                }
            }
        }
    }
    std::eprintln!("largest expansion seen: {worst} bytes");
}

/// zlib (Python's) inflating messages as RFC 7692 says, with a window of `2^bits`
/// bytes, strictly: it hands out one byte per call, so every match must reach into
/// its window (in one call with room, zlib also accepts matches into the output it is
/// writing). With `takeover` one decompressor inflates all messages.
const STRICT_ZLIB: &str = r#"
import struct, sys, zlib
data = sys.stdin.buffer.read()
bits, takeover, pos = data[0], data[1], 2
out, d = [], None
while pos < len(data):
    (n,) = struct.unpack_from('<I', data, pos)
    msg = data[pos + 4:pos + 4 + n] + b'\x00\x00\xff\xff'
    pos += 4 + n
    if d is None or not takeover:
        d = zlib.decompressobj(wbits=-bits)
    parts = []
    try:
        while True:
            part = d.decompress(msg, 1)
            msg = d.unconsumed_tail
            parts.append(part)
            if not part and not msg:
                break
    except zlib.error as e:
        sys.stderr.write(str(e))
        sys.exit(3)
    got = b''.join(parts)
    out.append(struct.pack('<I', len(got)) + got)
sys.stdout.buffer.write(b''.join(out))
"#;

/// The messages as [`STRICT_ZLIB`] inflates them, or its error; `None`: no python3.
fn strict_zlib(
    bits: u8,
    takeover: bool,
    messages: &[Vec<u8>],
) -> Option<Result<Vec<Vec<u8>>, String>> {
    let mut input = vec![bits, u8::from(takeover)];
    for m in messages {
        input.extend_from_slice(&(m.len() as u32).to_le_bytes());
        input.extend_from_slice(m);
    }
    let mut child = match Command::new("python3")
        .args(["-c", STRICT_ZLIB])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("python3: {e}"),
    };
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    if !output.status.success() {
        return Some(Err(String::from_utf8_lossy(&output.stderr).to_string()));
    }
    let mut decoded = Vec::new();
    let mut rest = &output.stdout[..];
    while !rest.is_empty() {
        let n = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        decoded.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    Some(Ok(decoded))
}

/// The window proof: for every window size, what `Deflater` emits inflates in zlib
/// with that window, message after message with takeover (and without), for random,
/// periodic (matches just beyond the window, the worst case), JSON-like and constant
/// payloads, each sent twice so that matches could reach back into the previous
/// message too. The control shows the oracle rejects plain miniz_oxide output for each
/// window below 32 KiB, so the proof cannot pass vacuously.
#[test]
fn every_window_size_inflates_in_zlib() {
    let mut rng = Rng(0x2f);
    for bits in 8u8..=15 {
        let window = 1usize << bits;
        let mut payloads = vec![rng.bytes(3000)];
        for period in [window - 1, window, window + 1, window + 2, window + 3] {
            payloads.push(periodic(&mut rng, period, 3 * window + 500));
        }
        payloads.push(json(&mut rng, (3 * window).max(20_000)));
        payloads.push(vec![b'x'; 5000]);
        let messages: Vec<Vec<u8>> = payloads
            .iter()
            .flat_map(|p| [p.clone(), p.clone()])
            .collect();
        let settings = [
            (0, true),
            (1, true),
            (2, true),
            (6, true),
            (9, true),
            (1, false),
            (9, false),
        ];
        for (level, takeover) in settings {
            let mut d = Deflater::new(level, bits, takeover);
            let compressed: Vec<Vec<u8>> = messages
                .iter()
                .map(|m| compress_pieces(&mut d, m, &mut rng).concat())
                .collect();
            let Some(result) = strict_zlib(bits, takeover, &compressed) else {
                std::eprintln!("SKIPPED: python3 is not installed; the window proof did not run");
                return;
            };
            let decoded = result.unwrap_or_else(|e| {
                panic!("zlib with a 2^{bits} window, level {level}, takeover {takeover}: {e}")
            });
            assert!(
                decoded == messages,
                "bits {bits} level {level} takeover {takeover}"
            );
        }
        if bits < 15 {
            // The control: miniz_oxide without full flushes.
            let mut plain = MinizCompressor::new(6, Matches::Any);
            let mut message = Vec::new();
            let payload = periodic(&mut rng, window + 1, 3 * window);
            plain.compress(&payload, Flush::Sync, &mut message);
            message.truncate(message.len() - TAIL.len());
            let verdict = strict_zlib(bits, true, &[message]).unwrap();
            assert!(
                verdict
                    .as_ref()
                    .is_err_and(|e| e.contains("invalid distance too far back")),
                "bits {bits}: {verdict:?}"
            );
        }
    }
}

/// A global allocator counting this thread's live heap bytes, to check `heap_bytes`.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub(super) struct Counting;

    std::thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
    }

    fn grow(by: isize) {
        let _ = LIVE.try_with(|live| live.set(live.get() + by));
    }

    /// This thread's heap bytes allocated and not freed.
    pub(super) fn live() -> isize {
        LIVE.with(Cell::get)
    }

    // SAFETY: every method defers to the system allocator with its own arguments and
    // only counts sizes besides.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grow(layout.size() as isize);
            // SAFETY: the caller's contract is `System.alloc`'s.
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            grow(layout.size() as isize);
            // SAFETY: the caller's contract is `System.alloc_zeroed`'s.
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            grow(-(layout.size() as isize));
            // SAFETY: the caller's contract is `System.dealloc`'s.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            grow(new_size as isize - layout.size() as isize);
            // SAFETY: the caller's contract is `System.realloc`'s.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static COUNTING: counting::Counting = counting::Counting;

/// `heap_bytes` is what the allocator sees: nothing before the first message, the
/// backend after it, given back by `release_idle` without takeover (and kept with it,
/// or in the middle of a message).
#[test]
fn heap_bytes_match_the_allocator() {
    use counting::live;
    let mut rng = Rng(17);
    let message = json(&mut rng, 50_000);
    for level in [0, 1, 2, 6, 9] {
        for bits in [8, 9, 12, 15] {
            for takeover in [false, true] {
                let mut out = Vec::with_capacity(2 * Deflater::bound(message.len()));
                let base = live();
                let mut d = Deflater::new(level, bits, takeover);
                assert_eq!((live() - base, d.heap_bytes()), (0, 0));
                d.compress(&message[..100], false, &mut out);
                let held = d.heap_bytes();
                assert_eq!(live() - base, held as isize, "level {level} bits {bits}");
                assert_eq!(d.release_idle(), 0, "in a message");
                d.compress(&message[100..], true, &mut out);
                assert_eq!((live() - base, d.heap_bytes()), (held as isize, held));
                let released = d.release_idle();
                if takeover {
                    assert_eq!((released, live() - base), (0, held as isize));
                } else {
                    assert_eq!((released, live() - base, d.heap_bytes()), (held, 0, 0));
                }
                if level == 6 && bits == 15 {
                    std::eprintln!("Deflater takeover {takeover}: {held} bytes");
                }
            }
        }
    }
    let mut payload = Vec::new();
    Deflater::new(6, 15, true).compress(&message, true, &mut payload);
    for takeover in [false, true] {
        let mut out = vec![0; message.len()];
        let base = live();
        let mut inf = Inflater::new(15, takeover);
        assert_eq!((live() - base, inf.heap_bytes()), (0, 0));
        let p = inf.inflate(&payload[..10], &mut out, false).unwrap();
        let held = inf.heap_bytes();
        assert_eq!(live() - base, held as isize);
        assert_eq!(inf.release_idle(), 0, "in a message");
        inf.inflate(&payload[p.consumed..], &mut out, true).unwrap();
        assert_eq!((live() - base, inf.heap_bytes()), (held as isize, held));
        let released = inf.release_idle();
        if takeover {
            assert_eq!((released, live() - base), (0, held as isize));
        } else {
            assert_eq!((released, live() - base, inf.heap_bytes()), (held, 0, 0));
        }
        std::eprintln!("Inflater takeover {takeover}: {held} bytes");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any sequence of messages, at any level and window, with or without takeover,
    /// compressed and inflated in random pieces, comes back whole.
    #[test]
    fn any_messages_round_trip(
        level in 0u8..=9,
        bits in 8u8..=15,
        takeover: bool,
        seed: u64,
        messages in proptest::collection::vec(
            (0usize..3, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)),
            1..5,
        ),
    ) {
        let mut rng = Rng(seed | 1);
        let mut d = Deflater::new(level, bits, takeover);
        let mut inf = Inflater::new(bits, takeover);
        for (shape, bytes) in &messages {
            // Raw bytes, or made repetitive so that matches occur.
            let message = match shape {
                0 => bytes.clone(),
                1 => bytes.iter().map(|b| b % 4).collect(),
                _ => bytes.iter().map(|b| b & 0xf0).collect(),
            };
            let payload = compress_pieces(&mut d, &message, &mut rng).concat();
            let back = inflate_pieces(&mut inf, &payload, &mut rng).unwrap();
            proptest::prop_assert_eq!(back, message);
        }
    }
}
