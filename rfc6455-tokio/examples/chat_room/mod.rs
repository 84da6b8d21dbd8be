//! The chat room shared by the tokio chat examples (`tokio_chat_server`, one process, and
//! `tokio_chat_cluster`, several behind Redis): the page, the upgrade, a reader and a writer
//! task per client, and the bound on clients that do not keep up.
//!
//! A client's text messages go to `say` (the local room, or Redis); its writer task takes
//! the room's messages from a `tokio::sync::broadcast` channel of `QUEUE` messages, each
//! encoded once for every client as a `PreparedMessage` (and, for the clients that
//! negotiated permessage-deflate, compressed once: `PreparedCompressor`). A client
//! that falls that far behind, or takes longer than `SEND_TIMEOUT` to take one message, is
//! closed with 1013 and counted in `TOO_SLOW`.
#![allow(dead_code)]

#[path = "../../../examples/chat_page/mod.rs"]
mod chat_page;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rfc6455_tokio::rfc6455::connection::{
    Connection, Event, Message as Codec, PreparedCompressor, PreparedMessage, Utf8Bytes,
};
use rfc6455_tokio::rfc6455::handshake::{Limits, ServerHandshake, ServerResponse, Status};
use rfc6455_tokio::rfc6455::keepalive::{KeepAlive, KeepAliveConfig};
use rfc6455_tokio::{CloseCode, Error, Message, WebSocketReader, WebSocketStream, WebSocketWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{sleep, timeout};

/// How many messages a client may be behind the room before it is dropped.
pub const QUEUE: usize = 64;
/// How long a client may take to take one message (the driver's output bound is full).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Clients dropped for not keeping up.
pub static TOO_SLOW: AtomicU64 = AtomicU64::new(0);

/// The messages every client of this process is sent, each prepared once for all of them.
#[derive(Clone)]
pub struct Room {
    tx: broadcast::Sender<PreparedMessage>,
    /// Compresses each message once, from an empty window, for every client that
    /// negotiated permessage-deflate with our full window (the others get it uncompressed).
    compressor: Arc<Mutex<PreparedCompressor>>,
}

impl Room {
    /// A room whose clients may be `queue` messages behind.
    pub fn new(queue: usize) -> Self {
        let deflate = super::common::options().config.deflate;
        Room {
            tx: broadcast::channel(queue).0,
            compressor: Arc::new(Mutex::new(PreparedCompressor::new(&deflate))),
        }
    }

    /// Send `text` to every client in the room (none, if no one is in it): encoded, and
    /// compressed, once.
    pub fn send(&self, text: Utf8Bytes) {
        let prepared = self.compressor.lock().unwrap().prepare(Codec::Text(text));
        let _ = self.tx.send(prepared); // Err only with no one in the room
    }

    /// Join: the messages sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PreparedMessage> {
        self.tx.subscribe()
    }

    /// How many clients are in the room.
    pub fn receiver_count(&self) -> usize {
        self.tx.receiver_count()
    }
}
type Ws = WebSocketStream<TcpStream>;

/// Where a client's text messages go: `Room::send` for one process, a publisher for a cluster.
pub type Say = dyn Fn(Utf8Bytes) + Send + Sync;

/// Monotonic time since the server started: the keep-alive's clock and the log's.
pub fn now() -> Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Serve the page, or upgrade `/ws` and relay the client's messages until it leaves. `name`
/// starts each log line.
pub async fn client(
    name: &'static str,
    id: u64,
    mut tcp: TcpStream,
    room: &Room,
    say: &Say,
    ka: KeepAliveConfig,
) -> Result<String, Error> {
    tcp.set_nodelay(true)?;
    let (mut head, mut chunk) = (Vec::new(), [0u8; 4096]);
    let mut handshake = ServerHandshake::new(Limits::default());
    let reply = loop {
        break match handshake.parse(&head) {
            Ok(Status::Partial) => {
                match timeout(Duration::from_secs(10), tcp.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => {
                        head.extend_from_slice(&chunk[..n]);
                        continue;
                    }
                    _ => return Ok("hung up mid-request".into()),
                }
            }
            Ok(Status::Complete { value, .. }) if value.path() == "/ws" => {
                return chat(name, id, tcp, &head, room, say, ka).await;
            }
            Ok(Status::Complete { .. }) => chat_page::not_ws(),
            Err(e) => chat_page::refused(&head, &e),
        };
    };
    tcp.write_all(&reply).await?;
    // FIN, then read to the client's (2 s at most): unread input would turn the close into a reset.
    tcp.shutdown().await?;
    let _ = timeout(Duration::from_secs(2), async {
        while tcp.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    Ok(format!(
        "answered {}",
        String::from_utf8_lossy(reply.get(9..12).unwrap_or_default())
    ))
}

/// Aborts the writer task when the client's task ends, however it ends (also when a
/// cluster node is stopped by dropping its tasks).
struct AbortOnDrop(tokio::task::JoinHandle<String>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Join the room, answer 101, then read the client until it leaves, pinging it when quiet.
async fn chat(
    name: &'static str,
    id: u64,
    tcp: TcpStream,
    head: &[u8],
    room: &Room,
    say: &Say,
    ka: KeepAliveConfig,
) -> Result<String, Error> {
    let mut config = super::common::options().config;
    config.max_message_size = 64 << 10; // a chat line, not a file: 1009 beyond that
    // The codec parses the request again and negotiates permessage-deflate itself.
    let mut ws = Ws::from_parts(tcp, Connection::server(config), head);
    let Ok(Some(Event::Request(_))) = ws.connection_mut().poll_event() else {
        return Ok("refused by the codec".into()); // parsed above: not expected
    };
    ws.connection_mut()
        .accept(&ServerResponse::default())
        .map_err(Error::Send)?;
    // In the room before the 101 is out: a client that sees it gets every message after it.
    let rx = room.subscribe();
    let mut keepalive = KeepAlive::new(ka, now());
    println!(
        "{name}: client {id} joined, {} online",
        room.receiver_count()
    );
    let flushed = ws.flush().await;
    let (writer, mut reader) = ws.split();
    let mut writer = AbortOnDrop(tokio::spawn(write_room(writer, rx)));
    let why = tokio::select! {
        why = read_room(name, id, &mut reader, &mut keepalive, say, flushed) => {
            writer.0.abort(); // its receiver leaves the room, its half of the socket closes
            let _ = (&mut writer.0).await;
            why
        }
        slow = &mut writer.0 => {
            // Our close frame is queued: the driver finishes the close (its close timeout, 5 s).
            let _ = timeout(Duration::from_secs(6), async { while reader.next().await.is_some() {} }).await;
            slow.unwrap_or_else(|e| format!("failed: {e}"))
        }
    };
    drop(reader); // the socket closes: a FIN, or a reset if the client's bytes are unread
    Ok(format!("{why}, {} online", room.receiver_count()))
}

/// The client's messages to `say`, its pongs to the log, a ping when it is quiet; why it left.
async fn read_room(
    name: &'static str,
    id: u64,
    reader: &mut WebSocketReader<TcpStream>,
    keepalive: &mut KeepAlive,
    say: &Say,
    flushed: Result<(), Error>,
) -> String {
    if let Err(e) = flushed {
        return format!("failed: {e}");
    }
    loop {
        let ping = |k: &KeepAlive| (k.is_awaiting_pong(), k.poll_timeout());
        let before = ping(keepalive);
        // Bytes received are life; a ping due is queued, and written by `next` below.
        if let Some(dead) = reader.with_stream(|ws| keepalive.drive(ws.connection_mut(), now())) {
            return format!("dropped as dead ({dead})");
        }
        if keepalive.is_awaiting_pong() && ping(keepalive) != before {
            println!("{name}: client {id} pinged at {} ms", now().as_millis());
        }
        let wake = keepalive
            .poll_timeout()
            .map_or(Duration::from_secs(1), |t| t.saturating_sub(now()));
        let message = tokio::select! {
            message = reader.next() => message,
            () = sleep(wake) => continue,
        };
        match message {
            Some(Ok(Message::Text(text))) => say(text),
            Some(Ok(Message::Pong(_))) => println!("{name}: client {id} answered a ping"),
            Some(Ok(Message::Close(frame))) => {
                while reader.next().await.is_some() {} // the driver finishes the close
                let code = frame.map_or(CloseCode::NO_STATUS, |f| f.code);
                return format!("left ({code})");
            }
            Some(Ok(_)) => {} // binary is ignored, pings answered by the driver
            Some(Err(e)) => {
                while reader.next().await.is_some() {}
                return format!("failed: {e}");
            }
            None => return "left".into(),
        }
    }
}

/// Write the room's messages to the client until it falls `QUEUE` behind or stalls a
/// send for `SEND_TIMEOUT`: then close it with 1013. Returns why it ended.
async fn write_room(
    mut writer: WebSocketWriter<TcpStream>,
    mut rx: broadcast::Receiver<PreparedMessage>,
) -> String {
    let why = loop {
        match rx.recv().await {
            Ok(message) => match timeout(SEND_TIMEOUT, writer.send_prepared(&message)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return format!("failed: {e}"),
                Err(_) => break format!("stalled a send for {} s", SEND_TIMEOUT.as_secs()),
            },
            Err(RecvError::Lagged(missed)) => break format!("missed {missed} messages"),
            Err(RecvError::Closed) => return "left".into(),
        }
    };
    drop(rx); // out of the room now
    let count = TOO_SLOW.fetch_add(1, Ordering::Relaxed) + 1;
    // A close frame is queued even over the output bound.
    let _ = writer.with_stream(|ws| {
        ws.connection_mut()
            .close(CloseCode::TRY_AGAIN_LATER, "too slow")
    });
    let _ = timeout(Duration::from_secs(1), writer.flush()).await;
    format!("dropped as too slow (1013, {why}; {count} so far)")
}
