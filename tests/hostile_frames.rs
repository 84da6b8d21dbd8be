//! Hostile peers against the connection's frame and message rules: invalid UTF-8 split at
//! every position (across receive calls and across fragments), and every combination of
//! FIN, RSV bits and opcode, on a fresh connection and inside a fragmented message. Each
//! case asserts the exact error, the close code queued for the peer, that nothing is
//! delivered past the error, and that the connection's memory is all returned.
#![cfg(feature = "alloc")]

mod support;
use support::{conn, counting, oracle};

use oracle::{b0, failure, frame};
use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Closed, Config, Event, Message, ProtocolError};
use rfc6455::frame::FrameError;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

/// Texts that are not UTF-8, with what `from_utf8` says about them.
const BAD_TEXT: &[&[u8]] = &[
    b"ab\xC0\xAFcd",                       // overlong '/'
    "κόσμε\u{1}".as_bytes(),               // valid: a control
    b"\xCE\xBA\xE1\xBD\xB9\xED\xA0\x80xy", // a UTF-16 surrogate after "κό"
    b"\xF4\x90\x80\x80",                   // above U+10FFFF
    b"x\xFFy",                             // a byte that never appears
    b"\x80abc",                            // a lone continuation byte
    b"ok\xE2\x82",                         // ends inside a character
    b"\xF0\x9F\x98",                       // ends inside a 4-byte character
    b"",                                   // valid: empty
];

/// The UTF-8 verdict on `text`: `None` if valid, else (offset, incomplete, index of the
/// first byte after which no continuation can make it valid).
fn verdict(text: &[u8]) -> Option<(u64, bool, Option<usize>)> {
    let e = core::str::from_utf8(text).err()?;
    let impossible = (0..text.len())
        .find(|&i| core::str::from_utf8(&text[..=i]).is_err_and(|e| e.error_len().is_some()));
    Some((e.valid_up_to() as u64, e.error_len().is_none(), impossible))
}

/// Polls once; `Some(Ok(text))` for a text message, `Some(Err((offset, incomplete)))`
/// for a UTF-8 failure, `None` for nothing yet.
fn poll_text(conn: &mut rfc6455::connection::Connection) -> Option<Result<Vec<u8>, (u64, bool)>> {
    match conn.poll_event() {
        Ok(None) => None,
        Ok(Some(Event::Message(Message::Text(t)))) => Some(Ok(t.as_bytes().to_vec())),
        Err(ProtocolError::Utf8(e)) => {
            assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
            assert_eq!(oracle::close_sent(conn), Some(1007));
            assert_eq!(conn.poll_event(), Ok(None));
            Some(Err((e.offset(), e.is_incomplete())))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_utf8_split_at_every_position() {
    let mut cases = 0;
    for role in ROLES {
        for &text in BAD_TEXT {
            let verdict = verdict(text);
            let expected = match verdict {
                None => Ok(text.to_vec()),
                Some((offset, incomplete, _)) => Err((offset, incomplete)),
            };
            for split in 0..=text.len() {
                // Fail fast: the error comes with the first piece if the impossible byte
                // is in it; otherwise with the rest.
                let early = matches!(verdict, Some((_, _, Some(i))) if i < split);
                let before = counting::live();
                {
                    // One frame, its bytes split in two receive calls inside the payload.
                    let whole = frame(role, b0(true, 0, 1), text);
                    let cut = whole.len() - text.len() + split;
                    let mut conn = conn::open(role, Config::default(), [7; 32]);
                    conn.receive(&whole[..cut]);
                    let first = poll_text(&mut conn);
                    conn.receive(&whole[cut..]);
                    let second = poll_text(&mut conn);
                    // A frame whose bytes are all in the first piece completes there.
                    let got = if early || split == text.len() {
                        assert_eq!(second, None);
                        first
                    } else {
                        assert_eq!(first, None, "{text:?} split at {split}: too early");
                        second
                    };
                    assert_eq!(got, Some(expected.clone()), "{role:?} {text:?} at {split}");

                    // Two fragments split at the same place.
                    let mut conn = conn::open(role, Config::default(), [7; 32]);
                    conn.receive(&frame(role, b0(false, 0, 1), &text[..split]));
                    let first = poll_text(&mut conn);
                    conn.receive(&frame(role, b0(true, 0, 0), &text[split..]));
                    let second = poll_text(&mut conn);
                    let got = if early {
                        assert_eq!(second, None);
                        first
                    } else {
                        assert_eq!(first, None, "{text:?} fragmented at {split}: too early");
                        second
                    };
                    assert_eq!(
                        got,
                        Some(expected.clone()),
                        "{role:?} {text:?} frag {split}"
                    );
                }
                // Everything the connections held was returned.
                assert_eq!(counting::live(), before);
                cases += 2;
            }
        }
    }
    assert_eq!(
        cases,
        2 * 2 * BAD_TEXT.iter().map(|t| t.len() + 1).sum::<usize>()
    );
}

/// What RFC 6455 section 5.2 makes of a frame with an empty payload and this first byte,
/// with no extension negotiated: the error, or `None` if the frame is valid.
fn rule(fin: bool, rsv: u8, opcode: u8, in_message: bool) -> Option<ProtocolError> {
    Some(if rsv != 0 {
        ProtocolError::Frame(FrameError::ReservedBits(rsv))
    } else if matches!(opcode, 3..=7 | 11..=15) {
        ProtocolError::Frame(FrameError::ReservedOpcode(opcode))
    } else if opcode >= 8 && !fin {
        ProtocolError::Frame(FrameError::FragmentedControl)
    } else if opcode == 0 && !in_message {
        ProtocolError::UnexpectedContinuation
    } else if matches!(opcode, 1 | 2) && in_message {
        ProtocolError::ExpectedContinuation
    } else {
        return None;
    })
}

#[test]
fn every_opcode_rsv_and_fin_combination() {
    let mut refused = 0;
    let mut accepted = 0;
    for role in ROLES {
        for in_message in [false, true] {
            for fin in [false, true] {
                for rsv in 0..8u8 {
                    for opcode in 0..16u8 {
                        let case = format!("{role:?} in message {in_message} {fin} {rsv} {opcode}");
                        let before = counting::live();
                        counting::reset_peak();
                        {
                            let mut conn = conn::open(role, Config::default(), [7; 32]);
                            if in_message {
                                conn.receive(&frame(role, b0(false, 0, 1), b"a"));
                                assert_eq!(conn.poll_event(), Ok(None));
                            }
                            conn.receive(&frame(role, b0(fin, rsv, opcode), b""));
                            if let Some(err) = rule(fin, rsv, opcode, in_message) {
                                assert_eq!(failure(&mut conn), err, "{case}");
                                assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
                                refused += 1;
                            } else {
                                let event = conn.poll_event().unwrap();
                                let expected = match (opcode, fin) {
                                    (1, true) => Some(Event::Message(Message::Text("".into()))),
                                    (2, true) => {
                                        Some(Event::Message(Message::Binary(Default::default())))
                                    }
                                    (0, true) => Some(Event::Message(Message::Text("a".into()))),
                                    (0..=2, false) => None,
                                    (8, _) => Some(Event::Closed(Closed {
                                        code: CloseCode::NO_STATUS,
                                        reason: String::new(),
                                    })),
                                    (9, _) => Some(Event::Ping(Default::default())),
                                    (10, _) => Some(Event::Pong(Default::default())),
                                    _ => unreachable!("{case}"),
                                };
                                assert_eq!(event, expected, "{case}");
                                accepted += 1;
                            }
                        }
                        // A few hundred bytes while it lasted, all returned.
                        assert!(counting::peak() - before < 1024, "{case}");
                        assert_eq!(counting::live(), before, "{case}");
                    }
                }
            }
        }
    }
    // Of 1024 cases only RSV 0 with a defined opcode can pass: 2 roles x 2 contexts x
    // (6 opcodes with FIN + 3 without) = 36, less the 2 x 2 x 3 data opcodes in the wrong
    // context.
    assert_eq!((accepted, refused), (24, 1000));
}

#[test]
fn a_frame_split_at_every_byte_is_refused_at_the_same_point() {
    // A masked frame with RSV2 and, separately, a control frame without FIN: each byte fed
    // alone; the error comes at the first byte that decides it, before the rest arrives.
    for role in ROLES {
        for (first, err) in [
            (b0(true, 2, 1), FrameError::ReservedBits(2)),
            (b0(false, 0, 9), FrameError::FragmentedControl),
            (b0(true, 0, 0xB), FrameError::ReservedOpcode(0xB)),
        ] {
            let bytes = frame(role, first, b"payload");
            let mut conn = conn::open(role, Config::default(), [7; 32]);
            conn.receive(&bytes[..1]);
            assert_eq!(conn.poll_event(), Err(ProtocolError::Frame(err)));
            assert_eq!(oracle::close_sent(&conn), Some(1002));
            for b in &bytes[1..] {
                conn.receive(&[*b]);
                assert_eq!(conn.poll_event(), Ok(None));
            }
        }
        // The wrong masking for the role is refused on the second byte.
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let other = if role == Role::Server {
            Role::Client
        } else {
            Role::Server
        };
        let bytes = frame(other, b0(true, 0, 1), b"x");
        conn.receive(&bytes[..1]);
        assert_eq!(conn.poll_event(), Ok(None));
        conn.receive(&bytes[1..2]);
        let expected = if role == Role::Server {
            FrameError::UnmaskedFrame
        } else {
            FrameError::MaskedFrame
        };
        assert_eq!(failure(&mut conn), ProtocolError::Frame(expected));
    }
}
