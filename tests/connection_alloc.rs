//! Steady-state allocation and memory checks with a counting global allocator (per thread,
//! so parallel tests do not mix), and the idle figures README.md and SECURITY.md state.
#![cfg(feature = "std")]

mod support;
use support::{conn, counting};

use core::time::Duration;

use counting::{allocs, live};
use rfc6455::connection::{Config, Connection, Event, EventRef, Message};
use rfc6455::frame::{FrameHeader, OpCode, encode_frame};
use rfc6455::keepalive::{KeepAlive, KeepAliveConfig};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

fn masked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader::new(true, opcode, Some([9, 8, 7, 6]), payload.len() as u64);
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(&header, payload, &mut out).unwrap();
    out.truncate(n);
    out
}

fn steady_state_allocations(config: Config, size: usize) -> u64 {
    let mut server = conn::open_server(config);
    let text = "x".repeat(size);
    let frames = [
        masked(OpCode::Binary, text.as_bytes()),
        masked(OpCode::Text, text.as_bytes()),
    ];
    let mut run = |rounds: usize| {
        for i in 0..rounds {
            server.receive(&frames[i % 2]);
            let event = server.poll_event().unwrap().expect("a message");
            let Event::Message(message) = event else {
                panic!("{event:?}")
            };
            assert_eq!(message.len(), size);
            // Echo it back and write it out, as a server would.
            server.send(message).unwrap();
            let n = server.pending_output_len();
            server.advance_output(n);
            assert!(server.poll_event().unwrap().is_none());
        }
    };
    run(10); // warm up: buffers reach their working size
    let before = allocs();
    run(1000);
    allocs() - before
}

#[test]
fn no_allocation_per_message_in_steady_state() {
    assert_eq!(
        steady_state_allocations(Config::default(), 16),
        0,
        "16 B messages"
    );
    assert_eq!(
        steady_state_allocations(Config::default(), 400),
        0,
        "400 B messages"
    );
    assert_eq!(
        steady_state_allocations(Config::default(), 16 << 10),
        0,
        "16 KiB messages"
    );
    let mut big = Config::default();
    big.active_buffer_capacity = 256 << 10;
    assert_eq!(
        steady_state_allocations(big, 64 << 10),
        0,
        "64 KiB messages, 256 KiB reused"
    );
}

/// Fragmented messages polled with `poll_event_ref` (the payload lent from the reassembly
/// buffer) and client sends (masked while copied into the output buffer): nothing is
/// allocated once both buffers have grown.
#[test]
fn no_allocation_per_fragmented_message_or_client_send_in_steady_state() {
    let payload: Vec<u8> = (0..9000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    for (i, piece) in payload.chunks(2500).enumerate() {
        let opcode = if i == 0 {
            OpCode::Binary
        } else {
            OpCode::Continuation
        };
        let mut header = FrameHeader::new(false, opcode, Some([1, 2, 3, 4]), piece.len() as u64);
        header.fin = (i + 1) * 2500 >= payload.len();
        let mut out = vec![0u8; piece.len() + 14];
        let n = encode_frame(&header, piece, &mut out).unwrap();
        wire.extend_from_slice(&out[..n]);
    }
    let mut server = conn::open_server(Config::default());
    let mut client = conn::open_client(Config::default(), [1; 32]);
    let mut run = |rounds: usize| {
        for _ in 0..rounds {
            server.receive(&wire);
            match server.poll_event_ref().unwrap() {
                Some(EventRef::Binary(got)) => assert_eq!(got, &payload[..]),
                other => panic!("{other:?}"),
            }
            assert!(server.poll_event_ref().unwrap().is_none());
            client.send_binary(&payload).unwrap();
            let n = client.pending_output_len();
            assert!(n > payload.len());
            client.advance_output(n);
        }
    };
    run(3);
    let before = allocs();
    run(200);
    assert_eq!(allocs() - before, 0);
}

/// The struct's size as README.md and SECURITY.md state it (64-bit targets): the
/// `deflate` feature adds its settings to the config and a pointer to the negotiated state.
#[cfg(all(target_pointer_width = "64", feature = "deflate"))]
const STRUCT: usize = 536;
#[cfg(all(target_pointer_width = "64", not(feature = "deflate")))]
const STRUCT: usize = 504;

#[cfg(target_pointer_width = "64")]
#[test]
fn the_struct_is_the_size_the_docs_state() {
    assert_eq!(std::mem::size_of::<Connection>(), STRUCT);
}

/// SECURITY.md: "An idle connection after a 1 MiB message costs its struct and no heap".
#[test]
fn an_idle_connection_after_a_1_mib_message_holds_no_heap() {
    let payload = vec![5u8; 1 << 20];
    let frame = masked(OpCode::Binary, &payload);
    let before = live();
    let mut server = conn::open_server(Config::default());
    for piece in frame.chunks(64 << 10) {
        server.receive(piece);
    }
    let Some(Event::Message(Message::Binary(data))) = server.poll_event().unwrap() else {
        panic!("expected the message")
    };
    assert_eq!(data.len(), payload.len());
    server.send_binary(&data).unwrap();
    drop(data);
    let n = server.pending_output_len();
    server.advance_output(n);
    assert!(server.poll_event().unwrap().is_none());
    let heap = live() - before;
    println!(
        "idle connection after a 1 MiB message: {heap} heap bytes + {} struct bytes",
        std::mem::size_of::<Connection>()
    );
    assert_eq!(heap, 0, "no heap");
}

/// SECURITY.md: after a run of 8 KiB messages (echoed by reference) and `shrink_buffers`,
/// the struct and the 4 bytes of output buffer that held the last frame header, which is
/// under `idle_buffer_capacity` and so kept; nothing else.
#[test]
fn shrink_buffers_leaves_an_idle_connection_its_struct_and_4_bytes() {
    let frame = masked(OpCode::Binary, &[3u8; 8 << 10]);
    let before = live();
    let mut server = conn::open_server(Config::default());
    for _ in 0..4 {
        server.receive(&frame);
        let Some(Event::Message(message)) = server.poll_event().unwrap() else {
            panic!("expected a message")
        };
        server.send(message).unwrap();
        let n = server.pending_output_len();
        server.advance_output(n);
        assert!(server.poll_event().unwrap().is_none());
    }
    let active = live() - before;
    assert!(
        active > 8 << 10,
        "buffers are kept for reuse while active ({active} bytes)"
    );
    let freed = server.shrink_buffers();
    let heap = live() - before;
    // What it reports is the buffers' capacities, without the allocator's bookkeeping of
    // shared buffers: at most what was freed, and most of it.
    let given_back = active - heap;
    assert!(
        freed as i64 <= given_back && freed as i64 >= given_back - 64,
        "shrink_buffers reported {freed} of {given_back} bytes"
    );
    println!(
        "after 8 KiB messages: {active} heap bytes active, {heap} heap bytes idle after shrink"
    );
    assert_eq!(heap, 4);
    assert!(heap <= Config::default().idle_buffer_capacity as i64);
    // Still works afterwards.
    server.receive(&frame);
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(Event::Message(_))
    ));
}

/// The keep-alive helper shrinks the buffers before its idle ping (README.md, SECURITY.md):
/// after a 64 KiB message, driven to the ping, the connection holds only the 10-byte output
/// buffer (the last frame's header room, now holding the 6-byte ping); driven while the
/// peer is active, the buffers are kept for reuse.
#[test]
fn keepalive_shrinks_the_buffers_before_its_idle_ping() {
    let frame = masked(OpCode::Binary, &[3u8; 64 << 10]);
    let before = live();
    let mut server = conn::open_server(Config::default());
    let config = KeepAliveConfig {
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        max_missed: 1,
    };
    let mut keepalive = KeepAlive::new(config, Duration::ZERO);
    server.receive(&frame);
    let Some(Event::Message(message)) = server.poll_event().unwrap() else {
        panic!("expected the message")
    };
    server.send(message).unwrap();
    let n = server.pending_output_len();
    server.advance_output(n);
    assert!(server.poll_event().unwrap().is_none());
    assert_eq!(keepalive.drive(&mut server, Duration::from_secs(1)), None);
    let active = live() - before;
    assert!(active > 64 << 10, "kept while active: {active} bytes");

    assert_eq!(keepalive.drive(&mut server, Duration::from_secs(31)), None);
    assert_eq!(
        server.pending_output_chunk(),
        b"\x89\x04\0\0\0\0",
        "ping #0 queued"
    );
    let heap = live() - before;
    println!("after a 64 KiB message and the idle ping: {heap} heap bytes");
    assert_eq!(heap, 10);
    assert!(heap <= Config::default().idle_buffer_capacity as i64);
}

/// `shrink_buffers` reports what it gives back: nothing, once failing the connection has
/// already dropped the input (it reported the old buffer's size again when more than
/// `idle_buffer_capacity`; found by fuzzing).
#[test]
fn shrink_buffers_after_a_failure_reports_nothing_freed() {
    let mut config = Config::default();
    config.idle_buffer_capacity = 0;
    for input in [&[0x05u8][..], &[0x82, 0x7E, 0, 1][..], &[0x85; 300][..]] {
        let mut client = conn::open_client(config, [0; 32]);
        client.receive(input);
        assert!(client.poll_event().is_err(), "{input:02x?} is refused");
        let before = live();
        assert_eq!(client.shrink_buffers(), 0, "{input:02x?}");
        assert_eq!(live(), before);
    }
}

/// A driver's `shrink_buffers_between_bursts` gives back what `shrink_buffers` does, and
/// the next burst's output is then one allocation of the size the last burst reached, not
/// one per doubling; `shrink_buffers` forgets that size, so the keep-alive ping after it
/// allocates only its own bytes.
#[test]
fn between_bursts_the_output_comes_back_in_one_allocation() {
    let burst = masked(OpCode::Binary, &[3u8; 1024]).repeat(16);
    let mut server = conn::open_server(Config::default());
    // 16 echoes of 1 KiB, copied into the output (too small to go by reference): the
    // allocations the sends made.
    let echo = |server: &mut Connection| {
        server.receive(&burst);
        let mut messages = Vec::new();
        while let Some(event) = server.poll_event().unwrap() {
            let Event::Message(message) = event else {
                panic!("{event:?}")
            };
            messages.push(message);
        }
        assert_eq!(messages.len(), 16);
        let before = allocs();
        for message in messages {
            server.send(message).unwrap();
        }
        let made = allocs() - before;
        let n = server.pending_output_len();
        assert_eq!(n, 16 * 1028);
        server.advance_output(n);
        assert!(server.poll_event().unwrap().is_none());
        made
    };
    let before = live();
    assert_eq!(echo(&mut server), 5, "1, 2, 4, 8 and 16 KiB");
    server.shrink_buffers();
    let idle = live() - before;
    assert_eq!(echo(&mut server), 5, "after shrink_buffers: grown again");
    assert!(server.shrink_buffers_between_bursts() > 16 * 1028);
    assert_eq!(live() - before, idle, "the same memory given back");
    assert_eq!(echo(&mut server), 1, "after shrink_buffers_between_bursts");
    server.shrink_buffers_between_bursts();
    assert_eq!(echo(&mut server), 1, "and again");

    server.shrink_buffers_between_bursts();
    server.shrink_buffers();
    let before_ping = live();
    server.send_ping(b"").unwrap();
    assert_eq!(server.pending_output_len(), 2);
    assert_eq!(live() - before_ping, 2, "the ping's own bytes");
}
