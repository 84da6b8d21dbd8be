"""A Python `websockets` echo server with its default permessage-deflate (compression on:
server and client windows of 12 bits), for our echo_client.

Usage: py_echo_server.py. Listens on a free port of 127.0.0.1 and prints
`listening on ws://127.0.0.1:PORT`; per connection it prints the extension it agreed on
(`connection N extensions: <the Sec-WebSocket-Extensions it answered> <the codec's settings>`).
"""

import asyncio
import itertools
import signal

from websockets.asyncio.server import serve

NAME = "websockets"
ids = itertools.count(1)


def log(line: str) -> None:
    print(f"{NAME}: {line}", flush=True)


async def echo(ws) -> None:
    n = next(ids)
    header = ws.response.headers.get("Sec-WebSocket-Extensions", "none")
    log(f"connection {n} extensions: {header} {ws.protocol.extensions!r}")
    async for message in ws:
        kind = "text" if isinstance(message, str) else "binary"
        log(f"connection {n} {kind} of {len(message.encode() if kind == 'text' else message)} B")
        await ws.send(message)
    log(f"connection {n} closed {ws.close_code}")


async def main() -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(echo, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        log(f"listening on ws://127.0.0.1:{port}")
        await stop


if __name__ == "__main__":
    asyncio.run(main())
