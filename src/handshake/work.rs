//! Test-only counters of the work the head parsers do, kept where the work is done: every
//! byte the head scanner reads (one per state step, and every byte the line search loads,
//! word or tail byte) and every call into `httparse`. They are independent of the
//! scanner's own position bookkeeping (`HeadScanner::examined`, which equals the final
//! position whatever work was done), so a rescan, a quadratic line search or a second
//! `httparse` run shows up here. This module exists only under `cfg(test)`: release and
//! ordinary debug builds have no counter.
//!
//! The counters are thread-local, and each test runs on its own thread.

use core::cell::Cell;

std::thread_local! {
    static READ: Cell<usize> = const { Cell::new(0) };
    static PARSES: Cell<usize> = const { Cell::new(0) };
    static PARSED: Cell<usize> = const { Cell::new(0) };
}

/// `n` bytes of the buffer were read by the scanner.
pub(crate) fn read(n: usize) {
    READ.with(|c| c.set(c.get() + n));
}

/// `httparse` was called on a head of `len` bytes.
pub(crate) fn parse(len: usize) {
    PARSES.with(|c| c.set(c.get() + 1));
    PARSED.with(|c| c.set(c.get() + len));
}

/// The work counted on this thread since the last [`take`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Work {
    /// Bytes read by the head scanner.
    pub(crate) read: usize,
    /// Calls into `httparse`.
    pub(crate) parses: usize,
    /// Bytes handed to `httparse`, over all calls.
    pub(crate) parsed: usize,
}

/// The work counted so far, without resetting it.
pub(crate) fn peek() -> Work {
    Work {
        read: READ.with(Cell::get),
        parses: PARSES.with(Cell::get),
        parsed: PARSED.with(Cell::get),
    }
}

/// The work counted so far; the counters restart from zero.
pub(crate) fn take() -> Work {
    let work = peek();
    READ.with(|c| c.set(0));
    PARSES.with(|c| c.set(0));
    PARSED.with(|c| c.set(0));
    work
}

#[cfg(test)]
mod tests {
    //! Heads of 8 KiB (and near a 64 KiB limit) fed one byte per call, in random splits
    //! and whole, on the server and the client side; the work counted must be linear in
    //! the head and `httparse` must run once, at the head's end.
    //!
    //! The bound. Each byte is read at most once by a state step. The line search reads
    //! 8-byte words, so when it finds an LF it may have loaded up to 7 bytes past it, which
    //! are read again afterwards; when it finds none it reads exactly the bytes it was
    //! given. Each LF is found at most once. So, for a head of `n` bytes with `lf` LFs,
    //! however it is split:
    //!
    //! `n <= read <= n + 7 * lf`
    //!
    //! and `lf` is at most the header limit plus two (at most 130), so the overshoot is a
    //! constant of at most 910 bytes: for any head of 910 bytes or more, `read <= 2 * n`.
    //! That is the constant `c = 2` asserted below on every head (all are 8 KiB or more).
    //! Fed one byte per call, the search is only ever given one byte, so the overshoot
    //! is zero and `read == n`; the tests still only assert the bound above.

    use super::*;
    use crate::handshake::{
        ClientHandshake, ClientKey, ClientRequest, HandshakeError, Limits, ServerHandshake,
    };
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
        Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    /// RFC 6455 section 1.3's sample: the accept value for the key above.
    const RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    /// The nonce whose base64 is the key above.
    const NONCE: [u8; 16] = *b"the sample nonce";
    /// What the peer sends right after its head: frames, not part of the head.
    const TRAILER: &[u8] = b"\x81\x05Hello\x89\x00";

    /// `prefix` padded with `X-Pad-NNN` header lines of `line` bytes (the last one longer,
    /// to make the length exact) and the blank line, `len` bytes in all.
    fn padded(prefix: &str, len: usize, line: usize) -> Vec<u8> {
        const MIN: usize = "X-Pad-000: p\r\n".len();
        let rest = len - prefix.len() - 2;
        assert!(line >= MIN && rest >= MIN);
        let full = (rest / line).saturating_sub(1);
        let mut head = String::from(prefix);
        let mut pad = |i: usize, line_len: usize| {
            let value = "p".repeat(line_len - MIN + 1);
            head.push_str(&format!("X-Pad-{i:03}: {value}\r\n"));
        };
        for i in 0..full {
            pad(i, line);
        }
        pad(full, rest - full * line);
        head.push_str("\r\n");
        assert_eq!(head.len(), len);
        head.into_bytes()
    }

    /// The shapes tested: header lines of about 160 bytes (~50 lines, under the default
    /// 64-header limit), of about 1 KiB, and a single long header line.
    const SHAPES: [usize; 3] = [160, 1024, usize::MAX / 2];

    /// A small deterministic generator for the split points (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    /// What a parse step returns: `Some(consumed)` once the head is complete.
    type R = Result<Option<usize>, HandshakeError>;
    /// A parse step.
    type Step<'a> = dyn FnMut(&[u8]) -> R + 'a;

    /// Feeds `head` followed by [`TRAILER`], growing the buffer by `next()` bytes per
    /// call, until the parser reports the head; returns the work counted. `httparse` must
    /// not have run before the call that completes the head.
    fn feed(head: &[u8], mut next: impl FnMut() -> usize, parse: &mut Step<'_>) -> Work {
        let input = [head, TRAILER].concat();
        take();
        let mut shown = 0;
        loop {
            shown = input.len().min(shown + next().max(1));
            match parse(&input[..shown]) {
                Ok(None) => {
                    assert!(shown < head.len(), "partial with the whole head shown");
                    let work = peek();
                    assert_eq!(work.parses, 0, "httparse ran before the head's end");
                }
                Ok(Some(consumed)) => {
                    assert_eq!(consumed, head.len());
                    assert!(shown >= head.len());
                    return take();
                }
                Err(e) => panic!("{e} after {shown} bytes"),
            }
        }
    }

    /// The bound from the module comment, and one `httparse` call on exactly the head.
    fn check(work: Work, head: &[u8], how: &str) {
        let n = head.len();
        let lf = head.iter().filter(|&&b| b == b'\n').count();
        assert!(work.read >= n, "{how}: {work:?}, head {n}");
        assert!(
            work.read <= n + 7 * lf,
            "{how}: {work:?}, head {n}, {lf} LF"
        );
        assert!(work.read <= 2 * n, "{how}: {work:?}, head {n}");
        assert_eq!((work.parses, work.parsed), (1, n), "{how}: {work:?}");
    }

    /// Every way of feeding `head` to a fresh parser from `parser()`.
    fn all_splits<P>(head: &[u8], mut parser: impl FnMut() -> P, step: fn(&mut P, &[u8]) -> R) {
        let mut p = parser();
        let work = feed(head, || 1, &mut |buf| step(&mut p, buf));
        check(work, head, "one byte per call");
        let mut p = parser();
        let work = feed(head, || usize::MAX / 2, &mut |buf| step(&mut p, buf));
        check(work, head, "whole");
        for (seed, most) in (1..=24u64).zip([3, 8, 17, 64, 200, 1500].into_iter().cycle()) {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut p = parser();
            let work = feed(head, || 1 + rng.below(most), &mut |buf| step(&mut p, buf));
            check(work, head, &format!("splits of 1..={most}, seed {seed}"));
        }
    }

    fn server_step(p: &mut ServerHandshake, buf: &[u8]) -> R {
        Ok(p.parse(buf)?.complete().map(|(request, consumed)| {
            assert_eq!(request.path(), "/chat");
            consumed
        }))
    }

    fn client_step(h: &mut ClientHandshake<'_>, buf: &[u8]) -> R {
        Ok(h.parse_response(buf)?
            .complete()
            .map(|(response, consumed)| {
                assert_eq!(response.header("x-pad-000").map(|v| v[0]), Some(b'p'));
                consumed
            }))
    }

    const BIG: Limits = Limits {
        max_headers: Limits::DEFAULT_MAX_HEADERS,
        max_head_bytes: 64 * 1024,
    };

    #[test]
    fn server_head_work_is_linear_and_httparse_runs_once() {
        for line in SHAPES {
            // 8 KiB: the default limit, exactly.
            let head = padded(REQUEST, Limits::DEFAULT_MAX_HEAD_BYTES, line);
            all_splits(&head, ServerHandshake::default, server_step);
            let head = padded(REQUEST, 8000, line);
            all_splits(&head, ServerHandshake::default, server_step);
        }
        // Near a raised limit: 64 KiB less a few bytes, in 1 KiB lines and in one line.
        for line in [1100, usize::MAX / 2] {
            let head = padded(REQUEST, BIG.max_head_bytes - 3, line);
            all_splits(&head, || ServerHandshake::new(BIG), server_step);
        }
    }

    #[test]
    fn client_head_work_is_linear_and_httparse_runs_once() {
        let request = ClientRequest::new("server.example.com", "/chat");
        let key = ClientKey::from_nonce(NONCE);
        for line in SHAPES {
            let head = padded(RESPONSE, Limits::DEFAULT_MAX_HEAD_BYTES, line);
            all_splits(&head, || ClientHandshake::new(&request, &key), client_step);
            let head = padded(RESPONSE, 8000, line);
            all_splits(&head, || ClientHandshake::new(&request, &key), client_step);
        }
        for line in [1100, usize::MAX / 2] {
            let head = padded(RESPONSE, BIG.max_head_bytes - 3, line);
            let parser = || ClientHandshake::with_limits(&request, &key, BIG);
            all_splits(&head, parser, client_step);
        }
    }

    #[test]
    fn a_head_over_the_limit_is_never_parsed_and_costs_the_limit() {
        let limits = Limits::default();
        let over = limits.max_head_bytes + 1;
        for line in SHAPES {
            let head = padded(REQUEST, over, line);
            let mut p = ServerHandshake::new(limits);
            take();
            let mut failed_at = None;
            for shown in 1..=head.len() {
                match p.parse(&head[..shown]) {
                    Ok(status) => assert!(!status.is_complete()),
                    Err(e) => {
                        assert_eq!(e, HandshakeError::HeadTooLarge { limit: over - 1 });
                        failed_at = Some(shown);
                        break;
                    }
                }
            }
            assert_eq!(failed_at, Some(limits.max_head_bytes));
            let work = take();
            let scanned = &head[..limits.max_head_bytes];
            let lf = scanned.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(work.parses, 0, "{work:?}");
            assert!(work.read >= scanned.len(), "{work:?}");
            assert!(work.read <= scanned.len() + 7 * lf, "{work:?}");
            // The error sticks and costs nothing more, however often it is asked.
            for _ in 0..1000 {
                assert!(p.parse(&head).is_err());
            }
            assert_eq!(take(), Work::default());
        }
    }

    #[test]
    fn calls_without_new_bytes_read_nothing() {
        let request = ClientRequest::new("server.example.com", "/chat");
        let key = ClientKey::from_nonce(NONCE);
        let mut server = ServerHandshake::default();
        let mut client = ClientHandshake::new(&request, &key);
        let steps: [(&[u8], &mut Step<'_>); 2] = [
            (&padded(REQUEST, 8000, 160), &mut |b| {
                server_step(&mut server, b)
            }),
            (&padded(RESPONSE, 8000, 160), &mut |b| {
                client_step(&mut client, b)
            }),
        ];
        for (head, step) in steps {
            let half = head.len() / 2;
            take();
            assert_eq!(step(&head[..half]), Ok(None));
            let first = take();
            assert!(first.read >= half && first.parses == 0, "{first:?}");
            // A wake-up with nothing new: no byte is read again, httparse does not run.
            for _ in 0..100 {
                assert_eq!(step(&head[..half]), Ok(None));
            }
            assert_eq!(take(), Work::default());
            assert_eq!(step(head), Ok(Some(head.len())));
            let rest = take();
            check(
                Work {
                    read: first.read + rest.read,
                    ..rest
                },
                head,
                "in two halves",
            );
            // Asked again once complete: the head is parsed again (the value borrows the
            // buffer), but the scanner reads nothing.
            assert_eq!(step(head), Ok(Some(head.len())));
            assert_eq!(take().read, 0);
        }
    }

    /// The same heads through the connection's opening handshake, one byte per
    /// `receive`, then `poll_event`.
    #[cfg(feature = "alloc")]
    mod connection {
        use super::*;
        use crate::connection::{Config, Connection, Event};
        use crate::handshake::AcceptKey;

        fn open(conn: &mut Connection, head: &[u8], want: fn(&Event) -> bool) -> Work {
            take();
            for (i, b) in head.iter().enumerate() {
                conn.receive(core::slice::from_ref(b));
                match conn.poll_event() {
                    Ok(None) => {
                        assert!(i + 1 < head.len());
                        assert_eq!(peek().parses, 0, "httparse ran before the head's end");
                    }
                    Ok(Some(event)) => {
                        assert!(want(&event), "{event:?}");
                        assert_eq!(i + 1, head.len());
                        return take();
                    }
                    Err(e) => panic!("{e:?} after {} bytes", i + 1),
                }
            }
            panic!("the head did not complete");
        }

        #[test]
        fn server_connection() {
            for line in SHAPES {
                let head = padded(REQUEST, Limits::DEFAULT_MAX_HEAD_BYTES, line);
                let mut conn = Connection::server(Config::default());
                let work = open(&mut conn, &head, |e| matches!(e, Event::Request(_)));
                check(work, &head, "server connection");
            }
        }

        #[test]
        fn client_connection() {
            let request = ClientRequest::new("server.example.com", "/chat");
            for line in SHAPES {
                let mut conn = Connection::client(Config::default(), [7; 32], &request).unwrap();
                // The key the client wrote, and the accept value for it.
                let out = String::from_utf8(conn.pending_output_chunk().to_vec()).unwrap();
                let key = out
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                    .unwrap();
                let accept = AcceptKey::from_key(key.as_bytes());
                let prefix = RESPONSE.replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", accept.as_str());
                let head = padded(&prefix, Limits::DEFAULT_MAX_HEAD_BYTES, line);
                let work = open(&mut conn, &head, |e| matches!(e, Event::Accepted(_)));
                // The connection scans the head as it arrives and parses the head it found
                // without scanning it again: the single parser's bound.
                check(work, &head, "client connection");
            }
        }
    }
}
