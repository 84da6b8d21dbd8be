//! The CONNECTING state: the opening handshake driven through the same `receive` /
//! `poll_event` / `pending_output` calls as the rest of the connection.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Accepted, Config, Connection, End, Event, EventRef, Phase, ProtocolError, SendError};
use crate::Role;
use crate::handshake::limits::HeadScanner;
use crate::handshake::{
    BuildError, ClientHandshake, ClientKey, ClientRequest, HandshakeError, Limits, Request,
    ServerHandshake, ServerResponse, Status, write_rejection,
};
use crate::keygen::MaskKeyGen;

/// What the opening handshake still needs.
#[derive(Debug)]
pub(crate) enum Opening {
    /// A client waiting for the server's `101` response.
    Client {
        key: ClientKey,
        protocols: Vec<String>,
        extensions: Vec<String>,
        limits: Limits,
        scanner: HeadScanner,
    },
    /// A server waiting for the request (`head_len` is `None`), then for the application
    /// to accept or reject it.
    Server {
        parser: ServerHandshake,
        head_len: Option<usize>,
    },
}

/// What one step of the opening handshake produced.
pub(crate) enum Opened {
    Client(Accepted),
    Request,
}

impl Opened {
    pub(crate) fn event(self) -> Event {
        match self {
            Opened::Client(accepted) => Event::Accepted(accepted),
            Opened::Request => Event::Request,
        }
    }

    pub(crate) fn event_ref<'a>(self) -> EventRef<'a> {
        match self {
            Opened::Client(accepted) => EventRef::Accepted(accepted),
            Opened::Request => EventRef::Request,
        }
    }
}

impl Connection {
    /// A client connection in [`State::Connecting`]: the upgrade request for `request` is
    /// queued as output; feed the server's reply to [`receive`](Self::receive) and
    /// [`poll_event`](Self::poll_event) reports [`Event::Accepted`] once it is valid.
    ///
    /// `seed` is 32 random bytes; the handshake nonce and the masking keys are derived
    /// from it (from different parts of the keystream, so the public nonce reveals
    /// nothing about the keys).
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, Event, State};
    /// use rfc6455::handshake::ClientRequest;
    ///
    /// let request = ClientRequest::new("example.com", "/chat");
    /// let mut client = Connection::client(&request, [7; 32], Config::default()).unwrap();
    /// assert_eq!(client.state(), State::Connecting);
    /// assert!(client.pending_output().starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// ```
    pub fn client(
        request: &ClientRequest<'_>,
        seed: [u8; 32],
        config: Config,
    ) -> Result<Self, BuildError> {
        let mut rng = MaskKeyGen::new(seed);
        let mut nonce = [0u8; 16];
        for chunk in nonce.chunks_exact_mut(4) {
            chunk.copy_from_slice(&rng.next_key());
        }
        let mut mask_seed = [0u8; 32];
        for chunk in mask_seed.chunks_exact_mut(4) {
            chunk.copy_from_slice(&rng.next_key());
        }
        let key = ClientKey::from_nonce(nonce);
        let bytes = request.encode_to_vec(&key)?;
        let mut conn = Connection::new(Role::Client, config, mask_seed);
        conn.out.push_raw(&bytes);
        conn.phase = Phase::Connecting(Box::new(Opening::Client {
            key,
            protocols: request.protocols.iter().map(|p| p.to_string()).collect(),
            extensions: request.extensions.iter().map(|e| e.to_string()).collect(),
            limits: Limits::new(),
            scanner: HeadScanner::new(),
        }));
        Ok(conn)
    }

    /// A server connection in [`State::Connecting`], waiting for the client's upgrade
    /// request within `limits`. [`poll_event`](Self::poll_event) reports [`Event::Request`]
    /// once a valid request arrived; inspect it with [`request`](Self::request), then
    /// [`accept`](Self::accept) or [`reject`](Self::reject) it. An invalid request is
    /// answered with 400, 426 or 431 by the connection itself.
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, Event, State};
    /// use rfc6455::handshake::{Limits, ServerResponse};
    ///
    /// let mut server = Connection::server(Limits::default(), Config::default());
    /// server.receive(b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\n\r\n");
    /// assert_eq!(server.poll_event().unwrap(), Some(Event::Request));
    /// assert_eq!(server.request().unwrap().path(), "/chat");
    /// server.accept(&ServerResponse::default()).unwrap();
    /// assert_eq!(server.state(), State::Open);
    /// assert!(server.pending_output().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// ```
    pub fn server(limits: Limits, config: Config) -> Self {
        let mut conn = Connection::new(Role::Server, config, [0; 32]);
        conn.phase = Phase::Connecting(Box::new(Opening::Server {
            parser: ServerHandshake::new(limits),
            head_len: None,
        }));
        conn
    }

    /// The client's validated upgrade request, once [`Event::Request`] was reported and
    /// until it is accepted or rejected.
    pub fn request(&self) -> Option<Request<'_>> {
        let Phase::Connecting(opening) = &self.phase else {
            return None;
        };
        let Opening::Server {
            parser,
            head_len: Some(len),
        } = &**opening
        else {
            return None;
        };
        // Parsed again from the kept head: one more linear pass, once.
        match ServerHandshake::new(*parser.limits()).parse(self.rx.head(*len)) {
            Ok(Status::Complete { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// Accept the client's request: queue the `101 Switching Protocols` response with the
    /// chosen subprotocol and extensions (each must be one the client offered). The state
    /// becomes [`State::Open`], and frames the client sent right after its request are
    /// processed by the next [`poll_event`](Self::poll_event).
    pub fn accept(&mut self, response: &ServerResponse<'_>) -> Result<(), SendError> {
        let request = self.request().ok_or(SendError::NotOpen(self.state()))?;
        let Phase::Connecting(opening) = &self.phase else {
            unreachable!("a request is pending only while connecting");
        };
        let Opening::Server {
            head_len: Some(len),
            ..
        } = **opening
        else {
            unreachable!("a request is pending only on a server");
        };
        let reply = request
            .response_to_vec(response)
            .map_err(SendError::Handshake)?;
        self.out.push_raw(&reply);
        self.rx.consume_head(len);
        self.phase = Phase::open();
        Ok(())
    }

    /// Refuse the client's request with an HTTP `status` (300 to 599) and `reason`; the
    /// state becomes [`State::Closed`] and the transport should be closed once the response
    /// is written.
    pub fn reject(&mut self, status: u16, reason: &str) -> Result<(), SendError> {
        if self.request().is_none() {
            return Err(SendError::NotOpen(self.state()));
        }
        let mut reply = [0u8; 512];
        let n = write_rejection(status, reason, &[], &mut reply).map_err(SendError::Handshake)?;
        self.out.push_raw(&reply[..n]);
        self.end_opening();
        Ok(())
    }

    /// Advance the opening handshake with the bytes received; `Ok(None)` while waiting.
    pub(crate) fn poll_opening(&mut self) -> Result<Option<Opened>, ProtocolError> {
        let Phase::Connecting(opening) = &mut self.phase else {
            return Ok(None);
        };
        let input = self.rx.head(usize::MAX);
        let step = match &mut **opening {
            Opening::Client {
                key,
                protocols,
                extensions,
                limits,
                scanner,
            } => match scanner.scan(input, limits) {
                Err(e) => Err(e),
                Ok(None) => Ok(None),
                Ok(Some(head)) => {
                    let protocols: Vec<&str> = protocols.iter().map(String::as_str).collect();
                    let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
                    let request = ClientRequest {
                        protocols: &protocols,
                        extensions: &extensions,
                        ..ClientRequest::new("", "")
                    };
                    let handshake = ClientHandshake::with_limits(&request, key, *limits);
                    // The head is found: parse it without scanning it again.
                    handshake.parse_head(input, head).map(|value| {
                        let accepted = Accepted {
                            protocol: value.protocol().map(str::to_string),
                            extensions: value
                                .header("sec-websocket-extensions")
                                .map(|v| String::from_utf8_lossy(v).into_owned()),
                        };
                        Some((Opened::Client(accepted), head.len))
                    })
                }
            },
            Opening::Server {
                parser, head_len, ..
            } => {
                if head_len.is_some() {
                    return Ok(None); // waiting for accept or reject
                }
                match parser.parse(input) {
                    Ok(Status::Complete { consumed, .. }) => {
                        *head_len = Some(consumed);
                        return Ok(Some(Opened::Request));
                    }
                    Ok(Status::Partial) => Ok(None),
                    Err(e) => {
                        let mut reply = [0u8; 512];
                        if let Ok(n) = e.write_rejection(&mut reply) {
                            self.out.push_raw(&reply[..n]);
                        }
                        Err(e)
                    }
                }
            }
        };
        match step {
            Ok(Some((opened, consumed))) => {
                self.rx.consume_head(consumed);
                self.phase = Phase::open();
                Ok(Some(opened))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.end_opening();
                Err(ProtocolError::Handshake(e))
            }
        }
    }

    /// The handshake failed or was refused: nothing more is read or sent.
    fn end_opening(&mut self) {
        self.phase = Phase::Closed(End::Failed);
        self.rx.discard();
    }
}

impl From<HandshakeError> for ProtocolError {
    fn from(e: HandshakeError) -> Self {
        ProtocolError::Handshake(e)
    }
}
