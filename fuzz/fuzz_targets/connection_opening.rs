//! The opening handshake inside the connection (CONNECTING -> OPEN), both roles, driven by
//! arbitrary bytes in arbitrary pieces, with the accept value for the client's own key
//! spliced into a fuzzed response, then the open connection fed what follows the head.
//! The input format and the checks are in `rfc6455_fuzz::opening`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rfc6455_fuzz::opening::run(data);
});
