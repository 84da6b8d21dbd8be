//! Conversions to and from the `http` crate's types, so servers and clients that already
//! speak HTTP (hyper, axum, ...) can use this crate's validation and accept computation.

use ::http as h;
use h::header::{HeaderMap, HeaderName, HeaderValue};

use super::accept::ClientKey;
use super::client::{ClientHandshake, ClientRequest, Response};
use super::error::{BuildError, HandshakeError};
use h::header::{
    CONNECTION, HOST, ORIGIN, SEC_WEBSOCKET_ACCEPT as SEC_ACCEPT,
    SEC_WEBSOCKET_EXTENSIONS as SEC_EXTENSIONS, SEC_WEBSOCKET_KEY as SEC_KEY,
    SEC_WEBSOCKET_PROTOCOL as SEC_PROTOCOL, SEC_WEBSOCKET_VERSION as SEC_VERSION, UPGRADE,
};

use super::headers::HeaderSource;
use super::server::{Request, ServerResponse, validate_request};
use super::write::check_extra_headers;

fn insert(
    map: &mut HeaderMap,
    name: HeaderName,
    value: &str,
    err: BuildError,
) -> Result<(), BuildError> {
    let value = HeaderValue::from_str(value).map_err(|_| err)?;
    map.append(name, value);
    Ok(())
}

fn extras(map: &mut HeaderMap, extra: &[(&str, &str)]) -> Result<(), BuildError> {
    for (index, (name, value)) in extra.iter().enumerate() {
        let err = BuildError::InvalidHeader { index };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| err)?;
        let value = HeaderValue::from_str(value).map_err(|_| err)?;
        map.append(name, value);
    }
    Ok(())
}

fn joined(items: &[&str]) -> alloc::string::String {
    items.join(", ")
}

/// `Upgrade: websocket` and `Connection: Upgrade`, in both directions.
fn upgrade_fields(map: &mut HeaderMap) -> Result<(), BuildError> {
    insert(
        map,
        UPGRADE,
        "websocket",
        BuildError::InvalidField { field: "upgrade" },
    )?;
    let connection = BuildError::InvalidField {
        field: "connection",
    };
    insert(map, CONNECTION, "Upgrade", connection)
}

/// The headers both directions carry: the subprotocols (offered, or the one selected), the
/// extensions, and the caller's own fields.
fn negotiation(
    map: &mut HeaderMap,
    protocols: &[&str],
    extensions: &[&str],
    extra: &[(&str, &str)],
) -> Result<(), BuildError> {
    let lists = [
        (
            SEC_PROTOCOL,
            protocols,
            BuildError::InvalidProtocol { index: 0 },
        ),
        (
            SEC_EXTENSIONS,
            extensions,
            BuildError::InvalidExtension { index: 0 },
        ),
    ];
    for (name, items, err) in lists {
        if !items.is_empty() {
            insert(map, name, &joined(items), err)?;
        }
    }
    extras(map, extra)
}

impl<'b> Request<'b> {
    /// Validates a request another HTTP implementation already parsed, exactly as
    /// [`ServerHandshake::parse`](super::ServerHandshake::parse) validates bytes.
    ///
    /// ```
    /// use rfc6455::handshake::Request;
    ///
    /// let req = http::Request::get("/chat")
    ///     .header("Host", "server.example.com")
    ///     .header("Upgrade", "websocket")
    ///     .header("Connection", "keep-alive, Upgrade")
    ///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("Sec-WebSocket-Version", "13")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_http(&req).unwrap();
    /// let response = request.http_response(&Default::default()).unwrap();
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
    ///
    /// # Errors
    ///
    /// The [`HandshakeError`] describing the first rule broken.
    pub fn from_http<B>(req: &'b h::Request<B>) -> Result<Self, HandshakeError> {
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        validate_request(
            req.method().as_str(),
            req.version() >= h::Version::HTTP_11,
            target,
            req.headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
            HeaderSource::Http(req.headers()),
        )
    }

    /// This request as an `http::Request` (headers copied, empty body).
    ///
    /// # Errors
    ///
    /// An `http::Error` if the `http` crate refuses the target or a header that
    /// `httparse` accepted.
    pub fn to_http(&self) -> Result<h::Request<()>, h::Error> {
        let mut builder = h::Request::get(self.target()).version(h::Version::HTTP_11);
        for (name, value) in self.headers() {
            builder = builder.header(name, value);
        }
        builder.body(())
    }

    /// The `101 Switching Protocols` response accepting this request, as an
    /// `http::Response`.
    ///
    /// # Errors
    ///
    /// As [`Request::write_response`], without `BufferTooSmall`.
    pub fn http_response(
        &self,
        response: &ServerResponse<'_>,
    ) -> Result<h::Response<()>, BuildError> {
        // `check_offered` leaves a subprotocol that is a token (one of the offers, all
        // checked when the request was parsed) and valid extensions.
        self.check_offered(response)?;
        check_extra_headers(response.extra_headers)?;
        let accept = self.accept_key();
        let mut map = HeaderMap::new();
        upgrade_fields(&mut map)?;
        insert(
            &mut map,
            SEC_ACCEPT,
            accept.as_str(),
            BuildError::InvalidField { field: "accept" },
        )?;
        negotiation(
            &mut map,
            response.protocol.as_slice(),
            response.extensions,
            response.extra_headers,
        )?;
        let mut out = h::Response::new(());
        *out.status_mut() = h::StatusCode::SWITCHING_PROTOCOLS;
        *out.version_mut() = h::Version::HTTP_11;
        *out.headers_mut() = map;
        Ok(out)
    }
}

impl HandshakeError {
    /// The rejection for this error (status from [`http_status`](Self::http_status);
    /// 426 carries `Sec-WebSocket-Version: 13`) as an `http::Response`.
    pub fn to_http_response(&self) -> h::Response<()> {
        let mut out = h::Response::new(());
        let status =
            h::StatusCode::from_u16(self.http_status()).unwrap_or(h::StatusCode::BAD_REQUEST);
        *out.status_mut() = status;
        let headers = out.headers_mut();
        if status == h::StatusCode::UPGRADE_REQUIRED {
            headers.insert(
                h::header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            headers.insert(h::header::UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(
                h::header::CONNECTION,
                HeaderValue::from_static("Upgrade, close"),
            );
        } else {
            headers.insert(h::header::CONNECTION, HeaderValue::from_static("close"));
        }
        headers.insert(h::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        out
    }
}

impl ClientRequest<'_> {
    /// This request with `key` as an `http::Request` (empty body).
    ///
    /// # Errors
    ///
    /// As [`ClientRequest::encode`], without `BufferTooSmall`.
    pub fn to_http(&self, key: &ClientKey) -> Result<h::Request<()>, BuildError> {
        // Validate exactly as `encode` does; the length is all that is computed.
        match self.encode(key, &mut []) {
            Ok(_) | Err(BuildError::BufferTooSmall { .. }) => {}
            Err(e) => return Err(e),
        }
        let target_err = BuildError::InvalidField { field: "target" };
        let uri: h::Uri = if self.target.is_empty() || self.target.starts_with('?') {
            let mut t = alloc::string::String::from("/");
            t.push_str(self.target);
            t.parse().map_err(|_| target_err)?
        } else {
            self.target.parse().map_err(|_| target_err)?
        };
        let mut map = HeaderMap::new();
        insert(
            &mut map,
            HOST,
            self.host,
            BuildError::InvalidField { field: "host" },
        )?;
        upgrade_fields(&mut map)?;
        insert(
            &mut map,
            SEC_KEY,
            key.as_str(),
            BuildError::InvalidField { field: "key" },
        )?;
        insert(
            &mut map,
            SEC_VERSION,
            "13",
            BuildError::InvalidField { field: "version" },
        )?;
        if let Some(origin) = self.origin {
            insert(
                &mut map,
                ORIGIN,
                origin,
                BuildError::InvalidField { field: "origin" },
            )?;
        }
        negotiation(
            &mut map,
            self.protocols,
            self.extensions,
            self.extra_headers,
        )?;
        let mut out = h::Request::new(());
        *out.uri_mut() = uri;
        *out.version_mut() = h::Version::HTTP_11;
        *out.headers_mut() = map;
        Ok(out)
    }
}

impl ClientHandshake<'_> {
    /// Validates a response another HTTP implementation already parsed, exactly as
    /// [`parse_response`](Self::parse_response) validates bytes.
    ///
    /// # Errors
    ///
    /// The [`HandshakeError`] describing the first rule broken.
    pub fn check_http_response<'b, B>(
        &self,
        resp: &'b h::Response<B>,
    ) -> Result<Response<'b>, HandshakeError> {
        self.validate(
            resp.status().as_u16(),
            resp.version() >= h::Version::HTTP_11,
            resp.headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
            HeaderSource::Http(resp.headers()),
        )
    }
}
