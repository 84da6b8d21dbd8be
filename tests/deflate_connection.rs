//! permessage-deflate through the connection (RFC 7692): negotiation in a real opening
//! handshake, compressed messages both ways checked against Python's zlib, the frame rules
//! of section 6 (RSV1), and every window size a peer may impose (section 7.1.2).
#![cfg(feature = "deflate")]

mod support;

use rfc6455::Role;
use rfc6455::close::CloseCode;
use rfc6455::connection::{
    Chunk, Config, Connection, DataKind, Event, Message, ProtocolError, ReceiveMode,
};
use rfc6455::deflate::{DeflateConfig, DeflateParams};
use rfc6455::frame::FrameError;
use support::conn::{events, pump};
use support::deflate::{compressed_messages, negotiated, take_frames, zlib_deflate, zlib_inflate};
use support::oracle::{KEY, close_sent, encode};

fn on() -> Config {
    Config::new().deflate(DeflateConfig::new().enabled(true))
}

fn with(deflate: DeflateConfig) -> Config {
    Config::new().deflate(deflate.enabled(true))
}

/// Payloads of the three kinds every check uses: incompressible, repetitive with a period
/// just over `2^bits` (the matches a window of `2^bits` must not take), and JSON-like.
fn payloads(bits: u8) -> Vec<Vec<u8>> {
    let period = (1usize << bits) + 1;
    let unit: Vec<u8> = support::noise::bytes(period, 7);
    let repetitive: Vec<u8> = unit.iter().copied().cycle().take(period * 5 + 17).collect();
    let json: Vec<u8> = (0..400)
        .flat_map(|i| format!("{{\"id\":{i},\"user\":\"u{}\",\"ok\":true}},", i % 37).into_bytes())
        .collect();
    vec![
        support::noise::bytes(3000, 1),
        repetitive,
        json,
        b"a short message, just over the threshold".to_vec(),
    ]
}

fn messages_of(events: Vec<Event>) -> Vec<Vec<u8>> {
    events
        .into_iter()
        .map(|e| match e {
            Event::Message(m) => m.as_bytes().to_vec(),
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

#[test]
fn both_ends_agree_on_the_defaults_and_the_request_and_response_say_so() {
    let request = rfc6455::handshake::ClientRequest::new("example.com", "/");
    let client = Connection::client(on(), [5; 32], &request).unwrap();
    let head = String::from_utf8(support::conn::output(&client)).unwrap();
    assert!(
        head.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ),
        "{head}"
    );
    let (c, s) = negotiated(on(), on());
    let agreed = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    assert_eq!(c.deflate_params(), Some(agreed));
    assert_eq!(s.deflate_params(), Some(agreed));
}

#[test]
fn nothing_is_negotiated_unless_both_ends_enable_it() {
    for (client, server) in [
        (on(), Config::new()),
        (Config::new(), on()),
        (Config::new(), Config::new()),
    ] {
        let (mut c, mut s) = negotiated(client, server);
        assert_eq!((c.deflate_params(), s.deflate_params()), (None, None));
        c.send_text(&"plain ".repeat(100)).unwrap();
        let frames = take_frames(&mut c);
        assert_eq!(frames[0].0, 0x81, "no RSV1 without the extension");
        s.receive(&support::oracle::encode(
            frames[0].0,
            Some(KEY),
            &frames[0].1,
        ));
        assert_eq!(
            messages_of(events(&mut s)),
            vec!["plain ".repeat(100).into_bytes()]
        );
    }
}

/// What each end sends, Python's zlib inflates byte-exact with the window the other end
/// allowed, for every window size 8..=15, over several messages (context taken over), in
/// both directions; and the receiving end gets the same messages.
#[test]
fn every_window_size_the_peer_imposes_is_honoured_as_zlib_sees_it() {
    for bits in 8..=15u8 {
        // The client limits the server's window; the server limits the client's.
        let client = with(DeflateConfig::new().peer_max_window_bits(bits));
        let server = with(DeflateConfig::new().peer_max_window_bits(bits));
        let (mut c, mut s) = negotiated(client, server);
        let params = s.deflate_params().unwrap();
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (bits, bits)
        );
        let sent = payloads(bits);
        check_direction(&mut s, &mut c, &sent, bits);
        check_direction(&mut c, &mut s, &sent, bits);
    }
}

/// `from` sends `sent`; zlib with a window of `2^bits` inflates what went on the wire, and
/// `to` receives the same messages.
fn check_direction(from: &mut Connection, to: &mut Connection, sent: &[Vec<u8>], bits: u8) {
    for p in sent {
        from.send_binary(p).unwrap();
    }
    let frames = take_frames(from);
    let wire = compressed_messages(&frames);
    let inflated = zlib_inflate(bits, &wire)
        .unwrap_or_else(|e| panic!("window {bits}, {:?} sending: zlib says {e}", from.role()));
    assert_eq!(inflated, sent, "window {bits}");
    let masked = from.role() == Role::Client;
    let bytes: Vec<u8> = frames
        .iter()
        .flat_map(|(b0, p)| encode(*b0, masked.then_some(KEY), p))
        .collect();
    to.receive(&bytes);
    assert_eq!(messages_of(events(to)), sent, "window {bits}");
}

/// The oracle is not vacuous: the same repetitive payload compressed by zlib with a window
/// of 2^15 is refused by an inflater with a window of 2^10.
#[test]
fn the_window_oracle_rejects_a_stream_that_reaches_too_far_back() {
    let long_range = payloads(10)[1].clone();
    let wide = zlib_deflate(15, 6, true, false, &[long_range]);
    let err = zlib_inflate(10, &wide).expect_err("distance beyond 2^10");
    assert!(err.contains("invalid distance too far back"), "{err}");
}

/// What zlib compresses, each end inflates: with and without context takeover, at every
/// level, with final blocks (BFINAL, RFC 7692 section 7.2.3.3) instead of sync flushes.
#[test]
fn messages_compressed_by_zlib_are_inflated_byte_exact() {
    let sent = payloads(15);
    for (takeover, final_block) in [(true, false), (false, false), (false, true)] {
        for level in [0, 1, 6, 9] {
            let wire = zlib_deflate(15, level, takeover, final_block, &sent);
            for role in [Role::Server, Role::Client] {
                let (mut c, mut s) = negotiated(on(), on());
                let receiver = if role == Role::Server { &mut s } else { &mut c };
                let key = (role == Role::Server).then_some(KEY);
                for payload in &wire {
                    receiver.receive(&encode(0xC2, key, payload));
                }
                assert_eq!(
                    messages_of(events(receiver)),
                    sent,
                    "{role:?}, takeover {takeover}, final {final_block}, level {level}"
                );
            }
        }
    }
}

#[test]
fn a_compressed_message_in_fragments_and_small_messages_uncompressed() {
    let (mut c, mut s) = negotiated(on(), on());
    let json = payloads(15)[2].clone();
    let (a, b) = json.split_at(777);
    c.send_fragment(DataKind::Text, a, false).unwrap();
    c.send_ping(b"in between").unwrap();
    c.send_fragment(DataKind::Text, b, true).unwrap();
    c.send_text("tiny").unwrap();
    let frames = take_frames(&mut c);
    let firsts: Vec<u8> = frames.iter().map(|f| f.0).collect();
    assert_eq!(
        firsts,
        [0x41, 0x89, 0x80, 0x81],
        "RSV1 on the first fragment only; 4 bytes stay plain"
    );
    assert_eq!(
        zlib_inflate(15, &compressed_messages(&frames[..3])).unwrap(),
        vec![json.clone()]
    );
    let bytes: Vec<u8> = frames
        .iter()
        .flat_map(|(b0, p)| encode(*b0, Some(KEY), p))
        .collect();
    s.receive(&bytes);
    let got = events(&mut s);
    assert_eq!(got.len(), 3);
    assert!(matches!(&got[0], Event::Ping(p) if &p[..] == b"in between"));
    assert_eq!(
        got[1],
        Event::Message(Message::Text(String::from_utf8(json).unwrap().into()))
    );
    assert_eq!(got[2], Event::Message(Message::text("tiny")));
}

#[test]
fn send_uncompressed_skips_compression_in_a_deflate_session() {
    let (_, mut s) = negotiated(on(), on());
    let data = vec![0u8; 10_000];
    s.send_uncompressed(Message::binary(data.clone())).unwrap();
    let frames = take_frames(&mut s);
    assert_eq!(frames, vec![(0x82, data)]);
}

/// Section 6.1: RSV1 marks the first frame of a compressed message only. On a
/// continuation or a control frame it is a protocol error (1002), as without negotiation.
#[test]
fn rsv1_anywhere_but_a_first_data_frame_is_a_protocol_error() {
    let body = zlib_deflate(15, 6, false, false, &[b"hello hello hello".to_vec()]).remove(0);
    let cases: [(&str, Vec<u8>, bool); 4] = [
        (
            "continuation",
            [
                encode(0x01, Some(KEY), b"ab"),
                encode(0xC0, Some(KEY), b"cd"),
            ]
            .concat(),
            true,
        ),
        ("ping", encode(0xC9, Some(KEY), b"x"), true),
        ("close", encode(0xC8, Some(KEY), &[3, 232]), true),
        (
            "data, not negotiated",
            encode(0xC1, Some(KEY), &body),
            false,
        ),
    ];
    for (what, bytes, deflate) in cases {
        let (_, mut s) = negotiated(on(), if deflate { on() } else { Config::new() });
        s.receive(&bytes);
        let err = support::oracle::failure(&mut s);
        assert!(
            matches!(err, ProtocolError::Frame(FrameError::ReservedBits(_))),
            "{what}: {err:?}"
        );
        assert_eq!(close_sent(&s), Some(1002), "{what}");
    }
}

/// A message with RSV1 clear inside a deflate session is not inflated (Safari sends those).
#[test]
fn a_message_without_rsv1_is_delivered_as_it_came() {
    let (_, mut s) = negotiated(on(), on());
    s.receive(&encode(0x81, Some(KEY), b"not compressed"));
    assert_eq!(
        messages_of(events(&mut s)),
        vec![b"not compressed".to_vec()]
    );
}

#[test]
fn invalid_deflate_data_fails_with_1007() {
    // BTYPE 11 is reserved (RFC 1951 section 3.2.3).
    let (_, mut s) = negotiated(on(), on());
    s.receive(&encode(0xC2, Some(KEY), &[0x07, 0x00]));
    let err = support::oracle::failure(&mut s);
    assert_eq!(err, ProtocolError::InvalidCompressedData);
    assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
}

/// A compressed text message is UTF-8 checked as it inflates: the connection fails before
/// the rest of the message arrives.
#[test]
fn compressed_invalid_utf8_fails_fast_with_1007() {
    // The bad byte early, then text that does not compress away, so the first half of the
    // compressed bytes holds it.
    let mut text = b"valid start ".to_vec();
    text.push(0xFF);
    text.extend(support::noise::bytes(2000, 9).iter().map(|b| b'a' + b % 26));
    let body = zlib_deflate(15, 6, false, false, &[text]).remove(0);
    // Only the first half of the compressed bytes, in a frame that does not end the message.
    let (_, mut s) = negotiated(on(), on());
    s.receive(&encode(0x41, Some(KEY), &body[..body.len() / 2]));
    let err = support::oracle::failure(&mut s);
    assert!(matches!(err, ProtocolError::Utf8(_)), "{err:?}");
}

/// `max_message_size` limits the decompressed size: 1009 as soon as inflation passes it,
/// and a message exactly at the limit passes.
#[test]
fn the_message_limit_applies_to_the_decompressed_size() {
    let limit = 100_000u64;
    let at_limit = vec![b'a'; limit as usize];
    let past = vec![b'a'; limit as usize + 1];
    let wire = zlib_deflate(15, 6, false, false, &[at_limit.clone(), past]);
    assert!(wire[1].len() < 1000, "compresses well: {}", wire[1].len());
    let config = on().max_message_size(limit);
    let (_, mut s) = negotiated(on(), config);
    s.receive(&encode(0xC2, Some(KEY), &wire[0]));
    assert_eq!(messages_of(events(&mut s)), vec![at_limit]);
    s.receive(&encode(0xC2, Some(KEY), &wire[1]));
    let err = support::oracle::failure(&mut s);
    assert_eq!(
        err,
        ProtocolError::MessageTooLarge {
            size: limit + 1,
            max: limit
        }
    );
    assert_eq!(close_sent(&s), Some(1009));
}

/// Stream mode: a compressed message comes out in pieces of bounded size as it inflates.
#[test]
fn stream_mode_delivers_inflated_pieces() {
    let big: Vec<u8> = payloads(15)[2]
        .iter()
        .copied()
        .cycle()
        .take(300_000)
        .collect();
    let wire = zlib_deflate(
        15,
        6,
        true,
        false,
        &[big.clone(), b"second message".to_vec()],
    );
    let config = on().receive_mode(ReceiveMode::Stream);
    let (_, mut s) = negotiated(on(), config);
    let mut bytes = Vec::new();
    for w in &wire {
        bytes.extend(encode(0xC1, Some(KEY), w));
    }
    // Fed in uneven reads.
    let mut got: Vec<Chunk> = Vec::new();
    for piece in bytes.chunks(3001) {
        s.receive(piece);
        for e in events(&mut s) {
            match e {
                Event::Chunk(c) => got.push(c),
                other => panic!("expected chunks, got {other:?}"),
            }
        }
    }
    let mut messages = vec![Vec::new()];
    for (i, c) in got.iter().enumerate() {
        assert!(
            c.data.len() <= 16 << 10,
            "piece {i} of {} bytes",
            c.data.len()
        );
        assert_eq!(c.kind, DataKind::Text);
        assert_eq!(c.first, i == 0 || got[i - 1].last);
        messages.last_mut().unwrap().extend_from_slice(&c.data);
        if c.last {
            messages.push(Vec::new());
        }
    }
    messages.pop();
    assert_eq!(messages, vec![big, b"second message".to_vec()]);
}

/// A send refused for the queue bound queues nothing and leaves the compressor where it
/// was: the messages after it still inflate in the peer's window.
#[test]
fn a_refused_compressed_send_leaves_output_and_context_unchanged() {
    let config = on().max_queued_output(2000);
    let (mut c, _) = negotiated(config, on());
    let noise = support::noise::bytes(1500, 3);
    c.send_binary(&noise).unwrap();
    let before = support::conn::output(&c);
    let err = c.send_binary(&noise).unwrap_err();
    assert!(
        matches!(err, rfc6455::connection::SendError::QueueFull { .. }),
        "{err:?}"
    );
    assert_eq!(support::conn::output(&c), before);
    // `try_send` refuses it the same way and hands it back as it was.
    let message = Message::Binary(noise.clone().into());
    let unsent = c.try_send(message.clone()).unwrap_err();
    assert_eq!((unsent.error, &unsent.message), (err, &message));
    assert_eq!(support::conn::output(&c), before);
    c.send_binary(b"after the refusal, after the refusal")
        .unwrap();
    let wire = compressed_messages(&take_frames(&mut c));
    assert_eq!(
        zlib_inflate(15, &wire).unwrap(),
        vec![noise, b"after the refusal, after the refusal".to_vec()]
    );
}

#[test]
fn a_response_with_bad_parameters_fails_the_client() {
    let request = rfc6455::handshake::ClientRequest::new("example.com", "/");
    let mut c = Connection::client(on(), [5; 32], &request).unwrap();
    let mut s = Connection::server(Config::new());
    pump(&mut c, &mut s);
    assert!(matches!(s.poll_event(), Ok(Some(Event::Request(_)))));
    // The server (not enabling it itself) answers with a window out of range.
    s.accept(&rfc6455::handshake::ServerResponse {
        extensions: &["permessage-deflate; server_max_window_bits=7"],
        ..Default::default()
    })
    .unwrap();
    pump(&mut s, &mut c);
    match c.poll_event() {
        Err(ProtocolError::Negotiation(_)) => {}
        other => panic!("expected a negotiation failure, got {other:?}"),
    }
    assert!(c.should_close_transport());
}

/// With the extension enabled the connection negotiates it itself: an application that
/// also lists it in its request or response is refused, and nothing is sent.
#[test]
fn listing_permessage_deflate_by_hand_while_enabled_is_refused() {
    let request = rfc6455::handshake::ClientRequest {
        extensions: &["x-other", "permessage-deflate; client_max_window_bits"],
        ..rfc6455::handshake::ClientRequest::new("example.com", "/")
    };
    assert_eq!(
        Connection::client(on(), [5; 32], &request).unwrap_err(),
        rfc6455::handshake::BuildError::InvalidExtension { index: 1 }
    );
    let plain = rfc6455::handshake::ClientRequest::new("example.com", "/");
    let mut c = Connection::client(on(), [5; 32], &plain).unwrap();
    let mut s = Connection::server(on());
    pump(&mut c, &mut s);
    assert!(matches!(s.poll_event(), Ok(Some(Event::Request(_)))));
    let by_hand = rfc6455::handshake::ServerResponse {
        extensions: &["permessage-deflate"],
        ..Default::default()
    };
    assert_eq!(
        s.accept(&by_hand),
        Err(rfc6455::connection::SendError::Handshake(
            rfc6455::handshake::BuildError::InvalidExtension { index: 0 }
        ))
    );
    assert_eq!(s.pending_output_len(), 0);
    assert!(s.request().is_some(), "still pending");
    s.accept(&rfc6455::handshake::ServerResponse::default())
        .unwrap();
    pump(&mut s, &mut c);
    assert!(matches!(c.poll_event(), Ok(Some(Event::Accepted(_)))));
    assert!(c.deflate_params().is_some() && s.deflate_params().is_some());
}

/// Deflate makes data that does not compress a little larger, and peers compress every
/// message: a message of exactly `max_frame_size` random bytes arrives in a frame a few
/// bytes over the limit and must be accepted (Node ws and Python websockets sent 16 MiB of
/// random bytes in 16,782,342 and 16,818,177 bytes). Uncompressed frames keep the exact
/// limit, and a compressed frame beyond DEFLATE's worst case is still refused.
#[test]
fn compressed_frames_may_exceed_the_frame_limit_by_deflates_expansion_only() {
    let limit = 64u64 << 10;
    let config = on().max_frame_size(limit).max_message_size(limit);
    let random = support::noise::bytes(limit as usize, 11);
    let wire = zlib_deflate(15, 6, false, false, std::slice::from_ref(&random)).remove(0);
    assert!(
        wire.len() as u64 > limit,
        "zlib expands random bytes: {}",
        wire.len()
    );
    let (_, mut s) = negotiated(on(), config);
    s.receive(&encode(0xC2, Some(KEY), &wire));
    assert_eq!(messages_of(events(&mut s)), vec![random.clone()]);

    // Uncompressed in the same session: the exact limit, and one byte more refused.
    s.receive(&encode(0x82, Some(KEY), &random));
    assert_eq!(messages_of(events(&mut s)), vec![random.clone()]);
    let mut over = random.clone();
    over.push(0);
    s.receive(&encode(0x82, Some(KEY), &over));
    let err = support::oracle::failure(&mut s);
    assert_eq!(
        err,
        ProtocolError::Frame(FrameError::FrameTooLarge {
            len: limit + 1,
            max: limit
        })
    );

    // A compressed frame far beyond any expansion of `limit` bytes: refused on its header.
    let (_, mut s) = negotiated(on(), config);
    s.receive(&support::oracle::head(0xC2, Some(KEY), 2 * limit));
    let err = support::oracle::failure(&mut s);
    assert!(
        matches!(err, ProtocolError::Frame(FrameError::FrameTooLarge { len, .. }) if len == 2 * limit),
        "{err:?}"
    );
}
