//! Reading a connection's output with a frame reader written here from RFC 6455 section 5.2,
//! not with the crate's `Decoder`, so a test of what the crate sends does not take the
//! crate's own word for it.
#![allow(dead_code)]

/// The frames in `wire` as (first byte, unmasked payload, masked?). Panics on a frame cut
/// short: the callers pass whole frames only.
pub fn read_frames(wire: &[u8]) -> Vec<(u8, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let b0 = wire[at];
        let masked = wire[at + 1] & 0x80 != 0;
        let (len, mut p) = match wire[at + 1] & 0x7F {
            126 => (
                usize::from(u16::from_be_bytes([wire[at + 2], wire[at + 3]])),
                at + 4,
            ),
            127 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&wire[at + 2..at + 10]);
                (u64::from_be_bytes(n) as usize, at + 10)
            }
            n => (usize::from(n), at + 2),
        };
        let mut key = [0u8; 4];
        if masked {
            key.copy_from_slice(&wire[p..p + 4]);
            p += 4;
        }
        let payload = wire[p..p + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        out.push((b0, payload, masked));
        at = p + len;
    }
    out
}

/// Everything `conn` has queued, as one byte string.
#[cfg(feature = "alloc")]
pub fn pending(conn: &rfc6455::connection::Connection) -> Vec<u8> {
    conn.pending_output_slices().flatten().copied().collect()
}
