#![forbid(unsafe_code)]

/// Which end of a WebSocket connection this codec plays.
///
/// The role decides the masking rules of RFC 6455 section 5.3: a client masks every
/// frame it sends and must receive unmasked frames; a server is the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection and sent the HTTP upgrade request.
    Client,
    /// The end that accepted the connection and answered with `101 Switching Protocols`.
    Server,
}

impl Role {
    /// Whether frames sent by this role must carry a masking key.
    #[inline]
    pub const fn masks_outgoing(self) -> bool {
        matches!(self, Role::Client)
    }

    /// Whether frames received by this role must carry a masking key.
    #[inline]
    pub const fn expects_masked_incoming(self) -> bool {
        matches!(self, Role::Server)
    }

    /// The other end of the connection.
    #[inline]
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}
