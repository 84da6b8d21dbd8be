//! Close payload parsing on arbitrary bytes, against the rules of RFC 6455 sections 5.5.1
//! and 7.4 as `rfc6455_fuzz::rfc` writes them out (its own close-code table): what they
//! accept is accepted with the same code and reason and encodes back to the same bytes;
//! what they refuse is refused with one of the rules broken, and the close code that
//! answers it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::close::CloseFrame;
use rfc6455_fuzz::rfc;

fuzz_target!(|data: &[u8]| {
    let parsed = CloseFrame::parse(data);
    match (rfc::close_payload(data), parsed) {
        (Ok(None), Ok(None)) => {}
        (Ok(Some((code, reason))), Ok(Some(frame))) => {
            assert_eq!(frame.code.0, code);
            assert_eq!(frame.reason, reason);
            let mut out = [0u8; 125];
            let n = frame.encode(&mut out).unwrap();
            assert_eq!(&out[..n], data);
        }
        (Err(broken), Err(e)) => {
            assert!(
                broken.contains(&e),
                "refused with {e:?}, rules broken {broken:?}"
            );
            assert_eq!(e.close_code().0, rfc::close_error_code(&e));
        }
        (want, got) => panic!("{data:?}: the rules say {want:?}, the parser {got:?}"),
    }
});
