//! Close payloads (RFC 6455 sections 5.5.1 and 7.4): encode/parse round trips for every
//! sendable code and random reasons, and `parse` on arbitrary bytes against the rules.

mod support;
use cases::cases;
use proptest::prelude::*;
use rfc6455::close::{CloseCode, CloseError, CloseFrame, MAX_REASON_LEN};
use support::cases;

fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

fn sendable_code() -> impl Strategy<Value = u16> {
    prop_oneof![1000..=1003u16, 1007..=1014u16, 3000..=4999u16]
}

fn unsendable_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        0..=999u16,
        1004..=1006u16,
        1015..=2999u16,
        5000..=u16::MAX,
        Just(1005u16),
        Just(1006u16),
        Just(1015u16),
    ]
}

/// Cut `s` to at most `max` bytes on a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// Reasons that fit: random Unicode, and ones filled up to the 123-byte limit with
/// characters of every width.
fn reason() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| truncate(s, MAX_REASON_LEN)),
        "[a-zé€𝄞]{30,130}".prop_map(|s| truncate(s, MAX_REASON_LEN)),
    ]
}

/// What `parse` must return for `payload`, from the rules alone.
fn expected(payload: &[u8]) -> Result<Option<(u16, &str)>, CloseError> {
    match payload {
        [] => Ok(None),
        [_] => Err(CloseError::TruncatedCode),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !sendable(code) {
                return Err(CloseError::InvalidCode(CloseCode(code)));
            }
            if reason.len() > MAX_REASON_LEN {
                return Err(CloseError::ReasonTooLong { len: reason.len() });
            }
            match core::str::from_utf8(reason) {
                Ok(text) => Ok(Some((code, text))),
                Err(e) => Err(CloseError::InvalidReason {
                    valid_up_to: e.valid_up_to(),
                }),
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn sendable_codes_and_fitting_reasons_round_trip(code in sendable_code(), reason in reason()) {
        let frame = CloseFrame::new(CloseCode(code), &reason);
        let mut buf = [0u8; 125];
        let n = frame.encode(&mut buf).unwrap();
        prop_assert_eq!(n, 2 + reason.len());
        prop_assert_eq!(n, frame.encoded_len());
        prop_assert!(n <= 125, "a close payload fits in a control frame");
        prop_assert_eq!(&buf[..2], &code.to_be_bytes());
        prop_assert_eq!(&buf[2..n], reason.as_bytes());
        let parsed = CloseFrame::parse(&buf[..n]).unwrap().unwrap();
        prop_assert_eq!(parsed, frame);
        // Exactly the needed size is enough; one byte less is not.
        prop_assert_eq!(frame.encode(&mut buf[..n]), Ok(n));
        prop_assert_eq!(
            frame.encode(&mut buf[..n - 1]),
            Err(CloseError::BufferTooSmall { required: n })
        );
    }

    #[test]
    fn unsendable_codes_are_refused_both_ways(code in unsendable_code(), reason in reason()) {
        let code = CloseCode(code);
        prop_assert!(!code.is_sendable());
        let mut buf = [0u8; 125];
        prop_assert_eq!(
            CloseFrame::new(code, &reason).encode(&mut buf),
            Err(CloseError::InvalidCode(code))
        );
        let mut payload = code.0.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        let err = CloseFrame::parse(&payload).unwrap_err();
        prop_assert_eq!(err, CloseError::InvalidCode(code));
        prop_assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn long_reasons_are_refused(code in sendable_code(), extra in 1..200usize) {
        let reason = "r".repeat(MAX_REASON_LEN + extra);
        let mut buf = [0u8; 512];
        prop_assert_eq!(
            CloseFrame::new(CloseCode(code), &reason).encode(&mut buf),
            Err(CloseError::ReasonTooLong { len: reason.len() })
        );
    }

    #[test]
    fn parse_follows_the_rules_on_any_bytes(
        payload in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..130),
            (sendable_code(), prop::collection::vec(any::<u8>(), 0..16)).prop_map(|(c, r)| {
                let mut p = c.to_be_bytes().to_vec();
                p.extend(r);
                p
            }),
        ]
    ) {
        let got = CloseFrame::parse(&payload);
        let want = expected(&payload);
        match (&got, &want) {
            (Ok(None), Ok(None)) => {}
            (Ok(Some(frame)), Ok(Some((code, reason)))) => {
                prop_assert_eq!(frame.code, CloseCode(*code));
                prop_assert_eq!(frame.reason, *reason);
            }
            (Err(g), Err(w)) => {
                prop_assert_eq!(g, w);
                let close = if matches!(w, CloseError::InvalidReason { .. }) { 1007 } else { 1002 };
                prop_assert_eq!(g.close_code().0, close);
            }
            _ => prop_assert!(false, "parse gave {:?}, expected {:?}", got, want),
        }
    }
}

#[test]
fn empty_and_one_byte_payloads() {
    assert_eq!(CloseFrame::parse(&[]), Ok(None));
    for b in 0..=255u8 {
        assert_eq!(CloseFrame::parse(&[b]), Err(CloseError::TruncatedCode));
    }
}

#[test]
fn code_classes() {
    for code in [1005u16, 1006, 1015] {
        assert!(CloseCode(code).is_local_only());
        assert!(!CloseCode(code).is_sendable());
    }
    for code in [1000u16, 1002, 1003, 1007, 1014, 3000, 4999] {
        assert!(!CloseCode(code).is_local_only());
        assert!(CloseCode(code).is_sendable());
    }
    for code in [1001u16, 1006, 1011, 1012, 1013] {
        assert!(CloseCode(code).is_retryable(), "{code}");
    }
    for code in [1000u16, 1002, 1003, 1007, 1008, 1009, 1010, 4000] {
        assert!(!CloseCode(code).is_retryable(), "{code}");
    }
    assert_eq!(u16::from(CloseCode::from(4321)), 4321);
    assert_eq!(CloseCode::TOO_BIG.to_string(), "1009");
}
