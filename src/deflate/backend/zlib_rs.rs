//! zlib-rs's raw inflate behind [`Decompress`] (feature `deflate-zlib-rs`), through its safe
//! `Inflate` API: no `unsafe` here.

use zlib_rs::{Inflate, InflateFlush, Status};

use super::{Decompress, Step};
use crate::deflate::codec::InflateError;

/// Heap bytes one zlib-rs `Inflate` owns: a single block, allocated when it is created,
/// holding its state (with its code tables) and a 32 KiB window (+ 64 bytes of padding for
/// SIMD copies), 64-byte aligned (zlib-rs 0.6's `InflateAllocOffsets`). The window is
/// always 32 KiB, whatever the window bits. Not computable from outside (the state's type
/// is private): this is what a counting allocator saw on x86_64, and the unit tests check
/// it there, so a change in zlib-rs shows up; elsewhere it is off by the state's pointer
/// sizes at most.
const ZLIB_RS_INFLATE_HEAP: usize = 47_552;

/// zlib-rs's decompressor (raw DEFLATE, 32 KiB window).
pub(crate) struct ZlibRsDecompressor {
    inner: Inflate,
    /// zlib does not say whether it holds output back when `out` is full: the decompressor
    /// then asks for one more byte, and keeps it here to hand out first on the next call.
    peeked: Option<u8>,
    /// The stream's final block has ended.
    ended: bool,
    /// The data was invalid.
    failed: bool,
}

impl core::fmt::Debug for ZlibRsDecompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZlibRsDecompressor")
            .field("peeked", &self.peeked)
            .field("ended", &self.ended)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl ZlibRsDecompressor {
    /// One call of zlib-rs's inflate: (input used, output written, stream ended).
    fn call(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize, bool), InflateError> {
        let (in0, out0) = (self.inner.total_in(), self.inner.total_out());
        let status = self.inner.decompress(input, out, InflateFlush::NoFlush);
        // Both totals grow by at most the slices' lengths, which are `usize`s.
        let used = (self.inner.total_in() - in0) as usize;
        let written = (self.inner.total_out() - out0) as usize;
        match status {
            Ok(Status::StreamEnd) => Ok((used, written, true)),
            Ok(Status::Ok | Status::BufError) => Ok((used, written, false)),
            Err(_) => {
                self.failed = true;
                Err(InflateError)
            }
        }
    }
}

impl Decompress for ZlibRsDecompressor {
    fn new() -> Self {
        ZlibRsDecompressor {
            inner: Inflate::new(false, 15),
            peeked: None,
            ended: false,
            failed: false,
        }
    }

    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, InflateError> {
        if self.failed {
            return Err(InflateError);
        }
        let mut consumed = 0;
        let mut produced = 0;
        if let (Some(byte), Some(first)) = (self.peeked, out.first_mut()) {
            *first = byte;
            self.peeked = None;
            produced = 1;
        }
        while self.peeked.is_none() && !self.ended {
            let rest = &input[consumed..];
            let room = out.len() - produced;
            let (used, written, end) = if room == 0 {
                // `out` is full: is anything held back? Ask for one byte more.
                let mut one = [0u8; 1];
                let r = self.call(rest, &mut one)?;
                if r.1 == 1 {
                    self.peeked = Some(one[0]);
                }
                r
            } else {
                let r = self.call(rest, &mut out[produced..])?;
                produced += r.1;
                r
            };
            consumed += used;
            self.ended = end;
            // zlib returns with room left in `out` only when it has used all of its
            // input (or the stream ended): then nothing is held and the call is done. A
            // call that gets nowhere with input left cannot happen, but would loop forever
            // in the codec.
            let room_left = written < room;
            if room_left || (room == 0 && used == 0 && written == 0) {
                if consumed < input.len() && !end && used == 0 && written == 0 {
                    self.failed = true;
                    return Err(InflateError);
                }
                if consumed == input.len() || end {
                    break;
                }
            }
        }
        Ok(Step {
            consumed,
            produced,
            held: self.peeked.is_some(),
            ended: self.ended,
        })
    }

    fn restart(&mut self) {
        // A new raw stream, 32 KiB window; zlib's reset keeps the allocation.
        self.inner.reset(false);
        self.ended = false;
    }

    fn heap_bytes(&self) -> usize {
        ZLIB_RS_INFLATE_HEAP
    }
}

#[cfg(test)]
mod tests;
