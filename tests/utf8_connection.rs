//! Invalid UTF-8 at every position of text messages on a server connection, at the lengths
//! where validation takes different paths: 16 to 63 bytes (padded to the vector check's
//! width), 64 and more (the vector check itself), sent as one frame fed whole, as one
//! frame fed in two reads, and as two fragments. The oracle is `core::str::from_utf8`:
//! a message it accepts is delivered unchanged, one it rejects fails the connection with
//! 1007 and nothing else.
#![cfg(feature = "alloc")]

mod support;
use support::{conn, oracle};

use rfc6455::connection::{Config, Event, Message};

const KEY: [u8; 4] = [0x5A, 0xC3, 0x01, 0xFE];

/// How the message reaches the server.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// One frame, one read.
    Whole,
    /// One frame, read in two parts cut after this many payload bytes.
    Reads(usize),
    /// Two fragments, the first with this many payload bytes.
    Fragments(usize),
}

/// Valid text of exactly `len` bytes: ASCII only, or mixed 1- to 4-byte characters
/// (topped up with ASCII to the exact length).
fn base_text(len: usize, mixed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    if mixed {
        for c in "aé€😀ü߿\u{800}\u{10FFFF}z".chars().cycle() {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            if out.len() + bytes.len() > len {
                break;
            }
            out.extend_from_slice(bytes);
        }
    }
    while out.len() < len {
        out.push(b'a' + (out.len() % 26) as u8);
    }
    out
}

/// Sequences that are invalid wherever they stand: a byte that never occurs, a lone
/// continuation byte, an overlong NUL, a surrogate, a code point past U+10FFFF, and a
/// lead byte followed by ASCII.
const BAD: &[&[u8]] = &[
    &[0xFF],
    &[0x80],
    &[0xC0, 0x80],
    &[0xED, 0xA0, 0x80],
    &[0xF4, 0x90, 0x80, 0x80],
    &[0xE2, 0x82, b'x'],
];

/// The close frame a server queues on invalid text: unmasked, FIN + close, length 2 + 21,
/// code 1007 = 0x03EF, the reason.
fn close_1007() -> Vec<u8> {
    let mut f = vec![0x88, 23, 0x03, 0xEF];
    f.extend_from_slice(b"invalid UTF-8 in text");
    f
}

/// Send `payload` as text to a fresh server and check the outcome against the oracle.
fn check(payload: &[u8], feed: Feed) {
    let reads: Vec<Vec<u8>> = match feed {
        Feed::Whole => vec![oracle::encode(0x81, Some(KEY), payload)],
        Feed::Reads(cut) => {
            let wire = oracle::encode(0x81, Some(KEY), payload);
            let head = wire.len() - payload.len();
            vec![wire[..head + cut].to_vec(), wire[head + cut..].to_vec()]
        }
        Feed::Fragments(cut) => vec![
            oracle::encode(0x01, Some(KEY), &payload[..cut]),
            oracle::encode(0x80, Some(KEY), &payload[cut..]),
        ],
    };
    let mut conn = conn::open_server(Config::default());
    let mut events = Vec::new();
    let mut error = None;
    'feed: for read in &reads {
        conn.receive(read);
        loop {
            match conn.poll_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e.close_code().unwrap().0);
                    break 'feed;
                }
            }
        }
    }
    let output = conn::output(&conn);
    match core::str::from_utf8(payload) {
        Ok(text) => {
            assert_eq!(error, None, "valid {payload:02x?} rejected ({feed:?})");
            assert_eq!(events, [Event::Message(Message::Text(text.into()))]);
            assert!(output.is_empty());
        }
        Err(_) => {
            assert_eq!(error, Some(1007), "invalid {payload:02x?} ({feed:?})");
            assert!(events.is_empty(), "{events:?}");
            assert_eq!(output, close_1007(), "{payload:02x?} ({feed:?})");
        }
    }
}

/// Every length from 16 to `max`, every position, every bad sequence, both base texts;
/// each fed whole, in two reads and as two fragments, cut in the middle.
fn every_position(lengths: impl Iterator<Item = usize>) -> usize {
    let mut invalid = 0;
    for len in lengths {
        for mixed in [false, true] {
            let base = base_text(len, mixed);
            assert_eq!(base.len(), len);
            for feed in [Feed::Whole, Feed::Reads(len / 2), Feed::Fragments(len / 2)] {
                check(&base, feed);
            }
            for bad in BAD {
                for at in 0..=len - bad.len() {
                    let mut text = base.clone();
                    text[at..at + bad.len()].copy_from_slice(bad);
                    invalid += usize::from(core::str::from_utf8(&text).is_err());
                    for feed in [Feed::Whole, Feed::Reads(len / 2), Feed::Fragments(len / 2)] {
                        check(&text, feed);
                    }
                }
            }
        }
    }
    invalid
}

#[test]
fn padded_lengths_16_to_63_fail_with_1007_at_every_position() {
    let invalid = every_position(16..=63);
    // Nearly every placement is invalid (a few lone continuation bytes land after a lead
    // of the mixed text and make a valid character).
    assert!(invalid > 20_000, "{invalid}");
}

#[test]
fn vector_lengths_64_to_97_fail_with_1007_at_every_position() {
    // One 64-byte block of the vector check and tails of 0 to 16 and 31 to 33 bytes.
    let invalid = every_position((64..=80).chain(95..=97));
    assert!(invalid > 15_000, "{invalid}");
}

#[test]
fn vector_lengths_of_two_and_four_blocks_fail_with_1007_at_every_position() {
    // One byte short of, at and past two blocks; four blocks.
    let invalid = every_position([127, 128, 129, 256].into_iter());
    assert!(invalid > 7_000, "{invalid}");
}

#[test]
fn every_fragment_split_and_read_split_of_a_bad_message() {
    // All cuts, for one length of each path: every position of two bad sequences in both
    // texts of 40 bytes, and of a surrogate (three bytes that a cut can part) in the mixed
    // text of 100.
    type Case<'a> = (usize, &'a [bool], &'a [&'a [u8]]);
    let cases: [Case; 2] = [
        (40, &[false, true], &[&[0xFF], &[0xED, 0xA0, 0x80]]),
        (100, &[true], &[&[0xED, 0xA0, 0x80]]),
    ];
    for (len, flavors, bads) in cases {
        for &mixed in flavors {
            let base = base_text(len, mixed);
            for cut in 0..=len {
                check(&base, Feed::Fragments(cut));
                check(&base, Feed::Reads(cut));
            }
            for bad in bads {
                for at in 0..=len - bad.len() {
                    let mut text = base.clone();
                    text[at..at + bad.len()].copy_from_slice(bad);
                    for cut in 0..=len {
                        check(&text, Feed::Fragments(cut));
                        check(&text, Feed::Reads(cut));
                    }
                }
            }
        }
    }
}

#[test]
fn a_character_cut_off_at_the_end_fails_with_1007() {
    // The first bytes of a 2-, 3- and 4-byte character end the message.
    let cut_offs: [&[u8]; 6] = [
        &[0xC3],
        &[0xE2],
        &[0xE2, 0x82],
        &[0xF0],
        &[0xF0, 0x9F],
        &[0xF0, 0x9F, 0x98],
    ];
    for len in (16..=130).chain([255, 256, 257, 1000]) {
        for mixed in [false, true] {
            for tail in cut_offs {
                let mut text = base_text(len - tail.len(), mixed);
                text.extend_from_slice(tail);
                assert!(core::str::from_utf8(&text).is_err());
                for feed in [
                    Feed::Whole,
                    Feed::Reads(len / 2),
                    Feed::Reads(len - 1),
                    Feed::Fragments(len / 2),
                    Feed::Fragments(len - 1),
                    Feed::Fragments(len),
                ] {
                    check(&text, feed);
                }
            }
        }
    }
}
