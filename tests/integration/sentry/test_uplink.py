"""The uplink delivers every spooled batch in order, exactly once, through outages,
refused credentials and batches the commander will never take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rigwatch.domain.models import MinerIdentity, MinerKind, Sample
from rigwatch.protocols.ingest import SampleIn
from rigwatch.sentry.spool import Spool
from rigwatch.sentry.uplink import SendResult, Uplink, uplink_client
from tests.integration.sentry.fake_commander import (
    CREDENTIAL,
    HOST,
    FakeCommander,
    eventually,
    free_port,
)


def sample(n: int) -> SampleIn:
    ident = MinerIdentity(key="AA:BB:CC:00:40:01", kind=MinerKind.ASIC, ip="127.0.40.9")
    ts = datetime.now(UTC) - timedelta(seconds=60)
    return SampleIn.from_domain(ident, Sample(ts=ts, accepted=n))


@pytest.fixture
async def commander() -> AsyncIterator[FakeCommander]:
    fc = FakeCommander()
    yield fc
    await fc.stop()


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(tmp_path / "spool.db") as s:
        yield s


async def run_uplink(uplink: Uplink) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(uplink.run(stop))


async def finish(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_after_an_outage_everything_arrives_in_order_exactly_once(
    commander: FakeCommander, spool: Spool
) -> None:
    seqs = [spool.append([sample(i)], []) for i in range(5)]
    async with uplink_client(timeout_s=2) as client:
        uplink = Uplink(
            spool, client, commander.url, CREDENTIAL, backoff_initial_s=0.05, backoff_max_s=0.2
        )
        stop, task = await run_uplink(uplink)
        await asyncio.sleep(0.5)  # commander down: connection refused, retried
        assert spool.pending_count() == 5
        await commander.start()
        await eventually(lambda: spool.pending_count() == 0)
        await commander.stop()  # down again while new batches are spooled
        more = [spool.append([sample(10 + i)], []) for i in range(3)]
        uplink.wake()
        await asyncio.sleep(0.4)
        await commander.start()
        await eventually(lambda: spool.pending_count() == 0)
        await finish(stop, task)
    assert commander.stored == seqs + more
    assert len(set(commander.stored)) == len(commander.stored)


async def test_5xx_is_retried_until_accepted(commander: FakeCommander, spool: Spool) -> None:
    await commander.start()
    commander.status = 503
    seqs = [spool.append([sample(i)], []) for i in range(3)]
    async with uplink_client(timeout_s=2) as client:
        uplink = Uplink(
            spool, client, commander.url, CREDENTIAL, backoff_initial_s=0.02, backoff_max_s=0.05
        )
        stop, task = await run_uplink(uplink)
        await eventually(lambda: len(commander.attempts) >= 3)
        assert commander.stored == []
        assert set(commander.attempts) == {seqs[0]}  # never skips ahead
        commander.status = 200
        await eventually(lambda: spool.pending_count() == 0)
        await finish(stop, task)
    assert commander.stored == seqs


async def test_a_batch_the_commander_refuses_is_dead_lettered_and_the_rest_goes_on(
    commander: FakeCommander, spool: Spool
) -> None:
    await commander.start()
    seqs = [spool.append([sample(i)], []) for i in range(4)]
    commander.reject[seqs[1]] = 422
    commander.reject[seqs[2]] = 413
    async with uplink_client(timeout_s=2) as client:
        uplink = Uplink(spool, client, commander.url, CREDENTIAL)
        stop, task = await run_uplink(uplink)
        await eventually(lambda: spool.pending_count() == 0)
        await finish(stop, task)
    assert commander.stored == [seqs[0], seqs[3]]
    dead = spool.dead_letters()
    assert [seq for seq, _ in dead] == [seqs[1], seqs[2]]
    assert dead[0][1].startswith("HTTP 422") and f"seq {seqs[1]} refused" in dead[0][1]
    assert uplink.dead_lettered == 2


async def test_a_refused_credential_keeps_everything_spooled(
    commander: FakeCommander, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    await commander.start()
    seqs = [spool.append([sample(i)], []) for i in range(2)]
    async with uplink_client(timeout_s=2) as client:
        uplink = Uplink(spool, client, commander.url, "rws_revoked", auth_retry_s=0.05)
        result = await uplink.send_oldest()
        assert result is SendResult.UNAUTHORIZED
        stop, task = await run_uplink(uplink)
        await asyncio.sleep(0.3)
        await finish(stop, task)
    assert spool.pending_count() == 2
    assert [b.seq for b in spool.peek_oldest(5)] == seqs
    assert "REFUSED this sentry's credential" in caplog.text


async def test_an_ack_of_a_replay_also_clears_the_batch(
    commander: FakeCommander, spool: Spool
) -> None:
    await commander.start()
    seq = spool.append([sample(1)], [])
    commander.stored.append(seq)  # the commander had it before the sentry crashed
    async with uplink_client(timeout_s=2) as client:
        uplink = Uplink(spool, client, commander.url, CREDENTIAL)
        assert await uplink.send_oldest() is SendResult.ACKED
    assert spool.pending_count() == 0
    assert commander.stored == [seq]


async def test_a_timeout_is_retried_not_dropped(spool: Spool) -> None:
    port = free_port()
    hung: list[asyncio.StreamWriter] = []

    async def accept(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        hung.append(w)

    server = await asyncio.start_server(accept, HOST, port)
    spool.append([sample(1)], [])
    try:
        async with uplink_client(timeout_s=0.2) as client:
            uplink = Uplink(spool, client, f"http://{HOST}:{port}", CREDENTIAL)
            assert await uplink.send_oldest() is SendResult.RETRY
    finally:
        for w in hung:
            w.close()
        server.close()
        await server.wait_closed()
    assert spool.pending_count() == 1


def test_backoff_is_capped_and_jittered(spool: Spool) -> None:
    uplink = Uplink(
        spool,
        None,  # type: ignore[arg-type]
        "http://127.0.40.1:1",
        CREDENTIAL,
        backoff_initial_s=0.5,
        backoff_max_s=8,
    )
    uplink._failures = 50
    delays = {uplink.next_backoff_s() for _ in range(20)}
    assert all(4 <= d <= 8 for d in delays)
    assert len(delays) > 1
