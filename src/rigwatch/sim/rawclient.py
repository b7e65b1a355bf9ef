"""A bare cgminer-API client, for benchmarking and checking simulated fleets.

It is deliberately not the sentry's poller: benchmarks of the simulator should measure
the simulator, and tests of faults need to see raw refusals and timeouts.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rigwatch.sim.listener import check_loopback


async def cgminer_request(
    ip: str, command: str, *, port: int = 4028, timeout_s: float = 5.0
) -> dict[str, Any]:
    """Send `{"command": ...}` to a loopback miner and parse the NUL-terminated reply.

    Raises ConnectionRefusedError, TimeoutError or ValueError (bad reply) as they happen.
    """
    check_loopback(ip)
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(ip, port)
        try:
            writer.write(json.dumps({"command": command}).encode())
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
    data = json.loads(raw.rstrip(b"\x00"))
    if not isinstance(data, dict):
        raise ValueError(f"{ip}: reply is not a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class SweepResult:
    miners: int
    ok: int
    failed: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.miners / self.seconds if self.seconds else 0.0


async def sweep(
    ips: Sequence[str], command: str = "summary+stats+pools+version", *, timeout_s: float = 10.0
) -> SweepResult:
    """One request to every miner at once (a plain gather), timed."""
    started = time.perf_counter()
    results = await asyncio.gather(
        *(cgminer_request(ip, command, timeout_s=timeout_s) for ip in ips), return_exceptions=True
    )
    seconds = time.perf_counter() - started
    ok = sum(1 for r in results if isinstance(r, dict))
    return SweepResult(miners=len(ips), ok=ok, failed=len(ips) - ok, seconds=seconds)
