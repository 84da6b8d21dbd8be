use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bytes::Bytes;

use crate::close::CloseCode;
use crate::utf8::Utf8Error;

/// Bytes known to be valid UTF-8: the payload of a text message, shared without a copy.
///
/// It derefs to `str`, compares with `str` and `&str`, and is built from a `String` (no
/// copy), a `&'static str` ([`from_static`](Self::from_static), no copy), any `&str`
/// (copied), or [`Bytes`] checked as UTF-8 (`Utf8Bytes::try_from(bytes)`, no copy).
///
/// ```
/// use rfc6455::bytes::Bytes;
/// use rfc6455::connection::Utf8Bytes;
///
/// let text = Utf8Bytes::try_from(Bytes::from_static("κόσμε".as_bytes())).unwrap();
/// assert_eq!(text, "κόσμε");
/// assert_eq!(text.chars().count(), 5); // a `str` method, through `Deref`
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wrap bytes that were validated as UTF-8.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// Text from a string literal (or any `&'static str`), without copying or allocating.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// const GREETING: Utf8Bytes = Utf8Bytes::from_static("hello");
    /// assert_eq!(GREETING.as_str(), "hello");
    /// ```
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(text.as_bytes()))
    }

    /// The text.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::from(String::from("héllo"));
    /// assert_eq!(text.as_str(), "héllo");
    /// ```
    pub fn as_str(&self) -> &str {
        // Built only from validated text (`from_validated`, `TryFrom<Bytes>`, `&str`,
        // `String`), and `Bytes` is immutable.
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

impl core::ops::Deref for Utf8Bytes {
    type Target = str;

    /// The text, as [`as_str`](Utf8Bytes::as_str): every `str` method works on
    /// `Utf8Bytes`.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::from("Hello, world");
    /// assert!(text.starts_with("Hello"));
    /// assert_eq!(text.to_uppercase(), "HELLO, WORLD");
    /// ```
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = Utf8Error;

    /// Checks that `bytes` is UTF-8 and keeps them as they are: no copy, the same buffer.
    ///
    /// # Errors
    ///
    /// A [`Utf8Error`] whose [`offset`](Utf8Error::offset) is where the first invalid
    /// character starts (and [`is_incomplete`](Utf8Error::is_incomplete) when the bytes end
    /// inside a character).
    ///
    /// ```
    /// use rfc6455::bytes::Bytes;
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// let bytes = Bytes::from(b"caf\xc3\xa9".to_vec());
    /// let text = Utf8Bytes::try_from(bytes.clone()).unwrap();
    /// assert_eq!(text, "café");
    /// assert_eq!(text.as_bytes().as_ptr(), bytes.as_ptr()); // the same buffer
    ///
    /// let err = Utf8Bytes::try_from(Bytes::from_static(b"ok\xff")).unwrap_err();
    /// assert_eq!(err.offset(), 2);
    /// ```
    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        crate::utf8::validate(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }
}

impl From<&str> for Utf8Bytes {
    /// Copies the text into a new buffer (for a `&'static str` without the copy, see
    /// [`Utf8Bytes::from_static`]).
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// let name = String::from("chat");
    /// let text = Utf8Bytes::from(name.as_str());
    /// assert_eq!(text, "chat");
    /// ```
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Utf8Bytes {
    /// Takes over the string's buffer, without copying the text.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::from(format!("{} + {}", 1, 2));
    /// assert_eq!(text, "1 + 2");
    /// ```
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<Utf8Bytes> for Bytes {
    /// The text's bytes, shared (as [`Utf8Bytes::into_bytes`]).
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl PartialEq<str> for Utf8Bytes {
    /// Compares the text with a string slice.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// assert!(Utf8Bytes::from("hi") == *"hi");
    /// ```
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    /// Compares the text with a string slice.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// assert_eq!(Utf8Bytes::from("hi"), "hi");
    /// assert_ne!(Utf8Bytes::from("hi"), "ho");
    /// ```
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Utf8Bytes> for str {
    /// Compares a string slice with the text.
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    /// Compares a string slice with the text.
    ///
    /// ```
    /// use rfc6455::connection::Utf8Bytes;
    ///
    /// assert_eq!("hi", Utf8Bytes::from("hi"));
    /// ```
    fn eq(&self, other: &Utf8Bytes) -> bool {
        *self == other.as_str()
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
///
/// Build one with [`Message::text`] / [`Message::binary`] or `From`/`Into`: a `String`,
/// `&str` or [`Utf8Bytes`] gives text, a `Vec<u8>` or [`Bytes`] gives binary.
///
/// ```
/// use rfc6455::connection::Message;
///
/// assert_eq!(Message::from("hello"), Message::text("hello"));
/// assert_eq!(Message::from(vec![1, 2, 3]), Message::binary(vec![1, 2, 3]));
/// assert!(matches!(Message::from(String::from("hi")), Message::Text(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated as UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// A text message.
    ///
    /// ```
    /// use rfc6455::connection::{Message, Utf8Bytes};
    ///
    /// let owned = Message::text(String::from("hello")); // takes the String's buffer
    /// let copied = Message::text("hello"); // copies the &str
    /// let literal = Message::text(Utf8Bytes::from_static("hello")); // no copy, no allocation
    /// assert_eq!(owned, copied);
    /// assert_eq!(copied, literal);
    /// assert_eq!(owned.as_bytes(), b"hello");
    /// ```
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    ///
    /// ```
    /// use rfc6455::bytes::Bytes;
    /// use rfc6455::connection::Message;
    ///
    /// let from_vec = Message::binary(vec![0xde, 0xad]); // takes the Vec's buffer
    /// let from_static = Message::binary(Bytes::from_static(&[0xde, 0xad]));
    /// assert_eq!(from_vec, from_static);
    /// assert!(matches!(from_vec, Message::Binary(_)));
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The payload, text or binary, as shared bytes (no copy).
    ///
    /// ```
    /// use rfc6455::connection::Message;
    ///
    /// assert_eq!(Message::text("hi").into_bytes(), &b"hi"[..]);
    /// assert_eq!(Message::binary(vec![7u8]).into_bytes(), &[7u8][..]);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_bytes(),
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

impl From<Utf8Bytes> for Message {
    /// A text message.
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<String> for Message {
    /// A text message that takes over the string's buffer.
    ///
    /// ```
    /// use rfc6455::connection::Message;
    ///
    /// let message: Message = format!("{}!", "hi").into();
    /// assert_eq!(message, Message::text("hi!"));
    /// ```
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<&str> for Message {
    /// A text message holding a copy of the text (see [`Utf8Bytes::from_static`] for one
    /// without the copy).
    ///
    /// ```
    /// use rfc6455::connection::Message;
    ///
    /// let message: Message = "hi".into();
    /// assert!(matches!(&message, Message::Text(t) if t == "hi"));
    /// ```
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<Vec<u8>> for Message {
    /// A binary message that takes over the vector's buffer.
    ///
    /// ```
    /// use rfc6455::connection::Message;
    ///
    /// let message: Message = vec![1u8, 2, 3].into();
    /// assert!(matches!(&message, Message::Binary(b) if b == &[1u8, 2, 3][..]));
    /// ```
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data.into())
    }
}

impl From<Bytes> for Message {
    /// A binary message sharing the bytes.
    ///
    /// ```
    /// use rfc6455::bytes::Bytes;
    /// use rfc6455::connection::Message;
    ///
    /// let message = Message::from(Bytes::from_static(b"\x00\x01"));
    /// assert_eq!(message, Message::binary(vec![0u8, 1]));
    /// ```
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
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
