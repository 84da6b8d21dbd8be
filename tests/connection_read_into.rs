//! Reading the transport straight into the connection's buffer
//! (`Connection::receive_buffer` + `commit_received`, or `receive_with`, which lends the
//! room unzeroed): reads stop where a large frame
//! ends, the buffer grows with bytes that arrive and never by a declared length, and lent
//! room that is not committed is never taken for input.
#![cfg(feature = "alloc")]

mod support;
use support::{conn, counting, oracle};

use oracle::{b0, frame, header};
use rfc6455::Role;
use rfc6455::bytes::BufMut;
use rfc6455::connection::{Config, Connection, EventRef, MAX_READ_LEN, ProtocolError};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const WANT: usize = 64 << 10;

/// How a read reaches the connection's buffer.
#[derive(Clone, Copy, Debug)]
enum Lend {
    /// `receive_buffer` + `commit_received`: an initialised slice.
    Slice,
    /// `receive_with`: room to append to, not zeroed.
    Spare,
}

/// One read of as much of `input` as the connection lends room for (asking for `want`);
/// returns the bytes read.
fn read_once(conn: &mut Connection, input: &[u8], want: usize, lend: Lend) -> usize {
    match lend {
        Lend::Slice => {
            let room = conn.receive_buffer(want);
            let n = room.len().min(input.len());
            room[..n].copy_from_slice(&input[..n]);
            conn.commit_received(n);
            n
        }
        Lend::Spare => conn.receive_with(want, |room| {
            let n = room.remaining_mut().min(input.len());
            room.put_slice(&input[..n]);
            n
        }),
    }
}

/// Read `input` into `conn` as a socket holding it would (as much as each lent room
/// holds), polling after each read as an event loop does. Returns the size of each read
/// and the binary messages received.
fn read_all(conn: &mut Connection, mut input: &[u8], lend: Lend) -> (Vec<usize>, Vec<Vec<u8>>) {
    let mut reads = Vec::new();
    let mut messages = Vec::new();
    while !input.is_empty() {
        let n = read_once(conn, input, WANT, lend);
        input = &input[n..];
        reads.push(n);
        while let Some(event) = conn.poll_event_ref().unwrap() {
            match event {
                EventRef::Binary(b) => messages.push(b.to_vec()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    (reads, messages)
}

#[test]
fn reads_stop_where_a_large_frame_ends() {
    for (role, lend) in [Role::Server, Role::Client]
        .into_iter()
        .flat_map(|role| [(role, Lend::Slice), (role, Lend::Spare)])
    {
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let first = frame(role, b0(true, 0, 2), &payload);
        let second = frame(role, b0(true, 0, 2), &payload[..70_000]);
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let mut wire = first.clone();
        wire.extend_from_slice(&second);

        // Three full reads, then the rest of the first frame and 128 bytes of the second
        // (enough for its header), no more. The next read asks for a full `want` again.
        let (reads, messages) = read_all(&mut conn, &wire, lend);
        let rest = first.len() - 3 * WANT + 128;
        let last = second.len() - 128 - WANT;
        assert_eq!(
            reads,
            [WANT, WANT, WANT, rest, WANT, last],
            "{role:?} {lend:?}"
        );
        assert_eq!(messages, [&payload[..], &payload[..70_000]]);
        assert_eq!(conn.bytes_received(), wire.len() as u64);
    }
}

#[test]
fn small_frames_are_read_in_full_reads() {
    // Frames under half a read are not worth a short read: reads stay `want` long.
    let mut wire = Vec::new();
    for i in 0..2000u32 {
        wire.extend(frame(
            Role::Server,
            b0(true, 0, 2),
            &i.to_be_bytes().repeat(25),
        ));
    }
    let mut conn = conn::open_server(Config::default());
    let mut input = &wire[..];
    let mut count = 0;
    while !input.is_empty() {
        let room = conn.receive_buffer(WANT);
        assert_eq!(room.len(), WANT);
        let n = room.len().min(input.len());
        room[..n].copy_from_slice(&input[..n]);
        conn.commit_received(n);
        input = &input[n..];
        while let Some(event) = conn.poll_event_ref().unwrap() {
            assert_eq!(
                event,
                EventRef::Binary(&(count as u32).to_be_bytes().repeat(25))
            );
            count += 1;
        }
    }
    assert_eq!(count, 2000);
}

#[test]
fn a_declared_length_does_not_size_the_buffer() {
    // A header announcing a frame just under the 16 MiB limit, then a few bytes: the room
    // lent and the memory held follow what arrived (plus one read), not the 16 MiB.
    for role in [Role::Server, Role::Client] {
        let before = counting::live();
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let mut wire = header(role, b0(true, 0, 2), (16 << 20) - 1);
        wire.extend_from_slice(&[0u8; 100]);
        let room = conn.receive_buffer(WANT);
        room[..wire.len()].copy_from_slice(&wire);
        conn.commit_received(wire.len());
        assert_eq!(conn.poll_event_ref(), Ok(None));
        for _ in 0..3 {
            // Asked for again without a read: the room does not grow.
            assert_eq!(conn.receive_buffer(WANT).len(), WANT);
        }
        let held = counting::live() - before;
        assert!(
            held <= 3 * WANT as i64,
            "{role:?}: {held} bytes held for 114 received"
        );

        // Each read of 64 KiB lets the buffer grow by at most what arrived plus one read.
        let mut received = wire.len();
        for _ in 0..8 {
            let room = conn.receive_buffer(WANT);
            let n = room.len();
            conn.commit_received(n);
            received += n;
            assert_eq!(conn.poll_event_ref(), Ok(None));
            let held = counting::live() - before;
            assert!(
                held <= (2 * received + 2 * WANT) as i64,
                "{role:?}: {held} bytes held for {received} received"
            );
        }
    }
}

#[test]
fn room_that_is_not_committed_is_not_input() {
    for role in [Role::Server, Role::Client] {
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let msg = frame(role, b0(true, 0, 1), b"hello");
        // Lent and abandoned (a read that failed): the zeroes are not frames.
        let _ = conn.receive_buffer(16);
        assert_eq!(conn.poll_event_ref(), Ok(None));
        // Lent, partly committed, then bytes fed the copying way: order is kept.
        let room = conn.receive_buffer(16);
        room[..3].copy_from_slice(&msg[..3]);
        conn.commit_received(3);
        let _ = conn.receive_buffer(16);
        conn.receive(&msg[3..]);
        assert_eq!(conn.poll_event_ref(), Ok(Some(EventRef::Text("hello"))));
        assert_eq!(conn.bytes_received(), msg.len() as u64);
    }
}

#[test]
fn bytes_after_a_failure_are_dropped_when_committed() {
    let mut conn = conn::open_server(Config::default());
    // Unmasked frame to a server: 1002.
    let bad = frame(Role::Client, b0(true, 0, 2), b"x");
    let room = conn.receive_buffer(64);
    room[..bad.len()].copy_from_slice(&bad);
    conn.commit_received(bad.len());
    assert_eq!(
        conn.poll_event_ref(),
        Err(ProtocolError::Frame(
            rfc6455::frame::FrameError::UnmaskedFrame,
        ))
    );
    let good = frame(Role::Server, b0(true, 0, 2), b"late");
    let room = conn.receive_buffer(64);
    room[..good.len()].copy_from_slice(&good);
    conn.commit_received(good.len());
    assert_eq!(conn.poll_event_ref(), Ok(None));
}

#[test]
#[should_panic(expected = "commit_received")]
fn committing_more_than_was_lent_panics() {
    let mut conn = conn::open_server(Config::default());
    let _ = conn.receive_buffer(8);
    conn.commit_received(9);
}

#[test]
#[should_panic]
fn appending_past_the_lent_room_panics() {
    let mut conn = conn::open_server(Config::default());
    conn.receive_with(8, |room| {
        assert_eq!(room.remaining_mut(), 8);
        room.put_slice(&[0; 9]);
    });
}

#[test]
fn appended_bytes_count_as_received_and_nothing_after_the_close() {
    for lend in [Lend::Slice, Lend::Spare] {
        let mut conn = conn::open_server(Config::default());
        let mut wire = frame(Role::Server, b0(true, 0, 8), &[0x03, 0xe8]);
        wire.extend(frame(Role::Server, b0(true, 0, 2), b"after"));
        let n = read_once(&mut conn, &wire, WANT, lend);
        assert_eq!(n, wire.len(), "{lend:?}");
        assert_eq!(conn.bytes_received(), wire.len() as u64, "{lend:?}");
        assert!(matches!(
            conn.poll_event_ref(),
            Ok(Some(EventRef::Closed(_)))
        ));
        // The binary frame after the close is dropped, and so is what arrives later.
        assert_eq!(conn.pending_input_len(), 0, "{lend:?}");
        assert_eq!(read_once(&mut conn, b"more", WANT, lend), 4);
        assert_eq!(conn.pending_input_len(), 0, "{lend:?}");
        assert_eq!(conn.poll_event_ref().unwrap(), None, "{lend:?}");
    }
}

/// Read the frames in `wire` the way `lend` says, polling after each read, and return the
/// allocations the connection made and the messages received.
fn allocations_to_read(conn: &mut Connection, mut wire: &[u8], lend: Lend) -> (u64, u64) {
    let mut allocations = 0;
    let mut messages = 0;
    while !wire.is_empty() {
        let before = counting::allocs();
        let n = read_once(conn, wire, WANT, lend);
        wire = &wire[n..];
        while conn.poll_event_ref().unwrap().is_some() {
            messages += 1;
        }
        allocations += counting::allocs() - before;
    }
    (allocations, messages)
}

#[test]
fn a_frame_no_larger_than_one_already_received_is_reserved_at_once() {
    for (role, lend) in [Role::Server, Role::Client]
        .into_iter()
        .flat_map(|role| [(role, Lend::Slice), (role, Lend::Spare)])
    {
        let payload = vec![0x42u8; 300_000];
        let big = frame(role, b0(true, 0, 2), &payload);
        let smaller = frame(role, b0(true, 0, 2), &payload[..250_000]);

        // A fresh connection grows step by step with what arrives.
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let (first, _) = allocations_to_read(&mut conn, &big, lend);
        assert!(
            first >= 3,
            "{role:?} {lend:?}: {first} allocations for the first frame"
        );

        // Once the peer has sent 300 KB whole, a 250 KB frame gets its room in one step
        // after its first read.
        let (second, _) = allocations_to_read(&mut conn, &smaller, lend);
        assert!(
            second <= 2,
            "{role:?} {lend:?}: {second} allocations for the second frame"
        );

        // Idle (`shrink_buffers`) forgets it: a header declaring 250 KB and 100 bytes of
        // payload cost about one read again, not the declared size.
        conn.shrink_buffers();
        let before = counting::live();
        let mut wire = header(role, b0(true, 0, 2), 250_000);
        wire.extend_from_slice(&[0u8; 100]);
        let (_, messages) = read_all(&mut conn, &wire, lend);
        assert!(messages.is_empty());
        read_once(&mut conn, &[], WANT, lend);
        let held = counting::live() - before;
        assert!(
            held <= 3 * WANT as i64,
            "{role:?}: {held} bytes held for 114 received"
        );
    }
}

#[test]
fn a_large_buffer_is_kept_for_a_large_frame_that_follows_and_released_when_idle() {
    for (role, lend) in [Role::Server, Role::Client]
        .into_iter()
        .flat_map(|role| [(role, Lend::Slice), (role, Lend::Spare)])
    {
        let payload = vec![0x17u8; 300_000];
        let one = frame(role, b0(true, 0, 2), &payload);
        let three = one.repeat(3);

        let before = counting::live();
        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let (for_one, messages) = allocations_to_read(&mut conn, &one, lend);
        assert_eq!(messages, 1);
        assert!(for_one >= 3, "{role:?}: {for_one}");

        let mut conn = conn::open(role, Config::default(), [7; 32]);
        let (for_three, messages) = allocations_to_read(&mut conn, &three, lend);
        assert_eq!(messages, 3);
        assert_eq!(
            for_three, for_one,
            "{role:?}: the later frames reuse the buffer"
        );

        // Nothing follows: the large buffer is gone.
        let held = counting::live() - before;
        assert!(
            held <= 1024,
            "{role:?}: {held} bytes held by an idle connection"
        );
        drop(conn);
    }
}

#[test]
fn a_huge_want_is_capped_not_a_panic() {
    // Found by the round-trip fuzz target: asking for `usize::MAX` overflowed the
    // reservation. The room is capped at `MAX_READ_LEN` and reading still works.
    for want in [usize::MAX, usize::MAX / 2 + 1, MAX_READ_LEN + 1] {
        let mut conn = conn::open_server(Config::default());
        let msg = frame(Role::Server, b0(true, 0, 2), b"fine");
        let room = conn.receive_buffer(want);
        assert_eq!(room.len(), MAX_READ_LEN);
        room[..msg.len()].copy_from_slice(&msg);
        conn.commit_received(msg.len());
        assert_eq!(conn.poll_event_ref(), Ok(Some(EventRef::Binary(b"fine"))));
    }
    // And zero is taken as one.
    let mut conn = conn::open_server(Config::default());
    assert_eq!(conn.receive_buffer(0).len(), 1);
}

#[test]
fn fragments_and_stream_mode_need_no_room_for_a_whole_frame() {
    // Fragments of a reassembled message are copied out as they arrive, and stream mode
    // hands out pieces: reads stay `want` long and the input buffer stays about one read,
    // however large the frames.
    let payload = vec![0x33u8; 300_000];
    for stream in [false, true] {
        for role in [Role::Server, Role::Client] {
            let mut wire = Vec::new();
            if stream {
                wire.extend(frame(role, b0(true, 0, 2), &payload));
            } else {
                for (i, part) in payload.chunks(100_000).enumerate() {
                    let (fin, opcode) = (i == 2, if i == 0 { 2 } else { 0 });
                    wire.extend(frame(role, b0(fin, 0, opcode), part));
                }
            }
            let mut config = Config::default();
            if stream {
                config.receive_mode = rfc6455::connection::ReceiveMode::Stream;
            }
            let base = counting::live();
            let mut conn = conn::open(role, config, [7; 32]);
            let mut input = &wire[..];
            let mut received = 0;
            let mut peak = 0;
            while !input.is_empty() {
                let room = conn.receive_buffer(WANT);
                assert!(room.len() == WANT || room.len() >= input.len(), "{role:?}");
                let n = room.len().min(input.len());
                room[..n].copy_from_slice(&input[..n]);
                conn.commit_received(n);
                input = &input[n..];
                while let Some(event) = conn.poll_event_ref().unwrap() {
                    match event {
                        EventRef::Binary(b) => received += b.len(),
                        EventRef::Chunk(c) => received += c.data.len(),
                        other => panic!("unexpected {other:?}"),
                    }
                }
                peak = peak.max(counting::live() - base);
            }
            assert_eq!(received, payload.len(), "{role:?} stream {stream}");
            // What one read costs, and (reassembling) the message buffer's growth steps.
            let bound = if stream {
                2 * WANT
            } else {
                2 * WANT + 2 * payload.len()
            };
            assert!(peak <= bound as i64, "{role:?} stream {stream}: {peak}");
        }
    }
}

#[test]
#[should_panic(expected = "commit_received")]
fn a_poll_between_lending_and_committing_takes_the_room_back() {
    let mut conn = conn::open_server(Config::default());
    let _ = conn.receive_buffer(8);
    assert_eq!(conn.poll_event_ref(), Ok(None));
    conn.commit_received(1);
}
