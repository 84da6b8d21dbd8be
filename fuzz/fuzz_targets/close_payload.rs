//! Close payload parsing on arbitrary bytes: the rules of RFC 6455 sections 5.5.1 and 7.4,
//! and an accepted payload encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::close::{CloseCode, CloseError, CloseFrame, MAX_REASON_LEN};

fuzz_target!(|data: &[u8]| {
    let parsed = CloseFrame::parse(data);
    match data {
        [] => assert_eq!(parsed, Ok(None)),
        [_] => assert_eq!(parsed, Err(CloseError::TruncatedCode)),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                assert_eq!(parsed, Err(CloseError::InvalidCode(code)));
            } else if reason.len() > MAX_REASON_LEN {
                assert_eq!(parsed, Err(CloseError::ReasonTooLong { len: reason.len() }));
            } else if let Err(e) = core::str::from_utf8(reason) {
                let err = parsed.unwrap_err();
                assert_eq!(
                    err,
                    CloseError::InvalidReason {
                        valid_up_to: e.valid_up_to()
                    }
                );
                assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
            } else {
                let frame = parsed.unwrap().unwrap();
                assert_eq!(frame.code, code);
                assert_eq!(frame.reason.as_bytes(), reason);
                let mut out = [0u8; 125];
                let n = frame.encode(&mut out).unwrap();
                assert_eq!(&out[..n], data);
            }
        }
    }
    if let Err(e) = parsed {
        assert!(matches!(e.close_code().0, 1002 | 1007));
    }
});
