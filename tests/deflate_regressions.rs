//! Regressions found by fuzzing permessage-deflate (fuzz/fuzz_targets/deflate_connection.rs),
//! and the memory rules of src/connection/deflate.rs that mutation testing found unchecked.
#![cfg(feature = "deflate")]

mod support;

use rfc6455::connection::{Config, ProtocolError, ReceiveMode};
use rfc6455::deflate::DeflateConfig;
use support::conn::take_output;
use support::counting::{self, allocs, live};
use support::deflate::negotiated;

/// Counts a reallocation as holding both blocks (which it does while it copies: only an
/// allocator that can grow in place avoids it), unlike the other tests' net change.
#[global_allocator]
static GLOBAL: counting::Counting<true> = counting::Counting;

/// The decompressor's state: miniz_oxide's core (about 11 KiB) and its 32 KiB window.
const INFLATER: i64 = 48 << 10;

/// A message that inflates past the limit used to grow the reassembly buffer, full at the
/// limit, by the one byte that tells "at" from "past" it: a reallocation of the whole
/// message for one byte, which holds twice the limit while it copies (the fuzz target's
/// allocator, which counts both blocks, saw 175 KB for a 64 KiB limit). That byte is now
/// inflated into a byte on the stack, so the peak is the buffer's last doubling (1.5 times
/// a limit that is a power of two, as here), plus the inflater.
#[test]
fn a_bomb_costs_less_than_twice_the_limit_while_it_fails() {
    for limit in [64usize << 10, 1 << 20] {
        for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
            let deflate = DeflateConfig::new().enabled(true);
            let server = Config::new()
                .deflate(deflate)
                .max_message_size(limit as u64)
                .receive_mode(mode);
            let (mut c, mut s) = negotiated(Config::new().deflate(deflate), server);
            c.send_binary(&vec![0u8; 4 * limit]).unwrap();
            let wire = take_output(&mut c);
            let base = live();
            counting::reset_peak();
            s.receive(&wire);
            let err = loop {
                match s.poll_event() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("{mode:?}: the bomb did not fail"),
                    Err(e) => break e,
                }
            };
            assert!(
                matches!(err, ProtocolError::MessageTooLarge { max, .. } if max == limit as u64),
                "{err:?}"
            );
            let peak = counting::peak() - base;
            let receive = 2 * wire.len() as i64 + (4 << 10);
            let message = match mode {
                ReceiveMode::Messages => limit as i64 * 3 / 2,
                ReceiveMode::Stream => 2 * (16 << 10),
            };
            let bound = receive + message + INFLATER + (4 << 10);
            assert!(
                peak <= bound,
                "{mode:?}, limit {limit}: peak {peak} over {bound}"
            );
        }
    }
}

/// A text message with an invalid byte just before the limit and more after it: the invalid
/// byte comes first in the message, so every way of receiving it fails with 1007. It used
/// to depend on how the bytes arrived: a piece inflated up to one byte past the limit had
/// its size checked before its text, so when the invalid byte and the limit fell in the
/// same piece the error was 1009 (seen here: stream mode, the wire cut in half), and 1007
/// otherwise (every other case here).
#[test]
fn text_invalid_before_the_limit_fails_the_same_however_it_arrives() {
    let limit = 64usize << 10;
    let deflate = DeflateConfig::new().enabled(true);
    let mut message = vec![b'a'; limit - 10];
    message.push(0xFF);
    message.extend(vec![b'a'; 1000]);
    let (mut c, _) = negotiated(
        Config::new().deflate(deflate),
        Config::new().deflate(deflate),
    );
    c.send_binary(&message).unwrap();
    let mut wire = take_output(&mut c);
    // The same compressed payload as a text message (the first byte is never masked).
    assert_eq!(wire[0], 0xC2);
    wire[0] = 0xC1;
    let mut errors = Vec::new();
    for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
        for cut in [None, Some(wire.len() / 2), Some(wire.len() - 1)] {
            let server = Config::new()
                .deflate(deflate)
                .max_message_size(limit as u64)
                .receive_mode(mode);
            let (_, mut s) = negotiated(Config::new().deflate(deflate), server);
            let pieces = match cut {
                None => vec![&wire[..]],
                Some(n) => vec![&wire[..n], &wire[n..]],
            };
            let mut error = None;
            'feed: for piece in pieces {
                s.receive(piece);
                loop {
                    match s.poll_event() {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e.close_code().map(|c| c.0));
                            break 'feed;
                        }
                    }
                }
            }
            errors.push((mode, cut, error));
        }
    }
    for (mode, cut, error) in &errors {
        assert_eq!(
            *error,
            Some(Some(1007)),
            "{mode:?}, cut {cut:?}: {errors:?}"
        );
    }
}

/// `shrink_buffers` reports what it gives back, the compressor's and decompressor's state
/// and the compression scratch buffer included: the bytes it reports freed are the bytes
/// the heap lost (within what the other buffers' approximate capacities allow).
#[test]
fn shrink_buffers_reports_the_codecs_and_the_scratch_it_frees() {
    let deflate = DeflateConfig::new()
        .enabled(true)
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true);
    let (mut c, mut s) = negotiated(
        Config::new().deflate(deflate),
        Config::new().deflate(deflate),
    );
    // Incompressible, so the scratch buffer grows to about its size (kept: it is within
    // `active_buffer_capacity`).
    let message = support::noise::bytes(100 << 10, 5);
    c.send_binary(&message).unwrap();
    support::conn::pump(&mut c, &mut s);
    assert_eq!(support::conn::events(&mut s).len(), 1);
    for conn in [&mut c, &mut s] {
        let before = live();
        let freed = conn.shrink_buffers() as i64;
        let lost = before - live();
        assert!(
            (freed - lost).abs() <= 1024,
            "{:?}: shrink_buffers reported {freed} bytes freed, the heap lost {lost}",
            conn.role()
        );
    }
}

/// The scratch buffer a message is compressed into is kept for the next one while within
/// `active_buffer_capacity` (steady-state sends allocate nothing), and released after a
/// message that grew it past that.
#[test]
fn the_scratch_buffer_is_kept_within_the_reuse_capacity_and_released_past_it() {
    let deflate = DeflateConfig::new().enabled(true);
    let (mut c, _s) = negotiated(
        Config::new().deflate(deflate),
        Config::new().deflate(deflate),
    );
    let small = support::noise::bytes(2000, 9);
    for _ in 0..3 {
        c.send_binary(&small).unwrap();
        take_output(&mut c);
    }
    let before = allocs();
    for _ in 0..10 {
        c.send_binary(&small).unwrap();
        assert!(c.pending_output_len() > 0);
        let n = c.pending_output_len();
        c.advance_output(n);
    }
    assert_eq!(allocs(), before, "steady-state compressed sends allocated");
    // Past the reuse capacity (128 KiB): released once the frame is queued.
    let large = support::noise::bytes(300 << 10, 11);
    let base = live();
    c.send_binary(&large).unwrap();
    let n = c.pending_output_len();
    c.advance_output(n);
    let kept = live() - base;
    assert!(kept < 64 << 10, "{kept} bytes kept after a 300 KiB message");
}

/// A compressed message of exactly `max_message_size` bytes is delivered, in both modes,
/// whole and fragmented; one byte more fails with 1009.
#[test]
fn a_compressed_message_at_the_limit_arrives_and_one_byte_more_fails() {
    let limit = 10_000usize;
    let deflate = DeflateConfig::new().enabled(true);
    for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
        for size in [limit, limit + 1] {
            for fragments in [1usize, 3] {
                let server = Config::new()
                    .deflate(deflate)
                    .max_message_size(limit as u64)
                    .receive_mode(mode);
                let (mut c, mut s) = negotiated(Config::new().deflate(deflate), server);
                let message: Vec<u8> = b"0123456789abcdef"
                    .iter()
                    .copied()
                    .cycle()
                    .take(size)
                    .collect();
                let step = size.div_ceil(fragments);
                let parts: Vec<&[u8]> = message.chunks(step).collect();
                for (i, part) in parts.iter().enumerate() {
                    c.send_fragment(
                        rfc6455::connection::DataKind::Text,
                        part,
                        i + 1 == parts.len(),
                    )
                    .unwrap();
                }
                s.receive(&take_output(&mut c));
                let mut got = Vec::new();
                let result = loop {
                    match s.poll_event() {
                        Ok(Some(rfc6455::connection::Event::Message(m))) => {
                            got.extend_from_slice(m.as_bytes())
                        }
                        Ok(Some(rfc6455::connection::Event::Chunk(ch))) => {
                            got.extend_from_slice(&ch.data)
                        }
                        Ok(Some(other)) => panic!("unexpected {other:?}"),
                        Ok(None) => break Ok(()),
                        Err(e) => break Err(e),
                    }
                };
                let case = format!("{mode:?}, {size} bytes in {fragments} fragments");
                if size <= limit {
                    assert_eq!(result, Ok(()), "{case}");
                    assert_eq!(got, message, "{case}");
                } else {
                    assert!(
                        matches!(result, Err(ProtocolError::MessageTooLarge { max, .. }) if max == limit as u64),
                        "{case}: {result:?}"
                    );
                }
            }
        }
    }
}

/// A compressed text message that ends inside a character fails with 1007 at its end, whole
/// and fragmented, in both modes (the check that the text is complete).
#[test]
fn compressed_text_ending_inside_a_character_fails_with_1007() {
    let deflate = DeflateConfig::new().enabled(true).threshold(0);
    let text = "compressed text that ends inside a character: é€😀".repeat(20);
    let bytes = &text.as_bytes()[..text.len() - 1];
    for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
        for fragments in [1usize, 2] {
            let server = Config::new().deflate(deflate).receive_mode(mode);
            let (mut c, mut s) = negotiated(Config::new().deflate(deflate), server);
            let step = bytes.len().div_ceil(fragments);
            let parts: Vec<&[u8]> = bytes.chunks(step).collect();
            for (i, part) in parts.iter().enumerate() {
                c.send_fragment(
                    rfc6455::connection::DataKind::Text,
                    part,
                    i + 1 == parts.len(),
                )
                .unwrap();
            }
            s.receive(&take_output(&mut c));
            let result = loop {
                match s.poll_event() {
                    Ok(Some(rfc6455::connection::Event::Message(m))) => {
                        panic!("{mode:?}: delivered {} bytes", m.len())
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            let code = result.as_ref().and_then(|e| e.close_code()).map(|c| c.0);
            assert_eq!(
                code,
                Some(1007),
                "{mode:?}, {fragments} fragments: {result:?}"
            );
        }
    }
}
