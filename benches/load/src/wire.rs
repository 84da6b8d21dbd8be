//! The generator's own WebSocket client side, written here from RFC 6455 and RFC 7692 and
//! sharing no code with the stacks under test, so it is an independent oracle: the opening
//! handshake (checking `Sec-WebSocket-Accept`), masked frames built in advance, and a
//! frame reader that reassembles, inflates and returns whole server messages.

use std::io;

use base64::Engine;
use miniz_oxide::{DataFormat, MZFlush, MZStatus};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The client's request: `path`, and with `deflate` the offer a browser sends.
pub async fn open(tcp: &mut TcpStream, path: &str, deflate: bool) -> io::Result<Vec<u8>> {
    let key = base64::engine::general_purpose::STANDARD.encode(*b"rfc6455-load-key");
    let offer = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let end = loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > 8192 {
            return Err(bad("response head over 8 KiB"));
        }
        let mut chunk = [0u8; 1024];
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("closed during the handshake"));
        }
        head.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !text.starts_with("http/1.1 101") {
        return Err(bad("no 101"));
    }
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    let accept = base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes());
    let header = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    if header("sec-websocket-accept:") != Some(accept.to_ascii_lowercase()) {
        return Err(bad("wrong Sec-WebSocket-Accept"));
    }
    let negotiated =
        header("sec-websocket-extensions:").is_some_and(|e| e.starts_with("permessage-deflate"));
    if negotiated != deflate {
        return Err(bad("permessage-deflate not negotiated as asked"));
    }
    Ok(head[end..].to_vec())
}

fn bad(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

/// One message the generator sends: its payload (to check the echo against) and its
/// whole masked frame.
pub struct Outgoing {
    pub payload: Vec<u8>,
    pub frame: Vec<u8>,
}

/// Build the masked client frame for `payload` (text or binary; with `deflate`, the
/// payload compressed on its own, from an empty window, with RSV1 set).
pub fn outgoing(payload: Vec<u8>, text: bool, deflate: bool, mask: [u8; 4]) -> Outgoing {
    let mut body = if deflate {
        compress(&payload)
    } else {
        payload.clone()
    };
    let opcode = if text { 0x1 } else { 0x2 };
    let mut frame = vec![0x80 | opcode | if deflate { 0x40 } else { 0 }];
    match body.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    for (i, b) in body.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    frame.extend_from_slice(&body);
    Outgoing { payload, frame }
}

/// Raw DEFLATE with a sync flush, the trailing `00 00 ff ff` removed (RFC 7692 7.2.1).
fn compress(payload: &[u8]) -> Vec<u8> {
    let mut compressor = miniz_oxide::deflate::core::CompressorOxide::new(
        miniz_oxide::deflate::core::create_comp_flags_from_zip_params(6, -15, 0),
    );
    let mut out = vec![0u8; payload.len() + 64];
    let result =
        miniz_oxide::deflate::stream::deflate(&mut compressor, payload, &mut out, MZFlush::Sync);
    assert_eq!(
        result.bytes_consumed,
        payload.len(),
        "compress buffer too small"
    );
    out.truncate(result.bytes_written);
    assert!(
        out.ends_with(&[0, 0, 0xff, 0xff]),
        "a sync flush ends with an empty block"
    );
    out.truncate(out.len() - 4);
    out
}

/// The client's close frame (1000, masked with a zero key), sent before hanging up.
pub const CLOSE: [u8; 8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];

/// Reads whole server messages out of the bytes received, checking the rules a server's
/// frames must keep (no mask, no reserved bits but RSV1 when deflate is on, control frames
/// whole and small), reassembling fragments and inflating compressed messages.
pub struct Reader {
    /// Received bytes are `buf[start..end]`; `buf[end..]` is zeroed room kept between reads
    /// (zeroing 64 KiB of room for every read was 6% of the generator's CPU at 1 KiB).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    message: Vec<u8>,
    in_message: Option<(bool, bool)>, // (text, compressed)
    inflater: Option<Box<miniz_oxide::inflate::stream::InflateState>>,
    max_message: usize,
}

/// A whole message from the server.
pub enum Incoming<'a> {
    Data { text: bool, payload: &'a [u8] },
    Close,
}

impl Reader {
    pub fn new(leftover: Vec<u8>, deflate: bool, max_message: usize) -> Self {
        Reader {
            end: leftover.len(),
            buf: leftover,
            start: 0,
            message: Vec::new(),
            in_message: None,
            inflater: deflate
                .then(|| miniz_oxide::inflate::stream::InflateState::new_boxed(DataFormat::Raw)),
            max_message,
        }
    }

    /// Read once from `from` into the buffer, waiting for bytes; `Ok(0)` is the end.
    pub async fn read_from(&mut self, from: &mut (impl AsyncRead + Unpin)) -> io::Result<usize> {
        let len = self.make_room();
        let result = from.read(&mut self.buf[len..]).await;
        self.end += *result.as_ref().unwrap_or(&0);
        result
    }

    /// Read once from `tcp` (without waiting) into the buffer; `Ok(0)` is the end.
    pub fn try_read(&mut self, tcp: &TcpStream) -> io::Result<usize> {
        let len = self.make_room();
        let result = tcp.try_read(&mut self.buf[len..]);
        self.end += *result.as_ref().unwrap_or(&0);
        result
    }

    /// [`Reader::try_read`], also returning when the last segment read reached the socket
    /// (see [`crate::sys::recv_stamped`]; `None` unless [`crate::sys::stamp_arrivals`] is on).
    pub fn try_read_stamped(
        &mut self,
        tcp: &TcpStream,
    ) -> io::Result<(usize, Option<std::time::Instant>)> {
        use std::os::fd::AsRawFd;
        let len = self.make_room();
        let fd = tcp.as_raw_fd();
        let buf = &mut self.buf[len..];
        let result = tcp.try_io(tokio::io::Interest::READABLE, || {
            crate::sys::recv_stamped(fd, buf)
        });
        self.end += result.as_ref().map_or(0, |r| r.0);
        result
    }

    /// Drop what was parsed and make sure of 64 KiB of room after the bytes received;
    /// returns where the room starts.
    fn make_room(&mut self) -> usize {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.start > 64 << 10 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() < self.end + (64 << 10) {
            self.buf.resize(self.end + (64 << 10), 0);
        }
        self.end
    }

    /// The next `len` bytes as they came, or `None` while fewer are in: the `raw-tcp`
    /// column's echoes, which are the client's frames sent back unparsed.
    pub fn take_raw(&mut self, len: usize) -> Option<&[u8]> {
        let at = self.start;
        (self.end - at >= len).then(|| {
            self.start += len;
            &self.buf[at..at + len]
        })
    }

    /// The next whole message in the buffer, or `None` when more bytes are needed.
    pub fn next_message(&mut self) -> io::Result<Option<Incoming<'_>>> {
        loop {
            let Some((head, len)) = self.frame_at(self.start)? else {
                return Ok(None);
            };
            let [b0, _] = head;
            let (fin, rsv1, opcode) = (b0 & 0x80 != 0, b0 & 0x40 != 0, b0 & 0x0f);
            let payload_start = self.start + len.0;
            let payload = payload_start..payload_start + len.1;
            self.start = payload.end;
            match opcode {
                0x8 => return Ok(Some(Incoming::Close)),
                0x9 | 0xA => continue, // a ping (no keep-alive here) or a pong
                0x0..=0x2 => {}
                _ => return Err(bad("reserved opcode")),
            }
            match (opcode, self.in_message) {
                (0x0, None) => return Err(bad("continuation with no message")),
                (0x1 | 0x2, Some(_)) => return Err(bad("new message inside a fragmented one")),
                (0x1 | 0x2, None) => {
                    if rsv1 && self.inflater.is_none() {
                        return Err(bad("RSV1 without permessage-deflate"));
                    }
                    if fin && !rsv1 {
                        // A whole uncompressed message in one frame: checked where it lies
                        // (copying it out first was 3% of the generator's CPU at 1 KiB).
                        return Ok(Some(Incoming::Data {
                            text: opcode == 0x1,
                            payload: &self.buf[payload],
                        }));
                    }
                    self.in_message = Some((opcode == 0x1, rsv1));
                    self.message.clear();
                }
                _ if rsv1 => return Err(bad("RSV1 on a continuation")),
                _ => {}
            }
            if self.message.len() + payload.len() > self.max_message {
                return Err(bad("message over the generator's bound"));
            }
            self.message.extend_from_slice(&self.buf[payload]);
            if !fin {
                continue;
            }
            let (text, compressed) = self.in_message.take().expect("set above");
            if compressed {
                self.inflate()?;
            }
            return Ok(Some(Incoming::Data {
                text,
                payload: &self.message,
            }));
        }
    }

    /// The header of the frame at `at` and (header length, payload length) when the whole
    /// frame is in the buffer.
    fn frame_at(&self, at: usize) -> io::Result<Option<FrameAt>> {
        let b = &self.buf[at..self.end];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[1] & 0x80 != 0 {
            return Err(bad("a server frame is masked"));
        }
        if b[0] & 0x30 != 0 {
            return Err(bad("RSV2 or RSV3 set"));
        }
        let (header, len) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (4, u16::from_be_bytes([b[2], b[3]]) as usize),
            127 if b.len() >= 10 => (
                10,
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
            ),
            126 | 127 => return Ok(None),
            n => (2, n as usize),
        };
        if b[0] & 0x08 != 0 && (b[0] & 0x80 == 0 || len > 125) {
            return Err(bad("control frame fragmented or over 125 bytes"));
        }
        if len > self.max_message {
            return Err(bad("frame over the generator's bound"));
        }
        Ok((b.len() >= header + len).then_some(([b[0], b[1]], (header, len))))
    }

    /// Inflate the message in place: its payload and `00 00 ff ff` (RFC 7692 7.2.2).
    fn inflate(&mut self) -> io::Result<()> {
        let state = self.inflater.as_mut().expect("checked: RSV1 needs deflate");
        let mut input = std::mem::take(&mut self.message);
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::with_capacity(input.len() * 4);
        let mut at = 0;
        loop {
            out.resize(out.len().max(at + 4096) * 2, 0);
            if out.len() > self.max_message * 2 + 8192 {
                return Err(bad("inflated over the generator's bound"));
            }
            let r =
                miniz_oxide::inflate::stream::inflate(state, &input, &mut out[at..], MZFlush::Sync);
            input.drain(..r.bytes_consumed);
            at += r.bytes_written;
            match r.status {
                // A final block ends the stream: the next message starts a new one.
                Ok(MZStatus::StreamEnd) => {
                    state.reset(DataFormat::Raw);
                    if input.iter().all(|&b| b == 0 || b == 0xff) {
                        break;
                    }
                }
                Ok(_) if input.is_empty() && at < out.len() => break,
                Ok(_) => {}
                // No progress with every byte taken: the output was exactly full.
                Err(miniz_oxide::MZError::Buf) if input.is_empty() => break,
                Err(e) => return Err(bad(&format!("inflate failed: {e:?}"))),
            }
        }
        out.truncate(at);
        if at > self.max_message {
            return Err(bad("inflated over the generator's bound"));
        }
        self.message = out;
        Ok(())
    }
}

/// A whole frame's first two bytes, and its (header length, payload length).
type FrameAt = ([u8; 2], (usize, usize));

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Hands out `data` at most `chunk` bytes per read.
    struct Chunked {
        data: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl AsyncRead for Chunked {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self
                .chunk
                .min(self.data.len() - self.at)
                .min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    /// An unmasked server frame, its length in the shortest form.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![b0];
        match payload.len() {
            n @ 0..=125 => f.push(n as u8),
            n @ 126..=0xffff => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    /// Every message of `data`, read `chunk` bytes at a time, as (text, payload).
    fn messages(data: Vec<u8>, chunk: usize) -> io::Result<Vec<(bool, Vec<u8>)>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut from = Chunked { data, at: 0, chunk };
            let mut reader = Reader::new(Vec::new(), false, 1 << 20);
            let mut got = Vec::new();
            while reader.read_from(&mut from).await? > 0 {
                while let Some(message) = reader.next_message()? {
                    match message {
                        Incoming::Data { text, payload } => got.push((text, payload.to_vec())),
                        Incoming::Close => return Ok(got),
                    }
                }
            }
            Ok(got)
        })
    }

    /// Whole messages, a fragmented one with a ping between its fragments and a close,
    /// read in every chunk size from 1 byte to more than the whole stream: the same
    /// messages each time, whether a message is taken where it lies or reassembled.
    #[test]
    fn messages_come_out_whole_however_the_reads_split_them() {
        let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut data = frame(0x82, b"one");
        data.extend(frame(0x01, b"fra"));
        data.extend(frame(0x89, b"ping"));
        data.extend(frame(0x80, b"gment"));
        data.extend(frame(0x82, &big));
        data.extend(frame(0x81, b""));
        data.extend(frame(0x88, &[0x03, 0xe8]));
        let expected = vec![
            (false, b"one".to_vec()),
            (true, b"fragment".to_vec()),
            (false, big.clone()),
            (true, Vec::new()),
        ];
        for chunk in [1, 2, 3, 7, 100, 4096, 65_536, 1 << 20] {
            assert_eq!(
                messages(data.clone(), chunk).unwrap(),
                expected,
                "chunk {chunk}"
            );
        }
    }

    /// Past 64 KiB of parsed bytes with part of a frame left, the reader moves the rest to
    /// the front of its buffer: 200 messages of 1 KiB read 70,000 bytes at a time (each
    /// read ends inside a frame) all come out, in order, each with its own bytes.
    #[test]
    fn a_partial_frame_moved_to_the_front_keeps_its_bytes() {
        let mut data = Vec::new();
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let payload: Vec<u8> = (0..1024u32).map(|j| (i * 7 + j) as u8).collect();
            data.extend(frame(0x82, &payload));
            expected.push((false, payload));
        }
        assert_eq!(messages(data, 70_000).unwrap(), expected);
    }

    /// `take_raw` hands out exactly the bytes asked for, in order, across reads that split
    /// them anywhere, and takes nothing while fewer are in.
    #[test]
    fn raw_takes_come_out_whole_however_the_reads_split_them() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let sizes = [1, 22, 1030, 7, 3000, 940];
        assert_eq!(sizes.iter().sum::<usize>(), data.len());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for chunk in [1, 3, 100, 1024, 1 << 20] {
            let got = rt.block_on(async {
                let mut from = Chunked {
                    data: data.clone(),
                    at: 0,
                    chunk,
                };
                let mut reader = Reader::new(Vec::new(), false, 1 << 20);
                let mut got = Vec::new();
                for &n in &sizes {
                    loop {
                        if let Some(bytes) = reader.take_raw(n) {
                            got.push(bytes.to_vec());
                            break;
                        }
                        assert!(
                            reader.read_from(&mut from).await.unwrap() > 0,
                            "chunk {chunk}"
                        );
                    }
                }
                assert!(reader.take_raw(1).is_none(), "nothing beyond the stream");
                got
            });
            let mut at = 0;
            for (bytes, &n) in got.iter().zip(&sizes) {
                assert_eq!(bytes.as_slice(), &data[at..at + n], "chunk {chunk}");
                at += n;
            }
        }
    }

    /// The checks a server's frames must pass still apply to a message taken where it lies.
    #[test]
    fn a_masked_or_reserved_frame_is_refused() {
        let mut masked = frame(0x82, b"abc");
        masked[1] |= 0x80;
        assert!(messages(masked, 64).is_err());
        assert!(messages(frame(0xA2, b"abc"), 64).is_err()); // RSV2
        assert!(messages(frame(0xC2, b"abc"), 64).is_err()); // RSV1 without deflate
        assert!(messages(frame(0x83, b"abc"), 64).is_err()); // opcode 3
        assert!(messages(frame(0x80, b"abc"), 64).is_err()); // continuation of nothing
    }
}
