//! The incremental UTF-8 validator against `core::str::from_utf8`, fed in random pieces.
//!
//! Input: one byte `k` (the low three bits give the number of cuts), `k` bytes of cut
//! points, then the text. The error must carry `from_utf8`'s offset and come from the
//! `feed` call holding the first byte after which the input cannot become valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::utf8::{self, Utf8Validator};

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let Some((cuts, text)) = rest.split_at_checked((k & 7) as usize) else {
        return;
    };
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|&c| c as usize % (text.len() + 1))
        .collect();
    points.push(0);
    points.push(text.len());
    points.sort_unstable();

    let whole = core::str::from_utf8(text);
    // The first byte after which no continuation can make the prefix valid.
    let impossible = match whole {
        Err(e) if e.error_len().is_some() => (e.valid_up_to()..text.len())
            .find(|&p| core::str::from_utf8(&text[..=p]).is_err_and(|e| e.error_len().is_some())),
        _ => None,
    };

    let one_shot = utf8::validate(text);
    assert_eq!(one_shot.is_ok(), whole.is_ok());

    let mut v = Utf8Validator::new();
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let got = v.feed(&text[a..b]);
        if let Some(p) = impossible.filter(|p| (a..b).contains(p)) {
            let err = got.expect_err("the piece with the impossible byte fails");
            let e = whole.unwrap_err();
            assert_eq!(err.offset(), e.valid_up_to() as u64, "impossible byte {p}");
            assert!(!err.is_incomplete());
            assert_eq!(one_shot.unwrap_err().offset(), err.offset());
            return;
        }
        assert!(got.is_ok(), "piece {a}..{b} failed too early");
        assert_eq!(v.is_complete(), core::str::from_utf8(&text[..b]).is_ok());
    }
    assert!(impossible.is_none());
    match whole {
        Ok(_) => assert!(v.finish().is_ok()),
        Err(e) => {
            let err = v.finish().expect_err("ends inside a character");
            assert!(err.is_incomplete());
            assert_eq!(err.offset(), e.valid_up_to() as u64);
        }
    }
});
