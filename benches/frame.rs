//! Frame layer benchmarks: decoding, encoding and masking, with throughput in payload
//! bytes.
//!
//! Run with `cargo bench --bench frame`; a short run:
//! `cargo bench --bench frame -- --warm-up-time 1 --measurement-time 2`.
//!
//! What each group measures:
//! - `decode_masked`: a server decoding one masked client frame with [`Decoder::decode`]:
//!   header parsing plus unmasking the payload in place. Decoding changes its input, so
//!   every iteration gets a fresh copy of the wire bytes from an untimed setup step
//!   (`iter_batched_ref`); the timed part starts on a buffer that was just written, as
//!   after a socket read.
//! - `encode_unmasked` / `encode_masked`: a server and a client encoding one frame.
//!   `encode_frame` writes header and payload into an output buffer (a copy, or a masking
//!   copy); `encode_frame_to_vec` appends them to a vector with room (no zeroing);
//!   `encode_frame_in_place` only builds the header and, for a client, masks the
//!   payload in place (the payload is re-masked every iteration: masking costs the same
//!   whatever the bytes are).
//! - `mask`: [`mask::apply`] in place against a byte loop (`bytewise`, here),
//!   [`mask::copy_masked`] into another buffer, and a plain `copy_from_slice` of the same
//!   size as the memory-bandwidth yardstick.
//!
//! - `broadcast`: one message queued on each of 1,000 open server connections and written
//!   out (`advance_output`), per iteration: `send` of a clone of the message (the payload
//!   copied into each connection's buffer under 4 KiB), `send_binary` of the bytes, and
//!   `send_prepared` of one `PreparedMessage` built outside the loop (header copied, payload
//!   shared from 256 bytes on). Throughput counts the payload bytes of all 1,000 sends.
//! - `broadcast_deflate`: the same for 1 KiB of JSON on 1,000 connections with
//!   permessage-deflate (no context takeover): `send` compressing on each connection, and
//!   `send_prepared` of one message a `PreparedCompressor` compressed once.
//!
//! Where a benchmark copies between two buffers, the destination is placed at a chosen
//! distance from the source modulo 4096 (`far`: 2048). Some `memcpy` implementations slow
//! down many times over when the destination lies a few bytes after the source modulo the
//! page size (4K aliasing; seen with glibc's `rep movsb` path on AMD EPYC), so leaving the
//! placement to the allocator makes copy results jump between runs. The 64 KiB
//! `encode_frame` cases also run `near` (destination 16 bytes after the source, modulo
//! 4096) to show that effect on the unmasked path, which copies with `copy_from_slice`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::Role;
#[cfg(feature = "alloc")]
use rfc6455::frame::encode_frame_to_vec;
use rfc6455::frame::{Decoded, Decoder, FrameHeader, OpCode, encode_frame, encode_frame_in_place};
use rfc6455::mask;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 17) as u8).collect()
}

fn label(len: usize) -> String {
    match len {
        n if n >= MIB && n % MIB == 0 => format!("{}MiB", n / MIB),
        n if n >= KIB && n % KIB == 0 => format!("{}KiB", n / KIB),
        n => format!("{n}B"),
    }
}

/// Distances of a copy's destination from its source, modulo 4096.
const FAR: usize = 2048;
const NEAR: usize = 16;

/// A zeroed buffer with a window of `len` bytes whose byte `at` lies `delta` bytes after
/// `src` modulo 4096. Returns the buffer and the window's start.
fn placed(len: usize, at: usize, src: &[u8], delta: usize) -> (Vec<u8>, usize) {
    let buf = vec![0u8; len + 4096];
    let base = buf.as_ptr() as usize + at;
    let start = (src.as_ptr() as usize + delta + 4096 - base % 4096) % 4096;
    let dst = buf.as_ptr() as usize + start + at;
    assert_eq!(dst.wrapping_sub(src.as_ptr() as usize) % 4096, delta);
    (buf, start)
}

fn batch_size(len: usize) -> BatchSize {
    if len >= 64 * KIB {
        BatchSize::LargeInput
    } else {
        BatchSize::SmallInput
    }
}

fn decode_masked(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_masked");
    for len in [16, KIB, 64 * KIB, MIB] {
        let header = FrameHeader::new(true, OpCode::Binary, Some(KEY), len as u64);
        let mut wire = vec![0u8; header.encoded_len() + len];
        encode_frame(&header, &payload(len), &mut wire).unwrap();
        // 1 MiB is within the default 16 MiB frame limit.
        let mut decoder = Decoder::new(Role::Server);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::from_parameter(label(len)), |b| {
            b.iter_batched_ref(
                || wire.clone(),
                |buf| match decoder.decode(black_box(buf)) {
                    Ok(Decoded::Frame { frame, .. }) => {
                        black_box(frame.payload.len());
                    }
                    other => panic!("unexpected {other:?}"),
                },
                batch_size(len),
            );
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion, name: &str, mask: Option<[u8; 4]>, sizes: &[usize]) {
    let mut group = c.benchmark_group(name);
    for &len in sizes {
        let header = FrameHeader::new(true, OpCode::Binary, mask, len as u64);
        let data = payload(len);
        let total = header.encoded_len() + len;
        group.throughput(Throughput::Bytes(len as u64));
        let placements: &[(&str, usize)] = if len >= 4 * KIB {
            &[("far", FAR), ("near", NEAR)]
        } else {
            &[("far", FAR)]
        };
        for &(name, delta) in placements {
            let (mut out, start) = placed(total, header.encoded_len(), &data, delta);
            let out = &mut out[start..start + total];
            let id = BenchmarkId::new(format!("encode_frame/{name}"), label(len));
            group.bench_function(id, |b| {
                b.iter(|| encode_frame(black_box(&header), black_box(&data), &mut *out).unwrap());
            });
        }
        // Appending to a vector with room, cleared every 64 frames (untimed share: small).
        #[cfg(feature = "alloc")]
        let mut vec = Vec::with_capacity(64 * total);
        #[cfg(feature = "alloc")]
        group.bench_function(BenchmarkId::new("encode_frame_to_vec", label(len)), |b| {
            b.iter(|| {
                if vec.len() + total > vec.capacity() {
                    vec.clear();
                }
                encode_frame_to_vec(black_box(&header), black_box(&data), &mut vec).unwrap()
            });
        });
        let mut in_place = data.clone();
        group.bench_function(BenchmarkId::new("encode_frame_in_place", label(len)), |b| {
            b.iter(|| encode_frame_in_place(black_box(&header), black_box(&mut in_place)).unwrap());
        });
    }
    group.finish();
}

fn encode_unmasked(c: &mut Criterion) {
    encode(c, "encode_unmasked", None, &[16, 64 * KIB]);
}

fn encode_masked(c: &mut Criterion) {
    encode(c, "encode_masked", Some(KEY), &[16, 64 * KIB]);
}

/// Masking one byte at a time, the yardstick for `mask::apply`.
fn bytewise(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for len in [16, 128, KIB, 16 * KIB, 64 * KIB, MIB] {
        let src = payload(len);
        let mut buf = src.clone();
        let (mut dst, start) = placed(len, 0, &src, FAR);
        let dst = &mut dst[start..start + len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("apply", label(len)), |b| {
            b.iter(|| mask::apply(black_box(&mut buf), black_box(KEY), 0));
        });
        group.bench_function(BenchmarkId::new("bytewise", label(len)), |b| {
            b.iter(|| bytewise(black_box(&mut buf), black_box(KEY)));
        });
        group.bench_function(BenchmarkId::new("copy_masked", label(len)), |b| {
            b.iter(|| mask::copy_masked(black_box(&mut *dst), black_box(&src), black_box(KEY), 0));
        });
        group.bench_function(BenchmarkId::new("copy_from_slice", label(len)), |b| {
            b.iter(|| black_box(&mut *dst).copy_from_slice(black_box(&src)));
        });
    }
    group.finish();
}

#[cfg(feature = "alloc")]
fn broadcast(c: &mut Criterion) {
    use rfc6455::connection::{Config, Connection, Message, PreparedMessage};
    const CONNECTIONS: usize = 1000;
    let mut group = c.benchmark_group("broadcast");
    for len in [128, KIB] {
        group.throughput(Throughput::Bytes((len * CONNECTIONS) as u64));
        let data = payload(len);
        let message = Message::binary(data.clone());
        let prepared = PreparedMessage::new(message.clone());
        let mut conns: Vec<Connection> = (0..CONNECTIONS)
            .map(|_| Connection::upgraded_server(Config::default()))
            .collect();
        let id = |name| BenchmarkId::new(name, format!("{}x1000", label(len)));
        group.bench_function(id("send"), |b| {
            b.iter(|| {
                for conn in &mut conns {
                    conn.send(black_box(&message).clone()).unwrap();
                    let n = conn.pending_output_len();
                    conn.advance_output(black_box(n));
                }
            })
        });
        group.bench_function(id("send_binary"), |b| {
            b.iter(|| {
                for conn in &mut conns {
                    conn.send_binary(black_box(&data)).unwrap();
                    let n = conn.pending_output_len();
                    conn.advance_output(black_box(n));
                }
            })
        });
        group.bench_function(id("send_prepared"), |b| {
            b.iter(|| {
                for conn in &mut conns {
                    conn.send_prepared(black_box(&prepared)).unwrap();
                    let n = conn.pending_output_len();
                    conn.advance_output(black_box(n));
                }
            })
        });
    }
    group.finish();
}

#[cfg(not(feature = "alloc"))]
fn broadcast(_: &mut Criterion) {}

/// One 1 KiB JSON text to 1,000 server connections that negotiated permessage-deflate
/// without context takeover: `send` compresses it on each connection, `send_prepared` of a
/// message a `PreparedCompressor` compressed once (outside the loop, as a broadcaster
/// prepares each message once) shares the compressed bytes.
#[cfg(feature = "deflate")]
fn broadcast_deflate(c: &mut Criterion) {
    use rfc6455::connection::{Config, Connection, Message, PreparedCompressor};
    use rfc6455::deflate::{DeflateConfig, DeflateParams};
    const CONNECTIONS: usize = 1000;
    let text: String = (0..40)
        .map(|i| format!("{{\"id\":{i},\"user\":\"u{}\",\"ok\":true}},", i % 7))
        .collect::<String>()[..KIB]
        .to_owned();
    let deflate = DeflateConfig::new().enabled(true);
    let params = DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let mut conns: Vec<Connection> = (0..CONNECTIONS)
        .map(|_| Connection::upgraded_server(Config::new().deflate(deflate)).with_deflate(params))
        .collect();
    let message = Message::text(text);
    let mut group = c.benchmark_group("broadcast_deflate");
    group.throughput(Throughput::Bytes((KIB * CONNECTIONS) as u64));
    let id = |name| BenchmarkId::new(name, "1KiB_json_x1000");
    group.bench_function(id("send"), |b| {
        b.iter(|| {
            for conn in &mut conns {
                conn.send(black_box(&message).clone()).unwrap();
                let n = conn.pending_output_len();
                conn.advance_output(black_box(n));
            }
        })
    });
    let prepared = PreparedCompressor::new(&deflate).prepare(message.clone());
    assert!(prepared.compressed_payload().is_some());
    group.bench_function(id("send_prepared"), |b| {
        b.iter(|| {
            for conn in &mut conns {
                conn.send_prepared(black_box(&prepared)).unwrap();
                let n = conn.pending_output_len();
                conn.advance_output(black_box(n));
            }
        })
    });
    group.finish();
}

#[cfg(not(feature = "deflate"))]
fn broadcast_deflate(_: &mut Criterion) {}

criterion_group!(
    benches,
    decode_masked,
    encode_unmasked,
    encode_masked,
    masking,
    broadcast,
    broadcast_deflate
);
criterion_main!(benches);
