//! The masking functions against a byte loop written here: random lengths (past the
//! vector kernels' threshold too), start alignments inside a larger buffer, key phases and
//! piece splits.

mod support;
use cases::cases;
use proptest::prelude::*;
use rfc6455::mask;
use support::cases;
use support::noise::bytes;

/// Room around the masked region, so stray writes before or after it show up.
const SLACK: usize = 24;

/// The reference, written here from RFC 6455 section 5.3 (not the crate's byte loop):
/// payload byte `j` is XORed with key byte `j % 4`, where `j` counts from the start of the
/// payload, so this piece's first byte is byte `offset`.
fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(offset % 4 + i) % 4];
    }
}

fn offset() -> impl Strategy<Value = usize> {
    // Small offsets, and ones near the top of the range where `offset + i` overflows.
    prop_oneof![0..8usize, any::<usize>(), (usize::MAX - 8)..=usize::MAX]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn apply_matches_the_byte_loop(
        len in 0..2000usize,
        start in 0..16usize,
        key in any::<[u8; 4]>(),
        offset in offset(),
        seed in any::<u64>(),
    ) {
        let original = bytes(start + len + SLACK, seed);
        let mut fast = original.clone();
        let mut slow = original.clone();
        mask::apply(&mut fast[start..start + len], key, offset);
        reference(&mut slow[start..start + len], key, offset);
        prop_assert_eq!(&fast, &slow);
        // Only the phase `offset % 4` matters.
        let mut reduced = original.clone();
        mask::apply(&mut reduced[start..start + len], key, offset % 4);
        prop_assert_eq!(&fast, &reduced);
        // Masking is its own inverse.
        mask::apply(&mut fast[start..start + len], key, offset);
        prop_assert_eq!(&fast, &original);
    }

    #[test]
    fn copy_masked_matches_the_byte_loop(
        len in 0..2000usize,
        src_start in 0..16usize,
        dst_start in 0..16usize,
        key in any::<[u8; 4]>(),
        offset in offset(),
        seed in any::<u64>(),
    ) {
        let src = bytes(src_start + len + SLACK, seed);
        let before = bytes(dst_start + len + SLACK, !seed);
        let mut dst = before.clone();
        mask::copy_masked(
            &mut dst[dst_start..dst_start + len],
            &src[src_start..src_start + len],
            key,
            offset,
        );
        let mut want = src[src_start..src_start + len].to_vec();
        reference(&mut want, key, offset);
        prop_assert_eq!(&dst[dst_start..dst_start + len], &want[..]);
        prop_assert_eq!(&dst[..dst_start], &before[..dst_start]);
        prop_assert_eq!(&dst[dst_start + len..], &before[dst_start + len..]);
    }

    #[test]
    fn pieces_with_a_running_offset_equal_one_pass(
        len in 0..2000usize,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        key in any::<[u8; 4]>(),
        seed in any::<u64>(),
    ) {
        let original = bytes(len, seed);
        let mut whole = original.clone();
        mask::apply(&mut whole, key, 0);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
        cuts.push(0);
        cuts.push(len);
        cuts.sort_unstable();
        let mut pieces = original.clone();
        let mut copied = vec![0u8; len];
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            mask::apply(&mut pieces[a..b], key, a);
            mask::copy_masked(&mut copied[a..b], &original[a..b], key, a);
        }
        prop_assert_eq!(&pieces, &whole);
        prop_assert_eq!(&copied, &whole);
    }
}

#[test]
fn rfc_example_key() {
    let mut data = *b"Hello";
    mask::apply(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
    assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
}

#[test]
fn offsets_near_usize_max_keep_the_phase() {
    // Only `offset % 4` matters, also for offsets near `usize::MAX` (the byte loop, now
    // crate-private and tested in `mask`'s unit tests, once overflowed there).
    let key = [1, 2, 4, 8];
    for len in [1usize, 5, 40] {
        for offset in [usize::MAX, usize::MAX - 1, usize::MAX - 2, usize::MAX - 3] {
            let phase = offset % 4;
            let mut b = vec![0u8; len];
            let mut c = vec![0u8; len];
            mask::apply(&mut b, key, offset);
            mask::copy_masked(&mut c, &vec![0u8; len], key, offset);
            let want: Vec<u8> = (0..len).map(|i| key[(phase + i) % 4]).collect();
            assert_eq!(b, want, "apply len {len} offset {offset}");
            assert_eq!(c, want, "copy_masked len {len} offset {offset}");
        }
    }
}

#[test]
#[should_panic(expected = "length mismatch")]
fn copy_masked_rejects_different_lengths() {
    let mut dst = [0u8; 3];
    mask::copy_masked(&mut dst, &[1, 2], [0; 4], 0);
}
