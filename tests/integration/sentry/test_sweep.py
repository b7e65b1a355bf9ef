"""A sweep polls every miner concurrently; a hung miner costs its own deadline only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from rigwatch.domain.models import MinerIdentity, MinerKind, Sample
from rigwatch.sentry.agent import poll_sweep
from rigwatch.sentry.pollers.base import BadReply, MinerRefused, MinerTimeout, PollResult
from tests.integration.sentry.fake_commander import free_port

FAST_HOST = "127.0.40.51"
HUNG_HOST = "127.0.40.50"


class TcpPoller:
    """Sends one line and reads the reply until EOF: the cgminer pattern, minus parsing."""

    def __init__(self, host: str, port: int, n: int) -> None:
        self.host, self.port = host, port
        self._identity = MinerIdentity(key=f"{host}#{n}", kind=MinerKind.ASIC, ip=host)

    @property
    def identity(self) -> MinerIdentity:
        return self._identity

    async def poll(self) -> PollResult:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except ConnectionRefusedError as exc:
            raise MinerRefused(str(exc)) from exc
        try:
            writer.write(b'{"command": "summary"}')
            await writer.drain()
            reply = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
        if reply != b"ok":
            raise BadReply(repr(reply))
        return PollResult(self._identity, Sample(ts=datetime.now(UTC), hashrate_hs=1.0))


@pytest.fixture
async def servers() -> AsyncIterator[tuple[int, int]]:
    held: list[asyncio.StreamWriter] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    fast_port, hung_port = free_port(FAST_HOST), free_port(HUNG_HOST)
    fast = await asyncio.start_server(answer, FAST_HOST, fast_port)
    hung = await asyncio.start_server(hang, HUNG_HOST, hung_port)
    yield fast_port, hung_port
    for w in held:
        w.close()
    for server in (fast, hung):
        server.close()
        await server.wait_closed()


async def test_hung_miners_do_not_delay_the_others_beyond_the_deadline(
    servers: tuple[int, int],
) -> None:
    fast_port, hung_port = servers
    pollers = [TcpPoller(HUNG_HOST, hung_port, i) for i in range(3)]
    pollers += [TcpPoller(FAST_HOST, fast_port, i) for i in range(30)]
    started = time.monotonic()
    outcomes = await poll_sweep(pollers, concurrency=64, deadline_s=0.5)
    wall = time.monotonic() - started
    assert wall < 0.5 + 0.4
    assert [o.identity.key for o in outcomes] == [p.identity.key for p in pollers]
    assert all(isinstance(o.error, MinerTimeout) for o in outcomes[:3])
    fast = outcomes[3:]
    assert all(o.ok for o in fast)
    assert max(o.elapsed_s for o in fast) < 0.3


async def test_a_refusing_miner_is_a_refusal_not_a_timeout() -> None:
    poller = TcpPoller(FAST_HOST, free_port(FAST_HOST), 0)
    [outcome] = await poll_sweep([poller], concurrency=1, deadline_s=1)
    assert isinstance(outcome.error, MinerRefused)


class Crashing:
    identity = MinerIdentity(key="127.0.40.52", kind=MinerKind.ASIC, ip="127.0.40.52")

    async def poll(self) -> PollResult:
        raise RuntimeError("bug")


async def test_a_crashing_poller_costs_only_its_own_sample() -> None:
    [outcome] = await poll_sweep([Crashing()], concurrency=1, deadline_s=1)
    assert isinstance(outcome.error, BadReply)
