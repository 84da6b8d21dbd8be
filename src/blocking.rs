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

/// What can go wrong while driving a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the stream failed.
    Io(io::Error),
    /// The opening handshake failed.
    Handshake(crate::handshake::HandshakeError),
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
            Error::Protocol(e) => Some(e),
            Error::Send(e) => Some(e),
            Error::Closed => None,
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

impl From<crate::handshake::HandshakeError> for Error {
    fn from(e: crate::handshake::HandshakeError) -> Self {
        Error::Handshake(e)
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
            self.flush()?;
            if let Some(event) = polled? {
                return Ok(event);
            }
            if self.conn.state() == State::Closed && self.conn.should_close_transport() {
                return Err(Error::Closed);
            }
            if self.read_buf.len() < READ_CHUNK {
                self.read_buf.resize(READ_CHUNK, 0);
            }
            match self.stream.read(&mut self.read_buf) {
                Ok(0) => self.conn.receive_eof(),
                Ok(n) => self.conn.receive(&self.read_buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
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

#[allow(dead_code)]
fn default_config() -> Config {
    Config::default()
}
