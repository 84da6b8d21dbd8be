use alloc::string::String;
use core::fmt;

use bytes::Bytes;

use crate::close::CloseCode;

/// Bytes known to be valid UTF-8: the payload of a text message, shared without a copy.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wrap bytes that were validated as UTF-8.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Built only from validated text (`from_validated`, `&str`, `String`), and `Bytes`
        // is immutable.
        crate::utf8::from_validated(&self.0)
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, shared.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A complete data message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated as UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The payload length.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

/// The type of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// Text (opcode 0x1): UTF-8.
    Text,
    /// Binary (opcode 0x2).
    Binary,
}

/// A piece of a data message, delivered in [`ReceiveMode::Stream`](super::ReceiveMode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The message type.
    pub kind: DataKind,
    /// The bytes, in order. For text, the bytes so far are valid UTF-8, but a chunk may
    /// end inside a character that the next chunk completes.
    pub data: Bytes,
    /// Whether this is the first chunk of the message.
    pub first: bool,
    /// Whether this is the last chunk of the message (its text is then complete and valid).
    pub last: bool,
}

/// A piece of a data message lent by [`Connection::poll_event_ref`](super::Connection::poll_event_ref).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRef<'a> {
    /// The message type.
    pub kind: DataKind,
    /// The bytes, in order (text may end inside a character; see [`Chunk::data`]).
    pub data: &'a [u8],
    /// Whether this is the first chunk of the message.
    pub first: bool,
    /// Whether this is the last chunk of the message.
    pub last: bool,
}

/// An event whose payload is lent from the connection's buffers until the next call, as
/// returned by [`Connection::poll_event_ref`](super::Connection::poll_event_ref).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventRef<'a> {
    /// See [`Event::Accepted`].
    Accepted(Accepted),
    /// See [`Event::Request`]; the request is lent by the connection.
    Request(&'a super::UpgradeRequest),
    /// A complete text message.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A piece of a message, in [`ReceiveMode::Stream`](super::ReceiveMode).
    Chunk(ChunkRef<'a>),
    /// A ping; with auto-pong on (the default) the pong is already queued.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The connection closed; see [`Event::Closed`].
    Closed(Closed),
}

/// The server accepted a client's opening handshake.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Accepted {
    /// The subprotocol the server selected, if any (one the client offered).
    pub protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value the server answered with, if any.
    pub extensions: Option<String>,
}

/// The peer's close, or the end of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The peer's status code; [`CloseCode::NO_STATUS`] (1005) when its close frame had
    /// none, [`CloseCode::ABNORMAL`] (1006) when the transport ended without a close frame.
    pub code: CloseCode,
    /// The peer's reason (empty when none).
    pub reason: String,
}

/// Something the peer did, as returned by [`Connection::poll_event`](super::Connection::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Client: the server accepted the opening handshake; the state is now
    /// [`State::Open`](super::State::Open).
    Accepted(Accepted),
    /// Server: a valid upgrade request arrived; read it, then
    /// [`accept`](super::Connection::accept) or [`reject`](super::Connection::reject) it.
    /// The request is owned (its bytes shared with the connection), so a response may
    /// borrow it while the connection is changed.
    Request(super::UpgradeRequest),
    /// A complete text or binary message.
    Message(Message),
    /// A piece of a message, in [`ReceiveMode::Stream`](super::ReceiveMode).
    Chunk(Chunk),
    /// A ping; with auto-pong on (the default) the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The connection closed: the peer's close frame arrived (the reply is queued if we had
    /// not sent ours), or the transport ended without one.
    Closed(Closed),
}
