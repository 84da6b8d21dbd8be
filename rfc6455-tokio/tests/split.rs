//! `WebSocketStream::split`: a reader and a writer in two tasks over one connection.
mod common;

use std::time::Duration;

use common::{echo_server, timed};
use futures_util::SinkExt;
use rfc6455::connection::Config;
use rfc6455_tokio::{CloseCode, Message, Options, WebSocketStream, accept, connect, connect_with};
use tokio::net::{TcpListener, TcpStream};

/// Message `i` of the concurrent echo: sizes from 0 to 96 KiB, so that some writes are
/// partial and the output bound is reached.
fn message(i: u32) -> Message {
    let len = (i as usize * 7919) % (96 << 10);
    Message::binary((0..len).map(|j| (j as u32 ^ i) as u8).collect::<Vec<u8>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_and_a_reader_in_two_tasks_echo_concurrently() {
    let addr = echo_server().await;
    // A small output bound, so that the writer waits for the socket while the reader runs.
    let options = Options::new().config(Config::new().max_queued_output(128 << 10));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = timed(connect_with(tcp, &format!("ws://{addr}/"), options))
        .await
        .unwrap();
    let (mut writer, mut reader) = ws.split();
    const COUNT: u32 = 600;
    let sending = tokio::spawn(async move {
        for i in 0..COUNT {
            writer.send(message(i)).await.unwrap();
        }
        writer
    });
    let receiving = tokio::spawn(async move {
        for i in 0..COUNT {
            let got = reader.next().await.expect("an echo").unwrap();
            assert_eq!(got, message(i), "echo {i}");
        }
        reader
    });
    let mut writer = timed(sending).await.unwrap();
    let mut reader = timed(receiving).await.unwrap();
    // The close through the Sink (code 1000); the reader sees the reply, then the end.
    timed(SinkExt::close(&mut writer)).await.unwrap();
    let reply = timed(reader.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(f)) if f.code == CloseCode::NORMAL));
    assert!(timed(reader.next()).await.is_none());
    let ws = reader.reunite(writer).expect("halves of one stream");
    assert_eq!(ws.state(), rfc6455::connection::State::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_answers_pings_while_the_writer_is_idle() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (writer, mut reader) = accept(tcp).await.unwrap().split();
        let mut pings = 0;
        while let Some(Ok(message)) = reader.next().await {
            if let Message::Ping(_) = message {
                pings += 1;
            }
        }
        // Held, idle, all along.
        drop(writer);
        pings
    });
    let (mut client, _) = timed(connect(&format!("ws://{addr}/"))).await.unwrap();
    for i in 0..10u8 {
        timed(client.ping(vec![i; usize::from(i) * 12]))
            .await
            .unwrap();
        let pong = timed(client.next()).await.unwrap().unwrap();
        assert_eq!(pong, Message::Pong(vec![i; usize::from(i) * 12].into()));
    }
    timed(client.close(CloseCode::NORMAL, "")).await.unwrap();
    let reply = timed(client.next()).await.unwrap().unwrap();
    assert!(matches!(reply, Message::Close(Some(f)) if f.code == CloseCode::NORMAL));
    assert!(timed(client.next()).await.is_none());
    assert_eq!(timed(server).await.unwrap(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_waits_for_a_peer_that_never_reads() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (_never_read, a) = (a.unwrap(), b.unwrap().0);
    let bound = 256 << 10;
    let ws = WebSocketStream::server(a, Config::new().max_queued_output(bound));
    let (mut writer, mut reader) = ws.split();
    // The reader is polled all along (it would answer pings).
    let reading = tokio::spawn(async move {
        let _ = reader.next().await;
    });
    let message = Message::binary(vec![0xa5; 64 << 10]);
    let mut waited = false;
    // Kernel socket buffers take some megabytes; stop after 64 MiB at most.
    for _ in 0..1024 {
        match tokio::time::timeout(Duration::from_millis(300), writer.send(message.clone())).await {
            Ok(sent) => sent.unwrap(),
            Err(_) => {
                waited = true;
                break;
            }
        }
        let pending = writer.with_stream(|ws| ws.connection().pending_output_len());
        assert!(pending <= bound, "{pending} bytes pending");
    }
    assert!(waited, "send never waited");
    let pending = writer.with_stream(|ws| ws.connection().pending_output_len());
    assert!(
        pending <= bound + (64 << 10) + 14,
        "{pending} bytes pending"
    );
    reading.abort();
}

#[tokio::test]
async fn reunite_takes_only_halves_of_one_stream() {
    let addr = echo_server().await;
    let url = format!("ws://{addr}/");
    let (one, _) = timed(connect(&url)).await.unwrap();
    let (two, _) = timed(connect(&url)).await.unwrap();
    let (writer_one, reader_one) = one.split();
    let (writer_two, reader_two) = two.split();
    let (reader_one, writer_two) = reader_one.reunite(writer_two).expect_err("two streams");
    let mut one = reader_one.reunite(writer_one).expect("one stream");
    let mut two = reader_two.reunite(writer_two).expect("one stream");
    for ws in [&mut one, &mut two] {
        timed(ws.send(Message::text("again whole"))).await.unwrap();
        let echo = timed(ws.next()).await.unwrap().unwrap();
        assert_eq!(echo, Message::text("again whole"));
    }
}

/// The writer waits for the transport's write readiness with a big message; then the
/// reader, answering a ping, waits for the same readiness (a transport keeps one waker per
/// direction); when the peer reads, the writer must still learn that its message went out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_is_woken_when_the_reader_took_its_write_readiness() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (peer, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let mut peer = peer.unwrap();
    let ws = WebSocketStream::server(server.unwrap().0, Config::new());
    let (mut writer, mut reader) = ws.split();
    let reading = tokio::spawn(async move { while let Some(Ok(_)) = reader.next().await {} });
    // More than loopback's socket buffers take, under the default output bound.
    const BIG: usize = 12 << 20;
    let sending = tokio::spawn(async move {
        writer.send(Message::binary(vec![0x3c; BIG])).await.unwrap();
        writer
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !sending.is_finished(),
        "the message went out without the peer reading"
    );
    // A masked ping (key 0): the reader queues the pong behind the message and waits to
    // write it.
    peer.write_all(b"\x89\x84\0\0\0\0ping").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Now read everything: the message (10-byte header), then the pong.
    let total = 10 + BIG + 6;
    let mut got = vec![0u8; total];
    timed(peer.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got[..2], b"\x82\x7f");
    assert!(got[10..10 + BIG].iter().all(|&b| b == 0x3c));
    assert_eq!(&got[10 + BIG..], b"\x8a\x04ping");
    let writer = timed(sending).await.unwrap();
    drop(writer);
    reading.abort();
}
