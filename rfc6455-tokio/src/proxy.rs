//! HTTP `CONNECT` proxies: [`Proxy`], [`connect_via`], and the `NO_PROXY` rules of
//! [`Proxy::from_env`].
//!
//! The client connects TCP to the proxy, asks it for a tunnel to the target's host and
//! port (`CONNECT host:port`, with `Proxy-Authorization: Basic` when the proxy has
//! credentials), and once the proxy answers 2xx runs the TLS handshake (for `wss://`, SNI
//! and certificate check against the target's host) and the WebSocket handshake through
//! the tunnel. The request and the parsing of the answer are the codec's
//! ([`rfc6455::handshake::ConnectRequest`], [`rfc6455::handshake::ConnectHandshake`]).
//!
//! [`connect`](crate::connect) never uses a proxy by itself: the environment is read only
//! when asked, with [`Proxy::from_env`].

use std::fmt;
use std::io;
use std::net::IpAddr;

use rfc6455::connection::Accepted;
use rfc6455::handshake::{
    ClientRequest, ConnectHandshake, ConnectRequest, Limits, Status, UrlError, parse_ws_url,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::handshake::with_timeout;
use crate::maybe_tls::{TlsConfig, open};
use crate::{Error, MaybeTlsStream, Options, WebSocketStream, connect_request};

/// An HTTP proxy that tunnels with `CONNECT`: its host and port, and optional Basic
/// credentials. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// The proxy at `host` (a DNS name or an IP address, IPv6 without brackets) and
    /// `port`, without credentials.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Proxy {
            host: host.into(),
            port,
            credentials: None,
        }
    }

    /// Sends `Proxy-Authorization: Basic` with `user` and `password`.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// The proxy's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user of the credentials, if any.
    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// A proxy from a URL `http://[user:password@]host[:port][/]`: the port defaults to
    /// 80; user and password are percent-decoded (`%40` for `@`). A URL without a scheme
    /// (`proxy.example:3128`) is taken as `http://`, as curl does.
    ///
    /// ```
    /// use rfc6455_tokio::Proxy;
    ///
    /// let proxy = Proxy::from_url("http://me:s%40cret@proxy.example:3128").unwrap();
    /// assert_eq!((proxy.host(), proxy.port(), proxy.user()), ("proxy.example", 3128, Some("me")));
    /// assert_eq!(Proxy::from_url("[::1]").unwrap(), Proxy::new("::1", 80));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ProxyUrl`]: [`UrlError::Scheme`] for a scheme other than `http` (an
    /// `https://` proxy, which needs TLS to the proxy, or `socks5://`),
    /// [`UrlError::UserInfo`] for bad percent-encoding or a user or password that is not
    /// UTF-8, [`UrlError::Host`], [`UrlError::Port`], [`UrlError::Resource`] for a path.
    pub fn from_url(url: &str) -> Result<Proxy, Error> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(Error::ProxyUrl(UrlError::Scheme)),
            None => url,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(Error::ProxyUrl(UrlError::Resource));
        }
        let (userinfo, authority) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        // The host and port rules are those of a ws:// URL's authority.
        let parsed = format!("ws://{authority}");
        let parsed = parse_ws_url(&parsed).map_err(Error::ProxyUrl)?;
        let mut proxy = Proxy::new(parsed.host, parsed.port);
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |s: &str| percent_decode(s).ok_or(Error::ProxyUrl(UrlError::UserInfo));
            proxy = proxy.credentials(decode(user)?, decode(password)?);
        }
        Ok(proxy)
    }

    /// The proxy the environment names for `target_url`, as curl and most HTTP clients
    /// read it: for `wss://` `https_proxy`, `HTTPS_PROXY`, then `all_proxy`, `ALL_PROXY`;
    /// for `ws://` `http_proxy`, `HTTP_PROXY`, then the same `ALL_PROXY` pair (the first
    /// one set and not empty wins). `None` when none is set, or when `no_proxy` /
    /// `NO_PROXY` matches the target (see [`no_proxy_matches`]).
    ///
    /// `HTTP_PROXY` in capitals is ignored when `REQUEST_METHOD` is set: in a CGI program
    /// it comes from the request's `Proxy:` header ("httpoxy").
    ///
    /// ```no_run
    /// use rfc6455_tokio::{Options, Proxy, connect_via};
    ///
    /// # async fn run() -> Result<(), rfc6455_tokio::Error> {
    /// let url = "wss://example.com/chat";
    /// let proxy = Proxy::from_env(url)?;
    /// let (ws, _) = connect_via(url, proxy.as_ref(), Options::new()).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Url`] for a bad target URL, [`Error::ProxyUrl`] for a variable that is
    /// not a proxy URL [`from_url`](Self::from_url) takes (e.g. `socks5://` in
    /// `ALL_PROXY`).
    pub fn from_env(target_url: &str) -> Result<Option<Proxy>, Error> {
        Proxy::from_env_with(target_url, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read by `var` (a test's values, a
    /// configuration file's).
    ///
    /// ```
    /// use rfc6455_tokio::Proxy;
    ///
    /// let vars = |name: &str| match name {
    ///     "https_proxy" => Some("http://proxy.corp:3128".to_owned()),
    ///     "no_proxy" => Some("localhost,.internal".to_owned()),
    ///     _ => None,
    /// };
    /// let proxy = Proxy::from_env_with("wss://example.com/", vars).unwrap();
    /// assert_eq!(proxy, Some(Proxy::new("proxy.corp", 3128)));
    /// assert_eq!(Proxy::from_env_with("wss://db.internal/", vars).unwrap(), None);
    /// assert_eq!(Proxy::from_env_with("ws://example.com/", vars).unwrap(), None);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with(
        target_url: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, Error> {
        let target = parse_ws_url(target_url)?;
        let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let cgi = set("REQUEST_METHOD").is_some();
        let names: &[&str] = match (target.secure, cgi) {
            (true, _) => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
            (false, false) => &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
            (false, true) => &["http_proxy", "all_proxy", "ALL_PROXY"],
        };
        let Some(value) = names.iter().find_map(|name| set(name)) else {
            return Ok(None);
        };
        let no_proxy = set("no_proxy")
            .or_else(|| set("NO_PROXY"))
            .unwrap_or_default();
        if no_proxy_matches(&no_proxy, target.host, target.port) {
            return Ok(None);
        }
        Proxy::from_url(value.trim()).map(Some)
    }

    /// Connects to the proxy and opens a tunnel to `host:port` (IPv6 without brackets):
    /// the TCP stream to the proxy (no delay), positioned after the proxy's answer, ready
    /// for the target's protocol. For a connection of your own over the tunnel (your own
    /// TLS, then [`connect_with`](crate::connect_with)). No timeout of its own.
    ///
    /// Bytes the target sent right after the answer are not lost: the answer is read by
    /// peeking, so only its own bytes are taken from the socket.
    ///
    /// # Errors
    ///
    /// [`Error::Proxy`] with [`ProxyError::Refused`](rfc6455::handshake::ProxyError)
    /// `{ status }` for a non-2xx answer (407: credentials missing or wrong), or a
    /// malformed or too large one; [`Error::Io`] when the proxy cannot be reached, or of
    /// kind [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) when it closes the
    /// connection before its answer is complete; [`Error::Build`] for a host or
    /// credentials that cannot be sent.
    pub async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, Error> {
        self.tunnel_with(host, port, Limits::default()).await
    }

    pub(crate) async fn tunnel_with(
        &self,
        host: &str,
        port: u16,
        limits: Limits,
    ) -> Result<TcpStream, Error> {
        let mut request = ConnectRequest::new(host, port);
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, password);
        }
        let request = request.encode_to_vec()?;
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        tcp.write_all(&request).await?;
        read_answer(&mut tcp, limits).await?;
        Ok(tcp)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user())
            .finish_non_exhaustive()
    }
}

/// Reads the proxy's answer to `CONNECT` and nothing after it. Each round peeks at what
/// has arrived: while the head is incomplete, all of it is head and is taken; once it is
/// complete, only the rest of the head is taken and the tunnel's bytes stay in the socket.
async fn read_answer(tcp: &mut TcpStream, limits: Limits) -> Result<(), Error> {
    let mut parser = ConnectHandshake::new(limits);
    // The parser fails once the bytes reach the limit, so there is always room to peek.
    let mut buf = vec![0u8; limits.max_head_bytes.max(1)];
    let mut have = 0;
    loop {
        let n = tcp.peek(&mut buf[have..]).await?;
        if n == 0 {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before its answer to CONNECT was complete",
            )));
        }
        match parser.parse(&buf[..have + n]) {
            Ok(Status::Partial) => {
                tcp.read_exact(&mut buf[have..have + n]).await?;
                have += n;
            }
            Ok(Status::Complete { consumed, .. }) => {
                tcp.read_exact(&mut buf[have..consumed]).await?;
                return Ok(());
            }
            Err(e) => return Err(Error::Proxy(e)),
        }
    }
}

/// Whether a `NO_PROXY` list exempts `host:port` from the proxy: a comma-separated list
/// (spaces around entries allowed, case-insensitive) where
///
/// - `*` matches every host;
/// - a domain (`example.com`, `.example.com`, `*.example.com`) matches it and every
///   host under it (`ws.example.com`), but not `badexample.com`;
/// - an IP address (`127.0.0.1`, `::1`, `[::1]`) matches that address as the URL's
///   host (no DNS lookups: a name is not matched against an address entry);
/// - a network in CIDR form (`10.0.0.0/8`, `fd00::/8`) matches the addresses in it;
/// - an entry with a port (`example.com:8443`, `[::1]:9001`) matches that port only.
///
/// ```
/// use rfc6455_tokio::proxy::no_proxy_matches;
///
/// let list = "localhost, .internal, 10.0.0.0/8, example.org:8443";
/// assert!(no_proxy_matches(list, "db.internal", 443));
/// assert!(no_proxy_matches(list, "10.1.2.3", 80));
/// assert!(no_proxy_matches(list, "example.org", 8443));
/// assert!(!no_proxy_matches(list, "example.org", 443));
/// assert!(!no_proxy_matches(list, "notinternal", 80));
/// ```
pub fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    let host_ip = host.parse::<IpAddr>().ok();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry == "*" || entry_matches(entry, host, host_ip, port))
}

fn entry_matches(entry: &str, host: &str, host_ip: Option<IpAddr>, port: u16) -> bool {
    let (name, entry_port) = split_port(entry);
    if let Some(p) = entry_port {
        if p.parse::<u16>().ok() != Some(port) {
            return false;
        }
    }
    if let Some((network, bits)) = name.split_once('/') {
        return match (network.parse::<IpAddr>(), bits.parse::<u8>(), host_ip) {
            (Ok(network), Ok(bits), Some(ip)) => in_network(ip, network, bits),
            _ => false,
        };
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return host_ip == Some(ip);
    }
    let domain = name.trim_start_matches("*.").trim_start_matches('.');
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return false;
    }
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain))
}

/// An entry's name and port: `[v6]:port`, `name:port`; a bare IPv6 address (more than one
/// `:`) has no port.
fn split_port(entry: &str) -> (&str, Option<&str>) {
    if let Some(inner) = entry.strip_prefix('[') {
        return match inner.split_once(']') {
            Some((address, rest)) => (address, rest.strip_prefix(':')),
            None => (entry, None),
        };
    }
    match entry.split_once(':') {
        Some((name, port)) if !port.contains(':') => (name, Some(port)),
        _ => (entry, None),
    }
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// `%XX` decoding of a URL's user or password; `None` for a bad escape or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Open a WebSocket to a `ws://` or `wss://` URL through `proxy` (`None`: directly, as
/// [`connect`](crate::connect) but with `options`): TCP to the proxy, `CONNECT` to the
/// URL's host and port, for `wss://` the TLS handshake with the target inside the tunnel
/// (SNI and certificate for the URL's host, webpki-roots' CAs), then the WebSocket
/// handshake. The handshake timeout covers the proxy's connection and answer and the TLS
/// handshake, and then again the WebSocket handshake, as for `connect`.
///
/// With [`Proxy::from_env`], one line honours `HTTPS_PROXY` and `NO_PROXY`:
///
/// ```no_run
/// use rfc6455_tokio::{Options, Proxy, connect_via};
///
/// # async fn run() -> Result<(), rfc6455_tokio::Error> {
/// let url = "ws://example.com:9001/";
/// let proxy = Proxy::new("127.0.0.1", 3128).credentials("me", "secret");
/// let (ws, _) = connect_via(url, Some(&proxy), Options::new()).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// Those of `connect`, and those of [`Proxy::tunnel`] ([`Error::Proxy`] for a refusal,
/// with [`Error::http_status`] the proxy's status).
pub async fn connect_via(
    url: &str,
    proxy: Option<&Proxy>,
    options: Options,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Accepted), Error> {
    connect_via_tls(url, proxy, options, TlsConfig::default()).await
}

/// [`connect_via`] with a TLS config (`None`: the default one).
pub(crate) async fn connect_via_tls(
    url: &str,
    proxy: Option<&Proxy>,
    options: Options,
    tls: TlsConfig,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Accepted), Error> {
    let parsed = parse_ws_url(url)?;
    let limits = options.config.handshake_limits;
    let stream = with_timeout(options.handshake_timeout, open(&parsed, proxy, limits, tls)).await?;
    let request = ClientRequest::new(parsed.authority, parsed.resource);
    connect_request(stream, &request, options).await
}
