//! Prepared messages: a server message encoded once and queued on many connections by
//! reference, for broadcasting.

use bytes::Bytes;

use super::{Connection, DataKind, Message, SendError};
use crate::Role;
use crate::frame::{EncodedHeader, FrameHeader, OpCode};

/// Prepared payloads at least this large are queued by reference; smaller ones are copied
/// into the output buffer, which costs less than the queue entry of a reference (see the
/// `broadcast` group of benches/frame.rs).
const SHARE_FROM: usize = 256;

/// A message encoded once as a server's frame, to be queued on many connections with
/// [`Connection::send_prepared`]: broadcasting it costs one encode, and each connection
/// holds a reference to the same payload bytes instead of a copy of them (payloads under
/// 256 bytes are copied, which is cheaper than a reference).
///
/// It holds the frame's header (unmasked, FIN set, RSV bits clear) and the payload as
/// [`Bytes`]; cloning it is cheap (a reference count). A prepared message is always sent
/// **uncompressed**, also on connections that negotiated permessage-deflate (a frame with
/// RSV1 clear is a valid uncompressed message there): a compressed payload could be shared
/// only between connections that keep no compression context, so compress-per-connection
/// messages go through [`Connection::send`] instead.
///
/// On a client connection, [`send_prepared`](Connection::send_prepared) sends the same
/// message as [`send`](Connection::send) would (uncompressed): each frame a client sends
/// is masked with a key of its own, so the prepared bytes cannot be shared and the payload
/// is copied and masked.
///
/// ```
/// use rfc6455::connection::{Config, Connection, Message, PreparedMessage};
///
/// let mut clients: Vec<Connection> =
///     (0..3).map(|_| Connection::upgraded_server(Config::default())).collect();
/// let news = PreparedMessage::new(Message::binary(vec![7u8; 10_000]));
/// for conn in &mut clients {
///     conn.send_prepared(&news)?; // a reference to the same 10,000 bytes
/// }
/// for conn in &clients {
///     assert_eq!(conn.pending_output_len(), news.frame_len());
///     // The header from the connection's buffer, then the shared payload.
///     let slices: Vec<&[u8]> = conn.pending_output_slices().collect();
///     assert_eq!(slices[0], news.header());
///     assert_eq!(slices[1].as_ptr(), news.payload().as_ptr());
/// }
/// # Ok::<(), rfc6455::connection::SendError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PreparedMessage {
    kind: DataKind,
    /// The server's frame header, and the same encoded.
    frame: FrameHeader,
    header: EncodedHeader,
    payload: Bytes,
    /// The message compressed once, for connections that negotiated permessage-deflate
    /// with a window at least as large (see [`PreparedCompressor`]).
    #[cfg(feature = "deflate")]
    compressed: Option<Compressed>,
}

/// A prepared message's compressed form: its payload as permessage-deflate sends it (no
/// trailing `00 00 ff ff`), compressed from an empty window, with no distance reaching
/// further back than `2^window_bits` bytes.
#[cfg(feature = "deflate")]
#[derive(Clone, Debug)]
struct Compressed {
    /// The frame header: RSV1 set, the compressed length.
    frame: FrameHeader,
    payload: Bytes,
    window_bits: u8,
}

impl PreparedMessage {
    /// Encode `message` as a server's frame: one unmasked, uncompressed frame with FIN
    /// set. Takes the message's bytes without copying them.
    pub fn new(message: Message) -> Self {
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.into_bytes()),
            Message::Binary(data) => (DataKind::Binary, data),
        };
        let header = FrameHeader::new(true, kind.opcode(), None, payload.len() as u64);
        // Unmasked data frames with FIN set and no RSV bits are valid at every length.
        debug_assert!(header.validate().is_ok());
        PreparedMessage {
            kind,
            frame: header,
            header: header.encode_unchecked(),
            payload,
            #[cfg(feature = "deflate")]
            compressed: None,
        }
    }

    /// Whether it is a text or a binary message.
    pub fn kind(&self) -> DataKind {
        self.kind
    }

    /// The encoded frame header a server sends before the payload.
    pub fn header(&self) -> &[u8] {
        self.header.as_bytes()
    }

    /// The message's payload (for text, its UTF-8 bytes).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The frame's length on a server's wire: header and payload (uncompressed).
    pub fn frame_len(&self) -> usize {
        self.header.len() + self.payload.len()
    }

    /// The compressed payload, if it was prepared with a [`PreparedCompressor`] and
    /// compressing made it smaller (feature `deflate`).
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn compressed_payload(&self) -> Option<&Bytes> {
        self.compressed.as_ref().map(|c| &c.payload)
    }
}

/// Compresses [`PreparedMessage`]s once for every connection that negotiated
/// permessage-deflate (feature `deflate`): a broadcast to 10,000 such connections costs
/// one compression instead of 10,000.
///
/// [`send_prepared`](Connection::send_prepared) sends the compressed frame (RSV1 set) on a
/// connection whose negotiated window for our direction is at least this compressor's
/// (`DeflateConfig::own_max_window_bits`), and the uncompressed frame on the others (on a
/// connection without permessage-deflate, or whose peer asked for a smaller window, e.g.
/// `server_max_window_bits=10`). The message is compressed from an empty window, so it
/// refers to nothing before it; a connection that keeps its compression context between
/// messages then drops that context once (its next message is compressed from an empty
/// window too, as RFC 7692 section 7.2.1 allows a sender to do at any time), because the
/// peer's window now holds the prepared message, which that connection's compressor never
/// saw. Connections negotiated with `server_no_context_takeover` lose nothing.
///
/// It keeps one compressor (about 320 KiB with miniz_oxide) for all the messages it
/// prepares: make one per broadcasting task, not one per message. Messages shorter than
/// `DeflateConfig::threshold`, and those that do not get smaller, are prepared
/// uncompressed.
///
/// ```
/// use rfc6455::connection::{Config, Connection, Message, PreparedCompressor};
/// use rfc6455::deflate::{DeflateConfig, DeflateParams};
///
/// let deflate = DeflateConfig::new().enabled(true);
/// let params = DeflateParams {
///     server_no_context_takeover: true,
///     client_no_context_takeover: false,
///     server_max_window_bits: 15,
///     client_max_window_bits: 15,
/// };
/// let mut clients: Vec<Connection> = (0..3)
///     .map(|_| Connection::upgraded_server(Config::new().deflate(deflate)).with_deflate(params))
///     .collect();
/// let mut compressor = PreparedCompressor::new(&deflate);
/// let prices: String = (0..1000).map(|i| format!("{{\"id\":{i},\"price\":42}},")).collect();
/// let news = compressor.prepare(Message::text(prices.clone()));
/// let compressed = news.compressed_payload().expect("JSON compresses");
/// assert!(compressed.len() < prices.len() / 4);
/// for conn in &mut clients {
///     conn.send_prepared(&news)?; // the same compressed bytes, by reference (256 B or more)
///     let slices: Vec<&[u8]> = conn.pending_output_slices().collect();
///     assert_eq!(slices[0][0], 0xC1); // FIN, RSV1 (compressed), text
///     assert_eq!(slices[1].as_ptr(), compressed.as_ptr());
/// }
/// # Ok::<(), rfc6455::connection::SendError>(())
/// ```
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
#[derive(Debug)]
pub struct PreparedCompressor {
    deflater: crate::deflate::Deflater,
    window_bits: u8,
    threshold: usize,
}

#[cfg(feature = "deflate")]
impl PreparedCompressor {
    /// A compressor at `config.level` with a window of `2^config.own_max_window_bits`
    /// bytes (the largest a server using `config` may agree on) and `config.threshold`.
    /// Allocates nothing until the first message.
    pub fn new(config: &crate::deflate::DeflateConfig) -> Self {
        let window_bits = config.own_max_window_bits.clamp(8, 15);
        PreparedCompressor {
            deflater: crate::deflate::Deflater::new(config.level, window_bits, false),
            window_bits,
            threshold: config.threshold,
        }
    }

    /// Prepare `message` as [`PreparedMessage::new`] does, and also compressed, unless it
    /// is shorter than the threshold or does not get smaller.
    pub fn prepare(&mut self, message: Message) -> PreparedMessage {
        let mut prepared = PreparedMessage::new(message);
        if prepared.payload.len() < self.threshold {
            return prepared;
        }
        let mut out = alloc::vec::Vec::new();
        // Without takeover each message ends with a full flush: the next starts empty.
        self.deflater.compress(&prepared.payload, true, &mut out);
        if out.len() >= prepared.payload.len() {
            return prepared;
        }
        let mut frame = FrameHeader::new(true, prepared.kind.opcode(), None, out.len() as u64);
        frame.rsv = crate::frame::Rsv::RSV1;
        prepared.compressed = Some(Compressed {
            frame,
            payload: Bytes::from(out),
            window_bits: self.window_bits,
        });
        prepared
    }
}

impl From<Message> for PreparedMessage {
    fn from(message: Message) -> Self {
        PreparedMessage::new(message)
    }
}

impl Connection {
    /// Queue a [`PreparedMessage`] in one frame. A server writes the frame header prepared
    /// once (2 to 10 bytes) and queues a reference to its payload: from 256 bytes on, the
    /// payload is not copied. A client masks it as [`send`](Self::send) would, copying the
    /// payload (see [`PreparedMessage`]).
    ///
    /// With permessage-deflate negotiated, a message prepared by a [`PreparedCompressor`]
    /// goes out compressed when this connection's window for our direction is at least the
    /// compressor's (a connection that keeps its compression context then drops it once);
    /// otherwise, and for a message prepared with [`PreparedMessage::new`], uncompressed.
    ///
    /// Queues bytes and fails as [`send_text`](Self::send_text) does: the connection must
    /// be open and not sending a fragmented message, and the frame counts against
    /// [`Config::max_queued_output`](super::Config::max_queued_output).
    #[inline]
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_message_allowed()?;
        #[cfg(feature = "deflate")]
        if let Some(compressed) = &message.compressed {
            if let Some(d) = self.deflate.as_deref() {
                let (bits, no_takeover) = d.params.ours(self.role);
                if bits >= compressed.window_bits {
                    self.check_room(compressed.payload.len())?;
                    if !no_takeover {
                        if let Some(d) = self.deflate.as_deref_mut() {
                            d.forget_context();
                        }
                    }
                    self.queue_prepared(&compressed.frame, &compressed.payload);
                    return Ok(());
                }
            }
        }
        self.check_room(message.payload.len())?;
        self.queue_prepared(&message.frame, &message.payload);
        Ok(())
    }

    /// Queue a prepared frame: by reference on a server from [`SHARE_FROM`] bytes, copied
    /// below; on a client copied and masked with the connection's next key.
    fn queue_prepared(&mut self, frame: &FrameHeader, payload: &Bytes) {
        match self.role {
            Role::Server if payload.len() >= SHARE_FROM => {
                self.out.push_by_ref(frame, payload.clone());
            }
            // Small: copied, which costs less than the queue entry of a reference.
            Role::Server => self.out.push_frame(frame, payload),
            Role::Client => {
                let mut header = self.header(true, frame.opcode, payload.len());
                header.rsv = frame.rsv;
                self.out.push_frame(&header, payload);
            }
        }
    }
}

impl DataKind {
    pub(super) fn opcode(self) -> OpCode {
        match self {
            DataKind::Text => OpCode::Text,
            DataKind::Binary => OpCode::Binary,
        }
    }
}
