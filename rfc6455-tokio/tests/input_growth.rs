//! The driver gives buffers back only when the connection is idle: nothing received is
//! pending and nothing is left to write. A read that waits in the middle of a frame must
//! not: the codec would forget how large a frame this peer already sent whole, and the next
//! frame of that size, instead of getting its room in one step, would grow through the
//! sizes in between (each growth copying what arrived and holding both blocks meanwhile).
//! Measured for a second 1 MiB frame: 1.0 MiB at the peak kept, 2.8 MiB forgotten.

mod common;
#[path = "../../tests/support/counting.rs"]
mod counting;
// Hand-built frames (RFC 6455 section 5.2, none of the crate's frame code). Its connection
// helpers stand behind the codec's feature `alloc`, which this package does not have.
#[allow(unexpected_cfgs)]
#[path = "../../tests/support/oracle.rs"]
mod oracle;

use common::{Scripted, Writes};
use rfc6455::connection::Config;
use rfc6455::frame::OpCode;
use rfc6455_tokio::{Message, WebSocketStream};

// Growth counted as holding the old and the new block at once, as it does while it copies.
#[global_allocator]
static ALLOCATOR: counting::Counting<true> = counting::Counting;

const FRAME: usize = 1 << 20;

#[tokio::test(flavor = "current_thread")]
async fn a_read_that_waits_inside_a_frame_keeps_the_room_the_peer_earned() {
    let first: Vec<u8> = (0..FRAME).map(|i| (i % 251) as u8).collect();
    let second: Vec<u8> = (0..FRAME).map(|i| (i % 241) as u8).collect();
    let a = oracle::client_frame(true, OpCode::Binary, &first);
    let b = oracle::client_frame(true, OpCode::Binary, &second);
    // The first frame and the start of the second (its header and a few payload bytes),
    // a wait, then the rest of the second.
    let split = 100;
    let mut chunk = a;
    chunk.extend_from_slice(&b[..split]);
    let transport = Scripted::new([chunk, b[split..].to_vec()], Writes::Take);
    let mut ws = WebSocketStream::server(transport, Config::new());
    // Kept while the second frame arrives, as an application may: its bytes are a view of
    // the buffer the first frame arrived in, so the second needs a new one.
    let kept = match ws.next().await {
        Some(Ok(Message::Binary(data))) => data,
        other => panic!("expected the first message, got {other:?}"),
    };
    assert!(kept == first, "the first frame's payload");
    counting::reset_peak();
    let before = counting::live();
    let received = ws.next().await;
    let grown = counting::peak() - before;
    match received {
        Some(Ok(Message::Binary(data))) => assert!(data == second, "the second frame's payload"),
        other => panic!("expected the second message, got {other:?}"),
    }
    // Room for the frame in one step is the frame and a little; growing through the sizes
    // in between holds the last two blocks at once, half again as much.
    let frame = FRAME as i64;
    assert!(
        grown < frame + frame / 4,
        "receiving the second frame took {grown} bytes at its peak for a {frame}-byte frame"
    );
    drop(kept);
}
