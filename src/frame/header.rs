use core::fmt;

use super::{DecoderConfig, EncodeError, FrameError, MAX_CONTROL_PAYLOAD};
use crate::copy::{Slot, put};

/// The longest frame header: 2 bytes, 8 bytes of extended length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// A frame opcode (RFC 6455 section 5.2). Reserved opcodes are not representable; a frame
/// that carries one is rejected with [`FrameError::ReservedOpcode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message.
    Continuation = 0x0,
    /// 0x1: the first frame of a text message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: a close frame.
    Close = 0x8,
    /// 0x9: a ping.
    Ping = 0x9,
    /// 0xA: a pong.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for the low four bits of `byte`, or `None` for a reserved one.
    #[inline]
    pub const fn from_u8(byte: u8) -> Option<OpCode> {
        Some(match byte {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (close, ping, pong).
    #[inline]
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }

    /// Whether this opcode carries message data (continuation, text, binary).
    #[inline]
    pub const fn is_data(self) -> bool {
        !self.is_control()
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpCode::Continuation => "continuation",
            OpCode::Text => "text",
            OpCode::Binary => "binary",
            OpCode::Close => "close",
            OpCode::Ping => "ping",
            OpCode::Pong => "pong",
        })
    }
}

/// The three reserved bits of a frame header, which extensions give meaning to
/// (RFC 6455 section 5.2; permessage-deflate uses RSV1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rsv(u8);

impl Rsv {
    /// No bit set.
    pub const NONE: Rsv = Rsv(0);
    /// RSV1 (0x40 in the first header byte).
    pub const RSV1: Rsv = Rsv(0b100);
    /// RSV2 (0x20 in the first header byte).
    pub const RSV2: Rsv = Rsv(0b010);
    /// RSV3 (0x10 in the first header byte).
    pub const RSV3: Rsv = Rsv(0b001);
    /// All three bits.
    pub const ALL: Rsv = Rsv(0b111);

    /// The bits from the low three bits of `bits` (RSV1 = 4, RSV2 = 2, RSV3 = 1).
    pub const fn from_bits(bits: u8) -> Rsv {
        Rsv(bits & 0b111)
    }

    /// The bits as a number: RSV1 = 4, RSV2 = 2, RSV3 = 1.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: Rsv) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both sets.
    pub const fn union(self, other: Rsv) -> Rsv {
        Rsv(self.0 | other.0)
    }
}

/// A frame header (RFC 6455 section 5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of a message.
    pub fin: bool,
    /// The reserved bits.
    pub rsv: Rsv,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on frames a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header with no RSV bits.
    pub const fn new(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload_len: u64) -> Self {
        FrameHeader {
            fin,
            rsv: Rsv::NONE,
            opcode,
            mask,
            payload_len,
        }
    }

    /// The first byte on the wire: FIN, the reserved bits and the opcode.
    #[inline]
    pub(crate) const fn first_byte(&self) -> u8 {
        ((self.fin as u8) << 7) | (self.rsv.bits() << 4) | self.opcode as u8
    }

    /// The number of bytes this header takes on the wire (2 to 14).
    #[inline]
    pub const fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        if self.mask.is_some() { len + 4 } else { len }
    }

    /// Check the rules a sender must follow: control frames are final and at most 125
    /// bytes, and the length fits in 63 bits.
    pub const fn validate(&self) -> Result<(), EncodeError> {
        if self.opcode.is_control() {
            if !self.fin {
                return Err(EncodeError::FragmentedControl);
            }
            if self.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(EncodeError::ControlTooLong {
                    len: self.payload_len,
                });
            }
        }
        if self.payload_len >> 63 != 0 {
            return Err(EncodeError::LengthTooLarge);
        }
        Ok(())
    }

    /// Encode the header, after [`validate`](Self::validate), with the length in its
    /// shortest form.
    #[inline]
    pub fn encode(&self) -> Result<EncodedHeader, EncodeError> {
        self.validate()?;
        Ok(self.encode_unchecked())
    }

    /// [`encode`](Self::encode) for a header already known to be valid (built by the
    /// connection from checked parts).
    #[inline(always)]
    pub(crate) fn encode_unchecked(&self) -> EncodedHeader {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let len = write_header(&mut bytes, self);
        EncodedHeader {
            bytes,
            len: len as u8,
        }
    }
}

/// Write `header` at the start of `dst` and return its length, [`FrameHeader::encoded_len`]
/// (the length in its shortest form; `dst` must be at least that long). Every encoder
/// writes headers with this: [`FrameHeader::encode`], the frame encoders and the
/// connection's output queue, into initialised bytes or a vector's spare capacity alike.
/// It writes exactly the header's bytes and nothing after them. The header is not
/// validated here.
#[inline(always)]
pub(crate) fn write_header<T: Slot>(dst: &mut [T], header: &FrameHeader) -> usize {
    let b0 = header.first_byte();
    let mask_bit = (header.mask.is_some() as u8) << 7;
    let at = match header.payload_len {
        // The common small frame: two bytes (the branch folds away where the caller's
        // payload is known to be short).
        n @ 0..=125 => {
            put(dst, [b0, mask_bit | n as u8]);
            2
        }
        n @ 126..=0xFFFF => {
            let [hi, lo] = (n as u16).to_be_bytes();
            put(dst, [b0, mask_bit | 126, hi, lo]);
            4
        }
        n => {
            put(dst, [b0, mask_bit | 127]);
            put(&mut dst[2..], n.to_be_bytes());
            10
        }
    };
    match header.mask {
        Some(key) => {
            put(&mut dst[at..], key);
            at + 4
        }
        None => at,
    }
}

/// An encoded frame header: up to 14 bytes held by value, ready for a vectored write
/// beside the payload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl EncodedHeader {
    /// The header bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl core::ops::Deref for EncodedHeader {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for EncodedHeader {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncodedHeader")
            .field(&self.as_bytes())
            .finish()
    }
}

/// The outcome of parsing a header from the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderParse {
    /// A header of `len` bytes.
    Complete(FrameHeader, usize),
    /// At least this many more bytes are needed to finish the header.
    Incomplete(usize),
}

/// Parse and validate a header. Each check runs as soon as the bytes it depends on are
/// present, in wire order, so a split buffer reports the same first error as a whole one,
/// and a forged length is rejected before any payload is awaited.
#[inline]
pub(crate) fn parse_header(buf: &[u8], cfg: &DecoderConfig) -> Result<HeaderParse, FrameError> {
    let Some(&b0) = buf.first() else {
        return Ok(HeaderParse::Incomplete(2));
    };
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0b111;
    let stray = rsv & !cfg.allowed_rsv.bits();
    if stray != 0 {
        return Err(FrameError::ReservedBits(stray));
    }
    let Some(opcode) = OpCode::from_u8(b0 & 0x0F) else {
        return Err(FrameError::ReservedOpcode(b0 & 0x0F));
    };
    let control = opcode.is_control();
    if control && !fin {
        return Err(FrameError::FragmentedControl);
    }
    let Some(&b1) = buf.get(1) else {
        return Ok(HeaderParse::Incomplete(1));
    };
    let masked = b1 & 0x80 != 0;
    if masked != cfg.role.expects_masked_incoming() {
        return Err(if masked {
            FrameError::MaskedFrame
        } else {
            FrameError::UnmaskedFrame
        });
    }
    let len7 = b1 & 0x7F;
    if control && len7 as usize > MAX_CONTROL_PAYLOAD {
        return Err(FrameError::ControlTooLong { len: len7 as u64 });
    }
    let (payload_len, mut pos) = match len7 {
        126 => {
            let Some(ext) = buf.get(2..4) else {
                return Ok(HeaderParse::Incomplete(4 - buf.len()));
            };
            let len = u16::from_be_bytes([ext[0], ext[1]]) as u64;
            if len < 126 {
                return Err(FrameError::NonMinimalLength { len });
            }
            (len, 4)
        }
        127 => {
            if buf.len() > 2 && buf[2] & 0x80 != 0 {
                return Err(FrameError::LengthMsbSet);
            }
            let Some(ext) = buf.get(2..10) else {
                return Ok(HeaderParse::Incomplete(10 - buf.len()));
            };
            let mut be = [0u8; 8];
            be.copy_from_slice(ext);
            let len = u64::from_be_bytes(be);
            if len <= 0xFFFF {
                return Err(FrameError::NonMinimalLength { len });
            }
            (len, 10)
        }
        n => (n as u64, 2),
    };
    if payload_len > cfg.max_frame_size {
        return Err(FrameError::FrameTooLarge {
            len: payload_len,
            max: cfg.max_frame_size,
        });
    }
    let mask = if masked {
        let Some(key) = buf.get(pos..pos + 4) else {
            return Ok(HeaderParse::Incomplete(pos + 4 - buf.len()));
        };
        pos += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    Ok(HeaderParse::Complete(
        FrameHeader {
            fin,
            rsv: Rsv(rsv),
            opcode,
            mask,
            payload_len,
        },
        pos,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The header of RFC 6455 section 5.2, byte by byte, written independently of the
    /// writer.
    fn reference(h: &FrameHeader) -> Vec<u8> {
        let mut v = std::vec![(h.fin as u8) << 7 | h.rsv.bits() << 4 | h.opcode as u8];
        let m = if h.mask.is_some() { 0x80 } else { 0 };
        if h.payload_len < 126 {
            v.push(m | h.payload_len as u8);
        } else if h.payload_len < 65536 {
            v.push(m | 126);
            v.push((h.payload_len >> 8) as u8);
            v.push(h.payload_len as u8);
        } else {
            v.push(m | 127);
            for i in (0..8).rev() {
                v.push((h.payload_len >> (8 * i)) as u8);
            }
        }
        v.extend(
            h.mask
                .unwrap_or_default()
                .iter()
                .take(if h.mask.is_some() { 4 } else { 0 }),
        );
        v
    }

    /// Every length form at and around its bounds, with and without a key, every RSV bit
    /// and FIN: the bytes of the reference,
    /// exactly `encoded_len` of them, nothing written after them. (Writing into spare
    /// capacity is checked through `encode_frame_to_vec`.)
    #[test]
    fn write_header_writes_the_reference_bytes_and_nothing_more() {
        let lens = [
            0u64,
            1,
            125,
            126,
            127,
            65535,
            65536,
            u32::MAX as u64 + 7,
            (1 << 63) - 1,
        ];
        for len in lens {
            for mask in [None, Some([1, 0x80, 0xFE, 4])] {
                for (fin, opcode) in [
                    (true, OpCode::Text),
                    (false, OpCode::Binary),
                    (true, OpCode::Ping),
                ] {
                    for rsv in [Rsv::NONE, Rsv::RSV1, Rsv::ALL] {
                        let mut header = FrameHeader::new(fin, opcode, mask, len);
                        header.rsv = rsv;
                        let want = reference(&header);
                        let mut buf = [0xEEu8; 20];
                        let n = write_header(&mut buf, &header);
                        assert_eq!((n, header.encoded_len()), (want.len(), want.len()));
                        assert_eq!(&buf[..n], &want[..], "{header:?}");
                        assert!(buf[n..].iter().all(|&b| b == 0xEE), "wrote past the header");
                        assert_eq!(header.encode_unchecked().as_bytes(), &want[..]);
                    }
                }
            }
        }
    }
}
