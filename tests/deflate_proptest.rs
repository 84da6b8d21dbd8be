//! Property tests of permessage-deflate through the connection (RFC 7692): random messages
//! (text and binary, up to 200 KiB, compressible and random stretches), random
//! fragmentation with control frames between fragments, random parameters on both ends
//! (windows, context takeover, level, threshold), both roles sending. The wire reaches the
//! peer in random pieces, and every message arrives byte-exact and in order, whole
//! (`ReceiveMode::Messages`) and in pieces (`ReceiveMode::Stream`: the chunks of a message
//! join to it, none above 16 KiB when it was compressed); and the same wire fed whole gives
//! exactly the same events as fed in pieces.
#![cfg(feature = "deflate")]

mod support;

use proptest::prelude::*;
use rfc6455::connection::{Config, Connection, DataKind, Event, Message, ReceiveMode};
use rfc6455::deflate::DeflateConfig;
use support::conn::take_output;
use support::deflate::negotiated;

/// The largest piece a compressed message is handed out in, in stream mode.
const INFLATE_STEP: usize = 16 << 10;

/// A stretch of a message's bytes.
#[derive(Clone, Debug)]
enum Stretch {
    /// Incompressible bytes from this seed.
    Noise(u64, usize),
    /// A short pattern repeated (compresses well; matches at any distance up to its length).
    Repeat(Vec<u8>, usize),
}

/// One message as sent: its kind, its stretches, where it is cut into fragments (empty:
/// sent whole with `send_text` / `send_binary`), and whether a ping goes out after each
/// fragment but the last.
#[derive(Clone, Debug)]
struct Spec {
    text: bool,
    stretches: Vec<Stretch>,
    cuts: Vec<usize>,
    ping: bool,
}

fn stretch() -> impl Strategy<Value = Stretch> {
    prop_oneof![
        3 => (any::<u64>(), 0usize..2000).prop_map(|(s, n)| Stretch::Noise(s, n)),
        1 => (any::<u64>(), 2000usize..(120 << 10)).prop_map(|(s, n)| Stretch::Noise(s, n)),
        3 => (prop::collection::vec(any::<u8>(), 1..40), 0usize..4000)
            .prop_map(|(p, n)| Stretch::Repeat(p, n)),
        1 => (prop::collection::vec(any::<u8>(), 1..300), 4000usize..(120 << 10))
            .prop_map(|(p, n)| Stretch::Repeat(p, n)),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        prop::collection::vec(stretch(), 0..4),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(any::<usize>(), 0..5),
        ],
        any::<bool>(),
    )
        .prop_map(|(text, stretches, cuts, ping)| Spec {
            text,
            stretches,
            cuts,
            ping,
        })
}

/// The bytes of a message: its stretches joined, at most 200 KiB; text made valid UTF-8
/// (invalid sequences replaced, then cut back to a character boundary within the size).
fn payload(spec: &Spec) -> Vec<u8> {
    const MAX: usize = 200 << 10;
    let mut bytes = Vec::new();
    for s in &spec.stretches {
        match s {
            Stretch::Noise(seed, n) => bytes.extend(support::noise::bytes(*n, *seed)),
            Stretch::Repeat(p, n) => bytes.extend(p.iter().copied().cycle().take(*n)),
        }
    }
    bytes.truncate(MAX);
    if !spec.text {
        return bytes;
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.into_bytes()
}

/// One end's permessage-deflate settings.
fn deflate_config() -> impl Strategy<Value = DeflateConfig> {
    (
        8u8..=15,
        8u8..=15,
        any::<bool>(),
        any::<bool>(),
        0u8..=9,
        prop::sample::select(vec![0usize, 1, 32, 4096, 1 << 20]),
    )
        .prop_map(
            |(peer_bits, own_bits, peer_nct, own_nct, level, threshold)| {
                DeflateConfig::new()
                    .enabled(true)
                    .peer_max_window_bits(peer_bits)
                    .own_max_window_bits(own_bits)
                    .peer_no_context_takeover(peer_nct)
                    .own_no_context_takeover(own_nct)
                    .level(level)
                    .threshold(threshold)
            },
        )
}

/// What one message should arrive as.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Want {
    kind: DataKind,
    bytes: Vec<u8>,
    /// It goes out compressed (fragmented, or at least the threshold long).
    compressed: bool,
}

/// Send `specs` from `sender`, taking its output after every call; the wire and what
/// each message should arrive as.
fn send_all(sender: &mut Connection, specs: &[Spec], threshold: usize) -> (Vec<u8>, Vec<Want>) {
    let mut wire = Vec::new();
    let mut wants = Vec::new();
    for spec in specs {
        let bytes = payload(spec);
        let kind = if spec.text {
            DataKind::Text
        } else {
            DataKind::Binary
        };
        let fragmented = !spec.cuts.is_empty();
        if fragmented {
            let mut points: Vec<usize> = spec.cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            points.push(bytes.len());
            let mut start = 0;
            for (i, &end) in points.iter().enumerate() {
                let fin = i + 1 == points.len();
                // Cuts fall anywhere, inside characters too.
                sender
                    .send_fragment(kind, &bytes[start..end], fin)
                    .expect("fragment queued");
                wire.extend(take_output(sender));
                start = end;
                if spec.ping && !fin {
                    sender.send_ping(&(i as u32).to_be_bytes()).unwrap();
                    wire.extend(take_output(sender));
                }
            }
        } else if spec.text {
            sender
                .send_text(core::str::from_utf8(&bytes).unwrap())
                .expect("text queued");
            wire.extend(take_output(sender));
        } else {
            sender.send_binary(&bytes).expect("binary queued");
            wire.extend(take_output(sender));
        }
        wants.push(Want {
            kind,
            compressed: fragmented || bytes.len() >= threshold,
            bytes,
        });
    }
    (wire, wants)
}

/// Everything the receiver delivers for `wire` fed in the pieces `cuts` make, polled
/// after each piece: data messages (stream chunks joined, with the size of each chunk)
/// and the pings' payloads, in order, as one list of events for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    Message(DataKind, Vec<u8>),
    /// A stream chunk: kind, bytes, first, last.
    Chunk(DataKind, Vec<u8>, bool, bool),
    Ping(Vec<u8>),
}

fn feed(receiver: &mut Connection, wire: &[u8], cuts: &[usize]) -> Vec<Got> {
    feed_polling(receiver, wire, cuts, usize::MAX)
}

/// [`feed`], polling at most `polls` events after each piece but the last (so more bytes
/// arrive while a frame is partly inflated), and then until nothing is left.
fn feed_polling(receiver: &mut Connection, wire: &[u8], cuts: &[usize], polls: usize) -> Vec<Got> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    points.push(wire.len());
    let last = points.len() - 1;
    let mut got = Vec::new();
    let mut start = 0;
    for (i, end) in points.into_iter().enumerate() {
        receiver.receive(&wire[start..end]);
        start = end;
        let mut budget = if i == last { usize::MAX } else { polls };
        while budget > 0 {
            budget -= 1;
            let Some(event) = receiver.poll_event().expect("no protocol error") else {
                break;
            };
            got.push(match event {
                Event::Message(m) => {
                    let kind = match &m {
                        Message::Text(_) => DataKind::Text,
                        Message::Binary(_) => DataKind::Binary,
                    };
                    Got::Message(kind, m.as_bytes().to_vec())
                }
                Event::Chunk(c) => Got::Chunk(c.kind, c.data.to_vec(), c.first, c.last),
                Event::Ping(p) => Got::Ping(p.to_vec()),
                other => panic!("unexpected {other:?}"),
            });
        }
    }
    got
}

/// The messages in `got` (chunks joined), checking each stream chunk's flags, that a
/// compressed message's chunks are at most [`INFLATE_STEP`] bytes, and that the pings
/// come between the fragments they were sent between (only their count is checked: a
/// ping is delivered as soon as it is whole).
fn messages(got: &[Got], wants: &[Want]) -> Result<Vec<Want>, TestCaseError> {
    let mut out: Vec<Want> = Vec::new();
    let mut current: Option<(DataKind, Vec<u8>, usize)> = None;
    for event in got {
        match event {
            Got::Message(kind, bytes) => {
                prop_assert!(current.is_none());
                out.push(Want {
                    kind: *kind,
                    bytes: bytes.clone(),
                    compressed: false,
                });
            }
            Got::Chunk(kind, data, first, last) => {
                match &mut current {
                    None => {
                        prop_assert!(*first, "a message's first chunk not marked first");
                        current = Some((*kind, data.clone(), data.len()));
                    }
                    Some((k, acc, largest)) => {
                        prop_assert!(!*first, "first chunk inside a message");
                        prop_assert_eq!(*k, *kind);
                        acc.extend_from_slice(data);
                        *largest = (*largest).max(data.len());
                    }
                }
                if *last {
                    let (kind, bytes, largest) = current.take().unwrap();
                    let index = out.len();
                    if wants.get(index).is_some_and(|w| w.compressed) {
                        prop_assert!(
                            largest <= INFLATE_STEP,
                            "a chunk of {} bytes of compressed message {}",
                            largest,
                            index
                        );
                    }
                    out.push(Want {
                        kind,
                        bytes,
                        compressed: false,
                    });
                }
            }
            Got::Ping(_) => {}
        }
    }
    prop_assert!(current.is_none(), "a message left unfinished");
    Ok(out)
}

fn strip(wants: &[Want]) -> Vec<Want> {
    wants
        .iter()
        .map(|w| Want {
            compressed: false,
            ..w.clone()
        })
        .collect()
}

/// Pings sent between fragments, in order.
fn pings(got: &[Got]) -> Vec<Vec<u8>> {
    got.iter()
        .filter_map(|g| match g {
            Got::Ping(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn pings_sent(specs: &[Spec]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for spec in specs {
        if spec.ping && !spec.cuts.is_empty() {
            let n = spec.cuts.len();
            out.extend((0..n as u32).map(|i| i.to_be_bytes().to_vec()));
        }
    }
    out
}

fn config(deflate: DeflateConfig, mode: ReceiveMode) -> Config {
    Config::new().deflate(deflate).receive_mode(mode)
}

/// One direction: `specs` sent by the client (or the server), received in both modes,
/// split and whole.
fn direction(
    client: DeflateConfig,
    server: DeflateConfig,
    from_client: bool,
    specs: &[Spec],
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    let pair = |mode| {
        let (c, s) = negotiated(config(client, mode), config(server, mode));
        if from_client { (c, s) } else { (s, c) }
    };
    let (mut sender, mut receiver) = pair(ReceiveMode::Messages);
    prop_assert!(sender.deflate_params().is_some());
    prop_assert_eq!(sender.deflate_params(), receiver.deflate_params());
    let threshold = if from_client {
        client.threshold
    } else {
        server.threshold
    };
    let (wire, wants) = send_all(&mut sender, specs, threshold);

    // Messages mode, split and whole: the same events.
    let split = feed(&mut receiver, &wire, cuts);
    let (_, mut whole_receiver) = pair(ReceiveMode::Messages);
    let whole = feed(&mut whole_receiver, &wire, &[]);
    prop_assert_eq!(&split, &whole);
    prop_assert_eq!(messages(&split, &wants)?, strip(&wants));
    prop_assert_eq!(pings(&split), pings_sent(specs));

    // Messages mode, one poll after each piece: more bytes arrive while a frame is partly
    // inflated (or a piece handed out), and the events are still the same.
    let (_, mut lagging) = pair(ReceiveMode::Messages);
    prop_assert_eq!(&feed_polling(&mut lagging, &wire, cuts, 1), &whole);

    // Stream mode, split (polled once per piece, so pieces of 16 KiB wait while more bytes
    // arrive) and whole: the same messages, in chunks of at most 16 KiB when compressed
    // (chunks follow what arrived, so their boundaries may differ).
    for (pieces, polls) in [(cuts, 1), (&[][..], usize::MAX)] {
        let (stream_sender, mut stream_receiver) = pair(ReceiveMode::Stream);
        prop_assert_eq!(stream_sender.deflate_params(), sender.deflate_params());
        let got = feed_polling(&mut stream_receiver, &wire, pieces, polls);
        prop_assert_eq!(messages(&got, &wants)?, strip(&wants));
        prop_assert_eq!(pings(&got), pings_sent(specs));
    }
    Ok(())
}

proptest! {
    #![proptest_config(support::cases::cases(48))]

    #[test]
    fn compressed_messages_arrive_byte_exact_in_any_split(
        client in deflate_config(),
        server in deflate_config(),
        from_client in prop::collection::vec(spec(), 0..4),
        from_server in prop::collection::vec(spec(), 0..4),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        direction(client, server, true, &from_client, &cuts)?;
        direction(client, server, false, &from_server, &cuts)?;
    }
}

/// Many small pieces: every byte boundary of a short compressed conversation, one byte
/// at a time, gives the same events as the whole wire (the cut points above are few).
#[test]
fn byte_at_a_time_gives_the_same_events_as_whole() {
    let deflate = DeflateConfig::new().enabled(true).threshold(0);
    let specs = vec![
        Spec {
            text: true,
            stretches: vec![Stretch::Repeat("héllo wörld ".into(), 3000)],
            cuts: vec![1, 700, 701],
            ping: true,
        },
        Spec {
            text: false,
            stretches: vec![Stretch::Noise(3, 500), Stretch::Repeat(vec![0, 1, 2], 900)],
            cuts: Vec::new(),
            ping: false,
        },
    ];
    let (mut c, mut s) = negotiated(
        config(deflate, ReceiveMode::Messages),
        config(deflate, ReceiveMode::Messages),
    );
    let (wire, wants) = send_all(&mut c, &specs, 0);
    let every: Vec<usize> = (0..wire.len()).collect();
    let split = feed(&mut s, &wire, &every);
    let (_, mut s2) = negotiated(
        config(deflate, ReceiveMode::Messages),
        config(deflate, ReceiveMode::Messages),
    );
    let whole = feed(&mut s2, &wire, &[]);
    assert_eq!(split, whole);
    assert_eq!(messages(&whole, &wants).unwrap(), strip(&wants));
}
