//! The `connection_opening` target's driver, here so that a test can run it over the seed
//! corpus and count what it reaches.
//!
//! Input: byte 0 flags (bit 0: server; bit 1: the server accepts, else rejects; bit 2:
//! poll with `poll_event_ref`), then pieces, each a length byte and that many bytes,
//! fed in turn. For a client, every [`ACCEPT_MARKER`] in the bytes (the pieces joined) is
//! replaced by the `Sec-WebSocket-Accept` value for the key the client actually wrote,
//! computed here with SHA-1 and base64 ([`rfc::accept_for`]), so that a fuzzed response
//! can pass the check no fuzzer could pass by mutation; a piece boundary inside a marker
//! falls in the middle of the value.
//!
//! Checks: no panic; the state only moves forward; a server reports `Event::Request(_)` at
//! most once and only with a request `request()` can show; an accepted server or a client
//! that saw `Event::Accepted` is `Open`; a client only opens on a response that RFC 6455
//! section 4.1 lets it accept (read here with `httparse`: status 101, `Upgrade:
//! websocket`, a `Connection` token `Upgrade`, the accept value for its key, no extension
//! and at most the offered subprotocol); a server's 101 carries the accept value for the
//! key of the request; a failed handshake leaves the connection `Closed`, with later polls
//! returning `Ok(None)`; a server that rejects or fails has written an HTTP status line
//! and nothing after it; and once open, the events from the bytes after the head are the
//! reference model's for those bytes, and everything written after the head decodes into
//! valid frames.

use rfc6455::Role;
use rfc6455::connection::{Config, Connection, Event, EventRef, ProtocolError, State};
use rfc6455::handshake::{ClientRequest, ServerResponse};

use crate::{Ev, Fail, Input, Rec, agrees, decode_output, rank, reference, rfc};

/// Where a client's fuzzed response gets the accept value for the key the client wrote.
pub const ACCEPT_MARKER: &[u8] = b"%ACCEPT%";

/// What one run reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// The client reported `Event::Accepted`.
    pub accepted: bool,
    /// The server reported `Event::Request(_)` (and accepted or rejected it).
    pub request: bool,
    /// Events reported after the connection opened.
    pub events_after_open: usize,
    /// Bytes after the head that an open connection was fed.
    pub bytes_after_head: usize,
    /// The handshake failed.
    pub failed: bool,
}

/// What one poll reported, reduced to what this target checks.
#[derive(Debug, PartialEq)]
enum Seen {
    Request,
    Accepted,
    Open(Rec),
}

fn poll(conn: &mut Connection, by_ref: bool) -> Result<Option<Seen>, ProtocolError> {
    if by_ref {
        Ok(conn.poll_event_ref()?.map(|e| match e {
            EventRef::Request(_) => Seen::Request,
            EventRef::Accepted(_) => Seen::Accepted,
            e => Seen::Open(Rec::from_ref(e)),
        }))
    } else {
        Ok(conn.poll_event()?.map(|e| match e {
            Event::Request(_) => Seen::Request,
            Event::Accepted(_) => Seen::Accepted,
            e => Seen::Open(Rec::from_owned(e)),
        }))
    }
}

/// `stream` with each [`ACCEPT_MARKER`] replaced by `accept`, and where each position of
/// `stream` went (one more entry than `stream` has bytes, for its end).
fn splice(stream: &[u8], accept: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(stream.len());
    let mut map = Vec::with_capacity(stream.len() + 1);
    let mut i = 0;
    while i < stream.len() {
        if stream[i..].starts_with(ACCEPT_MARKER) {
            let at = out.len();
            out.extend_from_slice(accept);
            map.push(at);
            map.extend((1..ACCEPT_MARKER.len()).map(|_| at + accept.len() / 2));
            i += ACCEPT_MARKER.len();
        } else {
            map.push(out.len());
            out.push(stream[i]);
            i += 1;
        }
    }
    map.push(out.len());
    (out, map)
}

/// A header's value, if it appears exactly once (names are case-insensitive).
fn single<'h>(headers: &[httparse::Header<'h>], name: &str) -> Result<Option<&'h [u8]>, ()> {
    let mut found = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(h), None) => Ok(Some(h.value.trim_ascii())),
        (Some(_), Some(_)) => Err(()),
    }
}

/// RFC 6455 section 4.1, the client's checks of the server's response, on a head that
/// `httparse` parsed: `Ok` if a client that sent `key` and offered the subprotocol
/// `chat` and no extension may accept it, `Err` with the rule it breaks.
fn client_may_accept(response: &httparse::Response<'_, '_>, key: &[u8]) -> Result<(), String> {
    if response.code != Some(101) {
        return Err(format!("status {:?}", response.code));
    }
    let h = &*response.headers;
    // "If the response lacks an |Upgrade| header field or the |Upgrade| header field
    // contains a value that is not an ASCII case-insensitive match for the value
    // "websocket", the client MUST _Fail the WebSocket Connection_": every value, in every
    // Upgrade field (RFC 7230 section 3.2.2 joins repeated fields into one list).
    let values = |name: &'static str| {
        h.iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
            .flat_map(|f| f.value.split(|&b| b == b','))
            .map(|t| t.trim_ascii())
            // RFC 7230 section 7: a recipient accepts (and ignores) empty list elements.
            .filter(|t| !t.is_empty())
    };
    let websocket = |v: &[u8]| v.eq_ignore_ascii_case(b"websocket");
    let upgrade_ok = values("upgrade").next().is_some() && values("upgrade").all(websocket);
    if !upgrade_ok {
        let upgrade: Vec<_> = values("upgrade").collect();
        return Err(format!("Upgrade {upgrade:?}"));
    }
    // "... lacks a |Connection| header field or the |Connection| header field doesn't
    // contain a token that is an ASCII case-insensitive match for the value "Upgrade"".
    let has_upgrade_token = values("connection").any(|t| t.eq_ignore_ascii_case(b"upgrade"));
    if !has_upgrade_token {
        return Err("no Connection token Upgrade".into());
    }
    let accept = single(h, "sec-websocket-accept").map_err(|()| "two accept fields")?;
    if accept != Some(rfc::accept_for(key).as_bytes()) {
        return Err(format!("accept {accept:?}"));
    }
    if h.iter()
        .any(|f| f.name.eq_ignore_ascii_case("sec-websocket-extensions"))
    {
        return Err("an extension the client did not offer".into());
    }
    match single(h, "sec-websocket-protocol") {
        Ok(None) => Ok(()),
        Ok(Some(b"chat")) => Ok(()),
        other => Err(format!("subprotocol {other:?}")),
    }
}

/// Run one input; panics when a check fails.
pub fn run(data: &[u8]) -> Reached {
    let mut input = Input(data);
    let Some(flags) = input.byte() else {
        return Reached::default();
    };
    let server = flags & 1 != 0;
    let accept = flags & 2 != 0;
    let by_ref = flags & 4 != 0;
    let role = if server { Role::Server } else { Role::Client };
    let cfg = Config::default();
    let request = ClientRequest {
        protocols: &["chat"],
        ..ClientRequest::new("example.com", "/")
    };
    let mut conn = if server {
        Connection::server(cfg)
    } else {
        Connection::client(cfg, [7; 32], &request).expect("valid request")
    };
    let mut written: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
    conn.advance_output(written.len());

    // The pieces, joined, with the accept value spliced in for a client.
    let mut pieces = Vec::new();
    while let Some(piece) = input.blob() {
        pieces.push(piece);
    }
    let joined = pieces.concat();
    let mut key = Vec::new();
    let (stream, map) = if server {
        (joined.clone(), (0..=joined.len()).collect())
    } else {
        key = rfc::request_key(&written)
            .expect("the client wrote one Sec-WebSocket-Key")
            .to_vec();
        // Section 4.1: the key is a base64-encoded 16-byte nonce.
        use base64::Engine as _;
        let nonce = base64::engine::general_purpose::STANDARD.decode(&key);
        assert_eq!(nonce.map(|n| n.len()), Ok(16), "key {key:?}");
        splice(&joined, rfc::accept_for(&key).as_bytes())
    };

    let mut reached = Reached::default();
    let mut state = conn.state();
    let mut requests = 0;
    let mut opened = false;
    let mut events = Vec::new();
    let mut fed = 0;
    let mut original = 0;
    for piece in &pieces {
        original += piece.len();
        let end = map[original];
        conn.receive(&stream[fed..end]);
        fed = end;
        loop {
            match poll(&mut conn, by_ref) {
                Ok(None) => break,
                Ok(Some(seen)) => {
                    assert!(!reached.failed, "an event after an error");
                    match seen {
                        Seen::Request => {
                            assert!(server);
                            assert!(!opened);
                            requests += 1;
                            assert_eq!(requests, 1, "the request is reported once");
                            assert!(conn.request().is_some());
                            reached.request = true;
                            if accept {
                                let chosen = conn.request().and_then(|r| r.protocols().next());
                                let chosen = chosen.map(str::to_owned);
                                conn.accept(&ServerResponse {
                                    protocol: chosen.as_deref(),
                                    ..ServerResponse::default()
                                })
                                .expect("an offered protocol is accepted");
                                assert_eq!(conn.state(), State::Open);
                                opened = true;
                            } else {
                                conn.reject(403, "Forbidden").expect("reject");
                                assert_eq!(conn.state(), State::Closed);
                            }
                        }
                        Seen::Accepted => {
                            assert!(!server);
                            assert!(!opened, "accepted twice");
                            assert_eq!(conn.state(), State::Open);
                            reached.accepted = true;
                            opened = true;
                        }
                        Seen::Open(rec) => {
                            assert!(opened, "a frame event before the connection opened");
                            assert_ne!(conn.state(), State::Connecting);
                            reached.events_after_open += 1;
                            events.push(match rec {
                                Rec::Message(kind, data) => Ev::Message(kind, data),
                                Rec::Ping(p) => Ev::Ping(p),
                                Rec::Pong(p) => Ev::Pong(p),
                                Rec::Closed(code, reason) => Ev::Closed(code, reason),
                                Rec::Chunk { .. } => panic!("a chunk in messages mode"),
                            });
                        }
                    }
                }
                Err(e) => {
                    assert_eq!(conn.state(), State::Closed);
                    if opened {
                        events.push(Ev::Error(Fail::from(e)));
                    } else {
                        reached.failed = true;
                    }
                    break;
                }
            }
        }
        let now = conn.state();
        assert!(
            rank(now) >= rank(state),
            "state went back from {state:?} to {now:?}"
        );
        state = now;
        let out: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
        conn.advance_output(out.len());
        written.extend_from_slice(&out);
    }
    if reached.failed || state == State::Closed {
        assert_eq!(poll(&mut conn, by_ref), Ok(None));
    }
    if server && !opened && !written.is_empty() {
        // Only a rejection can have been written when no request was accepted.
        assert!(
            written.starts_with(b"HTTP/1.1 4"),
            "{:?}",
            String::from_utf8_lossy(&written)
        );
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let status = httparse::Response::new(&mut headers).parse(&written);
        assert_eq!(
            status.ok(),
            Some(httparse::Status::Complete(written.len())),
            "nothing after the rejection"
        );
    }
    if !opened {
        return reached;
    }

    // The head the open connection consumed, as httparse reads it from what was fed.
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let head_len = if server {
        let mut req = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = req.parse(&stream[..fed]) else {
            panic!("the server accepted a head httparse cannot read")
        };
        let key = rfc::request_key(&stream[..n]).expect("one Sec-WebSocket-Key");
        let accept = rfc::accept_for(key);
        let mut reply_headers = [httparse::EMPTY_HEADER; 16];
        let mut reply = httparse::Response::new(&mut reply_headers);
        let Ok(httparse::Status::Complete(m)) = reply.parse(&written) else {
            panic!("the server's 101 is not a complete HTTP head")
        };
        assert_eq!(reply.code, Some(101));
        assert_eq!(
            single(&*reply.headers, "sec-websocket-accept"),
            Ok(Some(accept.as_bytes())),
            "the server's accept value"
        );
        written.drain(..m);
        n
    } else {
        let mut res = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = res.parse(&stream[..fed]) else {
            panic!("the client accepted a head httparse cannot read")
        };
        if let Err(rule) = client_may_accept(&res, &key) {
            panic!("the client accepted a response it must refuse: {rule}");
        }
        let request_end = written
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("the request head ends")
            + 4;
        written.drain(..request_end);
        n
    };
    let after = &stream[head_len..fed];
    reached.bytes_after_head = after.len();
    let want = reference(role, &cfg, after, false);
    assert!(
        agrees(&events, &want),
        "events after the head differ from the reference model:\n got {events:?}\nwant {want:?}"
    );
    decode_output(role, &written);
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_maps_positions() {
        let (out, map) = splice(b"a%ACCEPT%b", b"0123");
        assert_eq!(out, b"a0123b");
        assert_eq!(map, [0, 1, 3, 3, 3, 3, 3, 3, 3, 5, 6]);
    }

    /// Every seed runs clean, and the seeds reach what the target is named for: a client
    /// and a server that open, and frames after the head on both.
    #[test]
    fn seeds_reach_the_open_connection() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/connection_opening");
        let mut total = Reached::default();
        let mut accepted = 0;
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with("finding-") {
                // A failure to fix in the crate: it still fails (rename the seed once fixed).
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_err(), "{name} passes");
                continue;
            }
            let r = run(&data);
            println!("{}: {r:?}", path.display());
            count += 1;
            accepted += usize::from(r.accepted);
            total.request |= r.request;
            total.events_after_open += r.events_after_open;
        }
        println!("{accepted} of {count} seeds reach Accepted");
        if let Some(dir) = std::env::var_os("OPENING_CORPUS") {
            // A campaign's corpus: how many of its inputs open a client, a server.
            let (mut n, mut clients, mut servers, mut after) = (0, 0, 0, 0);
            for entry in std::fs::read_dir(dir).unwrap() {
                let r = run(&std::fs::read(entry.unwrap().path()).unwrap());
                n += 1;
                clients += usize::from(r.accepted);
                servers += usize::from(r.request && r.bytes_after_head > 0);
                after += usize::from(r.events_after_open > 0);
            }
            println!(
                "OPENING_CORPUS: {n} inputs, {clients} reach Accepted, {servers} servers fed \
                 bytes after the head, {after} report events once open"
            );
        }
        assert!(accepted >= 2, "{accepted} seeds reach Accepted");
        assert!(total.request);
        assert!(total.events_after_open >= 4);
    }
}
