//! A strict, fast, sans-IO WebSocket (RFC 6455) codec.
//!
//! Crate docs are completed as the layers land; see the README for the plan.
#![no_std]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "std")]
pub mod blocking;
pub mod close;
#[cfg(feature = "alloc")]
pub mod connection;
pub mod frame;
pub mod handshake;
pub mod keygen;
pub mod mask;
pub mod utf8;

mod role;

pub use role::Role;
