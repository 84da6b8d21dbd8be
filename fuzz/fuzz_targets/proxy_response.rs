//! Fuzzes the parser of a proxy's answer to `CONNECT` (`ConnectHandshake`): no panic; the
//! whole input and the input fed in two pieces (split where the first byte says) agree;
//! an accepted answer is 2xx, within the limit, and `consumed` is inside the input; a
//! refusal carries a status that is not 2xx; an outcome sticks when the same bytes or
//! more come again.
#![no_main]

use rfc6455::handshake::{ConnectHandshake, Limits, ProxyError};

type Outcome = Result<Option<(u16, usize)>, ProxyError>;

fn outcome(parser: &mut ConnectHandshake, bytes: &[u8]) -> Outcome {
    parser.parse(bytes).map(|s| {
        s.complete()
            .map(|(response, consumed)| (response.status(), consumed))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    // A small limit now and then, so that the limit paths are reached too.
    let limits = if split & 1 == 1 {
        Limits {
            max_headers: 4,
            max_head_bytes: 96,
        }
    } else {
        Limits::default()
    };
    let whole = outcome(&mut ConnectHandshake::new(limits), input);
    match whole {
        Ok(Some((status, consumed))) => {
            assert!((200..=299).contains(&status), "{status}");
            assert!(consumed <= input.len() && consumed <= limits.max_head_bytes);
        }
        Ok(None) => assert!(input.len() < limits.max_head_bytes),
        Err(ProxyError::Refused { status }) => assert!(!(200..=299).contains(&status)),
        Err(_) => {}
    }
    let at = usize::from(split).min(input.len());
    let mut parser = ConnectHandshake::new(limits);
    let first = outcome(&mut parser, &input[..at]);
    let split_outcome = match first {
        Ok(None) => outcome(&mut parser, input),
        // Decided within the first piece: the whole input decides the same.
        decided => decided,
    };
    assert_eq!(split_outcome, whole, "split at {at}");
    assert_eq!(outcome(&mut parser, input), whole, "again");
    if !matches!(whole, Ok(None)) {
        let more = [input, b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"].concat();
        assert_eq!(outcome(&mut parser, &more), whole, "more bytes");
    }
});
