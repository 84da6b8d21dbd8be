//! Negotiation of permessage-deflate (RFC 7692 sections 5 and 7.1): the client's offer,
//! the server's choice among offers and its response, the client's check of the response.
//!
//! SKELETON: the signatures are fixed; the bodies are written by the negotiation work.

use alloc::string::String;

use crate::handshake::ExtensionOffer;

/// The permessage-deflate settings of one endpoint, in [`Config::deflate`](crate::connection::Config::deflate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Offer it (client) or accept an offer (server). Default off.
    pub enabled: bool,
    /// The largest LZ77 window (log2, 8..=15) we let the peer compress with: a client puts
    /// `server_max_window_bits` in its offer, a server `client_max_window_bits` in its response
    /// when the client allowed it, when this is below 15. Default 15.
    pub peer_max_window_bits: u8,
    /// The window (log2, 8..=15) we compress with, at most: we may announce it (a server sends
    /// `server_max_window_bits`, a client offers `client_max_window_bits=N`). Default 15.
    pub own_max_window_bits: u8,
    /// Ask the peer not to keep its LZ77 context between messages (a client offers
    /// `server_no_context_takeover`, a server responds `client_no_context_takeover`), so our
    /// decompressor holds no state between messages. Default off.
    pub peer_no_context_takeover: bool,
    /// Do not keep our own compressor's context between messages (announced as
    /// `client_no_context_takeover` / `server_no_context_takeover`): no compressor state is
    /// held between messages. Default off.
    pub own_no_context_takeover: bool,
    /// Compression level, 0 (stored blocks only) to 9 (smallest). Default 1.
    pub level: u8,
    /// Messages shorter than this many bytes are sent uncompressed. Default 32.
    pub threshold: usize,
}

/// The parameters both ends agreed on, by role: what the server and the client compress
/// with, and whether each keeps its context between messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// `server_no_context_takeover` was agreed.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover` was agreed.
    pub client_no_context_takeover: bool,
    /// The server's window, log2 (15 unless `server_max_window_bits` was agreed).
    pub server_max_window_bits: u8,
    /// The client's window, log2 (15 unless `client_max_window_bits=N` was agreed).
    pub client_max_window_bits: u8,
}

/// Why a server's permessage-deflate response is not acceptable to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// SKELETON: the variants are defined by the negotiation work.
    Invalid,
}

impl DeflateConfig {
    /// The defaults (off), usable in `const` items.
    pub const fn new() -> Self {
        DeflateConfig {
            enabled: false,
            peer_max_window_bits: 15,
            own_max_window_bits: 15,
            peer_no_context_takeover: false,
            own_no_context_takeover: false,
            level: 1,
            threshold: 32,
        }
    }

    /// The client's offer, a `Sec-WebSocket-Extensions` element (e.g.
    /// `permessage-deflate; client_max_window_bits`).
    pub fn offer(&self) -> String {
        todo!()
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig::new()
    }
}

/// Server: the first permessage-deflate offer among `offers` that `config` can honour, as
/// the agreed parameters and the response element to send; `None` declines them all.
pub(crate) fn accept_offers<'a>(
    _config: &DeflateConfig,
    _offers: impl Iterator<Item = ExtensionOffer<'a>>,
) -> Option<(DeflateParams, String)> {
    todo!()
}

/// Client: check the server's response elements against what `config` offered; `Ok(None)`
/// when the server did not accept permessage-deflate.
pub(crate) fn validate_response<'a>(
    _config: &DeflateConfig,
    _response: impl Iterator<Item = ExtensionOffer<'a>>,
) -> Result<Option<DeflateParams>, NegotiationError> {
    todo!()
}

impl core::fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid permessage-deflate response")
    }
}

impl core::error::Error for NegotiationError {}
