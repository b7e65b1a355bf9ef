"""The ingest writer: a bad batch fails alone, and what its group's failed transaction
taught the writer's cache is forgotten with it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from rigwatch.commander.writer import IngestWriter
from rigwatch.domain.batch import Batch
from rigwatch.store.auth import create_sentry
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.ingest_rows import RowBatch, record_of
from rigwatch.store.tables import miners, samples
from tests.integration.store.store_helpers import reading


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def test_a_bad_batch_in_a_group_fails_alone_and_the_good_one_is_stored_right(engine):
    with engine.begin() as conn:
        sentry_id, _token = create_sentry(conn, "rack-a")
    known = Batch(sentry_id, 1, (reading("known", 0),))
    good = Batch(sentry_id, 2, (reading("known", 10), reading("new", 10)))
    broken = record_of(reading("other", 10))
    del broken["hashrate_hs"]  # fails in the middle of the write, after miners are created
    bad = RowBatch(sentry_id, 3, [broken])
    writer = IngestWriter(engine, max_rows=10_000, max_delay_s=0.25)

    async def run() -> list[object]:
        first = IngestWriter(engine, max_rows=10_000, max_delay_s=0.25)
        first.start()
        await first.submit(known)
        first.stop()
        # Queue both before the thread runs, so that they share one transaction.
        tasks = [asyncio.ensure_future(writer.submit(b)) for b in (good, bad)]
        await asyncio.sleep(0)
        assert writer.backlog == 2
        writer.start()
        results: list[object] = list(await asyncio.gather(*tasks, return_exceptions=True))
        writer.stop()
        return results

    stored, failed = asyncio.run(run())
    assert isinstance(failed, KeyError)
    assert getattr(stored, "stored", None) is True
    assert sorted(u.key for u in stored.updates) == ["known", "new"]  # type: ignore[attr-defined]
    with engine.connect() as conn:
        keys = conn.execute(
            select(miners.c.key).join(samples, samples.c.miner_id == miners.c.id)
        ).scalars()
        assert sorted(keys) == ["known", "known", "new"]
        assert sorted(conn.execute(select(miners.c.key)).scalars()) == ["known", "new"]
    assert writer.failures == 1
