//! Size limits for a peer's HTTP head, and the incremental scanner that enforces them while
//! looking for the end of the head.

use super::error::{HandshakeError, SyntaxError};

/// The most header lines any [`Limits`] can allow: the size of the stack array handed to
/// `httparse`. A larger [`Limits::max_headers`] acts as this value (documented there as
/// 128: keep the two in step).
pub(crate) const HEADER_CAPACITY: usize = 128;

/// Limits on a peer's HTTP head, checked while its bytes arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The most header lines (not counting the start line). Default 64. Values above 128
    /// act as 128: the parser keeps the header fields in a stack array of 128 entries, so
    /// the handshake needs no heap; a head with more lines fails with
    /// [`HandshakeError::TooManyHeaders`] `{ limit: 128 }` (HTTP 431).
    pub max_headers: usize,
    /// The most bytes of the head: start line, header lines and the blank line that ends
    /// them. Default 8 KiB.
    pub max_head_bytes: usize,
}

impl Limits {
    /// The default header count limit.
    pub const DEFAULT_MAX_HEADERS: usize = 64;
    /// The default head size limit.
    pub const DEFAULT_MAX_HEAD_BYTES: usize = 8 * 1024;

    /// The defaults: 64 headers, 8 KiB.
    pub const fn new() -> Self {
        Limits {
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_head_bytes: Self::DEFAULT_MAX_HEAD_BYTES,
        }
    }

    /// The header count limit in force: `max_headers` capped at [`HEADER_CAPACITY`].
    pub(crate) const fn effective_max_headers(&self) -> usize {
        if self.max_headers < HEADER_CAPACITY {
            self.max_headers
        } else {
            HEADER_CAPACITY
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the scanner is in the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the start line: `httparse` skips empty lines here.
    Leading,
    /// A CR before the start line.
    LeadingCr,
    /// Inside a line.
    Line,
    /// At the start of a line after the start line.
    LineStart,
    /// A CR at the start of a line: the head ends if LF follows.
    LineStartCr,
    /// The head ended.
    Done,
    /// A limit or a line-ending rule was broken.
    Failed(HandshakeError),
}

/// Finds the end of an HTTP head in a buffer that grows between calls, examining each byte
/// once: the caller passes the whole accumulated buffer every time, and only the bytes
/// after the previous call's end are looked at.
///
/// The head ends at the first LF followed by an empty line (CRLF or LF), after any empty
/// lines before the start line; that is the rule `httparse` applies.
#[derive(Clone, Debug)]
pub(crate) struct HeadScanner {
    /// Bytes of the buffer examined so far.
    pos: usize,
    state: State,
    /// The end of the start line (index after its LF), once seen.
    start_line_end: usize,
    /// Header lines seen.
    lines: usize,
    /// Total bytes examined over the scanner's life (for the linear-time tests).
    examined: usize,
}

/// A complete head found by the scanner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    /// The head's length including the final blank line.
    pub(crate) len: usize,
    /// The index where the header lines start.
    pub(crate) headers_start: usize,
}

impl HeadScanner {
    pub(crate) const fn new() -> Self {
        HeadScanner {
            pos: 0,
            state: State::Leading,
            start_line_end: 0,
            lines: 0,
            examined: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        let examined = self.examined;
        *self = Self::new();
        self.examined = examined;
    }

    #[cfg(test)]
    pub(crate) fn examined(&self) -> usize {
        self.examined
    }

    /// Scans the bytes of `buf` not seen before. Returns the head once complete, `None` if
    /// more bytes are needed.
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<Head>, HandshakeError> {
        if buf.len() < self.pos {
            // The caller went back on the buffer it showed before: start over.
            self.reset();
        }
        match self.state {
            State::Failed(err) => return Err(err),
            State::Done => {
                return Ok(Some(Head {
                    len: self.pos,
                    headers_start: self.start_line_end,
                }));
            }
            _ => {}
        }
        let max_headers = limits.effective_max_headers();
        let window_end = buf.len().min(limits.max_head_bytes);
        let result = self.scan_window(buf, window_end, max_headers);
        match result {
            Ok(Some(head)) => Ok(Some(head)),
            Ok(None) if buf.len() >= limits.max_head_bytes => {
                let err = HandshakeError::HeadTooLarge {
                    limit: limits.max_head_bytes,
                };
                self.state = State::Failed(err);
                Err(err)
            }
            Ok(None) => Ok(None),
            Err(err) => {
                self.state = State::Failed(err);
                Err(err)
            }
        }
    }

    fn scan_window(
        &mut self,
        buf: &[u8],
        end: usize,
        max_headers: usize,
    ) -> Result<Option<Head>, HandshakeError> {
        let mut i = self.pos;
        while i < end {
            if self.state == State::Line {
                // Skip to the end of the line in one go.
                match find_lf(&buf[i..end]) {
                    Some(off) => {
                        i += off + 1;
                        if self.start_line_end == 0 {
                            self.start_line_end = i;
                        }
                        self.state = State::LineStart;
                        continue;
                    }
                    None => {
                        i = end;
                        break;
                    }
                }
            }
            let b = buf[i];
            #[cfg(test)]
            super::work::read(1);
            i += 1;
            self.state = match (self.state, b) {
                (State::Leading, b'\n') => State::Leading,
                (State::Leading, b'\r') => State::LeadingCr,
                (State::Leading, _) => State::Line,
                (State::LeadingCr, b'\n') => State::Leading,
                (State::LineStart | State::LineStartCr, b'\n') => {
                    self.examined += i - self.pos;
                    self.pos = i;
                    self.state = State::Done;
                    return Ok(Some(Head {
                        len: i,
                        headers_start: self.start_line_end,
                    }));
                }
                (State::LineStart, b'\r') => State::LineStartCr,
                (State::LineStart, _) => {
                    self.lines += 1;
                    if self.lines > max_headers {
                        self.examined += i - self.pos;
                        self.pos = i;
                        return Err(HandshakeError::TooManyHeaders { limit: max_headers });
                    }
                    State::Line
                }
                // A CR not followed by LF where a line could end.
                _ => {
                    self.examined += i - self.pos;
                    self.pos = i;
                    return Err(HandshakeError::Syntax(SyntaxError::NewLine));
                }
            };
        }
        self.examined += i - self.pos;
        self.pos = i;
        Ok(None)
    }
}

/// The index of the first LF in `bytes`, eight bytes at a time.
fn find_lf(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        #[cfg(test)]
        super::work::read(chunk.len());
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ LF;
        // Sets the high bit of the lowest zero byte (and maybe of bytes above it).
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| {
            #[cfg(test)]
            super::work::read(1);
            b == b'\n'
        })
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(input: &[u8], limits: &Limits) -> Result<Option<Head>, HandshakeError> {
        HeadScanner::new().scan(input, limits)
    }

    #[test]
    fn find_lf_matches_position() {
        let mut buf = [b'a'; 40];
        assert_eq!(find_lf(&buf), None);
        for at in 0..buf.len() {
            buf[at] = b'\n';
            for start in 0..=at {
                assert_eq!(find_lf(&buf[start..]), Some(at - start));
            }
            // Bytes that differ from LF only in one bit are not LF.
            buf[at] = b'\n' ^ 0x80;
            assert_eq!(find_lf(&buf), None);
            buf[at] = 0x0b;
            assert_eq!(find_lf(&buf), None);
            buf[at] = b'a';
        }
        let mut two = [0u8; 16];
        two[3] = b'\n';
        two[5] = b'\n';
        assert_eq!(find_lf(&two), Some(3));
    }

    #[test]
    fn finds_head_end() {
        let l = Limits::new();
        let head = b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest";
        assert_eq!(
            scan_all(head, &l),
            Ok(Some(Head {
                len: 24,
                headers_start: 16
            }))
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\nA: b\n\nx", &l),
            Ok(Some(Head {
                len: 21,
                headers_start: 15
            }))
        );
        assert_eq!(
            scan_all(b"\r\n\nGET / HTTP/1.1\r\n\r\n", &l),
            Ok(Some(Head {
                len: 21,
                headers_start: 19
            }))
        );
        assert_eq!(scan_all(b"GET / HTTP/1.1\r\nA: b\r\n", &l), Ok(None));
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\n\rX", &l),
            Err(HandshakeError::Syntax(SyntaxError::NewLine))
        );
        assert_eq!(
            scan_all(b"\rGET", &l),
            Err(HandshakeError::Syntax(SyntaxError::NewLine))
        );
    }

    #[test]
    fn byte_at_a_time_matches_whole() {
        let l = Limits::new();
        let input = b"\r\nGET /x HTTP/1.1\r\nA: b\nC: d\r\n\r\nleftover";
        let whole = scan_all(input, &l);
        let mut s = HeadScanner::new();
        let mut got = None;
        for n in 0..=input.len() {
            if let Some(head) = s.scan(&input[..n], &l).unwrap() {
                got = Some((head, n));
                break;
            }
        }
        let (head, n) = got.unwrap();
        assert_eq!(Ok(Some(head)), whole);
        assert_eq!(n, head.len);
        assert_eq!(s.examined(), head.len);
    }

    #[test]
    fn leading_empty_lines_are_not_header_lines() {
        let one = Limits {
            max_headers: 1,
            max_head_bytes: 64,
        };
        // httparse skips empty lines before the start line; so does the scanner, and the
        // header lines start after the start line, not after the first empty line.
        for (input, headers_start) in [
            (&b"\n\nGET / HTTP/1.1\r\nA: b\r\n\r\n"[..], 18),
            (b"\r\n\nGET / HTTP/1.1\r\nA: b\r\n\r\n", 19),
            (b"\n\r\n\r\nGET / HTTP/1.1\nA: b\n\n", 20),
        ] {
            let head = Head {
                len: input.len(),
                headers_start,
            };
            assert_eq!(scan_all(input, &one), Ok(Some(head)), "{input:?}");
            assert_eq!(&input[headers_start..headers_start + 4], b"A: b");
        }
    }

    #[test]
    fn errors_stick_with_the_same_and_more_bytes() {
        let two = Limits {
            max_headers: 2,
            max_head_bytes: 64,
        };
        for (input, err) in [
            (
                &b"GET / HTTP/1.1\r\nA: b\r\nC: d\r\nE"[..],
                HandshakeError::TooManyHeaders { limit: 2 },
            ),
            (b"\rG", HandshakeError::Syntax(SyntaxError::NewLine)),
            (
                b"GET / HTTP/1.1\r\n\rX",
                HandshakeError::Syntax(SyntaxError::NewLine),
            ),
        ] {
            let mut s = HeadScanner::new();
            assert_eq!(s.scan(input, &two), Err(err), "{input:?}");
            let examined = s.examined();
            assert_eq!(s.scan(input, &two), Err(err), "{input:?} again");
            let more = [input, b"\r\n\r\n"].concat();
            assert_eq!(s.scan(&more, &two), Err(err), "{input:?} and more");
            assert_eq!(s.examined(), examined);
        }
    }

    #[test]
    fn a_shorter_buffer_starts_over_and_the_same_buffer_costs_nothing() {
        let l = Limits::new();
        let mut s = HeadScanner::new();
        let partial = b"GET /a/long/path HTTP/1.1\r\nX-A: ";
        assert_eq!(s.scan(partial, &l), Ok(None));
        assert_eq!(s.examined(), partial.len());
        // Shown again without new bytes: nothing more is examined.
        assert_eq!(s.scan(partial, &l), Ok(None));
        assert_eq!(s.examined(), partial.len());
        // A buffer shorter than the one shown before is a new head.
        let short = b"GET / HTTP/1.1\r\n\r\n";
        let head = Head {
            len: short.len(),
            headers_start: 16,
        };
        assert_eq!(s.scan(short, &l), Ok(Some(head)));
        assert_eq!(s.examined(), partial.len() + short.len());
        // Once found, the head is reported again at no cost.
        assert_eq!(s.scan(short, &l), Ok(Some(head)));
        assert_eq!(s.examined(), partial.len() + short.len());
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_headers: 2,
            max_head_bytes: 40,
        };
        assert!(scan_all(b"GET / HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n", &l).is_ok());
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nA: b\r\nC: d\r\nE", &l),
            Err(HandshakeError::TooManyHeaders { limit: 2 })
        );
        // A line that never ends fails once the limit is reached.
        let long = [b'a'; 40];
        assert_eq!(
            scan_all(&long, &l),
            Err(HandshakeError::HeadTooLarge { limit: 40 })
        );
        assert_eq!(scan_all(&long[..39], &l), Ok(None));
        // A head of exactly the limit is fine; one byte more is not.
        let exact = b"GET /aaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
        let l = Limits {
            max_headers: 2,
            max_head_bytes: exact.len(),
        };
        assert!(matches!(scan_all(exact, &l), Ok(Some(_))));
        let l = Limits {
            max_headers: 2,
            max_head_bytes: exact.len() - 1,
        };
        assert!(scan_all(exact, &l).is_err());
        // Errors are sticky.
        let mut s = HeadScanner::new();
        assert!(s.scan(&long, &l).is_err());
        assert!(s.scan(&long, &l).is_err());
        // Capacity caps the header limit.
        let big = Limits {
            max_headers: 10_000,
            max_head_bytes: 8192,
        };
        assert_eq!(big.effective_max_headers(), HEADER_CAPACITY);
    }
}
