//! The per-message compressor and decompressor of one connection (RFC 7692 section 7.2):
//! the sync flush and its `00 00 ff ff` tail, context takeover, window sizes, and
//! inflation into output the caller bounds.
//!
//! SKELETON: the signatures are fixed; the bodies are written by the backend work.

use alloc::vec::Vec;

/// Our sending direction: compresses messages as RFC 7692 section 7.2.1 says.
#[derive(Debug)]
pub(crate) struct Deflater {}

impl Deflater {
    /// A compressor for messages the peer inflates with a window of `2^window_bits` bytes
    /// (8..=15): nothing it emits refers further back. `takeover`: keep the LZ77 context
    /// from one message to the next. Allocates nothing until the first message.
    pub(crate) fn new(_level: u8, _window_bits: u8, _takeover: bool) -> Self {
        todo!()
    }

    /// Compress the next piece of the current message and append it to `out`. Each call
    /// ends with a flush, so what it appended can be sent as one frame; with `fin` the
    /// message ends, and its trailing `00 00 ff ff` is not appended (section 7.2.1).
    /// Without context takeover, the next message starts from an empty window.
    pub(crate) fn compress(&mut self, _input: &[u8], _fin: bool, _out: &mut Vec<u8>) {
        todo!()
    }

    /// At most how many bytes `compress` appends for `input_len` input bytes.
    pub(crate) fn bound(_input_len: usize) -> usize {
        todo!()
    }

    /// Release the backend's memory if nothing needs it (no context kept between
    /// messages, none in progress); returns the bytes given back.
    pub(crate) fn release_idle(&mut self) -> usize {
        todo!()
    }

    /// Heap bytes held now.
    pub(crate) fn heap_bytes(&self) -> usize {
        todo!()
    }
}

/// How far one [`Inflater::inflate`] call got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Input bytes consumed.
    pub(crate) consumed: usize,
    /// Output bytes written to the front of `out`.
    pub(crate) produced: usize,
    /// All input given (and with `last`, the message's `00 00 ff ff` tail) is consumed and
    /// nothing decompressed is held back: no further call is needed for it.
    pub(crate) done: bool,
}

/// Invalid DEFLATE data (RFC 7692 section 8 leaves it to the endpoint; the connection
/// fails with 1007).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InflateError;

/// The peer's direction: decompresses its messages.
#[derive(Debug)]
pub(crate) struct Inflater {}

impl Inflater {
    /// A decompressor for a peer whose window is at most `2^window_bits` bytes; `takeover`:
    /// the peer keeps its context between messages, so ours must too. Allocates nothing
    /// until the first message.
    pub(crate) fn new(_window_bits: u8, _takeover: bool) -> Self {
        todo!()
    }

    /// Decompress compressed payload bytes of the current message into `out`, writing at
    /// most `out.len()` bytes. `last`: `input` ends the message's payload, so the
    /// `00 00 ff ff` tail is fed after it. Call again with `input[consumed..]` and fresh
    /// room until `done`; a final block (BFINAL) inside a message is followed by a new
    /// stream. When the last piece is `done`, the message is over: without context
    /// takeover the next starts from an empty window.
    pub(crate) fn inflate(
        &mut self,
        _input: &[u8],
        _out: &mut [u8],
        _last: bool,
    ) -> Result<Progress, InflateError> {
        todo!()
    }

    /// Release the backend's memory if nothing needs it; returns the bytes given back.
    pub(crate) fn release_idle(&mut self) -> usize {
        todo!()
    }

    /// Heap bytes held now.
    pub(crate) fn heap_bytes(&self) -> usize {
        todo!()
    }
}
