//! Hostile compressed input, measured with a counting allocator: decompression bombs whole,
//! in fragments and in stream mode cost at most the message limit (plus one bounded step)
//! and fail with 1009 the moment they pass it; and what a deflate connection holds while
//! idle, with and without context takeover (the figures README.md and SECURITY.md state).
#![cfg(feature = "deflate")]

mod support;

use rfc6455::connection::{Config, Connection, Event, ProtocolError, ReceiveMode};
use rfc6455::deflate::DeflateConfig;
use support::conn::events;
use support::counting;
use support::deflate::negotiated;
use support::oracle::{KEY, encode};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

const GIB: u64 = 1 << 30;

/// 1 GiB of zeros, compressed by zlib at level 9: about 1 MiB.
fn bomb() -> Vec<u8> {
    use std::sync::OnceLock;
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/zlib_oracle.py"
            ))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("zeros {GIB} 9\n").as_bytes())?;
                child.wait_with_output()
            })
            .expect("python3 runs the zlib oracle");
        assert!(out.status.success());
        let n = u32::from_be_bytes(out.stdout[..4].try_into().unwrap()) as usize;
        out.stdout[4..4 + n].to_vec()
    })
    .clone()
}

fn on() -> Config {
    Config::new().deflate(DeflateConfig::new().enabled(true))
}

/// Feed `wire` in `read`-byte pieces, taking events (chunks are dropped as they come) until
/// the connection fails; returns the error and the peak of live heap bytes above what was
/// live before, the wire bytes themselves not counted.
fn feed_until_failure(conn: &mut Connection, wire: &[u8], read: usize) -> (ProtocolError, i64) {
    let base = counting::live();
    counting::reset_peak();
    for piece in wire.chunks(read) {
        conn.receive(piece);
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Chunk(_))) => {}
                Ok(Some(other)) => panic!("unexpected {other:?}"),
                Ok(None) => break,
                Err(e) => return (e, counting::peak() - base),
            }
        }
    }
    panic!("the bomb was not refused");
}

#[test]
fn a_bomb_in_one_frame_costs_at_most_the_limit_and_fails_with_1009() {
    let bomb = bomb();
    assert!(bomb.len() < 1_100_000, "about 1 MiB: {}", bomb.len());
    let limit = 16u64 << 20;
    let (_, mut s) = negotiated(on(), on().max_message_size(limit));
    let wire = encode(0xC2, Some(KEY), &bomb);
    let (err, peak) = feed_until_failure(&mut s, &wire, 64 << 10);
    assert_eq!(
        err,
        ProtocolError::MessageTooLarge {
            size: limit + 1,
            max: limit
        }
    );
    // The inflated bytes up to the limit, the compressed frame in the input buffer, the
    // inflater's state: nothing more.
    let bound = limit as i64 + wire.len() as i64 * 2 + (256 << 10);
    assert!(peak <= bound, "peak {peak} > {bound}");
    eprintln!("one frame: peak {peak} bytes for a limit of {limit}");
}

#[test]
fn a_bomb_in_many_fragments_costs_at_most_the_limit_and_fails_with_1009() {
    let bomb = bomb();
    let limit = 16u64 << 20;
    let (_, mut s) = negotiated(on(), on().max_message_size(limit));
    let mut wire = Vec::new();
    let pieces: Vec<&[u8]> = bomb.chunks(1000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let b0 = match (i, i + 1 == pieces.len()) {
            (0, _) => 0x42,
            (_, false) => 0x00,
            (_, true) => 0x80,
        };
        wire.extend(encode(b0, Some(KEY), piece));
    }
    let (err, peak) = feed_until_failure(&mut s, &wire, 64 << 10);
    assert_eq!(
        err,
        ProtocolError::MessageTooLarge {
            size: limit + 1,
            max: limit
        }
    );
    let bound = limit as i64 + (512 << 10);
    assert!(peak <= bound, "peak {peak} > {bound}");
    eprintln!("fragments: peak {peak} bytes for a limit of {limit}");
}

/// Stream mode hands out what inflates in bounded pieces, so memory stays at one step
/// whatever the limit: here the default 64 MiB limit, far above what is held.
#[test]
fn a_bomb_in_stream_mode_costs_one_step_and_fails_with_1009_at_the_limit() {
    let bomb = bomb();
    let limit = 64u64 << 20;
    let (_, mut s) = negotiated(on(), on().receive_mode(ReceiveMode::Stream));
    assert_eq!(s.config().max_message_size, limit);
    let wire = encode(0xC2, Some(KEY), &bomb);
    let (err, peak) = feed_until_failure(&mut s, &wire, 64 << 10);
    assert_eq!(
        err,
        ProtocolError::MessageTooLarge {
            size: limit + 1,
            max: limit
        }
    );
    assert!(
        peak < 1 << 20,
        "peak {peak}: one read, one piece and the inflater"
    );
    eprintln!("stream mode: peak {peak} bytes for a limit of {limit}");
}

/// What an open deflate connection holds between messages after `shrink_buffers`: without
/// context takeover what it would hold without the extension and a small box (no
/// compressor or decompressor state is kept while idle); with it, both contexts.
#[test]
fn idle_memory_with_and_without_context_takeover() {
    let no_takeover = DeflateConfig::new()
        .enabled(true)
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true);
    let configs = [
        ("off", DeflateConfig::new()),
        ("no takeover", no_takeover),
        ("takeover", DeflateConfig::new().enabled(true)),
    ];
    let mut held = Vec::new();
    for (name, deflate) in configs {
        let config = Config::new().deflate(deflate);
        let base = counting::live();
        let (mut c, mut s) = negotiated(config, config);
        let text = "{\"id\":1,\"name\":\"alice\"} ".repeat(200);
        for _ in 0..3 {
            c.send_text(&text).unwrap();
            support::conn::pump(&mut c, &mut s);
            assert_eq!(events(&mut s).len(), 1);
            s.send_text(&text).unwrap();
            support::conn::pump(&mut s, &mut c);
            assert_eq!(events(&mut c).len(), 1);
        }
        s.shrink_buffers();
        c.shrink_buffers();
        let both = counting::live() - base;
        eprintln!("{name}: client and server hold {both} heap bytes when idle");
        held.push(both);
    }
    let (off, no_takeover, takeover) = (held[0], held[1], held[2]);
    // Beyond the same exchange without the extension, per connection: the box with the
    // negotiated parameters and the codecs' empty handles, and buffers kept (each at most
    // `idle_buffer_capacity`) a little larger for the longer handshake heads; no compressor
    // or decompressor state (those are hundreds of KiB: see the takeover figure).
    let extra = no_takeover - off;
    assert!(
        extra <= 2 * 1024,
        "no state kept while idle: {extra} bytes more than without"
    );
    assert!(
        takeover - off > 64 << 10,
        "the contexts are kept: {takeover} vs {off}"
    );
}
