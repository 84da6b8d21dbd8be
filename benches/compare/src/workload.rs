//! Workload definitions, input generation and result checking.
//!
//! Inputs are generated once, outside any timed region: payloads (random binary, or text
//! mixing ASCII with ~40% multi-byte characters), and for decoding the wire bytes of
//! back-to-back frames. Every implementation reports what it decoded into a [`Tally`],
//! which is compared with the [`Expect`] computed from the payloads themselves.

use bytes::Bytes;
use rfc6455::Role;
use rfc6455::frame::{FrameHeader, OpCode, encode_frame};

/// Deterministic xorshift64* generator: the same inputs on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    pub fn key(&mut self) -> [u8; 4] {
        (self.next_u64() as u32).to_le_bytes()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Binary,
    Text,
}

/// A payload of exactly `len` bytes.
pub fn payload(rng: &mut Rng, kind: Kind, len: usize) -> Vec<u8> {
    match kind {
        Kind::Binary => {
            let mut v = vec![0; len];
            rng.fill(&mut v);
            v
        }
        Kind::Text => text(rng, len),
    }
}

/// UTF-8 text of exactly `len` bytes: about 60% of the characters are printable ASCII,
/// 40% are multi-byte (2, 3 and 4 bytes in equal shares), so that validation has to
/// leave its ASCII fast path often.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        let room = len - s.len();
        let c = if rng.below(10) < 6 {
            None
        } else {
            let c = match rng.below(3) {
                0 => 0x80 + rng.below(0x800 - 0x80),
                1 => 0x800 + rng.below(0xD800 - 0x800),
                _ => 0x1_0000 + rng.below(0x11_0000 - 0x1_0000),
            };
            char::from_u32(c).filter(|c| c.len_utf8() <= room)
        };
        s.push(c.unwrap_or(char::from(b' ' + rng.below(95) as u8)));
    }
    debug_assert_eq!(s.len(), len);
    s.into_bytes()
}

/// What an implementation saw: counted inside the timed region, checked outside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub messages: u64,
    pub texts: u64,
    pub bytes: u64,
    /// Order-sensitive checksum: over every payload byte when `full`, else over each
    /// message's length and its first, middle and last bytes (cheap enough to leave
    /// in the timed rounds, and still fails if payloads are not unmasked).
    pub check: u64,
    pub full: bool,
}

impl Tally {
    pub fn new(full: bool) -> Self {
        Tally {
            full,
            ..Tally::default()
        }
    }

    #[inline(always)]
    pub fn add(&mut self, text: bool, payload: &[u8]) {
        self.messages += 1;
        self.texts += u64::from(text);
        self.bytes += payload.len() as u64;
        self.check = if self.full {
            full_hash(self.check, payload)
        } else {
            sample_hash(self.check, payload)
        };
    }
}

#[inline(always)]
fn sample_hash(h: u64, p: &[u8]) -> u64 {
    let (a, b, c) = match p {
        [] => (0, 0, 0),
        [.., last] => (p[0], p[p.len() / 2], *last),
    };
    let v = (p.len() as u64) << 24 | u64::from(a) << 16 | u64::from(b) << 8 | u64::from(c);
    (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23)
}

fn full_hash(mut h: u64, p: &[u8]) -> u64 {
    h = (h ^ p.len() as u64).wrapping_mul(0x100_0000_01B3);
    let mut words = p.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().unwrap());
        h = (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    h
}

/// The tallies a correct implementation produces, in both checksum modes.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub sample: Tally,
    pub full: Tally,
}

impl Expect {
    pub fn of(kind: Kind, messages: &[&[u8]]) -> Self {
        let mut sample = Tally::new(false);
        let mut full = Tally::new(true);
        for m in messages {
            sample.add(kind == Kind::Text, m);
            full.add(kind == Kind::Text, m);
        }
        Expect { sample, full }
    }

    pub fn matches(&self, t: &Tally) -> bool {
        let want = if t.full { &self.full } else { &self.sample };
        want == t
    }
}

/// How many messages to put in one round: about `target` wire bytes, within limits.
pub fn message_count(wire_per_message: usize, target: usize, min: usize, max: usize) -> usize {
    (target / wire_per_message.max(1)).clamp(min, max)
}

/// Pre-generated input for a decoding workload.
pub struct DecodeInput {
    /// Back-to-back frames as the receiver reads them off the wire.
    pub wire: Vec<u8>,
    /// The distinct payloads; message `i` carries `variants[i % len]`.
    pub variants: Vec<Vec<u8>>,
    pub messages: u64,
    pub payload_bytes: u64,
    pub expect: Expect,
}

/// Frames carrying `count` messages of `len` bytes of `kind`, sent by the peer of
/// `receiver` (masked when the receiver is a server), each message split into fragments
/// of `fragment` bytes when given. Up to 8 distinct payloads are cycled.
pub fn decode_input(
    rng: &mut Rng,
    receiver: Role,
    kind: Kind,
    len: usize,
    fragment: Option<usize>,
    count: usize,
) -> DecodeInput {
    let variants: Vec<Vec<u8>> = (0..count.min(8)).map(|_| payload(rng, kind, len)).collect();
    let opcode = match kind {
        Kind::Binary => OpCode::Binary,
        Kind::Text => OpCode::Text,
    };
    let piece = fragment.unwrap_or(len).max(1);
    let mut wire = Vec::new();
    let mut sent: Vec<&[u8]> = Vec::with_capacity(count);
    for i in 0..count {
        let msg = &variants[i % variants.len()];
        sent.push(msg);
        let pieces: Vec<&[u8]> = if msg.is_empty() {
            vec![&msg[..]]
        } else {
            msg.chunks(piece).collect()
        };
        for (j, p) in pieces.iter().enumerate() {
            let mask = (receiver == Role::Server).then(|| rng.key());
            let op = if j == 0 { opcode } else { OpCode::Continuation };
            let header = FrameHeader::new(j + 1 == pieces.len(), op, mask, p.len() as u64);
            let start = wire.len();
            wire.resize(start + header.encoded_len() + p.len(), 0);
            let n = encode_frame(&header, p, &mut wire[start..]).expect("encode input frame");
            debug_assert_eq!(start + n, wire.len());
        }
    }
    let payload_bytes = sent.iter().map(|m| m.len() as u64).sum();
    let expect = Expect::of(kind, &sent);
    DecodeInput {
        wire,
        variants,
        messages: count as u64,
        payload_bytes,
        expect,
    }
}

/// Pre-generated input for an encoding workload: the payloads to send, in order.
pub struct EncodeInput {
    /// Up to 8 distinct binary payloads; message `i` carries `payloads[i % len]`.
    pub payloads: Vec<Bytes>,
    pub messages: usize,
    /// The exact number of bytes the frames take on the wire.
    pub wire_bytes: usize,
    pub payload_bytes: u64,
    pub expect: Expect,
}

/// The masking key of frame `i` in the frame-level encoding rows (the same for every
/// implementation; a client's keys would come from a generator).
#[inline(always)]
pub fn frame_key(i: usize) -> [u8; 4] {
    [i as u8, 0x5A, (i >> 8) as u8, 0xC3]
}

pub fn encode_input(rng: &mut Rng, sender: Role, len: usize, count: usize) -> EncodeInput {
    let payloads: Vec<Bytes> = (0..count.min(8))
        .map(|_| Bytes::from(payload(rng, Kind::Binary, len)))
        .collect();
    let mask = (sender == Role::Client).then_some([0; 4]);
    let head = FrameHeader::new(true, OpCode::Binary, mask, len as u64).encoded_len();
    let sent: Vec<&[u8]> = (0..count)
        .map(|i| &payloads[i % payloads.len()][..])
        .collect();
    EncodeInput {
        expect: Expect::of(Kind::Binary, &sent),
        payloads,
        messages: count,
        wire_bytes: count * (head + len),
        payload_bytes: (count * len) as u64,
    }
}

/// Decode what an encoder wrote (as its peer would), for the untimed verification pass.
pub fn tally_wire(sender: Role, wire: &[u8]) -> Result<Tally, String> {
    use rfc6455::connection::{Config, Connection, Event, Message};
    let receiver = match sender {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut conn = match receiver {
        rfc6455::Role::Server => Connection::upgraded_server(Config::default()),
        rfc6455::Role::Client => Connection::upgraded_client(Config::default(), [7; 32]),
    };
    conn.receive(wire);
    let mut t = Tally::new(true);
    while let Some(ev) = conn.poll_event().map_err(|e| e.to_string())? {
        match ev {
            Event::Message(Message::Binary(b)) => t.add(false, &b),
            Event::Message(Message::Text(s)) => t.add(true, s.as_bytes()),
            other => return Err(format!("unexpected event {other:?}")),
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_exact_and_mixed() {
        let mut rng = Rng::new(1);
        for len in [0, 1, 3, 16, 16 << 10] {
            let t = text(&mut rng, len);
            assert_eq!(t.len(), len);
            assert!(std::str::from_utf8(&t).is_ok());
        }
        let t = String::from_utf8(text(&mut rng, 16 << 10)).unwrap();
        let multi = t.chars().filter(|c| !c.is_ascii()).count() as f64;
        let share = multi / t.chars().count() as f64;
        assert!((0.3..0.5).contains(&share), "multi-byte share {share}");
    }

    #[test]
    fn generated_frames_decode_to_expectation() {
        let mut rng = Rng::new(2);
        let input = decode_input(&mut rng, Role::Server, Kind::Text, 1000, Some(300), 5);
        assert_eq!(
            tally_wire(Role::Client, &input.wire).unwrap(),
            input.expect.full
        );
    }
}
