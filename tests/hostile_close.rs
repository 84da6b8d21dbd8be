//! Close frames carrying every status code 0..=65535, in both roles: each accepted or
//! refused exactly as RFC 6455 section 7.4 (and the IANA registry it creates) says, with
//! the exact error and the close code queued in reply; and the edges of the close payload
//! (empty, one byte, the longest reason, a reason that is not UTF-8).

mod support;
use support::counting;
#[cfg(feature = "alloc")]
use support::{conn, oracle};

use rfc6455::close::{CloseCode, CloseError, CloseFrame};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

/// Section 7.4: the codes an endpoint may send and must accept, written out from the
/// text rather than from the crate. 7.4.1 defines 1000-1003 and 1007-1011; 1004 is
/// reserved and 1005, 1006 and 1015 must never be sent; 7.4.2 reserves 0-999 (unused),
/// 1000-2999 (for the protocol and its extensions: only registered codes are valid),
/// opens 3000-3999 (registered by libraries and frameworks) and 4000-4999 (private use);
/// anything above is undefined. The IANA registry adds 1012-1014.
fn valid_on_the_wire(code: u16) -> bool {
    let rfc = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011];
    let iana = [1012, 1013, 1014];
    rfc.contains(&code) || iana.contains(&code) || (3000..=4999).contains(&code)
}

#[test]
fn close_payload_parsing_follows_section_7_4_for_every_code() {
    let mut valid = 0;
    for code in 0..=u16::MAX {
        let payload = code.to_be_bytes();
        let before = counting::allocs();
        let parsed = CloseFrame::parse(&payload);
        assert_eq!(counting::allocs(), before);
        if valid_on_the_wire(code) {
            let frame = parsed.unwrap().unwrap();
            assert_eq!((frame.code, frame.reason), (CloseCode(code), ""));
            valid += 1;
        } else {
            assert_eq!(parsed, Err(CloseError::InvalidCode(CloseCode(code))));
            assert_eq!(parsed.unwrap_err().close_code(), CloseCode::PROTOCOL_ERROR);
        }
    }
    assert_eq!(valid, 9 + 3 + 2000);
}

#[cfg(feature = "alloc")]
mod connection {
    use super::*;
    use crate::conn;
    use crate::oracle::{self, queued};
    use rfc6455::Role;
    use rfc6455::connection::{Closed, Config, Event, ProtocolError, State};
    use rfc6455::frame::{FrameError, OpCode};

    /// A close frame with `payload` as the peer of `receiver` sends it.
    fn close_frame(receiver: Role, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() <= 125);
        oracle::frame(receiver, 0x88, payload)
    }

    fn code_of(payload: &[u8]) -> u16 {
        u16::from_be_bytes([payload[0], payload[1]])
    }

    #[test]
    fn every_close_code_in_both_roles() {
        let before = counting::live();
        let mut accepted = 0;
        for role in [Role::Server, Role::Client] {
            for code in 0..=u16::MAX {
                let mut conn = conn::open(role, Config::default(), [0; 32]);
                let mut payload = code.to_be_bytes().to_vec();
                payload.extend_from_slice(b"why");
                conn.receive(&close_frame(role, &payload));
                let polled = conn.poll_event();
                let out = queued(&conn);
                assert_eq!(out.len(), 1, "{role:?} {code}: one close frame in reply");
                assert_eq!(out[0].0, OpCode::Close);
                if valid_on_the_wire(code) {
                    // Accepted: reported to the application, and echoed (section 5.5.1).
                    let closed = Closed {
                        code: CloseCode(code),
                        reason: "why".into(),
                    };
                    assert_eq!(polled, Ok(Some(Event::Closed(closed))), "{role:?} {code}");
                    assert_eq!(code_of(&out[0].1), code);
                    accepted += 1;
                } else {
                    // Refused: the connection fails with 1002 (section 7.4.1, 1002: "a
                    // protocol error"; sections 5.5.1 and 7.1.5 require a valid code).
                    let err = ProtocolError::Close(CloseError::InvalidCode(CloseCode(code)));
                    assert_eq!(polled, Err(err), "{role:?} {code}");
                    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
                    assert_eq!(code_of(&out[0].1), 1002);
                }
                assert_eq!(conn.state(), State::Closed);
                assert_eq!(conn.poll_event(), Ok(None));
                let n = conn.pending_output_len();
                conn.advance_output(n);
                // The server closes the TCP connection first (section 7.1.1); a client
                // waits for it unless the connection failed.
                let failed = !valid_on_the_wire(code);
                assert_eq!(
                    conn.should_close_transport(),
                    role == Role::Server || failed,
                    "{role:?} {code}"
                );
            }
        }
        assert_eq!(accepted, 2 * 2012);
        // 131,072 connections later, nothing was kept.
        assert_eq!(counting::live(), before);
    }

    #[test]
    fn close_payload_edges() {
        for role in [Role::Server, Role::Client] {
            let poll = |payload: &[u8]| {
                let mut conn = conn::open(role, Config::default(), [0; 32]);
                conn.receive(&close_frame(role, payload));
                let polled = conn.poll_event();
                (polled, queued(&conn))
            };
            // Empty: no status (1005 to the application), an empty close in reply.
            let (polled, out) = poll(b"");
            let closed = Closed {
                code: CloseCode::NO_STATUS,
                reason: String::new(),
            };
            assert_eq!(polled, Ok(Some(Event::Closed(closed))));
            assert_eq!(out, [(OpCode::Close, vec![])]);
            // One byte: half a code.
            let (polled, out) = poll(&[0x03]);
            assert_eq!(polled, Err(ProtocolError::Close(CloseError::TruncatedCode)));
            assert_eq!(code_of(&out[0].1), 1002);
            // The longest reason, 123 bytes, with multi-byte characters.
            let reason = "é".repeat(61) + "x";
            assert_eq!(reason.len(), 123);
            let mut payload = 1000u16.to_be_bytes().to_vec();
            payload.extend_from_slice(reason.as_bytes());
            let (polled, _) = poll(&payload);
            let closed = Closed {
                code: CloseCode::NORMAL,
                reason: reason.clone(),
            };
            assert_eq!(polled, Ok(Some(Event::Closed(closed))));
            // A reason that is not UTF-8: 1007, with where it went wrong.
            let mut payload = 1000u16.to_be_bytes().to_vec();
            payload.extend_from_slice(b"ok\xC3(");
            let (polled, out) = poll(&payload);
            let err = ProtocolError::Close(CloseError::InvalidReason { valid_up_to: 2 });
            assert_eq!(polled, Err(err));
            assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
            assert_eq!(code_of(&out[0].1), 1007);
            // A reason of 124 bytes makes a 126-byte control frame: refused on the header.
            let mut conn = conn::open(role, Config::default(), [0; 32]);
            let masked = if role == Role::Server { 0xFE } else { 0x7E };
            conn.receive(&[0x88, masked, 0, 126]);
            assert_eq!(
                conn.poll_event(),
                Err(ProtocolError::Frame(FrameError::ControlTooLong {
                    len: 126
                }))
            );
        }
    }

    #[test]
    fn an_invalid_close_after_ours_gets_no_second_close_frame() {
        for role in [Role::Server, Role::Client] {
            let mut conn = conn::open(role, Config::default(), [0; 32]);
            conn.close(CloseCode::GOING_AWAY, "bye").unwrap();
            assert_eq!(conn.state(), State::Closing);
            conn.receive(&close_frame(role, &1005u16.to_be_bytes()));
            assert_eq!(
                conn.poll_event(),
                Err(ProtocolError::Close(CloseError::InvalidCode(
                    CloseCode::NO_STATUS
                )))
            );
            let out = queued(&conn);
            assert_eq!(out.len(), 1);
            assert_eq!(code_of(&out[0].1), 1001);
            assert_eq!(conn.state(), State::Closed);
        }
    }
}
