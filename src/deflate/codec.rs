//! The per-message compressor and decompressor of one connection (RFC 7692 section 7.2):
//! the sync flush and its `00 00 ff ff` tail, context takeover, window sizes, and
//! inflation into output the caller bounds.
//!
//! # Windows smaller than 32 KiB
//!
//! miniz_oxide always compresses with a 32 KiB window and has no setting for a shorter
//! distance, but a full flush empties its dictionary: no match it finds afterwards reaches
//! back across the flush (every match distance is at most the count of bytes it has moved
//! past since the flush or since it was created). So when the peer inflates with `2^N <
//! 2^15` bytes, [`Deflater`] full-flushes whenever `2^N` bytes have gone in since the last
//! one: the farthest a match can reach is then `2^N - 1` bytes back, across messages too
//! with context takeover. (A match is 3 bytes at least and ends before the flush, so it
//! reaches at most `2^N - 3` back: the margin below the `2^N` that zlib allows. The test
//! below fails when the chunks grow to `2^N + 64`; at `2^N + 4` miniz_oxide did not happen
//! to emit the one match per chunk that would be too far.) The unit tests prove it against zlib (Python's `zlib` with
//! `wbits=-N`) for every `N`, with a control that shows zlib rejecting plain miniz_oxide
//! output.
//!
//! Each full flush clears miniz_oxide's hash table and chain (128 KiB) and starts a new block,
//! so its price grows as `N` shrinks. Compressing 64 KiB of JSON-like text in one message
//! (release build, `taskset -c 1`, medians of 5 runs of 20; the host is noisy, ranges in the
//! report), chunks of `2^N` bytes with a full flush after each:
//!
//! | N  | level 1            | level 6            | level 9            |
//! |----|--------------------|--------------------|--------------------|
//! | 8  | 0.584, 17-22 MB/s  | 0.565, 20-25 MB/s  | 0.565, 19-22 MB/s  |
//! | 9  | 0.448, 37-42 MB/s  | 0.414, 38 MB/s     | 0.414, 24-38 MB/s  |
//! | 12 | 0.284, 55-110 MB/s | 0.216, 61-64 MB/s  | 0.216, 65-66 MB/s  |
//! | 15 | 0.254, 159-200 MB/s (no flushes) | 0.174, 27-35 MB/s | 0.172, 19 MB/s |
//!
//! (compressed/original size, then throughput). Run-length matches only (distance 1, which
//! any window allows, so no flushes) give 0.586 at 49-78 MB/s; Huffman coding alone, 0.586;
//! stored blocks (level 0), 1.000 at 190-315 MB/s. The choice per `N`:
//! - level 0: stored blocks for every `N` (they hold no matches);
//! - `N` = 15: miniz_oxide as it is;
//! - `N` = 8: run-length matches only: chunks of 256 bytes save 3 % of the size at a
//!   third of the speed;
//! - `N` = 9..=14: chunks of `2^N` bytes and full flushes (at `N` = 9 already 0.41-0.45
//!   against 0.59 for runs only).
//!
//! The same through [`Deflater`] later (JSON of another generator, while the host was
//! loaded by other builds: all figures 2-5 times lower, medians of 5 runs of 20, 3 runs):
//! `N` = 8 runs only 0.587 at 11-20 MB/s; `N` = 9 0.427 (level 1) and 0.392 (6, 9) at
//! 6-10 MB/s; `N` = 12 0.272 at 20-27 MB/s (1), 0.212 at 12-14 MB/s (6, 9); `N` = 15 0.244
//! at 39-62 MB/s (1), 0.166 at 5-7 MB/s (6), 0.163 at 2-3 MB/s (9). Without takeover every
//! message ends in a full flush too: a 100-byte message at level 1 took 34-43 us against
//! 8-11 us with takeover (the hash clearing).
//!
//! miniz_oxide's own small-window mode (`CompressorOxide::with_params` with fewer window
//! bits) is not used: it selects level 1 with RLE, and at level 1 miniz_oxide takes its fast
//! path, which ignores RLE and finds matches up to 32 KiB back; for 12..=14 bits it only
//! lowers the level to 1, with the same 32 KiB reach.

use alloc::vec::Vec;

use super::backend::{Compress, Decompress, Flush, Matches, MinizCompressor, MinizDecompressor};

/// The bytes a sync flush ends with, which RFC 7692 section 7.2.1 strips from the end of a
/// message and section 7.2.2 appends again before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest chunk between two full flushes (`N` = 9; `N` = 8 flushes none).
const MIN_CHUNK: usize = 1 << 9;

/// Our sending direction: compresses messages as RFC 7692 section 7.2.1 says.
#[derive(Debug)]
pub(crate) struct Deflater {
    level: u8,
    window_bits: u8,
    takeover: bool,
    backend: Option<MinizCompressor>,
    /// Bytes compressed since the last full flush (or since `backend` was created).
    since_full: usize,
    /// A message is in progress: `compress` was called without `fin` since the last `fin`.
    in_message: bool,
}

impl Deflater {
    /// A compressor for messages the peer inflates with a window of `2^window_bits` bytes
    /// (8..=15): nothing it emits refers further back. `takeover`: keep the LZ77 context
    /// from one message to the next. Allocates nothing until the first message.
    pub(crate) fn new(level: u8, window_bits: u8, takeover: bool) -> Self {
        debug_assert!((8..=15).contains(&window_bits), "window bits {window_bits}");
        Deflater {
            level: level.min(9),
            window_bits: window_bits.clamp(8, 15),
            takeover,
            backend: None,
            since_full: 0,
            in_message: false,
        }
    }

    /// Which matches the backend looks for, and after how many bytes at most it must
    /// full-flush (`None`: never), for this level and window (see the module's comment).
    fn plan(&self) -> (Matches, Option<usize>) {
        match (self.level, self.window_bits) {
            (0, _) | (_, 15..) => (Matches::Any, None),
            (_, ..=8) => (Matches::Runs, None),
            (_, bits) => (Matches::Any, Some(1 << bits)),
        }
    }

    /// Compress the next piece of the current message and append it to `out`. Each call
    /// ends with a flush, so what it appended can be sent as one frame; with `fin` the
    /// message ends, and its trailing `00 00 ff ff` is not appended (section 7.2.1).
    /// Without context takeover, the next message starts from an empty window.
    pub(crate) fn compress(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) {
        let (matches, chunk) = self.plan();
        let level = self.level;
        let backend = self
            .backend
            .get_or_insert_with(|| MinizCompressor::new(level, matches));
        self.in_message = !fin;
        // Without takeover the message's end is a full flush: the next message must not
        // refer to this one.
        let end = if fin && !self.takeover {
            Flush::Full
        } else {
            Flush::Sync
        };
        match chunk {
            None => backend.compress(input, end, out),
            Some(chunk) => {
                let mut rest = input;
                loop {
                    // `since_full < chunk` holds between calls, so there is room.
                    let room = chunk - self.since_full;
                    if rest.len() < room {
                        backend.compress(rest, end, out);
                        self.since_full += rest.len();
                        break;
                    }
                    let (now, later) = rest.split_at(room);
                    backend.compress(now, Flush::Full, out);
                    self.since_full = 0;
                    rest = later;
                    if rest.is_empty() {
                        break;
                    }
                }
            }
        }
        if end == Flush::Full {
            self.since_full = 0;
        }
        if fin {
            assert!(out.ends_with(&TAIL), "a flush ends with 00 00 ff ff");
            out.truncate(out.len() - TAIL.len());
        }
    }

    /// At most how many bytes `compress` appends for `input_len` input bytes, at every
    /// level and window size.
    ///
    /// A call is split at full flushes into pieces, at most `input_len / 512 + 2` of them
    /// (chunks of 512 bytes or more, and a partial one at each end). Each piece is one or
    /// more blocks and an empty stored block (at most 5 bytes with the bits that pad the
    /// block before it). miniz_oxide stores a block of more than 32 bytes whose code is not
    /// shorter (at most 5 bytes of overhead) and codes smaller ones with the fixed Huffman
    /// code (9 bits per byte at most, with a 3-bit header and a 7-bit end), and ends a block
    /// early only after 31 KiB; so a piece costs at most its length and 16 bytes per 512
    /// bytes of it, and 64 bytes cover the partial pieces at the ends. The unit tests check
    /// the bound with incompressible input of many sizes at every level and window size.
    pub(crate) fn bound(input_len: usize) -> usize {
        input_len
            .saturating_add(input_len / (MIN_CHUNK / 16))
            .saturating_add(64)
    }

    /// Release the backend's memory if nothing needs it (no context kept between
    /// messages, none in progress); returns the bytes given back.
    pub(crate) fn release_idle(&mut self) -> usize {
        if self.takeover || self.in_message {
            return 0;
        }
        self.since_full = 0;
        self.backend.take().map_or(0, |b| b.heap_bytes())
    }

    /// Heap bytes held now (for the tests that check it against the allocator).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.backend.as_ref().map_or(0, |b| b.heap_bytes())
    }
}

/// How far one [`Inflater::inflate`] call got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Input bytes consumed.
    pub(crate) consumed: usize,
    /// Output bytes written to the front of `out`.
    pub(crate) produced: usize,
    /// All input given (and with `last`, the message's `00 00 ff ff` tail) is consumed and
    /// nothing decompressed is held back: no further call is needed for it.
    pub(crate) done: bool,
}

/// Invalid DEFLATE data (RFC 7692 section 8 leaves it to the endpoint; the connection
/// fails with 1007).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InflateError;

/// The peer's direction: decompresses its messages.
///
/// The window is always DEFLATE's largest, 32 KiB, so it inflates whatever the peer's
/// window size; a distance beyond the window the peer agreed to, or before the start of its
/// message without context takeover, is not detected (it reads earlier output of the same
/// peer, never anything else).
#[derive(Debug)]
pub(crate) struct Inflater {
    takeover: bool,
    backend: Option<MinizDecompressor>,
    /// How many bytes of [`TAIL`] the current message has fed.
    tail_fed: usize,
    /// A message is in progress: `inflate` was called since its last `done` with `last`.
    in_message: bool,
    /// The data was invalid: every later call fails too.
    failed: bool,
}

impl Inflater {
    /// A decompressor for a peer whose window is at most `2^window_bits` bytes; `takeover`:
    /// the peer keeps its context between messages, so ours must too. Allocates nothing
    /// until the first message.
    pub(crate) fn new(window_bits: u8, takeover: bool) -> Self {
        // Every window up to 32 KiB inflates with the backend's 32 KiB one.
        debug_assert!((8..=15).contains(&window_bits), "window bits {window_bits}");
        Inflater {
            takeover,
            backend: None,
            tail_fed: 0,
            in_message: false,
            failed: false,
        }
    }

    /// Decompress compressed payload bytes of the current message into `out`, writing at
    /// most `out.len()` bytes. `last`: `input` ends the message's payload, so the
    /// `00 00 ff ff` tail is fed after it. Call again with `input[consumed..]` and fresh
    /// room until `done`; a final block (BFINAL) inside a message is followed by a new
    /// stream. When the last piece is `done`, the message is over: without context
    /// takeover the next starts from an empty window.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        last: bool,
    ) -> Result<Progress, InflateError> {
        if self.failed {
            return Err(InflateError);
        }
        let backend = self.backend.get_or_insert_with(MinizDecompressor::new);
        self.in_message = true;
        let mut consumed = 0;
        let mut produced = 0;
        let done = loop {
            let on_tail = consumed == input.len();
            let src = match (on_tail, last) {
                (false, _) => &input[consumed..],
                (true, true) => &TAIL[self.tail_fed..],
                (true, false) => &[][..],
            };
            let step = backend
                .inflate(src, &mut out[produced..])
                .inspect_err(|_| {
                    self.failed = true;
                })?;
            produced += step.produced;
            if on_tail {
                self.tail_fed += step.consumed;
            } else {
                consumed += step.consumed;
            }
            if step.held {
                break false;
            }
            if step.ended {
                if consumed < input.len() {
                    // More follows a final block: a new stream (section 7.2.1 allows it).
                    backend.restart();
                    continue;
                }
                // The tail after a final block belongs to no stream; the next input
                // starts a new one.
                if last {
                    self.tail_fed = TAIL.len();
                }
                break true;
            }
            // The backend consumed all of `src` and holds nothing: with the input done,
            // the tail (when `last`) comes next, after which everything is in.
            if on_tail {
                break true;
            }
        };
        if done && last {
            self.tail_fed = 0;
            self.in_message = false;
            if !self.takeover {
                backend.restart();
            }
        }
        Ok(Progress {
            consumed,
            produced,
            done,
        })
    }

    /// Release the backend's memory if nothing needs it; returns the bytes given back.
    pub(crate) fn release_idle(&mut self) -> usize {
        if self.takeover || self.in_message {
            return 0;
        }
        self.backend.take().map_or(0, |b| b.heap_bytes())
    }

    /// Heap bytes held now (for the tests that check it against the allocator).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.backend.as_ref().map_or(0, |b| b.heap_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use std::format;
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    use std::string::{String, ToString};

    /// A small deterministic generator (xorshift64*), so failures repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Uniform in `0..n` (n > 0).
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        /// A size in `1..=max`, spread over the orders of magnitude.
        fn size(&mut self, max: usize) -> usize {
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

    /// BFINAL, fixed Huffman codes, the literal 'a', length code 257, distance code 30.
    fn fixed_block_with_distance_code_30() -> Vec<u8> {
        let mut bits: Vec<bool> = Vec::new();
        // Header fields go least significant bit first, Huffman codes most significant
        // bit first (RFC 1951 section 3.1.1).
        let mut field = |value: u32, n: u32, huffman: bool| {
            for i in 0..n {
                let shift = if huffman { n - 1 - i } else { i };
                bits.push(value >> shift & 1 == 1);
            }
        };
        field(1, 1, false);
        field(1, 2, false);
        field(0x30 + u32::from(b'a'), 8, true);
        field(257 - 256, 7, true);
        field(30, 5, true);
        bits.chunks(8)
            .map(|byte| {
                byte.iter()
                    .rev()
                    .fold(0u8, |acc, &b| acc << 1 | u8::from(b))
            })
            .collect()
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
            0, 1, 2, 31, 32, 33, 47, 48, 49, 100, 255, 256, 257, 511, 512, 513, 1000, 4095, 4096,
            4097, 16383, 16384, 16385, 31743, 31744, 32767, 32768, 32769, 65535, 65536, 65537,
            100_000, 140_000,
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
                    std::eprintln!(
                        "SKIPPED: python3 is not installed; the window proof did not run"
                    );
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
}
