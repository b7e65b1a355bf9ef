"""The cgminer-style RPC transport on TCP 4028: one request, one reply, close.

Real clients (pyasic among them) send `{"command": "..."}` with no newline and never
half-close, then read until EOF. So the end of the request is found by scanning the JSON
itself for its closing brace, and the reply ends with the NUL byte that cgminer's
`send_result()` writes. Connections that close without sending anything (scan
pre-pings) are simply forgotten.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigwatch.sim.listener import Listener

MAX_REQUEST = 64 * 1024

RpcHandler = Callable[[str, str | None], bytes]
"""(command, parameter) -> reply JSON bytes (without the trailing NUL)."""


def json_end(buffer: bytes | bytearray) -> int:
    """Index just past the first complete top-level JSON object, or -1 if incomplete."""
    depth = 0
    in_string = False
    escaped = False
    started = False
    for i, byte in enumerate(buffer):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte == 0x7B:
            depth += 1
            started = True
        elif byte == 0x7D:
            depth -= 1
            if started and depth == 0:
                return i + 1
    return -1


def error_reply(code: int, message: str, description: str, when: int) -> bytes:
    """A cgminer error reply (STATUS E), as api.c formats it."""
    status = {"STATUS": "E", "When": when, "Code": code, "Msg": message, "Description": description}
    return json.dumps({"STATUS": [status], "id": 1}, separators=(",", ":")).encode()


def parse_request(raw: bytes) -> tuple[str, str | None] | str:
    """(command, parameter) from a JSON request, or an error message for a Code 23/24 reply."""
    try:
        request = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return "Invalid JSON"
    if not isinstance(request, dict):
        return "Invalid JSON"
    command = request.get("command", request.get("cmd"))
    if not isinstance(command, str):
        return "Missing JSON 'command'"
    parameter = request.get("parameter")
    return command, None if parameter is None else str(parameter)


class CgminerProtocol(asyncio.Protocol):
    """Reads one JSON request, writes the handler's reply plus NUL, closes."""

    __slots__ = ("_buffer", "_handler", "_listener", "_transport")

    def __init__(self, listener: Listener, handler: Callable[[bytes], bytes]) -> None:
        self._listener = listener
        self._handler = handler
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

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
        transport = self._transport
        if transport is None:
            return
        self._buffer += data
        stripped = self._buffer.lstrip()
        if stripped and stripped[0] != 0x7B:
            # The text form (`summary|`) is not simulated; answer as cgminer does to bad JSON.
            end = len(self._buffer)
        else:
            end = json_end(self._buffer)
            if end < 0:
                if len(self._buffer) > MAX_REQUEST:
                    transport.abort()
                return
        raw = bytes(self._buffer[:end])
        self._buffer.clear()
        if self._listener.hung:
            return
        self._listener.requests += 1
        transport.write(self._handler(raw) + b"\x00")
        transport.close()
