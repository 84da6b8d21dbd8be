// The checks the handshake fuzz targets run, shared with this test so they are exercised
// by `cargo test` too. `fuzz/fuzz_targets/handshake_{request,response}.rs` include this
// file (its `#[cfg(test)]` part drops out there).
//
// For any input: no panic; parsing it whole and parsing it fed in pieces (one byte at a
// time, and in input-derived chunks) agree; a complete head's header fields read back
// exactly as `httparse` parsed them; and what was accepted can be answered. (That every
// byte is scanned once is checked inside the crate, where the bytes are read:
// `src/handshake/work.rs`, on generated inputs of the same kind.)

use rfc6455::handshake::{
    ClientHandshake, ClientKey, ClientRequest, HandshakeError, Limits, ServerHandshake,
    ServerResponse, Status,
};

/// A comparable digest of one parse result.
#[derive(Debug, PartialEq, Eq)]
#[allow(dead_code)]
enum Outcome {
    Partial,
    Complete {
        consumed: usize,
        fields: Vec<String>,
        headers: Vec<(String, Vec<u8>)>,
    },
    Error(HandshakeError),
}

/// Limits small enough for the fuzzer to hit them, chosen by the input's last byte (odd:
/// small limits, even: the defaults).
#[allow(dead_code)]
fn fuzz_limits(data: &[u8]) -> Limits {
    match data.last() {
        Some(&b) if b & 1 == 1 => Limits {
            max_headers: usize::from(b >> 4),
            max_head_bytes: 64 + usize::from(b) * 4,
        },
        _ => Limits::default(),
    }
}

/// Chunk boundaries derived from the input: a small generator seeded by its bytes.
#[allow(dead_code)]
fn chunk_ends(data: &[u8]) -> Vec<usize> {
    let mut seed = data
        .iter()
        .fold(0x9e37_79b9_u32, |h, &b| h.rotate_left(5) ^ u32::from(b));
    let mut ends = Vec::new();
    let mut at = 0;
    while at < data.len() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        at = (at + 1 + (seed >> 27) as usize).min(data.len());
        ends.push(at);
    }
    ends
}

/// The header fields `httparse` reads from a complete head, values trimmed as ours are.
#[allow(dead_code)]
fn httparse_fields(head: &[u8], request: bool) -> Vec<(String, Vec<u8>)> {
    let mut storage = [httparse::EMPTY_HEADER; 128];
    let headers: &[httparse::Header<'_>] = if request {
        let mut req = httparse::Request::new(&mut storage);
        assert!(matches!(req.parse(head), Ok(httparse::Status::Complete(_))));
        req.headers
    } else {
        let mut resp = httparse::Response::new(&mut storage);
        assert!(matches!(
            resp.parse(head),
            Ok(httparse::Status::Complete(_))
        ));
        resp.headers
    };
    headers
        .iter()
        .map(|h| {
            let v = h.value;
            let start = v
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t'))
                .unwrap_or(v.len());
            let end = v
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t'))
                .map_or(start, |e| e + 1);
            (h.name.to_owned(), v[start..end].to_vec())
        })
        .collect()
}

fn owned_headers<'a>(iter: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<(String, Vec<u8>)> {
    iter.map(|(n, v)| (n.to_owned(), v.to_vec())).collect()
}

#[allow(dead_code)]
fn server_outcome(parser: &mut ServerHandshake, buf: &[u8]) -> Outcome {
    match parser.parse(buf) {
        Ok(Status::Partial) => Outcome::Partial,
        Ok(Status::Complete { value, consumed }) => {
            let mut fields = vec![
                value.target().to_owned(),
                value.path().to_owned(),
                format!("{:?}", value.query()),
                value.host().to_owned(),
                format!("{:?}", value.origin()),
                value.key().to_owned(),
            ];
            fields.extend(value.protocols().map(|p| format!("protocol {p}")));
            fields.extend(value.extensions().map(|e| format!("extension {e:?}")));
            Outcome::Complete {
                consumed,
                fields,
                headers: owned_headers(value.headers()),
            }
        }
        Err(e) => Outcome::Error(e),
    }
}

/// Feeds `data` to a fresh parser in pieces ending at `ends`; returns the first outcome
/// that is not `Partial` (or `Partial`).
#[allow(dead_code)]
fn feed<P>(
    mut parser: P,
    data: &[u8],
    ends: impl IntoIterator<Item = usize>,
    mut step: impl FnMut(&mut P, &[u8]) -> Outcome,
) -> Outcome {
    for end in ends {
        let outcome = step(&mut parser, &data[..end]);
        if outcome != Outcome::Partial {
            return outcome;
        }
    }
    Outcome::Partial
}

/// The request parser's checks.
#[allow(dead_code)]
pub fn check_request(data: &[u8]) {
    let limits = fuzz_limits(data);
    let mut whole_parser = ServerHandshake::new(limits);
    let whole = server_outcome(&mut whole_parser, data);

    for ends in [(1..=data.len()).collect::<Vec<_>>(), chunk_ends(data)] {
        let split = feed(ServerHandshake::new(limits), data, ends, server_outcome);
        assert_eq!(split, whole, "split and whole input disagree");
    }

    match &whole {
        Outcome::Complete {
            consumed, headers, ..
        } => {
            assert!(*consumed <= data.len());
            assert_eq!(headers, &httparse_fields(&data[..*consumed], true));
            let Ok(Status::Complete { value: request, .. }) = whole_parser.parse(data) else {
                panic!("second parse differs");
            };
            // Accept the first offered protocol and every offered extension by name.
            let names: Vec<&str> = request.extensions().map(|e| e.name()).collect();
            let response = ServerResponse {
                protocol: request.protocols().next(),
                extensions: &names,
                ..ServerResponse::default()
            };
            let mut out = vec![0u8; 4096];
            let n = request
                .write_response(&response, &mut out)
                .expect("accepting offers must succeed");
            assert!(out[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
        }
        Outcome::Error(e) => {
            let mut out = [0u8; 256];
            let n = e
                .write_rejection(&mut out)
                .expect("rejections fit 256 bytes");
            assert!(out[..n].ends_with(b"\r\n\r\n"));
        }
        Outcome::Partial => {}
    }
}

/// The nonce whose key is `dGhlIHNhbXBsZSBub25jZQ==` (accept `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`).
#[allow(dead_code)]
const NONCE: [u8; 16] = *b"the sample nonce";
#[allow(dead_code)]
const OFFERED_PROTOCOLS: &[&str] = &["chat", "superchat"];
#[allow(dead_code)]
const OFFERED_EXTENSIONS: &[&str] = &["permessage-deflate; client_max_window_bits", "x-test"];

#[allow(dead_code)]
fn client_outcome(handshake: &mut ClientHandshake<'_>, buf: &[u8]) -> Outcome {
    match handshake.parse_response(buf) {
        Ok(Status::Partial) => Outcome::Partial,
        Ok(Status::Complete { value, consumed }) => {
            let mut fields = vec![format!("{:?}", value.protocol())];
            fields.extend(value.extensions().map(|e| format!("extension {e:?}")));
            Outcome::Complete {
                consumed,
                fields,
                headers: owned_headers(value.headers()),
            }
        }
        Err(e) => Outcome::Error(e),
    }
}

/// The response parser's checks.
#[allow(dead_code)]
pub fn check_response(data: &[u8]) {
    let limits = fuzz_limits(data);
    let key = ClientKey::from_nonce(NONCE);
    let request = ClientRequest {
        protocols: OFFERED_PROTOCOLS,
        extensions: OFFERED_EXTENSIONS,
        ..ClientRequest::new("server.example.com", "/chat")
    };
    let mut whole_handshake = ClientHandshake::with_limits(&request, &key, limits);
    let whole = client_outcome(&mut whole_handshake, data);

    for ends in [(1..=data.len()).collect::<Vec<_>>(), chunk_ends(data)] {
        let fresh = ClientHandshake::with_limits(&request, &key, limits);
        let split = feed(fresh, data, ends, client_outcome);
        assert_eq!(split, whole, "split and whole input disagree");
    }

    if let Outcome::Complete {
        consumed, headers, ..
    } = &whole
    {
        assert!(*consumed <= data.len());
        assert_eq!(headers, &httparse_fields(&data[..*consumed], false));
        let Ok(Status::Complete {
            value: response, ..
        }) = whole_handshake.parse_response(data)
        else {
            panic!("second parse differs");
        };
        if let Some(p) = response.protocol() {
            assert!(OFFERED_PROTOCOLS.contains(&p));
        }
        for e in response.extensions() {
            assert!(
                ["permessage-deflate", "x-test"]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(e.name()))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REQUEST: &[u8] = b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\n\
        Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x; a=\"b,c\"\r\n\
        \r\n\x81\x80abcd";

    const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        Sec-WebSocket-Protocol: chat\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\
        \r\n\x81\x02hi";

    #[test]
    fn seeds() {
        // The seeds are complete, valid heads (so the checks below are not vacuous).
        let parsed = ServerHandshake::default().parse(REQUEST);
        assert!(
            matches!(parsed, Ok(Status::Complete { consumed, .. }) if consumed == REQUEST.len() - 6)
        );
        let key = ClientKey::from_nonce(NONCE);
        let request = ClientRequest {
            protocols: OFFERED_PROTOCOLS,
            extensions: OFFERED_EXTENSIONS,
            ..ClientRequest::new("server.example.com", "/chat")
        };
        let parsed = ClientHandshake::new(&request, &key).parse_response(RESPONSE);
        assert!(
            matches!(parsed, Ok(Status::Complete { consumed, .. }) if consumed == RESPONSE.len() - 4)
        );
        for data in [
            REQUEST,
            RESPONSE,
            b"",
            b"\n",
            b"\r\n\r\n",
            b"GET / HTTP/1.1\n\n",
        ] {
            check_request(data);
            check_response(data);
        }
        // The same with the other choice of limits (see `fuzz_limits`).
        let mut odd = REQUEST.to_vec();
        odd.push(b'e');
        check_request(&odd);
        let mut even = RESPONSE.to_vec();
        even.push(b'!' + 1);
        check_response(&even);
    }

    /// The seed with a few bytes changed, inserted or removed.
    fn mutated(seed: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
        let edits =
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..6);
        edits.prop_map(move |edits| {
            let mut data = seed.to_vec();
            for (at, byte, kind) in edits {
                let i = at.index(data.len() + 1);
                match kind {
                    0 if i < data.len() => data[i] = byte,
                    1 => data.insert(i, byte),
                    _ if i < data.len() => {
                        data.remove(i);
                    }
                    _ => {}
                }
            }
            data
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn mutated_requests(data in mutated(REQUEST)) {
            check_request(&data);
        }

        #[test]
        fn mutated_responses(data in mutated(RESPONSE)) {
            check_response(&data);
        }

        #[test]
        fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..200)) {
            check_request(&data);
            check_response(&data);
        }
    }
}
