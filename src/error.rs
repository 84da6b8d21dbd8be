//! One error type for the whole crate, for callers who do not need to tell the layers
//! apart: every layer's error converts into [`Error`] with `?`.

use core::fmt;

use crate::close::{CloseCode, CloseError};
use crate::frame::{EncodeError, FrameError};
use crate::handshake::{BuildError, HandshakeError, UrlError};
use crate::utf8::Utf8Error;

/// The enum, and for each variant its `From` impl and its arms of `Display` and
/// `source`: the wrapped error's own.
macro_rules! layers {
    (
        $(#[doc = $enum_doc:literal])*
        pub enum Error {
            $($(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $variant:ident($ty:ty),)*
        }
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Error {
            $($(#[doc = $doc])* $(#[cfg($cfg)])? $variant($ty),)*
        }

        impl fmt::Display for Error {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($(#[cfg($cfg)])? Error::$variant(e) => fmt::Display::fmt(e, f),)*
                }
            }
        }

        #[cfg(feature = "std")]
        impl std::error::Error for Error {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(match self {
                    $($(#[cfg($cfg)])? Error::$variant(e) => e,)*
                })
            }
        }

        $(layers!(@from $(#[cfg($cfg)])? $variant($ty));)*
    };
    (@from #[cfg($cfg:meta)] Protocol($ty:ty)) => {};
    (@from $(#[cfg($cfg:meta)])? $variant:ident($ty:ty)) => {
        $(#[cfg($cfg)])?
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        }
    };
}

layers! {
    /// Any error of this crate: the layer's own error, wrapped.
    ///
    /// The layer errors stay public for those who match on them; this one is for `?` across
    /// layers (e.g. a function that builds a client connection and reads its first event
    /// returns `Result<_, rfc6455::Error>`). [`close_code`](Self::close_code) and
    /// [`http_status`](Self::http_status) say what the peer was, or must be, told.
    ///
    /// ```
    /// use rfc6455::handshake::parse_ws_url;
    ///
    /// // A `UrlError` here; a `BuildError` from `Connection::client`, a `ProtocolError` from
    /// // `poll_event`: all through the same `?`.
    /// fn host_of(url: &str) -> Result<&str, rfc6455::Error> {
    ///     Ok(parse_ws_url(url)?.host)
    /// }
    /// assert_eq!(host_of("ws://example.com/chat")?, "example.com");
    /// assert!(host_of("http://example.com/").is_err());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub enum Error {
        /// The peer broke the protocol or a limit after the opening handshake, on a
        /// [`Connection`](crate::connection::Connection) (a failed handshake converts to
        /// [`Error::Handshake`]).
        #[cfg(feature = "alloc")]
        Protocol(crate::connection::ProtocolError),
        /// A send, accept or reject was refused; nothing was queued.
        #[cfg(feature = "alloc")]
        Send(crate::connection::SendError),
        /// A frame header broke a rule of RFC 6455 section 5 (the frame layer's decoder).
        Frame(FrameError),
        /// A frame could not be encoded.
        Encode(EncodeError),
        /// Text that is not UTF-8.
        Utf8(Utf8Error),
        /// A malformed close payload or a close code that may not be sent.
        Close(CloseError),
        /// The peer's opening handshake is invalid.
        Handshake(HandshakeError),
        /// A handshake request or response could not be built from what was given.
        Build(BuildError),
        /// A string is not a WebSocket URL.
        Url(UrlError),
    }
}

impl Error {
    /// The close code the peer is sent for this error, where one is: for errors in
    /// received frames and messages (1002, 1007, 1009). `None` for errors of our own
    /// calls and for the opening handshake, where no close frame is sent.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            #[cfg(feature = "alloc")]
            Error::Protocol(e) => e.close_code(),
            Error::Frame(e) => Some(e.close_code()),
            Error::Utf8(e) => Some(e.close_code()),
            Error::Close(e) => Some(e.close_code()),
            _ => None,
        }
    }

    /// The HTTP status a server answers a failed opening handshake with (400, 426 or
    /// 431); `None` for other errors.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "alloc")]
            Error::Protocol(e) => e.http_status(),
            Error::Handshake(e) => Some(e.http_status()),
            _ => None,
        }
    }
}

/// A message [`try_send`](crate::connection::Connection::try_send) handed back becomes
/// [`Error::Send`] with its reason (the message is dropped).
#[cfg(feature = "alloc")]
impl From<crate::connection::Unsent> for Error {
    fn from(unsent: crate::connection::Unsent) -> Self {
        Error::Send(unsent.error)
    }
}

/// A failed opening handshake becomes [`Error::Handshake`], so that it has one place
/// whichever layer reported it.
#[cfg(feature = "alloc")]
impl From<crate::connection::ProtocolError> for Error {
    fn from(e: crate::connection::ProtocolError) -> Self {
        match e {
            crate::connection::ProtocolError::Handshake(e) => Error::Handshake(e),
            e => Error::Protocol(e),
        }
    }
}
