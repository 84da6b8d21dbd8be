use super::{EncodeError, FrameHeader};
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
    let encoded = header.encode()?;
    let head = encoded.as_bytes();
    let total = head.len() + payload.len();
    let Some(dst) = out.get_mut(..total) else {
        return Err(EncodeError::BufferTooSmall { required: total });
    };
    let (dst_head, dst_payload) = dst.split_at_mut(head.len());
    dst_head.copy_from_slice(head);
    match header.mask {
        Some(key) => mask::copy_masked(dst_payload, payload, key, 0),
        None => mask::copy(dst_payload, payload),
    }
    Ok(total)
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
