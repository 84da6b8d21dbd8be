//! The sans-IO connection state machine (feature `alloc`): bytes in, events out; calls in,
//! bytes out.
//!
//! A [`Connection`] starts after the opening handshake. Feed it the bytes read from the
//! transport with [`receive`](Connection::receive) (or read them straight into its buffer:
//! [`receive_buffer`](Connection::receive_buffer), then
//! [`commit_received`](Connection::commit_received)), take [`Event`]s with
//! [`poll_event`](Connection::poll_event), queue frames with the `send_*` methods and
//! [`close`](Connection::close), and write what [`pending_output`](Connection::pending_output)
//! returns, reporting it with [`advance_output`](Connection::advance_output).
//!
//! ```
//! use rfc6455::Role;
//! use rfc6455::connection::{Config, Connection, Event, Message};
//!
//! let mut client = Connection::new(Role::Client, Config::default(), [42; 32]);
//! let mut server = Connection::new(Role::Server, Config::default(), [0; 32]);
//!
//! client.send_text("hello").unwrap();
//! server.receive(client.pending_output());
//! let n = client.pending_output().len();
//! client.advance_output(n);
//!
//! match server.poll_event().unwrap() {
//!     Some(Event::Message(Message::Text(text))) => assert_eq!(text.as_str(), "hello"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```
#![forbid(unsafe_code)]

mod control;
mod error;
mod event;
mod input;
mod opening;
mod output;
mod reassembly;
mod receive;
mod send;

pub use error::{ProtocolError, SendError};
pub use event::{Accepted, Chunk, ChunkRef, Closed, DataKind, Event, EventRef, Message, Utf8Bytes};
pub use input::MAX_ROOM;

use crate::Role;
use crate::frame::DecoderConfig;
use crate::keygen::MaskKeyGen;
use alloc::boxed::Box;
use input::Rx;
use opening::Opening;
use output::Output;

/// How data messages are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReceiveMode {
    /// Whole messages, reassembled from their fragments ([`Event::Message`]).
    #[default]
    Messages,
    /// Pieces as they arrive ([`Event::Chunk`]), for messages too large to buffer: memory
    /// stays bounded by what the caller feeds, whatever the frame and message sizes.
    Stream,
}

/// Limits and behaviour of a [`Connection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest message, summed over its fragments (default 64 MiB). Exceeding it
    /// fails the connection with 1009.
    pub max_message_size: u64,
    /// The largest frame payload (default 16 MiB), checked on the header before any
    /// payload is awaited. Exceeding it fails the connection with 1009.
    pub max_frame_size: u64,
    /// Answer every ping with a pong carrying the same payload (default on).
    pub auto_pong: bool,
    /// Defer automatic pongs while more than this many bytes of output are unsent
    /// (default 64 KiB), so a peer that pings without reading cannot grow our memory: the
    /// most recent ping's payload (at most 125 bytes) is kept, and its pong is queued by
    /// [`Connection::advance_output`] as soon as the output drains to this bound (RFC 6455
    /// section 5.5.2 lets an endpoint answer only the most recent ping). Pongs are never
    /// dropped while the connection is open.
    pub max_pending_output_for_pong: usize,
    /// Deliver whole messages or pieces.
    pub receive_mode: ReceiveMode,
    /// Buffers up to this capacity (default 128 KiB, per buffer) are kept when drained and
    /// reused, so messages that fit are received and sent without any allocation in steady
    /// state; a buffer grown past it for a larger message is released as soon as it is
    /// drained, unless the next frame has already started and is larger than this too.
    pub reuse_capacity: usize,
    /// What [`Connection::shrink_buffers`] keeps (default 512 bytes per buffer): call it
    /// when a connection goes idle ([`keepalive::KeepAlive::drive`](crate::keepalive::KeepAlive::drive)
    /// does) so that 100,000 idle connections cost their structs and little more.
    pub retained_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: 64 << 20,
            max_frame_size: DecoderConfig::DEFAULT_MAX_FRAME_SIZE,
            auto_pong: true,
            max_pending_output_for_pong: 64 << 10,
            receive_mode: ReceiveMode::Messages,
            reuse_capacity: 128 << 10,
            retained_capacity: 512,
        }
    }
}

/// The lifecycle of a connection, as in the browser API's `readyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// The opening handshake is not finished.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    Closing,
    /// Close frames were exchanged, the connection failed, or the transport ended. Write
    /// any pending output; then see [`Connection::should_close_transport`].
    Closed,
}

/// A WebSocket connection: the opening handshake (with [`Connection::client`] and
/// [`Connection::server`]) and everything after it, or only what comes after it (with
/// [`Connection::new`], when the handshake was done elsewhere, e.g. by an HTTP server).
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    rx: Rx,
    out: Output,
    keys: MaskKeyGen,
    /// We queued a close frame.
    close_sent: bool,
    /// The peer's close frame arrived.
    close_received: bool,
    /// We failed the connection: close the transport once the output is written.
    failed: bool,
    /// The message being sent in fragments.
    tx_fragment: Option<DataKind>,
    /// The opening handshake, while [`State::Connecting`].
    opening: Option<Box<Opening>>,
    /// Bytes fed to `receive`, for keep-alive.
    bytes_received: u64,
    /// The payload of the latest ping whose automatic pong waits for the output to drain
    /// to `max_pending_output_for_pong` (at most 125 bytes).
    deferred_pong: Option<Box<control::DeferredPong>>,
}

impl Connection {
    /// An open connection for `role`, for a handshake done elsewhere (see
    /// [`client`](Self::client) and [`server`](Self::server) to let the connection do it).
    /// `mask_seed` is 32 random bytes from which a client
    /// derives its masking keys (RFC 6455 section 5.3); a server ignores it.
    pub fn new(role: Role, config: Config, mask_seed: [u8; 32]) -> Self {
        let decoder = DecoderConfig {
            role,
            allowed_rsv: crate::frame::Rsv::NONE,
            max_frame_size: config.max_frame_size,
        };
        Connection {
            role,
            config,
            state: State::Open,
            rx: Rx::new(decoder, config.receive_mode == ReceiveMode::Stream),
            out: Output::default(),
            keys: MaskKeyGen::new(mask_seed),
            close_sent: false,
            close_received: false,
            failed: false,
            tx_fragment: None,
            opening: None,
            bytes_received: 0,
            deferred_pong: None,
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The bytes fed to [`receive`](Self::receive) so far, counting those discarded after a
    /// close (wrapping at `u64::MAX`): any change is proof that the peer is alive, for
    /// [`KeepAlive::drive`](crate::keepalive::KeepAlive::drive).
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// Whether the transport should now be closed by this end: the connection is
    /// [`State::Closed`] and all output is written, and either it failed, the peer ended the
    /// transport, or this is the server (RFC 6455 section 7.1.1: the server closes the TCP
    /// connection first; a client waits for the server to do so, with a timeout of its
    /// choosing).
    pub fn should_close_transport(&self) -> bool {
        self.state == State::Closed
            && self.out.len() == 0
            && (self.failed || self.rx.eof || self.role == Role::Server)
    }

    /// The bytes waiting to be written to the transport (a prefix of them when frames are
    /// queued by reference); empty when there is nothing to write.
    #[inline]
    pub fn pending_output(&self) -> &[u8] {
        self.out.front()
    }

    /// All bytes waiting to be written, as slices in order, for a vectored write.
    #[inline]
    pub fn pending_output_slices(&self) -> impl Iterator<Item = &[u8]> {
        self.out.slices()
    }

    /// The number of bytes waiting to be written.
    #[inline]
    pub fn pending_output_len(&self) -> usize {
        self.out.len()
    }

    /// Release buffer memory beyond [`Config::retained_capacity`] that nothing pending
    /// needs: call it when the connection goes idle. Returns the bytes of capacity given
    /// back (approximately: a buffer's capacity as `bytes` reports it).
    pub fn shrink_buffers(&mut self) -> usize {
        let keep = self.config.retained_capacity;
        self.rx.shrink(keep) + self.out.shrink(keep)
    }

    /// Report that the first `n` pending bytes were written.
    ///
    /// This may queue bytes: an automatic pong deferred while the output was over
    /// [`Config::max_pending_output_for_pong`] is queued here once the output has drained
    /// to that bound, so write until [`pending_output_len`](Self::pending_output_len) is 0.
    #[inline]
    pub fn advance_output(&mut self, n: usize) {
        self.out.advance(n, self.config.reuse_capacity);
        if self.deferred_pong.is_some() {
            self.flush_deferred_pong();
        }
    }

    /// Write all pending output to `w` with vectored writes, including a deferred pong
    /// that the writing lets through; returns the bytes written.
    #[cfg(feature = "std")]
    pub fn write_to<W: std::io::Write>(&mut self, w: &mut W) -> std::io::Result<usize> {
        let mut total = 0;
        while self.out.len() > 0 {
            let mut slices = [std::io::IoSlice::new(&[]); 16];
            let mut count = 0;
            for (slot, chunk) in slices.iter_mut().zip(self.out.slices()) {
                *slot = std::io::IoSlice::new(chunk);
                count += 1;
            }
            let n = w.write_vectored(&slices[..count])?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            self.advance_output(n);
            total += n;
        }
        Ok(total)
    }
}
