//! A blocking driver over any `Read + Write` stream (feature `std`): the opening handshake
//! and a [`Connection`], for threads and `std::net::TcpStream`.
//!
//! It is deliberately small: the codec does the protocol; this module only moves bytes.
//! Async runtimes and event loops drive [`Connection`] directly instead.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};

use crate::close::CloseCode;
use crate::connection::{Config, Connection, Event, Message, State, UpgradeRequest};
use crate::handshake::{ClientRequest, ServerResponse, UrlError, parse_ws_url};

/// What can go wrong while driving a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the stream failed.
    Io(io::Error),
    /// The protocol or our own call failed: the handshake (for a server, the rejection
    /// was sent), a frame the peer sent (the close frame was sent), a refused send, a URL.
    WebSocket(crate::Error),
    /// The connection is closed: nothing more will arrive.
    Closed,
}

impl Error {
    /// The close code sent to the peer, if this error made us send one.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::WebSocket(e) => e.close_code(),
            _ => None,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::WebSocket(e) => write!(f, "{e}"),
            Error::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::WebSocket(e) => Some(e),
            Error::Closed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl<E: Into<crate::Error>> From<E> for Error {
    fn from(e: E) -> Self {
        Error::WebSocket(e.into())
    }
}

/// The size of each read from the stream.
const READ_CHUNK: usize = 64 * 1024;

/// A WebSocket over a blocking stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
}

impl<S: Read + Write> WebSocket<S> {
    /// Wrap a stream whose opening handshake is done, with `leftover` bytes that were read
    /// past the handshake.
    pub fn from_parts(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        let mut ws = WebSocket { stream, conn };
        ws.conn.receive(leftover);
        ws
    }

    /// The connection state machine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection state machine, to queue frames directly.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        self.conn.state()
    }

    /// Block until the next event. Pending output (pongs, close replies) is written
    /// before each read. After [`Event::Closed`] the next call returns [`Error::Closed`].
    pub fn read(&mut self) -> Result<Event, Error> {
        loop {
            let polled = self.conn.poll_event();
            // Write pongs and close replies first; an event already taken is still
            // returned when that write fails (the error comes with the next call).
            let flushed = self.flush();
            if let Some(event) = polled? {
                return Ok(event);
            }
            if self.conn.state() == State::Closed {
                // Once closed, a transport error is just the peer hanging up.
                if flushed.is_err() || self.conn.should_close_transport() {
                    return Err(Error::Closed);
                }
            } else {
                flushed?;
            }
            match self.fill() {
                Ok(()) => {}
                Err(_) if self.conn.state() == State::Closed => return Err(Error::Closed),
                Err(e) => return Err(e),
            }
        }
    }

    /// Send a message and write it out.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.conn.send(message)?;
        self.flush()
    }

    /// Send a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Send a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Send a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.send_ping(payload)?;
        self.flush()
    }

    /// Start the closing handshake and write the close frame; keep calling
    /// [`read`](Self::read) until it returns [`Event::Closed`] to finish it.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// One step of the opening handshake: an event, or `None` after more bytes were read.
    fn read_opening(&mut self) -> Result<Option<Event>, Error> {
        let polled = self.conn.poll_event();
        self.flush()?;
        match polled {
            Ok(Some(Event::Closed(_))) => Err(Error::Closed),
            Ok(Some(event)) => Ok(Some(event)),
            Ok(None) => {
                self.fill()?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Read once from the stream, straight into the connection's input buffer.
    fn fill(&mut self) -> Result<(), Error> {
        loop {
            match self.stream.read(self.conn.receive_buffer(READ_CHUNK)) {
                Ok(0) => self.conn.receive_eof(),
                Ok(n) => self.conn.commit_received(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            return Ok(());
        }
    }

    /// Write all pending output.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.conn.pending_output_len() > 0 {
            self.conn.write_to(&mut self.stream)?;
            self.stream.flush()?;
        }
        Ok(())
    }

    /// Give the stream back.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

/// Open a WebSocket as a client over a connected `stream` to `url` (`ws://host[:port]/path`),
/// with the default [`Config`]. `seed` is 32 random bytes: the handshake nonce and the
/// masking keys are derived from it.
///
/// ```no_run
/// use std::net::TcpStream;
/// use rfc6455::blocking;
///
/// let stream = TcpStream::connect("127.0.0.1:9001")?;
/// let mut seed = [0u8; 32];
/// getrandom::fill(&mut seed).expect("OS randomness");
/// let mut ws = blocking::connect(stream, "ws://127.0.0.1:9001/", seed)?;
/// ws.send_text("hello")?;
/// println!("{:?}", ws.read()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect<S: Read + Write>(
    stream: S,
    url: &str,
    seed: [u8; 32],
) -> Result<WebSocket<S>, Error> {
    let url = parse_ws_url(url)?;
    if url.secure {
        // TLS is the caller's: wrap the stream and use `connect_with`.
        return Err(UrlError::Scheme.into());
    }
    let request = ClientRequest::new(url.authority, url.resource);
    connect_with(stream, Config::default(), seed, &request)
}

/// Open a WebSocket as a client with a full [`ClientRequest`] (subprotocols, origin,
/// headers) and [`Config`].
pub fn connect_with<S: Read + Write>(
    stream: S,
    config: Config,
    seed: [u8; 32],
    request: &ClientRequest<'_>,
) -> Result<WebSocket<S>, Error> {
    let conn = Connection::client(config, seed, request)?;
    let mut ws = WebSocket { stream, conn };
    ws.flush()?;
    loop {
        match ws.read_opening()? {
            Some(Event::Accepted(_)) => return Ok(ws),
            _ => continue,
        }
    }
}

/// Accept a WebSocket as a server on a connected `stream`: read and validate the
/// request, answer `101`, with the default [`Config`] and no subprotocol. A bad request
/// is answered with 400, 426 or 431 before the error is returned.
///
/// ```no_run
/// use std::net::TcpListener;
/// use rfc6455::blocking;
/// use rfc6455::connection::Event;
///
/// let listener = TcpListener::bind("127.0.0.1:9001")?;
/// let (stream, _) = listener.accept()?;
/// let mut ws = blocking::accept(stream)?;
/// while let Ok(event) = ws.read() {
///     if let Event::Message(message) = event {
///         ws.send(message)?; // echo
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn accept<S: Read + Write>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, Config::default(), |_| ServerResponse::default())
}

/// Accept a WebSocket with a chosen [`Config`] (its
/// [`handshake_limits`](Config::handshake_limits) apply to the request); `choose` sees the
/// request (path, query, headers and cookies, origin, offered subprotocols and extensions)
/// and returns what to accept, borrowing from it as it likes.
///
/// ```no_run
/// use std::net::TcpListener;
/// use rfc6455::blocking;
/// use rfc6455::connection::Config;
/// use rfc6455::handshake::ServerResponse;
///
/// let (stream, _) = TcpListener::bind("127.0.0.1:9001")?.accept()?;
/// let ws = blocking::accept_with(stream, Config::default(), |request| ServerResponse {
///     protocol: request.protocols().find(|p| *p == "chat.v2"),
///     ..ServerResponse::default()
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn accept_with<S, F>(stream: S, config: Config, choose: F) -> Result<WebSocket<S>, Error>
where
    S: Read + Write,
    F: for<'r> FnOnce(&'r UpgradeRequest) -> ServerResponse<'r>,
{
    let mut ws = WebSocket {
        stream,
        conn: Connection::server(config),
    };
    let request = loop {
        if let Some(Event::Request(request)) = ws.read_opening()? {
            break request;
        }
    };
    ws.conn.accept(&choose(&request))?;
    ws.flush()?;
    Ok(ws)
}
