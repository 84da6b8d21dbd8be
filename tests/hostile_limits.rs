//! Hostile peers against the connection's size limits: a 2^63-1 byte frame, frames one
//! byte over the limit in each length encoding, a huge message in 1-byte fragments, and
//! 10,000 pings inside a fragmented message. Each case asserts the exact error and close
//! code, and, with a counting allocator, that memory follows what was actually received
//! and the configured limits, never what the peer declared.
#![cfg(feature = "alloc")]

mod support;
use support::{conn, counting, oracle};

use oracle::{b0, failure, frame, header, queued};
use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Closed, Config, DataKind, Event, EventRef, Message, ProtocolError, ReceiveMode,
};
use rfc6455::frame::{DecoderConfig, FrameError, OpCode};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const ROLES: [Role; 2] = [Role::Server, Role::Client];
const DEFAULT_FRAME: u64 = DecoderConfig::DEFAULT_MAX_FRAME_SIZE;

fn unlimited() -> Config {
    let mut c = Config::default();
    c.max_frame_size = u64::MAX;
    c.max_message_size = u64::MAX;
    c
}

#[test]
fn default_limits_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(c.max_frame_size, 16 << 20);
    assert_eq!(c.max_message_size, 64 << 20);
    assert_eq!(c.max_pending_output_for_pong, 64 << 10);
    assert_eq!(c.idle_buffer_capacity, 512);
    assert!(c.auto_pong);
}

#[test]
fn a_2_pow_63_minus_1_byte_frame_is_refused_on_its_header() {
    let huge = (1u64 << 63) - 1;
    for role in ROLES {
        let before = counting::live();
        counting::reset_peak();
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        conn.receive(&header(role, b0(true, 0, 2), huge));
        let err = failure(&mut conn);
        assert_eq!(
            err,
            ProtocolError::Frame(FrameError::FrameTooLarge {
                len: huge,
                max: DEFAULT_FRAME
            })
        );
        assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG));
        // Whatever follows is dropped.
        conn.receive(&[0u8; 4096]);
        assert_eq!(conn.poll_event(), Ok(None));
        assert!(counting::peak() - before < 1024, "{role:?}");

        // The top bit set (2^63): not a valid length at all.
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let mut bad = header(role, b0(true, 0, 2), huge);
        bad[2] |= 0x80;
        conn.receive(&bad);
        assert_eq!(
            failure(&mut conn),
            ProtocolError::Frame(FrameError::LengthMsbSet)
        );
    }
}

#[test]
fn without_limits_memory_follows_the_bytes_received_not_the_length_declared() {
    let huge = (1u64 << 63) - 1;
    let piece = vec![0u8; 64 << 10];
    for role in ROLES {
        let before = counting::live();
        counting::reset_peak();
        let mut conn = conn::open(role, unlimited(), [7; 32]);
        conn.receive(&header(role, b0(true, 0, 2), huge));
        assert_eq!(conn.poll_event(), Ok(None));
        assert!(
            counting::peak() - before < 1024,
            "declared length allocated"
        );
        for _ in 0..16 {
            conn.receive(&piece);
            assert_eq!(conn.poll_event(), Ok(None));
        }
        // 1 MiB received: the buffer holds it (at most doubled by growth), nothing more.
        let peak = counting::peak() - before;
        assert!(peak <= 2 * (1 << 20) + 4096, "{role:?}: peak {peak}");
        conn.receive_eof();
        assert_eq!(
            conn.poll_event(),
            Ok(Some(Event::Closed(Closed {
                code: CloseCode::ABNORMAL,
                reason: String::new()
            })))
        );
        drop(conn);
        assert_eq!(counting::live(), before, "{role:?}: memory not returned");
        // (Printed only now: captured output allocates.)
        println!("{role:?}: 1 MiB of a 2^63-1 byte frame received, peak heap {peak} B");

        // Streamed, the same frame costs one piece at a time, however much arrives.
        let mut config = unlimited();
        config.receive_mode = ReceiveMode::Stream;
        let mut conn = conn::open(role, config, [7; 32]);
        conn.receive(&header(role, b0(true, 0, 2), huge));
        let piece = vec![0u8; 16 << 10];
        let mut delivered = 0;
        counting::reset_peak();
        for _ in 0..256 {
            conn.receive(&piece);
            while let Some(event) = conn.poll_event_ref().unwrap() {
                let EventRef::Chunk(chunk) = event else {
                    panic!("{event:?}")
                };
                assert!(!chunk.last && chunk.kind == DataKind::Binary);
                delivered += chunk.data.len();
            }
        }
        assert_eq!(delivered, 256 * piece.len());
        let peak = counting::peak() - before;
        println!("{role:?}: 4 MiB of a 2^63-1 byte frame streamed, peak heap {peak} B");
        assert!(
            peak <= 64 << 10,
            "{role:?}: 4 MiB streamed with a peak of {peak}"
        );
    }
}

#[test]
fn a_frame_one_byte_over_the_limit_is_refused_in_every_length_encoding() {
    for role in ROLES {
        for max in [0, 125, 126, 65_535, 65_536, 1 << 20, DEFAULT_FRAME] {
            let mut config = Config::default();
            config.max_frame_size = max;
            config.max_message_size = u64::MAX;
            // Exactly at the limit: accepted, and nothing is allocated for it up front.
            let before = counting::live();
            counting::reset_peak();
            let mut conn = conn::open(role, config, [7; 32]);
            conn.receive(&header(role, b0(true, 0, 2), max));
            let expected = if max == 0 {
                // A header declaring nothing is a whole frame.
                Some(Event::Message(Message::Binary(Default::default())))
            } else {
                None
            };
            assert_eq!(conn.poll_event(), Ok(expected), "{role:?} {max}");
            assert!(counting::peak() - before < 1024, "{role:?} {max}");
            if max <= 65_536 {
                let payload = vec![0xA5; max as usize];
                let whole = frame(role, b0(true, 0, 2), &payload);
                let mut conn = conn::open(role, config, [7; 32]);
                conn.receive(&whole);
                assert_eq!(
                    conn.poll_event(),
                    Ok(Some(Event::Message(Message::Binary(payload.into()))))
                );
            }
            // One byte over: refused with 1009 on the header alone.
            let mut conn = conn::open(role, config, [7; 32]);
            conn.receive(&header(role, b0(true, 0, 2), max + 1));
            let err = failure(&mut conn);
            assert_eq!(
                err,
                ProtocolError::Frame(FrameError::FrameTooLarge { len: max + 1, max }),
                "{role:?}"
            );
            assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG));
        }
        // Control frames are capped at 125 bytes whatever the limits.
        let mut conn = conn::open(role, unlimited(), [7; 32]);
        conn.receive(&header(role, b0(true, 0, 9), 126));
        assert_eq!(
            failure(&mut conn),
            ProtocolError::Frame(FrameError::ControlTooLong { len: 126 })
        );
    }
}

#[test]
fn a_message_one_byte_over_the_limit_is_refused_on_the_fragment_header() {
    for role in ROLES {
        let mut config = Config::default();
        config.max_message_size = 1000;
        let mut conn = conn::open(role, config, [7; 32]);
        conn.receive(&frame(role, b0(false, 0, 1), &[b'a'; 600]));
        conn.receive(&frame(role, b0(true, 0, 0), &[b'b'; 400]));
        let Ok(Some(Event::Message(Message::Text(text)))) = conn.poll_event() else {
            panic!("the message at the limit");
        };
        assert_eq!(text.len(), 1000);
        conn.receive(&frame(role, b0(false, 0, 2), &[0; 600]));
        // Only the next header: the error comes before its payload is awaited.
        conn.receive(&header(role, b0(true, 0, 0), 401));
        let err = failure(&mut conn);
        assert_eq!(
            err,
            ProtocolError::MessageTooLarge {
                size: 1001,
                max: 1000
            }
        );
        assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG));
    }
}

/// `count` 1-byte continuation frames (non-final).
fn one_byte_fragments(role: Role, count: usize) -> Vec<u8> {
    let one = frame(role, b0(false, 0, 0), b"y");
    one.repeat(count)
}

#[test]
fn a_huge_message_in_one_byte_fragments_stops_at_the_message_limit() {
    let max = 64 << 10;
    for role in ROLES {
        let mut config = Config::default();
        config.max_message_size = max;
        let before = counting::live();
        counting::reset_peak();
        let mut conn = conn::open(role, config, [7; 32]);
        conn.receive(&frame(role, b0(false, 0, 1), b"x"));
        let batch = one_byte_fragments(role, 1000);
        let batch_bytes = batch.len() as i64;
        let mut received = 1;
        let err = loop {
            conn.receive(&batch);
            match conn.poll_event() {
                Ok(None) => received += 1000,
                Ok(Some(event)) => panic!("{event:?}"),
                Err(e) => break e,
            }
            assert!(received <= max, "no error past the limit");
        };
        // The fragment that makes byte max + 1 is refused, on its header.
        assert_eq!(err, ProtocolError::MessageTooLarge { size: max + 1, max });
        assert_eq!(oracle::close_sent(&conn), Some(1009));
        // Memory: the reassembled message (at most doubled by growth) and a batch or two.
        let peak = counting::peak() - before;
        println!("{role:?}: 64 KiB limit hit by 1-byte fragments, peak heap {peak} B");
        assert!(
            peak <= 2 * max as i64 + 4 * batch_bytes + 4096,
            "{role:?}: peak {peak}"
        );
    }
}

#[test]
fn a_million_one_byte_fragments_stream_in_constant_memory() {
    for role in ROLES {
        let mut config = unlimited();
        config.receive_mode = ReceiveMode::Stream;
        let mut conn = conn::open(role, config, [7; 32]);
        conn.receive(&frame(role, b0(false, 0, 2), b"x"));
        let batch = one_byte_fragments(role, 10_000);
        let mut bytes = 0;
        let mut warm = 0;
        let before = counting::live();
        for round in 0..100 {
            if round == 1 {
                warm = counting::allocs();
                counting::reset_peak();
            }
            conn.receive(&batch);
            while let Some(event) = conn.poll_event_ref().unwrap() {
                let EventRef::Chunk(chunk) = event else {
                    panic!("{event:?}")
                };
                assert_eq!(chunk.first, bytes == 0);
                bytes += chunk.data.len();
            }
        }
        assert_eq!(bytes, 1 + 100 * 10_000);
        // After the first batch sized the buffer: no allocation per fragment, and no
        // growth whatever the message's total length.
        let allocations = counting::allocs() - warm;
        assert!(allocations <= 99, "{role:?}: {allocations} allocations");
        let peak = counting::peak() - before;
        println!(
            "{role:?}: 1,000,001 fragments streamed, {allocations} allocations after the \
             first batch, peak heap {peak} B"
        );
        assert!(
            peak <= 2 * batch.len() as i64 + 4096,
            "{role:?}: peak {peak}"
        );
    }
}

/// A ping payload numbered `i`, 125 bytes long.
fn ping_payload(i: usize) -> Vec<u8> {
    let mut p = format!("{i:08}").into_bytes();
    p.resize(125, b'.');
    p
}

#[test]
fn ten_thousand_pings_inside_a_fragmented_message() {
    for drain in [false, true] {
        for role in ROLES {
            let before = counting::live();
            counting::reset_peak();
            let mut conn = conn::open(role, Config::default(), [7; 32]);
            let mut pings = 0;
            let mut pongs_written = 0;
            let mut message = None;
            let mut feed = |conn: &mut rfc6455::connection::Connection, bytes: &[u8]| {
                conn.receive(bytes);
                while let Some(event) = conn.poll_event().unwrap() {
                    match event {
                        Event::Ping(p) => {
                            assert_eq!(p[..], ping_payload(pings)[..]);
                            pings += 1;
                        }
                        Event::Message(Message::Text(t)) => message = Some(t),
                        other => panic!("{other:?}"),
                    }
                }
                if drain {
                    // Written out as they come: every ping answered, in order.
                    for (op, p) in queued(conn) {
                        assert_eq!(op, OpCode::Pong);
                        assert_eq!(p, ping_payload(pongs_written));
                        pongs_written += 1;
                    }
                    let n = conn.pending_output_len();
                    conn.advance_output(n);
                }
            };
            feed(&mut conn, &frame(role, b0(false, 0, 1), b"start:"));
            for i in 0..10_000 {
                feed(&mut conn, &frame(role, b0(true, 0, 9), &ping_payload(i)));
                feed(&mut conn, &frame(role, b0(false, 0, 0), b"x"));
            }
            feed(&mut conn, &frame(role, b0(true, 0, 0), b":end"));
            let peak = counting::peak() - before;
            println!(
                "{role:?}: 10,000 pings in a message, output drained {drain}, peak heap {peak} B"
            );
            assert_eq!(pings, 10_000);
            let text = message.expect("the message");
            assert_eq!(text.len(), 6 + 10_000 + 4);
            assert!(text.as_str().starts_with("start:xx") && text.as_str().ends_with("x:end"));
            if drain {
                assert_eq!(pongs_written, 10_000);
                // The connection's share: buffers for one ping, one fragment, the message.
                assert!(peak <= 64 << 10, "{role:?} drain: peak {peak}");
            } else {
                // Never written: pongs are deferred once 64 KiB wait (each is 127 bytes
                // on the wire from a server, 131 from a client), so a peer cannot grow our
                // output by pinging without reading.
                let size = if role == Role::Server { 127 } else { 131 };
                let expected = (64 << 10) / size + 1;
                let pongs = queued(&conn);
                assert_eq!(pongs.len(), expected, "{role:?}");
                assert_eq!(conn.pending_output_len(), expected * size);
                for (i, (op, p)) in pongs.iter().enumerate() {
                    assert_eq!((*op, &p[..]), (OpCode::Pong, &ping_payload(i)[..]));
                }
                // The output buffer (at most doubled by growth) and the message.
                let bound = 2 * (expected * size) as i64 + (32 << 10);
                assert!(peak <= bound, "{role:?}: peak {peak} over {bound}");
                // Written at last: one more pong, for the latest ping only (RFC 6455
                // section 5.5.2), queued once the output drains to the bound.
                let n = conn.pending_output_len();
                conn.advance_output(n);
                assert_eq!(queued(&conn), [(OpCode::Pong, ping_payload(9_999))]);
            }
        }
    }
}

#[test]
fn a_large_read_ending_inside_a_frame_does_not_pin_its_buffer() {
    // A burst of 60,000 small frames, then the start of one more, then silence: the idle
    // connection must not keep the burst's 960 KB buffer for the few bytes it still needs
    // (it did before, until the frame completed).
    for by_ref in [false, true] {
        for role in ROLES {
            let small = frame(role, b0(true, 0, 2), b"0123456789");
            let last = frame(role, b0(true, 0, 1), "the last one: κόσμε".as_bytes());
            // Cut inside the header, and inside the payload (some of it already unmasked
            // and validated when the buffer is replaced).
            for cut in [1, last.len() - 5] {
                let mut burst = small.repeat(60_000);
                burst.extend_from_slice(&last[..cut]);
                let before = counting::live();
                let mut conn = conn::open(role, Config::default(), [7; 32]);
                conn.receive(&burst);
                let mut events = 0;
                loop {
                    let more = if by_ref {
                        conn.poll_event_ref().unwrap().is_some()
                    } else {
                        conn.poll_event().unwrap().is_some()
                    };
                    if !more {
                        break;
                    }
                    events += 1;
                }
                assert_eq!(events, 60_000);
                let idle = counting::live() - before;
                let retained = Config::default().idle_buffer_capacity as i64;
                assert!(
                    idle <= retained,
                    "{role:?} cut {cut}: idle with {idle} bytes"
                );
                conn.receive(&last[cut..]);
                assert_eq!(
                    conn.poll_event(),
                    Ok(Some(Event::Message(Message::Text(
                        "the last one: κόσμε".into()
                    ))))
                );
            }
        }
    }
}
