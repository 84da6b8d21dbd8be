//! Steady-state allocation and memory checks with a counting global allocator.
//! One test per process section: the counter is per thread, so parallel tests do not mix.
#![cfg(feature = "std")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rfc6455::Role;
use rfc6455::connection::{Config, Connection, Event, EventRef, Message};
use rfc6455::frame::{FrameHeader, OpCode, encode_frame};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = LIVE.try_with(|c| c.set(c.get() + layout.size() as i64));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|c| c.set(c.get() - layout.size() as i64));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = LIVE.try_with(|c| c.set(c.get() + new_size as i64 - layout.size() as i64));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

fn live() -> i64 {
    LIVE.with(|c| c.get())
}

fn masked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader::new(true, opcode, Some([9, 8, 7, 6]), payload.len() as u64);
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(&header, payload, &mut out).unwrap();
    out.truncate(n);
    out
}

fn steady_state_allocations(config: Config, size: usize) -> u64 {
    let mut server = Connection::new(Role::Server, config, [0; 32]);
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
    big.reuse_capacity = 256 << 10;
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
    let mut server = Connection::new(Role::Server, Config::default(), [0; 32]);
    let mut client = Connection::new(Role::Client, Config::default(), [1; 32]);
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

#[test]
fn idle_connection_costs_under_one_kib_after_a_large_message() {
    let payload = vec![5u8; 1 << 20];
    let frame = masked(OpCode::Binary, &payload);
    let before = live();
    let mut server = Connection::new(Role::Server, Config::default(), [0; 32]);
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
    let total = heap as usize + std::mem::size_of::<Connection>();
    println!(
        "idle connection after a 1 MiB message: {heap} heap bytes + {} struct bytes",
        std::mem::size_of::<Connection>()
    );
    assert!(total <= 1024, "idle connection costs {total} bytes");
    drop(server);
    drop(frame);
    drop(payload);
}

#[test]
fn shrink_buffers_brings_an_idle_connection_under_one_kib() {
    let frame = masked(OpCode::Binary, &[3u8; 8 << 10]);
    let before = live();
    let mut server = Connection::new(Role::Server, Config::default(), [0; 32]);
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
        active > 1024,
        "buffers are kept for reuse while active ({active} bytes)"
    );
    let freed = server.shrink_buffers();
    assert!(freed > 0);
    let idle = (live() - before) as usize + std::mem::size_of::<Connection>();
    println!("after 8 KiB messages: {active} heap bytes active, {idle} bytes idle after shrink");
    assert!(idle <= 1024, "idle connection costs {idle} bytes");
    // Still works afterwards.
    server.receive(&frame);
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(Event::Message(_))
    ));
}
