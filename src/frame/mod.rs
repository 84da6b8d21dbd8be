//! Frames (RFC 6455 section 5): opcodes, headers, the zero-copy [`Decoder`] and the
//! encoder.
//!
//! Decoding works on a caller's `&mut [u8]`: a decoded frame's payload is a slice of that
//! buffer, unmasked in place. Frames larger than the buffer can be consumed in pieces with
//! [`Decoder::decode_piece`].
//!
//! ```
//! use rfc6455::{Role, frame::{Decoded, Decoder, OpCode}};
//!
//! // A masked text frame "Hello" from RFC 6455 section 5.7, as a server receives it.
//! let mut wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let mut decoder = Decoder::new(Role::Server);
//! match decoder.decode(&mut wire).unwrap() {
//!     Decoded::Frame { frame, consumed } => {
//!         assert_eq!(frame.header.opcode, OpCode::Text);
//!         assert!(frame.header.fin);
//!         assert_eq!(frame.payload, b"Hello");
//!         assert_eq!(consumed, 11);
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

mod decode;
// One `unsafe` block: `encode_frame_to_vec` counts the spare capacity it wrote.
#[allow(unsafe_code)]
mod encode;
mod error;
pub(crate) mod header;

pub use decode::{Decoded, Decoder, DecoderConfig, Frame};
#[cfg(feature = "alloc")]
pub use encode::encode_frame_to_vec;
#[cfg(feature = "alloc")]
pub(crate) use encode::write_frame;
pub use encode::{EncodedHeader, encode_frame, encode_frame_in_place};
pub use error::{EncodeError, FrameError};
pub use header::{FrameHeader, MAX_HEADER_LEN, OpCode, Rsv};

/// The longest payload a control frame (close, ping, pong) may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;
