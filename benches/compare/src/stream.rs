//! In-memory transports: the same "socket" for every implementation.
//!
//! [`MemStream`] hands out the pre-generated input the way a socket would: each read
//! returns at most `max_read` bytes (and at most what the caller asked for). Writes
//! (pongs, closes: none are expected) are only counted. [`Sink`] collects what encoders
//! write. Both implement `std::io` (tungstenite) and `tokio::io` (fastwebsockets).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct MemStream<'a> {
    input: &'a [u8],
    pos: usize,
    max_read: usize,
    pub written: usize,
}

impl<'a> MemStream<'a> {
    pub fn new(input: &'a [u8], max_read: usize) -> Self {
        MemStream {
            input,
            pos: 0,
            max_read,
            written: 0,
        }
    }

    pub fn drained(&self) -> bool {
        self.pos == self.input.len()
    }

    #[inline]
    fn take(&mut self, want: usize) -> &'a [u8] {
        let n = want.min(self.max_read).min(self.input.len() - self.pos);
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        s
    }
}

impl io::Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = self.take(buf.len());
        buf[..s.len()].copy_from_slice(s);
        Ok(s.len())
    }
}

impl io::Write for MemStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for MemStream<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let s = this.take(buf.remaining());
        buf.put_slice(s);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Where encoders write: a pre-reserved buffer, so every implementation pays the same
/// one copy per written byte (as into a kernel socket buffer) and no reallocation.
pub struct Sink<'a>(pub &'a mut Vec<u8>);

impl io::Read for Sink<'_> {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

impl io::Write for Sink<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        Ok(bufs.iter().map(|b| self.write(b).unwrap_or(0)).sum())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Sink<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Sink<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let sink = &mut self.get_mut().0;
        let mut n = 0;
        for b in bufs {
            sink.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
