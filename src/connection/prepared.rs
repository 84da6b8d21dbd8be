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

    /// The frame's length on a server's wire: header and payload.
    pub fn frame_len(&self) -> usize {
        self.header.len() + self.payload.len()
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
    /// payload is not copied. Always
    /// uncompressed, also with permessage-deflate negotiated; a client masks it as
    /// [`send`](Self::send) would, copying the payload (see [`PreparedMessage`]).
    ///
    /// Queues bytes and fails as [`send_text`](Self::send_text) does: the connection must
    /// be open and not sending a fragmented message, and the frame counts against
    /// [`Config::max_queued_output`](super::Config::max_queued_output).
    #[inline]
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_message_allowed()?;
        self.check_room(message.payload.len())?;
        match self.role {
            Role::Server if message.payload.len() >= SHARE_FROM => {
                self.out
                    .push_by_ref(&message.frame, message.payload.clone());
            }
            // Small: copied, which costs less than the queue entry of a reference.
            Role::Server => self.out.push_frame(&message.frame, &message.payload),
            Role::Client => {
                let header = self.header(true, message.kind.opcode(), message.payload.len());
                self.out.push_frame(&header, &message.payload);
            }
        }
        Ok(())
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
