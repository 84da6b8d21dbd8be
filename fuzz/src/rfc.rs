//! RFC 6455's wire rules, written out from the RFC's text for the fuzz oracles: the frame
//! header (section 5.2, with 5.1 for masking and 5.5 for control frames), the close
//! payload (section 5.5.1) and its status codes (section 7.4 and the IANA registry), and
//! the opening handshake's accept value (sections 1.3 and 4.2.2).
//!
//! Nothing here calls the crate's decoder, close parser or close-code predicates; the
//! crate's error enums are used only as the vocabulary the verdicts are written in.

use rfc6455::Role;
use rfc6455::close::{CloseCode, CloseError};
use rfc6455::frame::FrameError;

/// A close reason's limit: a control frame's 125 bytes less the 2-byte code (section 5.5.1).
pub const MAX_REASON: usize = 123;

/// The longest payload a control frame may carry (section 5.5).
pub const MAX_CONTROL: u64 = 125;

/// What a receiver may conclude from the first bytes of a frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The opcode, once the first byte is there.
    pub opcode: Option<u8>,
    /// The FIN bit (false until the first byte is there).
    pub fin: bool,
    /// The payload length, once all of its encoding is there.
    pub len: Option<u64>,
    /// The whole header, once it is all there and breaks no rule.
    pub head: Option<Head>,
    /// Every rule the bytes present already break: each rule is judged as soon as the
    /// bytes it reads are there, so a prefix of a header can be refused.
    pub broken: Vec<FrameError>,
}

/// A complete, valid frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub fin: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
    /// Header bytes: 2, plus 2 or 8 of extended length, plus 4 of masking key.
    pub size: usize,
}

/// Opcodes with a meaning (section 5.2: 0x0, 0x1, 0x2, 0x8, 0x9, 0xA; the rest, 0x3-0x7
/// and 0xB-0xF, are reserved for further frames).
pub fn opcode_defined(opcode: u8) -> bool {
    matches!(opcode, 0x0 | 0x1 | 0x2 | 0x8 | 0x9 | 0xA)
}

/// Section 5.5: control frames are the opcodes whose most significant bit is 1.
pub fn opcode_is_control(opcode: u8) -> bool {
    opcode & 0x8 != 0
}

/// Data frames: continuation, text, binary.
pub fn opcode_is_data(opcode: u8) -> bool {
    opcode <= 0x2
}

/// Judge the frame header at the front of `bytes` as an endpoint in `receiver` role with
/// no extension negotiated and frames limited to `max_frame` payload bytes.
///
/// Section 5.2 (with 5.1 and 5.5): RSV1-3 must be 0 without an extension that defines
/// them; reserved opcodes must fail the connection; control frames must not be
/// fragmented and carry at most 125 bytes; a client masks every frame it sends and a
/// server none (5.1); the length is in its minimal encoding (7 bits up to 125, 16 bits up
/// to 65535, then 64 bits) and a 64-bit length has its most significant bit 0. The limit
/// on frame size is the endpoint's own (section 10.4).
pub fn scan_head(bytes: &[u8], receiver: Role, max_frame: u64) -> Scan {
    let mut scan = Scan::default();
    let Some(&b0) = bytes.first() else {
        return scan;
    };
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0b111;
    let opcode = b0 & 0x0F;
    scan.opcode = Some(opcode);
    scan.fin = fin;
    if rsv != 0 {
        scan.broken.push(FrameError::ReservedBits(rsv));
    }
    if !opcode_defined(opcode) {
        scan.broken.push(FrameError::ReservedOpcode(opcode));
    }
    let control = opcode_is_control(opcode);
    if control && !fin {
        scan.broken.push(FrameError::FragmentedControl);
    }
    let Some(&b1) = bytes.get(1) else {
        return scan;
    };
    let masked = b1 & 0x80 != 0;
    match receiver {
        // Section 5.1: a server closes on an unmasked frame, a client on a masked one.
        Role::Server if !masked => scan.broken.push(FrameError::UnmaskedFrame),
        Role::Client if masked => scan.broken.push(FrameError::MaskedFrame),
        _ => {}
    }
    let len7 = u64::from(b1 & 0x7F);
    if control && len7 > MAX_CONTROL {
        // The 7-bit field says 126 or 127: an extended length, more than 125 in any case.
        scan.broken.push(FrameError::ControlTooLong { len: len7 });
    }
    let (len, after_len) = match len7 {
        126 => {
            let Some(ext) = bytes.get(2..4) else {
                return scan;
            };
            let len = u64::from(u16::from_be_bytes([ext[0], ext[1]]));
            if len <= 125 {
                scan.broken.push(FrameError::NonMinimalLength { len });
            }
            (len, 4)
        }
        127 => {
            // The most significant bit is in the first byte of the 64-bit field.
            if bytes.get(2).is_some_and(|b| b & 0x80 != 0) {
                scan.broken.push(FrameError::LengthMsbSet);
            }
            let Some(ext) = bytes.get(2..10) else {
                return scan;
            };
            let mut be = [0u8; 8];
            be.copy_from_slice(ext);
            let len = u64::from_be_bytes(be);
            if len <= 0xFFFF {
                scan.broken.push(FrameError::NonMinimalLength { len });
            }
            (len, 10)
        }
        n => (n, 2),
    };
    scan.len = Some(len);
    if len > max_frame {
        scan.broken.push(FrameError::FrameTooLarge {
            len,
            max: max_frame,
        });
    }
    let (mask, size) = if masked {
        let Some(key) = bytes.get(after_len..after_len + 4) else {
            return scan;
        };
        (Some([key[0], key[1], key[2], key[3]]), after_len + 4)
    } else {
        (None, after_len)
    };
    if scan.broken.is_empty() {
        scan.head = Some(Head {
            fin,
            opcode,
            mask,
            len,
            size,
        });
    }
    scan
}

/// Unmask `data`, the payload bytes from offset `at` on (section 5.3: byte i is XORed with
/// key byte i mod 4).
pub fn unmask(data: &mut [u8], key: [u8; 4], at: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(at + i) % 4];
    }
}

/// Who may put a close code in a close frame, and where the RFC or the registry says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeUse {
    /// An endpoint may send it (and so a receiver accepts it).
    Sendable,
    /// Never on the wire: a receiver fails the connection with 1002.
    NotOnWire,
}

/// Close status codes, range by range. Sources: RFC 6455 section 7.4.1 (defined codes),
/// section 7.4.2 (reserved ranges), and the IANA "WebSocket Close Code Number Registry"
/// that section 11.7 creates, which has since registered 1012-1014.
pub const CLOSE_CODES: &[(u16, u16, CodeUse, &str)] = &[
    (0, 999, CodeUse::NotOnWire, "7.4.2: not used"),
    (1000, 1000, CodeUse::Sendable, "7.4.1: normal closure"),
    (1001, 1001, CodeUse::Sendable, "7.4.1: going away"),
    (1002, 1002, CodeUse::Sendable, "7.4.1: protocol error"),
    (
        1003,
        1003,
        CodeUse::Sendable,
        "7.4.1: unacceptable data type",
    ),
    (
        1004,
        1004,
        CodeUse::NotOnWire,
        "7.4.1: reserved, meaning may be defined later",
    ),
    (
        1005,
        1005,
        CodeUse::NotOnWire,
        "7.4.1: MUST NOT be set (no status code present)",
    ),
    (
        1006,
        1006,
        CodeUse::NotOnWire,
        "7.4.1: MUST NOT be set (closed abnormally)",
    ),
    (
        1007,
        1007,
        CodeUse::Sendable,
        "7.4.1: data inconsistent with the message type",
    ),
    (1008, 1008, CodeUse::Sendable, "7.4.1: policy violation"),
    (1009, 1009, CodeUse::Sendable, "7.4.1: message too big"),
    (
        1010,
        1010,
        CodeUse::Sendable,
        "7.4.1: client expected an extension",
    ),
    (
        1011,
        1011,
        CodeUse::Sendable,
        "7.4.1: unexpected condition on the server",
    ),
    (
        1012,
        1012,
        CodeUse::Sendable,
        "IANA registry: service restart",
    ),
    (
        1013,
        1013,
        CodeUse::Sendable,
        "IANA registry: try again later",
    ),
    (1014, 1014, CodeUse::Sendable, "IANA registry: bad gateway"),
    (
        1015,
        1015,
        CodeUse::NotOnWire,
        "7.4.1: MUST NOT be set (TLS handshake failure)",
    ),
    (
        1016,
        2999,
        CodeUse::NotOnWire,
        "7.4.2: reserved for this protocol and extensions, unassigned",
    ),
    (
        3000,
        3999,
        CodeUse::Sendable,
        "7.4.2: libraries, frameworks and applications (registered)",
    ),
    (4000, 4999, CodeUse::Sendable, "7.4.2: private use"),
    (
        5000,
        u16::MAX,
        CodeUse::NotOnWire,
        "7.4.2 defines no use past 4999",
    ),
];

/// The table's verdict on `code`.
pub fn close_code_use(code: u16) -> CodeUse {
    CLOSE_CODES
        .iter()
        .find(|(lo, hi, _, _)| (*lo..=*hi).contains(&code))
        .map(|&(_, _, u, _)| u)
        .expect("the table covers every u16")
}

/// Section 5.5.1: an empty close payload carries no code (the application sees 1005,
/// section 7.1.5); otherwise two bytes of code, in network order, then a UTF-8 reason.
/// `Err` lists every rule the payload breaks.
pub fn close_payload(payload: &[u8]) -> Result<Option<(u16, &str)>, Vec<CloseError>> {
    match payload {
        [] => Ok(None),
        [_] => Err(vec![CloseError::TruncatedCode]),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let mut broken = Vec::new();
            if close_code_use(code) != CodeUse::Sendable {
                broken.push(CloseError::InvalidCode(CloseCode(code)));
            }
            if reason.len() > MAX_REASON {
                broken.push(CloseError::ReasonTooLong { len: reason.len() });
            }
            match core::str::from_utf8(reason) {
                Ok(text) if broken.is_empty() => Ok(Some((code, text))),
                Ok(_) => Err(broken),
                Err(e) => {
                    broken.push(CloseError::InvalidReason {
                        valid_up_to: e.valid_up_to(),
                    });
                    Err(broken)
                }
            }
        }
    }
}

/// The close code a receiver answers a broken close payload with: 1007 for a reason that
/// is not UTF-8 (section 7.4.1: data inconsistent with its type), 1002 otherwise.
pub fn close_error_code(e: &CloseError) -> u16 {
    match e {
        CloseError::InvalidReason { .. } => 1007,
        _ => 1002,
    }
}

/// The GUID of RFC 6455 section 1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Section 4.2.2, step 5.4: base64 of the SHA-1 of the key (as sent, trimmed) and the GUID.
pub fn accept_for(key: &[u8]) -> String {
    use base64::Engine as _;
    use sha1::{Digest, Sha1};
    let mut hash = Sha1::new();
    hash.update(key);
    hash.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hash.finalize())
}

/// The value of the `Sec-WebSocket-Key` header in an HTTP request head, found by reading
/// the head line by line (header names are case-insensitive, RFC 7230 section 3.2;
/// optional whitespace around the value is not part of it). `None` if there is none or
/// more than one.
pub fn request_key(head: &[u8]) -> Option<&[u8]> {
    let mut found = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line[..colon].eq_ignore_ascii_case(b"sec-websocket-key") {
            if found.is_some() {
                return None;
            }
            found = Some(line[colon + 1..].trim_ascii());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_of_the_rfc_sample_key() {
        // RFC 6455 section 1.3.
        assert_eq!(
            accept_for(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn request_key_reads_the_header_line() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nsec-WEBSOCKET-key:  abc== \r\n\r\nX: y\r\n";
        assert_eq!(request_key(head), Some(&b"abc=="[..]));
        assert_eq!(request_key(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), None);
        let twice = b"GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n\r\n";
        assert_eq!(request_key(twice), None);
    }

    #[test]
    fn rfc_section_5_7_examples() {
        // A single-frame unmasked text message "Hello", as a client receives it.
        let scan = scan_head(&[0x81, 0x05, 0x48], Role::Client, 1 << 20);
        let head = scan.head.expect("valid");
        assert_eq!(
            (head.fin, head.opcode, head.len, head.size),
            (true, 1, 5, 2)
        );
        // The masked one, as a server receives it; the payload unmasks to "Hello".
        let frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let head = scan_head(&frame, Role::Server, 1 << 20)
            .head
            .expect("valid");
        assert_eq!(head.size, 6);
        let mut payload = frame[6..].to_vec();
        unmask(&mut payload, head.mask.unwrap(), 0);
        assert_eq!(payload, b"Hello");
        // 256 bytes binary in one unmasked frame; 64 KiB binary.
        let head = scan_head(&[0x82, 0x7E, 0x01, 0x00], Role::Client, 1 << 20).head;
        assert_eq!(head.map(|h| (h.len, h.size)), Some((256, 4)));
        let big = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
        let head = scan_head(&big, Role::Client, 1 << 20).head;
        assert_eq!(head.map(|h| (h.len, h.size)), Some((65536, 10)));
    }

    #[test]
    fn header_rules_each_refuse() {
        let s = |b: &[u8], r| scan_head(b, r, 1000).broken;
        assert_eq!(s(&[0xC1], Role::Client), [FrameError::ReservedBits(4)]);
        assert_eq!(s(&[0x83], Role::Client), [FrameError::ReservedOpcode(3)]);
        assert_eq!(
            s(&[0x0B], Role::Client),
            [
                FrameError::ReservedOpcode(0xB),
                FrameError::FragmentedControl
            ]
        );
        assert_eq!(
            s(&[0x09, 0x00], Role::Client),
            [FrameError::FragmentedControl]
        );
        assert_eq!(s(&[0x81, 0x00], Role::Server), [FrameError::UnmaskedFrame]);
        assert_eq!(s(&[0x81, 0x80], Role::Client), [FrameError::MaskedFrame]);
        assert_eq!(
            s(&[0x89, 0x7E], Role::Client),
            [FrameError::ControlTooLong { len: 126 }]
        );
        assert_eq!(
            s(&[0x82, 0x7E, 0x00, 0x7D], Role::Client),
            [FrameError::NonMinimalLength { len: 125 }]
        );
        assert_eq!(
            s(&[0x82, 0x7F, 0x80], Role::Client),
            [FrameError::LengthMsbSet]
        );
        assert_eq!(
            scan_head(
                &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
                Role::Client,
                1 << 20
            )
            .broken,
            [FrameError::NonMinimalLength { len: 0xFFFF }]
        );
        assert_eq!(
            s(&[0x82, 0x7E, 0x03, 0xE9], Role::Client),
            [FrameError::FrameTooLarge {
                len: 1001,
                max: 1000
            }]
        );
        // Valid but incomplete: no verdict yet.
        assert_eq!(
            scan_head(&[0x82, 0x7F, 0, 0], Role::Client, 1000),
            Scan {
                opcode: Some(2),
                fin: true,
                ..Scan::default()
            }
        );
    }

    #[test]
    fn close_code_table_follows_the_rfc_text() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
        ] {
            assert_eq!(close_code_use(code), CodeUse::Sendable, "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
            assert_eq!(close_code_use(code), CodeUse::NotOnWire, "{code}");
        }
        // The ranges are in order and leave no gap.
        let mut next = 0u32;
        for &(lo, hi, _, _) in CLOSE_CODES {
            assert_eq!(u32::from(lo), next);
            next = u32::from(hi) + 1;
        }
        assert_eq!(next, 1 << 16);
    }

    #[test]
    fn close_payload_rules() {
        assert_eq!(close_payload(b""), Ok(None));
        assert_eq!(close_payload(b"\x03"), Err(vec![CloseError::TruncatedCode]));
        assert_eq!(close_payload(b"\x03\xe8ok"), Ok(Some((1000, "ok"))));
        assert_eq!(
            close_payload(b"\x03\xedok\xff"),
            Err(vec![
                CloseError::InvalidCode(CloseCode(1005)),
                CloseError::InvalidReason { valid_up_to: 2 }
            ])
        );
    }
}
