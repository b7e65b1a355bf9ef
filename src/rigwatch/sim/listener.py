"""One listening socket of one simulated miner, which can go dark, hang and come back.

Each listener binds its miner's own loopback address (never a wildcard: a wildcard
socket would answer on every 127.x address and a scan would find phantom miners). It
tracks its connections so that going dark, or shutting down, closes them all and
leaves no socket behind.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable

from rigwatch.sim.state import Availability


class SimBindError(OSError):
    """A simulated miner could not bind its address and port; the message says why."""


def check_loopback(host: str) -> None:
    """Refuse anything but a 127.x.y.z address: the simulator never touches a real network."""
    parts = host.split(".")
    if len(parts) != 4 or parts[0] != "127" or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError(f"{host!r} is not an IPv4 loopback address (127.x.y.z)")


class Listener:
    """A server socket plus the connections it accepted."""

    def __init__(
        self,
        host: str,
        port: int,
        protocol_factory: Callable[[Listener], asyncio.Protocol],
        availability: Callable[[], Availability],
    ) -> None:
        check_loopback(host)
        self.host = host
        self.port = port
        self._factory = protocol_factory
        self._availability = availability
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Transport] = set()
        self.requests = 0

    @property
    def is_open(self) -> bool:
        return self._server is not None

    @property
    def hung(self) -> bool:
        """Accept but never answer (the `hung` fault)."""
        return self._availability() is Availability.HUNG

    def track(self, transport: asyncio.Transport) -> None:
        self._connections.add(transport)

    def forget(self, transport: asyncio.Transport) -> None:
        self._connections.discard(transport)

    async def open(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: self._factory(self),
                host=self.host,
                port=self.port,
                reuse_address=True,
                backlog=256,
            )
        except OSError as exc:
            hint = ""
            if exc.errno == errno.EACCES:
                hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
            elif exc.errno == errno.EADDRINUSE:
                hint = " (already in use: another simulator or service holds it)"
            elif exc.errno == errno.EADDRNOTAVAIL:
                hint = " (address not configured on the loopback interface)"
            raise SimBindError(
                exc.errno or 0, f"cannot bind simulated miner to {self.host}:{self.port}{hint}"
            ) from exc

    def drop_connections(self) -> None:
        """Abort every open connection (a miner that goes dark drops them)."""
        for transport in list(self._connections):
            transport.abort()
        self._connections.clear()

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop_connections()
        if server is not None:
            await server.wait_closed()
