//! The CONNECTING state: the opening handshake driven through the same `receive` /
//! `poll_event` / `pending_output` calls as the rest of the connection.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Accepted, Config, Connection, End, Phase, ProtocolError, SendError, UpgradeRequest};
use crate::handshake::limits::HeadScanner;
use crate::handshake::{
    BuildError, ClientHandshake, ClientKey, ClientRequest, HandshakeError, ServerHandshake,
    ServerResponse, Status, write_rejection,
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
        scanner: HeadScanner,
    },
    /// A server waiting for the request (`request` is `None`), then for the application
    /// to accept or reject it.
    Server {
        parser: ServerHandshake,
        request: Option<UpgradeRequest>,
    },
}

/// What one step of the opening handshake produced.
pub(crate) enum Opened {
    Client(Accepted),
    /// The request is in `Opening::Server`.
    Request,
}

impl Connection {
    /// A client connection in [`State::Connecting`](super::State::Connecting): the upgrade
    /// request for `request` is queued as output (write it: see
    /// [`pending_output_len`](Self::pending_output_len)); feed the server's reply to
    /// [`receive`](Self::receive) and [`poll_event`](Self::poll_event) reports
    /// [`Event::Accepted`](super::Event::Accepted) once it is valid, within [`Config::handshake_limits`].
    ///
    /// `seed` is 32 random bytes (e.g. `keygen::random_seed()`, feature `getrandom`); the
    /// handshake nonce and the masking keys are derived from it (from different parts of
    /// the keystream, so the public nonce reveals nothing about the keys).
    ///
    /// With [`Config::deflate`] enabled, the permessage-deflate offer is appended to the
    /// request's extensions (which must then not list it themselves:
    /// [`BuildError::InvalidExtension`]), and the server's answer is checked when it arrives
    /// ([`ProtocolError::Negotiation`] if it breaks RFC 7692 section 7.1).
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, State};
    /// use rfc6455::handshake::ClientRequest;
    ///
    /// let request = ClientRequest::new("example.com", "/chat");
    /// let client = Connection::client(Config::default(), [7; 32], &request)?;
    /// assert_eq!(client.state(), State::Connecting);
    /// assert!(client.pending_output_chunk().starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn client(
        config: Config,
        seed: [u8; 32],
        request: &ClientRequest<'_>,
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
        #[cfg(feature = "deflate")]
        if config.deflate.enabled {
            if let Some(index) = lists_deflate(request.extensions) {
                return Err(BuildError::InvalidExtension { index });
            }
        }
        #[cfg(feature = "deflate")]
        let offer = config.deflate.enabled.then(|| config.deflate.offer());
        #[cfg(feature = "deflate")]
        let extensions: Vec<&str> = request
            .extensions
            .iter()
            .copied()
            .chain(offer.as_deref())
            .collect();
        #[cfg(feature = "deflate")]
        let request = &ClientRequest {
            extensions: &extensions,
            ..*request
        };
        let bytes = request.encode_to_vec(&key)?;
        let mut conn = Connection::upgraded_client(config, mask_seed);
        conn.out.push_raw(&bytes);
        conn.phase = Phase::Connecting(Box::new(Opening::Client {
            key,
            protocols: request.protocols.iter().map(|p| p.to_string()).collect(),
            extensions: request.extensions.iter().map(|e| e.to_string()).collect(),
            scanner: HeadScanner::new(),
        }));
        Ok(conn)
    }

    /// A server connection in [`State::Connecting`](super::State::Connecting), waiting for
    /// the client's upgrade request within [`Config::handshake_limits`].
    /// [`poll_event`](Self::poll_event) reports [`Event::Request`](super::Event::Request) with the request once a
    /// valid one arrived; then [`accept`](Self::accept) or [`reject`](Self::reject) it.
    ///
    /// An invalid request makes `poll_event` return the error after queuing the 400, 426
    /// or 431 response for it: write the pending output, then close the transport
    /// ([`should_close_transport`](Self::should_close_transport) says when).
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection, Event, State};
    /// use rfc6455::handshake::ServerResponse;
    ///
    /// let mut server = Connection::server(Config::default());
    /// server.receive(b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\n\r\n");
    /// let Some(Event::Request(request)) = server.poll_event()? else { panic!() };
    /// assert_eq!(request.path(), "/chat");
    /// server.accept(&ServerResponse::default())?;
    /// assert_eq!(server.state(), State::Open);
    /// assert!(server.pending_output_chunk().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn server(config: Config) -> Self {
        let mut conn = Connection::upgraded_server(config);
        conn.phase = Phase::Connecting(Box::new(Opening::Server {
            parser: ServerHandshake::new(config.handshake_limits),
            request: None,
        }));
        conn
    }

    /// The client's validated upgrade request, from [`Event::Request`](super::Event::Request) until it is
    /// accepted or rejected (clone it to keep it longer: the clone shares its bytes).
    pub fn request(&self) -> Option<&UpgradeRequest> {
        match &self.phase {
            Phase::Connecting(opening) => match &**opening {
                Opening::Server { request, .. } => request.as_ref(),
                Opening::Client { .. } => None,
            },
            _ => None,
        }
    }

    /// The request just reported as an event.
    pub(super) fn pending_request(&self) -> &UpgradeRequest {
        self.request()
            .expect("a request is kept until it is decided")
    }

    /// Accept the client's request: queue the `101 Switching Protocols` response with the
    /// chosen subprotocol and extensions (each must be one the client offered). The state
    /// becomes [`State::Open`](super::State::Open), and frames the client sent right after
    /// its request are processed by the next [`poll_event`](Self::poll_event).
    ///
    /// Queues bytes: write [`pending_output_len`](Self::pending_output_len) bytes before
    /// you wait for input.
    ///
    /// # Errors
    ///
    /// [`SendError::NoPendingRequest`] unless a request was reported and not yet decided;
    /// [`SendError::Handshake`] if the response selects what the client did not offer or
    /// is malformed, or lists permessage-deflate while [`Config::deflate`] is enabled (the
    /// connection then negotiates it itself: it appends its response to the extensions,
    /// when the client offered something it can honour). Nothing is queued then, and the
    /// request is still pending.
    pub fn accept(&mut self, response: &ServerResponse<'_>) -> Result<(), SendError> {
        let request = self.request().ok_or(SendError::NoPendingRequest)?;
        #[cfg(feature = "deflate")]
        let (negotiated, extensions);
        #[cfg(feature = "deflate")]
        let response = {
            negotiated = self
                .negotiate_deflate(&request.as_request(), response)
                .map_err(SendError::Handshake)?;
            extensions = response
                .extensions
                .iter()
                .copied()
                .chain(negotiated.as_ref().map(|(_, element)| element.as_str()))
                .collect::<Vec<&str>>();
            &ServerResponse {
                extensions: &extensions,
                ..*response
            }
        };
        let reply = request
            .as_request()
            .response_to_vec(response)
            .map_err(SendError::Handshake)?;
        self.out.push_raw(&reply);
        self.phase = Phase::open();
        #[cfg(feature = "deflate")]
        if let Some((params, _)) = negotiated {
            self.install_deflate(params);
        }
        Ok(())
    }

    /// Refuse the client's request with an HTTP `status` (300 to 599) and `reason`; the
    /// state becomes [`State::Closed`](super::State::Closed).
    ///
    /// Queues bytes (the response): write them, then close the transport
    /// ([`should_close_transport`](Self::should_close_transport) is then true).
    ///
    /// # Errors
    ///
    /// [`SendError::NoPendingRequest`] unless a request was reported and not yet decided;
    /// [`SendError::Handshake`] for a status out of range or a reason that is not a valid
    /// HTTP reason phrase.
    pub fn reject(&mut self, status: u16, reason: &str) -> Result<(), SendError> {
        if self.request().is_none() {
            return Err(SendError::NoPendingRequest);
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
        let input = self.rx.input.head(usize::MAX);
        let step = match &mut **opening {
            Opening::Client {
                key,
                protocols,
                extensions,
                scanner,
            } => match scanner.scan(input, &self.config.handshake_limits) {
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
                    let handshake =
                        ClientHandshake::with_limits(&request, key, self.config.handshake_limits);
                    // The head is found: parse it without scanning it again.
                    handshake.parse_head(input, head).map(|value| {
                        let accepted = Accepted {
                            protocol: value.protocol().map(str::to_string),
                            extensions: value
                                .header("sec-websocket-extensions")
                                .map(|v| String::from_utf8_lossy(v).into_owned()),
                        };
                        #[cfg(feature = "deflate")]
                        let deflate = if self.config.deflate.enabled {
                            self.config.deflate.validate_response(value.extensions())
                        } else {
                            Ok(None)
                        };
                        #[cfg(not(feature = "deflate"))]
                        let deflate = ();
                        Some((Opened::Client(accepted), head.len, deflate))
                    })
                }
            },
            Opening::Server { parser, request } => {
                if request.is_some() {
                    return Ok(None); // waiting for accept or reject
                }
                match parser.parse(input) {
                    Ok(Status::Complete { value, consumed }) => {
                        // Parsed from `rx`'s own bytes, so the spans always exist.
                        let spans = value.spans(input).expect("parsed from raw bytes");
                        *request = Some(UpgradeRequest::new(
                            self.rx.input.split_head(consumed),
                            spans,
                        ));
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
            Ok(Some((opened, consumed, deflate))) => {
                self.rx.input.consume_head(consumed);
                #[cfg(feature = "deflate")]
                match deflate {
                    Ok(Some(params)) => self.install_deflate(params),
                    Ok(None) => {}
                    Err(e) => {
                        self.end_opening();
                        return Err(ProtocolError::Negotiation(e));
                    }
                }
                #[cfg(not(feature = "deflate"))]
                let () = deflate;
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

    /// Server: the permessage-deflate parameters to accept, and the response element
    /// that says so, when [`Config::deflate`] enables it and the client offered one we can
    /// honour.
    #[cfg(feature = "deflate")]
    pub(super) fn negotiate_deflate(
        &self,
        request: &crate::handshake::Request<'_>,
        response: &ServerResponse<'_>,
    ) -> Result<Option<(crate::deflate::DeflateParams, String)>, BuildError> {
        if !self.config.deflate.enabled {
            return Ok(None);
        }
        if let Some(index) = lists_deflate(response.extensions) {
            return Err(BuildError::InvalidExtension { index });
        }
        Ok(self.config.deflate.accept_offers(request.extensions()))
    }

    /// The handshake failed or was refused: nothing more is read or sent.
    fn end_opening(&mut self) {
        self.phase = Phase::Closed(End::Failed);
        self.rx.discard();
    }
}

/// The index of the first of `extensions` that names permessage-deflate: with
/// [`Config::deflate`] enabled the connection negotiates it itself, and the application
/// may not offer or accept it as well (the connection would not know what was agreed).
#[cfg(feature = "deflate")]
fn lists_deflate(extensions: &[&str]) -> Option<usize> {
    extensions.iter().position(|element| {
        crate::handshake::parse_extension_list(element).is_some_and(|mut list| {
            list.any(|e| e.name().eq_ignore_ascii_case("permessage-deflate"))
        })
    })
}

impl From<HandshakeError> for ProtocolError {
    fn from(e: HandshakeError) -> Self {
        ProtocolError::Handshake(e)
    }
}
