"""The sentry, real simulated miners and a real commander that goes down mid-run.

Every sample the sentry produced must be stored exactly once, in order, after the
commander comes back: nothing lost, nothing doubled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, Row

from rigwatch.config import Settings
from rigwatch.protocols.ingest import EventIn, SampleIn
from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.spool import Spool
from rigwatch.sim import Fleet, FleetSpec
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine, upgrade
from tests.helpers import RunningCommander, free_port, start_commander

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE = "127.0.60.1"


async def wait_for(predicate: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_commander_outage_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    produced: list[tuple[str, str]] = []
    seqs: list[int] = []
    original = Spool.append

    def recording_append(
        self: Spool, samples: list[SampleIn], events: list[EventIn], **local: Any
    ) -> int:
        seq = original(self, samples, events, **local)
        seqs.append(seq)
        produced.extend((s.miner.key, s.ts.isoformat()) for s in samples)
        return seq

    monkeypatch.setattr(Spool, "append", recording_append)

    settings = Settings(data_dir=tmp_path / "commander")
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    with engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "rack-e2e")
    port = free_port()
    commander: RunningCommander = await asyncio.to_thread(start_commander, settings, port)
    stop = asyncio.Event()
    spec = FleetSpec.mix(5, 1, base=BASE, seed=3)
    async with Fleet(spec) as fleet:
        cfg = SentryConfig(
            commander_url=commander.url,
            data_dir=tmp_path / "sentry",
            enroll_token=token,
            scan=[f"{fleet.ips[0]}-{fleet.ips[-1]}"],
            interval_s=1.0,
            deadline_s=3.0,
        )
        sentry = asyncio.create_task(run_sentry(cfg, stop))
        stored = lambda: _count(engine)  # noqa: E731
        await wait_for(lambda: stored() >= 12, 30, "samples before the outage")

        await asyncio.to_thread(commander.stop)
        during = len(produced)
        await wait_for(lambda: len(produced) >= during + 6 * 5, 30, "polls during the outage")
        assert stored() < len(produced), "batches were spooled while the commander was down"

        commander = await asyncio.to_thread(start_commander, settings, port)
        backlog = len(produced)
        await wait_for(lambda: stored() >= backlog, 60, "the spool to drain")
        stop.set()
        await asyncio.wait_for(sentry, 30)
    # Whatever the last sweep spooled after the stop is still pending, durably: it counts
    # as neither lost nor stored.
    spool = Spool(tmp_path / "sentry" / "spool.db")
    pending = [
        SampleIn.model_validate(s)
        for b in spool.peek_oldest(1000)
        for s in orjson.loads(b.body)["samples"]
    ]
    pending_seqs = [b.seq for b in spool.peek_oldest(1000)]
    assert len(pending_seqs) <= 1
    await asyncio.to_thread(commander.stop)

    with engine.connect() as conn:
        rows: Sequence[Row[str, int]] = conn.execute(
            text("SELECT m.key, s.ts FROM samples s JOIN miners m ON m.id = s.miner_id")
        ).all()
        batches = [r[0] for r in conn.execute(text("SELECT seq FROM ingest_batches ORDER BY seq"))]
        order = [
            r[0]
            for r in conn.execute(text("SELECT seq FROM ingest_batches ORDER BY received_at, seq"))
        ]
    engine.dispose()
    commander.engine.dispose()

    from rigwatch.store.timestamps import from_us

    stored_keys = sorted((k, from_us(ts).isoformat()) for k, ts in rows)
    still_spooled = sorted((p.miner.key, p.ts.isoformat()) for p in pending)
    assert len(set(stored_keys)) == len(stored_keys), "a sample was stored twice"
    assert not set(stored_keys) & set(still_spooled)
    assert sorted(stored_keys + still_spooled) == sorted(produced), "a sample was lost"
    assert batches + pending_seqs == sorted(seqs)
    assert order == batches, "batches arrived out of order"
    assert len(stored_keys) >= backlog


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM samples")).scalar_one())
