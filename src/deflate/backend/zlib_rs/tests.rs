//! zlib-rs's decompressor against miniz_oxide's, through the codec's `Inflater`: the same
//! payloads in the same pieces into the same room give the same output, call by call.

use super::*;
use crate::deflate::backend::MinizDecompressor;
use crate::deflate::codec::tests::{Rng, pack_bits};
use crate::deflate::codec::{Deflater, InflaterOn, Progress};
use alloc::vec;
use alloc::vec::Vec;

// More of the codec tests' generator: messages of every shape.
impl Rng {
    fn message(&mut self) -> Vec<u8> {
        let len = self.size(80_000) - 1;
        match self.below(4) {
            0 => (0..len).map(|_| self.next() as u8).collect(),
            1 => vec![self.next() as u8; len],
            // Text from a few words: matches at many distances.
            2 => {
                const WORDS: [&[u8]; 6] =
                    [b"{\"id\":", b"\"name\":", b"alice", b"bob,", b" ", b"}"];
                let mut v = Vec::new();
                while v.len() < len {
                    v.extend_from_slice(WORDS[self.below(WORDS.len())]);
                }
                v.truncate(len);
                v
            }
            _ => {
                let period = self.size(40_000);
                let unit: Vec<u8> = (0..period).map(|_| self.next() as u8).collect();
                unit.iter().copied().cycle().take(len).collect()
            }
        }
    }
}

/// What one `inflate` call gave: (produced bytes, done), or the error.
type Call = Result<(Vec<u8>, bool), InflateError>;

/// Feed `payload` to `inf` in the pieces `cuts` gives and into the room `rooms` gives
/// (both replayed identically for each backend); every call's result.
fn replay<D: Decompress>(
    inf: &mut InflaterOn<D>,
    payload: &[u8],
    cuts: &[usize],
    rooms: &mut impl FnMut() -> usize,
) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut at = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        let last = i + 1 == cuts.len();
        let mut piece = &payload[at..cut];
        at = cut;
        loop {
            let mut out = vec![0; rooms()];
            match inf.inflate(piece, &mut out, last) {
                Err(e) => {
                    calls.push(Err(e));
                    return calls;
                }
                Ok(Progress {
                    consumed,
                    produced,
                    done,
                }) => {
                    piece = &piece[consumed..];
                    calls.push(Ok((out[..produced].to_vec(), done)));
                    if done {
                        break;
                    }
                    assert!(calls.len() < 1_000_000, "no end");
                }
            }
        }
    }
    calls
}

/// Valid streams (the codec's own, every level and window, with and without takeover):
/// both backends produce the same bytes and the same `done` in every call.
#[test]
fn same_output_call_by_call_as_miniz_oxide() {
    let mut rng = Rng(0x5eed);
    for case in 0..120 {
        let level = rng.below(10) as u8;
        let bits = 8 + rng.below(8) as u8;
        let takeover = rng.below(2) == 0;
        let mut d = Deflater::new(level, bits, takeover);
        let mut miniz = InflaterOn::<MinizDecompressor>::new(bits, takeover);
        let mut zlib = InflaterOn::<ZlibRsDecompressor>::new(bits, takeover);
        for _ in 0..1 + rng.below(4) {
            let message = rng.message();
            let mut payload = Vec::new();
            d.compress(&message, true, &mut payload);
            let mut cuts: Vec<usize> = (0..rng.below(4))
                .map(|_| rng.below(payload.len() + 1))
                .collect();
            cuts.push(payload.len());
            cuts.sort_unstable();
            let seed = rng.next();
            let room = |seed: u64| {
                let mut r = Rng(seed | 1);
                move || r.size(1 << 17)
            };
            let a = replay(&mut miniz, &payload, &cuts, &mut room(seed));
            let b = replay(&mut zlib, &payload, &cuts, &mut room(seed));
            assert!(
                a == b,
                "case {case}: level {level} bits {bits} takeover {takeover}"
            );
            let back: Vec<u8> = b.into_iter().flat_map(|c| c.unwrap().0).collect();
            assert!(back == message, "case {case}");
        }
    }
}

/// Corrupted streams: where miniz_oxide finds the data invalid, so does zlib-rs, and
/// where neither does, both inflate the same bytes. (zlib-rs may fail where miniz_oxide
/// does not: it checks every distance against the output it has, miniz_oxide's ring
/// window reads its initial zeros instead.)
#[test]
fn corrupt_streams_fail_in_zlib_rs_where_they_fail_in_miniz_oxide() {
    let mut rng = Rng(0xbad);
    let (mut both, mut zlib_only) = (0, 0);
    for case in 0..400 {
        let level = 1 + rng.below(9) as u8;
        let mut payload = Vec::new();
        Deflater::new(level, 15, false).compress(&rng.message(), true, &mut payload);
        for _ in 0..1 + rng.below(4) {
            if payload.is_empty() {
                break;
            }
            let at = rng.below(payload.len());
            payload[at] ^= 1 << rng.below(8);
        }
        let cuts = [payload.len()];
        let seed = rng.next();
        let room = |seed: u64| {
            let mut r = Rng(seed | 1);
            move || r.size(1 << 17)
        };
        let a = replay(
            &mut InflaterOn::<MinizDecompressor>::new(15, false),
            &payload,
            &cuts,
            &mut room(seed),
        );
        let b = replay(
            &mut InflaterOn::<ZlibRsDecompressor>::new(15, false),
            &payload,
            &cuts,
            &mut room(seed),
        );
        let failed = |calls: &[Call]| calls.last().is_some_and(Result::is_err);
        match (failed(&a), failed(&b)) {
            (true, true) => both += 1,
            (false, true) => zlib_only += 1,
            (true, false) => panic!("case {case}: only miniz_oxide found it invalid"),
            (false, false) => assert!(a == b, "case {case}"),
        }
    }
    // The corruptions are not all harmless.
    assert!(both > 50, "{both} both, {zlib_only} zlib-rs only");
}

/// A match reaching before the first byte of the stream: zlib-rs fails; miniz_oxide
/// (the codec's documented limit) inflates it from its zeroed window.
#[test]
fn distance_before_the_start_fails_in_zlib_rs() {
    // Fixed Huffman block, BFINAL: literal 'a', then length 3 (code 257) at distance 2
    // (distance code 1), then end of block (code 256).
    let stream = pack_bits(&[
        (1, 1, false),
        (1, 2, false),
        (0x30 + u32::from(b'a'), 8, true),
        (1, 7, true),
        (1, 5, true),
        (0, 7, true),
    ]);
    let mut out = [0xff; 16];
    let mut miniz = InflaterOn::<MinizDecompressor>::new(15, false);
    let p = miniz.inflate(&stream, &mut out, true).unwrap();
    assert_eq!(&out[..p.produced], b"a\0a\0");
    let mut zlib = InflaterOn::<ZlibRsDecompressor>::new(15, false);
    assert_eq!(zlib.inflate(&stream, &mut out, true), Err(InflateError));
}
