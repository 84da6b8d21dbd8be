use core::fmt;

use crate::close::{CloseCode, CloseError};
use crate::frame::FrameError;
use crate::utf8::Utf8Error;

/// The peer broke the protocol or a configured limit; the connection has failed.
///
/// By the time this is returned the connection has queued a close frame carrying
/// [`close_code`](Self::close_code) and reached [`State::Closed`](super::State::Closed):
/// send the pending output, then close the transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame header broke a rule of RFC 6455 section 5.
    Frame(FrameError),
    /// A text message or close reason was not valid UTF-8.
    Utf8(Utf8Error),
    /// A close frame's payload was malformed or carried a code that may not be sent.
    Close(CloseError),
    /// A continuation frame arrived with no fragmented message in progress.
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was in progress.
    ExpectedContinuation,
    /// A message grew past the configured maximum.
    MessageTooLarge {
        /// The size the message would reach.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// The opening handshake failed (a server has queued its 400, 426 or 431 reply).
    Handshake(crate::handshake::HandshakeError),
    /// A compressed message's payload is not valid DEFLATE data (RFC 7692 section 7.2.2);
    /// close code 1007, as for any payload that does not match its message's type.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    InvalidCompressedData,
    /// The server's permessage-deflate response broke RFC 7692 section 7.1 (a client's
    /// opening handshake failed: close the transport; no frame is sent).
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    Negotiation(crate::deflate::NegotiationError),
}

impl ProtocolError {
    /// The close code sent to the peer (1002, 1007 or 1009); `None` for a failed opening
    /// handshake, where no WebSocket frame can be sent (see
    /// [`http_status`](Self::http_status)).
    pub fn close_code(&self) -> Option<CloseCode> {
        Some(match self {
            ProtocolError::Frame(e) => e.close_code(),
            ProtocolError::Utf8(e) => e.close_code(),
            ProtocolError::Close(e) => e.close_code(),
            ProtocolError::MessageTooLarge { .. } => CloseCode::TOO_BIG,
            ProtocolError::UnexpectedContinuation | ProtocolError::ExpectedContinuation => {
                CloseCode::PROTOCOL_ERROR
            }
            #[cfg(feature = "deflate")]
            ProtocolError::InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            #[cfg(feature = "deflate")]
            ProtocolError::Negotiation(_) => return None,
            ProtocolError::Handshake(_) => return None,
        })
    }

    /// The HTTP status a server answered a failed opening handshake with (400, 426 or 431;
    /// see [`HandshakeError::http_status`](crate::handshake::HandshakeError::http_status));
    /// `None` for errors after the handshake.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ProtocolError::Handshake(e) => Some(e.http_status()),
            _ => None,
        }
    }

    /// A short reason for the close frame (well under the 123-byte limit).
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            ProtocolError::Frame(FrameError::FrameTooLarge { .. }) => "frame too large",
            ProtocolError::Frame(_) => "invalid frame header",
            ProtocolError::Utf8(_) => "invalid UTF-8 in text",
            ProtocolError::Close(CloseError::InvalidReason { .. }) => {
                "invalid UTF-8 in close reason"
            }
            ProtocolError::Close(_) => "invalid close payload",
            ProtocolError::UnexpectedContinuation => "continuation without a message",
            ProtocolError::ExpectedContinuation => "expected a continuation frame",
            ProtocolError::MessageTooLarge { .. } => "message too large",
            ProtocolError::Handshake(_) => "opening handshake failed",
            #[cfg(feature = "deflate")]
            ProtocolError::InvalidCompressedData => "invalid compressed data",
            #[cfg(feature = "deflate")]
            ProtocolError::Negotiation(_) => "permessage-deflate negotiation failed",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Frame(e) => write!(f, "{e}"),
            ProtocolError::Utf8(e) => write!(f, "{e}"),
            ProtocolError::Close(e) => write!(f, "{e}"),
            ProtocolError::UnexpectedContinuation => {
                f.write_str("continuation frame with no message in progress")
            }
            ProtocolError::ExpectedContinuation => {
                f.write_str("new data frame while a fragmented message is in progress")
            }
            ProtocolError::MessageTooLarge { size, max } => {
                write!(f, "message of {size} bytes exceeds the limit of {max}")
            }
            ProtocolError::Handshake(e) => write!(f, "opening handshake: {e}"),
            #[cfg(feature = "deflate")]
            ProtocolError::InvalidCompressedData => {
                f.write_str("compressed message is not valid DEFLATE data")
            }
            #[cfg(feature = "deflate")]
            ProtocolError::Negotiation(e) => write!(f, "permessage-deflate response: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProtocolError::Frame(e) => Some(e),
            ProtocolError::Utf8(e) => Some(e),
            ProtocolError::Close(e) => Some(e),
            ProtocolError::Handshake(e) => Some(e),
            #[cfg(feature = "deflate")]
            ProtocolError::Negotiation(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FrameError> for ProtocolError {
    fn from(e: FrameError) -> Self {
        ProtocolError::Frame(e)
    }
}

impl From<Utf8Error> for ProtocolError {
    fn from(e: Utf8Error) -> Self {
        ProtocolError::Utf8(e)
    }
}

impl From<CloseError> for ProtocolError {
    fn from(e: CloseError) -> Self {
        ProtocolError::Close(e)
    }
}

/// A send was refused; nothing was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is not open for this kind of frame (anything before the opening
    /// handshake is done, after a close was sent or received, or after the connection
    /// closed).
    NotOpen(super::State),
    /// [`accept`](super::Connection::accept) or [`reject`](super::Connection::reject)
    /// with no request to decide on: not a server, no
    /// [`Event::Request`](super::Event::Request) reported yet, or already decided.
    NoPendingRequest,
    /// The frame would take the unwritten output past
    /// [`Config::max_queued_output`](super::Config::max_queued_output): write what is
    /// pending, then send again.
    QueueFull {
        /// The bytes already queued.
        queued: usize,
        /// The encoded frame's length (header and payload).
        frame: usize,
        /// The configured bound.
        max: usize,
    },
    /// A control frame payload over 125 bytes.
    ControlTooLong {
        /// The payload length.
        len: usize,
    },
    /// A close code that may not be sent, or a reason over 123 bytes.
    InvalidClose(CloseError),
    /// A new message was started while a fragmented one is still being sent, or a
    /// continuation was sent with none started.
    FragmentOrder,
    /// The handshake response could not be built (e.g. a subprotocol the client did not
    /// offer).
    Handshake(crate::handshake::BuildError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotOpen(state) => write!(f, "cannot send: connection is {state:?}"),
            SendError::NoPendingRequest => {
                f.write_str("no upgrade request is waiting for a decision")
            }
            SendError::QueueFull { queued, frame, max } => write!(
                f,
                "output queue full: {queued} bytes queued, a {frame}-byte frame would pass the bound of {max}"
            ),
            SendError::ControlTooLong { len } => {
                write!(f, "control frame payload of {len} bytes exceeds 125")
            }
            SendError::InvalidClose(e) => write!(f, "{e}"),
            SendError::FragmentOrder => {
                f.write_str("fragments must continue the message in progress")
            }
            SendError::Handshake(e) => write!(f, "handshake response: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SendError {}

/// A message [`Connection::try_send`](super::Connection::try_send) refused, handed back
/// with the reason; nothing was queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsent {
    /// The message, as it was given.
    pub message: super::Message,
    /// Why it was refused.
    pub error: SendError,
}

/// The reason alone (the message is dropped).
impl From<Unsent> for SendError {
    fn from(unsent: Unsent) -> Self {
        unsent.error
    }
}

impl fmt::Display for Unsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message of {} bytes not sent: {}",
            self.message.len(),
            self.error
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Unsent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
