//! Property tests of the connection at the edges of the length forms (125/126/127,
//! 65535/65536/65537) and of small configured limits (`max_frame_size`,
//! `max_message_size`, one byte under, at and over), for both roles, fed in random splits
//! through `receive`, through `receive_buffer` + `commit_received` and through
//! `receive_with`, and polled with both APIs. The expected events, error and queued frames come from a model of RFC 6455
//! written here, and the frames are encoded and the output decoded by hand
//! (`support/oracle.rs`): nothing is computed by the crate.
#![cfg(feature = "alloc")]

mod support;
use support::{cases, conn, events, oracle};

use cases::cases;
use events::owned;
use proptest::prelude::*;
use rfc6455::Role;
use rfc6455::bytes::BufMut;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Chunk, Closed, Config, Connection, DataKind, Event, Message, ReceiveMode,
};

/// (max_frame_size, max_message_size): small ones on both sides of each other and of the
/// length forms, and the defaults. Every frame limit is at least 125, so control frames
/// always fit.
const LIMITS: &[(u64, u64)] = &[
    (200, 100),
    (1000, 126),
    (65535, 1000),
    (65536, 65535),
    (126, 65536),
    (127, 127),
    (70_000, 65536),
    (16 << 20, 64 << 20),
];

/// The lengths of the three forms' edges (RFC 6455 section 5.2).
const FORM_EDGES: &[usize] = &[0, 1, 125, 126, 127, 65535, 65536, 65537];

/// One data message as the peer sends it.
#[derive(Clone, Debug)]
struct Msg {
    text: bool,
    len: usize,
    /// Where the payload is cut into fragments.
    cuts: Vec<prop::sample::Index>,
    /// A ping of this length after the first fragment.
    ping: Option<usize>,
    seed: u8,
}

#[derive(Clone, Debug)]
struct Case {
    /// The role of the connection under test (it receives the frames).
    role: Role,
    max_frame: u64,
    max_message: u64,
    msgs: Vec<Msg>,
    /// The peer ends with a close frame (1000, "bye").
    close: bool,
    /// The index of a frame sent with the wrong masking for its direction.
    wrong_mask: Option<prop::sample::Index>,
}

fn length(max_frame: u64, max_message: u64) -> impl Strategy<Value = usize> {
    let mut limits = Vec::new();
    for limit in [max_frame, max_message] {
        for len in [limit - 1, limit, limit + 1] {
            // The default limits are too large to send here: their edges are the
            // lead's long-running tests' business.
            if len <= 70_001 {
                limits.push(len as usize);
            }
        }
    }
    if limits.is_empty() {
        limits.extend_from_slice(FORM_EDGES);
    }
    prop_oneof![
        3 => prop::sample::select(limits),
        2 => prop::sample::select(FORM_EDGES),
        1 => 0..300usize,
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec![Role::Server, Role::Client]),
        prop::sample::select(LIMITS),
    )
        .prop_flat_map(|(role, (max_frame, max_message))| {
            let msg = (
                any::<bool>(),
                length(max_frame, max_message),
                prop::collection::vec(any::<prop::sample::Index>(), 0..3),
                prop::option::weighted(0.3, 0..=125usize),
                any::<u8>(),
            )
                .prop_map(|(text, len, cuts, ping, seed)| Msg {
                    text,
                    len,
                    cuts,
                    ping,
                    seed,
                });
            (
                prop::collection::vec(msg, 1..5),
                any::<bool>(),
                prop::option::weighted(0.15, any::<prop::sample::Index>()),
            )
                .prop_map(move |(msgs, close, wrong_mask)| Case {
                    role,
                    max_frame,
                    max_message,
                    msgs,
                    close,
                    wrong_mask,
                })
        })
}

/// A frame of the case, before encoding.
struct Frame {
    b0: u8,
    payload: Vec<u8>,
}

/// The frames of a case, in order.
fn frames(case: &Case) -> Vec<Frame> {
    let mut out = Vec::new();
    for msg in &case.msgs {
        let payload: Vec<u8> = (0..msg.len)
            .map(|i| {
                if msg.text {
                    b'a' + ((i + usize::from(msg.seed)) % 26) as u8
                } else {
                    (i as u8).wrapping_mul(13) ^ msg.seed
                }
            })
            .collect();
        let mut points: Vec<usize> = msg.cuts.iter().map(|c| c.index(msg.len + 1)).collect();
        points.push(0);
        points.push(msg.len);
        points.sort_unstable();
        let parts = points.len() - 1;
        for (i, w) in points.windows(2).enumerate() {
            let opcode = match (i, msg.text) {
                (0, true) => 1,
                (0, false) => 2,
                _ => 0,
            };
            out.push(Frame {
                b0: oracle::b0(i + 1 == parts, 0, opcode),
                payload: payload[w[0]..w[1]].to_vec(),
            });
            if i == 0 {
                if let Some(n) = msg.ping {
                    out.push(Frame {
                        b0: 0x89,
                        payload: (0..n as u8).collect(),
                    });
                }
            }
        }
    }
    if case.close {
        out.push(Frame {
            b0: 0x88,
            payload: oracle::close_payload(1000, "bye"),
        });
    }
    out
}

/// The bytes on the wire: masked by a client sender (the connection under test is a
/// server), unmasked by a server, except the one frame sent wrongly.
fn wire(case: &Case, frames: &[Frame]) -> Vec<u8> {
    let wrong = case.wrong_mask.map(|i| i.index(frames.len()));
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let masked = (case.role == Role::Server) != (wrong == Some(i));
        let key = [i as u8, 0x5A, 0xA5 ^ i as u8, 0xFF];
        out.extend(oracle::encode(f.b0, masked.then_some(key), &f.payload));
    }
    out
}

/// What must happen: the events, the close code of the failure if any, and the frames
/// queued in reply as (first byte, payload).
struct Expected {
    events: Vec<Event>,
    error: Option<u16>,
    queued: Vec<(u8, Vec<u8>)>,
}

/// The model. Header rules come first, in the order the header is read (the mask bit is
/// in the second byte, the length after it): a wrongly masked frame fails with 1002
/// (section 5.1), a frame over `max_frame_size` with 1009, then a message whose total
/// would pass `max_message_size` with 1009; a failure queues a close frame with the code
/// and ends the connection. Pings are answered with a pong of the same payload (5.5.2),
/// a close frame with a close frame echoing its code (5.5.1).
fn model(case: &Case, frames: &[Frame]) -> Expected {
    let wrong = case.wrong_mask.map(|i| i.index(frames.len()));
    let mut events = Vec::new();
    let mut queued = Vec::new();
    let mut message: Vec<u8> = Vec::new();
    let mut text = false;
    let fail = |queued: &mut Vec<(u8, Vec<u8>)>, code, reason| {
        queued.push((0x88, oracle::close_payload(code, reason)));
        Some(code)
    };
    for (i, f) in frames.iter().enumerate() {
        let len = f.payload.len() as u64;
        if wrong == Some(i) {
            let error = fail(&mut queued, 1002, "invalid frame header");
            return Expected {
                events,
                error,
                queued,
            };
        }
        if len > case.max_frame {
            let error = fail(&mut queued, 1009, "frame too large");
            return Expected {
                events,
                error,
                queued,
            };
        }
        match f.b0 & 0x0F {
            0x9 => {
                events.push(Event::Ping(f.payload.clone().into()));
                queued.push((0x8A, f.payload.clone()));
            }
            0x8 => {
                events.push(Event::Closed(Closed {
                    code: CloseCode(1000),
                    reason: "bye".into(),
                }));
                queued.push((0x88, vec![0x03, 0xE8]));
            }
            opcode => {
                if opcode != 0 {
                    message.clear();
                    text = opcode == 1;
                }
                if message.len() as u64 + len > case.max_message {
                    let error = fail(&mut queued, 1009, "message too large");
                    return Expected {
                        events,
                        error,
                        queued,
                    };
                }
                message.extend_from_slice(&f.payload);
                if f.b0 & 0x80 != 0 {
                    let payload = core::mem::take(&mut message);
                    events.push(Event::Message(if text {
                        Message::Text(String::from_utf8(payload).unwrap().into())
                    } else {
                        Message::Binary(payload.into())
                    }));
                }
            }
        }
    }
    Expected {
        events,
        error: None,
        queued,
    }
}

fn config(case: &Case) -> Config {
    let mut config = Config::default();
    config.max_frame_size = case.max_frame;
    config.max_message_size = case.max_message;
    config
}

/// Poll everything available, with the owned or the borrowed API; the close code on error.
/// Chunks (stream mode) are joined into the message they make up, in `partial` (the
/// message under way, if any).
fn drain(
    conn: &mut Connection,
    borrowed: bool,
    events: &mut Vec<Event>,
    partial: &mut Option<Vec<u8>>,
) -> Result<(), u16> {
    loop {
        let next = if borrowed {
            conn.poll_event_ref().map(|e| e.map(owned))
        } else {
            conn.poll_event()
        };
        match next {
            Ok(Some(Event::Chunk(Chunk {
                kind,
                data,
                first,
                last,
            }))) => {
                // The first chunk of a message, and only it, says so.
                assert_eq!(first, partial.is_none(), "chunk order");
                partial
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&data);
                if last {
                    let payload = partial.take().unwrap_or_default();
                    events.push(Event::Message(match kind {
                        DataKind::Text => Message::Text(String::from_utf8(payload).unwrap().into()),
                        DataKind::Binary => Message::Binary(payload.into()),
                    }));
                }
            }
            Ok(Some(event)) => events.push(event),
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.close_code().unwrap().0),
        }
    }
}

/// How the bytes reach the connection.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// `receive`, polled with `poll_event` (false) or `poll_event_ref` (true).
    Receive(bool),
    /// `receive_buffer` + `commit_received`, polled with `poll_event_ref`.
    ReadInto,
    /// `receive_with` (room not zeroed), polled with `poll_event_ref`.
    ReadWith,
    /// `receive` in stream mode, polled with `poll_event`, the chunks joined.
    Stream,
}

/// Feed `wire` cut at `cuts` (positions into it; for `ReadInto` they bound each read too)
/// and check the outcome against `want`.
fn check(
    case: &Case,
    wire: &[u8],
    cuts: &[usize],
    feed: Feed,
    want: &Expected,
) -> Result<(), TestCaseError> {
    let mut config = config(case);
    if let Feed::Stream = feed {
        config.receive_mode = ReceiveMode::Stream;
    }
    let mut conn = conn::open(case.role, config, [3; 32]);
    let mut partial = None;
    let mut points = cuts.to_vec();
    points.push(wire.len());
    points.sort_unstable();
    let mut events = Vec::new();
    let mut error = None;
    let mut start = 0;
    'feed: for end in points {
        while start < end {
            let n = match feed {
                Feed::Receive(_) | Feed::Stream => {
                    conn.receive(&wire[start..end]);
                    end - start
                }
                Feed::ReadInto => {
                    let room = conn.receive_buffer(end - start);
                    let n = room.len().min(end - start);
                    room[..n].copy_from_slice(&wire[start..start + n]);
                    conn.commit_received(n);
                    n
                }
                Feed::ReadWith => conn.receive_with(end - start, |room| {
                    let n = room.remaining_mut().min(end - start);
                    room.put_slice(&wire[start..start + n]);
                    n
                }),
            };
            start += n;
            let borrowed = matches!(feed, Feed::Receive(true) | Feed::ReadInto | Feed::ReadWith);
            if let Err(code) = drain(&mut conn, borrowed, &mut events, &mut partial) {
                error = Some(code);
                break 'feed;
            }
        }
    }
    prop_assert_eq!(&events, &want.events, "{:?}", feed);
    prop_assert_eq!(error, want.error, "{:?}", feed);
    let output = conn::output(&conn);
    // A server's frames are unmasked, a client's masked (section 5.1).
    let queued = oracle::decode_all(&output, case.role == Role::Client);
    prop_assert_eq!(&queued, &want.queued, "{:?}", feed);
    // A failed connection closes the transport once its close frame is written.
    prop_assert!(!conn.should_close_transport() || output.is_empty());
    if want.error.is_some() {
        conn.advance_output(output.len());
        prop_assert!(conn.should_close_transport());
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn lengths_at_the_form_and_limit_edges_match_the_model(
        case in case(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
    ) {
        let frames = frames(&case);
        let wire = wire(&case, &frames);
        let want = model(&case, &frames);
        let cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        check(&case, &wire, &[], Feed::Receive(false), &want)?;
        check(&case, &wire, &cuts, Feed::Receive(false), &want)?;
        check(&case, &wire, &cuts, Feed::Receive(true), &want)?;
        check(&case, &wire, &cuts, Feed::ReadInto, &want)?;
        check(&case, &wire, &cuts, Feed::ReadWith, &want)?;
        check(&case, &wire, &cuts, Feed::Stream, &want)?;
    }
}

/// The fast path for small single frames applies both limits: a single frame one byte
/// over `max_message_size` but within `max_frame_size` fails with 1009, in the 7- and
/// 16-bit length forms, for both roles, whole and split after its header.
#[test]
fn a_single_frame_over_the_message_limit_within_the_frame_limit_fails() {
    for role in [Role::Server, Role::Client] {
        for (max_frame, max_message) in [(200, 100), (65535, 1000), (1000, 125), (1000, 126)] {
            for len in [max_message - 1, max_message, max_message + 1] {
                let case = Case {
                    role,
                    max_frame,
                    max_message,
                    msgs: vec![Msg {
                        text: len % 2 == 0,
                        len: len as usize,
                        cuts: vec![],
                        ping: None,
                        seed: 1,
                    }],
                    close: false,
                    wrong_mask: None,
                };
                let frames = frames(&case);
                let wire = wire(&case, &frames);
                let want = model(&case, &frames);
                assert_eq!(want.error.is_some(), len > max_message);
                for feed in [
                    Feed::Receive(false),
                    Feed::Receive(true),
                    Feed::ReadInto,
                    Feed::ReadWith,
                    Feed::Stream,
                ] {
                    // Whole, and cut after the header (the general path then).
                    for cuts in [vec![], vec![wire.len() - len as usize]] {
                        check(&case, &wire, &cuts, feed, &want).unwrap();
                    }
                }
            }
        }
    }
}
