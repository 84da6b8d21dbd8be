"""Python `websockets` as a client of our echo_server, permessage-deflate negotiated (its
default, compression="deflate"): every message, text and binary of 0 B to 16 MiB, must come
back byte-exact, and the negotiated extension must be the one asked for.

Usage: py_client.py ws://127.0.0.1:PORT/   (run through ./run). Prints one line per check and
a closing "N passed, N failed" line; exits 1 if any check failed.
"""

import asyncio
import hashlib
import os
import random
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)

SIZES = [0, 1, 100, 64 << 10, 1 << 20, 16 << 20]
USERS = ["alice", "bob", "carol", "dmitri", "eléonore", "fumiko", "雪", "zoë"]
WORDS = ["ping", "latency", "frame", "window", "deflate", "héllo", "naïve", "🙂", "ok"]


def json_text(rng: random.Random, n: int) -> str:
    """JSON-like text of exactly `n` UTF-8 bytes (cut at a character boundary, padded)."""
    parts, length, i = ["["], 1, 0
    while length < n + 64:
        words = " ".join(rng.choice(WORDS) for _ in range(1 + rng.randrange(6)))
        record = (
            f'{{"id":{i},"user":"{rng.choice(USERS)}","score":{rng.randrange(100000) / 100},'
            f'"text":"{words}","seen":{"true" if rng.randrange(2) else "false"}}},\n'
        )
        parts.append(record)
        length += len(record.encode())
        i += 1
    data = "".join(parts).encode()[:n].decode("utf-8", errors="ignore")
    return data + " " * (n - len(data.encode()))


def messages(seed: int):
    rng = random.Random(seed)
    out = [(f"binary of {n} B", rng.randbytes(n)) for n in SIZES]
    out += [(f"text of {n} B", json_text(rng, n)) for n in SIZES]
    return out


def digest(data) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:16]


# (name, extensions to offer, what the agreed extension must say)
VARIANTS = [
    ("websockets defaults", None, {}),
    (
        "server_max_window_bits=9, client_max_window_bits=9",
        [ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=9)],
        {"remote_max_window_bits": 9, "local_max_window_bits": 9},
    ),
]


async def echo_all(url, kwargs, msgs, problems, first):
    """Send every message and compare every echo, then close cleanly; a message that ends the
    connection is reported and the rest go over a new one. Appends the first response's
    extensions header and agreed extensions to `first`."""
    ws = None
    try:
        for what, data in msgs:
            if ws is None:
                ws = await connect(url, **kwargs)
                if not first:
                    first.append((ws.response.headers.get("Sec-WebSocket-Extensions"), ws.protocol.extensions))
            try:
                await ws.send(data)
                echo = await asyncio.wait_for(ws.recv(), 60)
            except ConnectionClosed as e:
                problems.append(f"{what}: {e}")
                ws = None  # closed already (closing it again raises inside asyncio)
                continue
            if type(echo) is not type(data):
                problems.append(f"{what}: echoed as {type(echo).__name__}")
            elif echo != data:
                problems.append(f"{what}: echo differs (sha256 {digest(echo)}, sent {digest(data)})")
        if ws is not None:
            await ws.close(1000, "done")
            if ws.protocol.close_rcvd is None or ws.protocol.close_rcvd.code != 1000:
                problems.append(f"close answered with {ws.protocol.close_rcvd}")
    finally:
        if ws is not None:
            await ws.close()


async def run(url: str, seed: int) -> int:
    passed = failed = 0
    msgs = messages(seed)
    for name, extensions, expect in VARIANTS:
        started = time.monotonic()
        problems = []
        kwargs = {"max_size": None, "open_timeout": 10, "close_timeout": 10}
        if extensions is not None:
            kwargs["extensions"] = extensions
        first = []
        try:
            await echo_all(url, kwargs, msgs, problems, first)
        except Exception as e:  # a failed handshake, a timeout: reported, not raised
            problems.append(f"{type(e).__name__}: {e}")
        header, agreed = first[0] if first else (None, [])
        deflate = [e for e in agreed if isinstance(e, PerMessageDeflate)]
        if len(deflate) != 1:
            problems.append(f"permessage-deflate not negotiated: {header!r}")
        else:
            for key, value in expect.items():
                if getattr(deflate[0], key) != value:
                    problems.append(f"{key}={getattr(deflate[0], key)} in {deflate[0]!r}")
        ms = int((time.monotonic() - started) * 1000)
        if problems:
            failed += 1
            print(f"FAIL websockets client ({name}) against echo_server ({header!r}):", *problems, sep="\n  ")
        else:
            passed += 1
            print(f"ok websockets client ({name}) against echo_server: {len(msgs)} echoes byte-exact, "
                  f"{header!r}, {deflate[0]!r}, {ms} ms")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    seed = int(os.environ.get("PEERS_SEED", "24301"))
    sys.exit(asyncio.run(run(sys.argv[1], seed)))
