//! Rules of permessage-deflate that a mutation audit (cargo-mutants on src/deflate and
//! src/connection/deflate.rs) found no test checking, each test named after the rule.
#![cfg(feature = "deflate")]

mod support;

use rfc6455::connection::Config;
use rfc6455::deflate::DeflateConfig;
use support::conn::take_output;
use support::deflate::negotiated;

/// A client that sent one compressed message of incompressible bytes, its output taken,
/// with `active_buffer_capacity` = `reuse`; then what `shrink_buffers` reports freed.
/// `idle_buffer_capacity` is the largest, so `shrink_buffers` keeps the input and output
/// buffers whatever their size and `reuse` changes only whether the compression scratch
/// buffer was kept after the send.
fn freed_after_a_send(reuse: usize) -> usize {
    let deflate = DeflateConfig::new().enabled(true);
    let client = Config::new()
        .deflate(deflate)
        .active_buffer_capacity(reuse)
        .idle_buffer_capacity(usize::MAX);
    let (mut c, _s) = negotiated(client, Config::new().deflate(deflate));
    c.send_binary(&support::noise::bytes(3000, 21)).unwrap();
    take_output(&mut c);
    c.shrink_buffers()
}

/// The scratch buffer is kept after a send while its capacity is within
/// `active_buffer_capacity`, at exactly that capacity too ("released once it grew past
/// it"), and released one byte below. Its capacity is found as the difference between
/// keeping it always and never.
#[test]
fn the_scratch_buffer_at_exactly_the_reuse_capacity_is_kept() {
    let never = freed_after_a_send(0);
    let always = freed_after_a_send(usize::MAX);
    assert!(always > never, "kept: {always}, released: {never}");
    let scratch = always - never;
    assert!(scratch >= 3000, "scratch capacity {scratch} for 3000 bytes");
    assert_eq!(freed_after_a_send(scratch), always, "at the reuse capacity");
    assert_eq!(freed_after_a_send(scratch - 1), never, "one byte below it");
}

/// A connection's `Debug` output shows its codecs once a message went each way: the
/// compressor by name, the decompressor with its state (miniz_oxide: how much output it
/// holds back and its status; zlib-rs: the byte it holds back and whether it ended).
#[test]
fn debug_output_shows_both_codecs() {
    let deflate = DeflateConfig::new().enabled(true);
    let (mut c, mut s) = negotiated(
        Config::new().deflate(deflate),
        Config::new().deflate(deflate),
    );
    let before = format!("{c:?}");
    assert!(!before.contains("MinizCompressor"), "{before}");
    c.send_binary(&[7u8; 1000]).unwrap();
    support::conn::pump(&mut c, &mut s);
    assert_eq!(support::conn::events(&mut s).len(), 1);
    let sender = format!("{c:?}");
    assert!(sender.contains("MinizCompressor { .. }"), "{sender}");
    let receiver = format!("{s:?}");
    // The inflating backend is zlib-rs with `deflate-zlib-rs`, miniz_oxide otherwise.
    let decompressor = if cfg!(feature = "deflate-zlib-rs") {
        "ZlibRsDecompressor { peeked: None, ended: false, failed: false, .. }"
    } else {
        "MinizDecompressor { held: 0, status: "
    };
    assert!(receiver.contains(decompressor), "{receiver}");
}
