//! Prepared messages with permessage-deflate: `PreparedCompressor` compresses a message
//! once, `send_prepared` shares the compressed bytes on every connection whose negotiated
//! window allows it, and what goes on the wire is checked against Python's zlib (the
//! independent inflater) as well as against our own receiving end.
#![cfg(feature = "deflate")]

mod support;

use rfc6455::Role;
use rfc6455::connection::{Config, Connection, Event, Message, PreparedCompressor};
use rfc6455::deflate::DeflateConfig;
use support::conn::events;
use support::deflate::{compressed_messages, negotiated, take_frames, zlib_inflate};
use support::oracle::{KEY, encode};

fn with(deflate: DeflateConfig) -> Config {
    Config::new().deflate(deflate.enabled(true))
}

fn json(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\":{i},\"user\":\"u{}\",\"ok\":true}},", i % 37))
        .collect()
}

/// Hand `from`'s queued frames to `to` and return the messages `to` delivers.
fn deliver(frames: &[(u8, Vec<u8>)], from: Role, to: &mut Connection) -> Vec<Vec<u8>> {
    let masked = from == Role::Client;
    let bytes: Vec<u8> = frames
        .iter()
        .flat_map(|(b0, p)| encode(*b0, masked.then_some(KEY), p))
        .collect();
    to.receive(&bytes);
    events(to)
        .into_iter()
        .map(|e| match e {
            Event::Message(m) => m.as_bytes().to_vec(),
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

/// Server connections with and without context takeover, for every window they may be
/// held to at or above the compressor's: the compressed frame (RSV1, text opcode) carries
/// the very bytes the compressor made, zlib inflates them with the negotiated window, and
/// our client receives the original text.
#[test]
fn one_compression_is_shared_by_every_connection_whose_window_allows_it() {
    let text = json(300);
    for bits in [10u8, 12, 15] {
        let mut compressor =
            PreparedCompressor::new(&DeflateConfig::new().own_max_window_bits(bits));
        let prepared = compressor.prepare(Message::text(text.clone()));
        let compressed = prepared
            .compressed_payload()
            .expect("JSON compresses")
            .clone();
        assert!(
            compressed.len() < text.len() / 4,
            "{} bytes",
            compressed.len()
        );
        for no_takeover in [false, true] {
            for peer_limit in [bits, 15] {
                let client = with(DeflateConfig::new().peer_max_window_bits(peer_limit));
                let server = with(DeflateConfig::new().own_no_context_takeover(no_takeover));
                let (mut c, mut s) = negotiated(client, server);
                assert_eq!(
                    s.deflate_params().unwrap().server_max_window_bits,
                    peer_limit
                );
                s.send_prepared(&prepared).unwrap();
                let slices: Vec<&[u8]> = s.pending_output_slices().collect();
                assert_eq!(
                    slices[1].as_ptr(),
                    compressed.as_ptr(),
                    "shared, not copied"
                );
                let frames = take_frames(&mut s);
                assert_eq!(frames.len(), 1);
                assert_eq!(frames[0].0, 0xC1, "FIN, RSV1, text");
                let wire = compressed_messages(&frames);
                assert_eq!(
                    zlib_inflate(peer_limit, &wire),
                    Ok(vec![text.clone().into_bytes()])
                );
                assert_eq!(
                    deliver(&frames, Role::Server, &mut c),
                    vec![text.clone().into_bytes()]
                );
            }
        }
    }
}

/// A connection that keeps its compression context: its own message, then the prepared
/// one, then its own again (the same text, which its compressor would otherwise copy from
/// the first message by distance). One zlib inflater with takeover, as the peer runs,
/// must get all three right: the connection dropped its context after the prepared
/// message, which its compressor never saw but the peer's window holds.
#[test]
fn a_connection_that_keeps_its_context_drops_it_once_around_a_prepared_message() {
    let text = json(200);
    let other = format!("{}{}", json(50), "tail");
    let mut compressor = PreparedCompressor::new(&DeflateConfig::new());
    let prepared = compressor.prepare(Message::text(other.clone()));
    let (mut c, mut s) = negotiated(with(DeflateConfig::new()), with(DeflateConfig::new()));
    assert!(!s.deflate_params().unwrap().server_no_context_takeover);
    s.send_text(&text).unwrap();
    s.send_prepared(&prepared).unwrap();
    s.send_text(&text).unwrap();
    s.send_text(&other).unwrap();
    let frames = take_frames(&mut s);
    let wire = compressed_messages(&frames);
    let sent = vec![
        text.clone().into_bytes(),
        other.clone().into_bytes(),
        text.into_bytes(),
        other.into_bytes(),
    ];
    assert_eq!(zlib_inflate(15, &wire).as_ref(), Ok(&sent));
    // The third message starts from an empty window (no reference to the first), yet the
    // fourth may use the third again: the context is dropped once, not for good.
    assert!(
        wire[2].len() > wire[0].len() / 2,
        "third message compressed afresh"
    );
    assert!(
        wire[3].len() < wire[1].len(),
        "fourth uses the context again"
    );
    assert_eq!(deliver(&frames, Role::Server, &mut c), sent);
}

/// Where the compressed form cannot be used, the uncompressed frame goes out (RSV1
/// clear): a peer that held the server's window below the compressor's, a connection
/// without permessage-deflate. Short and incompressible messages have no compressed form.
#[test]
fn otherwise_the_uncompressed_frame_goes_out() {
    let text = json(100);
    let mut compressor = PreparedCompressor::new(&DeflateConfig::new());
    let prepared = compressor.prepare(Message::text(text.clone()));
    assert!(prepared.compressed_payload().is_some());
    let (mut c, mut s) = negotiated(
        with(DeflateConfig::new().peer_max_window_bits(14)),
        with(DeflateConfig::new()),
    );
    s.send_prepared(&prepared).unwrap();
    let frames = take_frames(&mut s);
    assert_eq!(frames, vec![(0x81, text.clone().into_bytes())]);
    assert_eq!(
        deliver(&frames, Role::Server, &mut c),
        vec![text.clone().into_bytes()]
    );

    let mut plain = Connection::upgraded_server(Config::new());
    plain.send_prepared(&prepared).unwrap();
    assert_eq!(take_frames(&mut plain), vec![(0x81, text.into_bytes())]);

    let short = compressor.prepare(Message::text("a".repeat(31)));
    assert!(
        short.compressed_payload().is_none(),
        "under the threshold of 32"
    );
    let noise = compressor.prepare(Message::binary(support::noise::bytes(4000, 3)));
    assert!(
        noise.compressed_payload().is_none(),
        "would not get smaller"
    );
    let repeated = compressor.prepare(Message::text("a".repeat(32)));
    assert!(repeated.compressed_payload().is_some(), "at the threshold");
}

/// A client's prepared message is masked with its own key: the compressed payload is
/// copied and masked, RSV1 set, and the server inflates it.
#[test]
fn a_client_sends_the_compressed_form_masked() {
    let text = json(80);
    let mut compressor = PreparedCompressor::new(&DeflateConfig::new());
    let prepared = compressor.prepare(Message::text(text.clone()));
    let (mut c, mut s) = negotiated(with(DeflateConfig::new()), with(DeflateConfig::new()));
    c.send_prepared(&prepared).unwrap();
    let frames = take_frames(&mut c);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, 0xC1);
    assert_eq!(frames[0].1, prepared.compressed_payload().unwrap().to_vec());
    assert_eq!(
        deliver(&frames, Role::Client, &mut s),
        vec![text.into_bytes()]
    );
}
