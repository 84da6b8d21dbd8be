//! Back-to-back client and server connections wired through memory.
#![cfg(feature = "alloc")]

use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Chunk, Closed, Config, DataKind, Event, Message, ProtocolError, ReceiveMode, SendError, State,
};
use rfc6455::frame::{FrameError, OpCode};

mod support;
use support::{conn, oracle};

use conn::{events, pair, pump};
use oracle::client_frame;

#[test]
fn messages_flow_both_ways() {
    let (mut c, mut s) = pair();
    c.send_text("hello").unwrap();
    c.send_binary(&[1, 2, 3]).unwrap();
    pump(&mut c, &mut s);
    let got = events(&mut s);
    assert_eq!(got.len(), 2);
    assert!(matches!(&got[0], Event::Message(Message::Text(t)) if t.as_str() == "hello"));
    assert!(matches!(&got[1], Event::Message(Message::Binary(b)) if b[..] == [1, 2, 3]));
    let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    s.send(Message::Binary(big.clone().into())).unwrap();
    pump(&mut s, &mut c);
    let got = events(&mut c);
    assert!(matches!(&got[..], [Event::Message(Message::Binary(b))] if b[..] == big[..]));
}

#[test]
fn every_split_gives_the_same_events() {
    let mut wire = Vec::new();
    wire.extend(client_frame(false, OpCode::Text, "κό".as_bytes()));
    wire.extend(client_frame(true, OpCode::Ping, b"p"));
    wire.extend(client_frame(true, OpCode::Continuation, "σμε".as_bytes()));
    wire.extend(client_frame(true, OpCode::Binary, &[7; 300]));
    let whole = {
        let mut s = conn::open_server(Config::default());
        s.receive(&wire);
        events(&mut s)
    };
    // Written out: the ping between the fragments comes first, then the whole text.
    assert_eq!(
        whole,
        [
            Event::Ping(b"p"[..].into()),
            Event::Message(Message::Text("κόσμε".into())),
            Event::Message(Message::Binary(vec![7; 300].into())),
        ]
    );
    for cut in 0..=wire.len() {
        let mut s = conn::open_server(Config::default());
        s.receive(&wire[..cut]);
        let mut got = events(&mut s);
        s.receive(&wire[cut..]);
        got.extend(events(&mut s));
        assert_eq!(got, whole, "split at {cut}");
    }
}

#[test]
fn ping_is_answered_with_the_same_payload() {
    let (mut c, mut s) = pair();
    c.send_ping(b"are you there").unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut s), vec![Event::Ping("are you there".into())]);
    pump(&mut s, &mut c);
    assert_eq!(events(&mut c), vec![Event::Pong("are you there".into())]);
}

#[test]
fn close_handshake_client_initiated() {
    let (mut c, mut s) = pair();
    c.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.send_text("late"), Err(SendError::NotOpen(State::Closing)));
    // The client's close, masked: code 1000 = 0x03E8 and the reason.
    let sent = conn::output(&c);
    assert_eq!(
        oracle::decode_all(&sent, true),
        [(0x88, vec![0x03, 0xE8, b'b', b'y', b'e'])]
    );
    pump(&mut c, &mut s);
    let got = events(&mut s);
    assert_eq!(
        got,
        vec![Event::Closed(Closed {
            code: CloseCode::NORMAL,
            reason: "bye".into()
        })]
    );
    assert_eq!(s.state(), State::Closed);
    // The server echoes the code, unmasked and without a reason: 0x88, length 2, 0x03E8.
    let reply = conn::output(&s);
    assert_eq!(reply, [0x88, 0x02, 0x03, 0xE8]);
    assert!(!s.should_close_transport(), "the reply is not written yet");
    pump(&mut s, &mut c);
    assert!(
        s.should_close_transport(),
        "server closes the TCP connection first"
    );
    let got = events(&mut c);
    assert!(matches!(
        &got[..],
        [Event::Closed(Closed {
            code: CloseCode::NORMAL,
            ..
        })]
    ));
    assert_eq!(c.state(), State::Closed);
    assert!(
        !c.should_close_transport(),
        "client waits for the server to close"
    );
    c.receive_eof();
    assert_eq!(events(&mut c), vec![]);
    assert!(c.should_close_transport());
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame() {
    let mut s = conn::open_server(Config::default());
    let mut payload = b"valid start ".to_vec();
    payload.extend([0xCE, 0xBA, 0xF4, 0x90, 0x80, 0x80]);
    payload.extend(b" and much more text that has not arrived yet");
    let frame = client_frame(true, OpCode::Text, &payload);
    // Send only up to the impossible byte 0x90: the error must come now.
    let cut = 2 + 4 + 12 + 4;
    s.receive(&frame[..cut]);
    let err = s.poll_event().unwrap_err();
    assert!(matches!(err, ProtocolError::Utf8(_)));
    assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    assert_eq!(s.state(), State::Closed);
    // The close frame is queued, unmasked (a server's): FIN + close, length 2 + 21,
    // code 1007 = 0x03EF, then the reason.
    let mut close = vec![0x88, 23, 0x03, 0xEF];
    close.extend_from_slice(b"invalid UTF-8 in text");
    let out = conn::output(&s);
    assert_eq!(out, close);
    assert_eq!(s.pending_output_len(), 25);
    // Failed, but the transport stays open until the close frame is written.
    assert!(!s.should_close_transport());
    s.advance_output(24);
    assert_eq!(s.pending_output_chunk(), b"t");
    assert!(!s.should_close_transport());
    s.advance_output(1);
    assert_eq!(s.pending_output_len(), 0);
    assert_eq!(s.state(), State::Closed);
    assert!(s.should_close_transport());
    // Nothing more comes, whatever arrives.
    s.receive(&client_frame(true, OpCode::Text, b"late"));
    assert_eq!(s.poll_event(), Ok(None));
    assert_eq!(s.pending_output_len(), 0);
}

#[test]
fn continuation_without_message_is_a_protocol_error() {
    let mut s = conn::open_server(Config::default());
    s.receive(&client_frame(true, OpCode::Continuation, b"x"));
    let err = s.poll_event().unwrap_err();
    assert_eq!(err, ProtocolError::UnexpectedContinuation);
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
}

#[test]
fn new_message_during_fragmented_message_is_a_protocol_error() {
    let mut s = conn::open_server(Config::default());
    s.receive(&client_frame(false, OpCode::Binary, b"a"));
    s.receive(&client_frame(true, OpCode::Text, b"b"));
    assert_eq!(
        s.poll_event().unwrap_err(),
        ProtocolError::ExpectedContinuation
    );
}

#[test]
fn message_limit_is_checked_on_headers() {
    let mut config = Config::default();
    config.max_message_size = 10;
    let mut s = conn::open_server(config);
    s.receive(&client_frame(false, OpCode::Binary, &[0; 6]));
    // Only the header of the second fragment: the limit fails before its payload.
    s.receive(&client_frame(true, OpCode::Continuation, &[0; 6])[..6]);
    let err = s.poll_event().unwrap_err();
    assert_eq!(err, ProtocolError::MessageTooLarge { size: 12, max: 10 });
    assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG));
}

#[test]
fn unmasked_client_frame_is_rejected() {
    let mut s = conn::open_server(Config::default());
    s.receive(&[0x81, 0x01, b'x']);
    assert_eq!(
        s.poll_event().unwrap_err(),
        ProtocolError::Frame(FrameError::UnmaskedFrame)
    );
    // 0x88, length 2 + 20, 1002 = 0x03EA, the reason; unmasked.
    let mut close = vec![0x88, 22, 0x03, 0xEA];
    close.extend_from_slice(b"invalid frame header");
    let out = conn::output(&s);
    assert_eq!(out, close);
}

#[test]
fn masked_server_frame_is_rejected_by_a_client() {
    // RFC 6455 section 5.1: a client closes the connection on a masked frame.
    let mut c = conn::open_client(Config::default(), [9; 32]);
    c.receive(&oracle::encode(0x82, Some([1, 2, 3, 4]), b"x"));
    let err = c.poll_event().unwrap_err();
    assert_eq!(err, ProtocolError::Frame(FrameError::MaskedFrame));
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    assert_eq!(c.state(), State::Closed);
    // The client's close frame is masked (section 5.3): read back by hand.
    let out = conn::output(&c);
    let mut payload = vec![0x03, 0xEA];
    payload.extend_from_slice(b"invalid frame header");
    assert_eq!(oracle::decode_all(&out, true), [(0x88, payload)]);
    assert_eq!(out.len(), 2 + 4 + 22);
    assert!(!c.should_close_transport());
    c.advance_output(out.len());
    // A client that failed the connection closes the transport itself (section 7.1.7).
    assert!(c.should_close_transport());
}

#[test]
fn eof_before_close_reports_abnormal_closure() {
    let mut s = conn::open_server(Config::default());
    s.receive(&client_frame(true, OpCode::Text, b"partial")[..5]);
    s.receive_eof();
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Closed {
            code: CloseCode::ABNORMAL,
            reason: String::new()
        })]
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn stream_mode_delivers_pieces_as_they_arrive() {
    let mut config = Config::default();
    config.receive_mode = ReceiveMode::Stream;
    let mut s = conn::open_server(config);
    let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let frame = client_frame(true, OpCode::Binary, &payload);
    let mut got = Vec::new();
    let mut chunks = 0;
    for piece in frame.chunks(100) {
        s.receive(piece);
        while let Some(ev) = s.poll_event().unwrap() {
            let Event::Chunk(Chunk {
                kind,
                data,
                first,
                last,
            }) = ev
            else {
                panic!("expected chunk, got {ev:?}")
            };
            assert_eq!(kind, DataKind::Binary);
            assert_eq!(first, chunks == 0);
            assert_eq!(last, got.len() + data.len() == payload.len());
            got.extend_from_slice(&data);
            chunks += 1;
        }
    }
    assert_eq!(got, payload);
    assert!(chunks >= 10);
}

#[test]
fn fragmented_send_reassembles() {
    let (mut c, mut s) = pair();
    c.send_fragment(DataKind::Text, "Hel".as_bytes(), false)
        .unwrap();
    c.send_ping(b"mid").unwrap();
    assert_eq!(c.send_text("x"), Err(SendError::FragmentOrder));
    // A fragmented message keeps its kind: a binary fragment cannot continue text, and the
    // refused call queues nothing.
    let queued = c.pending_output_len();
    assert_eq!(
        c.send_fragment(DataKind::Binary, b"lo", true),
        Err(SendError::FragmentOrder)
    );
    assert_eq!(c.pending_output_len(), queued);
    c.send_fragment(DataKind::Text, "lo".as_bytes(), true)
        .unwrap();
    pump(&mut c, &mut s);
    let got = events(&mut s);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], Event::Ping("mid".into()));
    assert!(matches!(&got[1], Event::Message(Message::Text(t)) if t.as_str() == "Hello"));
}

/// Control frames the caller sends: a ping and an unsolicited pong are queued with their
/// payload (up to 125 bytes, RFC 6455 section 5.5), anything longer is refused and queues
/// nothing.
#[test]
fn send_ping_and_send_pong_queue_control_frames_of_at_most_125_bytes() {
    let mut s = conn::open_server(Config::default());
    s.send_ping(b"hi").unwrap();
    s.send_pong(b"yo").unwrap();
    let max = [b'p'; 125];
    s.send_pong(&max).unwrap();
    let mut expect = vec![0x89, 2, b'h', b'i', 0x8A, 2, b'y', b'o', 0x8A, 125];
    expect.extend_from_slice(&max);
    let queued = conn::output(&s);
    assert_eq!(queued, expect);
    for len in [126, 127, 1000] {
        let long = vec![0u8; len];
        assert_eq!(s.send_ping(&long), Err(SendError::ControlTooLong { len }));
        assert_eq!(s.send_pong(&long), Err(SendError::ControlTooLong { len }));
    }
    assert_eq!(
        s.pending_output_len(),
        expect.len(),
        "refused calls queue nothing"
    );
}

/// `close` starts the closing handshake once: a second call, or one before the connection
/// opened, is refused and queues nothing.
#[test]
fn close_is_refused_twice_and_before_the_connection_opens() {
    let (mut c, _) = pair();
    c.close(CloseCode::NORMAL, "").unwrap();
    let queued = c.pending_output_len();
    assert_eq!(
        c.close(CloseCode::NORMAL, ""),
        Err(SendError::NotOpen(State::Closing))
    );
    assert_eq!(c.pending_output_len(), queued);

    let request = rfc6455::handshake::ClientRequest::new("example.com", "/");
    let mut connecting = conn::client_handshake(&request, [3; 32], Config::default()).unwrap();
    let head = connecting.pending_output_len();
    assert_eq!(
        connecting.close(CloseCode::NORMAL, ""),
        Err(SendError::NotOpen(State::Connecting))
    );
    assert_eq!(
        connecting.pending_output_len(),
        head,
        "only the request is queued"
    );
}
