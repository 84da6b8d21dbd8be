//! Property tests of the connection: any split of the input gives the same events as the
//! whole input, and two connections wired back to back exchange messages losslessly.
#![cfg(feature = "alloc")]

mod support;
use proptest::prelude::*;
use rfc6455::Role;
use rfc6455::bytes::BufMut;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Connection, DataKind, Event, Message, ProtocolError};
use rfc6455::frame::Rsv;
use support::{conn, events, oracle};

/// One frame as a client would put it on the wire, valid or not.
#[derive(Clone, Debug)]
struct WireFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: Vec<u8>,
    key: [u8; 4],
}

fn opcode_strategy() -> impl Strategy<Value = u8> {
    // Mostly valid opcodes, sometimes a reserved one.
    prop_oneof![
        8 => prop::sample::select(vec![0u8, 1, 2, 8, 9, 10]),
        1 => 0u8..16,
    ]
}

fn payload_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Text-like payloads, sometimes with invalid UTF-8.
        "[a-zé€😀]{0,40}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..200),
        // Close-frame-like payloads: a code (often one that may be sent) and a short reason.
        (
            prop_oneof![
                prop::sample::select(vec![1000u16, 1001, 1003, 1007, 1008, 1011, 3000, 4999]),
                any::<u16>(),
            ],
            "[a-z]{0,10}",
        )
            .prop_map(|(c, r)| {
                let mut v = c.to_be_bytes().to_vec();
                v.extend(r.into_bytes());
                v
            }),
    ]
}

fn frame_strategy() -> impl Strategy<Value = WireFrame> {
    (
        prop::bool::weighted(0.7),
        prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 4, 1]),
        opcode_strategy(),
        payload_strategy(),
        any::<[u8; 4]>(),
    )
        .prop_map(|(fin, rsv, opcode, payload, key)| WireFrame {
            fin,
            rsv,
            opcode,
            payload,
            key,
        })
}

/// The frames on the wire, encoded by the test (any first byte, valid or not), as a peer
/// of `receiver` sends them: masked to a server, unmasked to a client.
fn encode(receiver: Role, frames: &[WireFrame]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| {
            let key = (receiver == Role::Server).then_some(f.key);
            oracle::encode(oracle::b0(f.fin, f.rsv, f.opcode), key, &f.payload)
        })
        .collect()
}

/// What the connection queued, read back by hand, against what its events call for: a
/// pong with the payload of each ping (RFC 6455 section 5.5.2), the echo of a close
/// frame's code (5.5.1; none for a close without a code), and after a failure a last
/// close frame with the error's code and a UTF-8 reason that fits (5.5).
fn check_reply(
    role: Role,
    events: &[Event],
    error: Option<CloseCode>,
    output: &[u8],
) -> Result<(), TestCaseError> {
    let mut queued = oracle::decode_all(output, role == Role::Client);
    let mut want = Vec::new();
    for event in events {
        match event {
            Event::Ping(p) => want.push((0x8A, p.to_vec())),
            Event::Closed(c) if c.code == CloseCode::NO_STATUS => want.push((0x88, vec![])),
            Event::Closed(c) => want.push((0x88, c.code.0.to_be_bytes().to_vec())),
            _ => {}
        }
    }
    if let Some(code) = error {
        let last = queued.pop();
        prop_assert!(last.is_some(), "no close frame after a failure");
        let (b0, payload) = last.unwrap_or_default();
        prop_assert_eq!(b0, 0x88);
        prop_assert!(payload.len() >= 2 && payload.len() <= 125, "{:?}", payload);
        prop_assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code.0);
        prop_assert!(core::str::from_utf8(&payload[2..]).is_ok());
    }
    prop_assert_eq!(queued, want);
    Ok(())
}

type Poll = fn(&mut Connection) -> Result<Option<Event>, ProtocolError>;

/// Poll until nothing is left, collecting events; the close code of an error.
fn drain(conn: &mut Connection, poll: Poll, events: &mut Vec<Event>) -> Result<(), CloseCode> {
    loop {
        match poll(conn) {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.close_code().unwrap()),
        }
    }
}

/// Feed `wire` in the given pieces and collect events with `poll`, stopping at the first
/// error.
fn run_with(
    role: Role,
    wire: &[u8],
    cuts: &[usize],
    poll: Poll,
) -> (Vec<Event>, Option<CloseCode>, Vec<u8>) {
    let mut conn = conn::open(role, Config::default(), [0; 32]);
    let mut events = Vec::new();
    let mut error = None;
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    points.push(wire.len());
    for end in points {
        conn.receive(&wire[start..end]);
        start = end;
        if let Err(code) = drain(&mut conn, poll, &mut events) {
            error = Some(code);
            break;
        }
    }
    let output = conn::output(&conn);
    (events, error, output)
}

fn run(role: Role, wire: &[u8], cuts: &[usize]) -> (Vec<Event>, Option<CloseCode>, Vec<u8>) {
    run_with(role, wire, cuts, Connection::poll_event)
}

/// The same through the borrowed API, with events turned into owned ones.
fn run_ref(role: Role, wire: &[u8], cuts: &[usize]) -> (Vec<Event>, Option<CloseCode>, Vec<u8>) {
    run_with(role, wire, cuts, |conn| {
        Ok(conn.poll_event_ref()?.map(events::owned))
    })
}

/// Feed `wire` by reading it into `receive_buffer` (or with `receive_with` if `spare`),
/// as a socket would: each read asks for the next of `wants` (cycled) and fills the next
/// of `fills` (a per-mille share of the room, cycled), so reads stop short, fill the room,
/// or return nothing. The rest of each lent slice is scribbled over, as a failed or short
/// read might leave it.
fn run_read_into(
    spare: bool,
    wire: &[u8],
    wants: &[usize],
    fills: &[u16],
    config: Config,
) -> (Vec<Event>, Option<CloseCode>, Vec<u8>) {
    let mut conn = conn::open_server(config);
    let mut events = Vec::new();
    let mut error = None;
    let mut start = 0;
    let mut i = 0;
    while start < wire.len() {
        let want = wants[i % wants.len()];
        let fill = usize::from(fills[i % fills.len()]);
        let rest = &wire[start..];
        let n = if spare {
            // Room to append to, in two pieces; what the read does not fill is not input.
            conn.receive_with(want, |room| {
                let len = room.remaining_mut();
                assert!(len >= 1 && len <= want);
                let n = (len * fill / 1000).min(rest.len());
                room.put_slice(&rest[..n / 2]);
                room.put_slice(&rest[n / 2..n]);
                assert_eq!(room.remaining_mut(), len - n);
                n
            })
        } else {
            let room = conn.receive_buffer(want);
            assert!(!room.is_empty() && room.len() <= want);
            // What the read leaves of the room is not input, whatever it holds.
            room.fill(0xA5);
            let n = (room.len() * fill / 1000).min(rest.len());
            room[..n].copy_from_slice(&rest[..n]);
            conn.commit_received(n);
            n
        };
        start += n;
        i += 1;
        if let Err(code) = drain(&mut conn, Connection::poll_event, &mut events) {
            error = Some(code);
            break;
        }
    }
    let output = conn::output(&conn);
    (events, error, output)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reading_into_the_buffer_gives_the_same_events(
        frames in prop::collection::vec(frame_strategy(), 0..8),
        wants in prop::collection::vec(1usize..400, 1..6),
        fills in prop::collection::vec(prop_oneof![Just(1000u16), 0u16..=1000], 1..6),
        reuse in prop::sample::select(vec![0usize, 16, 64, 256, 128 << 10]),
    ) {
        let wire = encode(Role::Server, &frames);
        let whole = run(Role::Server, &wire, &[]);
        check_reply(Role::Server, &whole.0, whole.1, &whole.2)?;
        // A read that returns nothing is followed by one that does.
        let mut fills = fills;
        fills.push(1000);
        // Small reuse capacities make these small frames "large": buffers are released,
        // kept for a large frame that follows, and reserved ahead as with big frames.
        let mut config = Config::default();
        config.active_buffer_capacity = reuse;
        config.idle_buffer_capacity = reuse / 4;
        for spare in [false, true] {
            let read = run_read_into(spare, &wire, &wants, &fills, config);
            prop_assert_eq!(&whole.0, &read.0, "spare: {}", spare);
            prop_assert_eq!(whole.1, read.1, "spare: {}", spare);
            prop_assert_eq!(&whole.2, &read.2, "spare: {}", spare);
        }
    }

    #[test]
    fn any_split_gives_the_same_events_as_whole(
        frames in prop::collection::vec(frame_strategy(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        role in prop::sample::select(vec![Role::Server, Role::Client]),
    ) {
        let wire = encode(role, &frames);
        let whole = run(role, &wire, &[]);
        check_reply(role, &whole.0, whole.1, &whole.2)?;
        let split = run(role, &wire, &cuts);
        prop_assert_eq!(&whole.0, &split.0);
        prop_assert_eq!(whole.1, split.1);
        // Same bytes queued in reply (pongs, close frames).
        prop_assert_eq!(&whole.2, &split.2);
        // The borrowed API sees exactly the same.
        let borrowed = run_ref(role, &wire, &cuts);
        prop_assert_eq!(&whole.0, &borrowed.0);
        prop_assert_eq!(whole.1, borrowed.1);
        prop_assert_eq!(&whole.2, &borrowed.2);
    }

    #[test]
    fn back_to_back_connections_are_lossless(
        messages in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(any::<u8>(), 0..3000), 1usize..4, any::<bool>()),
            0..12,
        ),
        seed in any::<[u8; 32]>(),
        chunk in 1usize..5000,
    ) {
        let mut client = conn::open_client(Config::default(), seed);
        let mut server = conn::open_server(Config::default());
        let mut expected = Vec::new();
        for (text, bytes, pieces, ping) in &messages {
            let payload = if *text {
                String::from_utf8_lossy(bytes).into_owned().into_bytes()
            } else {
                bytes.clone()
            };
            let kind = if *text { DataKind::Text } else { DataKind::Binary };
            // Fragment at arbitrary byte positions (inside characters too).
            let step = payload.len().div_ceil(*pieces).max(1);
            let parts: Vec<&[u8]> = if payload.is_empty() { vec![&[][..]] } else { payload.chunks(step).collect() };
            for (i, part) in parts.iter().enumerate() {
                client.send_fragment(kind, part, i + 1 == parts.len()).unwrap();
                if *ping && i == 0 {
                    client.send_ping(b"between fragments").unwrap();
                }
            }
            expected.push(if *text {
                Message::Text(String::from_utf8(payload).unwrap().into())
            } else {
                Message::Binary(payload.into())
            });
        }
        client.close(CloseCode::NORMAL, "done").unwrap();
        let wire = conn::output(&client);
        let mut got = Vec::new();
        let mut closed = false;
        for piece in wire.chunks(chunk) {
            server.receive(piece);
            while let Some(event) = server.poll_event().unwrap() {
                match event {
                    Event::Message(m) => got.push(m),
                    Event::Ping(p) => prop_assert_eq!(&p[..], b"between fragments"),
                    Event::Closed(c) => {
                        prop_assert_eq!(c.code, CloseCode::NORMAL);
                        closed = true;
                    }
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
        prop_assert_eq!(got, expected);
        prop_assert!(closed);
        // The server's reply completes the client's close.
        let reply = conn::output(&server);
        client.receive(&reply);
        let mut client_closed = false;
        while let Some(event) = client.poll_event().unwrap() {
            if let Event::Closed(c) = event {
                prop_assert_eq!(c.code, CloseCode::NORMAL);
                client_closed = true;
            }
        }
        prop_assert!(client_closed);
    }
}

#[test]
fn rsv_bits_without_extension_fail_with_1002() {
    let frames = [WireFrame {
        fin: true,
        rsv: Rsv::RSV1.bits(),
        opcode: 1,
        payload: b"x".to_vec(),
        key: [1, 2, 3, 4],
    }];
    let (events, error, output) = run(Role::Server, &encode(Role::Server, &frames), &[]);
    assert!(events.is_empty());
    assert_eq!(error, Some(CloseCode::PROTOCOL_ERROR));
    // The server's close frame, unmasked: FIN + close, length 2 + 20, code 1002 = 0x03EA,
    // the reason, and nothing else.
    let mut close = vec![0x88, 22, 0x03, 0xEA];
    close.extend_from_slice(b"invalid frame header");
    assert_eq!(output, close);
}
