//! [`WebSocketStream::split`]: a reader and a writer for two tasks, over one connection.
//!
//! Both halves share the stream behind a mutex that is held only while one of them is
//! polled, never across an await. Both may write (the reader sends pongs and close
//! replies, the writer the messages), and a transport keeps one waker per direction, so
//! every poll of the transport is given one waker that wakes both halves: neither can
//! miss the readiness the other registered for. A half that wrote also wakes the other,
//! which may be waiting for that output room.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Error, Message, WebSocketStream};

/// The half of a split stream that receives: a [`Stream`] of messages, with
/// [`next`](Self::next). It answers pings and drives the keep-alive, so keep reading it
/// while the connection lives, as with an unsplit stream.
#[derive(Debug)]
pub struct WebSocketReader<S> {
    shared: Arc<Shared<S>>,
}

/// The half of a split stream that sends: a [`Sink`] of messages, with [`send`](Self::send),
/// [`ping`](Self::ping) and [`flush`](Self::flush). It waits while the output is over the
/// codec's bound, as an unsplit stream does.
///
/// To close, send [`Message::Close`] with the code and reason, or close the sink
/// (`SinkExt::close`, code 1000, as after `StreamExt::split` of other WebSocket streams);
/// the reader then reports the peer's reply and ends.
#[derive(Debug)]
pub struct WebSocketWriter<S> {
    shared: Arc<Shared<S>>,
}

#[derive(Debug)]
struct Shared<S> {
    stream: Mutex<WebSocketStream<S>>,
    wakers: Arc<Wakers>,
    /// Wakes both halves (made once from `wakers`).
    both: Waker,
}

/// The wakers of the two halves' pending polls.
#[derive(Debug, Default)]
struct Wakers {
    /// Indexed by [`READER`] and [`WRITER`].
    slots: Mutex<[Option<Waker>; 2]>,
}

const READER: usize = 0;
const WRITER: usize = 1;

impl Wakers {
    fn slots(&self) -> MutexGuard<'_, [Option<Waker>; 2]> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, half: usize, waker: &Waker) {
        let mut slots = self.slots();
        match &slots[half] {
            Some(current) if current.will_wake(waker) => {}
            _ => slots[half] = Some(waker.clone()),
        }
    }

    fn wake_half(&self, half: usize) {
        let waker = self.slots()[half].take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let [reader, writer] = {
            let mut slots = self.slots();
            [slots[READER].take(), slots[WRITER].take()]
        };
        for waker in [reader, writer].into_iter().flatten() {
            waker.wake();
        }
    }
}

impl<S> Shared<S> {
    /// Run `f` on the stream, holding the lock for that long.
    fn with<R>(&self, f: impl FnOnce(&mut WebSocketStream<S>) -> R) -> R {
        f(&mut self.stream.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Poll `f` on the stream for `half`, whose task `cx` belongs to.
    fn poll<R>(
        &self,
        half: usize,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut WebSocketStream<S>, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        self.wakers.register(half, cx.waker());
        let mut both = Context::from_waker(&self.both);
        let mut stream = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        let written = stream.written;
        let polled = f(&mut stream, &mut both);
        let wrote = stream.written != written;
        drop(stream);
        if wrote {
            // The other half may be waiting for output room, or for this very output to
            // be written (a flush), on a readiness that will not come again.
            self.wakers.wake_half(1 - half);
        }
        polled
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Split into a writer and a reader (the order of `futures`' `StreamExt::split`) that
    /// two tasks can use at once: the reader receives and keeps answering pings while the
    /// writer is idle; the writer sends and waits while the output is over the bound.
    /// No lock is held across an await. [`WebSocketReader::reunite`] puts them back
    /// together.
    ///
    /// ```no_run
    /// # async fn run(ws: rfc6455_tokio::WebSocketStream<tokio::net::TcpStream>) {
    /// use rfc6455_tokio::Message;
    ///
    /// let (mut writer, mut reader) = ws.split();
    /// tokio::spawn(async move {
    ///     while let Some(Ok(message)) = reader.next().await {
    ///         println!("{message:?}");
    ///     }
    /// });
    /// writer.send(Message::text("hello")).await.unwrap();
    /// # }
    /// ```
    pub fn split(self) -> (WebSocketWriter<S>, WebSocketReader<S>) {
        let wakers = Arc::new(Wakers::default());
        let shared = Arc::new(Shared {
            stream: Mutex::new(self),
            both: Waker::from(Arc::clone(&wakers)),
            wakers,
        });
        (
            WebSocketWriter {
                shared: Arc::clone(&shared),
            },
            WebSocketReader { shared },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketReader<S> {
    /// The next message, or `None` once the connection has ended; see
    /// [`WebSocketStream::next`]. Cancel-safe.
    pub async fn next(&mut self) -> Option<Result<Message, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The stream again, from this reader and the `writer` split from the same stream;
    /// both back when they are not of the same stream.
    pub fn reunite(
        self,
        writer: WebSocketWriter<S>,
    ) -> Result<WebSocketStream<S>, (WebSocketReader<S>, WebSocketWriter<S>)> {
        if !Arc::ptr_eq(&self.shared, &writer.shared) {
            return Err((self, writer));
        }
        drop(writer);
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => Ok(shared
                .stream
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)),
            Err(_) => unreachable!("the two halves held the only references"),
        }
    }

    /// Run `f` on the stream (e.g. to read [`state`](WebSocketStream::state) or the
    /// connection's counters), holding the lock for that long.
    pub fn with_stream<R>(&self, f: impl FnOnce(&mut WebSocketStream<S>) -> R) -> R {
        self.shared.with(f)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<S> {
    /// Send a message and write it out; see [`WebSocketStream::send`] (same cancel safety).
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_ready(cx)).await?;
        Pin::new(&mut *self).start_send(message)?;
        self.flush().await
    }

    /// Send a ping with `payload` (at most 125 bytes). Cancel safety as for
    /// [`send`](Self::send).
    pub async fn ping(&mut self, payload: impl Into<rfc6455::bytes::Bytes>) -> Result<(), Error> {
        self.send(Message::Ping(payload.into())).await
    }

    /// Send a prepared message and write it out; see [`WebSocketStream::send_prepared`]
    /// (same cancel safety).
    pub async fn send_prepared(
        &mut self,
        message: &rfc6455::connection::PreparedMessage,
    ) -> Result<(), Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_ready(cx)).await?;
        std::future::poll_fn(|cx| {
            self.shared.poll(WRITER, cx, |stream, cx| {
                stream.poll_queue_prepared(cx, message)
            })
        })
        .await?;
        self.flush().await
    }

    /// Write all pending output and flush the transport. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// Run `f` on the stream, holding the lock for that long.
    pub fn with_stream<R>(&self, f: impl FnOnce(&mut WebSocketStream<S>) -> R) -> R {
        self.shared.with(f)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.shared
            .poll(READER, cx, |stream, cx| Pin::new(stream).poll_next(cx))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared
            .poll(WRITER, cx, |stream, cx| Pin::new(stream).poll_ready(cx))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.with_stream(|stream| Pin::new(stream).start_send(message))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared
            .poll(WRITER, cx, |stream, cx| Pin::new(stream).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared
            .poll(WRITER, cx, |stream, cx| Pin::new(stream).poll_close(cx))
    }
}
