//! Negotiation of permessage-deflate (RFC 7692 sections 5 and 7.1): the client's offer,
//! the server's choice among offers and its response, the client's check of the response.
//!
//! Names are compared ASCII case-insensitively, the extension's as the handshake's check of
//! accepted extensions does (`extension_offered` in `handshake/client.rs`) and the
//! parameters' as [`ExtensionOffer::param`] does: `Permessage-Deflate;
//! Server_No_Context_Takeover` is the same offer as its lowercase spelling. Values are
//! compared after quoted-string unescaping (section 7.1: a quoted value must be a token
//! once unescaped), so `server_max_window_bits="10"` is `server_max_window_bits=10`.

use alloc::string::String;
use core::fmt::{self, Write as _};

use crate::Role;
use crate::handshake::{ExtensionOffer, ParamValue};

/// The extension's name (RFC 7692 section 7).
const NAME: &str = "permessage-deflate";
const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The smallest and largest window, log2 (RFC 7692 section 7.1.2).
const MIN_BITS: u8 = 8;
const MAX_BITS: u8 = 15;

/// The permessage-deflate settings of one endpoint, in [`Config::deflate`](crate::connection::Config::deflate).
///
/// Build it with the `const fn` builder methods, each named after the field it sets.
/// Window sizes outside 8..=15 are taken as the nearest of the two bounds.
///
/// ```
/// use rfc6455::deflate::DeflateConfig;
///
/// const DEFLATE: DeflateConfig = DeflateConfig::new()
///     .enabled(true)
///     .peer_max_window_bits(10)
///     .own_no_context_takeover(true);
/// assert_eq!(
///     DEFLATE.offer(),
///     "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Offer it (client) or accept an offer (server). Default off.
    pub enabled: bool,
    /// The largest LZ77 window (log2, 8..=15) we let the peer compress with: a client puts
    /// `server_max_window_bits` in its offer, a server `client_max_window_bits` in its response
    /// when the client allowed it, when this is below 15. Default 15.
    ///
    /// A client that does not offer `client_max_window_bits` cannot be limited: a server
    /// still accepts its offer, and that client's window is 15.
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

impl DeflateParams {
    /// What `role` compresses with: its window (log2, 8..=15) and whether it must drop
    /// its LZ77 context after each message (`true`: no context takeover).
    ///
    /// ```
    /// use rfc6455::Role;
    /// use rfc6455::deflate::DeflateParams;
    ///
    /// let params = DeflateParams {
    ///     server_no_context_takeover: true,
    ///     client_no_context_takeover: false,
    ///     server_max_window_bits: 10,
    ///     client_max_window_bits: 15,
    /// };
    /// assert_eq!(params.ours(Role::Server), (10, true));
    /// assert_eq!(params.theirs(Role::Server), (15, false));
    /// ```
    pub const fn ours(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
        }
    }

    /// What the peer of `role` compresses with, so what `role` decompresses: the peer's
    /// window (log2) and whether the peer drops its context after each message.
    pub const fn theirs(&self, role: Role) -> (u8, bool) {
        self.ours(role.peer())
    }
}

/// Why a server's permessage-deflate response is not acceptable to the client (RFC 7692
/// section 7.1: the client must then fail the WebSocket connection).
///
/// `param` names the parameter, as RFC 7692 spells it (e.g. `server_max_window_bits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// A parameter RFC 7692 does not define for a response.
    UnknownParameter,
    /// A parameter more than once in the element.
    DuplicateParameter {
        /// The repeated parameter.
        param: &'static str,
    },
    /// A parameter with an invalid value: a window size that is not 8..=15 written without
    /// a leading zero (or no value at all), or a value on a parameter that takes none.
    InvalidValue {
        /// The parameter.
        param: &'static str,
    },
    /// `client_max_window_bits` in a response to an offer without it.
    NotOffered {
        /// The parameter.
        param: &'static str,
    },
    /// A window size in the response larger than the one offered.
    WindowLargerThanOffered {
        /// The parameter (`server_max_window_bits` or `client_max_window_bits`).
        param: &'static str,
    },
    /// A parameter the offer had, which an accepting response must repeat
    /// (`server_no_context_takeover`, `server_max_window_bits`), missing from it.
    MissingParameter {
        /// The parameter.
        param: &'static str,
    },
    /// permessage-deflate accepted more than once.
    RepeatedExtension,
    /// permessage-deflate accepted although it was not offered (the config is disabled).
    ExtensionNotOffered,
}

/// The section of RFC 7692 that defines `param`.
fn section(param: &str) -> &'static str {
    match param {
        SERVER_NO_CONTEXT_TAKEOVER => "7.1.1.1",
        CLIENT_NO_CONTEXT_TAKEOVER => "7.1.1.2",
        SERVER_MAX_WINDOW_BITS => "7.1.2.1",
        _ => "7.1.2.2",
    }
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NegotiationError::UnknownParameter => f.write_str(
                "permessage-deflate response with a parameter not defined for use in a \
                 response (RFC 7692 section 7.1)",
            ),
            NegotiationError::DuplicateParameter { param } => write!(
                f,
                "permessage-deflate response with {param} more than once (RFC 7692 section 7.1)"
            ),
            NegotiationError::InvalidValue { param } => write!(
                f,
                "permessage-deflate response with an invalid value for {param} (RFC 7692 \
                 section {})",
                section(param)
            ),
            NegotiationError::NotOffered { param } => write!(
                f,
                "permessage-deflate response with {param}, which the offer did not have \
                 (RFC 7692 section {})",
                section(param)
            ),
            NegotiationError::WindowLargerThanOffered { param } => write!(
                f,
                "permessage-deflate response with a larger {param} than offered (RFC 7692 \
                 section {})",
                section(param)
            ),
            NegotiationError::MissingParameter { param } => write!(
                f,
                "permessage-deflate response without {param}, which the offer had (RFC 7692 \
                 section {})",
                section(param)
            ),
            NegotiationError::RepeatedExtension => f.write_str(
                "permessage-deflate accepted more than once: both would use RSV1 (RFC 7692 \
                 section 5)",
            ),
            NegotiationError::ExtensionNotOffered => {
                f.write_str("permessage-deflate accepted but not offered (RFC 7692 section 5)")
            }
        }
    }
}

impl core::error::Error for NegotiationError {}

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

    setters! {
        enabled: bool,
        peer_max_window_bits: u8,
        own_max_window_bits: u8,
        peer_no_context_takeover: bool,
        own_no_context_takeover: bool,
        level: u8,
        threshold: usize,
    }

    /// The client's offer, a `Sec-WebSocket-Extensions` element (e.g.
    /// `permessage-deflate; client_max_window_bits`).
    ///
    /// It always has `client_max_window_bits` (we compress with whatever window the server
    /// asks for), with the value [`own_max_window_bits`](Self::own_max_window_bits) when that
    /// is below 15; `server_max_window_bits` when
    /// [`peer_max_window_bits`](Self::peer_max_window_bits) is below 15; and the two
    /// `*_no_context_takeover` parameters as the config asks.
    pub fn offer(&self) -> String {
        self.offered().to_element()
    }

    /// What [`offer`](Self::offer) offers.
    fn offered(&self) -> Params {
        let own = clamp_bits(self.own_max_window_bits);
        let peer = clamp_bits(self.peer_max_window_bits);
        Params {
            server_no_context_takeover: self.peer_no_context_takeover,
            client_no_context_takeover: self.own_no_context_takeover,
            server_max_window_bits: (peer < MAX_BITS).then_some(peer),
            client_max_window_bits: Some((own < MAX_BITS).then_some(own)),
        }
    }

    /// Server: the first permessage-deflate offer among `offers` (a client's
    /// `Sec-WebSocket-Extensions` elements, in its order of preference) that this config can
    /// honour, as the agreed parameters and the response element to send; `None` when the
    /// config is disabled or it declines them all.
    ///
    /// Other extensions are skipped. An offer with a parameter RFC 7692 does not define, a
    /// parameter twice or an invalid value is declined (section 7.1). The response:
    /// - `server_no_context_takeover` if offered or if
    ///   [`own_no_context_takeover`](Self::own_no_context_takeover);
    /// - `client_no_context_takeover` if offered or if
    ///   [`peer_no_context_takeover`](Self::peer_no_context_takeover);
    /// - `server_max_window_bits`: the smaller of the offered value and
    ///   [`own_max_window_bits`](Self::own_max_window_bits) if offered, else
    ///   `own_max_window_bits` when that is below 15;
    /// - `client_max_window_bits` only if offered: the smaller of the offered value (15 if
    ///   none) and [`peer_max_window_bits`](Self::peer_max_window_bits), when that is below
    ///   15. An offered value is echoed even when we would not limit the client, so that the
    ///   client is bound to it (a response without the parameter would let it use 15).
    ///
    /// ```
    /// use rfc6455::deflate::DeflateConfig;
    /// use rfc6455::handshake::parse_extension_list;
    ///
    /// let offers = parse_extension_list(
    ///     "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits; server_max_window_bits=10",
    /// )
    /// .unwrap();
    /// let (params, response) = DeflateConfig::new().enabled(true).accept_offers(offers).unwrap();
    /// assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
    /// assert_eq!((params.server_max_window_bits, params.client_max_window_bits), (10, 15));
    /// ```
    pub fn accept_offers<'a>(
        &self,
        offers: impl Iterator<Item = ExtensionOffer<'a>>,
    ) -> Option<(DeflateParams, String)> {
        if !self.enabled {
            return None;
        }
        let own = clamp_bits(self.own_max_window_bits);
        let peer = clamp_bits(self.peer_max_window_bits);
        offers
            .filter(|offer| offer.name().eq_ignore_ascii_case(NAME))
            .find_map(|offer| Params::parse(&offer, Side::Offer).ok())
            .map(|offered| {
                let server_bits = offered.server_max_window_bits.map_or(own, |n| n.min(own));
                let client_bits = match offered.client_max_window_bits {
                    Some(n) => n.unwrap_or(MAX_BITS).min(peer),
                    None => MAX_BITS,
                };
                let params = DeflateParams {
                    server_no_context_takeover: offered.server_no_context_takeover
                        || self.own_no_context_takeover,
                    client_no_context_takeover: offered.client_no_context_takeover
                        || self.peer_no_context_takeover,
                    server_max_window_bits: server_bits,
                    client_max_window_bits: client_bits,
                };
                let response = Params {
                    server_no_context_takeover: params.server_no_context_takeover,
                    client_no_context_takeover: params.client_no_context_takeover,
                    // Section 7.1.2.1: an offered value must be answered, even 15.
                    server_max_window_bits: (offered.server_max_window_bits.is_some()
                        || server_bits < MAX_BITS)
                        .then_some(server_bits),
                    client_max_window_bits: (offered.client_max_window_bits.is_some()
                        && client_bits < MAX_BITS)
                        .then_some(Some(client_bits)),
                };
                (params, response.to_element())
            })
    }

    /// Client: check the server's `Sec-WebSocket-Extensions` elements (all of them: other
    /// extensions are skipped) against what [`offer`](Self::offer) offered; `Ok(None)` when
    /// the server did not accept permessage-deflate.
    ///
    /// The agreed client window is the response's `client_max_window_bits`, else
    /// [`own_max_window_bits`](Self::own_max_window_bits); the server's its
    /// `server_max_window_bits`, else 15. `client_no_context_takeover` is agreed when the
    /// response has it or when we offered it (section 7.1.1.2: the offer promised it).
    ///
    /// ```
    /// use rfc6455::deflate::{DeflateConfig, NegotiationError};
    /// use rfc6455::handshake::parse_extension_list;
    ///
    /// let config = DeflateConfig::new().enabled(true).peer_max_window_bits(10);
    /// let response = parse_extension_list("permessage-deflate; server_max_window_bits=9").unwrap();
    /// let params = config.validate_response(response).unwrap().unwrap();
    /// assert_eq!(params.server_max_window_bits, 9);
    ///
    /// let response = parse_extension_list("permessage-deflate").unwrap();
    /// assert_eq!(
    ///     config.validate_response(response),
    ///     Err(NegotiationError::MissingParameter { param: "server_max_window_bits" })
    /// );
    /// ```
    pub fn validate_response<'a>(
        &self,
        response: impl Iterator<Item = ExtensionOffer<'a>>,
    ) -> Result<Option<DeflateParams>, NegotiationError> {
        let mut accepted = None;
        for element in response.filter(|e| e.name().eq_ignore_ascii_case(NAME)) {
            if accepted.replace(element).is_some() {
                return Err(NegotiationError::RepeatedExtension);
            }
        }
        let Some(element) = accepted else {
            return Ok(None);
        };
        if !self.enabled {
            return Err(NegotiationError::ExtensionNotOffered);
        }
        let response = Params::parse(&element, Side::Response)?;
        self.offered().check_response(&response).map(Some)
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig::new()
    }
}

/// A window size from a config, in 8..=15.
fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_BITS, MAX_BITS)
}

/// Which element is parsed: `client_max_window_bits` may go without a value in an offer only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

/// The parameters of one permessage-deflate offer or response element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (offers only).
    client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    /// The parameters of `element`, checked against section 7.1's rules for `side`.
    fn parse(element: &ExtensionOffer<'_>, side: Side) -> Result<Params, NegotiationError> {
        let mut params = Params::default();
        // A bit per parameter, in the order of the four names above.
        let mut seen = 0u8;
        for param in element.params() {
            let (bit, name) = [
                SERVER_NO_CONTEXT_TAKEOVER,
                CLIENT_NO_CONTEXT_TAKEOVER,
                SERVER_MAX_WINDOW_BITS,
                CLIENT_MAX_WINDOW_BITS,
            ]
            .into_iter()
            .enumerate()
            .find(|(_, name)| param.name.eq_ignore_ascii_case(name))
            .ok_or(NegotiationError::UnknownParameter)?;
            if seen & (1 << bit) != 0 {
                return Err(NegotiationError::DuplicateParameter { param: name });
            }
            seen |= 1 << bit;
            let invalid = NegotiationError::InvalidValue { param: name };
            match name {
                SERVER_NO_CONTEXT_TAKEOVER | CLIENT_NO_CONTEXT_TAKEOVER => {
                    if param.value.is_some() {
                        return Err(invalid);
                    }
                    if name == SERVER_NO_CONTEXT_TAKEOVER {
                        params.server_no_context_takeover = true;
                    } else {
                        params.client_no_context_takeover = true;
                    }
                }
                SERVER_MAX_WINDOW_BITS => {
                    let bits = param.value.and_then(window_bits).ok_or(invalid)?;
                    params.server_max_window_bits = Some(bits);
                }
                _ => {
                    let bits = match param.value {
                        Some(value) => Some(window_bits(value).ok_or(invalid)?),
                        None if side == Side::Offer => None,
                        None => return Err(invalid),
                    };
                    params.client_max_window_bits = Some(bits);
                }
            }
        }
        Ok(params)
    }

    /// Client: `response` checked against this offer, and what it agrees on.
    fn check_response(&self, response: &Params) -> Result<DeflateParams, NegotiationError> {
        let offered_client = match (self.client_max_window_bits, response.client_max_window_bits) {
            (None, Some(_)) => {
                return Err(NegotiationError::NotOffered {
                    param: CLIENT_MAX_WINDOW_BITS,
                });
            }
            (Some(Some(offered)), Some(Some(answered))) if answered > offered => {
                return Err(NegotiationError::WindowLargerThanOffered {
                    param: CLIENT_MAX_WINDOW_BITS,
                });
            }
            (offered, _) => offered.flatten(),
        };
        if let Some(offered) = self.server_max_window_bits {
            match response.server_max_window_bits {
                None => {
                    return Err(NegotiationError::MissingParameter {
                        param: SERVER_MAX_WINDOW_BITS,
                    });
                }
                Some(answered) if answered > offered => {
                    return Err(NegotiationError::WindowLargerThanOffered {
                        param: SERVER_MAX_WINDOW_BITS,
                    });
                }
                Some(_) => {}
            }
        }
        if self.server_no_context_takeover && !response.server_no_context_takeover {
            return Err(NegotiationError::MissingParameter {
                param: SERVER_NO_CONTEXT_TAKEOVER,
            });
        }
        Ok(DeflateParams {
            server_no_context_takeover: response.server_no_context_takeover,
            client_no_context_takeover: response.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: response.server_max_window_bits.unwrap_or(MAX_BITS),
            client_max_window_bits: response
                .client_max_window_bits
                .flatten()
                .or(offered_client)
                .unwrap_or(MAX_BITS),
        })
    }

    /// The element with these parameters, e.g. `permessage-deflate; server_max_window_bits=10`.
    fn to_element(self) -> String {
        let mut s = String::from(NAME);
        for (on, name) in [
            (self.server_no_context_takeover, SERVER_NO_CONTEXT_TAKEOVER),
            (self.client_no_context_takeover, CLIENT_NO_CONTEXT_TAKEOVER),
        ] {
            if on {
                s.push_str("; ");
                s.push_str(name);
            }
        }
        if let Some(bits) = self.server_max_window_bits {
            // Writing into a String cannot fail.
            let _ = write!(s, "; {SERVER_MAX_WINDOW_BITS}={bits}");
        }
        match self.client_max_window_bits {
            Some(Some(bits)) => {
                let _ = write!(s, "; {CLIENT_MAX_WINDOW_BITS}={bits}");
            }
            Some(None) => {
                s.push_str("; ");
                s.push_str(CLIENT_MAX_WINDOW_BITS);
            }
            None => {}
        }
        s
    }
}

/// A window size value (section 7.1.2): `"8" / "9" / "10" / .. / "15"`, no leading zero,
/// as a token or (once unescaped) a quoted-string.
fn window_bits(value: ParamValue<'_>) -> Option<u8> {
    let mut bits = 0u8;
    for (i, c) in value.unescaped().enumerate() {
        let digit = c.to_digit(10)?;
        if i >= 2 || (i == 0 && digit == 0) {
            return None;
        }
        bits = bits * 10 + digit as u8;
    }
    (MIN_BITS..=MAX_BITS).contains(&bits).then_some(bits)
}

#[cfg(test)]
mod tests;
