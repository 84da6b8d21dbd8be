#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::header::write_header;
use super::{EncodeError, FrameHeader};
use crate::copy::{self, Slot};
use crate::mask;

pub use super::header::EncodedHeader;

/// Encode a whole frame into `out`: the header, then the payload, masked while it is
/// copied when the header has a key. Returns the bytes written.
///
/// `header.payload_len` must equal `payload.len()`.
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode, encode_frame};
///
/// let mut out = [0u8; 32];
/// let header = FrameHeader::new(true, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), 5);
/// let n = encode_frame(&header, b"Hello", &mut out).unwrap();
/// // The masked "Hello" of RFC 6455 section 5.7.
/// assert_eq!(&out[..n], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[inline]
pub fn encode_frame(
    header: &FrameHeader,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    check_len(header, payload.len())?;
    header.validate()?;
    let total = header.encoded_len() + payload.len();
    let Some(dst) = out.get_mut(..total) else {
        return Err(EncodeError::BufferTooSmall { required: total });
    };
    write_frame(dst, header, payload);
    Ok(total)
}

/// Append a whole frame to `out`: the header, then the payload, masked while it is copied
/// when the header has a key (one pass, nothing zeroed first). Returns the bytes appended.
/// On error nothing is appended.
///
/// `header.payload_len` must equal `payload.len()`.
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode, encode_frame_to_vec};
///
/// let mut out = Vec::new();
/// // A server's frame: no key.
/// let header = FrameHeader::new(true, OpCode::Binary, None, 3);
/// assert_eq!(encode_frame_to_vec(&header, &[1, 2, 3], &mut out), Ok(5));
/// // A client's frame, appended after it: the masked "Hello" of RFC 6455 section 5.7.
/// let header = FrameHeader::new(true, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), 5);
/// assert_eq!(encode_frame_to_vec(&header, b"Hello", &mut out), Ok(11));
/// assert_eq!(
///     out,
///     [0x82, 3, 1, 2, 3, 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
/// );
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[inline]
pub fn encode_frame_to_vec(
    header: &FrameHeader,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    check_len(header, payload.len())?;
    header.validate()?;
    let total = header.encoded_len() + payload.len();
    out.reserve(total);
    let start = out.len();
    write_frame(&mut out.spare_capacity_mut()[..total], header, payload);
    // SAFETY: `reserve` made room for `total` more bytes, and `write_frame` wrote every one
    // of the first `total` bytes of spare capacity: the header's `encoded_len()` bytes, then
    // the payload's `payload.len()` (its contract; tested at every length form and key
    // phase, and fuzzed against `encode_frame`).
    unsafe { out.set_len(start + total) };
    Ok(total)
}

/// Write a frame into `dst`, exactly `header.encoded_len() + payload.len()` bytes, every
/// one of which it writes: the header, then the payload, copied (masked when the header
/// has a key). The header must be valid and its length equal the payload's. Every frame
/// encoder and the connection's output queue write frames with this, so the small frame
/// (a payload of at most 32 bytes: fixed-size moves, no call) is one case of one writer.
#[inline(always)]
pub(crate) fn write_frame<T: Slot>(dst: &mut [T], header: &FrameHeader, payload: &[u8]) {
    debug_assert!(header.validate().is_ok(), "invalid header {header:?}");
    debug_assert_eq!(header.payload_len, payload.len() as u64);
    debug_assert_eq!(dst.len(), header.encoded_len() + payload.len());
    if payload.len() <= 32 {
        let at = write_header(dst, header);
        let body = &mut dst[at..];
        match header.mask {
            Some(key) => mask::copy_masked_short(body, payload, key),
            None => copy::copy_short(body, payload),
        }
    } else {
        write_frame_long(dst, header, payload);
    }
}

/// [`write_frame`] for payloads longer than 32 bytes, out of line.
fn write_frame_long<T: Slot>(dst: &mut [T], header: &FrameHeader, payload: &[u8]) {
    let at = write_header(dst, header);
    let body = &mut dst[at..];
    match header.mask {
        // One pass over the source: copy and mask together.
        Some(key) => mask::copy_masked_into(body, payload, key, 0),
        None => copy::copy_into(body, payload),
    }
}

/// Encode a frame for a vectored write: masks `payload` in place when the header has a
/// key and returns the header, so the caller writes `[header, payload]` without copying
/// the payload.
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode, encode_frame_in_place};
///
/// let mut payload = vec![7u8; 70_000];
/// let header = FrameHeader::new(true, OpCode::Binary, None, payload.len() as u64);
/// let head = encode_frame_in_place(&header, &mut payload).unwrap();
/// assert_eq!(&head[..4], &[0x82, 127, 0, 0]); // 64-bit length follows
/// // e.g. socket.write_vectored(&[IoSlice::new(&head), IoSlice::new(&payload)])
/// ```
#[inline]
pub fn encode_frame_in_place(
    header: &FrameHeader,
    payload: &mut [u8],
) -> Result<EncodedHeader, EncodeError> {
    check_len(header, payload.len())?;
    let encoded = header.encode()?;
    if let Some(key) = header.mask {
        mask::apply(payload, key, 0);
    }
    Ok(encoded)
}

#[inline]
fn check_len(header: &FrameHeader, len: usize) -> Result<(), EncodeError> {
    if header.payload_len != len as u64 {
        return Err(EncodeError::LengthMismatch {
            header: header.payload_len,
            payload: len,
        });
    }
    Ok(())
}
