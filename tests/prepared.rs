//! `PreparedMessage` and `Connection::send_prepared`: a server message encoded once and
//! queued on many connections by reference.
#![cfg(feature = "std")]

mod support;
use support::{conn, counting};

use bytes::Bytes;
use rfc6455::connection::{
    Config, Connection, DataKind, Event, Message, PreparedMessage, SendError,
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

const SIZES: [usize; 6] = [0, 125, 126, 65535, 65536, 1 << 20];

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 17) as u8).collect()
}

fn text(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// The one message `client` decodes from `wire`.
fn decoded(wire: &[u8]) -> Message {
    let mut client = conn::open_client(Config::default(), [3; 32]);
    client.receive(wire);
    let events = conn::events(&mut client);
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Message(message)]) => message,
        Err(other) => panic!("expected one message, got {other:?}"),
        Ok(other) => panic!("expected a message, got {other:?}"),
    }
}

/// For every size, text and binary: the output of `send_prepared` on three server
/// connections is the output of `send` of the same message, byte for byte, and a client
/// decodes it to that message.
#[test]
fn prepared_output_is_what_send_queues() {
    for len in SIZES {
        for message in [Message::binary(payload(len)), Message::text(text(len))] {
            let mut plain = conn::open_server(Config::default());
            plain.send(message.clone()).unwrap();
            let expected = conn::take_output(&mut plain);
            let prepared = PreparedMessage::new(message.clone());
            assert_eq!(prepared.frame_len(), expected.len(), "{len}");
            assert_eq!(&expected[..prepared.header().len()], prepared.header());
            for _ in 0..3 {
                let mut server = conn::open_server(Config::default());
                server.send_prepared(&prepared).unwrap();
                assert_eq!(server.pending_output_len(), expected.len(), "{len}");
                let wire = conn::take_output(&mut server);
                assert!(
                    wire == expected,
                    "{len}-byte {:?}: output differs",
                    prepared.kind()
                );
                assert_eq!(decoded(&wire), message, "{len}");
            }
        }
    }
}

/// From 256 bytes on, every connection's output holds the prepared payload itself (the
/// same address), not a copy; and sending it on 100 connections allocates no payload-sized
/// block.
#[test]
fn the_payload_is_shared_not_copied() {
    for len in [256, 4096, 65536, 1 << 20] {
        let prepared = PreparedMessage::new(Message::binary(payload(len)));
        let mut conns: Vec<Connection> = (0..3)
            .map(|_| conn::open_server(Config::default()))
            .collect();
        for c in &mut conns {
            c.send_prepared(&prepared).unwrap();
        }
        for c in &conns {
            let slices: Vec<&[u8]> = c.pending_output_slices().collect();
            assert_eq!(slices.len(), 2, "{len}: header, then payload");
            assert_eq!(slices[0], prepared.header());
            assert_eq!(slices[1].as_ptr(), prepared.payload().as_ptr(), "{len}");
            assert_eq!(slices[1].len(), len);
        }
    }
    // Under 256 bytes the payload is copied into the output buffer: one slice.
    let small = PreparedMessage::new(Message::binary(payload(255)));
    let mut c = conn::open_server(Config::default());
    c.send_prepared(&small).unwrap();
    assert_eq!(c.pending_output_slices().count(), 1);

    // 100 connections, 1 MiB: the live bytes grow by the queues' bookkeeping only.
    let prepared = PreparedMessage::new(Message::binary(payload(1 << 20)));
    let mut conns: Vec<Connection> = (0..100)
        .map(|_| conn::open_server(Config::default()))
        .collect();
    // Promote the payload to a shared one (bytes does this on its first clone).
    drop(prepared.clone());
    let before = counting::live();
    counting::reset_peak();
    for c in &mut conns {
        c.send_prepared(&prepared).unwrap();
    }
    let grown = counting::peak() - before;
    assert!(
        grown < 100 * 1024,
        "{grown} bytes allocated for 100 sends of a shared 1 MiB payload"
    );
    for c in &conns {
        assert_eq!(c.pending_output_len(), 10 + (1 << 20));
    }
    // Writing it out on one connection leaves the others' references intact.
    let first = conn::take_output(&mut conns[0]);
    assert_eq!(decoded(&first), Message::binary(payload(1 << 20)));
    assert_eq!(conn::output(&conns[99]), first);
}

/// The output bound applies as for `send`: the same `QueueFull`, nothing queued, and an
/// empty queue accepts any one frame.
#[test]
fn the_output_bound_applies() {
    let mut config = Config::default();
    config.max_queued_output = 1000;
    let prepared = PreparedMessage::new(Message::binary(payload(600)));
    let mut server = conn::open_server(config);
    let mut plain = conn::open_server(config);
    server.send_prepared(&prepared).unwrap();
    plain.send(Message::binary(payload(600))).unwrap();
    let full = server.send_prepared(&prepared).unwrap_err();
    assert_eq!(
        full,
        SendError::QueueFull {
            queued: 604,
            frame: 604,
            max: 1000
        }
    );
    assert_eq!(plain.send(Message::binary(payload(600))).unwrap_err(), full);
    assert_eq!(server.pending_output_len(), 604, "nothing more was queued");
    conn::take_output(&mut server);
    // Larger than the bound, into an empty queue: accepted, as `send` accepts it.
    let big = PreparedMessage::new(Message::binary(payload(5000)));
    server.send_prepared(&big).unwrap();
    assert_eq!(server.pending_output_len(), 5004);
}

/// Inside our own fragmented message, and once closed, `send_prepared` is refused as
/// `send` is, and queues nothing.
#[test]
fn refused_where_send_is_refused() {
    let prepared = PreparedMessage::new(Message::text("hi"));
    let mut server = conn::open_server(Config::default());
    server
        .send_fragment(DataKind::Binary, b"part", false)
        .unwrap();
    let queued = server.pending_output_len();
    assert_eq!(
        server.send_prepared(&prepared),
        Err(SendError::FragmentOrder)
    );
    assert_eq!(
        server.send(Message::text("hi")),
        Err(SendError::FragmentOrder)
    );
    assert_eq!(server.pending_output_len(), queued);
    server
        .send_fragment(DataKind::Binary, b"end", true)
        .unwrap();
    server.send_prepared(&prepared).unwrap();

    server.close(rfc6455::close::CloseCode::NORMAL, "").unwrap();
    let closing = server.send_prepared(&prepared).unwrap_err();
    assert!(matches!(closing, SendError::NotOpen(_)), "{closing:?}");
    assert_eq!(server.send(Message::text("hi")).unwrap_err(), closing);
}

/// A client sends a prepared message as `send` would: masked with its own next key (the
/// bytes of a client seeded alike), which the server decodes.
#[test]
fn a_client_masks_it_as_send_does() {
    for len in [0, 125, 300, 70_000] {
        let message = Message::binary(payload(len));
        let prepared = PreparedMessage::new(message.clone());
        let mut a = conn::open_client(Config::default(), [11; 32]);
        let mut b = conn::open_client(Config::default(), [11; 32]);
        for _ in 0..2 {
            a.send_prepared(&prepared).unwrap();
            b.send(message.clone()).unwrap();
        }
        let wire = conn::take_output(&mut a);
        assert_eq!(wire, conn::take_output(&mut b), "{len}");
        assert_ne!(wire[1] & 0x80, 0, "masked");
        let mut server = conn::open_server(Config::default());
        server.receive(&wire);
        let events = conn::events(&mut server);
        assert_eq!(events.len(), 2);
        for event in events {
            assert_eq!(event, Event::Message(message.clone()), "{len}");
        }
    }
}

/// With permessage-deflate negotiated, a prepared message goes out uncompressed (RSV1
/// clear) and the client decodes it; the compressed messages around it still inflate.
#[cfg(feature = "deflate")]
#[test]
fn with_deflate_it_is_sent_uncompressed() {
    use rfc6455::deflate::DeflateConfig;
    let on = || Config::new().deflate(DeflateConfig::new().enabled(true));
    let (mut client, mut server) = support::deflate::negotiated(on(), on());
    let body = text(10_000);
    let prepared = PreparedMessage::new(Message::text(body.clone()));
    server.send(Message::text(body.clone())).unwrap();
    let compressed = conn::take_output(&mut server);
    assert_ne!(compressed[0] & 0x40, 0, "send compresses");
    server.send_prepared(&prepared).unwrap();
    let plain = conn::take_output(&mut server);
    assert_eq!(plain[0], 0x81, "FIN, text, RSV1 clear");
    assert_eq!(plain.len(), prepared.frame_len());
    server.send(Message::text(body.clone())).unwrap();
    let again = conn::take_output(&mut server);
    for wire in [compressed, plain, again] {
        client.receive(&wire);
    }
    let events = conn::events(&mut client);
    assert_eq!(events.len(), 3);
    for event in events {
        assert_eq!(event, Event::Message(Message::text(body.clone())));
    }
}

/// Cloning a prepared message shares its payload; `From<Message>` prepares it.
#[test]
fn clones_share_the_payload() {
    let data = Bytes::from(payload(1000));
    let prepared: PreparedMessage = Message::Binary(data.clone()).into();
    let copy = prepared.clone();
    assert_eq!(copy.payload().as_ptr(), data.as_ptr());
    assert_eq!(copy.kind(), DataKind::Binary);
    assert_eq!(copy.header(), [0x82, 126, 0x03, 0xe8]);
}
