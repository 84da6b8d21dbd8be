//! permessage-deflate (RFC 7692), feature `deflate`: the negotiation of its four
//! parameters in the opening handshake, and the per-message compressor and decompressor
//! the connection runs when it was negotiated.
//!
//! The connection does everything itself once [`Config::deflate`](crate::connection::Config::deflate)
//! enables it: a client offers it, a server accepts the first offer it can honour, RSV1
//! marks compressed messages, and inflation is capped by
//! [`Config::max_message_size`](crate::connection::Config::max_message_size) as it runs.
//! This module's public items are the settings and the negotiated parameters; the
//! backend stays private.

mod backend;
mod codec;
mod negotiate;

pub(crate) use codec::{Deflater, Inflater};
pub use negotiate::{DeflateConfig, DeflateParams, NegotiationError};
