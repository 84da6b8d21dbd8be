use core::fmt;

use crate::close::CloseCode;

/// A received frame broke a rule of RFC 6455 section 5 (or a configured limit).
///
/// Each variant maps to the close code the peer should see through
/// [`close_code`](Self::close_code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// An opcode that RFC 6455 reserves (3-7, 11-15).
    ReservedOpcode(u8),
    /// RSV bits set that no negotiated extension gave a meaning to (bits as in the first
    /// header byte shifted down: RSV1 = 4, RSV2 = 2, RSV3 = 1).
    ReservedBits(u8),
    /// A control frame (close, ping, pong) without the FIN bit.
    FragmentedControl,
    /// A control frame whose payload exceeds 125 bytes.
    ControlTooLong {
        /// The declared payload length (126 and 127 stand for the extended encodings).
        len: u64,
    },
    /// A 64-bit payload length with the most significant bit set.
    LengthMsbSet,
    /// A payload length not written in the shortest encoding (RFC 6455 section 5.2).
    NonMinimalLength {
        /// The declared length.
        len: u64,
    },
    /// A server received a frame without a masking key.
    UnmaskedFrame,
    /// A client received a frame with a masking key.
    MaskedFrame,
    /// The declared payload length exceeds the configured maximum frame size.
    FrameTooLarge {
        /// The declared length.
        len: u64,
        /// The configured limit.
        max: u64,
    },
}

impl FrameError {
    /// The close code to send: 1009 for a frame over the size limit, 1002 for the rest.
    pub fn close_code(&self) -> CloseCode {
        match self {
            FrameError::FrameTooLarge { .. } => CloseCode::TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            FrameError::ReservedBits(bits) => {
                write!(f, "RSV bits {bits:#05b} set without a negotiated extension")
            }
            FrameError::FragmentedControl => f.write_str("control frame without FIN"),
            FrameError::ControlTooLong { len } => {
                write!(f, "control frame payload of {len} bytes exceeds 125")
            }
            FrameError::LengthMsbSet => f.write_str("64-bit payload length with the top bit set"),
            FrameError::NonMinimalLength { len } => {
                write!(f, "payload length {len} not in its shortest encoding")
            }
            FrameError::UnmaskedFrame => f.write_str("client frame without a masking key"),
            FrameError::MaskedFrame => f.write_str("server frame with a masking key"),
            FrameError::FrameTooLarge { len, max } => {
                write!(f, "frame payload of {len} bytes exceeds the limit of {max}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FrameError {}

/// A frame could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong {
        /// The payload length.
        len: u64,
    },
    /// A control frame without the FIN bit.
    FragmentedControl,
    /// A payload length of 2^63 or more, which the wire format cannot carry.
    LengthTooLarge,
    /// The header's `payload_len` is not the length of the payload given.
    LengthMismatch {
        /// The header's payload length.
        header: u64,
        /// The payload's length.
        payload: usize,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// The bytes the frame needs.
        required: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::ControlTooLong { len } => {
                write!(f, "control frame payload of {len} bytes exceeds 125")
            }
            EncodeError::FragmentedControl => f.write_str("control frames cannot be fragmented"),
            EncodeError::LengthTooLarge => f.write_str("payload length of 2^63 bytes or more"),
            EncodeError::LengthMismatch { header, payload } => write!(
                f,
                "header declares {header} payload bytes but {payload} were given"
            ),
            EncodeError::BufferTooSmall { required } => {
                write!(f, "output buffer too small: {required} bytes needed")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EncodeError {}
