"""Bitaxe poller: one `GET /api/system/info` per poll over a shared httpx client.

`/api/system/asic` (model name and ASIC count) does not change while a device runs, so
it is asked once, on the first poll, and a firmware without it is simply not asked again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from rigwatch.domain.models import MinerIdentity
from rigwatch.protocols import axeos
from rigwatch.protocols.errors import ProtocolError
from rigwatch.sentry.pollers.base import (
    AuthFailed,
    BadReply,
    MinerRefused,
    MinerTimeout,
    PollResult,
)


class AxeosPoller:
    """Polls one AxeOS (ESP-Miner) device over HTTP."""

    def __init__(
        self,
        identity: MinerIdentity,
        ip: str,
        *,
        client: httpx.AsyncClient,
        port: int = 80,
        timeout_s: float = 5.0,
    ) -> None:
        self._identity = identity
        self._client = client
        self._base = f"http://{ip}:{port}" if port != 80 else f"http://{ip}"
        self._timeout_s = timeout_s
        self._asic: Mapping[str, Any] | None = None
        self._asic_asked = False

    @property
    def identity(self) -> MinerIdentity:
        return self._identity

    async def poll(self) -> PollResult:
        """One sample, or MinerTimeout / MinerRefused / AuthFailed / BadReply."""
        try:
            async with asyncio.timeout(self._timeout_s):
                info = await self._get_json(axeos.INFO_PATH)
                if not self._asic_asked:
                    self._asic_asked = True
                    self._asic = await self._optional_asic()
            facts, sample = axeos.parse_info(info, ts=datetime.now(UTC), asic=self._asic)
        except TimeoutError:
            raise MinerTimeout(f"{self._base}: no reply in {self._timeout_s} s") from None
        except ProtocolError as exc:
            raise BadReply(f"{self._base}: {exc}") from None
        self._identity = facts.apply(self._identity)
        return PollResult(identity=self._identity, sample=sample)

    async def _optional_asic(self) -> Mapping[str, Any] | None:
        """Older firmware has no `/api/system/asic`: a 404 or odd body means "not known"."""
        try:
            return await self._get_json(axeos.ASIC_PATH)
        except (BadReply, ProtocolError):
            return None

    async def _get_json(self, path: str) -> dict[str, Any]:
        try:
            response = await self._client.get(self._base + path, timeout=self._timeout_s)
        except httpx.TimeoutException:
            raise MinerTimeout(f"{self._base}{path}: timed out") from None
        except httpx.ConnectError as exc:
            raise MinerRefused(f"{self._base}{path}: {exc}") from None
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise MinerRefused(f"{self._base}{path}: connection reset: {exc}") from None
        except httpx.TransportError as exc:
            raise BadReply(f"{self._base}{path}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise AuthFailed(f"{self._base}{path}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise BadReply(f"{self._base}{path}: HTTP {response.status_code}")
        return axeos.decode_body(response.content)
