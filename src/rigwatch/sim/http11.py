"""A small HTTP/1.1 server protocol: enough for miner web APIs, fast at fleet scale.

One asyncio.Protocol per connection, synchronous handlers (every simulated endpoint
answers from memory), keep-alive and pipelining, Content-Length bodies only. It exists
because a thousand simulated miners each need a web server in one process, and a full
framework per miner would cost far more than the miner itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigwatch.sim.listener import Listener

MAX_HEAD = 16 * 1024
MAX_BODY = 256 * 1024

REASONS = {
    200: "OK",
    204: "No Content",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    after: Callable[[], None] | None = None
    """Called once the response is written (e.g. a restart that closes this socket)."""

    @classmethod
    def text(cls, status: int, text: str) -> HttpResponse:
        return cls(status, text.encode(), "text/plain")


Handler = Callable[[HttpRequest], HttpResponse]


def _encode(response: HttpResponse, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Unknown')}"]
    if response.body or response.status not in (204,):
        lines.append(f"Content-Length: {len(response.body)}")
    if response.body:
        lines.append(f"Content-Type: {response.content_type}")
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class HttpProtocol(asyncio.Protocol):
    """Parses requests off one connection and writes the handler's responses."""

    __slots__ = ("_buffer", "_closing", "_handler", "_listener", "_transport")

    def __init__(self, listener: Listener, handler: Handler) -> None:
        self._listener = listener
        self._handler = handler
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):
            raise TypeError("a stream transport was expected")
        self._transport = transport
        self._listener.track(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._listener.forget(self._transport)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        self._buffer += data
        while self._buffer and not self._closing:
            if not self._handle_one():
                return

    def _fail(self, status: int, message: str) -> None:
        self._write(HttpResponse.text(status, message), keep_alive=False)

    def _write(self, response: HttpResponse, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.write(_encode(response, keep_alive))
        if not keep_alive:
            self._closing = True
            transport.close()
        if response.after is not None:
            response.after()

    def _handle_one(self) -> bool:
        """Handle one complete request from the buffer; False when more bytes are needed."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                self._fail(431, "Request header too large")
            return False
        head = bytes(self._buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._fail(400, "Bad request line")
            return False
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self._fail(400, "Bad header line")
                return False
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._fail(411, "Chunked bodies are not supported; send Content-Length")
            return False
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit():
            self._fail(400, "Bad Content-Length")
            return False
        length = int(length_text)
        if length > MAX_BODY:
            self._fail(413, "Body too large")
            return False
        total = end + 4 + length
        if len(self._buffer) < total:
            return False
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        if self._listener.hung:
            self._closing = True  # accept, read, never answer
            return False
        self._listener.requests += 1
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
        path, _, query = target.partition("?")
        request = HttpRequest(method.upper(), target, path, query, headers, body)
        self._write(self._handler(request), keep_alive)
        return True
