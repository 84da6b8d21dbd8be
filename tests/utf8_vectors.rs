//! Hand-picked UTF-8 edge cases, fed one byte at a time: where the validator must fail
//! (the index of the byte whose `feed` fails) and which offset it must report.

use rfc6455::utf8::Utf8Validator;

/// Valid: the boundaries of each sequence length and of the excluded ranges.
const VALID: &[&[u8]] = &[
    b"",
    b"\x00",
    b"\x7F",
    b"\xC2\x80",         // U+0080
    b"\xDF\xBF",         // U+07FF
    b"\xE0\xA0\x80",     // U+0800
    b"\xED\x9F\xBF",     // U+D7FF, last before the surrogates
    b"\xEE\x80\x80",     // U+E000, first after them
    b"\xEF\xBF\xBF",     // U+FFFF
    b"\xF0\x90\x80\x80", // U+10000
    b"\xF4\x8F\xBF\xBF", // U+10FFFF, the last code point
    "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
    "κόσμε 𝄞 €".as_bytes(),
];

/// Invalid: (input, index of the first impossible byte, reported offset). An index equal
/// to the input's length means no byte is impossible: the input only ends inside a
/// character, which `finish` reports.
const INVALID: &[(&[u8], usize, u64)] = &[
    (b"\x80", 0, 0),                         // lone continuation byte
    (b"ab\xBF", 2, 2),                       // continuation byte after ASCII
    (b"\xC0\x80", 0, 0),                     // C0 is never a lead (overlong NUL)
    (b"\xC1\xBF", 0, 0),                     // C1 neither
    (b"\xE0\x80\x80", 1, 0),                 // overlong 3-byte: E0 needs A0..BF next
    (b"\xE0\x9F\xBF", 1, 0),                 // overlong U+07FF
    (b"\xED\xA0\x80", 1, 0),                 // U+D800, a surrogate
    (b"\xED\xBF\xBF", 1, 0),                 // U+DFFF
    (b"\xF0\x80\x80\x80", 1, 0),             // overlong 4-byte
    (b"\xF0\x8F\xBF\xBF", 1, 0),             // overlong U+FFFF
    (b"\xF4\x90\x80\x80", 1, 0),             // U+110000, past the last code point
    (b"\xF5\x80\x80\x80", 0, 0),             // F5 is never a lead
    (b"\xFF", 0, 0),                         //
    (b"\xFE\xFF", 0, 0),                     // byte order marks of UTF-16 are not UTF-8
    (b"xy\xC2A", 3, 2),                      // lead then ASCII
    (b"\xE2\x82\xE2\x82\xAC", 2, 0),         // truncated sequence then a full one
    (b"\xF0\x9D\x84", 3, 0),                 // truncated U+1D11E: incomplete only
    (b"\xCE\xBA\xCF\x8C\xCF\x83\xFF", 6, 6), // error after multi-byte characters
];

#[test]
fn valid_sequences_pass_at_every_split() {
    for &bytes in VALID {
        for cut in 0..=bytes.len() {
            let mut v = Utf8Validator::new();
            v.feed(&bytes[..cut]).unwrap();
            v.feed(&bytes[cut..]).unwrap();
            assert!(v.is_complete(), "{bytes:02x?}");
            v.finish().unwrap();
        }
    }
}

#[test]
fn invalid_sequences_fail_at_the_first_impossible_byte() {
    for &(bytes, at, offset) in INVALID {
        let mut v = Utf8Validator::new();
        let mut failed = None;
        for (i, b) in bytes.iter().enumerate() {
            if let Err(e) = v.feed(core::slice::from_ref(b)) {
                failed = Some((i, e));
                break;
            }
        }
        match failed {
            Some((i, e)) => {
                assert_eq!(i, at, "{bytes:02x?}: failed at the wrong byte");
                assert_eq!(e.offset(), offset, "{bytes:02x?}");
                assert!(!e.is_incomplete(), "{bytes:02x?}");
            }
            None => {
                // Only a truncated character: reported by `finish`, at its start.
                assert_eq!(at, bytes.len(), "{bytes:02x?}: no byte failed");
                let e = v.finish().unwrap_err();
                assert!(e.is_incomplete(), "{bytes:02x?}");
                assert_eq!(e.offset(), offset, "{bytes:02x?}");
            }
        }
        // Fed whole, the same offset.
        let mut v = Utf8Validator::new();
        let e = v.feed(bytes).and_then(|()| v.finish()).unwrap_err();
        assert_eq!(e.offset(), offset, "{bytes:02x?} whole");
    }
}

#[test]
fn a_character_split_over_four_pieces() {
    let clef = "𝄞".as_bytes();
    let mut v = Utf8Validator::new();
    v.feed(b"a").unwrap();
    for (i, b) in clef.iter().enumerate() {
        v.feed(core::slice::from_ref(b)).unwrap();
        assert_eq!(v.is_complete(), i == 3);
        if i < 3 {
            let e = v.finish().unwrap_err();
            assert!(e.is_incomplete());
            assert_eq!(e.offset(), 1);
        }
    }
    v.finish().unwrap();
}

#[test]
fn errors_describe_themselves() {
    let mut v = Utf8Validator::new();
    let e = v.feed(b"abc\xFF").unwrap_err();
    assert!(e.to_string().contains('3'), "{e}");
    let mut v = Utf8Validator::new();
    v.feed(b"ab\xE2").unwrap();
    let e = v.finish().unwrap_err();
    assert!(e.to_string().contains('2'), "{e}");
}
