//! permessage-deflate in the connection (RFC 7692): negotiation in the opening handshake,
//! inflation of compressed messages within the message limit as their bytes arrive, and
//! compression of the messages we send.

use alloc::vec::Vec;

use super::input::RxFrame;
use super::receive::{Ready, Step};
use super::{Connection, DataKind, ProtocolError, ReceiveMode};
use crate::Role;
use crate::deflate::{DeflateConfig, DeflateParams, Deflater, Inflater};
use crate::frame::{OpCode, Rsv};
use crate::mask;

/// The most a compressed message's piece inflates to before it is handed out, in stream
/// mode: the memory that mode needs for inflation beyond the inflater's own state.
pub(super) const INFLATE_STEP: usize = 16 << 10;

/// The negotiated extension's state: both directions' codecs and the scratch buffer
/// messages are compressed into.
#[derive(Debug)]
pub(crate) struct PerMessage {
    pub(super) params: DeflateParams,
    deflater: Deflater,
    inflater: Inflater,
    /// Messages shorter than this are sent uncompressed.
    threshold: usize,
    /// What `deflater` wrote for the frame being queued.
    scratch: Vec<u8>,
}

impl PerMessage {
    pub(super) fn new(params: DeflateParams, role: Role, config: &DeflateConfig) -> Self {
        let (own_bits, own_no_takeover) = params.ours(role);
        let (peer_bits, peer_no_takeover) = params.theirs(role);
        PerMessage {
            params,
            deflater: Deflater::new(config.level, own_bits, !own_no_takeover),
            inflater: Inflater::new(peer_bits, !peer_no_takeover),
            threshold: config.threshold,
            scratch: Vec::new(),
        }
    }

    /// Drop our compressor's context between messages (see [`Deflater::forget_context`]).
    pub(super) fn forget_context(&mut self) {
        self.deflater.forget_context();
    }

    /// Release what an idle connection does not need: the codecs' state unless a context
    /// is kept between messages, and the scratch buffer (only a send uses it). Returns the
    /// bytes given back.
    pub(super) fn shrink(&mut self) -> usize {
        let freed = self.deflater.release_idle() + self.inflater.release_idle();
        freed + core::mem::take(&mut self.scratch).capacity()
    }
}

impl Connection {
    /// The permessage-deflate parameters agreed in the opening handshake, if it was
    /// negotiated (feature `deflate`).
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate_params(&self) -> Option<DeflateParams> {
        self.deflate.as_ref().map(|d| d.params)
    }

    /// This connection, compressing and inflating as `params` say: for a connection made
    /// with [`upgraded_server`](Self::upgraded_server) or
    /// [`upgraded_client`](Self::upgraded_client) after an opening handshake done elsewhere
    /// that agreed on permessage-deflate (a server can agree with
    /// [`DeflateConfig::accept_offers`](crate::deflate::DeflateConfig::accept_offers) on the
    /// request's offers and send the element it returns; a client checks the response with
    /// [`DeflateConfig::validate_response`](crate::deflate::DeflateConfig::validate_response)).
    /// The compression level and threshold are the connection's [`Config::deflate`](super::Config::deflate).
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection};
    /// use rfc6455::deflate::DeflateConfig;
    /// use rfc6455::handshake::parse_extension_list;
    ///
    /// let deflate = DeflateConfig::new().enabled(true);
    /// let offers = parse_extension_list("permessage-deflate; client_max_window_bits").unwrap();
    /// let (params, element) = deflate.accept_offers(offers).expect("an offer we can honour");
    /// assert_eq!(element, "permessage-deflate");
    /// // ... the HTTP server sends `Sec-WebSocket-Extensions: permessage-deflate` ...
    /// let server = Connection::upgraded_server(Config::new().deflate(deflate)).with_deflate(params);
    /// assert_eq!(server.deflate_params(), Some(params));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn with_deflate(mut self, params: DeflateParams) -> Self {
        self.install_deflate(params);
        self
    }

    /// Start compressing and inflating as `params` say: the handshake agreed on them.
    pub(super) fn install_deflate(&mut self, params: DeflateParams) {
        self.deflate = Some(alloc::boxed::Box::new(PerMessage::new(
            params,
            self.role,
            &self.config.deflate,
        )));
    }

    /// Whether a message of `len` bytes goes out compressed.
    #[inline]
    pub(super) fn compresses(&self, len: usize) -> bool {
        self.deflate.as_ref().is_some_and(|d| len >= d.threshold)
    }

    /// Compress `data` as the next frame of a message (all of it with `fin` on its
    /// first frame) and queue that frame, RSV1 set on a message's first frame. The room
    /// is checked against the compressor's bound, before anything is compressed, so a
    /// refused send leaves the compressor's context as it was.
    pub(super) fn send_compressed(
        &mut self,
        opcode: OpCode,
        data: &[u8],
        fin: bool,
    ) -> Result<(), super::SendError> {
        self.check_room(Deflater::bound(data.len()))?;
        let Some(d) = self.deflate.as_deref_mut() else {
            unreachable!("only called once negotiated");
        };
        d.scratch.clear();
        d.deflater.compress(data, fin, &mut d.scratch);
        let len = d.scratch.len();
        let mut header = self.header(fin, opcode, len);
        if opcode != OpCode::Continuation {
            header.rsv = Rsv::RSV1;
        }
        let reuse = self.config.active_buffer_capacity;
        let Connection { out, deflate, .. } = self;
        let Some(d) = deflate.as_deref_mut() else {
            unreachable!("only called once negotiated");
        };
        out.push_frame(&header, &d.scratch);
        if d.scratch.capacity() > reuse {
            d.scratch = Vec::new();
        }
        Ok(())
    }

    /// The current frame belongs to a compressed message: unmask its new bytes in place,
    /// inflate them into the reassembly buffer (stream mode: a piece of at most
    /// [`INFLATE_STEP`] bytes), and drop them from the input. The output is bounded by
    /// what is left of `max_message_size` (at the limit, one byte more is inflated into a
    /// byte on the stack, to tell "at the limit" from "past it"), so a message that
    /// inflates past the limit fails with 1009 as soon as it does, having cost at most the
    /// limit.
    #[inline(never)] // kept out of `locate`, which every uncompressed frame runs
    pub(super) fn inflate_frame(&mut self) -> Result<Step, ProtocolError> {
        let stream = self.config.receive_mode == ReceiveMode::Stream;
        let limit = self.config.max_message_size;
        let Connection { rx, deflate, .. } = self;
        let (Some(d), Some(frame), Some(msg)) = (
            deflate.as_deref_mut(),
            rx.frame.as_mut(),
            rx.message.as_mut(),
        ) else {
            unreachable!("a compressed message's frame, once negotiated");
        };
        let RxFrame { header, .. } = *frame;
        let base = rx.input.pos() + frame.header_len;
        let available = (rx.input.filled() - base).min(frame.remaining);
        if available > frame.ready {
            let fresh = rx.input.slice_mut(base + frame.ready, base + available);
            if let Some(key) = header.mask {
                mask::apply(fresh, key, frame.taken + frame.ready);
            }
            frame.ready = available;
        }
        // The message's last compressed byte is here: the inflater appends the tail.
        let last = header.fin && frame.ready == frame.remaining;
        if stream {
            rx.assembled.clear();
        }
        let mut consumed = 0;
        let mut failure = None;
        let mut done = false;
        // At the limit, a byte more is inflated into `probe`, not the buffer: growing the
        // buffer by the one byte that tells "at" from "past" the limit would reallocate
        // (and may copy) a whole message's worth.
        let mut probe = [0u8; 1];
        loop {
            let left = limit.saturating_sub(msg.inflated);
            let mut max = usize::try_from(left).unwrap_or(usize::MAX);
            if stream {
                let piece = INFLATE_STEP - rx.assembled.as_slice().len();
                if piece == 0 {
                    break; // a full piece, handed out below
                }
                max = max.min(piece);
            }
            let input = rx.input.slice(base + consumed, base + frame.ready);
            let room = if max == 0 {
                &mut probe[..]
            } else {
                rx.assembled.spare(max)
            };
            let progress = match d.inflater.inflate(input, room, last) {
                Ok(p) => p,
                Err(_) => {
                    failure = Some(ProtocolError::InvalidCompressedData);
                    break;
                }
            };
            consumed += progress.consumed;
            let produced = if max == 0 {
                &probe[..progress.produced]
            } else {
                rx.assembled.commit(progress.produced)
            };
            msg.inflated += produced.len() as u64;
            if msg.inflated > limit {
                failure = Some(ProtocolError::MessageTooLarge {
                    size: msg.inflated,
                    max: limit,
                });
                break;
            }
            if msg.kind == DataKind::Text {
                if let Err(e) = rx.utf8.feed(produced) {
                    failure = Some(e.into());
                    break;
                }
            }
            if progress.done {
                done = true;
                break;
            }
            if progress.consumed == 0 && progress.produced == 0 {
                // No progress with room given: the inflater wants more input.
                debug_assert!(false, "the inflater stalled");
                break;
            }
        }
        if let Some(e) = failure {
            return Err(self.fail(e));
        }
        rx.input.consume_to(base + consumed);
        frame.header_len = 0;
        frame.remaining -= consumed;
        frame.taken += consumed;
        frame.ready -= consumed;
        let frame_done = frame.remaining == 0 && done;
        let message_done = frame_done && header.fin;
        if frame_done {
            rx.frame = None;
        }
        if message_done && msg.kind == DataKind::Text {
            if let Err(e) = rx.utf8.finish() {
                return Err(self.fail(e.into()));
            }
        }
        // What follows when nothing is handed out: the next frame, or more input.
        let next = if frame_done {
            Step::Continue
        } else {
            Step::NeedMore
        };
        if stream {
            let have = !rx.assembled.as_slice().is_empty();
            if !(have || message_done) {
                return Ok(next);
            }
            let first = !msg.started;
            msg.started = true;
            let kind = msg.kind;
            if message_done {
                rx.message = None;
            }
            return Ok(Step::Ready(Ready::Inflated {
                kind,
                first,
                last: message_done,
            }));
        }
        if message_done {
            let kind = msg.kind;
            rx.message = None;
            return Ok(Step::Ready(Ready::Assembled { kind }));
        }
        Ok(next)
    }
}
