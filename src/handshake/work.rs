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

    /// Every byte of `bytes` read, and past each line end no more than the line search's
    /// word (the bound from the module comment).
    fn check_read(work: Work, bytes: &[u8], how: &str) {
        let n = bytes.len();
        let lf = bytes.iter().filter(|&&b| b == b'\n').count();
        assert!(work.read >= n, "{how}: {work:?}, {n} bytes");
        assert!(
            work.read <= n + 7 * lf,
            "{how}: {work:?}, {n} bytes, {lf} LF"
        );
    }

    /// The bound from the module comment, and one `httparse` call on exactly the head.
    fn check(work: Work, head: &[u8], how: &str) {
        let n = head.len();
        check_read(work, head, how);
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

    /// The bound from the module comment for a scan that stopped after `scanned` (an error
    /// or a partial head): every byte up to there read, no byte after it beyond the line
    /// search's word, and `httparse` never called.
    fn check_stopped(work: Work, scanned: &[u8], how: &str) {
        check_read(work, scanned, how);
        assert_eq!(work.parses, 0, "{how}: {work:?}");
    }

    /// A start line and `lines` header lines `a:b`, then the blank line.
    fn tiny_headers(start: &[u8], lines: usize) -> Vec<u8> {
        let mut input = start.to_vec();
        for _ in 0..lines {
            input.extend_from_slice(b"a:b\r\n");
        }
        input.extend_from_slice(b"\r\n");
        input
    }

    #[test]
    fn a_head_over_the_header_limit_is_read_up_to_the_line_over_it_and_no_further() {
        // 10,000 header lines, shown whole: the scan stops at the first byte of the line
        // over the limit (or at the head limit) instead of reading the 50 KB.
        let input = tiny_headers(b"GET / HTTP/1.1\r\n", 10_000);
        // (max_headers, max_head_bytes, the error, where the scan stops): any count over
        // the parser's capacity acts as 128; whichever limit is reached first wins.
        let cases = [
            (64, 8 << 10, 64, 16 + 64 * 5 + 1),
            (10_000, 1 << 20, 128, 16 + 128 * 5 + 1),
            (64, 256, 0, 256),
        ];
        let cases = cases.map(|(max_headers, max_head_bytes, limit, at)| {
            let err = if limit > 0 {
                HandshakeError::TooManyHeaders { limit }
            } else {
                HandshakeError::HeadTooLarge {
                    limit: max_head_bytes,
                }
            };
            let limits = Limits {
                max_headers,
                max_head_bytes,
            };
            (limits, err, at)
        });
        for (limits, err, at) in cases {
            let mut p = ServerHandshake::new(limits);
            take();
            assert_eq!(p.parse(&input).map(|_| ()), Err(err), "{limits:?}");
            check_stopped(take(), &input[..at], "whole");
            assert_eq!(p.bytes_scanned(), at, "{limits:?}");
            // Asked again with all of it: the error sticks and nothing more is read.
            for _ in 0..100 {
                assert_eq!(p.parse(&input).map(|_| ()), Err(err));
            }
            assert_eq!(take(), Work::default());
            assert_eq!(p.bytes_scanned(), at);
        }
        // A server's response with 10,000 headers.
        let status = b"HTTP/1.1 101 Switching Protocols\r\n";
        let response = tiny_headers(status, 10_000);
        let request = ClientRequest::new("server.example.com", "/chat");
        let key = ClientKey::from_nonce(NONCE);
        let mut h = ClientHandshake::new(&request, &key);
        take();
        assert_eq!(
            h.parse_response(&response).map(|_| ()),
            Err(HandshakeError::TooManyHeaders { limit: 64 })
        );
        let at = status.len() + 64 * 5 + 1;
        check_stopped(take(), &response[..at], "client, whole");
        assert_eq!(h.bytes_scanned(), at);
    }

    /// `start`, then `filler` repeated, `len` bytes in all.
    fn endless(start: &[u8], filler: &[u8], len: usize) -> Vec<u8> {
        start
            .iter()
            .chain(filler.iter().cycle())
            .take(len)
            .copied()
            .collect()
    }

    #[test]
    fn a_head_that_never_ends_is_read_once_up_to_the_limit() {
        let max = Limits::DEFAULT_MAX_HEAD_BYTES;
        let err = HandshakeError::HeadTooLarge { limit: max };
        let cases: [(&[u8], &[u8]); 3] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", b"a"),
            (b"GET /", b"a"),
            (b"\r\n", b"\r\n"),
        ];
        for (start, filler) in cases {
            let input = endless(start, filler, 3 * max);
            let how = core::str::from_utf8(start).unwrap();
            // Whole.
            let mut p = ServerHandshake::default();
            take();
            assert_eq!(p.parse(&input).map(|_| ()), Err(err), "{how:?}");
            check_stopped(take(), &input[..max], how);
            assert_eq!(p.bytes_scanned(), max, "{how:?}");
            // One byte per call: each byte read exactly once, the error at the limit.
            let mut p = ServerHandshake::default();
            let failed_at = (1..=input.len()).find(|&n| p.parse(&input[..n]).is_err());
            assert_eq!(failed_at, Some(max), "{how:?}");
            let work = take();
            check_stopped(work, &input[..max], how);
            assert_eq!(work.read, max, "{how:?}: {work:?}");
            // However much more arrives, nothing more is read.
            assert_eq!(p.parse(&input).map(|_| ()), Err(err), "{how:?}");
            assert_eq!(take(), Work::default(), "{how:?}");
            assert_eq!(p.bytes_scanned(), max, "{how:?}");
        }
        // A client reading a server's endless header.
        let input = endless(
            b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: ",
            b"z",
            2 * max,
        );
        let request = ClientRequest::new("server.example.com", "/chat");
        let key = ClientKey::from_nonce(NONCE);
        let mut h = ClientHandshake::new(&request, &key);
        take();
        let failed_at = (1..=input.len()).find(|&n| h.parse_response(&input[..n]).is_err());
        assert_eq!(failed_at, Some(max));
        let work = take();
        check_stopped(work, &input[..max], "client");
        assert_eq!((work.read, h.bytes_scanned()), (max, max));
    }

    /// One parse call: the outcome, without the borrowed value.
    type Outcome = Result<Option<usize>, HandshakeError>;

    /// Feeds `data` growing by `next()` bytes per call until an outcome other than
    /// partial, or the end of the data; returns it and the work counted.
    fn run(
        data: &[u8],
        mut next: impl FnMut() -> usize,
        parse: &mut dyn FnMut(&[u8]) -> Outcome,
    ) -> (Outcome, Work) {
        take();
        let mut shown = 0;
        loop {
            shown = data.len().min(shown + next().max(1));
            let outcome = parse(&data[..shown]);
            if outcome != Ok(None) || shown == data.len() {
                return (outcome, take());
            }
        }
    }

    /// What the fuzz targets check on the public API (`tests/handshake_fuzz_checks.rs`),
    /// with the work counted here: on generated heads, valid, broken and unfinished,
    /// under small limits, fed whole, one byte per call and in random pieces, the outcome
    /// and the bytes scanned agree, the scan never passes the input, every byte up to
    /// where it stopped is read and none again beyond the line search's word, and
    /// `httparse` runs at most once, on exactly the head.
    #[test]
    fn generated_heads_are_read_once_whole_or_split() {
        const PIECES: &[&[u8]] = &[
            b"GET /chat HTTP/1.1\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\n",
            b"Host: server.example.com\r\n",
            b"Upgrade: websocket\r\n",
            b"Connection: Upgrade\r\n",
            b"Sec-WebSocket-Version: 13\r\n",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
            b"X-Long-Header: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"\r\n",
            b"\n",
            b"\r",
            b"a",
            b": ",
        ];
        let request = ClientRequest::new("server.example.com", "/chat");
        let key = ClientKey::from_nonce(NONCE);
        for seed in 1..=400u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut data = Vec::new();
            match rng.below(3) {
                // Any sequence of the pieces.
                0 => {
                    for _ in 0..1 + rng.below(40) {
                        data.extend_from_slice(PIECES[rng.below(PIECES.len())]);
                    }
                }
                // A valid request or response with padding lines, maybe cut short.
                mode => {
                    let start = if mode == 1 { REQUEST } else { RESPONSE };
                    let line = 16 + rng.below(100);
                    let len = start.len() + 2 + (1 + rng.below(6)) * line;
                    data = padded(start, len, line);
                    if rng.below(2) == 0 {
                        data.truncate(rng.below(data.len()));
                    }
                    data.extend_from_slice(TRAILER);
                }
            }
            let limits = Limits {
                max_headers: rng.below(14),
                max_head_bytes: 32 + rng.below(900),
            };
            for side in ["server", "client"] {
                let mut results = Vec::new();
                for split in 0..3 {
                    let mut server = ServerHandshake::new(limits);
                    let mut client = ClientHandshake::with_limits(&request, &key, limits);
                    let mut parse = |buf: &[u8]| -> Outcome {
                        if side == "server" {
                            Ok(server.parse(buf)?.complete().map(|(_, n)| n))
                        } else {
                            Ok(client.parse_response(buf)?.complete().map(|(_, n)| n))
                        }
                    };
                    let (outcome, work) = match split {
                        0 => run(&data, || usize::MAX / 2, &mut parse),
                        1 => run(&data, || 1, &mut parse),
                        _ => run(&data, || 1 + rng.below(50), &mut parse),
                    };
                    let scanned = if side == "server" {
                        server.bytes_scanned()
                    } else {
                        client.bytes_scanned()
                    };
                    let how = format!("seed {seed}, {side}, split {split}: {outcome:?}");
                    assert!(scanned <= data.len(), "{how}");
                    let stopped = &data[..scanned];
                    let lf = stopped.iter().filter(|&&b| b == b'\n').count();
                    assert!(work.read >= scanned, "{how}: {work:?}, {scanned}");
                    assert!(work.read <= scanned + 7 * lf, "{how}: {work:?}, {scanned}");
                    assert!(work.parses <= 1, "{how}: {work:?}");
                    if let Ok(Some(consumed)) = outcome {
                        assert_eq!((work.parses, work.parsed), (1, consumed), "{how}");
                        assert_eq!(scanned, consumed, "{how}");
                    }
                    results.push((outcome, scanned));
                }
                assert!(
                    results.iter().all(|r| *r == results[0]),
                    "seed {seed}, {side}: {results:?}"
                );
            }
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
