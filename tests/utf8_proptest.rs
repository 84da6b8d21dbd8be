//! The incremental validator against `core::str::from_utf8`: random valid, corrupted and
//! arbitrary byte strings, fed in random pieces (empty ones included). The error must carry
//! the offset `from_utf8` reports and come from the `feed` call holding the first byte
//! after which no continuation could make the input valid.

mod support;
use cases::cases;
use proptest::prelude::*;
use rfc6455::utf8::{self, Utf8Validator};
use support::cases;

/// Bytes at the edges of the UTF-8 tables: ASCII, continuation bounds, invalid leads,
/// leads with restricted second bytes (E0, ED, F0, F4), and never-valid bytes.
const EDGES: &[u8] = &[
    0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
    0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF,
];

/// `Some((valid_up_to, p))` when the input is invalid for good: `p` is the index of the
/// first byte after which the prefix can no longer be completed to valid UTF-8.
/// `None` when the input is valid or only ends inside a character.
fn first_impossible(bytes: &[u8]) -> Option<(usize, usize)> {
    let err = core::str::from_utf8(bytes).err()?;
    err.error_len()?;
    let valid = err.valid_up_to();
    let p = (valid..bytes.len())
        .find(|&p| core::str::from_utf8(&bytes[..=p]).is_err_and(|e| e.error_len().is_some()))
        .expect("an invalid sequence has a first impossible byte");
    Some((valid, p))
}

fn valid_bytes() -> impl Strategy<Value = Vec<u8>> {
    any::<String>().prop_map(String::into_bytes)
}

fn corrupted_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<String>(),
        prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(EDGES)),
            1..4,
        ),
        any::<bool>(),
    )
        .prop_map(|(s, edits, insert)| {
            let mut bytes = s.into_bytes();
            for (at, byte) in edits {
                if insert || bytes.is_empty() {
                    let i = at.index(bytes.len() + 1);
                    bytes.insert(i, byte);
                } else {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
            }
            bytes
        })
}

fn edge_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(EDGES), 0..24)
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..48)
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![valid_bytes(), corrupted_bytes(), edge_bytes(), any_bytes()]
}

/// Cut points into `len` bytes, sorted, with repeats (empty pieces) allowed.
fn pieces(len: usize, cuts: &[prop::sample::Index]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Feed `bytes` in the given pieces and check every step against the oracle.
fn check(bytes: &[u8], pieces: &[(usize, usize)]) -> Result<(), TestCaseError> {
    let whole = core::str::from_utf8(bytes);
    let fail = first_impossible(bytes);
    let mut v = Utf8Validator::new();
    for &(a, b) in pieces {
        let got = v.feed(&bytes[a..b]);
        match fail {
            Some((valid, p)) if (a..b).contains(&p) => {
                let err = got.expect_err("the piece with the first impossible byte fails");
                prop_assert_eq!(err.offset(), valid as u64);
                prop_assert!(!err.is_incomplete());
                prop_assert_eq!(err.close_code().0, 1007);
                return Ok(());
            }
            _ => {
                prop_assert!(got.is_ok(), "piece {}..{} failed early: {:?}", a, b, got);
                let prefix_ok = core::str::from_utf8(&bytes[..b]).is_ok();
                prop_assert_eq!(v.is_complete(), prefix_ok, "after piece {}..{}", a, b);
            }
        }
    }
    prop_assert!(fail.is_none(), "no piece reported the error");
    match whole {
        Ok(_) => prop_assert_eq!(v.finish(), Ok(())),
        Err(e) => {
            let err = v.finish().expect_err("input ends inside a character");
            prop_assert!(err.is_incomplete());
            prop_assert_eq!(err.offset(), e.valid_up_to() as u64);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn pieces_agree_with_from_utf8(
        bytes in input(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        check(&bytes, &pieces(bytes.len(), &cuts))?;
    }

    #[test]
    fn byte_at_a_time_agrees_with_from_utf8(bytes in input()) {
        let pieces: Vec<_> = (0..bytes.len()).map(|i| (i, i + 1)).collect();
        check(&bytes, &pieces)?;
    }

    #[test]
    fn one_shot_validate_agrees_with_from_utf8(bytes in input()) {
        match (utf8::validate(&bytes), core::str::from_utf8(&bytes)) {
            (Ok(got), Ok(want)) => prop_assert_eq!(got, want),
            (Err(got), Err(want)) => {
                prop_assert_eq!(got.offset(), want.valid_up_to() as u64);
                prop_assert_eq!(got.is_incomplete(), want.error_len().is_none());
            }
            (got, want) => prop_assert!(false, "validate {:?}, from_utf8 {:?}", got, want),
        }
    }

    #[test]
    fn reset_starts_a_new_message(bad in corrupted_bytes(), good in valid_bytes()) {
        let mut v = Utf8Validator::new();
        let _ = v.feed(&bad);
        v.reset();
        prop_assert!(v.is_complete());
        prop_assert_eq!(v.feed(&good), Ok(()));
        prop_assert_eq!(v.finish(), Ok(()));
    }
}
