//! A blocking driver over any `Read + Write` stream (feature `std`): the opening handshake
//! and a [`Connection`], for threads and `std::net::TcpStream`.
//!
//! It is deliberately small: the codec does the protocol; this module only moves bytes.
//! Async runtimes and event loops drive [`Connection`] directly instead.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::vec::Vec;

use crate::close::CloseCode;
use crate::connection::{Config, Connection, Event, Message, ProtocolError, SendError, State};
use crate::handshake::{
    BuildError, ClientRequest, HandshakeError, Limits, Request, ServerResponse, parse_ws_url,
};
use std::string::String;

/// What can go wrong while driving a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the stream failed.
    Io(io::Error),
    /// The opening handshake failed (for a server, the rejection was sent).
    Handshake(HandshakeError),
    /// The handshake request or response could not be built from what was given.
    Build(BuildError),
    /// The URL is not a `ws://` URL this driver can connect to.
    Url,
    /// The peer broke the protocol; the close frame was sent.
    Protocol(ProtocolError),
    /// A send was refused.
    Send(SendError),
    /// The connection is closed: nothing more will arrive.
    Closed,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::Build(e) => write!(f, "cannot build the handshake: {e}"),
            Error::Url => f.write_str("not a ws:// URL"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Send(e) => write!(f, "send refused: {e}"),
            Error::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Handshake(e) => Some(e),
            Error::Build(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Send(e) => Some(e),
            Error::Closed | Error::Url => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Error::Send(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::Handshake(e)
    }
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Error::Build(e)
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
            Err(ProtocolError::Handshake(e)) => Err(Error::Handshake(e)),
            Err(e) => Err(Error::Protocol(e)),
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
    let url = parse_ws_url(url).map_err(|_| Error::Url)?;
    if url.secure {
        return Err(Error::Url);
    }
    let request = ClientRequest::new(url.authority, url.resource);
    connect_with(stream, &request, seed, Config::default())
}

/// Open a WebSocket as a client with a full [`ClientRequest`] (subprotocols, origin,
/// headers) and [`Config`].
pub fn connect_with<S: Read + Write>(
    stream: S,
    request: &ClientRequest<'_>,
    seed: [u8; 32],
    config: Config,
) -> Result<WebSocket<S>, Error> {
    let conn = Connection::client(request, seed, config)?;
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
    accept_with(stream, Limits::default(), Config::default(), |_| {
        ServerResponse::default()
    })
}

/// Accept a WebSocket with chosen limits and [`Config`]; `choose` sees the request (path,
/// origin, offered subprotocols and extensions) and returns what to accept.
pub fn accept_with<S, F>(
    stream: S,
    limits: Limits,
    config: Config,
    choose: F,
) -> Result<WebSocket<S>, Error>
where
    S: Read + Write,
    F: for<'r> FnOnce(&Request<'r>) -> ServerResponse<'r>,
{
    let mut ws = WebSocket {
        stream,
        conn: Connection::server(limits, config),
    };
    loop {
        if let Some(Event::Request) = ws.read_opening()? {
            break;
        }
    }
    // The choice may borrow the request, which borrows the connection: copy it out
    // before the connection is changed.
    let (protocol, extensions, headers) = {
        let request = ws.conn.request().ok_or(Error::Closed)?;
        let response = choose(&request);
        (
            response.protocol.map(String::from),
            response
                .extensions
                .iter()
                .map(|e| String::from(*e))
                .collect::<Vec<_>>(),
            response
                .extra_headers
                .iter()
                .map(|(n, v)| (String::from(*n), String::from(*v)))
                .collect::<Vec<_>>(),
        )
    };
    let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let response = ServerResponse {
        protocol: protocol.as_deref(),
        extensions: &extensions,
        extra_headers: &headers,
    };
    match ws.conn.accept(&response) {
        Ok(()) => {}
        Err(SendError::Handshake(e)) => return Err(Error::Build(e)),
        Err(e) => return Err(Error::Send(e)),
    }
    ws.flush()?;
    Ok(ws)
}
