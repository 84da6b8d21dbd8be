//! Helpers shared by the integration tests. Each test file declares `mod support;` and
//! uses the modules it needs; the rest are compiled and unused there, hence the
//! `allow(dead_code)` for the whole tree.
//!
//! - `conn`: the one place that constructs a `Connection`, and moving its output.
//! - `oracle`: frames written and read by hand from RFC 6455, none of the crate's code.
//! - `events`: lent events turned into owned ones.
//! - `heads`: HTTP heads of the opening handshake written out by hand.
//! - `counting`: a counting global allocator (each binary installs it itself).
//! - `deflate`: Python's zlib as the permessage-deflate oracle, negotiated connections.
//! - `cases`: the proptest case count, from `PROPTEST_CASES` when set.
//! - `noise`: deterministic incompressible bytes (xorshift64).
//! - `splitmix`: a small deterministic random generator.
//! - `time`: durations written short (`ms(n)`).
#![allow(dead_code)]

pub mod cases;
#[cfg(feature = "alloc")]
pub mod conn;
pub mod counting;
#[cfg(feature = "deflate")]
pub mod deflate;
#[cfg(feature = "alloc")]
pub mod events;
pub mod heads;
pub mod noise;
pub mod oracle;
pub mod splitmix;
pub mod time;
