//! The opening handshake inside the connection (CONNECTING -> OPEN), both roles, driven by
//! arbitrary bytes in arbitrary pieces: no panic; the state only moves forward; a server
//! reports `Event::Request` at most once and only with a request `request()` can show; an
//! accepted server or a client that saw `Event::Accepted` is `Open`; a failed handshake
//! leaves the connection `Closed`, with later polls returning `Ok(None)`; a server that
//! rejects or fails has written an HTTP status line and nothing after it.
//!
//! Input: byte 0 flags (bit 0: server; bit 1: accept, else reject; bit 2: use
//! `poll_event_ref`), then pieces, each a length byte and that many bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::connection::{Config, Connection, Event, EventRef, ProtocolError, State};
use rfc6455::handshake::{ClientRequest, Limits, ServerResponse};
use rfc6455_fuzz::{Input, rank};

/// What one poll reported, reduced to what this target checks.
#[derive(Debug, PartialEq)]
enum Seen {
    Request,
    Accepted,
    Other,
}

fn poll(conn: &mut Connection, by_ref: bool) -> Result<Option<Seen>, ProtocolError> {
    if by_ref {
        Ok(conn.poll_event_ref()?.map(|e| match e {
            EventRef::Request => Seen::Request,
            EventRef::Accepted(_) => Seen::Accepted,
            _ => Seen::Other,
        }))
    } else {
        Ok(conn.poll_event()?.map(|e| match e {
            Event::Request => Seen::Request,
            Event::Accepted(_) => Seen::Accepted,
            _ => Seen::Other,
        }))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(flags) = input.byte() else { return };
    let server = flags & 1 != 0;
    let accept = flags & 2 != 0;
    let by_ref = flags & 4 != 0;
    let request = ClientRequest {
        protocols: &["chat"],
        ..ClientRequest::new("example.com", "/")
    };
    let mut conn = if server {
        Connection::server(Limits::default(), Config::default())
    } else {
        Connection::client(&request, [7; 32], Config::default()).expect("valid request")
    };
    let mut written: Vec<u8> = conn.pending_output_slices().flatten().copied().collect();
    conn.advance_output(written.len());
    let mut state = conn.state();
    let mut requests = 0;
    let mut failed = false;
    while let Some(piece) = input.blob() {
        conn.receive(piece);
        loop {
            match poll(&mut conn, by_ref) {
                Ok(None) => break,
                Ok(Some(seen)) => {
                    assert!(!failed, "an event after an error");
                    match seen {
                        Seen::Request => {
                            assert!(server);
                            requests += 1;
                            assert_eq!(requests, 1, "the request is reported once");
                            assert!(conn.request().is_some());
                            if accept {
                                let chosen = conn.request().and_then(|r| r.protocols().next());
                                let chosen = chosen.map(str::to_owned);
                                conn.accept(&ServerResponse {
                                    protocol: chosen.as_deref(),
                                    ..ServerResponse::default()
                                })
                                .expect("an offered protocol is accepted");
                                assert_eq!(conn.state(), State::Open);
                            } else {
                                conn.reject(403, "Forbidden").expect("reject");
                                assert_eq!(conn.state(), State::Closed);
                            }
                        }
                        Seen::Accepted => {
                            assert!(!server);
                            assert_eq!(conn.state(), State::Open);
                        }
                        Seen::Other => assert_ne!(conn.state(), State::Connecting),
                    }
                }
                Err(_) => {
                    assert_eq!(conn.state(), State::Closed);
                    failed = true;
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
    if failed {
        assert_eq!(poll(&mut conn, by_ref), Ok(None));
    }
    if server && requests == 0 && !written.is_empty() {
        // Only a rejection can have been written before a request was accepted.
        assert!(
            written.starts_with(b"HTTP/1.1 4"),
            "{:?}",
            String::from_utf8_lossy(&written)
        );
    }
});
