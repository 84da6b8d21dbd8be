//! A blocking driver over any `Read + Write` stream (feature `std`): the opening handshake
//! and a [`Connection`], for threads and `std::net::TcpStream`.
//!
//! It is deliberately small: the codec does the protocol; this module only moves bytes.
//! Async runtimes and event loops drive [`Connection`] directly instead.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::vec::Vec;

use crate::Role;
use crate::close::CloseCode;
use crate::connection::{Config, Connection, Event, Message, ProtocolError, SendError, State};
use crate::handshake::{
    BuildError, ClientHandshake, ClientKey, ClientRequest, HandshakeError, Limits, Request,
    ServerHandshake, ServerResponse, Status, parse_ws_url,
};
use crate::keygen::MaskKeyGen;

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
    read_buf: Vec<u8>,
}

impl<S: Read + Write> WebSocket<S> {
    /// Wrap a stream whose opening handshake is done, with `leftover` bytes that were read
    /// past the handshake.
    pub fn from_parts(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        let mut ws = WebSocket {
            stream,
            conn,
            read_buf: Vec::new(),
        };
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
            if self.read_buf.len() < READ_CHUNK {
                self.read_buf.resize(READ_CHUNK, 0);
            }
            match self.stream.read(&mut self.read_buf) {
                Ok(0) => self.conn.receive_eof(),
                Ok(n) => self.conn.receive(&self.read_buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) if self.conn.state() == State::Closed => return Err(Error::Closed),
                Err(e) => return Err(e.into()),
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

/// Read more bytes of a handshake head into `buf`; an error at end of stream.
fn read_more<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> Result<(), Error> {
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
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
    mut stream: S,
    request: &ClientRequest<'_>,
    seed: [u8; 32],
    config: Config,
) -> Result<WebSocket<S>, Error> {
    let mut rng = MaskKeyGen::new(seed);
    let mut nonce = [0u8; 16];
    for chunk in nonce.chunks_exact_mut(4) {
        chunk.copy_from_slice(&rng.next_key());
    }
    // Keys for masking come from later keystream bytes than the public nonce.
    let mut mask_seed = [0u8; 32];
    for chunk in mask_seed.chunks_exact_mut(4) {
        chunk.copy_from_slice(&rng.next_key());
    }
    let key = ClientKey::from_nonce(nonce);
    stream.write_all(&request.encode_to_vec(&key)?)?;
    stream.flush()?;
    let mut handshake = ClientHandshake::new(request, &key);
    let mut buf = Vec::new();
    loop {
        if let Status::Complete { consumed, .. } = handshake.parse_response(&buf)? {
            let conn = Connection::new(Role::Client, config, mask_seed);
            return Ok(WebSocket::from_parts(stream, conn, &buf[consumed..]));
        }
        read_more(&mut stream, &mut buf)?;
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
    mut stream: S,
    limits: Limits,
    config: Config,
    choose: F,
) -> Result<WebSocket<S>, Error>
where
    S: Read + Write,
    F: for<'r> FnOnce(&Request<'r>) -> ServerResponse<'r>,
{
    let mut handshake = ServerHandshake::new(limits);
    let mut buf = Vec::new();
    loop {
        match handshake.parse(&buf) {
            Ok(Status::Partial) => read_more(&mut stream, &mut buf)?,
            Ok(Status::Complete {
                value: request,
                consumed,
            }) => {
                let response = choose(&request);
                let reply = request.response_to_vec(&response)?;
                stream.write_all(&reply)?;
                stream.flush()?;
                let conn = Connection::new(Role::Server, config, [0; 32]);
                return Ok(WebSocket::from_parts(stream, conn, &buf[consumed..]));
            }
            Err(err) => {
                let mut reply = [0u8; 256];
                if let Ok(n) = err.write_rejection(&mut reply) {
                    let _ = stream.write_all(&reply[..n]);
                    let _ = stream.flush();
                }
                return Err(err.into());
            }
        }
    }
}
