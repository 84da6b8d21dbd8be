//! The two places the first read of a wake-up goes: a 2 KiB buffer on the stack (then
//! copied into the connection), or, after a wake-up that read more than that, straight into
//! the connection's input buffer. The same frames must come out as the same messages either
//! way; a direct read that finds nothing (a wake-up with no input) must give the buffer
//! back and start the next wake-up on the stack again.
mod common;
// Hand-built frames (RFC 6455 section 5.2, none of the crate's frame code). Its connection
// helpers stand behind the codec's feature `alloc`, which this package does not have.
#[allow(unexpected_cfgs)]
#[path = "../../tests/support/oracle.rs"]
mod oracle;

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use rfc6455::connection::Config;
use rfc6455::frame::OpCode;
use rfc6455_tokio::{Message, WebSocketStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The driver's stack buffer (`FIRST_READ` in src/stream.rs).
const FIRST_READ: usize = 2048;

/// One step of what the transport has ready.
enum Step {
    /// Bytes, handed out in reads of whatever size the reader offers room for.
    Data(Vec<u8>),
    /// One read that finds nothing: `Pending`.
    Wait,
}

/// One read call: the room offered, and the bytes given (`None`: it waited).
type Log = Arc<Mutex<Vec<(usize, Option<usize>)>>>;

/// A transport that plays `script` to its reads, logs each one, and takes every write.
struct Scripted {
    script: VecDeque<Step>,
    log: Log,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let offered = buf.remaining();
        let this = &mut *self;
        match this.script.pop_front() {
            Some(Step::Data(mut bytes)) => {
                let n = offered.min(bytes.len());
                buf.put_slice(&bytes[..n]);
                if n < bytes.len() {
                    this.script.push_front(Step::Data(bytes.split_off(n)));
                }
                this.log.lock().unwrap().push((offered, Some(n)));
                Poll::Ready(Ok(()))
            }
            Some(Step::Wait) | None => {
                this.log.lock().unwrap().push((offered, None));
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A server stream over a transport that plays `script`, and the transport's log.
fn stream(script: impl IntoIterator<Item = Step>) -> (WebSocketStream<Scripted>, Log) {
    let log = Log::default();
    let transport = Scripted {
        script: script.into_iter().collect(),
        log: log.clone(),
    };
    (WebSocketStream::server(transport, Config::new()), log)
}

/// `count` masked binary frames of `len` bytes each, their payloads told apart by `seed`.
fn burst(count: usize, len: usize, seed: u32) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut wire = Vec::new();
    let mut payloads = Vec::new();
    for i in 0..count {
        let payload = common::payload(len, seed + i as u32);
        wire.extend(oracle::client_frame(true, OpCode::Binary, &payload));
        payloads.push(payload);
    }
    (wire, payloads)
}

/// Poll the stream until it waits; the messages it gave meanwhile.
fn drain(ws: &mut WebSocketStream<Scripted>) -> Vec<Vec<u8>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut got = Vec::new();
    loop {
        match Pin::new(&mut *ws).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(Message::Binary(data)))) => got.push(data.to_vec()),
            Poll::Ready(other) => panic!("expected a binary message, got {other:?}"),
            Poll::Pending => return got,
        }
    }
}

/// The room offered by each read that gave bytes or waited, from `from` on.
fn reads_since(log: &Log, from: usize) -> Vec<(usize, Option<usize>)> {
    log.lock().unwrap()[from..].to_vec()
}

#[test]
fn a_busy_wake_up_sends_the_next_first_read_straight_to_the_connection() {
    // Four wake-ups: a busy one (8 KiB and more), the same frames again, one small frame,
    // and the same busy frames once more.
    let (busy, busy_payloads) = burst(8, 1024, 1);
    let (small, small_payloads) = burst(1, 10, 100);
    let (mut ws, log) = stream([
        Step::Data(busy.clone()),
        Step::Wait,
        Step::Data(busy.clone()),
        Step::Wait,
        Step::Data(small),
        Step::Wait,
        Step::Data(busy),
        Step::Wait,
    ]);

    // The first wake-up: on the stack, then the rest straight into the connection; the
    // read after it (the same task poll) is on the stack again, and waits.
    assert_eq!(drain(&mut ws), busy_payloads);
    let first = reads_since(&log, 0);
    assert_eq!(first[0], (FIRST_READ, Some(FIRST_READ)), "{first:?}");
    assert!(first[1].0 > FIRST_READ && first[1].1 == Some(busy_len() - FIRST_READ));
    assert_eq!(*first.last().unwrap(), (FIRST_READ, None), "{first:?}");
    let at = first.len();

    // The next wake-up starts straight in the connection's buffer: one read for it all.
    assert_eq!(
        drain(&mut ws),
        busy_payloads,
        "the same frames, the other path"
    );
    let second = reads_since(&log, at);
    assert!(second[0].0 > FIRST_READ, "{second:?}");
    assert_eq!(second[0].1, Some(busy_len()), "{second:?}");
    let at = at + second.len();

    // Still busy last time: straight in again, though only a small frame is there.
    assert_eq!(drain(&mut ws), small_payloads);
    let third = reads_since(&log, at);
    assert!(third[0].0 > FIRST_READ, "{third:?}");
    assert_eq!(third[0].1, Some(small_len()), "{third:?}");
    let at = at + third.len();

    // That wake-up read little: the next starts on the stack.
    assert_eq!(drain(&mut ws), busy_payloads);
    let fourth = reads_since(&log, at);
    assert_eq!(fourth[0], (FIRST_READ, Some(FIRST_READ)), "{fourth:?}");
}

/// The wire length of `burst(8, 1024, _)`: each frame a 4-byte header (16-bit length),
/// a 4-byte key and the payload.
fn busy_len() -> usize {
    8 * (4 + 4 + 1024)
}

/// The wire length of `burst(1, 10, _)`: a 2-byte header, a 4-byte key and the payload.
fn small_len() -> usize {
    2 + 4 + 10
}

#[test]
fn a_direct_read_that_waits_gives_the_buffer_back_and_the_next_starts_on_the_stack() {
    let (busy, busy_payloads) = burst(8, 1024, 7);
    // After the busy wake-up: one wake-up that finds nothing, then a busy one.
    let (mut ws, log) = stream([
        Step::Data(busy.clone()),
        Step::Wait,
        Step::Wait,
        Step::Data(busy),
    ]);
    assert_eq!(drain(&mut ws), busy_payloads);
    let at = log.lock().unwrap().len();

    // The wake-up with nothing: the read went straight to the connection and waited.
    assert!(drain(&mut ws).is_empty());
    let woken = reads_since(&log, at);
    assert_eq!(woken.len(), 1, "{woken:?}");
    assert!(woken[0].0 > FIRST_READ && woken[0].1.is_none(), "{woken:?}");
    // The room that read was lent is given back as the stream waits idle.
    assert_eq!(
        ws.connection_mut().shrink_buffers(),
        0,
        "nothing left to free"
    );
    let at = at + woken.len();

    // The next starts on the stack, and the frames come out the same.
    assert_eq!(drain(&mut ws), busy_payloads);
    let next = reads_since(&log, at);
    assert_eq!(next[0], (FIRST_READ, Some(FIRST_READ)), "{next:?}");
}

#[test]
fn a_wake_up_that_read_exactly_the_stack_buffer_is_not_busy() {
    // Two frames of 8 + 1016 bytes: 2048 on the wire, exactly the stack buffer.
    let (exact, exact_payloads) = burst(2, 1016, 20);
    assert_eq!(exact.len(), FIRST_READ);
    let (small, small_payloads) = burst(1, 10, 30);
    // The read after the full stack read finds nothing, and so does the next.
    let (mut ws, log) = stream([Step::Data(exact), Step::Wait, Step::Wait, Step::Data(small)]);
    assert_eq!(drain(&mut ws), exact_payloads);
    let first = reads_since(&log, 0);
    assert_eq!(first[0], (FIRST_READ, Some(FIRST_READ)), "{first:?}");
    assert!(first[1].0 > FIRST_READ && first[1].1.is_none(), "{first:?}");
    let at = first.len();

    // No more than the stack holds arrived: the next wake-up starts on the stack.
    assert_eq!(drain(&mut ws), small_payloads);
    let next = reads_since(&log, at);
    assert_eq!(next[0], (FIRST_READ, Some(small_len())), "{next:?}");
}
