//! Context takeover as the compressed bytes show it: with takeover a message may refer
//! to the ones before it, without takeover each message is compressed as if it were the
//! first, while the pieces of one message may always refer to each other.
use super::*;

/// Compress `pieces` as one message (`fin` on the last) and return each call's output.
fn message(d: &mut Deflater, pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut out = Vec::new();
            d.compress(piece, i + 1 == pieces.len(), &mut out);
            out
        })
        .collect()
}

/// Inflate `payloads` as messages, each in one piece; returns them.
fn inflate_all(inf: &mut Inflater, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .map(|payload| {
            let mut out = vec![0; 4096];
            let p = inf.inflate(payload, &mut out, true).unwrap();
            assert!(p.done && p.consumed == payload.len());
            out.truncate(p.produced);
            out
        })
        .collect()
}

/// 200 random bytes sent twice: the second copy is one match away from the first
/// (200 bytes back, inside every window that allows matches, 2^9 and up).
#[test]
fn a_repeated_message_refers_back_only_with_takeover() {
    let mut rng = Rng(23);
    let m = rng.bytes(200);
    for level in [1, 2, 6, 9] {
        for bits in [9, 12, 15] {
            let case = format!("level {level} bits {bits}");
            // With takeover, the second message is a reference to the first.
            let mut d = Deflater::new(level, bits, true);
            let first = message(&mut d, &[&m]).concat();
            let second = message(&mut d, &[&m]).concat();
            assert!(first.len() >= m.len(), "{case}: random bytes shrank");
            assert!(
                second.len() < 20,
                "{case}: {} bytes with takeover",
                second.len()
            );
            let back = inflate_all(&mut Inflater::new(bits, true), &[first, second]);
            assert!(back == [m.clone(), m.clone()], "{case}");
            // Without it, every message comes out as the first did.
            let mut d = Deflater::new(level, bits, false);
            let first = message(&mut d, &[&m]).concat();
            for _ in 0..2 {
                assert_eq!(
                    message(&mut d, &[&m]).concat(),
                    first,
                    "{case}, no takeover"
                );
            }
            // A message's second piece refers to its first, takeover or not.
            for takeover in [false, true] {
                let mut d = Deflater::new(level, bits, takeover);
                let pieces = message(&mut d, &[&m, &m]);
                assert!(
                    pieces[1].len() < 20,
                    "{case}, takeover {takeover}: second piece {} bytes",
                    pieces[1].len()
                );
                let back = inflate_all(&mut Inflater::new(bits, takeover), &[pieces.concat()]);
                assert!(back == [[&m[..], &m].concat()], "{case}");
            }
        }
    }
}
