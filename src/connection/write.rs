//! The caller's side of the output queue: what to write to the transport, and reporting
//! what was written.
//!
//! Everything the connection queues (frames from the `send_*` methods and
//! [`close`](Connection::close), the handshake's request or response, and what it sends
//! by itself: pongs, close replies, the close frame of a failure, the HTTP error answer
//! to a bad upgrade request) waits here until the caller writes it. Write
//! [`pending_output_len`](Connection::pending_output_len) bytes before you wait for
//! input: a peer waiting for our pong or close reply waits for that write.

use bytes::Buf;

use super::{Connection, Phase};

impl Connection {
    /// The number of bytes waiting to be written. Write them all before you wait for
    /// more input.
    #[inline]
    pub fn pending_output_len(&self) -> usize {
        self.out.len()
    }

    /// The next contiguous bytes to write: a prefix of the pending output (the whole of
    /// it only when no payload is queued by reference), empty when nothing is pending.
    /// Write some, report them with [`advance_output`](Self::advance_output), and repeat
    /// until [`pending_output_len`](Self::pending_output_len) is 0:
    ///
    /// ```
    /// use std::io::Write;
    /// use rfc6455::connection::{Config, Connection, Message};
    ///
    /// let mut conn = Connection::upgraded_server(Config::default());
    /// conn.send_binary(&[7; 10_000])?;
    /// conn.send(Message::Binary(vec![1u8; 100_000].into()))?; // queued by reference, without a copy
    /// let mut socket = Vec::new(); // stands in for a TcpStream
    /// while conn.pending_output_len() > 0 {
    ///     let n = socket.write(conn.pending_output_chunk())?;
    ///     conn.advance_output(n);
    /// }
    /// assert_eq!(socket.len(), 4 + 10_000 + 10 + 100_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn pending_output_chunk(&self) -> &[u8] {
        self.out.front()
    }

    /// All bytes waiting to be written, as slices in order, for a vectored write.
    #[inline]
    pub fn pending_output_slices(&self) -> impl Iterator<Item = &[u8]> {
        self.out.slices()
    }

    /// Fill `dst` with the pending output's first slices, in order, for
    /// `write_vectored` (or tokio's `poll_write_vectored`); returns how many were filled.
    /// Report what the write took with [`advance_output`](Self::advance_output).
    #[cfg(feature = "std")]
    pub fn pending_output_io_slices<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (slot, chunk) in dst.iter_mut().zip(self.out.slices()) {
            *slot = std::io::IoSlice::new(chunk);
            count += 1;
        }
        count
    }

    /// The pending output as a [`bytes::Buf`], for APIs that write one (tokio's
    /// `AsyncWriteExt::write_all_buf`, `write_buf`): advancing it reports the bytes as
    /// written, as [`advance_output`](Self::advance_output) does, and its remaining length
    /// grows by a deferred pong that the writing lets through.
    ///
    /// ```
    /// use bytes::Buf;
    /// use rfc6455::connection::{Config, Connection};
    ///
    /// let mut conn = Connection::upgraded_server(Config::default());
    /// conn.send_text("hi")?;
    /// let mut socket = Vec::new();
    /// let mut out = conn.pending_output_buf();
    /// while out.has_remaining() {
    ///     let n = out.chunk().len().min(3); // a short write
    ///     socket.extend_from_slice(&out.chunk()[..n]);
    ///     out.advance(n);
    /// }
    /// assert_eq!(socket, b"\x81\x02hi");
    /// assert_eq!(conn.pending_output_len(), 0);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn pending_output_buf(&mut self) -> OutputBuf<'_> {
        OutputBuf { conn: self }
    }

    /// Report that the first `n` pending bytes were written.
    ///
    /// This may queue bytes: an automatic pong deferred while the output was over
    /// [`Config::max_pending_output_for_pong`](super::Config::max_pending_output_for_pong)
    /// is queued here once the output has drained to that bound, so write until
    /// [`pending_output_len`](Self::pending_output_len) is 0.
    #[inline]
    pub fn advance_output(&mut self, n: usize) {
        self.out.advance(n, self.config.active_buffer_capacity);
        if let Phase::Open {
            deferred_pong: Some(_),
            ..
        } = self.phase
        {
            self.flush_deferred_pong();
        }
    }

    /// Write all pending output to `w`, including a deferred pong that the writing lets
    /// through; returns the bytes written. Output in one slice (every frame whose payload
    /// was copied) goes out with `write`, a `send` on a `TcpStream`; output in several
    /// (a payload queued by reference between them) with `write_vectored`, a `writev`,
    /// whose pass through the file layer a socket's `send` skips (see rfc6455-tokio's
    /// write path, where it was 4% of the server's CPU in a broadcast).
    #[cfg(feature = "std")]
    pub fn write_to<W: std::io::Write>(&mut self, w: &mut W) -> std::io::Result<usize> {
        let mut total = 0;
        while self.out.len() > 0 {
            let mut slices = [std::io::IoSlice::new(&[]); 16];
            let count = self.pending_output_io_slices(&mut slices);
            let n = match &slices[..count] {
                [one] => w.write(one)?,
                many => w.write_vectored(many)?,
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            self.advance_output(n);
            total += n;
        }
        Ok(total)
    }
}

/// The pending output of a [`Connection`] as a [`bytes::Buf`]: see
/// [`Connection::pending_output_buf`].
#[derive(Debug)]
pub struct OutputBuf<'a> {
    conn: &'a mut Connection,
}

impl Buf for OutputBuf<'_> {
    fn remaining(&self) -> usize {
        self.conn.out.len()
    }

    fn chunk(&self) -> &[u8] {
        self.conn.out.front()
    }

    /// # Panics
    /// If `cnt` is more than [`remaining`](Self::remaining).
    fn advance(&mut self, cnt: usize) {
        let pending = self.conn.out.len();
        assert!(
            cnt <= pending,
            "advance({cnt}) past the {pending} pending bytes"
        );
        self.conn.advance_output(cnt);
    }

    #[cfg(feature = "std")]
    fn chunks_vectored<'b>(&'b self, dst: &mut [std::io::IoSlice<'b>]) -> usize {
        self.conn.pending_output_io_slices(dst)
    }
}
