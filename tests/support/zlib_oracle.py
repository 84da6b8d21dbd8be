#!/usr/bin/env python3
"""Raw DEFLATE by Python's zlib, the independent oracle of the permessage-deflate tests.

Reads one job from stdin and writes the answer to stdout, every blob length-prefixed with
a 4-byte big-endian length:

    inflate WBITS            then N blobs: messages as sent (tail removed); the answer is
                             N blobs, each message inflated by ONE decompressobj(wbits=-WBITS)
                             after 00 00 ff ff is appended (context taken over, RFC 7692
                             section 7.2.2), one output byte per call so that every distance
                             is checked against the window (see strict_decompress). A zlib
                             error prints "error: ..." on stderr and exits with status 3.
    deflate WBITS LEVEL TAKEOVER FINAL   then N blobs: messages; the answer is N blobs, each
                             compressed and sync-flushed with the 00 00 ff ff tail removed
                             (section 7.2.1); TAKEOVER 0 starts a fresh compressobj per message;
                             FINAL 1 ends every message with a final block (Z_FINISH) instead,
                             and a fresh compressobj follows it.
    zeros N LEVEL            no blobs: the answer is one blob, N zero bytes compressed
                             (sync flush, tail removed): a decompression bomb.
"""
import struct
import sys
import zlib

TAIL = b"\x00\x00\xff\xff"


def blobs(data):
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out


def strict_decompress(d, data):
    """zlib checks a match's distance against its window only when the match reaches back
    past what the current call has output; a distance into the current call's own output
    passes whatever the window. One byte of output per call makes every match start with
    nothing output in its call, so each distance is checked against the 2^wbits window."""
    parts = []
    while True:
        piece = d.decompress(data, 1)
        data = d.unconsumed_tail
        if piece:
            parts.append(piece)
        elif not data:
            return b"".join(parts)


def main():
    raw = sys.stdin.buffer.read()
    line, _, rest = raw.partition(b"\n")
    words = line.decode().split()
    out = []
    if words[0] == "inflate":
        wbits = int(words[1])
        d = zlib.decompressobj(wbits=-wbits)
        for msg in blobs(rest):
            try:
                out.append(strict_decompress(d, msg + TAIL))
            except zlib.error as e:
                print(f"error: {e}", file=sys.stderr)
                sys.exit(3)
            if d.eof:
                # The message ended the stream with a final block: what follows is new.
                d = zlib.decompressobj(wbits=-wbits)
    elif words[0] == "deflate":
        wbits, level, takeover, final = (int(w) for w in words[1:5])
        # zlib refuses raw window 8 for compression (it uses 9); a window of 2^9 still only
        # reaches 2^9 - 262 bytes back, within 2^8, so 9 is what a window of 8 asks of it.
        c = zlib.compressobj(level, zlib.DEFLATED, -max(wbits, 9))
        for msg in blobs(rest):
            if not takeover:
                c = zlib.compressobj(level, zlib.DEFLATED, -max(wbits, 9))
            if final:
                data = c.compress(msg) + c.flush(zlib.Z_FINISH)
                c = zlib.compressobj(level, zlib.DEFLATED, -max(wbits, 9))
            else:
                data = c.compress(msg) + c.flush(zlib.Z_SYNC_FLUSH)
                assert data.endswith(TAIL)
                data = data[:-4]
            out.append(data)
    elif words[0] == "zeros":
        # A decompression bomb: N zero bytes, compressed in 1 MiB steps, sync-flushed, tail
        # removed (N need not be held in memory at once).
        n, level = int(words[1]), int(words[2])
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        step = b"\0" * (1 << 20)
        parts = []
        while n > 0:
            parts.append(c.compress(step[:min(n, len(step))]))
            n -= len(step)
        data = b"".join(parts) + c.flush(zlib.Z_SYNC_FLUSH)
        out.append(data[:-4])
    else:
        sys.exit(2)
    for blob in out:
        sys.stdout.buffer.write(struct.pack(">I", len(blob)) + blob)


main()
