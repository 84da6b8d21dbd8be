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

use super::backend::{Compress, Decompress, Decompressor, Flush, Matches, MinizCompressor};

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

    /// Drop the context between two messages, as if the last one had ended with a full
    /// flush: the next message refers to nothing sent before it (RFC 7692 section 7.2.1
    /// lets a sender do so at any time). For a message the peer's window took in that
    /// this compressor did not see, e.g. one compressed once for many connections.
    pub(crate) fn forget_context(&mut self) {
        debug_assert!(!self.in_message, "between messages only");
        if let Some(backend) = &mut self.backend {
            backend.forget();
        }
        self.since_full = 0;
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

/// The peer's direction on the build's decompressor (miniz_oxide's, or zlib-rs's with
/// `deflate-zlib-rs`).
pub(crate) type Inflater = InflaterOn<Decompressor>;

/// The peer's direction: decompresses its messages, on the backend `D`.
///
/// The window is always DEFLATE's largest, 32 KiB, so it inflates whatever the peer's
/// window size; a distance beyond the window the peer agreed to is not detected. On
/// miniz_oxide neither is one before the start of the message without context takeover
/// (it reads earlier output of the same peer, or zeros, never anything else); zlib-rs
/// (`deflate-zlib-rs`) finds that invalid, as it does any distance before the start of its
/// stream.
#[derive(Debug)]
pub(crate) struct InflaterOn<D> {
    takeover: bool,
    backend: Option<D>,
    /// How many bytes of [`TAIL`] the current message has fed.
    tail_fed: usize,
    /// A message is in progress: `inflate` was called since its last `done` with `last`.
    in_message: bool,
    /// The data was invalid: every later call fails too.
    failed: bool,
}

impl<D: Decompress> InflaterOn<D> {
    /// A decompressor for a peer whose window is at most `2^window_bits` bytes; `takeover`:
    /// the peer keeps its context between messages, so ours must too. Allocates nothing
    /// until the first message.
    pub(crate) fn new(window_bits: u8, takeover: bool) -> Self {
        // Every window up to 32 KiB inflates with the backend's 32 KiB one.
        debug_assert!((8..=15).contains(&window_bits), "window bits {window_bits}");
        InflaterOn {
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
        let backend = self.backend.get_or_insert_with(D::new);
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
pub(super) mod tests;
