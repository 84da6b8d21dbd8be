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
pub(crate) use negotiate::{accept_offers, validate_response};

/// A `const fn` builder method for each named field of [`DeflateConfig`].
macro_rules! setters {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
        pub const fn $field(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }
    )*};
}

impl DeflateConfig {
    setters! {
        enabled: bool,
        peer_max_window_bits: u8,
        own_max_window_bits: u8,
        peer_no_context_takeover: bool,
        own_no_context_takeover: bool,
        level: u8,
        threshold: usize,
    }
}
