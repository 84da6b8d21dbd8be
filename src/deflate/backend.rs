//! The DEFLATE backends behind a small trait pair: [`Compress`] and [`Decompress`] are
//! what [`codec`](super::codec) needs from a raw DEFLATE (RFC 1951) implementation, and
//! [`MinizCompressor`] and [`MinizDecompressor`] provide them on miniz_oxide. With the
//! feature `deflate-zlib-rs`, [`Decompressor`] (what the codec inflates with) is zlib-rs's
//! instead, chosen at build time; compression stays on miniz_oxide.
//!
//! # Why only inflation moves to zlib-rs
//!
//! Measured with benches/compare (`--only deflate`: the raw backends alone, the same
//! payloads, 32 KiB windows, a sync flush per message; `taskset -c 1`, 3 runs of 101
//! interleaved rounds each on a shared 2-core EPYC) and, as the machine was loaded, with
//! instruction counts under callgrind (`--loop`), zlib-rs 0.6.8 against miniz_oxide 0.9.1:
//! - inflating the same streams (our codec's, level 1): JSON-like text in 1 KiB and 16 KiB
//!   messages, context kept, zlib-rs takes 0.59-0.68 and 0.67-0.85 of miniz_oxide's time
//!   (0.73 and 0.74 of its instructions: 30.0 M against 40.9 M, 14.1 M against 19.0 M per
//!   MiB); random binary in 64 KiB messages (stored blocks), 0.88-0.95 of the time (1.03 of
//!   the instructions).
//! - compressing at level 1 (our default): zlib-rs's level 1 is its "quick" strategy, which
//!   uses fixed Huffman codes only: 0.34-0.66 of the time on JSON, but 7-19 % more output
//!   (0.268 against 0.251 of the input for 1 KiB messages, 0.447 against 0.376 without
//!   context takeover), and on random binary 1.6-2.3 times slower with 5.5 % *more* bytes
//!   than the input (it never falls back to stored blocks, which also breaks
//!   `Deflater::bound`). Its level 2 (dynamic codes, 0.21-0.22 of the input) is 1.1-1.5
//!   times slower than miniz_oxide's level 1 on JSON with context takeover (2.2 times the
//!   instructions for 1 KiB messages), 0.9-1.1 without, and 2.5-3.4 times on random binary.
//!
//! So zlib-rs is clearly faster at inflating, and at compressing only by giving up ratio.

use alloc::boxed::Box;
#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
use alloc::vec;
use alloc::vec::Vec;
use core::mem::size_of;

use miniz_oxide::deflate::core::{
    CompressionStrategy, CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output,
    create_comp_flags_from_zip_params,
};
#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
use miniz_oxide::inflate::{
    TINFLStatus,
    core::{DecompressorOxide, decompress, inflate_flags},
};

use super::codec::InflateError;

/// How a [`Compress::compress`] call ends. Both end on a byte boundary with an empty stored
/// block (`00 00 ff ff`), so everything given so far can be inflated from the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Later input may refer back to what came before.
    Sync,
    /// Later input refers to nothing before this point: no match crosses it (zlib's
    /// `Z_FULL_FLUSH`).
    Full,
}

/// Which matches the compressor may look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Matches {
    /// Any distance the backend's window allows (32 KiB for DEFLATE).
    Any,
    /// Distance 1 only (run-length encoding), so any window of 2 bytes or more can inflate
    /// the output.
    Runs,
}

/// A raw DEFLATE compressor.
pub(crate) trait Compress: Sized {
    /// A compressor at `level` (0 = stored blocks only .. 9) finding `matches`.
    fn new(level: u8, matches: Matches) -> Self;
    /// Compress all of `input` and append the output, ended as `flush` says, to `out`.
    fn compress(&mut self, input: &[u8], flush: Flush, out: &mut Vec<u8>);
    /// Forget everything compressed so far, writing nothing: the next input starts a new
    /// block that refers to nothing before it. Only after a flush (the output is then
    /// byte-aligned and complete).
    fn forget(&mut self);
    /// Heap bytes held.
    fn heap_bytes(&self) -> usize;
}

/// What one [`Decompress::inflate`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Input bytes consumed.
    pub(crate) consumed: usize,
    /// Bytes written to the front of `out`.
    pub(crate) produced: usize,
    /// Decompressed bytes are held back for lack of room in `out`.
    pub(crate) held: bool,
    /// The stream's final block (BFINAL) has ended; this stream takes no more input.
    pub(crate) ended: bool,
}

/// A raw DEFLATE decompressor.
pub(crate) trait Decompress: Sized {
    /// A decompressor at the start of a stream, with an empty window.
    fn new() -> Self;
    /// Decompress from `input` into `out`, writing at most `out.len()` bytes. Returns when
    /// `out` is full with output held back, when `input` is used up and everything it
    /// decompresses to is in `out`, or when the stream ends.
    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, InflateError>;
    /// Start a new stream: the next input begins with a block header. The window may keep
    /// what earlier streams produced.
    fn restart(&mut self);
    /// Heap bytes held.
    fn heap_bytes(&self) -> usize;
}

/// Heap bytes a boxed `CompressorOxide` owns besides itself (miniz_oxide 0.9's layout:
/// `HuffmanOxide`, 3 tables of 288 symbols in `u16` counts, `u16` codes and `u8` sizes; the
/// output staging buffer of 64 KiB * 1.3; the dictionary of 32 KiB + 258 bytes; the hash
/// chain and hash table, 32 Ki `u16` each). The unit tests check it against a counting
/// allocator, so a change of layout in miniz_oxide shows up there.
const MINIZ_COMPRESSOR_BOXES: usize = 3 * 288 * (2 + 2 + 1)
    + 64 * 1024 * 13 / 10
    + (32 * 1024 + 258)
    + 2 * (32 * 1024 * 2)
    // On wasm32 the LZ code buffer is boxed too instead of held inline.
    + if cfg!(target_arch = "wasm32") { 64 * 1024 } else { 0 };

/// miniz_oxide's compressor, writing raw DEFLATE.
pub(crate) struct MinizCompressor {
    inner: Box<CompressorOxide>,
}

impl core::fmt::Debug for MinizCompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MinizCompressor").finish_non_exhaustive()
    }
}

impl Compress for MinizCompressor {
    fn new(level: u8, matches: Matches) -> Self {
        let level = i32::from(level.min(9));
        let flags = match matches {
            Matches::Any => create_comp_flags_from_zip_params(level, -15, 0),
            // miniz_oxide ignores the RLE flag at level 1 (its one-probe greedy path, which
            // finds matches at any distance), so runs-only compression starts at level 2;
            // level 0 stays stored blocks, which have no matches at all.
            Matches::Runs => create_comp_flags_from_zip_params(
                if level == 0 { 0 } else { level.max(2) },
                -15,
                CompressionStrategy::RLE as i32,
            ),
        };
        MinizCompressor {
            inner: Box::new(CompressorOxide::new(flags)),
        }
    }

    fn compress(&mut self, input: &[u8], flush: Flush, out: &mut Vec<u8>) {
        // A full flush is a sync flush and then a fresh start: after a sync flush the output
        // is byte-aligned and complete, so a reset compressor's first block follows it as
        // the next block of the same raw stream, and nothing before it can be referred to.
        // Measured faster than miniz_oxide's own `TDEFLFlush::Full` (which clears only the
        // hash chains): 1 KiB JSON messages without context takeover, ours / raw backend
        // 0.97-1.06 -> 0.81-0.84 (benches/compare --only deflate, 2026-12-02, helper dbench).
        let (status, used) =
            compress_to_output(&mut self.inner, input, TDEFLFlush::Sync, |bytes| {
                out.extend_from_slice(bytes);
                true
            });
        // With an output callback that takes everything, miniz_oxide consumes all input
        // and completes the flush in one call; neither can fail.
        assert!(
            status == TDEFLStatus::Okay && used == input.len(),
            "miniz_oxide compress: {status:?}, {used} of {} bytes",
            input.len()
        );
        if flush == Flush::Full {
            self.forget();
        }
    }

    fn forget(&mut self) {
        self.inner.reset();
    }

    fn heap_bytes(&self) -> usize {
        size_of::<CompressorOxide>() + MINIZ_COMPRESSOR_BOXES
    }
}

#[cfg(feature = "deflate-zlib-rs")]
mod zlib_rs;
#[cfg(feature = "deflate-zlib-rs")]
pub(crate) use zlib_rs::ZlibRsDecompressor;

/// The decompressor the codec inflates with: zlib-rs's with the feature `deflate-zlib-rs`.
#[cfg(feature = "deflate-zlib-rs")]
pub(crate) type Decompressor = ZlibRsDecompressor;
/// The decompressor the codec inflates with: miniz_oxide's (zlib-rs's with the feature
/// `deflate-zlib-rs`).
#[cfg(not(feature = "deflate-zlib-rs"))]
pub(crate) type Decompressor = MinizDecompressor;

/// The decompressor's window: DEFLATE refers at most 32 KiB back.
#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
const WINDOW: usize = 32 * 1024;

/// miniz_oxide's decompressor core with its window kept here, so that how much output is
/// held back is known exactly (miniz_oxide's `InflateState` does not say). With
/// `deflate-zlib-rs` only the tests build it (they compare the two backends).
#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
pub(crate) struct MinizDecompressor {
    core: Box<DecompressorOxide>,
    /// The last `WINDOW` bytes of output, written in a ring.
    window: Box<[u8]>,
    /// Where in `window` the output not yet handed out starts.
    start: usize,
    /// How many bytes of output from `start` on are not yet handed out.
    held: usize,
    /// The core's status after its last call.
    status: TINFLStatus,
}

#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
impl core::fmt::Debug for MinizDecompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MinizDecompressor")
            .field("held", &self.held)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
impl MinizDecompressor {
    /// Copy held output into `out`; returns the bytes copied.
    fn hand_out(&mut self, out: &mut [u8]) -> usize {
        let n = self.held.min(out.len());
        // `start + held` never passes the window's end: the core writes from `start` up to
        // the end at most, and once all of it is handed out, `start` wraps to 0.
        out[..n].copy_from_slice(&self.window[self.start..self.start + n]);
        self.start = (self.start + n) % WINDOW;
        self.held -= n;
        n
    }
}

#[cfg(any(test, not(feature = "deflate-zlib-rs")))]
impl Decompress for MinizDecompressor {
    fn new() -> Self {
        MinizDecompressor {
            core: Box::default(),
            window: vec![0; WINDOW].into_boxed_slice(),
            start: 0,
            held: 0,
            status: TINFLStatus::NeedsMoreInput,
        }
    }

    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, InflateError> {
        if (self.status as i32) < 0 {
            return Err(InflateError);
        }
        let mut consumed = 0;
        let mut produced = 0;
        loop {
            produced += self.hand_out(&mut out[produced..]);
            if self.held > 0 || self.status == TINFLStatus::Done {
                break;
            }
            if consumed == input.len() && self.status != TINFLStatus::HasMoreOutput {
                break;
            }
            // Nothing is held, so the core may write from `start` to the window's end
            // (it wraps by returning `HasMoreOutput` there); even with `out` full, it runs
            // on until it holds output or needs input, so that `held` is exact.
            let had_input = consumed < input.len();
            let (status, used, written) = decompress(
                &mut self.core,
                &input[consumed..],
                &mut self.window,
                self.start,
                inflate_flags::TINFL_FLAG_HAS_MORE_INPUT,
            );
            self.status = status;
            consumed += used;
            self.held = written;
            // A negative status is invalid data. A call that gets nowhere although it had
            // input, or had output to finish, cannot happen, but would loop forever here.
            let stuck =
                used == 0 && written == 0 && (had_input || status == TINFLStatus::HasMoreOutput);
            if (status as i32) < 0 || stuck {
                return Err(InflateError);
            }
        }
        Ok(Step {
            consumed,
            produced,
            held: self.held > 0,
            ended: self.status == TINFLStatus::Done,
        })
    }

    fn restart(&mut self) {
        self.core.init();
        self.status = TINFLStatus::NeedsMoreInput;
    }

    fn heap_bytes(&self) -> usize {
        size_of::<DecompressorOxide>() + WINDOW
    }
}
