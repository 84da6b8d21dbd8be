//! A broadcast chat: every text message from one client goes to all open clients.
//!
//! `cargo run --release --example chat_server -- 127.0.0.1:8080 [PING_MS] [TIMEOUT_MS]`,
//! then open <http://127.0.0.1:8080/> in two browser tabs.
//!
//! `GET /` serves a page (`chat.html`) whose script joins over `/ws` on the same port,
//! shows the messages and the connection state, and reconnects with backoff. One thread per
//! client; a client quiet for `PING_MS` (default 30 s) is pinged, and dropped if nothing
//! arrives within `TIMEOUT_MS` (default 10 s) of the ping. Every join, ping sent, pong
//! received and leave is printed, with the client's number (`tests/browser/run` reads them).
//!
//! What a client's thread decides when it wakes (relay, ping, drop) is [`Session::step`], a
//! function of the connection and the time with no I/O; the clock is an argument of
//! [`serve`], so the tests run the whole server on a clock they move by hand.
mod chat_page;
pub mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rfc6455::connection::{Config, Connection, Event, Message, PreparedMessage, Utf8Bytes};
use rfc6455::handshake::{Limits, Request, ServerHandshake, ServerResponse, Status};
use rfc6455::keepalive::{KeepAlive, KeepAliveConfig, Timeout};

/// The connection for an accepted `request`, with permessage-deflate as `config` says,
/// agreed here on the parsed request, and the response's extension element if agreed. The
/// connection starts after the handshake, so the request's bytes do not count as the
/// peer's first sign of life for the keep-alive.
fn upgraded(config: Config, request: &Request<'_>) -> (Connection, Option<String>) {
    #[cfg(feature = "deflate")]
    if let Some((params, element)) = config.deflate.accept_offers(request.extensions()) {
        return (
            Connection::upgraded_server(config).with_deflate(params),
            Some(element),
        );
    }
    let _ = request; // only read for its offers
    (Connection::upgraded_server(config), None)
}

/// A connection and the write half of its socket, shared by its reader and broadcasters.
type Peer = Arc<Mutex<(Connection, TcpStream)>>;

/// Everyone in the chat, and what prepares each message once for all of them.
struct Members {
    peers: Mutex<Vec<Peer>>,
    /// Compresses each message once, from an empty window, for the clients that
    /// negotiated permessage-deflate with our full window (the others get it uncompressed).
    #[cfg(feature = "deflate")]
    compressor: Mutex<rfc6455::connection::PreparedCompressor>,
}
type Room = Arc<Members>;

impl Members {
    fn new() -> Room {
        Arc::new(Members {
            peers: Mutex::default(),
            #[cfg(feature = "deflate")]
            compressor: Mutex::new(rfc6455::connection::PreparedCompressor::new(
                &common::config().deflate,
            )),
        })
    }

    /// `message` encoded (and compressed) once, for every client.
    fn prepare(&self, message: Message) -> PreparedMessage {
        #[cfg(feature = "deflate")]
        return self.compressor.lock().unwrap().prepare(message);
        #[cfg(not(feature = "deflate"))]
        PreparedMessage::new(message)
    }
}

/// Where the server reads the time and reports what happens: the monotonic clock and stdout
/// when it runs, a hand-moved clock and a channel in the tests.
#[derive(Clone)]
pub struct Env {
    /// The time, for the keep-alive.
    pub now: common::Clock,
    /// One line per join, ping sent, pong received, leave and plain HTTP answer.
    pub log: Arc<dyn Fn(String) + Send + Sync>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut ms = |default| {
        Duration::from_millis(
            args.next()
                .map_or(default, |a| a.parse().expect("milliseconds")),
        )
    };
    let config = KeepAliveConfig {
        interval: ms(30_000),
        timeout: ms(10_000),
        max_missed: 1,
    };
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    println!(
        "chat_server: open http://{}/ in a browser",
        listener.local_addr().unwrap()
    );
    let env = Env {
        now: common::system_clock(),
        log: Arc::new(|line| println!("chat_server: {line}")),
    };
    serve(listener, config, env);
}

/// Accept clients forever, one thread each, numbered from 1 in the log.
pub fn serve(listener: TcpListener, keepalive: KeepAliveConfig, env: Env) {
    let room = Members::new();
    for (id, stream) in (1u64..).zip(listener.incoming()) {
        let Ok(stream) = stream else { continue };
        let (room, env) = (room.clone(), env.clone());
        std::thread::spawn(move || {
            let line = match client(id, stream, &room, keepalive, &env) {
                Ok(what) => format!("client {id} {what}"),
                Err(e) => format!("client {id} failed: {e}"),
            };
            (env.log)(line);
        });
    }
}

/// One client's keep-alive and events, without I/O: what its thread decides each time it
/// wakes, from the connection and the time alone.
pub struct Session {
    keepalive: KeepAlive,
}

/// What [`Session::step`] found.
#[derive(Debug, Default)]
pub struct Step {
    /// Text messages to relay to the room.
    pub texts: Vec<Utf8Bytes>,
    /// Whether a ping was queued on the connection.
    pub pinged: bool,
    /// Pongs that arrived.
    pub pongs: usize,
    /// Why the client is leaving (it closed, or broke the protocol), once the output is out.
    pub ended: Option<String>,
    /// The client stopped answering: drop it now.
    pub dead: Option<Timeout>,
}

impl Session {
    /// A session for a client that joined at `now`.
    pub fn new(keepalive: KeepAliveConfig, now: Duration) -> Self {
        Session {
            keepalive: KeepAlive::new(keepalive, now),
        }
    }

    /// Take the connection's events and run its keep-alive at `now` (which may queue a ping
    /// on `conn`; the caller writes the connection's output next).
    pub fn step(&mut self, conn: &mut Connection, now: Duration) -> Step {
        let mut step = Step::default();
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Message(Message::Text(text)))) => step.texts.push(text),
                Ok(Some(Event::Pong(_))) => step.pongs += 1,
                Ok(Some(Event::Closed(c))) => step.ended = Some(format!("left ({})", c.code)),
                Ok(Some(_)) => {} // binary is ignored, pings answered by the connection
                Ok(None) => break,
                Err(e) => step.ended = Some(format!("failed: {e}")),
            }
        }
        let ping = |k: &KeepAlive| (k.is_awaiting_pong(), k.poll_timeout());
        let before = ping(&self.keepalive);
        step.dead = self.keepalive.drive(conn, now);
        // A new ping: one is outstanding now, and it was not, or it has a new deadline.
        step.pinged = self.keepalive.is_awaiting_pong() && ping(&self.keepalive) != before;
        step
    }

    /// When [`step`](Self::step) next has something to do on its own.
    pub fn wake_at(&self) -> Option<Duration> {
        self.keepalive.poll_timeout()
    }
}

/// Serve the page, or upgrade `/ws` and relay the client's messages until it leaves.
fn client(
    id: u64,
    mut stream: TcpStream,
    room: &Room,
    keepalive: KeepAliveConfig,
    env: &Env,
) -> std::io::Result<String> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?; // for the request head
    stream.set_write_timeout(Some(Duration::from_secs(5)))?; // a stuck reader cannot stall the room
    let (mut head, mut chunk) = (Vec::new(), vec![0u8; 16 * 1024]);
    let mut handshake = ServerHandshake::new(Limits::default());
    let (conn, accept) = loop {
        let reply = match handshake.parse(&head) {
            Ok(Status::Partial) => match stream.read(&mut chunk)? {
                0 => return Ok("hung up mid-request".into()),
                n => {
                    head.extend_from_slice(&chunk[..n]);
                    continue;
                }
            },
            Ok(Status::Complete {
                value: request,
                consumed,
            }) if request.path() == "/ws" => {
                let mut config = common::config();
                config.max_message_size = 64 << 10; // a chat line, not a file: 1009 beyond that
                let (mut conn, extension) = upgraded(config, &request);
                let extensions: Vec<&str> = extension.iter().map(String::as_str).collect();
                let response = ServerResponse {
                    extensions: &extensions,
                    ..ServerResponse::default()
                };
                let accept = request.response_to_vec(&response).unwrap();
                conn.receive(&head[consumed..]);
                break (conn, accept);
            }
            Ok(Status::Complete { .. }) => chat_page::not_ws(),
            Err(e) => chat_page::refused(&head, &e),
        };
        stream.write_all(&reply)?;
        common::linger_close(stream);
        return Ok(format!(
            "answered {}",
            String::from_utf8_lossy(reply.get(9..12).unwrap_or_default())
        ));
    };
    let peer: Peer = Arc::new(Mutex::new((conn, stream.try_clone()?)));
    // The keep-alive starts before the client can see its 101.
    let mut session = Session::new(keepalive, (env.now)());
    {
        // Join, then answer 101 under the peer's lock: no broadcast can overtake the 101,
        // and a client that sees it is in the room.
        let mut guard = peer.lock().unwrap();
        let mut peers = room.peers.lock().unwrap();
        peers.push(peer.clone());
        (env.log)(format!("client {id} joined, {} online", peers.len()));
        drop(peers);
        if let Err(e) = guard.1.write_all(&accept) {
            drop(guard);
            leave(room, &peer);
            return Err(e);
        }
    }
    let why = loop {
        let texts = {
            let mut guard = peer.lock().unwrap();
            let (conn, out) = &mut *guard;
            let now = (env.now)();
            let step = session.step(conn, now);
            if step.pinged {
                (env.log)(format!("client {id} pinged at {} ms", now.as_millis()));
            }
            for _ in 0..step.pongs {
                (env.log)(format!("client {id} answered a ping"));
            }
            if let Some(timeout) = step.dead {
                break format!("dropped as dead ({timeout})");
            }
            let written = conn.write_to(out);
            if conn.should_close_transport() || written.is_err() {
                break step.ended.unwrap_or_else(|| "left".into());
            }
            step.texts
        };
        for text in texts {
            broadcast(room, Message::Text(text));
        }
        let wait = common::timeout_until(session.wake_at(), (env.now)());
        stream.set_read_timeout(Some(wait))?;
        let read = stream.read(&mut chunk);
        let conn = &mut peer.lock().unwrap().0;
        match read {
            Ok(n) if n > 0 => conn.receive(&chunk[..n]),
            Err(e) if common::is_timeout(&e) => {}
            _ => conn.receive_eof(),
        }
    };
    let online = leave(room, &peer);
    common::linger_close(stream); // FIN now; a dead client's socket closes after 2 s
    Ok(format!("{why}, {online} online"))
}

/// Take `peer` out of the room; returns how many are left.
fn leave(room: &Room, peer: &Peer) -> usize {
    let mut peers = room.peers.lock().unwrap();
    peers.retain(|p| !Arc::ptr_eq(p, peer));
    peers.len()
}

/// Send `message` to every client in the room (the sender too: it sees its message arrive),
/// encoded once: each connection queues the same prepared frame.
fn broadcast(room: &Room, message: Message) {
    let prepared = room.prepare(message);
    let peers = room.peers.lock().unwrap().clone();
    for peer in peers {
        let mut guard = peer.lock().unwrap();
        let (conn, out) = &mut *guard;
        if conn.send_prepared(&prepared).is_ok() {
            let _ = conn.write_to(out); // a failed peer finds out in its own thread
        }
    }
}
