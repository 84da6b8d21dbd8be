//! `max_message_size` and `max_frame_size` on every receive path: a frame exactly at the limit
//! is delivered, one byte over is refused on its header with 1009, for lengths in each of
//! the three length forms (7-bit, 16-bit, 64-bit) and across the form boundaries, fed whole,
//! one byte per call and read into the connection's buffer, in both roles, through both
//! poll APIs and both receive modes, with small limits and with the defaults.
//!
//! Single frames up to 64 KiB take the connection's one-pass fast path and larger ones the
//! general path, so a check weakened in either (e.g. the fast path checking only the frame
//! limit) lets an over-limit message through here. Frames are written by hand (support/oracle),
//! the close frame sent back is read by a reader written from section 5.2
//! (support/oracle), and the expected outcome follows from the limits alone.
#![cfg(feature = "alloc")]

mod support;
use support::{conn, oracle};

use oracle::b0;
use rfc6455::Role;
use rfc6455::connection::{
    Config, Connection, Event, EventRef, Message, ProtocolError, ReceiveMode,
};
use rfc6455::frame::FrameError;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

#[derive(Clone, Copy, Debug)]
enum Feed {
    Whole,
    BytePerCall,
    /// `receive_buffer` + `commit_received`, this many bytes per read.
    ReadInto(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Poll {
    Owned,
    Lent,
}

/// What came out: the data delivered (whole messages or chunks, concatenated), the
/// messages completed, and the error, if any.
#[derive(Debug, Default)]
struct Outcome {
    data: Vec<u8>,
    messages: usize,
    /// Events that were chunks (stream mode), not whole messages.
    chunks: usize,
    error: Option<ProtocolError>,
}

/// Poll until nothing is left, through `poll`, collecting data and the error.
fn drain(conn: &mut Connection, poll: Poll, out: &mut Outcome) {
    loop {
        if out.error.is_some() {
            // A failed connection stays silent.
            assert_eq!(conn.poll_event(), Ok(None));
            assert_eq!(conn.poll_event_ref(), Ok(None));
            return;
        }
        let polled = match poll {
            Poll::Owned => conn.poll_event().map(|e| {
                e.map(|e| match e {
                    Event::Message(Message::Binary(b)) => (b.to_vec(), true, false),
                    Event::Chunk(c) => (c.data.to_vec(), c.last, true),
                    other => panic!("unexpected event {other:?}"),
                })
            }),
            Poll::Lent => conn.poll_event_ref().map(|e| {
                e.map(|e| match e {
                    EventRef::Binary(b) => (b.to_vec(), true, false),
                    EventRef::Chunk(c) => (c.data.to_vec(), c.last, true),
                    other => panic!("unexpected event {other:?}"),
                })
            }),
        };
        match polled {
            Ok(None) => return,
            Ok(Some((data, last, chunk))) => {
                out.data.extend_from_slice(&data);
                out.messages += usize::from(last);
                out.chunks += usize::from(chunk);
            }
            Err(e) => out.error = Some(e),
        }
    }
}

/// Feed `bytes` to `conn` in the way `feed` says, polling after each step.
fn run(conn: &mut Connection, bytes: &[u8], feed: Feed, poll: Poll) -> Outcome {
    let mut out = Outcome::default();
    let step = |conn: &mut Connection, piece: &[u8], out: &mut Outcome| {
        if let Feed::ReadInto(_) = feed {
            let room = conn.receive_buffer(piece.len());
            room[..piece.len()].copy_from_slice(piece);
            conn.commit_received(piece.len());
        } else {
            conn.receive(piece);
        }
        drain(conn, poll, out);
    };
    match feed {
        Feed::Whole => step(conn, bytes, &mut out),
        Feed::BytePerCall => bytes.chunks(1).for_each(|b| step(conn, b, &mut out)),
        Feed::ReadInto(n) => bytes.chunks(n).for_each(|b| step(conn, b, &mut out)),
    }
    out
}

/// The close frame `conn` queued after failing: code 1009 and our reason, read by hand.
fn assert_closed_with_1009(conn: &Connection, reason: &str) {
    let wire = conn::output(conn);
    // Masked if and only if a client sent it.
    let frames = oracle::decode_all(&wire, conn.role() == Role::Client);
    let Some((b0, payload)) = frames.last() else {
        panic!("no close frame queued")
    };
    assert_eq!(*b0, 0x88, "a final close frame");
    let mut expect = vec![0x03, 0xF1]; // 1009, big-endian
    expect.extend_from_slice(reason.as_bytes());
    assert_eq!(payload, &expect);
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Every path for one (limits, length) case: delivered when `expect` is `None`, else
/// refused with `expect` on the header alone, nothing delivered first.
fn check(config: Config, len: usize, expect: Option<ProtocolError>) {
    let data = payload(len);
    for role in ROLES {
        let frame = oracle::frame(role, b0(true, 0, 2), &data);
        let head = oracle::header(role, b0(true, 0, 2), len as u64).len();
        for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
            for feed in [Feed::Whole, Feed::BytePerCall, Feed::ReadInto(7)] {
                for poll in [Poll::Owned, Poll::Lent] {
                    let mut c = config;
                    c.receive_mode = mode;
                    let mut conn = conn::open(role, c, [3; 32]);
                    let what = format!("{role:?} {mode:?} {feed:?} {poll:?} len {len}");
                    // Refused frames fed in pieces stop at the header: nothing more may be
                    // awaited before the verdict.
                    let bytes = if expect.is_some() && !matches!(feed, Feed::Whole) {
                        &frame[..head]
                    } else {
                        &frame[..]
                    };
                    let out = run(&mut conn, bytes, feed, poll);
                    assert_eq!(out.error, expect, "{what}");
                    // Stream mode delivers chunks only, messages mode whole messages only.
                    let stream = mode == ReceiveMode::Stream;
                    assert_eq!(out.chunks > 0, stream && out.messages > 0, "{what}");
                    match expect {
                        None => {
                            assert_eq!(out.messages, 1, "{what}");
                            assert!(out.data == data, "{what}: payload differs");
                        }
                        Some(err) => {
                            assert_eq!(out.messages, 0, "{what}");
                            assert!(out.data.is_empty(), "{what}");
                            let reason = match err {
                                ProtocolError::MessageTooLarge { .. } => "message too large",
                                _ => "frame too large",
                            };
                            assert_closed_with_1009(&conn, reason);
                        }
                    }
                }
            }
        }
    }
}

/// Limits whose over-by-one frame falls in each length form and on each side of the form
/// boundaries (125/126, 65535/65536).
const LIMITS: [u64; 7] = [50, 124, 125, 1000, 65_534, 65_535, 100_000];

/// A frame of `limit` bytes delivered and one of `limit + 1` refused, with `max_frame` and
/// `max_message` as given (one of them is `limit`): the lower limit (the frame limit when
/// they are equal, being checked first, on the header) names the error.
fn check_limit(max_frame: u64, max_message: u64, limit: u64) {
    let mut config = Config::default();
    config.max_frame_size = max_frame;
    config.max_message_size = max_message;
    let over = if max_frame <= max_message {
        ProtocolError::Frame(FrameError::FrameTooLarge {
            len: limit + 1,
            max: limit,
        })
    } else {
        ProtocolError::MessageTooLarge {
            size: limit + 1,
            max: limit,
        }
    };
    check(config, limit as usize, None);
    check(config, limit as usize + 1, Some(over));
}

#[test]
fn max_message_size_below_max_frame_size_on_every_path() {
    for limit in LIMITS {
        check_limit(1 << 20, limit, limit);
    }
}

#[test]
fn max_frame_size_below_max_message_size_on_every_path() {
    for limit in LIMITS {
        check_limit(limit, 1 << 20, limit);
    }
}

#[test]
fn equal_limits_on_every_path() {
    for limit in [125u64, 65_535] {
        check_limit(limit, limit, limit);
    }
}

/// The default limits (16 MiB frames, 64 MiB messages): a 16 MiB frame whole and read into
/// the buffer 64 KiB at a time, through each poll API and receive mode; one byte more refused
/// on its header on every path. With the defaults the frame limit is the lower one, so a
/// single frame over either limit fails on the frame limit.
#[test]
fn default_limits_on_every_path() {
    let config = Config::default();
    let frame_limit = config.max_frame_size;
    assert_eq!((frame_limit, config.max_message_size), (16 << 20, 64 << 20));
    let data = payload(frame_limit as usize);
    let paths = [
        (ReceiveMode::Messages, Feed::Whole, Poll::Owned),
        (ReceiveMode::Messages, Feed::ReadInto(64 << 10), Poll::Lent),
        (ReceiveMode::Stream, Feed::Whole, Poll::Lent),
        (ReceiveMode::Stream, Feed::ReadInto(64 << 10), Poll::Owned),
    ];
    for role in ROLES {
        let frame = oracle::frame(role, b0(true, 0, 2), &data);
        for (mode, feed, poll) in paths {
            let what = format!("{role:?} {mode:?} {feed:?} {poll:?}");
            let mut c = config;
            c.receive_mode = mode;
            let mut conn = conn::open(role, c, [3; 32]);
            let out = run(&mut conn, &frame, feed, poll);
            assert_eq!(out.error, None, "{what}");
            assert_eq!(out.messages, 1, "{what}");
            assert_eq!(out.chunks > 0, mode == ReceiveMode::Stream, "{what}");
            assert!(out.data == data, "{what}: payload differs");
        }
    }
    check_over_default(frame_limit);
}

/// One byte over the default frame limit, on every path (the header alone).
fn check_over_default(frame_limit: u64) {
    let expect = ProtocolError::Frame(FrameError::FrameTooLarge {
        len: frame_limit + 1,
        max: frame_limit,
    });
    for role in ROLES {
        let over = oracle::header(role, b0(true, 0, 2), frame_limit + 1);
        for mode in [ReceiveMode::Messages, ReceiveMode::Stream] {
            for feed in [Feed::Whole, Feed::BytePerCall, Feed::ReadInto(7)] {
                for poll in [Poll::Owned, Poll::Lent] {
                    let what = format!("{role:?} {mode:?} {feed:?} {poll:?}");
                    let mut c = Config::default();
                    c.receive_mode = mode;
                    let mut conn = conn::open(role, c, [3; 32]);
                    let out = run(&mut conn, &over, feed, poll);
                    assert_eq!(out.error, Some(expect), "{what}");
                    assert_closed_with_1009(&conn, "frame too large");
                }
            }
        }
    }
}

/// The default message limit, reached by fragments of the largest frame allowed: a last
/// fragment in each length form that takes the message to exactly 64 MiB completes it; one
/// byte more is refused on that fragment's header. (The refused ones are received in stream
/// mode, which counts the message the same way without reassembling 64 MiB first; payloads
/// are checked by length and ends, not copied, to keep a debug build quick.)
#[test]
fn default_message_limit_over_fragments() {
    let config = Config::default();
    let (frame, message) = (config.max_frame_size, config.max_message_size);
    let big = payload(frame as usize);
    for role in ROLES {
        // Three full fragments, written once: 48 MiB of the message.
        let first = oracle::frame(role, b0(false, 0, 2), &big);
        let next = oracle::frame(role, b0(false, 0, 0), &big);
        for last in [1u64, 1000, 70_000] {
            let fourth = oracle::frame(role, b0(false, 0, 0), &big[..(frame - last) as usize]);
            for over in [false, true] {
                // A server unmasks 64 MiB per case, slow in a debug build: it completes
                // the message in the 64-bit form only (the client in all three).
                if !over && role == Role::Server && last != 70_000 {
                    continue;
                }
                let what = format!("{role:?} last fragment {last}, over {over}");
                let mut c = config;
                if over {
                    c.receive_mode = ReceiveMode::Stream;
                }
                let mut conn = conn::open(role, c, [3; 32]);
                let mut streamed = 0;
                for bytes in [&first, &next, &next, &fourth] {
                    conn.receive(bytes);
                    while let Some(event) = conn.poll_event_ref().expect(&what) {
                        match event {
                            EventRef::Chunk(c) if over && !c.last => streamed += c.data.len(),
                            other => panic!("{what}: unexpected {other:?}"),
                        }
                    }
                }
                let tail = payload((last + u64::from(over)) as usize);
                conn.receive(&oracle::frame(role, b0(true, 0, 0), &tail));
                let polled = conn.poll_event_ref();
                if over {
                    let size = message + 1;
                    let expect = ProtocolError::MessageTooLarge { size, max: message };
                    assert_eq!(polled, Err(expect), "{what}");
                    assert_eq!(streamed as u64, message - last, "{what}");
                    assert_closed_with_1009(&conn, "message too large");
                } else {
                    let Ok(Some(EventRef::Binary(got))) = polled else {
                        panic!("{what}: {polled:?}")
                    };
                    assert_eq!(got.len() as u64, message, "{what}");
                    assert!(got.ends_with(&tail), "{what}");
                    assert!(got.starts_with(&big[..4096]), "{what}");
                }
            }
        }
    }
}
