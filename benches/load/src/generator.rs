//! The load generator: connections driven by hand (one task each, reading and writing the
//! same socket without waiting on either), every echo checked against what was sent.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::wire::{self, Incoming, Outgoing, Reader};

/// The messages one workload sends, in turn (17 of them: a count that 16 in flight does
/// not divide, so each echo is compared with a payload its neighbours do not share).
pub struct Pool {
    pub messages: Vec<Outgoing>,
    pub text: bool,
    pub deflate: bool,
}

/// What kind of payload a pool holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Payload {
    Binary,
    /// UTF-8 text with some two- and three-byte characters.
    Text,
    /// Small JSON objects, as a dashboard or chat sends: compressible.
    Json,
}

impl Pool {
    pub fn new(kind: Payload, size: usize, deflate: bool) -> Pool {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ size as u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let messages = (0..17)
            .map(|i| {
                let payload = match kind {
                    Payload::Binary => (0..size).map(|_| next() as u8).collect(),
                    Payload::Text => text(size, &mut next),
                    Payload::Json => json(size, i, &mut next),
                };
                let mask = (next() as u32).to_le_bytes();
                wire::outgoing(payload, kind != Payload::Binary, deflate, mask)
            })
            .collect();
        Pool {
            messages,
            text: kind != Payload::Binary,
            deflate,
        }
    }
}

fn text(size: usize, next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let words = ["échange ", "message ", "donnée ", "€ ", "ok ", "ws "];
    let mut s = String::new();
    while s.len() < size {
        s.push_str(words[next() as usize % words.len()]);
    }
    while s.len() > size {
        s.pop();
    }
    while s.len() < size {
        s.push('.');
    }
    s.into_bytes()
}

fn json(size: usize, i: usize, next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut s = String::from("[");
    let mut n = 0;
    while s.len() + 90 < size {
        let v = next();
        s.push_str(&format!(
            "{{\"id\":{},\"user\":\"user{}\",\"price\":{}.{:02},\"live\":{}}},",
            i * 1000 + n,
            v % 97,
            v % 1000,
            v % 100,
            v.is_multiple_of(2)
        ));
        n += 1;
    }
    while s.len() + 1 < size {
        s.push(' ');
    }
    s.push(']');
    s.into_bytes()
}

/// Connect and open a WebSocket at `path`, retrying a refused or reset connect a few
/// times (a listen queue full for a moment while thousands connect).
pub async fn connect(
    addr: SocketAddr,
    path: &str,
    deflate: bool,
) -> io::Result<(TcpStream, Vec<u8>)> {
    let mut tries = 0;
    loop {
        let attempt = async {
            let mut tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let leftover = wire::open(&mut tcp, path, deflate).await?;
            Ok::<_, io::Error>((tcp, leftover))
        };
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(open)) => return Ok(open),
            Ok(Err(e)) if tries < 5 && e.kind() != io::ErrorKind::InvalidData => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20 << tries)).await;
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake over 10 s",
                ));
            }
        }
    }
}

/// The phases of an echo run, as instants.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

/// What one connection counted inside the window.
pub struct Counted {
    pub echoes: u64,
    pub latency: Histogram<u64>,
}

/// Drive one echo connection: keep `in_flight` messages outstanding until `window.end`,
/// checking each echo; then stop sending, take the outstanding echoes, close. Reading and
/// writing are two futures of one task on the socket's halves, each awaiting its own side.
///
/// With `raw` (the `raw-tcp` column) there is no handshake and no close, and each echo must
/// be the very frame sent, byte for byte.
pub async fn echo_connection(
    id: usize,
    addr: SocketAddr,
    pool: std::sync::Arc<Pool>,
    in_flight: usize,
    window: Window,
    drain_deadline: Instant,
    raw: bool,
) -> io::Result<Counted> {
    let (mut tcp, leftover) = if raw {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        (tcp, Vec::new())
    } else {
        connect(addr, "/echo", pool.deflate).await?
    };
    let max = pool
        .messages
        .iter()
        .map(|m| m.payload.len())
        .max()
        .unwrap_or(0)
        + 1024;
    let mut reader = Reader::new(leftover, pool.deflate, max);
    let mut counted = Counted {
        echoes: 0,
        latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
    };
    // Frames to write (filled by the reading side, taken by the writing side), and whether
    // the reading side is done.
    let out = std::cell::RefCell::new(Vec::<u8>::new());
    let finished = std::cell::Cell::new(false);
    let wake_writer = tokio::sync::Notify::new();
    let mut sent: VecDeque<(Instant, usize)> = VecDeque::with_capacity(in_flight);
    let mut next = id * 5;
    let sent_count = std::cell::Cell::new(0usize);
    let mut queue = |sent: &mut VecDeque<_>, now| {
        sent_count.set(sent_count.get() + 1);
        let k = next % pool.messages.len();
        next += 1;
        let mut out = out.borrow_mut();
        // Only a first frame wakes the writer: it takes everything queued when it runs
        // (a `notify_one` per message was 10% of the generator's CPU at 1 KiB).
        if out.is_empty() {
            wake_writer.notify_one();
        }
        out.extend_from_slice(&pool.messages[k].frame);
        sent.push_back((now, k));
    };
    let now = Instant::now();
    for _ in 0..in_flight {
        queue(&mut sent, now);
    }
    let (mut rx, mut tx) = tcp.split();
    let reading = async {
        while !(Instant::now() >= window.end && sent.is_empty()) {
            let read = reader.read_from(&mut rx);
            match tokio::time::timeout_at(drain_deadline.into(), read).await {
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connection {id}: {} of {} echoes missing at the deadline",
                            sent.len(),
                            sent_count.get()
                        ),
                    ));
                }
                Ok(Ok(0)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed",
                    ));
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
            }
            let now = Instant::now();
            loop {
                // Whether the echo is right, its length and the length it should have.
                let (same, got, want) = if raw {
                    let Some(&(_, k)) = sent.front() else {
                        break; // nothing outstanding (bytes beyond it fail the next check)
                    };
                    let frame = &pool.messages[k].frame;
                    match reader.take_raw(frame.len()) {
                        Some(echo) => (echo == frame.as_slice(), echo.len(), frame.len()),
                        None => break,
                    }
                } else {
                    let Some(message) = reader.next_message()? else {
                        break;
                    };
                    let Incoming::Data { text, payload } = message else {
                        return Err(io::Error::other("server sent a close"));
                    };
                    let Some(&(_, k)) = sent.front() else {
                        return Err(io::Error::other("an echo of nothing sent"));
                    };
                    let expected = &pool.messages[k].payload;
                    (
                        text == pool.text && payload == expected.as_slice(),
                        payload.len(),
                        expected.len(),
                    )
                };
                let (at, _) = sent.pop_front().expect("front checked above");
                if !same {
                    return Err(io::Error::other(format!(
                        "connection {id}: echo differs from the message sent ({got} bytes, expected {want})"
                    )));
                }
                if now >= window.start && now < window.end {
                    counted.echoes += 1;
                    let micros = (now - at).as_micros().max(1) as u64;
                    let _ = counted.latency.record(micros);
                }
                if now < window.end {
                    queue(&mut sent, now);
                }
            }
        }
        Ok(())
    };
    // However reading ends (done, or failed), the writing side ends after it.
    let reading = async {
        let result = reading.await;
        finished.set(true);
        wake_writer.notify_one();
        result
    };
    let writing = async {
        let mut buf = Vec::new();
        loop {
            std::mem::swap(&mut buf, &mut *out.borrow_mut());
            if buf.is_empty() {
                if finished.get() {
                    return if raw {
                        tx.shutdown().await
                    } else {
                        tx.write_all(&wire::CLOSE).await
                    };
                }
                wake_writer.notified().await;
                continue;
            }
            tx.write_all(&buf).await?;
            buf.clear();
        }
    };
    let (read, write) = tokio::join!(reading, writing);
    read?;
    let _ = write; // the server may close first once it has our close frame
    Ok(counted)
}

/// Open a connection, send one message and check its echo, then hold the connection idle
/// until `release` resolves. For the memory-per-idle-connection workload.
pub async fn one_message_then_idle(
    addr: SocketAddr,
    pool: Rc<Pool>,
    id: usize,
    release: Rc<tokio::sync::Notify>,
    done: Rc<std::cell::Cell<usize>>,
    connecting: tokio::sync::OwnedSemaphorePermit,
) -> io::Result<()> {
    let (mut tcp, leftover) = connect(addr, "/echo", pool.deflate).await?;
    let message = &pool.messages[id % pool.messages.len()];
    tcp.write_all(&message.frame).await?;
    let mut reader = Reader::new(leftover, pool.deflate, message.payload.len() + 1024);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(Incoming::Data { payload, .. }) = reader.next_message()? {
            if payload != message.payload.as_slice() {
                return Err(io::Error::other("echo differs"));
            }
            break;
        }
        tokio::time::timeout_at(deadline.into(), tcp.readable())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no echo in 20 s"))??;
        match reader.try_read(&tcp) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed",
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    done.set(done.get() + 1);
    drop(connecting); // the next connection may start
    release.notified().await;
    let _ = tcp.write_all(&wire::CLOSE).await;
    Ok(())
}

/// What the subscribers of a broadcast workload received, round by round.
pub struct Arrivals {
    /// How many subscribers have each round's message.
    pub counts: Vec<Cell<usize>>,
    /// How many subscribers there are: `all_in` is notified when a round's count reaches it.
    pub total: usize,
    pub all_in: Notify,
    /// Whether every message must be text (`Some(true)`), binary, or may be either.
    pub text: Option<bool>,
    /// When timed: for each round, (subscriber, when the bytes that completed it reached
    /// its socket: the kernel's stamp, which needs `sys::stamp_arrivals` on the socket).
    pub at: Option<Vec<RefCell<Arrived>>>,
}

/// One round's arrivals: (subscriber, when).
pub type Arrived = Vec<(usize, Instant)>;

impl Arrivals {
    pub fn new(rounds: usize, total: usize, text: Option<bool>, timed: bool) -> Arrivals {
        Arrivals {
            counts: (0..rounds).map(|_| Cell::new(0)).collect(),
            total,
            all_in: Notify::new(),
            text,
            at: timed.then(|| {
                (0..rounds)
                    .map(|_| RefCell::new(Vec::with_capacity(total)))
                    .collect()
            }),
        }
    }
}

/// A broadcast subscriber (workload 3's `/sub`, workload 5's chat clients): reads each
/// message that arrives, checks it is `expected[round]`, counts it in `arrivals` (and
/// notes when, if timed), until every round is in; returns the reader, with any bytes
/// read past the last round. `id` names it in errors and in `arrivals.at`.
pub async fn subscriber(
    id: usize,
    tcp: Rc<TcpStream>,
    leftover: Vec<u8>,
    expected: Rc<Vec<Vec<u8>>>,
    arrivals: Rc<Arrivals>,
) -> io::Result<Reader> {
    let mut reader = Reader::new(leftover, false, 1 << 20);
    let mut round = 0;
    let mut now = Instant::now();
    while round < expected.len() {
        while round < expected.len() {
            let Some(message) = reader.next_message()? else {
                break;
            };
            let Incoming::Data { text, payload } = message else {
                return Err(io::Error::other(format!(
                    "subscriber {id}: the server closed it before round {round}"
                )));
            };
            if payload != expected[round].as_slice() || arrivals.text.is_some_and(|t| t != text) {
                return Err(io::Error::other(format!(
                    "subscriber {id}: message {round} differs from the one sent ({} bytes{}), \
                     or is a duplicate",
                    payload.len(),
                    if text { ", text" } else { ", binary" }
                )));
            }
            if let Some(at) = &arrivals.at {
                at[round].borrow_mut().push((id, now));
            }
            let count = &arrivals.counts[round];
            count.set(count.get() + 1);
            if count.get() == arrivals.total {
                arrivals.all_in.notify_one();
            }
            round += 1;
        }
        if round == expected.len() {
            break;
        }
        tcp.readable().await?;
        // Timed: when the bytes reached the socket (the kernel's stamp), not when this
        // task, one of thousands on the generator's core, got to them.
        let read = if arrivals.at.is_some() {
            reader.try_read_stamped(&tcp)
        } else {
            reader.try_read(&tcp).map(|n| (n, None))
        };
        match read {
            Ok((0, _)) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("subscriber {id}: the server closed before round {round}"),
                ));
            }
            Ok((_, Some(stamp))) => now = stamp,
            Ok((_, None)) if arrivals.at.is_some() => {
                return Err(io::Error::other(format!(
                    "subscriber {id}: a read without the kernel's arrival stamp \
                     (SO_TIMESTAMPNS not on?)"
                )));
            }
            Ok((_, None)) => now = Instant::now(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reader)
}

/// Write all of `bytes` to a stream shared with a reading task (`&TcpStream`).
pub async fn write_shared(tcp: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        tcp.writable().await?;
        match tcp.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// How the test server answers the `raw-tcp` generator.
    #[derive(Clone, Copy)]
    enum Answer {
        /// Every byte back, as a correct raw echo does.
        Same,
        /// One bit of the stream's byte 100 flipped.
        Flip,
        /// Every read written back twice.
        Twice,
    }

    async fn raw_echo_against(answer: Answer) -> io::Result<Counted> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            let mut seen = 0;
            while let Ok(n @ 1..) = tcp.read(&mut buf).await {
                if matches!(answer, Answer::Flip) && (seen..seen + n).contains(&100) {
                    buf[100 - seen] ^= 1;
                }
                seen += n;
                let copies = if matches!(answer, Answer::Twice) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    if tcp.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        });
        let pool = std::sync::Arc::new(Pool::new(Payload::Binary, 16, false));
        let start = Instant::now() + Duration::from_millis(20);
        let window = Window {
            start,
            end: start + Duration::from_millis(200),
        };
        let drain = window.end + Duration::from_secs(5);
        echo_connection(0, addr, pool, 4, window, drain, true).await
    }

    fn run(answer: Answer) -> io::Result<Counted> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(raw_echo_against(answer))
    }

    /// The `raw-tcp` column is checked like the stacks: a byte changed or an echo repeated
    /// fails the run, and only a faithful echo counts.
    #[test]
    fn raw_echoes_are_checked_byte_for_byte() {
        let counted = run(Answer::Same).expect("a faithful echo passes");
        assert!(counted.echoes > 0);
        let flipped = run(Answer::Flip).err().expect("a flipped bit fails");
        assert!(flipped.to_string().contains("differs"), "{flipped}");
        assert!(run(Answer::Twice).is_err(), "a repeated echo fails");
    }
}
