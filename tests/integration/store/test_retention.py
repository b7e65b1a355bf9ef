"""Retention on both databases: per-resolution ages, never before the rollups cover the
rows, in bounded chunks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch
from rigwatch.store.ingest import write_batches
from rigwatch.store.retention import RetentionPolicy, apply_retention
from rigwatch.store.rollups import run_rollups
from rigwatch.store.tables import (
    device_samples,
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    hashboard_samples,
    host_samples,
    ingest_batches,
    miners,
    p2pool_samples,
    rollup_1d,
    rollup_1h,
    rollup_5m,
    samples,
)
from rigwatch.store.timestamps import to_us
from tests.integration.store.store_helpers import at, reading

HOUR = 3600
DAY = 86_400


def _store(engine: Engine, sentry_id: int, seq: int, seconds: range, now_s: float) -> None:
    batch = Batch(sentry_id=sentry_id, seq=seq, readings=tuple(reading("A", s) for s in seconds))
    with engine.begin() as conn:
        write_batches(conn, [batch], at(now_s))
        conn.execute(
            update(ingest_batches)
            .where(ingest_batches.c.seq == seq, ingest_batches.c.first_ts.is_(None))
            .values(first_ts=to_us(at(seconds[0])), last_ts=to_us(at(seconds[-1])))
        )


def _roll_all(engine: Engine, now_s: float) -> None:
    while True:
        with engine.begin() as conn:
            if not run_rollups(conn, at(now_s), max_buckets=500).more:
                return


def _retain(engine: Engine, now_s: float, policy: RetentionPolicy | None = None, **kw: Any):
    with engine.begin() as conn:
        return apply_retention(conn, at(now_s), policy, **kw)


def _times(engine: Engine, table, column: str = "ts") -> list[int]:
    with engine.connect() as conn:
        query = select(table.c[column]).order_by(table.c[column])
        found: list[Any] = list(conn.execute(query).scalars())
        return [int(t) for t in found]


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_raw_rows_older_than_48_hours_go_once_rolled_up(engine, sentry_id):
    # One sample an hour for three days.
    _store(engine, sentry_id, 1, range(0, 3 * DAY, HOUR), 3 * DAY)
    _roll_all(engine, 3 * DAY + 60)
    report = _retain(engine, 3 * DAY + 60)
    assert not report.more
    # Cutoff: 3 days + 60 s - 48 h = 1 day + 60 s; the sample at 1 day is older.
    assert report.deleted["samples"] == 25
    assert _times(engine, samples)[0] == to_us(at(DAY + HOUR))
    # The rollups keep all of it.
    assert _count(engine, rollup_5m) == 72
    assert _count(engine, rollup_1d) == 3


def test_nothing_raw_goes_before_the_rollups_have_run(engine, sentry_id):
    _store(engine, sentry_id, 1, range(0, 3 * DAY, HOUR), 3 * DAY)
    report = _retain(engine, 10 * DAY)
    assert report.deleted.get("samples", 0) == 0
    assert _count(engine, samples) == 72


def test_a_backlog_or_a_late_batch_holds_raw_retention_back(engine, sentry_id):
    _store(engine, sentry_id, 1, range(0, DAY, HOUR), DAY)
    with engine.begin() as conn:  # only 10 of the buckets are done
        assert run_rollups(conn, at(DAY + 60), max_buckets=10).more
    report = _retain(engine, 10 * DAY)
    assert report.deleted.get("samples", 0) == 0
    _roll_all(engine, DAY + 60)
    # A late spool from 02:00 on day 1 arrives, not rolled up yet: its rows and all
    # newer ones stay; the older ones (00:00 and 01:00) may go.
    _store(engine, sentry_id, 2, range(2 * HOUR + 600, 2 * HOUR + 900, 60), 3 * DAY)
    report = _retain(engine, 10 * DAY)
    assert report.deleted["samples"] == 2
    _roll_all(engine, 3 * DAY + 60)
    _retain(engine, 10 * DAY)
    assert _count(engine, samples) == 0


def test_every_raw_table_is_trimmed(engine, sentry_id):
    _store(engine, sentry_id, 1, range(0, 3 * DAY, HOUR), 3 * DAY)
    _roll_all(engine, 3 * DAY + 60)
    old, new = to_us(at(HOUR)), to_us(at(3 * DAY - HOUR))
    with engine.begin() as conn:
        for ts in (old, new):
            conn.execute(insert(hashboard_samples).values(ts=ts, miner_id=1, idx=0, missing=False))
            conn.execute(insert(device_samples).values(ts=ts, miner_id=1, idx=0, kind="gpu"))
            conn.execute(insert(host_samples).values(ts=ts, host_id=1, gpus="[]"))
            conn.execute(
                insert(p2pool_samples).values(ts=ts, sentry_id=sentry_id, node="n", workers="[]")
            )
    _retain(engine, 3 * DAY + 60)
    for table in (hashboard_samples, device_samples, host_samples, p2pool_samples):
        assert _times(engine, table) == [new], table.name


def _rollup_rows(engine: Engine, miner_id: int, days: int) -> None:
    """One 5-minute, hourly and daily row (per miner and farm) per day for `days` days."""
    with engine.begin() as conn:
        for day in range(days):
            bucket = to_us(at(day * DAY))
            for table in (rollup_5m, rollup_1h, rollup_1d):
                conn.execute(
                    insert(table).values(miner_id=miner_id, bucket=bucket, samples=1, up_s=300.0)
                )
            for table in (fleet_rollup_5m, fleet_rollup_1h, fleet_rollup_1d):
                conn.execute(
                    insert(table).values(
                        scope="farm", bucket=bucket, miners=1, samples=1, up_s=300.0
                    )
                )


@pytest.fixture
def miner_id(engine, sentry_id) -> int:
    _store(engine, sentry_id, 1, range(0, 60, 60), 60)
    with engine.connect() as conn:
        return int(conn.execute(select(miners.c.id)).scalar_one())


def test_rollups_are_kept_30_days_2_years_and_forever(engine, miner_id):
    _rollup_rows(engine, miner_id, 800)
    _roll_all(engine, 800 * DAY)
    report = _retain(engine, 800 * DAY)
    assert not report.more
    # Now is day 800: 5-minute rows from day 770 on stay, hourly from day 70, daily all.
    assert _times(engine, rollup_5m, "bucket")[0] == to_us(at(770 * DAY))
    assert _times(engine, fleet_rollup_5m, "bucket")[0] == to_us(at(770 * DAY))
    assert _count(engine, rollup_5m) == 30
    assert _times(engine, rollup_1h, "bucket")[0] == to_us(at(70 * DAY))
    assert _count(engine, fleet_rollup_1h) == 730
    assert _count(engine, rollup_1d) == 800
    assert _count(engine, fleet_rollup_1d) == 800 + 1  # and day 0 of the fixture's site


def test_retention_is_configurable(engine, miner_id):
    _rollup_rows(engine, miner_id, 10)
    _roll_all(engine, 10 * DAY)
    policy = RetentionPolicy(raw_hours=1, days_5m=2, days_1h=3, days_1d=5)
    _retain(engine, 10 * DAY, policy)
    assert (_count(engine, rollup_5m), _count(engine, rollup_1h)) == (2, 3)
    assert (_count(engine, rollup_1d), _count(engine, fleet_rollup_1d)) == (5, 5)
    with pytest.raises(ValueError, match="positive"):
        RetentionPolicy(days_5m=0)


def test_raw_rows_go_in_bounded_chunks(engine, sentry_id):
    _store(engine, sentry_id, 1, range(0, 3 * DAY, 600), 3 * DAY)  # 432 samples
    _roll_all(engine, 3 * DAY + 60)
    # 145 samples are older than the cutoff (1 day + 60 s): 50 per statement, 2 per call.
    first = _retain(engine, 3 * DAY + 60, max_rows=50, max_statements=2)
    assert first.more and first.statements == 2
    assert first.deleted["samples"] == 100
    second = _retain(engine, 3 * DAY + 60, max_rows=50, max_statements=2)
    assert not second.more and second.deleted["samples"] == 45
    assert _count(engine, samples) == 432 - 145
