#!/usr/bin/env python3
"""Runs the firmware image on an emulated Cortex-M4F and checks what it answered.

QEMU's `netduinoplus2` machine is an STM32F405 (Cortex-M4F, flash at 0x08000000, 128 KiB
of SRAM at 0x20000000), the layout `link.x` is written for. Each case preloads the mailbox
(src/main.rs, at the start of SRAM) with a client's bytes, starts the image, polls the
mailbox over QMP until the firmware has cleared `rx_len` (at most 20 s), saves the mailbox
and checks it here, independently of the crate: the accept key is computed with hashlib,
the forwarded frames are unmasked with the key the mailbox's RNG word gave.

    python3 qemu.py FIRMWARE.elf
"""

import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

MAILBOX = 0x2000_0000
# The stack: from the end of link.x's RAM region down to its start, painted before each run
# so the deepest byte the firmware wrote gives its stack use.
STACK_BOTTOM, STACK_TOP = 0x2000_1000, 0x2002_0000
PAINT = 0xA5
RX_OFFSET, RX_SIZE, TX_SIZE = 20, 1536, 2048
TX_OFFSET = RX_OFFSET + RX_SIZE
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# RFC 6455 section 1.3's sample key; section 5.7's masked "Hello".
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + b"\r\n"
    b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
HELLO = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
RNG = 0x1122_3344  # the "random" word, little-endian: key 44 33 22 11


def masked(opcode, payload, key):
    """A client frame, built here from RFC 6455 section 5.2 (payloads under 126 bytes)."""
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + body


def fail(msg):
    sys.exit(f"firmware run FAILED: {msg}")


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    fail("QEMU's QMP socket never came up")
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self.read()  # the greeting
        self.call("qmp_capabilities")

    def read(self):
        while True:
            line = self.file.readline()
            if not line:
                fail("QEMU closed the QMP connection")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def call(self, command, **arguments):
        self.file.write(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
        self.file.flush()
        reply = self.read()
        if "error" in reply:
            fail(f"QMP {command}: {reply['error']}")
        return reply.get("return")


def run(elf, rx, workdir):
    """Boots the image with `rx` in the mailbox; returns (status, close_code, tx, stack
    bytes used)."""
    inbox = os.path.join(workdir, "inbox.bin")
    outbox = os.path.join(workdir, "outbox.bin")
    paint = os.path.join(workdir, "paint.bin")
    stack = os.path.join(workdir, "stack.bin")
    with open(paint, "wb") as f:
        f.write(bytes([PAINT]) * (STACK_TOP - STACK_BOTTOM))
    qmp_path = os.path.join(workdir, "qmp.sock")
    with open(inbox, "wb") as f:
        f.write(struct.pack("<5I", len(rx), 0, 0, 0, RNG) + rx.ljust(RX_SIZE, b"\0"))
    qemu = subprocess.Popen([
        "qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-serial", "none",
        "-monitor", "none", "-kernel", elf,
        "-device", f"loader,file={inbox},addr={MAILBOX:#x},force-raw=on",
        "-device", f"loader,file={paint},addr={STACK_BOTTOM:#x},force-raw=on",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
    ])
    try:
        deadline = time.monotonic() + 20
        qmp = Qmp(qmp_path, deadline)
        while True:
            word = qmp.call("human-monitor-command", **{"command-line": f"xp /1wx {MAILBOX:#x}"})
            if int(word.split(":")[1], 16) == 0:
                break
            if time.monotonic() > deadline:
                fail("the firmware did not clear rx_len within 20 s (a panic or a fault spins)")
            time.sleep(0.05)
        qmp.call("pmemsave", val=MAILBOX, size=TX_OFFSET + TX_SIZE, filename=outbox)
        qmp.call("pmemsave", val=STACK_BOTTOM, size=STACK_TOP - STACK_BOTTOM, filename=stack)
        qmp.call("quit")
        qemu.wait(timeout=10)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
    box = open(outbox, "rb").read()
    _, tx_len, status, close_code, _ = struct.unpack_from("<5I", box)
    if tx_len > TX_SIZE:
        fail(f"tx_len {tx_len} is larger than the TX buffer")
    ram = open(stack, "rb").read()
    untouched = next((i for i, b in enumerate(ram) if b != PAINT), len(ram))
    if untouched == 0:
        fail("the stack reached the bottom of RAM")
    return status, close_code, box[TX_OFFSET:TX_OFFSET + tx_len], len(ram) - untouched


def frames(data, key):
    """Splits masked frames with short payloads, checks each key, returns (byte0, payload)."""
    out = []
    while data:
        if len(data) < 6 or data[1] & 0x80 == 0 or data[1] & 0x7F > 125:
            fail(f"not a masked short frame: {data[:8].hex()}")
        n = data[1] & 0x7F
        if data[2:6] != key:
            fail(f"frame masked with {data[2:6].hex()}, not the RNG's {key.hex()}")
        out.append((data[0], bytes(b ^ key[i % 4] for i, b in enumerate(data[6:6 + n]))))
        data = data[6 + n:]
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    elf = sys.argv[1]
    key = struct.pack("<I", RNG)
    with tempfile.TemporaryDirectory() as workdir:
        # 1. The RFC's handshake, "Hello", a close with 1000 "bye", and a frame after the
        #    close that must not be forwarded.
        close = masked(0x8, b"\x03\xe8bye", b"\xa1\xb2\xc3\xd4")
        after = masked(0x2, b"late", b"\x01\x02\x03\x04")
        status, close_code, tx, stack = run(elf, REQUEST + HELLO + close + after, workdir)
        if status != 101:
            fail(f"status {status} for the RFC's request, not 101")
        head, sep, rest = tx.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if not sep or lines[0] != b"HTTP/1.1 101 Switching Protocols":
            fail(f"not a 101 response: {tx[:60]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(KEY + GUID).digest())
        if headers.get(b"sec-websocket-accept") != accept:
            fail(f"accept {headers.get(b'sec-websocket-accept')!r}, not {accept!r}")
        if headers.get(b"sec-websocket-protocol") != b"chat":
            fail(f"subprotocol {headers.get(b'sec-websocket-protocol')!r}, not chat")
        forwarded = frames(rest, key)
        if forwarded != [(0x81, b"Hello"), (0x88, b"\x03\xe8bye")]:
            fail(f"forwarded {forwarded}, not [text Hello, close 1000 bye]")
        if close_code != 1000:
            fail(f"close code {close_code}, not 1000")
        print(f"accepted: {len(head) + 4}-byte 101 response, accept {accept.decode()}, "
              f"subprotocol chat; forwarded {len(forwarded)} frames re-masked, close 1000; "
              f"stack used: {stack} bytes")

        # 2. An unmasked frame after the handshake: a protocol error (1002), nothing forwarded.
        status, close_code, tx, _ = run(elf, REQUEST + bytes([0x81, 0x02]) + b"hi", workdir)
        if status != 101 or close_code != 1002 or frames(tx.partition(b"\r\n\r\n")[2], key):
            fail(f"unmasked frame: status {status}, close code {close_code}, {tx!r}")
        print("unmasked client frame: close code 1002, nothing forwarded")

        # 3. Version 8: rejected with 426 and nothing else.
        old = REQUEST.replace(b"Version: 13", b"Version: 8")
        status, close_code, tx, _ = run(elf, old + HELLO, workdir)
        if status != 426 or not tx.startswith(b"HTTP/1.1 426 ") or not tx.endswith(b"\r\n\r\n") \
                or b"13" not in tx:
            fail(f"version 8: status {status}, response {tx!r}")
        print(f"version 8: rejected with a {len(tx)}-byte 426 response")

        # 4. Text that is not UTF-8 (a lone continuation byte) after a good frame: 1007, and
        #    only the good frame forwarded.
        status, close_code, tx, _ = run(elf, REQUEST + HELLO + masked(0x1, b"ok\x80", key), workdir)
        if status != 101 or close_code != 1007 \
                or frames(tx.partition(b"\r\n\r\n")[2], key) != [(0x81, b"Hello")]:
            fail(f"invalid UTF-8: status {status}, close code {close_code}, {tx!r}")
        print("invalid UTF-8 text: close code 1007, the frame before it forwarded")

        # 5. Half a head: nothing written, and the firmware waits for the rest.
        status, close_code, tx, _ = run(elf, REQUEST[:40], workdir)
        if (status, close_code, tx) != (0, 0, b""):
            fail(f"half a head: status {status}, close code {close_code}, {tx!r}")
        print("half a head: no answer yet")
    print("firmware on QEMU: all 5 cases answered as expected")


main()
