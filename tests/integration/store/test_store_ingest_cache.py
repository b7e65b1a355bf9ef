"""The writer's cache: calls with it store exactly what calls without it store, and any
write by another connection makes it read the store again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from rigwatch.domain.models import EventKind, MinerStatus
from rigwatch.store.ingest import BatchResult, write_batches
from rigwatch.store.ingest_rows import IngestCache
from rigwatch.store.tables import miner_state, miners, samples
from rigwatch.store.timestamps import to_us
from tests.integration.store.store_helpers import at, event, reading


class _Writer:
    """Like the commander's writer: one connection, one cache, cleared on failure."""

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect()
        self.cache = IngestCache()

    def write(self, *batches: Any) -> list[BatchResult]:
        try:
            with self.conn.begin():
                return write_batches(self.conn, list(batches), at(3600), self.cache)
        except Exception:
            self.cache.clear()
            raise

    def close(self) -> None:
        self.conn.close()


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = select(
            miners.c.key,
            samples.c.ts,
            samples.c.accepted_delta,
            samples.c.hashrate_hs,
        ).join(miners, miners.c.id == samples.c.miner_id)
        return sorted(tuple(row) for row in conn.execute(query))


def _state(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(miner_state).join(miners).where(miners.c.key == key)).one()


def test_with_and_without_the_cache_the_same_rows_and_updates(engine, make_batch):
    calls = [
        (reading("m1", 0, accepted=10), reading("m2", 0, ip="10.0.0.2")),
        (reading("m1", 10, accepted=15), reading("m2", 10, ip="10.0.0.2")),
        (reading("m1", 20, accepted=3), reading("m2", 5, ip="10.0.0.3")),  # reset, late
        (reading("m1", 30, accepted=9, ip="10.0.0.1"), reading("m3", 30)),
    ]
    writer = _Writer(engine)
    try:
        cached = [writer.write(make_batch(i + 1, c)) for i, c in enumerate(calls)]
    finally:
        writer.close()
    with_cache = _rows(engine)
    with engine.begin() as conn:
        conn.execute(delete(samples))
        conn.execute(delete(miner_state))
        conn.execute(delete(miners))
    uncached = []
    for i, c in enumerate(calls):
        with engine.begin() as conn:
            uncached.append(write_batches(conn, [make_batch(i + 101, c)], at(3600)))
    assert _rows(engine) == with_cache
    strip = [
        [(u.key, u.status, u.ts, u.hashrate_hs) for r in rs for u in r.updates] for rs in cached
    ]
    again = [
        [(u.key, u.status, u.ts, u.hashrate_hs) for r in rs for u in r.updates] for rs in uncached
    ]
    assert strip == again
    assert [d for k, _, d, _ in with_cache if k == "m1"] == [None, 5, 3, 6]


def test_a_miner_deleted_elsewhere_is_created_again(engine, make_batch):
    writer = _Writer(engine)
    try:
        writer.write(make_batch(1, (reading("m1", 0),)))
        with engine.begin() as conn:
            conn.execute(delete(miner_state))
            conn.execute(delete(miners))
        [result] = writer.write(make_batch(2, (reading("m1", 10),)))
    finally:
        writer.close()
    with engine.connect() as conn:
        [(miner_id,)] = conn.execute(select(miners.c.id)).all()
    assert [u.miner_id for u in result.updates] == [miner_id]
    assert _state(engine, "m1").last_sample_ts == to_us(at(10))


def test_an_identity_changed_elsewhere_is_reported_again(engine, make_batch):
    writer = _Writer(engine)
    try:
        writer.write(make_batch(1, (reading("m1", 0, make="AntMiner"),)))
        with engine.begin() as conn:
            conn.execute(update(miners).values(make="edited"))
        writer.write(make_batch(2, (reading("m1", 10, make="AntMiner"),)))
    finally:
        writer.close()
    with engine.connect() as conn:
        assert conn.execute(select(miners.c.make)).scalar_one() == "AntMiner"


def test_an_offline_event_is_seen_by_the_next_deltas_and_state(engine, make_batch):
    writer = _Writer(engine)
    try:
        writer.write(make_batch(1, (reading("m1", 0, accepted=10),)))
        writer.write(
            make_batch(2, (), (event(EventKind.MINER_OFFLINE, "off", 20, miner_key="m1"),))
        )
        # Older than the offline event: no delta, the state stays offline.
        writer.write(make_batch(3, (reading("m1", 15, accepted=12),)))
        [result] = writer.write(make_batch(4, (reading("m1", 30, accepted=20),)))
    finally:
        writer.close()
    assert [d for k, _, d, _ in _rows(engine)] == [None, None, 10]
    assert result.updates[0].status is MinerStatus.ONLINE
    assert _state(engine, "m1").status == "online"
