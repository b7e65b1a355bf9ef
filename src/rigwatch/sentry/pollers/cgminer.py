"""Fast path for cgminer-API ASICs: one connection, one joined command per poll.

A 1,000-miner sweep spends its time here, so the exchange is a bare stream read with
one deadline over everything (connect, send, read, parse, fallback). Firmware that
rejects joined commands (some S19 builds) gets one connection per command instead,
still under the same deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from rigwatch.domain.models import MinerIdentity, Sample
from rigwatch.protocols import antminer, whatsminer
from rigwatch.protocols.cgminer import (
    MAX_REPLY_BYTES,
    CommandRejected,
    decode_reply,
    encode_request,
    sections,
)
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError
from rigwatch.sentry.pollers.base import BadReply, MinerRefused, MinerTimeout, PollResult

Variant = Literal["antminer", "whatsminer"]
Parser = Callable[..., tuple[DeviceFacts, Sample]]

# (commands, the ones a poll can do without, parser)
_PLANS: dict[str, tuple[tuple[str, ...], frozenset[str], Parser]] = {
    "antminer": (antminer.COMMANDS, frozenset({"version", "summary"}), antminer.parse),
    "whatsminer": (whatsminer.COMMANDS, frozenset({"devs", "devdetails"}), whatsminer.parse),
}
_REFUSED = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})


class CgminerPoller:
    """Polls one Antminer or Whatsminer on its cgminer API port."""

    def __init__(
        self,
        identity: MinerIdentity,
        ip: str,
        *,
        variant: Variant,
        port: int = 4028,
        timeout_s: float = 5.0,
    ) -> None:
        if variant not in _PLANS:
            raise ValueError(f"unknown cgminer variant {variant!r}")
        self._identity = identity
        self._ip = ip
        self._port = port
        self._timeout_s = timeout_s
        self._commands, self._optional, self._parse = _PLANS[variant]
        self._request = encode_request(self._commands)
        self._joined_ok = True

    @property
    def identity(self) -> MinerIdentity:
        return self._identity

    async def poll(self) -> PollResult:
        """One sample, or MinerTimeout / MinerRefused / BadReply."""
        try:
            async with asyncio.timeout(self._timeout_s):
                replies = await self._fetch()
            facts, sample = self._parse(replies, ts=datetime.now(UTC))
        except TimeoutError:
            raise MinerTimeout(
                f"{self._ip}:{self._port}: no reply in {self._timeout_s} s"
            ) from None
        except ProtocolError as exc:
            raise BadReply(f"{self._ip}:{self._port}: {exc}") from None
        except OSError as exc:
            if isinstance(exc, ConnectionError) or exc.errno in _REFUSED:
                raise MinerRefused(f"{self._ip}:{self._port}: {exc}") from None
            # Unreachable host or network: as dark as a timeout.
            raise MinerTimeout(f"{self._ip}:{self._port}: {exc}") from None
        self._identity = facts.apply(self._identity)
        return PollResult(identity=self._identity, sample=sample)

    async def _fetch(self) -> Mapping[str, Mapping[str, Any]]:
        if self._joined_ok:
            reply = decode_reply(await self._exchange(self._request))
            try:
                return sections(reply, self._commands, optional=self._optional)
            except CommandRejected:
                if len(self._commands) == 1:
                    raise
                self._joined_ok = False
        return await self._one_by_one()

    async def _one_by_one(self) -> dict[str, dict[str, Any]]:
        """Each command on its own connection; optional ones may fail."""
        replies: dict[str, dict[str, Any]] = {}
        for command in self._commands:
            try:
                reply = decode_reply(await self._exchange(encode_request([command])))
                replies.update(sections(reply, [command]))
            except CommandRejected:
                if command not in self._optional:
                    raise
        return replies

    async def _exchange(self, request: bytes) -> bytes:
        """Send one request; read until EOF or the NUL that ends a cgminer reply."""
        reader, writer = await asyncio.open_connection(self._ip, self._port)
        try:
            writer.write(request)
            await writer.drain()
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise ProtocolError(f"reply exceeds {MAX_REPLY_BYTES} bytes")
                if b"\x00" in chunk:
                    break
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        raw = b"".join(chunks)
        if not raw:
            raise ProtocolError("miner closed the connection without a reply")
        nul = raw.find(b"\x00")
        return raw[: nul + 1] if nul >= 0 else raw
