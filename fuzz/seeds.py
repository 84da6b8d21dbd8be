#!/usr/bin/env python3
"""Writes the seed inputs of the connection fuzz targets (corpus/connection*/).

The input formats are described at the top of fuzz_targets/connection.rs and
fuzz_targets/connection_roundtrip.rs. Run from the fuzz/ directory after changing them.
"""
import os
import struct

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 section 5.7


def frame(opcode, payload=b"", fin=True, masked=False, key=KEY, length=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload) if length is None else length
    m = 0x80 if masked else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 1 << 16:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if masked:
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + payload


def blob(data):
    assert len(data) < 256
    return bytes([len(data)]) + data


# Operations of the `connection` target.
def recv(data):
    return bytes([0]) + blob(data) if len(data) < 256 else bytes([1]) + struct.pack(">H", len(data)) + data


def amplify(pattern, count16, drain=False, by_ref=False):
    return bytes([2 | (0x80 if by_ref else 0), count16 | (0x80 if drain else 0)]) + blob(pattern)


POLL, POLL_REF, POLL_ALL, EOF, SHRINK = bytes([3]), bytes([4]), bytes([5]), bytes([12]), bytes([12 | 0x80])


def send_text(s):
    return bytes([6]) + blob(s)


def send_binary(b):
    return bytes([7]) + blob(b)


def fragment(data, text=True, fin=False):
    return bytes([8, (0 if text else 1) | (2 if fin else 0)]) + blob(data)


def ping(b):
    return bytes([9]) + blob(b)


def pong(b):
    return bytes([10]) + blob(b)


def close(code, reason=b""):
    return bytes([11]) + struct.pack(">H", code) + blob(reason)


def advance(n):
    return bytes([13]) + struct.pack(">H", n)


def send_message(size64, fill, text=False):
    return bytes([14 | (0x80 if text else 0), size64, fill])


def write_to(max64):
    """`Connection::write_to` through a writer taking (max64 + 1) * 64 bytes per call."""
    return bytes([15, max64])


def config(server, stream=False, no_pong=False, unlimited=False, retained64=8, frame16=255, msg64=255, pong64=16,
           defaults=False):
    """`defaults`: the limits of `Config::default()` (the other limit arguments are ignored)."""
    flags = (1 if server else 0) | (2 if stream else 0) | (4 if no_pong else 0) | (8 if unlimited else 0)
    return bytes([flags | (retained64 << 4), frame16, msg64, pong64, 1 if defaults else 0])


def c(opcode, payload=b"", fin=True, length=None):
    """A frame as a client sends it (masked), for a server to receive."""
    return frame(opcode, payload, fin, True, length=length)


def s(opcode, payload=b"", fin=True, length=None):
    """A frame as a server sends it (unmasked), for a client to receive."""
    return frame(opcode, payload, fin, False, length=length)


CONNECTION = {
    "server-rfc-exchange": config(True) + recv(c(1, b"Hello")) + POLL_ALL + send_text(b"Hi")
    + recv(c(9, b"Hello")[:5]) + POLL + recv(c(9, b"Hello")[5:]) + POLL_REF + advance(100)
    + close(1000, b"bye") + recv(c(8, b"\x03\xe8")) + POLL_ALL + advance(100),
    "client-rfc-frames": config(False) + recv(s(1, b"Hello") + s(1, b"Hel", fin=False) + s(0, b"lo"))
    + POLL + POLL_REF + recv(s(9, b"Hello") + s(10, b"Hello")) + POLL_ALL + send_binary(b"\x01\x02")
    + ping(b"p") + write_to(3) + recv(s(8, b"\x03\xe8done")) + POLL_ALL + EOF + POLL,
    "server-one-byte-fragments": config(True, msg64=16) + recv(c(2, b"x", fin=False)) + POLL
    + amplify(c(0, b"y", fin=False), 127),
    "server-pings-in-fragmented-message": config(True, pong64=4) + recv(c(1, b"abc", fin=False))
    + amplify(c(9, b"p" * 125) + c(0, b"d", fin=False), 20, by_ref=True) + recv(c(0, b"end"))
    + POLL_ALL + advance(65535) + close(1001),
    "server-stream-split-utf8": config(True, stream=True, unlimited=True)
    + recv(c(1, "é€".encode()[:2] + b"", fin=False)[:7]) + POLL + recv(c(1, "é€".encode()[:2], fin=False)[7:])
    + recv(c(0, "é€".encode()[2:4], fin=False)) + POLL_ALL + recv(c(0, "é€".encode()[4:])) + POLL_ALL,
    "server-invalid-utf8-fragment": config(True) + recv(c(1, b"ok\xe2\x82", fin=False)) + POLL
    + recv(c(9)) + recv(c(0, b"\xc0")) + POLL_ALL + POLL,
    "client-huge-length": config(False, unlimited=True) + recv(s(2, length=(1 << 63) - 1)) + POLL
    + recv(b"\x00" * 300) + POLL_REF + EOF + POLL_ALL,
    "server-close-1005": config(True) + recv(c(8, b"\x03\xed")) + POLL_ALL + send_text(b"late"),
    "server-eof-mid-frame": config(True) + recv(c(2, b"abcdef")[:8]) + POLL + EOF + POLL_ALL + POLL,
    "client-sends-and-closes": config(False, retained64=0) + fragment(b"he") + ping(b"mid")
    + fragment(b"llo", fin=True) + send_message(80, 7) + send_message(2, 65, text=True)
    + advance(10) + write_to(200) + close(4000, b"app") + send_text(b"refused")
    + recv(s(8, b"\x0f\xa0")) + POLL_ALL + EOF + POLL,
    # The default limits: a 60 KiB message in 30-byte fragments, polled by reference (the
    # reassembly buffer stays with the connection), then idle and shrunk.
    "server-defaults-fragments-shrink": config(True, defaults=True) + recv(c(2, b"f" * 24, fin=False))
    + amplify(c(0, b"g" * 24, fin=False), 127, by_ref=True) + recv(c(0, b"end")) + POLL_REF + POLL_ALL + SHRINK
    + send_text(b"after") + SHRINK + write_to(0) + SHRINK + recv(c(9, b"p")) + POLL_ALL + SHRINK,
    # Shrink while a frame is half in, then the rest of it: nothing is lost.
    "server-shrink-mid-frame": config(True, retained64=0) + recv(c(2, b"abcdef" * 30)[:90]) + POLL
    + SHRINK + recv(c(2, b"abcdef" * 30)[90:]) + SHRINK + POLL_ALL + SHRINK,
    # Large messages queued by reference, written, then idle and shrunk.
    # Once a finding, now a regression seed: the output's queue of by-reference payloads
    # (48 entries here) kept its capacity through shrink_buffers, which SECURITY.md says
    # gives back everything above retained_capacity.
    "regression-piece-queue-kept-after-shrink": config(True, retained64=8) + send_message(80, 1) * 24 + write_to(255)
    + POLL_ALL + SHRINK,
    # Each breaks one rule or bound that a mutation of the crate once let through.
    "server-nonminimal-length": config(True) + recv(bytes([0x82, 0x80 | 126, 0, 5]) + KEY
                                                    + bytes(b ^ KEY[i % 4] for i, b in enumerate(b"abcde")))
    + POLL_ALL,
    "server-reserved-opcode-3": config(True) + recv(c(3, b"xy")) + POLL_ALL,
    "server-close-1004": config(True) + recv(c(8, b"\x03\xec")) + POLL_ALL,
    "client-close-1004-refused": config(False) + close(1004) + POLL_ALL,
    "client-large-send-drained": config(False, retained64=1) + send_message(255, 1) + write_to(255) + POLL,
    "server-fragments-by-ref-small-reuse": config(True, retained64=1) + recv(c(2, b"a" * 240, fin=False))
    + amplify(c(0, b"b" * 240, fin=False), 2) + recv(c(0, b"end")) + POLL_REF + POLL_ALL,
    "server-large-frame-by-ref-small-reuse": config(True, retained64=1, unlimited=True)
    + recv(c(2, length=8000)[:8]) + amplify(b"x" * 242, 2) + recv(b"x" * 14) + POLL_REF + POLL_ALL,
    "client-defaults-idle": config(False, defaults=True) + recv(s(2, b"x" * 1000)) + POLL_ALL + SHRINK
    + send_binary(b"y" * 200) + advance(100) + SHRINK + advance(200) + SHRINK,
}


# Operations of the `connection_roundtrip` target.
def rt_config(server_sends=False, stream=False, limits=None):
    flags = (1 if server_sends else 0) | (2 if stream else 0) | (4 if limits else 0)
    frame16, msg64 = limits or (0, 0)
    return bytes([flags, frame16, msg64])


def rt_text(s, owned=False):
    return bytes([0 | (0x80 if owned else 0)]) + blob(s)


def rt_binary(b, owned=False):
    return bytes([1 | (0x80 if owned else 0)]) + blob(b)


def rt_fragment(data, text=True, fin=False):
    return bytes([2, (0 if text else 1) | (2 if fin else 0)]) + blob(data)


def rt_ping(b):
    return bytes([3]) + blob(b)


def rt_pong(b):
    return bytes([4]) + blob(b)


def rt_large(size64, text=False):
    return bytes([5 | (0x80 if text else 0), size64])


def rt_close(code, reason=b""):
    return bytes([6]) + struct.pack(">H", code) + blob(reason)


def rt_transfer(n):
    return bytes([7]) + struct.pack(">H", n) if n > 255 else bytes([8, n])


def rt_large_fragment(size64, text=True, fin=False):
    return bytes([9, size64, (0 if text else 1) | (2 if fin else 0)])


ROUNDTRIP = {
    "client-messages-and-close": rt_config() + rt_text(b"Hello") + rt_binary(b"\x00\x01", owned=True)
    + rt_transfer(3) + rt_ping(b"Hello") + rt_transfer(1) + rt_transfer(200) + rt_close(1000, b"bye"),
    "server-fragments-and-pings": rt_config(server_sends=True) + rt_fragment("κό".encode()[:3])
    + rt_ping(b"") + rt_fragment("κό".encode()[3:]) + rt_pong(b"unsolicited")
    + rt_fragment(b"!", fin=True) + rt_large(100) + rt_transfer(7) + rt_close(1001),
    "client-over-limits": rt_config(limits=(4, 1)) + rt_text(b"small") + rt_large_fragment(1)
    + rt_large_fragment(1, fin=True) + rt_transfer(300),
    "client-stream-invalid-utf8": rt_config(stream=True) + rt_fragment(b"ok\xe2\x82")
    + rt_transfer(5) + rt_fragment(b"\xac", fin=True) + rt_text(b"next") + rt_fragment(b"\xed\xa0\x80", fin=True),
    "server-order-errors": rt_config(server_sends=True) + rt_fragment(b"a", text=False)
    + rt_text(b"refused") + rt_fragment(b"b") + rt_fragment(b"c", text=False, fin=True)
    + rt_ping(b"x" * 126) + rt_close(1005) + rt_close(3000, b"r" * 124) + rt_close(4999, b"ok")
    + rt_text(b"after close"),
}


# Inputs of the `connection_opening` target: flags, then pieces (a length byte and bytes).
ACCEPT = b"%ACCEPT%"  # replaced by the accept value for the key the client wrote


def pieces(data, *cuts):
    """`data` as pieces ending at the given offsets (and at its end)."""
    out, start = b"", 0
    for end in list(cuts) + [len(data)]:
        out += blob(data[start:end])
        start = end
    return out


def response(*extra):
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    head += b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n" + b"".join(e + b"\r\n" for e in extra)
    return head + b"\r\n"


REQUEST = (b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")

_after = s(1, b"Hello") + s(9, b"ping") + s(1, b"Hel", fin=False) + s(0, b"lo") + s(8, b"\x03\xe8bye")
_head = response(b"Sec-WebSocket-Protocol: chat")
OPENING = {
    # The head and frames in one piece, then nothing.
    "client-accept-frames-one-piece": bytes([0]) + pieces(_head + _after[:40]),
    # Split inside the accept value and inside a frame; polled by reference.
    "client-accept-split-ref": bytes([4]) + pieces(_head + _after, 10, _head.index(ACCEPT) + 3,
                                                 len(_head) - 1, len(_head) + 3),
    # No subprotocol selected; Connection with two tokens; lower-case names.
    "client-accept-token-list": bytes([0]) + pieces(
        b"HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
        b"sec-websocket-accept: " + ACCEPT + b"\r\n\r\n" + s(2, b"\x00\x01") + s(10)),
    # Once a finding, now a regression seed: the client opened though one of the two
    # Upgrade fields is not "websocket" (RFC 6455 section 4.1 says it must fail the
    # connection).
    "regression-client-accepts-two-upgrade-fields": bytes([0]) + pieces(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n"),
    # Responses a client must refuse (RFC 6455 section 4.1), one rule each.
    "client-refuses-no-connection": bytes([0]) + pieces(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + ACCEPT
        + b"\r\n\r\n" + s(1, b"hi")),
    "client-refuses-extension": bytes([0]) + pieces(response(b"Sec-WebSocket-Extensions: permessage-deflate")),
    "client-refuses-protocol": bytes([0]) + pieces(response(b"Sec-WebSocket-Protocol: superchat")),
    "client-refuses-200": bytes([0]) + pieces(response().replace(b"101 Switching Protocols", b"200 OK")),
    # A server that accepts, then frames after the request head, the last one invalid.
    "server-accept-frames": bytes([3]) + pieces(REQUEST + c(1, b"Hello") + c(9, b"p") + c(3), 60,
                                                len(REQUEST) + 2),
}


def write(target, seeds):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    for name, data in seeds.items():
        with open(f"corpus/{target}/{name}", "wb") as f:
            f.write(data)


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    write("connection", CONNECTION)
    write("connection_roundtrip", ROUNDTRIP)
    write("connection_opening", OPENING)
