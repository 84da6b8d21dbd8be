//! The sans-IO connection state machine (feature `alloc`): bytes in, events out; calls in,
//! bytes out.
//!
//! A [`Connection`] does the opening handshake ([`Connection::server`],
//! [`Connection::client`]) or starts after one done elsewhere
//! ([`Connection::upgraded_server`], [`Connection::upgraded_client`]). Feed it the bytes
//! read from the transport with [`receive`](Connection::receive) (or read them straight
//! into its buffer: [`receive_buffer`](Connection::receive_buffer), then
//! [`commit_received`](Connection::commit_received), or, for readers that fill
//! uninitialised memory, [`receive_with`](Connection::receive_with)), take [`Event`]s with
//! [`poll_event`](Connection::poll_event), queue frames with the `send_*` methods and
//! [`close`](Connection::close), and write all
//! [`pending_output_len`](Connection::pending_output_len) bytes to the transport before
//! waiting for input (see [`pending_output_chunk`](Connection::pending_output_chunk),
//! [`pending_output_io_slices`](Connection::pending_output_io_slices) and
//! [`pending_output_buf`](Connection::pending_output_buf)), reporting what was written with
//! [`advance_output`](Connection::advance_output). The connection queues bytes by itself
//! too (pongs, close replies, the close frame of a failure): after every `poll_event`,
//! write what is pending.
//!
//! ```
//! use rfc6455::connection::{Config, Connection, Event, Message};
//!
//! let mut client = Connection::upgraded_client(Config::default(), [42; 32]);
//! let mut server = Connection::upgraded_server(Config::default());
//!
//! client.send_text("hello")?;
//! let mut wire = Vec::new(); // stands in for the transport
//! client.write_to(&mut wire)?;
//! server.receive(&wire);
//!
//! match server.poll_event()? {
//!     Some(Event::Message(Message::Text(text))) => assert_eq!(text.as_str(), "hello"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod buffer;
mod control;
#[cfg(feature = "deflate")]
mod deflate;
mod error;
mod event;
#[cfg(feature = "http")]
mod http;
mod input;
mod opening;
mod output;
mod prepared;
mod reassembly;
mod receive;
mod request;
mod send;
mod write;

pub use error::{ProtocolError, SendError, Unsent};
pub use event::{Accepted, Chunk, ChunkRef, Closed, DataKind, Event, EventRef, Message, Utf8Bytes};
pub use input::MAX_READ_LEN;
#[cfg(feature = "deflate")]
pub use prepared::PreparedCompressor;
pub use prepared::PreparedMessage;
pub use request::UpgradeRequest;
pub use write::OutputBuf;

use crate::Role;
use crate::frame::DecoderConfig;
use crate::handshake::Limits;
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
///
/// Build it in one expression with the builder methods, each named after the field it
/// sets (the struct is `#[non_exhaustive]`, so that fields can be added without breaking
/// callers; a struct literal with `..Config::default()` does not compile outside this
/// crate):
///
/// ```
/// use rfc6455::connection::{Config, ReceiveMode};
///
/// const CONFIG: Config = Config::new()
///     .max_message_size(1 << 20)
///     .receive_mode(ReceiveMode::Stream);
/// assert_eq!(CONFIG.max_message_size, 1 << 20);
/// assert_eq!(CONFIG.max_frame_size, Config::default().max_frame_size);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest message, summed over its fragments (default 64 MiB). Exceeding it
    /// fails the connection with 1009.
    pub max_message_size: u64,
    /// The largest frame payload (default 16 MiB), checked on the header before any
    /// payload is awaited. Exceeding it fails the connection with 1009.
    pub max_frame_size: u64,
    /// The most output the `send_*` methods queue (default 1 MiB): a send that would take
    /// the unwritten output past it is refused with [`SendError::QueueFull`] and queues
    /// nothing, so a peer that stops reading cannot grow our memory through our own
    /// sends. Into an empty queue any one message is accepted, so a message larger than
    /// the bound can still be sent: output then peaks at that message. Automatic replies
    /// (pongs, close frames) are not refused; pongs have a bound of their own
    /// ([`max_pending_output_for_pong`](Self::max_pending_output_for_pong)).
    pub max_queued_output: usize,
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
    /// reused while the connection is busy, so messages that fit are received and sent
    /// without any allocation in steady state; a buffer grown past it for a larger message
    /// is released as soon as it is drained, unless the next frame has already started and
    /// is larger than this too.
    pub active_buffer_capacity: usize,
    /// What [`Connection::shrink_buffers`] keeps of each buffer (default 512 bytes): call
    /// it when a connection goes idle ([`keepalive::KeepAlive::drive`](crate::keepalive::KeepAlive::drive)
    /// does) so that 100,000 idle connections cost their structs and little more.
    pub idle_buffer_capacity: usize,
    /// Limits on the peer's HTTP head in the opening handshake, for
    /// [`Connection::server`] (the request) and [`Connection::client`] (the response).
    pub handshake_limits: Limits,
    /// permessage-deflate (RFC 7692, feature `deflate`): off by default. When enabled, a
    /// [`Connection::client`] offers it and a [`Connection::server`] accepts the first
    /// offer it can honour, by these settings; compressed messages are then inflated
    /// within [`max_message_size`](Self::max_message_size), which limits the
    /// decompressed size.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub deflate: crate::deflate::DeflateConfig,
}

impl Config {
    /// The defaults (as [`Config::default`], usable in `const` items).
    pub const fn new() -> Self {
        Config {
            max_message_size: 64 << 20,
            max_frame_size: DecoderConfig::DEFAULT_MAX_FRAME_SIZE,
            max_queued_output: 1 << 20,
            auto_pong: true,
            max_pending_output_for_pong: 64 << 10,
            receive_mode: ReceiveMode::Messages,
            active_buffer_capacity: 128 << 10,
            idle_buffer_capacity: 512,
            handshake_limits: Limits::new(),
            #[cfg(feature = "deflate")]
            deflate: crate::deflate::DeflateConfig::new(),
        }
    }

    /// Sets [`deflate`](Self::deflate).
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub const fn deflate(mut self, value: crate::deflate::DeflateConfig) -> Self {
        self.deflate = value;
        self
    }

    setters! {
        max_message_size: u64,
        max_frame_size: u64,
        max_queued_output: usize,
        auto_pong: bool,
        max_pending_output_for_pong: usize,
        receive_mode: ReceiveMode,
        active_buffer_capacity: usize,
        idle_buffer_capacity: usize,
        handshake_limits: Limits,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
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
/// [`Connection::upgraded_server`] and [`Connection::upgraded_client`], when the handshake
/// was done elsewhere, e.g. by an HTTP server).
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    /// Where the connection is in its lifecycle, with what that stage needs.
    phase: Phase,
    rx: Rx,
    out: Output,
    keys: MaskKeyGen,
    /// Bytes fed to `receive`, for keep-alive.
    bytes_received: u64,
    /// permessage-deflate, once negotiated.
    #[cfg(feature = "deflate")]
    deflate: Option<Box<deflate::PerMessage>>,
}

/// The lifecycle with each stage's own data; the public [`State`] is derived from it.
#[derive(Debug)]
enum Phase {
    /// The opening handshake is under way.
    Connecting(Box<Opening>),
    /// Messages flow both ways. `sending` is the kind of the message being sent in
    /// fragments, if one is; `deferred_pong` the payload of the latest ping whose
    /// automatic pong waits for the output to drain to `max_pending_output_for_pong` (at
    /// most 125 bytes; dropped with this state, since nothing may follow a close frame).
    Open {
        sending: Option<DataKind>,
        deferred_pong: Option<Box<control::DeferredPong>>,
    },
    /// We queued a close frame and wait for the peer's: nothing more is sent, data
    /// still arrives (RFC 6455 section 7.1.2).
    Closing,
    /// Nothing more is sent, and nothing more is taken in.
    Closed(End),
}

/// How a connection reached [`State::Closed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Close frames went both ways (ours was queued before the peer's arrived, or in
    /// answer to it).
    CloseExchanged,
    /// We failed the connection (a protocol error, a limit, a failed or refused opening
    /// handshake): close the transport once the output is written.
    Failed,
    /// The transport ended before the closing handshake did.
    TransportEnded,
}

impl Phase {
    /// Open, with no fragmented message being sent and no pong deferred.
    fn open() -> Self {
        Phase::Open {
            sending: None,
            deferred_pong: None,
        }
    }

    fn is_open(&self) -> bool {
        matches!(self, Phase::Open { .. })
    }
}

impl Connection {
    /// An open server connection, for a handshake done elsewhere (e.g. by an HTTP server
    /// that upgraded the stream). See [`server`](Self::server) to let the connection do
    /// the handshake.
    pub fn upgraded_server(config: Config) -> Self {
        Self::open(Role::Server, config, [0; 32])
    }

    /// An open client connection, for a handshake done elsewhere. `mask_seed` is 32
    /// random bytes from which the masking keys are derived (RFC 6455 section 5.3: they
    /// must be unpredictable); `keygen::random_seed()` (feature `getrandom`) gives one.
    /// See [`client`](Self::client) to let the
    /// connection do the handshake.
    pub fn upgraded_client(config: Config, mask_seed: [u8; 32]) -> Self {
        Self::open(Role::Client, config, mask_seed)
    }

    fn open(role: Role, config: Config, mask_seed: [u8; 32]) -> Self {
        Connection {
            role,
            config,
            phase: Phase::open(),
            rx: Rx::new(config.receive_mode == ReceiveMode::Stream),
            out: Output::default(),
            keys: MaskKeyGen::new(mask_seed),
            bytes_received: 0,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// What the frame header parser checks incoming headers against.
    #[inline]
    fn decoder_config(&self) -> DecoderConfig {
        DecoderConfig {
            role: self.role,
            allowed_rsv: self.allowed_rsv(),
            max_frame_size: self.wire_limit(self.config.max_frame_size),
        }
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Connecting(_) => State::Connecting,
            Phase::Open { .. } => State::Open,
            Phase::Closing => State::Closing,
            Phase::Closed(_) => State::Closed,
        }
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
        let end_by_us = match self.phase {
            Phase::Closed(End::Failed | End::TransportEnded) => true,
            Phase::Closed(End::CloseExchanged) => self.rx.eof || self.role == Role::Server,
            _ => false,
        };
        end_by_us && self.out.len() == 0
    }

    /// Release buffer memory beyond [`Config::idle_buffer_capacity`] that nothing pending
    /// needs: call it when the connection goes idle. Returns the bytes of capacity given
    /// back (approximately: a buffer's capacity as `bytes` reports it).
    pub fn shrink_buffers(&mut self) -> usize {
        self.shrink(0)
    }

    /// [`shrink_buffers`](Self::shrink_buffers) for a driver each time it waits on the
    /// transport with nothing pending, between bursts of a busy connection: the same
    /// memory is given back, but the connection remembers how far its output buffer grew
    /// (one number), so that the next burst allocates that room at once instead of growing
    /// to it again and copying at each step. The first frame queued after
    /// `shrink_buffers` (a keep-alive ping) allocates only what it needs.
    pub fn shrink_buffers_between_bursts(&mut self) -> usize {
        self.shrink(self.config.active_buffer_capacity)
    }

    fn shrink(&mut self, regrow_max: usize) -> usize {
        let keep = self.config.idle_buffer_capacity;
        let freed = self.rx.shrink(keep) + self.out.shrink(keep, regrow_max);
        #[cfg(feature = "deflate")]
        let freed = freed + self.deflate.as_deref_mut().map_or(0, |d| d.shrink());
        freed
    }

    /// What a frame or message limited to `limit` bytes may take on the wire: `limit`
    /// itself, or once permessage-deflate is negotiated, what DEFLATE makes of `limit` bytes
    /// that do not compress (stored blocks and flushes add a few bytes per block): a peer
    /// that compresses everything sends a message of `limit` random bytes in a little more.
    /// `start_frame` holds frames and messages that are not compressed to `limit` itself.
    #[inline]
    fn wire_limit(&self, limit: u64) -> u64 {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            let bound =
                crate::deflate::Deflater::bound(usize::try_from(limit).unwrap_or(usize::MAX));
            return u64::try_from(bound).unwrap_or(u64::MAX).max(limit);
        }
        limit
    }

    /// The reserved bits incoming frames may carry: RSV1 once permessage-deflate is
    /// negotiated (RFC 7692 section 6), none otherwise.
    #[inline]
    fn allowed_rsv(&self) -> crate::frame::Rsv {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return crate::frame::Rsv::RSV1;
        }
        crate::frame::Rsv::NONE
    }
}
