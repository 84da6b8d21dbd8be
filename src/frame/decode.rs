use super::header::{HeaderParse, parse_header};
use super::{FrameError, FrameHeader, Rsv};
use crate::Role;
use crate::mask;

/// The rules a [`Decoder`] enforces beyond the fixed ones of RFC 6455.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// The role of the receiving end, which decides whether frames must be masked.
    pub role: Role,
    /// RSV bits that a negotiated extension allows; any other set bit is an error.
    pub allowed_rsv: Rsv,
    /// The largest payload a single frame may declare. Checked on the header, before any
    /// payload byte is awaited.
    pub max_frame_size: u64,
}

impl DecoderConfig {
    /// The default largest frame payload: 16 MiB.
    pub const DEFAULT_MAX_FRAME_SIZE: u64 = 16 << 20;

    /// The defaults for `role`: no RSV bits, frames up to 16 MiB.
    pub const fn new(role: Role) -> Self {
        DecoderConfig {
            role,
            allowed_rsv: Rsv::NONE,
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

/// A decoded frame: its header and its payload, unmasked in place in the caller's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The frame header.
    pub header: FrameHeader,
    /// The payload, already unmasked.
    pub payload: &'a mut [u8],
}

/// What one call to the [`Decoder`] found at the front of the buffer.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Decoded<'a> {
    /// Not enough bytes: at least `needed` more must be appended before anything can be
    /// decoded. Nothing was consumed.
    Incomplete {
        /// The minimum number of further bytes that can make progress.
        needed: usize,
    },
    /// A whole frame, from [`Decoder::decode`].
    Frame {
        /// The frame.
        frame: Frame<'a>,
        /// Header and payload bytes consumed from the front of the buffer.
        consumed: usize,
    },
    /// A frame header, from [`Decoder::decode_piece`]; its payload follows in
    /// [`Decoded::Payload`] pieces.
    Header {
        /// The header.
        header: FrameHeader,
        /// Header bytes consumed.
        consumed: usize,
    },
    /// A piece of the current frame's payload, unmasked in place. Every frame decoded in
    /// pieces ends with exactly one piece with `last` set, which is empty for an empty
    /// payload.
    Payload {
        /// The payload bytes; `consumed` is their length.
        data: &'a mut [u8],
        /// Bytes consumed from the front of the buffer.
        consumed: usize,
        /// Whether this piece ends the frame's payload.
        last: bool,
    },
}

/// The zero-copy frame decoder.
///
/// [`decode`](Self::decode) returns whole frames once they are in the buffer;
/// [`decode_piece`](Self::decode_piece) returns the header as soon as it is complete and
/// then the payload piece by piece, so a 4 KiB buffer can receive a 100 MiB frame. Once a
/// frame has been started in pieces, both methods return its remaining payload pieces.
///
/// The caller keeps the buffer: after each call it drops `consumed` bytes from the front
/// and appends what the socket delivers.
#[derive(Clone, Debug)]
pub struct Decoder {
    config: DecoderConfig,
    /// The frame whose payload is being returned in pieces.
    current: Option<InFrame>,
}

#[derive(Clone, Copy, Debug)]
struct InFrame {
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes already returned: the key phase.
    offset: u64,
}

impl Decoder {
    /// A decoder for `role` with the default configuration.
    pub const fn new(role: Role) -> Self {
        Self::with_config(DecoderConfig::new(role))
    }

    /// A decoder with this configuration.
    pub const fn with_config(config: DecoderConfig) -> Self {
        Decoder {
            config,
            current: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Change the configuration, e.g. to allow RSV1 once permessage-deflate is agreed.
    /// Takes effect at the next header.
    pub fn set_config(&mut self, config: DecoderConfig) {
        self.config = config;
    }

    /// Whether a frame's payload is partly consumed (a piece-wise decode is in progress).
    pub fn in_frame(&self) -> bool {
        self.current.is_some()
    }

    /// Decode a whole frame from the front of `buf`, unmasking its payload in place.
    ///
    /// Returns [`Decoded::Frame`] when header and payload are both in `buf`, and
    /// [`Decoded::Incomplete`] with the exact number of missing bytes otherwise. Header
    /// rules and the size limit are checked as soon as the header bytes are there, so an
    /// invalid or oversized frame fails without waiting for its payload.
    #[inline]
    pub fn decode<'a>(&mut self, buf: &'a mut [u8]) -> Result<Decoded<'a>, FrameError> {
        if self.current.is_some() {
            return Ok(self.next_piece(buf));
        }
        let (header, header_len) = match parse_header(buf, &self.config)? {
            HeaderParse::Complete(header, len) => (header, len),
            HeaderParse::Incomplete(needed) => return Ok(Decoded::Incomplete { needed }),
        };
        // The limit check above keeps `payload_len` within the configured maximum.
        let available = (buf.len() - header_len) as u64;
        if available < header.payload_len {
            let missing = header.payload_len - available;
            return Ok(Decoded::Incomplete {
                needed: usize::try_from(missing).unwrap_or(usize::MAX),
            });
        }
        let payload_len = header.payload_len as usize;
        let consumed = header_len + payload_len;
        let payload = &mut buf[header_len..consumed];
        if let Some(key) = header.mask {
            mask::apply(payload, key, 0);
        }
        Ok(Decoded::Frame {
            frame: Frame { header, payload },
            consumed,
        })
    }

    /// Decode the next header or payload piece from the front of `buf`.
    ///
    /// Between frames this returns [`Decoded::Header`] once the header is complete; inside
    /// a frame it returns [`Decoded::Payload`] with as much of the remaining payload as
    /// `buf` holds, unmasked in place with the key phase carried over from earlier pieces.
    pub fn decode_piece<'a>(&mut self, buf: &'a mut [u8]) -> Result<Decoded<'a>, FrameError> {
        if self.current.is_some() {
            return Ok(self.next_piece(buf));
        }
        match parse_header(buf, &self.config)? {
            HeaderParse::Complete(header, consumed) => {
                self.current = Some(InFrame {
                    mask: header.mask,
                    remaining: header.payload_len,
                    offset: 0,
                });
                Ok(Decoded::Header { header, consumed })
            }
            HeaderParse::Incomplete(needed) => Ok(Decoded::Incomplete { needed }),
        }
    }

    fn next_piece<'a>(&mut self, buf: &'a mut [u8]) -> Decoded<'a> {
        let Some(cur) = self.current.as_mut() else {
            return Decoded::Incomplete { needed: 2 };
        };
        let take = usize::try_from(cur.remaining).map_or(buf.len(), |r| r.min(buf.len()));
        if take == 0 && cur.remaining > 0 {
            return Decoded::Incomplete { needed: 1 };
        }
        let data = &mut buf[..take];
        if let Some(key) = cur.mask {
            mask::apply(data, key, (cur.offset % 4) as usize);
        }
        cur.offset += take as u64;
        cur.remaining -= take as u64;
        let last = cur.remaining == 0;
        if last {
            self.current = None;
        }
        Decoded::Payload {
            data,
            consumed: take,
            last,
        }
    }
}
