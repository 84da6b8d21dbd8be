//! Fuzzes the client's response parser: no panic, whole and split input agree, each byte is
//! scanned once, header fields match `httparse`, accepted responses only select offers.
//! The checks live in `tests/handshake_fuzz_checks.rs`, which `cargo test` also runs.
#![no_main]

include!("../../tests/handshake_fuzz_checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_response(data));
