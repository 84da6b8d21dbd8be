//! The servers under test: one per stack, each written the way its documentation shows,
//! on the same single-threaded tokio runtime, pinned to one core. Each verifies nothing.
//!
//! Every server answers three paths: `/control` (each message it reads is sent to every
//! `/sub` connection: the broadcast workload's trigger), `/sub` (writes what the room
//! sends, reads nothing) and any other path (echo: each text or binary message comes back
//! with its type).

use std::sync::Arc;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

use crate::Stack;

/// One broadcast message as the room carries it: the payload, whether it is text, and for
/// our stack the frame encoded once by the control connection (the others encode per
/// connection, as their APIs do).
#[derive(Clone)]
pub struct Shout {
    pub payload: Bytes,
    pub text: bool,
    pub prepared: Option<rfc6455_tokio::rfc6455::connection::PreparedMessage>,
}

/// The broadcast room: `/control` sends into it, every `/sub` connection takes from it.
pub type Room = broadcast::Sender<Shout>;

/// Send a message read on `/control` to the room (no one in it is not an error here).
fn shout(room: &Room, payload: Bytes, text: bool) {
    let _ = room.send(Shout {
        payload,
        text,
        prepared: None,
    });
}

/// What a connection does, from its request path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Echo,
    Control,
    Sub,
}

impl Role {
    fn of(path: &str) -> Role {
        match path {
            "/control" => Role::Control,
            "/sub" => Role::Sub,
            _ => Role::Echo,
        }
    }
}

/// Serve `stack` until killed: print `port N` on stdout once listening.
pub fn serve(stack: Stack, deflate: bool) -> ! {
    crate::sys::die_with_parent();
    crate::sys::pin_to_cpu(0);
    crate::sys::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("port {}", listener.local_addr().unwrap().port());
        let room: Arc<Room> = Arc::new(broadcast::channel(16).0);
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue; // out of descriptors for a moment: the generator retries
            };
            let _ = tcp.set_nodelay(true);
            let room = room.clone();
            tokio::spawn(async move {
                let _ = match stack {
                    Stack::Ours => ours::connection(tcp, deflate, &room)
                        .await
                        .map_err(|e| Box::new(e) as Failure),
                    Stack::Tungstenite => tungstenite::connection(tcp, &room).await,
                    Stack::Fastwebsockets => hyper_served(tcp, room, fastws::upgrade).await,
                    Stack::TokioWebsockets => tws::connection(tcp, &room).await,
                    Stack::Yawc => hyper_served(tcp, room, yawc_server::upgrade).await,
                    Stack::Raw => raw_echo(tcp).await.map_err(|e| Box::new(e) as Failure),
                };
            });
        }
    })
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The `raw-tcp` column: no WebSocket, no handshake, every byte read written straight back.
/// One read and one write per burst, nothing parsed, and a 1 MiB buffer, so that even a
/// burst of 16 messages of 64 KiB can come in one read (ours' driver reads at most 64 KiB a
/// time): the least work per echo a server on this runtime can do.
async fn raw_echo(mut tcp: TcpStream) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        tcp.write_all(&buf[..n]).await?;
    }
}

type HyperResponse = hyper::Response<http_body_util::Empty<Bytes>>;

/// The hyper 1 HTTP/1.1 server that fastwebsockets' and yawc's documentation use: the
/// handler answers 101 and spawns the WebSocket task.
async fn hyper_served(
    tcp: TcpStream,
    room: Arc<Room>,
    upgrade: fn(hyper::Request<hyper::body::Incoming>, Arc<Room>) -> std::io::Result<HyperResponse>,
) -> Result<(), Failure> {
    let service = hyper::service::service_fn(move |request| {
        let room = room.clone();
        async move { upgrade(request, room) }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
        .with_upgrades()
        .await?;
    Ok(())
}

mod ours {
    use rfc6455_tokio::rfc6455::connection::{Config, Message as Codec, PreparedMessage};
    use rfc6455_tokio::rfc6455::deflate::DeflateConfig;
    use rfc6455_tokio::{Error, Message, Options, Response, accept_with};

    use super::*;

    pub async fn connection(tcp: TcpStream, deflate: bool, room: &Room) -> Result<(), Error> {
        let config = Config::new().deflate(DeflateConfig::new().enabled(deflate));
        let mut role = Role::Echo;
        let role_of = &mut role;
        let mut ws = accept_with(tcp, Options::new().config(config), |request| {
            *role_of = Role::of(request.path());
            async { Ok(Response::default()) }
        })
        .await?;
        match role {
            Role::Echo => {
                // The driver's echo (examples/common): fed, so a burst's replies go out in
                // one write.
                while let Some(message) = ws.next().await {
                    let message = message?;
                    if message.is_data() {
                        ws.feed(message).await?;
                    }
                }
            }
            Role::Control => {
                while let Some(message) = ws.next().await {
                    let message = match message? {
                        Message::Binary(bytes) => Codec::Binary(bytes),
                        Message::Text(text) => Codec::Text(text),
                        _ => continue,
                    };
                    let (payload, text) = match &message {
                        Codec::Binary(b) => (b.clone(), false),
                        Codec::Text(t) => (t.clone().into_bytes(), true),
                    };
                    // Encoded once here; every `/sub` connection queues the same bytes.
                    let prepared = Some(PreparedMessage::new(message));
                    let _ = room.send(Shout {
                        payload,
                        text,
                        prepared,
                    });
                }
            }
            Role::Sub => {
                let mut rx = room.subscribe();
                while let Ok(shout) = rx.recv().await {
                    ws.send_prepared(shout.prepared.as_ref().expect("ours"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// Echo every message of `ws` that `is_data` keeps, fed, with one flush once no further
/// message is already in: the best batching a `Stream + Sink` API allows (what
/// `StreamExt::forward` in tokio-tungstenite's echo example does, without its split lock).
async fn echo_batched<M, E, W>(ws: &mut W, is_data: fn(&M) -> bool) -> Result<(), Failure>
where
    W: futures_util::Stream<Item = Result<M, E>> + futures_util::Sink<M, Error = E> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    use futures_util::{FutureExt, SinkExt, StreamExt};
    while let Some(message) = ws.next().await {
        let mut message = Some(message?);
        while let Some(m) = message.take() {
            if is_data(&m) {
                ws.feed(m).await?;
            }
            match ws.next().now_or_never() {
                Some(Some(next)) => message = Some(next?),
                Some(None) => return Ok(ws.flush().await?),
                None => {}
            }
        }
        ws.flush().await?;
    }
    Ok(())
}

mod tungstenite {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

    use super::*;

    pub async fn connection(tcp: TcpStream, room: &Room) -> Result<(), Failure> {
        let mut role = Role::Echo;
        let role_of = &mut role;
        #[allow(clippy::result_large_err)] // the callback's type is tungstenite's
        let callback = |request: &Request, response: Response| {
            *role_of = Role::of(request.uri().path());
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback).await?;
        match role {
            Role::Echo => echo_batched(&mut ws, |m: &Message| m.is_text() || m.is_binary()).await?,
            Role::Control => {
                while let Some(message) = ws.next().await {
                    match message? {
                        Message::Binary(bytes) => shout(room, bytes, false),
                        Message::Text(text) => shout(room, Bytes::from(text), true),
                        _ => {}
                    }
                }
            }
            Role::Sub => {
                let mut rx = room.subscribe();
                while let Ok(shout) = rx.recv().await {
                    let message = if shout.text {
                        Message::Text(Utf8Bytes::try_from(shout.payload)?)
                    } else {
                        Message::Binary(shout.payload)
                    };
                    ws.send(message).await?;
                }
            }
        }
        Ok(())
    }
}

mod tws {
    use ::tokio_websockets::{Message, ServerBuilder};
    use futures_util::{SinkExt, StreamExt};

    use super::*;

    pub async fn connection(tcp: TcpStream, room: &Room) -> Result<(), Failure> {
        let (request, mut ws) = ServerBuilder::new().accept(tcp).await?;
        match Role::of(request.uri().path()) {
            Role::Echo => echo_batched(&mut ws, |m: &Message| m.is_text() || m.is_binary()).await?,
            Role::Control => {
                while let Some(message) = ws.next().await {
                    let message = message?;
                    if message.is_text() || message.is_binary() {
                        let text = message.is_text();
                        shout(room, Bytes::from(message.into_payload()), text);
                    }
                }
            }
            Role::Sub => {
                let mut rx = room.subscribe();
                while let Ok(shout) = rx.recv().await {
                    let message = if shout.text {
                        Message::text(std::str::from_utf8(&shout.payload)?.to_owned())
                    } else {
                        Message::binary(shout.payload)
                    };
                    ws.send(message).await?;
                }
            }
        }
        Ok(())
    }
}

mod fastws {
    use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, upgrade::UpgradeFut};

    use super::*;

    pub fn upgrade(
        mut request: hyper::Request<hyper::body::Incoming>,
        room: Arc<Room>,
    ) -> std::io::Result<HyperResponse> {
        let role = Role::of(request.uri().path());
        let (response, upgraded) =
            fastwebsockets::upgrade::upgrade(&mut request).map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = run(upgraded, role, &room).await;
        });
        Ok(response)
    }

    async fn run(upgraded: UpgradeFut, role: Role, room: &Room) -> Result<(), Failure> {
        let ws = upgraded.await?;
        match role {
            // Its echo example: whole messages through a FragmentCollector, one write each.
            Role::Echo => {
                let mut ws = FragmentCollector::new(ws);
                loop {
                    let frame = ws.read_frame().await?;
                    match frame.opcode {
                        OpCode::Close => break,
                        OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                        _ => {}
                    }
                }
            }
            Role::Control => {
                let mut ws = FragmentCollector::new(ws);
                loop {
                    let frame = ws.read_frame().await?;
                    match frame.opcode {
                        OpCode::Close => break,
                        OpCode::Text | OpCode::Binary => shout(
                            room,
                            Bytes::copy_from_slice(&frame.payload),
                            frame.opcode == OpCode::Text,
                        ),
                        _ => {}
                    }
                }
            }
            Role::Sub => {
                let mut ws = ws;
                let mut rx = room.subscribe();
                while let Ok(shout) = rx.recv().await {
                    let opcode = if shout.text {
                        OpCode::Text
                    } else {
                        OpCode::Binary
                    };
                    let payload = Payload::Borrowed(&shout.payload);
                    ws.write_frame(Frame::new(true, opcode, None, payload))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

mod yawc_server {
    use futures_util::{SinkExt, StreamExt};
    use yawc::frame::{Frame, OpCode};
    use yawc::{CompressionLevel, Options, WebSocket};

    use super::*;

    pub fn upgrade(
        mut request: hyper::Request<hyper::body::Incoming>,
        room: Arc<Room>,
    ) -> std::io::Result<HyperResponse> {
        let role = Role::of(request.uri().path());
        // permessage-deflate at level 1, our codec's default level.
        let options = Options::default().with_compression_level(CompressionLevel::new(1));
        let (response, upgraded) = WebSocket::upgrade_with_options(&mut request, options)
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let Ok(mut ws) = upgraded.await else { return };
            let _ = run(&mut ws, role, &room).await;
        });
        Ok(response)
    }

    async fn run<S>(ws: &mut WebSocket<S>, role: Role, room: &Room) -> Result<(), Failure>
    where
        WebSocket<S>: futures_util::Stream<Item = Frame>
            + futures_util::Sink<Frame, Error = yawc::WebSocketError>
            + Unpin,
    {
        match role {
            Role::Echo => {
                while let Some(frame) = ws.next().await {
                    match frame.opcode() {
                        OpCode::Text | OpCode::Binary => ws.send(frame).await?,
                        OpCode::Close => break,
                        _ => {}
                    }
                }
            }
            Role::Control => {
                while let Some(frame) = ws.next().await {
                    let text = frame.opcode() == OpCode::Text;
                    if text || frame.opcode() == OpCode::Binary {
                        shout(room, frame.into_payload(), text);
                    }
                }
            }
            Role::Sub => {
                let mut rx = room.subscribe();
                while let Ok(shout) = rx.recv().await {
                    let frame = if shout.text {
                        Frame::text(shout.payload)
                    } else {
                        Frame::binary(shout.payload)
                    };
                    ws.send(frame).await?;
                }
            }
        }
        Ok(())
    }
}
