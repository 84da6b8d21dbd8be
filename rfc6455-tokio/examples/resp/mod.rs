//! The subset of RESP2 (the Redis protocol) that a chat cluster needs: commands out (arrays
//! of bulk strings), and replies in (simple strings, errors, integers, bulk strings,
//! arrays), over a tokio `TcpStream`.
//!
//! The parser is bounded: a bulk string over `MAX_BULK`, an array over `MAX_ARRAY`
//! elements or `MAX_DEPTH` levels, a line over `MAX_LINE` bytes, or a reply over
//! `MAX_REPLY` bytes in all is refused. Nothing is allocated from a declared length: a
//! bulk string is copied once its bytes and CRLF have arrived, an array grows as its
//! elements parse.
#![allow(dead_code)]

use std::fmt;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest bulk string accepted (a chat line is 64 KiB at most).
pub const MAX_BULK: usize = 1 << 20;
/// The most elements of one array (a pub/sub push has 3).
pub const MAX_ARRAY: usize = 64;
/// Levels of arrays within arrays, at most (a reply we read has 1).
pub const MAX_DEPTH: usize = 4;
/// The longest header, simple string, error or integer line after its type byte, CRLF
/// included.
pub const MAX_LINE: usize = 1024;
/// The most bytes of one reply: what the read buffer may hold before a reply is complete.
pub const MAX_REPLY: usize = MAX_BULK + 4096;

/// A reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(Vec<u8>),
    /// `-ERR ...`
    Error(Vec<u8>),
    /// `:1`
    Integer(i64),
    /// `$3\r\nabc`, or `$-1` (`None`)
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`, or `*-1` (`None`)
    Array(Option<Vec<Value>>),
}

/// Why a reply was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not RESP: the reason.
    Protocol(&'static str),
    /// Over one of the bounds: which.
    TooLarge(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Protocol(why) => write!(f, "not RESP: {why}"),
            ParseError::TooLarge(what) => write!(f, "reply over the bound: {what}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for io::Error {
    fn from(e: ParseError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Parse one reply from the start of `buf`: `Ok(None)` while it is incomplete, else the
/// reply and the bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ParseError> {
    let mut pos = 0;
    match value(buf, &mut pos, 0)? {
        Some(v) => Ok(Some((v, pos))),
        None => Ok(None),
    }
}

/// The line at `*pos` without its CRLF, and `*pos` moved past it; `None` if incomplete.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, ParseError> {
    let rest = &buf[*pos..];
    let window = &rest[..rest.len().min(MAX_LINE)];
    match window.iter().position(|&b| b == b'\n') {
        Some(lf) if lf > 0 && window[lf - 1] == b'\r' => {
            *pos += lf + 1;
            Ok(Some(&rest[..lf - 1]))
        }
        Some(_) => Err(ParseError::Protocol("LF without CR")),
        None if rest.len() >= MAX_LINE => Err(ParseError::TooLarge("line")),
        None => Ok(None),
    }
}

/// A decimal integer: an optional `-`, then 1 to 19 digits, in range of `i64`.
fn integer(digits: &[u8]) -> Result<i64, ParseError> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Protocol("bad integer"));
    }
    let mut n: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if negative {
                    n.checked_sub(d)
                } else {
                    n.checked_add(d)
                }
            })
            .ok_or(ParseError::Protocol("integer out of range"))?;
    }
    Ok(n)
}

/// A length header: -1 for null, else 0..=`max`.
fn length(digits: &[u8], max: usize, what: &'static str) -> Result<Option<usize>, ParseError> {
    match integer(digits)? {
        -1 => Ok(None),
        n if n < 0 => Err(ParseError::Protocol("negative length")),
        n => match usize::try_from(n) {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(ParseError::TooLarge(what)),
        },
    }
}

fn value(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Value>, ParseError> {
    if *pos > MAX_REPLY {
        return Err(ParseError::TooLarge("reply"));
    }
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    let mut at = *pos + 1;
    let Some(text) = line(buf, &mut at)? else {
        return Ok(None);
    };
    let v = match kind {
        b'+' => Value::Simple(text.to_vec()),
        b'-' => Value::Error(text.to_vec()),
        b':' => Value::Integer(integer(text)?),
        b'$' => match length(text, MAX_BULK, "bulk string")? {
            None => Value::Bulk(None),
            Some(n) => {
                if at + n > MAX_REPLY {
                    return Err(ParseError::TooLarge("reply"));
                }
                // The bytes and their CRLF must all be here before anything is copied.
                let Some(body) = buf.get(at..at + n + 2) else {
                    return Ok(None);
                };
                if &body[n..] != b"\r\n" {
                    return Err(ParseError::Protocol("bulk string without CRLF"));
                }
                at += n + 2;
                Value::Bulk(Some(body[..n].to_vec()))
            }
        },
        b'*' => match length(text, MAX_ARRAY, "array")? {
            None => Value::Array(None),
            Some(n) => {
                if depth >= MAX_DEPTH {
                    return Err(ParseError::TooLarge("nesting"));
                }
                let mut items = Vec::new();
                for _ in 0..n {
                    match value(buf, &mut at, depth + 1)? {
                        Some(item) => items.push(item),
                        None => return Ok(None),
                    }
                }
                Value::Array(Some(items))
            }
        },
        _ => return Err(ParseError::Protocol("unknown type byte")),
    };
    *pos = at;
    Ok(Some(v))
}

/// A command as RESP: an array of bulk strings.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One connection to a Redis server.
pub struct Conn {
    tcp: TcpStream,
    /// Bytes read and not yet parsed: less than `MAX_REPLY` plus one read.
    buf: Vec<u8>,
}

impl Conn {
    /// Connect to `addr` (`host:port`).
    pub async fn connect(addr: &str) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(Conn {
            tcp,
            buf: Vec::new(),
        })
    }

    /// Send one command.
    pub async fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        self.tcp.write_all(&command(args)).await
    }

    /// The next reply. Cancel-safe: bytes read stay in the buffer for the next call.
    pub async fn read(&mut self) -> io::Result<Value> {
        let mut chunk = [0u8; 16 << 10];
        loop {
            if let Some((v, used)) = parse(&self.buf)? {
                self.buf.drain(..used);
                return Ok(v);
            }
            let n = self.tcp.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(b: &[u8]) -> Value {
        Value::Bulk(Some(b.to_vec()))
    }

    /// Every reply kind, and what each parses to.
    fn samples() -> Vec<(Vec<u8>, Value)> {
        vec![
            (b"+OK\r\n".to_vec(), Value::Simple(b"OK".to_vec())),
            (b"-ERR no\r\n".to_vec(), Value::Error(b"ERR no".to_vec())),
            (b":0\r\n".to_vec(), Value::Integer(0)),
            (b":-42\r\n".to_vec(), Value::Integer(-42)),
            (
                b":9223372036854775807\r\n".to_vec(),
                Value::Integer(i64::MAX),
            ),
            (
                b":-9223372036854775808\r\n".to_vec(),
                Value::Integer(i64::MIN),
            ),
            (b"$0\r\n\r\n".to_vec(), bulk(b"")),
            (b"$-1\r\n".to_vec(), Value::Bulk(None)),
            (b"$4\r\na\r\nb\r\n".to_vec(), bulk(b"a\r\nb")),
            (b"*-1\r\n".to_vec(), Value::Array(None)),
            (b"*0\r\n".to_vec(), Value::Array(Some(vec![]))),
            (
                b"*3\r\n$7\r\nmessage\r\n$4\r\nchat\r\n$5\r\nhello\r\n".to_vec(),
                Value::Array(Some(vec![bulk(b"message"), bulk(b"chat"), bulk(b"hello")])),
            ),
            (
                b"*3\r\n$9\r\nsubscribe\r\n$4\r\nchat\r\n:1\r\n".to_vec(),
                Value::Array(Some(vec![
                    bulk(b"subscribe"),
                    bulk(b"chat"),
                    Value::Integer(1),
                ])),
            ),
            (
                b"*2\r\n*1\r\n+a\r\n-b\r\n".to_vec(),
                Value::Array(Some(vec![
                    Value::Array(Some(vec![Value::Simple(b"a".to_vec())])),
                    Value::Error(b"b".to_vec()),
                ])),
            ),
        ]
    }

    #[test]
    fn every_reply_parses_whole_and_is_incomplete_at_every_shorter_split() {
        for (wire, expected) in samples() {
            assert_eq!(
                parse(&wire),
                Ok(Some((expected.clone(), wire.len()))),
                "{wire:?}"
            );
            for cut in 0..wire.len() {
                assert_eq!(parse(&wire[..cut]), Ok(None), "{wire:?} cut at {cut}");
            }
            // With the next reply behind it, only its own bytes are taken.
            let mut two = wire.clone();
            two.extend_from_slice(b":7\r\n");
            assert_eq!(parse(&two), Ok(Some((expected, wire.len()))));
        }
    }

    #[test]
    fn a_stream_split_at_every_byte_gives_the_same_replies() {
        let all: Vec<u8> = samples().iter().flat_map(|(w, _)| w.clone()).collect();
        let expected: Vec<Value> = samples().into_iter().map(|(_, v)| v).collect();
        // Fed one byte at a time, as a reader whose reads return single bytes.
        let (mut buf, mut got) = (Vec::new(), Vec::new());
        for &b in &all {
            buf.push(b);
            while let Some((v, used)) = parse(&buf).unwrap() {
                buf.drain(..used);
                got.push(v);
            }
        }
        assert_eq!(got, expected);
        assert!(buf.is_empty());
        // Fed in two pieces, cut at every byte.
        for cut in 0..=all.len() {
            let (mut buf, mut got) = (all[..cut].to_vec(), Vec::new());
            for piece in [&[][..], &all[cut..]] {
                buf.extend_from_slice(piece);
                while let Some((v, used)) = parse(&buf).unwrap() {
                    buf.drain(..used);
                    got.push(v);
                }
            }
            assert_eq!(got, expected, "cut at {cut}");
        }
    }

    #[test]
    fn hostile_lengths_are_refused_before_their_bytes_arrive() {
        #[track_caller]
        fn refused(wire: &[u8]) -> ParseError {
            parse(wire).unwrap_err()
        }
        // Declared lengths over the bounds, with none of the bytes sent.
        assert_eq!(
            refused(format!("${}\r\n", MAX_BULK + 1).as_bytes()),
            ParseError::TooLarge("bulk string")
        );
        assert_eq!(
            refused(b"$9223372036854775807\r\n"),
            ParseError::TooLarge("bulk string")
        );
        assert_eq!(
            refused(b"$99999999999999999999\r\n"),
            ParseError::Protocol("bad integer")
        );
        assert_eq!(
            refused(format!("*{}\r\n", MAX_ARRAY + 1).as_bytes()),
            ParseError::TooLarge("array")
        );
        assert_eq!(refused(b"$-2\r\n"), ParseError::Protocol("negative length"));
        assert_eq!(refused(b"*-5\r\n"), ParseError::Protocol("negative length"));
        assert_eq!(refused(b"$+5\r\n"), ParseError::Protocol("bad integer"));
        assert_eq!(refused(b"$\r\n"), ParseError::Protocol("bad integer"));
        assert_eq!(refused(b":12a\r\n"), ParseError::Protocol("bad integer"));
        assert_eq!(
            refused(b":9223372036854775808\r\n"),
            ParseError::Protocol("integer out of range")
        );
        // A bulk string at the bound is waited for, not refused (nor allocated).
        assert_eq!(parse(format!("${MAX_BULK}\r\nabc").as_bytes()), Ok(None));
        // Nesting beyond the bound, with no leaf ever sent; at the bound it is waited for.
        assert_eq!(
            refused(&b"*1\r\n".repeat(MAX_DEPTH + 1)),
            ParseError::TooLarge("nesting")
        );
        assert_eq!(parse(&b"*1\r\n".repeat(MAX_DEPTH)), Ok(None));
        // A line that never ends.
        assert_eq!(
            refused(&vec![b'+'; MAX_LINE + 1]),
            ParseError::TooLarge("line")
        );
        assert_eq!(parse(&vec![b'+'; MAX_LINE]), Ok(None));
        // A line of the longest length is taken.
        let mut longest = vec![b'+'; MAX_LINE - 1];
        longest.extend_from_slice(b"\r\n");
        let text = vec![b'+'; MAX_LINE - 2];
        assert_eq!(
            parse(&longest),
            Ok(Some((Value::Simple(text), MAX_LINE + 1)))
        );
        // Framing errors.
        assert_eq!(refused(b"+OK\n"), ParseError::Protocol("LF without CR"));
        assert_eq!(
            refused(b"$3\r\nabcd\r\n"),
            ParseError::Protocol("bulk string without CRLF")
        );
        assert_eq!(
            refused(b"?x\r\n"),
            ParseError::Protocol("unknown type byte")
        );
    }

    #[test]
    fn a_reply_of_many_bulk_strings_is_bounded_in_total() {
        // 64 strings of 64 KiB is 4 MiB: refused once the total passes MAX_REPLY.
        let item = format!("$65536\r\n{}\r\n", "x".repeat(65536));
        let wire = format!("*{MAX_ARRAY}\r\n{}", item.repeat(MAX_ARRAY));
        assert_eq!(parse(wire.as_bytes()), Err(ParseError::TooLarge("reply")));
        // 15 of them (under 1 MiB) are fine.
        let wire = format!("*15\r\n{}", item.repeat(15));
        let Ok(Some((Value::Array(Some(items)), used))) = parse(wire.as_bytes()) else {
            panic!("15 strings of 64 KiB are one reply");
        };
        assert_eq!((items.len(), used), (15, wire.len()));
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let wire = command(&[b"PUBLISH", b"chat", b"a\r\nb"]);
        assert_eq!(
            wire,
            b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nchat\r\n$4\r\na\r\nb\r\n".to_vec()
        );
        // What the client writes, the parser reads back.
        assert_eq!(
            parse(&wire),
            Ok(Some((
                Value::Array(Some(vec![bulk(b"PUBLISH"), bulk(b"chat"), bulk(b"a\r\nb")])),
                wire.len()
            )))
        );
    }
}
