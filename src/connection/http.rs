//! A server connection for an opening handshake that an HTTP server carries (feature
//! `http`): the request arrives as an `http::Request`, the answer leaves as an
//! `http::Response`, and the connection starts open on the upgraded transport.

use ::http as h;

use super::{Config, Connection};
use crate::handshake::{BuildError, Request, ServerResponse};

impl Connection {
    /// Accept an upgrade request that an HTTP server (hyper, axum, ...) parsed and
    /// [`Request::from_http`] validated: returns the open server connection to run on the
    /// upgraded transport and the `101 Switching Protocols` response to send, with
    /// `response`'s subprotocol, extensions and headers, as [`accept`](Self::accept) would
    /// answer the same request on a [`server`](Self::server) connection.
    ///
    /// With [`Config::deflate`] enabled, permessage-deflate is negotiated as `accept` does
    /// it: when the client offered parameters we can honour, the agreed element is appended
    /// to the response's extensions and the connection compresses and inflates with those
    /// parameters ([`deflate_params`](Self::deflate_params)). This is
    /// [`upgraded_server`](Self::upgraded_server), [`DeflateConfig::accept_offers`] and
    /// [`with_deflate`](Self::with_deflate) in one call, so the response and the connection
    /// cannot disagree.
    ///
    /// ```
    /// use rfc6455::connection::{Config, Connection};
    /// use rfc6455::deflate::DeflateConfig;
    /// use rfc6455::handshake::{Request, ServerResponse};
    ///
    /// let req = http::Request::get("/chat")
    ///     .header("Host", "server.example.com")
    ///     .header("Upgrade", "websocket")
    ///     .header("Connection", "Upgrade")
    ///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("Sec-WebSocket-Version", "13")
    ///     .header("Sec-WebSocket-Protocol", "v2.chat, v1.chat")
    ///     .header("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_http(&req).expect("a valid upgrade request");
    /// let protocol = request.protocols().find(|p| p.starts_with("v1"));
    /// let config = Config::new().deflate(DeflateConfig::new().enabled(true));
    /// let (server, response) =
    ///     Connection::accept_http(config, &request, &ServerResponse { protocol, ..Default::default() })?;
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "v1.chat");
    /// assert_eq!(response.headers()["sec-websocket-extensions"], "permessage-deflate");
    /// assert!(server.deflate_params().is_some());
    /// # Ok::<(), rfc6455::handshake::BuildError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Request::http_response`] (e.g. [`BuildError::ProtocolNotOffered`]), and
    /// [`BuildError::InvalidExtension`] if `response` lists permessage-deflate while
    /// [`Config::deflate`] is enabled (the connection negotiates it itself).
    ///
    /// [`DeflateConfig::accept_offers`]: crate::deflate::DeflateConfig::accept_offers
    pub fn accept_http(
        config: Config,
        request: &Request<'_>,
        response: &ServerResponse<'_>,
    ) -> Result<(Self, h::Response<()>), BuildError> {
        #[allow(unused_mut)]
        let mut conn = Connection::upgraded_server(config);
        #[cfg(feature = "deflate")]
        {
            let negotiated = conn.negotiate_deflate(request, response)?;
            let extensions = response
                .extensions
                .iter()
                .copied()
                .chain(negotiated.as_ref().map(|(_, element)| element.as_str()))
                .collect::<alloc::vec::Vec<&str>>();
            let reply = request.http_response(&ServerResponse {
                extensions: &extensions,
                ..*response
            })?;
            if let Some((params, _)) = negotiated {
                conn.install_deflate(params);
            }
            Ok((conn, reply))
        }
        #[cfg(not(feature = "deflate"))]
        Ok((conn, request.http_response(response)?))
    }
}
