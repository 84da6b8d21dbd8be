//! [`WebSocketStream`]: a [`Connection`] driven over tokio I/O.

use std::future::Future;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use rfc6455::bytes::BufMut;
use rfc6455::close::CloseCode;
use rfc6455::connection::{Config, Connection, Event, PreparedMessage, SendError, State};
use rfc6455::keepalive::{KeepAlive, KeepAliveConfig, Timeout};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::{CloseFrame, Error, Message};

/// The first read of each wake-up goes into a buffer this small on the stack, so that an
/// idle connection, whose read is pending, holds no read buffer of its own.
const FIRST_READ: usize = 2048;
/// When the first read filled its buffer, more is ready: read on straight into the
/// connection's input buffer in pieces of this size.
const READ_CHUNK: usize = 64 * 1024;
/// At most this many reads per wake-up (at most `FIRST_READ + (MAX_READS - 1) * READ_CHUNK`
/// bytes, or `MAX_READS * READ_CHUNK` when the first goes straight into the connection's
/// buffer: see `Reading`), so that one fast peer cannot hold the task.
const MAX_READS: usize = 16;
/// Where the first read of a wake-up goes.
///
/// A busy connection (16 messages of 1 KiB in flight) is woken with about 16 KiB ready: a
/// first read on the stack then costs a second `recv` for the rest, a copy of the first
/// 2 KiB, and a buffer grown from 2 KiB to its read size. So after a wake-up that read
/// more than `FIRST_READ`, the first read of the next wake-up goes straight into the
/// connection's buffer. Only of the next wake-up: right after a short read the transport
/// has nothing more (tokio answers the next read with `Pending` and no `recv`), and a
/// read into the connection's buffer that waits has allocated that buffer for nothing.
/// In benches/load (ours alone, 5 alternated runs against the stack-first build,
/// 2026-12-07, Intel Xeon guest), echoes per server CPU-second rose 7.0% at 1 KiB, 5.4% on
/// text and 4.7% at 64 KiB; 16 B and 1 in flight, whose wake-ups fit the stack buffer, moved
/// within 2.5%. `read_direct` is kept out of line: inlined at both of its calls, the
/// broadcast's server CPU rose 5% (6 alternated runs), with tokio's `poll_readiness` in its
/// own frame in the profile (1.7%, inlined before); out of line, level (4 runs).
/// tests/read_paths.rs feeds both paths the same frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Read on the stack first.
    Stack,
    /// On the stack for now; the last reads were more than `FIRST_READ`, so straight into
    /// the connection's buffer once the transport has made the task wait.
    StackThenBusy,
    /// Straight into the connection's buffer.
    Direct,
}
/// Slices per vectored write.
const WRITE_SLICES: usize = 64;
/// Output in one slice, or in several totalling at most this, is written with one
/// `poll_write` (a `send` on a `TcpStream`), the slices copied into one buffer on the stack
/// first; larger output in several slices goes out with `poll_write_vectored` (a `writev`).
/// On Linux a socket's `writev` passes through the file layer that `send` skips: in the
/// broadcast of benches/load (1 KiB, a header and a shared payload per subscriber)
/// `vfs_writev`, `sock_write_iter` and `fdget_pos` were 10% of the server's CPU against 6%
/// for fastwebsockets' `sendto`. This path took the server's CPU per broadcast from 68.5 to
/// 65.5 ms and from 66.75 to 64.5 ms (-4.4% and -3.4%, medians of 6 and 8 alternations,
/// 2026-12-07, Intel Xeon guest); the echo rows moved +1% to +3%. The copy is at most 2 KiB,
/// the size of the stack buffer of the first read (tests/write_paths.rs feeds both paths).
const GATHER: usize = 2048;

/// A WebSocket over an async transport `S`: a [`Stream`] of received [`Message`]s and a
/// [`Sink`] of messages to send, with inherent async [`next`](Self::next),
/// [`send`](Self::send), [`ping`](Self::ping) and [`close`](Self::close).
///
/// Pings are answered and the peer's close frame replied to by the driver, as long as the
/// stream is polled (read from); the close handshake is reported once, as
/// [`Message::Close`], and the stream ends after it.
#[derive(Debug)]
pub struct WebSocketStream<S> {
    io: S,
    conn: Connection,
    /// The transport was shut down (or failed) after the connection closed.
    shut: bool,
    /// The stream has returned `None`.
    ended: bool,
    /// A message the codec refused with `QueueFull`, sent again once output drains.
    parked: Option<Message>,
    /// The transport reported its end (or failed).
    read_eof: bool,
    /// Where the next read goes.
    reading: Reading,
    /// A transport error was returned: the 1006 end that follows it is not reported again.
    io_failed: bool,
    /// See [`set_close_timeout`](Self::set_close_timeout).
    close_timeout: Duration,
    /// Started when the connection closed.
    close_timer: Option<Pin<Box<Sleep>>>,
    /// See [`set_keepalive`](Self::set_keepalive); boxed, so that a stream without it stays
    /// small.
    keepalive: Option<Box<KeepAliveTimer>>,
    /// Bytes written to the transport so far: a change tells the other half of a
    /// [`split`](Self::split) stream that output room was made.
    pub(crate) written: u64,
}

/// The codec's [`KeepAlive`] on tokio's clock.
#[derive(Debug)]
struct KeepAliveTimer {
    state: KeepAlive,
    /// The origin of the durations `state` is given.
    epoch: Instant,
    /// Set to `state`'s next deadline.
    sleep: Pin<Box<Sleep>>,
    /// The deadline `sleep` is set to.
    deadline: Duration,
}

/// The default [`WebSocketStream::set_close_timeout`].
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Wrap a transport and a connection (open or mid-handshake); `leftover` bytes were
    /// read from the transport already (e.g. past an HTTP upgrade done elsewhere).
    pub fn from_parts(io: S, conn: Connection, leftover: &[u8]) -> Self {
        let mut ws = WebSocketStream {
            io,
            conn,
            shut: false,
            ended: false,
            parked: None,
            read_eof: false,
            reading: Reading::Stack,
            io_failed: false,
            close_timeout: CLOSE_TIMEOUT,
            close_timer: None,
            keepalive: None,
            written: 0,
        };
        if !leftover.is_empty() {
            ws.conn.receive(leftover);
        }
        ws
    }

    /// A server over a transport whose opening handshake was done elsewhere.
    pub fn server(io: S, config: Config) -> Self {
        Self::from_parts(io, Connection::upgraded_server(config), &[])
    }

    /// A client over a transport whose opening handshake was done elsewhere. Its masking
    /// keys are seeded from the operating system's randomness.
    ///
    /// # Errors
    /// When the operating system gives no randomness.
    pub fn client(io: S, config: Config) -> Result<Self, Error> {
        let seed = crate::handshake::seed()?;
        Ok(Self::from_parts(
            io,
            Connection::upgraded_client(config, seed),
            &[],
        ))
    }

    /// The connection state machine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection state machine, e.g. to queue fragments (then flush).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably (reading or writing it directly breaks the connection).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The transport and the connection.
    pub fn into_parts(self) -> (S, Connection) {
        (self.io, self.conn)
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        self.conn.state()
    }

    /// The next message, or `None` once the connection has ended (after the close
    /// handshake, a failure, or the transport's end). Pending output (pongs, close
    /// replies, our sends) is written while waiting.
    ///
    /// Cancel-safe: bytes read are kept in the connection, so dropping the future (e.g.
    /// in `tokio::select!`) loses no data; the next call carries on.
    pub async fn next(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Send a message and write it out (all pending output). Waits while the output is
    /// over the codec's bound ([`Config::max_queued_output`]).
    ///
    /// Not cancel-safe once the message is queued: cancelling then leaves it queued (it
    /// is written by the next call that writes); cancelled before, it was not sent.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_inner(cx)).await?;
        self.start_send_inner(message)?;
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Queue a message without writing it (waiting, as `send` does, while the output is
    /// over the bound): it is written by the next call that writes, [`next`](Self::next)
    /// once the messages already received are taken (before it waits for more),
    /// [`flush`](Self::flush) or [`send`](Self::send). An echo loop that feeds its
    /// replies answers a burst of small messages with one vectored write instead of one
    /// per message. Cancel-safe until the message is queued (as `send`).
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_inner(cx)).await?;
        self.start_send_inner(message)
    }

    /// Send a [`PreparedMessage`] (a message encoded once for many connections, its
    /// payload shared rather than copied: see [`Connection::send_prepared`]) and write it
    /// out, waiting as [`send`](Self::send) does. Cancel safety as for `send`.
    ///
    /// ```no_run
    /// use rfc6455::connection::{Message, PreparedMessage};
    /// use rfc6455_tokio::WebSocketStream;
    /// use tokio::net::TcpStream;
    ///
    /// async fn broadcast(
    ///     clients: &mut [WebSocketStream<TcpStream>],
    ///     text: String,
    /// ) -> Result<(), rfc6455_tokio::Error> {
    ///     let prepared = PreparedMessage::new(Message::text(text)); // encoded once
    ///     for client in clients {
    ///         client.send_prepared(&prepared).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.feed_prepared(message).await?;
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Queue a [`PreparedMessage`] without writing it, as [`feed`](Self::feed) queues a
    /// message. Cancel-safe until the message is queued.
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_inner(cx)).await?;
        poll_fn(|cx| self.poll_queue_prepared(cx, message)).await
    }

    /// Queue `message`; while the frame does not fit under the bound, write all pending
    /// output first (an empty queue takes any one frame).
    pub(crate) fn poll_queue_prepared(
        &mut self,
        cx: &mut Context<'_>,
        message: &PreparedMessage,
    ) -> Poll<Result<(), Error>> {
        loop {
            if self.ended {
                return Poll::Ready(Err(Error::AlreadyClosed));
            }
            match self.conn.send_prepared(message) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(SendError::QueueFull { .. }) => {
                    if let Err(e) = ready!(self.poll_write_out(cx)) {
                        return Poll::Ready(Err(Error::Io(e)));
                    }
                }
                Err(SendError::NotOpen(_)) => return Poll::Ready(Err(self.not_open())),
                Err(e) => return Poll::Ready(Err(Error::Send(e))),
            }
        }
    }

    /// Send a ping with `payload` (at most 125 bytes). Cancel safety as for `send`.
    pub async fn ping(&mut self, payload: impl Into<rfc6455::bytes::Bytes>) -> Result<(), Error> {
        self.send(Message::Ping(payload.into())).await
    }

    /// Start the closing handshake: send a close frame with `code` and `reason` and write
    /// it out. Keep reading ([`next`](Self::next)): the peer's reply arrives as
    /// [`Message::Close`], then the stream ends. Cancel safety as for `send`.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send(Message::Close(Some(CloseFrame::new(code, reason))))
            .await
    }

    /// Write all pending output to the transport and flush it. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Write pending output until none is left (small output with one plain write, larger
    /// with vectored writes: see `GATHER`), then flush.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.pending_output_len() > 0 {
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let count = self.conn.pending_output_io_slices(&mut slices);
            let slices = &slices[..count];
            let total: usize = slices.iter().map(|s| s.len()).sum();
            let io = Pin::new(&mut self.io);
            let n = if let [one] = slices {
                ready!(io.poll_write(cx, one))?
            } else if total > GATHER {
                ready!(io.poll_write_vectored(cx, slices))?
            } else {
                let mut one = [0u8; GATHER];
                let mut end = 0;
                for s in slices {
                    one[end..end + s.len()].copy_from_slice(s);
                    end += s.len();
                }
                ready!(io.poll_write(cx, &one[..end]))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.advance_output(n);
            self.written = self.written.wrapping_add(n as u64);
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Read what is ready: a small first read on the stack, then straight into the
    /// connection's buffer while reads fill what they are given. After a wake-up that read
    /// more than the stack buffer holds (a busy connection), the next one, once the
    /// transport made the task wait, reads straight into the connection's buffer from the
    /// start (see `Reading`).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (mut total, mut full) = if self.reading == Reading::Direct {
            match self.read_direct(cx) {
                Poll::Pending => {
                    // A wrong guess: the next wake-up starts on the stack again.
                    self.reading = Reading::Stack;
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(None)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(Some(read))) => read,
            }
        } else {
            let mut first = [MaybeUninit::<u8>::uninit(); FIRST_READ];
            let mut buf = ReadBuf::uninit(&mut first);
            if Pin::new(&mut self.io).poll_read(cx, &mut buf)?.is_pending() {
                if self.reading == Reading::StackThenBusy {
                    self.reading = Reading::Direct;
                }
                return Poll::Pending;
            }
            let n = buf.filled().len();
            if n == 0 {
                self.conn.receive_eof();
                self.read_eof = true;
                return Poll::Ready(Ok(()));
            }
            self.conn.receive(buf.filled());
            (n, n == FIRST_READ)
        };
        for _ in 1..MAX_READS {
            if !full {
                break;
            }
            match self.read_direct(cx) {
                Poll::Ready(Ok(Some((n, filled)))) => {
                    total += n;
                    full = filled;
                }
                // The end of the stream was noted.
                Poll::Ready(Ok(None)) => break,
                // The error comes again with the next read; what arrived is kept.
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
        }
        self.reading = if total > FIRST_READ {
            Reading::StackThenBusy
        } else {
            Reading::Stack
        };
        Poll::Ready(Ok(()))
    }

    /// One read straight into the connection's input buffer: the bytes read and whether
    /// they filled the room given, or `None` at the end of the stream (noted).
    // Out of line (see `Reading`).
    #[inline(never)]
    fn read_direct(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<(usize, bool)>>> {
        // Into the buffer's room, not zeroed first: `read_buf` reads into uninitialised
        // memory (zeroing the room cost 7% of the server's CPU in the 1 KiB echo).
        let io = &mut self.io;
        let (polled, len) = self.conn.receive_with(READ_CHUNK, |mut room| {
            let len = room.remaining_mut();
            (pin!(io.read_buf(&mut room)).poll(cx), len)
        });
        match ready!(polled)? {
            0 => {
                self.conn.receive_eof();
                self.read_eof = true;
                Poll::Ready(Ok(None))
            }
            n => Poll::Ready(Ok(Some((n, n == len)))),
        }
    }

    /// The next event, writing pending output and reading as needed; `None` once the
    /// connection has closed and the transport is shut down (see [`poll_end`](Self::poll_end)).
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if self.keepalive.is_some() {
                if let Some(timeout) = self.poll_keepalive(cx) {
                    // The peer is dead: end the connection (1006, not reported again)
                    // and shut the transport down.
                    self.conn.receive_eof();
                    self.read_eof = true;
                    self.io_failed = true;
                    return Poll::Ready(Err(Error::KeepAliveTimeout(timeout)));
                }
            }
            // Events already received are returned before anything is written: output
            // queued meanwhile (replies to them, pongs) goes out in one vectored write when
            // they are used up, before the next read.
            match self.conn.poll_event() {
                Ok(Some(event)) => {
                    if let Event::Closed(_) | Event::Ping(_) = event {
                        // The close reply goes out now (a caller may stop reading here),
                        // and so does the pong (a caller may take its time before the
                        // next read).
                        let _ = self.poll_write_out(cx);
                    }
                    return Poll::Ready(Ok(Some(event)));
                }
                Err(e) => {
                    // The close frame for the error goes out now.
                    let _ = self.poll_write_out(cx);
                    return Poll::Ready(Err(self.protocol_error(e)));
                }
                Ok(None) => {}
            }
            // A message the codec refused while its queue was full (`feed` parks it) is
            // queued once the output drains, here too: an echo loop that feeds its replies
            // and then waits in `next` would otherwise never send its last one.
            if self.parked.is_some() {
                if let Poll::Ready(Err(e)) = self.poll_ready_inner(cx) {
                    return Poll::Ready(Err(e));
                }
            }
            let flushed = self.poll_write_out(cx);
            if self.conn.state() == State::Closed {
                return match flushed {
                    Poll::Pending => self.poll_end_timer(cx),
                    Poll::Ready(Err(_)) => {
                        // Nothing more can be written: the transport is as good as gone.
                        self.shut = true;
                        Poll::Ready(Ok(None))
                    }
                    Poll::Ready(Ok(())) => self.poll_end(cx),
                };
            }
            if self.conn.state() == State::Closing && self.poll_close_timer(cx).is_ready() {
                // Our close frame went unanswered: give up on the handshake.
                self.conn.receive_eof();
                self.read_eof = true;
                self.io_failed = true;
                return Poll::Ready(Err(Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer did not answer our close frame within the close timeout",
                ))));
            }
            if let Poll::Ready(Err(e)) = flushed {
                self.conn.receive_eof();
                self.io_failed = true;
                return Poll::Ready(Err(Error::Io(e)));
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => {
                    // The transport is gone: the connection ends with 1006.
                    self.conn.receive_eof();
                    self.read_eof = true;
                    self.io_failed = true;
                    return Poll::Ready(Err(Error::Io(e)));
                }
                Poll::Pending => {
                    if self.conn.pending_input_len() == 0 && self.conn.pending_output_len() == 0 {
                        // Idle: give back what a burst grew.
                        self.conn.shrink_buffers_between_bursts();
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// The closed connection's last steps, its output written: the server (or a failed
    /// connection) shuts the transport down first, then both ends read until the peer's
    /// end of stream (so that unread input cannot turn our close into a reset), within
    /// the close timeout.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if !self.shut && (self.conn.should_close_transport() || self.read_eof) {
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.shut = true;
            }
            if self.shut && self.read_eof {
                return Poll::Ready(Ok(None));
            }
            if self.poll_end_timer(cx).is_ready() {
                return Poll::Ready(Ok(None));
            }
            let mut sink = [0u8; 512];
            let mut buf = ReadBuf::new(&mut sink);
            match ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf)) {
                Ok(()) if buf.filled().is_empty() => {
                    self.conn.receive_eof();
                    self.read_eof = true;
                }
                // Input after the close is discarded (counted for keep-alive).
                Ok(()) => self.conn.receive(buf.filled()),
                Err(_) => self.read_eof = true,
            }
        }
    }

    /// Ready once the close timeout, started at the first call (when our close frame was
    /// queued or the connection closed), has passed.
    fn poll_close_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timeout = self.close_timeout;
        let timer = self
            .close_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        timer.as_mut().poll(cx)
    }

    /// Ready (the end) once the close timeout has passed.
    fn poll_end_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        ready!(self.poll_close_timer(cx));
        self.shut = true;
        self.read_eof = true;
        Poll::Ready(Ok(None))
    }

    /// Keep-alive on tokio's clock (off by default; [`Options::keepalive`](crate::Options)
    /// sets it for the handshake functions): after `config.interval` without receiving a
    /// byte the driver sends a ping, and when nothing arrives within `config.timeout` of
    /// it (`max_missed` times in a row) the stream returns [`Error::KeepAliveTimeout`],
    /// shuts the transport down and ends. Any byte received is proof of life, so a busy
    /// connection sends no pings. Driven while the stream is read ([`next`](Self::next),
    /// or the reader of a [`split`](Self::split) stream), as pongs are. `None` turns it
    /// off. Before each ping the connection gives back buffer memory
    /// ([`shrink_buffers`](Connection::shrink_buffers)).
    pub fn set_keepalive(&mut self, config: Option<KeepAliveConfig>) {
        self.keepalive = config.map(|config| {
            let epoch = Instant::now();
            Box::new(KeepAliveTimer {
                state: KeepAlive::new(config, Duration::ZERO),
                epoch,
                sleep: Box::pin(tokio::time::sleep_until(epoch + config.interval)),
                deadline: config.interval,
            })
        });
    }

    /// Drive the keep-alive (queueing a due ping) and arm its timer; the verdict when the
    /// peer is dead.
    fn poll_keepalive(&mut self, cx: &mut Context<'_>) -> Option<Timeout> {
        if self.conn.state() == State::Closed {
            // The close timer takes over.
            return None;
        }
        let ka = self.keepalive.as_mut()?;
        // Each turn either acts (a ping moves the deadline on) or finds the timer pending;
        // the bound only guards against a clock that disagrees with the timer.
        for _ in 0..4 {
            if let Some(timeout) = ka.state.drive(&mut self.conn, ka.epoch.elapsed()) {
                return Some(timeout);
            }
            let deadline = ka.state.poll_timeout()?;
            if deadline != ka.deadline {
                ka.deadline = deadline;
                ka.sleep.as_mut().reset(ka.epoch + deadline);
            }
            if ka.sleep.as_mut().poll(cx).is_pending() {
                break;
            }
        }
        None
    }

    /// How long the close handshake may take (default 5 s), counted from our close frame
    /// (or the peer's, or the failure): a peer that does not answer our close frame in
    /// time ends the stream with an [`io::ErrorKind::TimedOut`] error; then the wait for
    /// our output to be taken and for the peer's end of stream ends at the same deadline.
    pub fn set_close_timeout(&mut self, timeout: Duration) {
        self.close_timeout = timeout;
    }

    fn protocol_error(&mut self, e: rfc6455::connection::ProtocolError) -> Error {
        if self.conn.role() == rfc6455::Role::Client {
            Error::client_handshake(e)
        } else {
            Error::from(e)
        }
    }

    /// Queue `message` in the codec; a refused one comes back with the reason, so that a
    /// send parked on `QueueFull` needs no clone made beforehand.
    fn queue(&mut self, message: Message) -> Result<(), (SendError, Message)> {
        match message {
            Message::Text(text) => self
                .conn
                .try_send(rfc6455::connection::Message::Text(text))
                .map_err(|u| (u.error, u.message.into())),
            Message::Binary(data) => self
                .conn
                .try_send(rfc6455::connection::Message::Binary(data))
                .map_err(|u| (u.error, u.message.into())),
            Message::Ping(payload) => self
                .conn
                .send_ping(&payload)
                .map_err(|e| (e, Message::Ping(payload))),
            Message::Pong(payload) => self
                .conn
                .send_pong(&payload)
                .map_err(|e| (e, Message::Pong(payload))),
            Message::Close(frame) => {
                let frame = frame.unwrap_or_else(|| CloseFrame::new(CloseCode::NORMAL, ""));
                self.conn
                    .close(frame.code, &frame.reason)
                    .map_err(|e| (e, Message::Close(Some(frame))))
            }
        }
    }

    /// The error for a send on a connection that is not open.
    fn not_open(&self) -> Error {
        if self.ended || self.shut {
            Error::AlreadyClosed
        } else {
            Error::ConnectionClosed
        }
    }

    fn poll_ready_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.ended {
            return Poll::Ready(Err(Error::AlreadyClosed));
        }
        let bound = self.conn.config().max_queued_output;
        loop {
            if let Some(message) = self.parked.take() {
                match self.queue(message) {
                    Ok(()) => {}
                    Err((SendError::QueueFull { .. }, message)) => self.parked = Some(message),
                    Err((SendError::NotOpen(_), _)) => return Poll::Ready(Err(self.not_open())),
                    Err((e, _)) => return Poll::Ready(Err(Error::Send(e))),
                }
            }
            if self.parked.is_none() && self.conn.pending_output_len() < bound {
                return Poll::Ready(Ok(()));
            }
            // Over the bound: write until the peer takes enough.
            match ready!(self.poll_write_out(cx)) {
                Ok(()) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    fn start_send_inner(&mut self, message: Message) -> Result<(), Error> {
        if self.ended {
            return Err(Error::AlreadyClosed);
        }
        match self.queue(message) {
            Ok(()) => Ok(()),
            // Sent again by the next poll_ready / poll_flush, once output has drained.
            Err((SendError::QueueFull { .. }, message)) => {
                self.parked = Some(message);
                Ok(())
            }
            Err((SendError::NotOpen(_), _)) => Err(self.not_open()),
            Err((e, _)) => Err(Error::Send(e)),
        }
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.parked.is_some() {
            ready!(self.poll_ready_inner(cx))?;
        }
        match ready!(self.poll_write_out(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(_) if self.conn.state() == State::Closed => Poll::Ready(Err(self.not_open())),
            Err(e) => Poll::Ready(Err(Error::Io(e))),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            let event = match ready!(this.poll_event(cx)) {
                Ok(Some(event)) => event,
                Ok(None) => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Err(e) => return Poll::Ready(Some(Err(e))),
            };
            let message = match event {
                Event::Message(message) => message.into(),
                Event::Ping(payload) => Message::Ping(payload),
                Event::Pong(payload) => Message::Pong(payload),
                // Already reported as the I/O error that ended the transport.
                Event::Closed(closed) if closed.code == CloseCode::ABNORMAL && this.io_failed => {
                    continue;
                }
                Event::Closed(closed) if closed.code == CloseCode::ABNORMAL => {
                    return Poll::Ready(Some(Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the transport ended without a close frame",
                    )))));
                }
                Event::Closed(closed) if closed.code == CloseCode::NO_STATUS => {
                    Message::Close(None)
                }
                Event::Closed(closed) => {
                    Message::Close(Some(CloseFrame::new(closed.code, closed.reason)))
                }
                // Handshake events are taken by the handshake functions; chunks only come
                // in ReceiveMode::Stream, which this stream does not offer.
                Event::Accepted(_) | Event::Request(_) | Event::Chunk(_) => continue,
            };
            return Poll::Ready(Some(Ok(message)));
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_ready_inner(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().start_send_inner(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_inner(cx)
    }

    /// Sends a close frame (1000) if none was sent, and writes it out.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.conn.state() == State::Open && this.parked.is_none() {
            this.queue(Message::Close(None))
                .map_err(|(e, _)| Error::Send(e))?;
        }
        match ready!(this.poll_flush_inner(cx)) {
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}
