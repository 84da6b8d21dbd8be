//! The two ways the driver writes output: in one slice, or in several totalling at most
//! 2 KiB (copied into one buffer first), with one `poll_write`; larger output in several
//! slices with `poll_write_vectored`. The same messages, on both sides of the bound and
//! with a transport that takes any number of bytes per call, must put the same bytes on
//! the wire: the frames as RFC 6455 section 5.2 lays them out, built here by hand.
mod common;

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use common::timed;
use rfc6455::connection::{Config, PreparedMessage};
use rfc6455_tokio::{Message, WebSocketStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The driver's bound (`GATHER` in src/stream.rs).
const GATHER: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Write,
    Vectored,
}

/// Each write call made, and the bytes it took.
type Log = Arc<Mutex<Vec<(Call, Vec<u8>)>>>;

/// A transport that never delivers a byte and records every write: which call, and the
/// bytes it took (at most `cap` per call).
struct Recording {
    log: Log,
    cap: usize,
}

impl AsyncRead for Recording {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.cap);
        self.log
            .lock()
            .unwrap()
            .push((Call::Write, buf[..n].to_vec()));
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let mut took = Vec::new();
        for b in bufs {
            let n = b.len().min(self.cap - took.len());
            took.extend_from_slice(&b[..n]);
        }
        let n = took.len();
        self.log.lock().unwrap().push((Call::Vectored, took));
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A server's unmasked binary frame with FIN set (RFC 6455 section 5.2).
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    match payload.len() {
        n @ 0..=125 => f.push(n as u8),
        n @ 126..=0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// Feed `payloads` (the first prepared, the rest as messages), flush once; the calls made
/// and the bytes written.
async fn write(payloads: &[Vec<u8>], cap: usize) -> (Vec<Call>, Vec<u8>) {
    let log = Log::default();
    let transport = Recording {
        log: log.clone(),
        cap,
    };
    let mut ws = WebSocketStream::server(transport, Config::default());
    let prepared = PreparedMessage::new(rfc6455::connection::Message::binary(payloads[0].clone()));
    timed(ws.feed_prepared(&prepared)).await.unwrap();
    for p in &payloads[1..] {
        timed(ws.feed(Message::binary(p.clone()))).await.unwrap();
    }
    timed(ws.flush()).await.unwrap();
    let log = log.lock().unwrap();
    let calls = log.iter().map(|(c, _)| *c).collect();
    let wire = log.iter().flat_map(|(_, b)| b.clone()).collect();
    (calls, wire)
}

fn payloads(lens: &[usize]) -> Vec<Vec<u8>> {
    lens.iter()
        .enumerate()
        .map(|(i, &n)| common::payload(n, i as u32))
        .collect()
}

#[tokio::test]
async fn output_up_to_the_bound_goes_out_in_one_plain_write() {
    // Header 4 + payload: the bound exactly, one byte under, and two messages under it.
    // Payloads from 256 bytes on are queued by reference, so each of these is at least
    // two slices.
    for lens in [
        &[GATHER - 4][..],
        &[GATHER - 5],
        &[1000, 1000],
        &[300, 300, 300],
    ] {
        let p = payloads(lens);
        let (calls, wire) = write(&p, usize::MAX).await;
        assert_eq!(calls, [Call::Write], "{lens:?}");
        assert_eq!(wire, p.iter().flat_map(|p| frame(p)).collect::<Vec<u8>>());
    }
    // One slice (a small payload is copied into the output buffer) is a plain write too.
    let p = payloads(&[16, 16]);
    let (calls, wire) = write(&p, usize::MAX).await;
    assert_eq!(calls, [Call::Write]);
    assert_eq!(wire, [frame(&p[0]), frame(&p[1])].concat());
}

#[tokio::test]
async fn output_over_the_bound_goes_out_vectored() {
    for lens in [&[GATHER - 3][..], &[1024, 1024], &[64 << 10]] {
        let p = payloads(lens);
        let (calls, wire) = write(&p, usize::MAX).await;
        assert_eq!(calls, [Call::Vectored], "{lens:?}");
        assert_eq!(wire, p.iter().flat_map(|p| frame(p)).collect::<Vec<u8>>());
    }
}

#[tokio::test]
async fn partial_writes_give_the_same_bytes_either_way() {
    // Each call takes at most `cap` bytes: the rest is written by later calls, which
    // cross from one path to the other as the output shrinks under the bound.
    for lens in [
        &[GATHER - 4][..],
        &[1000, 1000],
        &[1024, 1024],
        &[5000, 20, 700],
    ] {
        let p = payloads(lens);
        let expected: Vec<u8> = p.iter().flat_map(|p| frame(p)).collect();
        for cap in [1, 7, 1000, GATHER - 1, GATHER + 1] {
            let (calls, wire) = write(&p, cap).await;
            assert_eq!(wire, expected, "{lens:?}, {cap} bytes per call");
            assert_eq!(calls.len(), expected.len().div_ceil(cap), "{lens:?}, {cap}");
        }
    }
    // Over the bound at first, under it once 1,000 bytes are out: vectored, then plain.
    let p = payloads(&[1024, 1024]);
    let (calls, _) = write(&p, 1000).await;
    assert_eq!(calls, [Call::Vectored, Call::Write, Call::Write]);
}
