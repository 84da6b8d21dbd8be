//! A strict, fast, sans-IO WebSocket (RFC 6455) codec.
//!
//! The crate owns every byte of protocol logic and none of the IO: no socket, clock, RNG
//! or thread inside. Bytes in, events out; calls in, bytes out. The frame layer, masking,
//! close codes, UTF-8 validation and the handshake work under `#![no_std]` without an
//! allocator; the connection state machine needs `alloc`; the blocking driver needs `std`.
//!
//! # A server, with `std::net`
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use std::net::TcpListener;
//! use rfc6455::{blocking, connection::Event};
//!
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! for stream in listener.incoming() {
//!     let mut ws = blocking::accept(stream?)?; // HTTP upgrade, validated
//!     while let Ok(event) = ws.read() {         // pings and closes are answered for you
//!         if let Event::Message(message) = event {
//!             ws.send(message)?;                // echo text as text, binary as binary
//!         }
//!     }
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A client, with `std::net`
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use std::net::TcpStream;
//! use rfc6455::{blocking, close::CloseCode, connection::Event};
//!
//! let mut seed = [0u8; 32]; // masking keys must be unpredictable
//! getrandom::fill(&mut seed)?;
//! let stream = TcpStream::connect("127.0.0.1:9001")?;
//! let mut ws = blocking::connect(stream, "ws://127.0.0.1:9001/chat", seed)?;
//! ws.send_text("hello")?;
//! if let Event::Message(reply) = ws.read()? {
//!     println!("got {} bytes back", reply.len());
//! }
//! ws.close(CloseCode::NORMAL, "bye")?;
//! while ws.read().is_ok() {} // until the server's close and end of stream
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sans-IO: drive the connection yourself
//!
//! Event loops and async runtimes use [`connection::Connection`] directly: feed it what
//! the socket delivered, take events, write what it queued.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use rfc6455::connection::{Config, Connection, Event, Message};
//!
//! let mut server = Connection::upgraded_server(Config::default());
//! // A masked text frame "Hello" (RFC 6455 section 5.7), as read from a socket.
//! server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//! while let Some(event) = server.poll_event()? {
//!     if let Event::Message(Message::Text(text)) = event {
//!         server.send_text(&text.as_str().to_uppercase())?;
//!     }
//! }
//! assert_eq!(server.pending_output_chunk(), b"\x81\x05HELLO"); // write this to the socket
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! | module | needs | what it does |
//! |---|---|---|
//! | [`mask`] | core | XOR of the 4-byte masking key, vectorised, from any key phase |
//! | [`frame`] | core | headers, the zero-copy [`frame::Decoder`] (whole frames or pieces), the encoder |
//! | [`close`] | core | close codes (section 7.4) and close payloads |
//! | [`utf8`] | core | incremental, fail-fast UTF-8 validation |
//! | [`handshake`] | core | the HTTP/1.1 upgrade for both roles, accept keys, subprotocols and extension offers |
//! | [`keygen`] | core | masking keys from caller-supplied entropy |
//! | [`keepalive`] | core | pings for quiet peers, dead-peer detection on the caller's clock (`KeepAlive::drive` with `alloc`) |
//! | [`backoff`] | core | reconnection delays: exponential backoff with full or equal jitter, retry by close code |
//! | [`connection`] | `alloc` | the state machine: reassembly, auto pong, close handshake, limits |
//! | [`blocking`] | `std` | a small driver over `Read + Write` streams |
//!
//! Every violation of the RFC is a typed error that names the close code the peer must
//! see (1002, 1007, 1009) or, in the handshake, the HTTP status (400, 426, 431).
#![no_std]
#![deny(missing_docs)]
// `unsafe` only in the modules allowed below, each block with its `// SAFETY:` comment.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

/// A `const fn` builder method for each named field of a settings struct (`Config`,
/// `DeflateConfig`), each named after the field it sets; defined before the modules so
/// that they all see it.
#[allow(unused_macros)]
macro_rules! setters {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
        pub const fn $field(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }
    )*};
}

pub mod backoff;
#[cfg(feature = "std")]
pub mod blocking;
pub mod close;
#[cfg(feature = "alloc")]
pub mod connection;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod keepalive;
pub mod keygen;
// Calls of the AVX2 kernels after run-time detection.
#[allow(unsafe_code)]
pub mod mask;
// The one bulk copy into a vector's uninitialised spare capacity.
#[allow(unsafe_code)]
mod copy;
pub mod utf8;

mod error;
mod role;

/// The `bytes` crate this one builds on ([`connection::Message`] payloads are
/// [`bytes::Bytes`]), re-exported so callers need no version-matched dependency of their own.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use bytes;
pub use error::Error;
pub use role::Role;

/// The README's Rust snippets, compiled and run as doctests so that a wrong one fails
/// (with the default features, which its Compression section needs).
#[cfg(all(doctest, feature = "std", feature = "deflate"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
