"""Test-local miners on loopback: replay real captures, or misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Served:
    host: str
    port: int
    requests: list[bytes] = field(default_factory=list)


async def read_json_request(reader: asyncio.StreamReader) -> bytes:
    """Like a cgminer API: the client never half-closes, so parse as bytes arrive."""
    buf = b""
    while True:
        chunk = await reader.read(4096)
        if not chunk:
            return buf
        buf += chunk
        try:
            json.loads(buf)
        except ValueError:
            continue
        return buf


@contextlib.asynccontextmanager
async def serve(host: str, handler: Handler) -> AsyncIterator[Served]:
    """Run `handler` per connection on host:<free port>; cancel stragglers on exit."""
    tasks: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        writers.add(writer)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(wrapped, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Served(host, port)
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        for writer in writers:
            writer.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def refused_port(host: str) -> int:
    """A port on `host` where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
