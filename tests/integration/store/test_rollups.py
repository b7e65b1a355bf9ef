"""Rollups on both databases: a worked example with hand-computed figures, incremental and
idempotent runs, late data, bounded chunks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch
from rigwatch.domain.models import EventKind
from rigwatch.store.auth import create_sentry
from rigwatch.store.ingest import write_batches
from rigwatch.store.rollups import coverage, mark_range, run_rollups
from rigwatch.store.tables import (
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    ingest_batches,
    miners,
    rollup_1d,
    rollup_1h,
    rollup_5m,
    rollup_pending,
    rollup_state,
    sites,
)
from rigwatch.store.timestamps import to_us
from tests.integration.store.store_helpers import at, event, reading

TH = 1e12
DAY = 86_400
ROLLUPS = (rollup_5m, rollup_1h, rollup_1d, fleet_rollup_5m, fleet_rollup_1h, fleet_rollup_1d)

# Miner A polls every 60 s; the poll at 420 s is missing (downtime) and its share counter
# resets between 360 s and 480 s (60 -> 5: a restart). (seconds, TH/s, accepted, temp)
MINER_A = (
    (0, 100, 0, 60.0),
    (60, 110, 10, 61.0),
    (120, 90, 20, 62.0),
    (180, 100, 30, 63.0),
    (240, 100, 40, 64.0),
    (300, 120, 50, 65.0),
    (360, 90, 60, 66.0),
    (480, 100, 5, 67.0),
    (540, 110, 15, 68.0),
)


def _us(seconds: float) -> int:
    return to_us(at(seconds))


def _store(engine: Engine, batch: Batch, now_s: float) -> None:
    """Write a batch received at `now_s` (the write path records its samples' range)."""
    times = [to_us(r.sample.ts) for r in batch.readings]
    with engine.begin() as conn:
        write_batches(conn, [batch], at(now_s))
        stored = conn.execute(
            select(ingest_batches.c.first_ts, ingest_batches.c.last_ts).where(
                ingest_batches.c.sentry_id == batch.sentry_id, ingest_batches.c.seq == batch.seq
            )
        ).one()
    assert tuple(stored) == (min(times), max(times))


def _roll(engine: Engine, now_s: float, **options: Any):
    with engine.begin() as conn:
        return run_rollups(conn, at(now_s), **options)


def _roll_all(engine: Engine, now_s: float, **options: Any) -> int:
    for calls in range(1, 1000):
        if not _roll(engine, now_s, **options).more:
            return calls
    raise AssertionError("rollups never finished")


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in ROLLUPS
        }


def _row(engine: Engine, table, **key: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        query = select(table).where(*(table.c[k] == v for k, v in key.items()))
        return dict(conn.execute(query).one()._mapping)


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _assert_row(found: dict[str, Any], **expected: Any) -> None:
    for name, value in expected.items():
        if isinstance(value, float):
            assert found[name] == pytest.approx(value, rel=1e-9), name
        else:
            assert found[name] == value, name


@pytest.fixture
def two_sites(engine: Engine, sentry_id: int) -> tuple[int, int, int, int]:
    """(sentry A, site A, sentry B, site B): rack-a on the default site, rack-b in 'west'."""
    with engine.begin() as conn:
        other, _token = create_sentry(conn, "rack-b", site="west")
        found: list[Any] = list(conn.execute(select(sites.c.name, sites.c.id)))
        ids = {str(name): int(id_) for name, id_ in found}
    return sentry_id, ids["default"], other, ids["west"]


def _worked_example(engine: Engine, two_sites: tuple[int, int, int, int]) -> None:
    sentry_a, _site_a, sentry_b, _site_b = two_sites
    a = tuple(
        reading("A", s, hashrate=h * TH, accepted=acc, temp=temp) for s, h, acc, temp in MINER_A
    )
    # Miner B: every 60 s for 10 minutes, 50 TH/s steady (55 expected), no share counters.
    b = tuple(
        reading("B", s, hashrate=50 * TH, expected=55 * TH, temp=50.0) for s in range(0, 600, 60)
    )
    _store(engine, Batch(sentry_id=sentry_a, seq=1, readings=a), 3600)
    _store(engine, Batch(sentry_id=sentry_b, seq=1, readings=b), 3600)


def _miner_id(engine: Engine, key: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(miners.c.id).where(miners.c.key == key)).scalar_one())


def test_worked_example_gives_the_hand_computed_rows_at_every_resolution(engine, two_sites):
    _worked_example(engine, two_sites)
    report = _roll(engine, 3700)
    assert not report.more
    _sentry_a, site_a, _sentry_b, site_b = two_sites
    a, b = _miner_id(engine, "A"), _miner_id(engine, "B")
    b0, b1 = _us(0), _us(300)

    # Miner A, 00:00-00:05: five polls 60 s apart, all up. Its first sample has no
    # delta (nothing before it), then 4 x 10 accepted.
    _assert_row(
        _row(engine, rollup_5m, miner_id=a, bucket=b0),
        samples=5,
        up_s=300.0,
        hashrate_min=90 * TH,
        hashrate_mean=100 * TH,
        hashrate_max=110 * TH,
        expected_mean=100 * TH,
        temp_min=60.0,
        temp_mean=62.0,
        temp_max=64.0,
        power_min=3000.0,
        power_mean=3000.0,
        power_max=3000.0,
        accepted=40,
        rejected=0,
        stale=0,
    )
    # 00:05-00:10: the poll at 07:00 is missing. The typical gap is 60 s, so the sample
    # at 06:00 (next one 120 s later, more than 1.5 x 60) vouches for 60 s only, as does
    # the newest at 09:00: up 4 x 60 = 240 s. The mean is over the 4 samples, not diluted:
    # (120 + 90 + 100 + 110) / 4 = 105. Shares: 10 + 10 + 5 (reset: the new count) + 10.
    _assert_row(
        _row(engine, rollup_5m, miner_id=a, bucket=b1),
        samples=4,
        up_s=240.0,
        hashrate_min=90 * TH,
        hashrate_mean=105 * TH,
        hashrate_max=120 * TH,
        temp_min=65.0,
        temp_mean=66.5,
        temp_max=68.0,
        accepted=35,
    )
    _assert_row(
        _row(engine, rollup_5m, miner_id=b, bucket=b1),
        samples=5,
        up_s=300.0,
        hashrate_mean=50 * TH,
        expected_mean=55 * TH,
        accepted=None,
    )
    # The hour and the day: sums, extremes, means weighted by samples:
    # (5 x 100 + 4 x 105) / 9 = 102.22 TH/s; (5 x 62 + 4 x 66.5) / 9 = 64 °C.
    for table in (rollup_1h, rollup_1d):
        _assert_row(
            _row(engine, table, miner_id=a, bucket=b0),
            samples=9,
            up_s=540.0,
            hashrate_min=90 * TH,
            hashrate_mean=920 / 9 * TH,
            hashrate_max=120 * TH,
            temp_mean=64.0,
            temp_max=68.0,
            accepted=75,
            rejected=0,
        )
        _assert_row(
            _row(engine, table, miner_id=b, bucket=b0), samples=10, up_s=600.0, accepted=None
        )
    # Farm, 5 minutes: sums over the two miners of their means; temp the mean of means.
    _assert_row(
        _row(engine, fleet_rollup_5m, scope="farm", bucket=b0),
        miners=2,
        samples=10,
        up_s=600.0,
        hashrate_mean=150 * TH,
        hashrate_min=150 * TH,
        hashrate_max=150 * TH,
        expected_mean=155 * TH,
        power_mean=6000.0,
        temp_mean=56.0,
        temp_max=64.0,
        accepted=40,
    )
    _assert_row(
        _row(engine, fleet_rollup_5m, scope="farm", bucket=b1),
        miners=2,
        samples=9,
        up_s=540.0,
        hashrate_mean=155 * TH,
        temp_mean=58.25,
        temp_max=68.0,
        accepted=35,
    )
    # Farm, hour and day: mean of the 5-minute farm totals (150, 155), their extremes.
    for table in (fleet_rollup_1h, fleet_rollup_1d):
        _assert_row(
            _row(engine, table, scope="farm", bucket=b0),
            miners=2,
            samples=19,
            up_s=1140.0,
            hashrate_mean=152.5 * TH,
            hashrate_min=150 * TH,
            hashrate_max=155 * TH,
            expected_mean=155 * TH,
            power_mean=6000.0,
            temp_mean=57.125,
            temp_max=68.0,
            accepted=75,
            rejected=0,
        )
    # Each site holds its own miner only.
    _assert_row(
        _row(engine, fleet_rollup_5m, scope=f"site:{site_a}", bucket=b1),
        miners=1,
        samples=4,
        up_s=240.0,
        hashrate_mean=105 * TH,
        accepted=35,
    )
    _assert_row(
        _row(engine, fleet_rollup_1h, scope=f"site:{site_b}", bucket=b0),
        miners=1,
        samples=10,
        hashrate_mean=50 * TH,
        accepted=None,
    )
    assert _count(engine, rollup_5m) == 4
    assert _count(engine, fleet_rollup_5m) == 6  # farm + 2 sites, 2 buckets
    assert _count(engine, fleet_rollup_1d) == 3


def test_a_second_run_without_new_batches_touches_nothing(engine, two_sites):
    _worked_example(engine, two_sites)
    _roll(engine, 3700)
    before = _snapshot(engine)
    report = _roll(engine, 7200)
    assert (report.batches, report.marked, report.rows, report.more) == (0, 0, 0, False)
    assert (report.buckets_5m, report.buckets_1h, report.buckets_1d) == (0, 0, 0)
    assert _snapshot(engine) == before


def test_new_batches_recompute_only_the_buckets_they_touch(engine, two_sites):
    _worked_example(engine, two_sites)
    _roll(engine, 3700)
    sentry_a = two_sites[0]
    later = Batch(sentry_id=sentry_a, seq=2, readings=(reading("A", 1800, hashrate=80 * TH),))
    _store(engine, later, 3800)
    report = _roll(engine, 3900)
    # The sample's bucket and two neighbours each side; one hour; one day.
    assert (report.batches, report.marked) == (1, 5)
    assert (report.buckets_5m, report.buckets_1h, report.buckets_1d) == (5, 1, 1)
    a = _miner_id(engine, "A")
    _assert_row(
        _row(engine, rollup_5m, miner_id=a, bucket=_us(1800)), samples=1, hashrate_mean=80 * TH
    )
    _assert_row(_row(engine, rollup_1h, miner_id=a, bucket=_us(0)), samples=10)


def test_rerunning_after_deleting_the_watermark_gives_identical_rows(engine, two_sites):
    _worked_example(engine, two_sites)
    _roll(engine, 3700)
    before = _snapshot(engine)
    with engine.begin() as conn:
        conn.execute(delete(rollup_state))
    report = _roll(engine, 3800)
    assert report.buckets_5m > 0
    assert _snapshot(engine) == before


def test_late_samples_for_an_earlier_day_fix_that_day(engine, two_sites):
    sentry_a = two_sites[0]
    day2 = tuple(reading("A", DAY + s, hashrate=100 * TH) for s in range(0, 600, 60))
    _store(engine, Batch(sentry_id=sentry_a, seq=1, readings=day2), DAY + 3600)
    _roll(engine, DAY + 3700)
    before = _snapshot(engine)
    assert _count(engine, rollup_1d) == 1

    # A spool replayed a day late: yesterday's samples arrive after today's.
    day1 = tuple(reading("A", s, hashrate=90 * TH) for s in range(0, 600, 60))
    _store(engine, Batch(sentry_id=sentry_a, seq=2, readings=day1), DAY + 7200)
    report = _roll(engine, DAY + 7300)
    # Day 1, and the (empty) day before it: 00:00's neighbours reach back into it.
    assert report.buckets_1d == 2
    a = _miner_id(engine, "A")
    _assert_row(
        _row(engine, rollup_1d, miner_id=a, bucket=_us(0)),
        samples=10,
        up_s=600.0,
        hashrate_mean=90 * TH,
    )
    _assert_row(
        _row(engine, fleet_rollup_1d, scope="farm", bucket=_us(0)),
        miners=1,
        samples=10,
        hashrate_mean=90 * TH,
    )
    after = _snapshot(engine)
    for name, rows in before.items():
        assert set(rows) <= set(after[name]), f"{name}: today's rows changed"


def test_a_batch_without_a_time_range_falls_back_to_the_window_before_it_arrived(engine, sentry_id):
    first = tuple(reading("A", s) for s in range(0, 300, 60))
    _store(engine, Batch(sentry_id=sentry_id, seq=1, readings=first), 600)
    _roll(engine, 700)
    late = tuple(reading("A", s) for s in range(3600, 3900, 60))
    with engine.begin() as conn:
        write_batches(conn, [Batch(sentry_id=sentry_id, seq=2, readings=late)], at(7200))
        # No first_ts / last_ts, as in batches stored before migration 0003.
        conn.execute(
            update(ingest_batches)
            .where(ingest_batches.c.seq == 2)
            .values(first_ts=None, last_ts=None)
        )
    report = _roll(engine, 7300, fallback_s=6 * 3600)
    assert report.batches == 1
    # From 6 hours before arrival to its bucket (73 buckets), with 2 neighbours each side.
    assert report.marked == 73 + 4
    _roll_all(engine, 7300)
    a = _miner_id(engine, "A")
    _assert_row(_row(engine, rollup_5m, miner_id=a, bucket=_us(3600)), samples=5, up_s=300.0)


def test_work_is_done_in_bounded_chunks_with_the_same_result(engine, sentry_id, db_url):
    # Two hours of one miner polled every 30 s: 24 five-minute buckets.
    readings = tuple(reading("A", s, hashrate=100 * TH) for s in range(0, 7200, 30))
    _store(engine, Batch(sentry_id=sentry_id, seq=1, readings=readings), 7300)
    first = _roll(engine, 7400, max_buckets=5)
    # The first five buckets are the two empty neighbours before 00:00 and 00:00-00:15;
    # hour 00:00 waits until all of its 5-minute buckets are done.
    assert first.more and first.buckets_5m == 5
    assert _count(engine, rollup_5m) == 3 and _count(engine, rollup_1h) == 0
    calls = _roll_all(engine, 7400, max_buckets=5)
    assert calls >= 4
    assert _count(engine, rollup_pending) == 0
    assert _count(engine, rollup_5m) == 24
    a = _miner_id(engine, "A")
    _assert_row(
        _row(engine, rollup_1h, miner_id=a, bucket=_us(3600)),
        samples=120,
        up_s=3600.0,
        hashrate_mean=100 * TH,
    )
    # The newest sample (01:59:30) vouches for one typical gap: the day is fully covered.
    _assert_row(_row(engine, rollup_1d, miner_id=a, bucket=_us(0)), samples=240, up_s=7200.0)


def test_mark_range_recomputes_a_backfill(engine, sentry_id):
    readings = tuple(reading("A", s) for s in range(0, 600, 60))
    _store(engine, Batch(sentry_id=sentry_id, seq=1, readings=readings), 700)
    _roll(engine, 800)
    before = _snapshot(engine)
    with engine.begin() as conn:
        for table in ROLLUPS:
            conn.execute(delete(table))
        assert mark_range(conn, _us(0), _us(599)) == 6  # 2 buckets + 2 neighbours each side
    _roll_all(engine, 900)
    assert _snapshot(engine) == before


def test_jittered_polls_are_full_uptime_and_an_outage_is_not():
    # Polls every 30 s +- 5 s from 05:00 for 5 minutes, silence, the same again at 20:00.
    jitter = (0, 4, -5, 3, -2, 5, -4, 1, -3, 2)
    block = [300 + 30 * i + j for i, j in enumerate(jitter)]
    times = [_us(s) for s in (*block, *(s + 900 for s in block))]
    up = coverage(times, _us(0), _us(1800))
    # Gaps 34, 21, 38, 25, 37, 21, 35, 26, 35 s and the silence (counted as 300 s): typical
    # gap 34.5 s, so every jittered gap is covered (<= 1.5 x 34.5), and the last poll
    # (09:32) vouches for 34.5 s: 272 + 28 = 300 s up; 6.5 s spill into 10:00-15:00.
    assert up[_us(300)] == pytest.approx(300e6)
    assert up[_us(600)] == pytest.approx(6.5e6)
    assert _us(900) not in up
    assert up[_us(1200)] == pytest.approx(300e6)


def test_a_batch_without_samples_marks_nothing_to_roll_up(engine, sentry_id):
    _store(engine, Batch(sentry_id=sentry_id, seq=1, readings=(reading("A", 0),)), 60)
    _roll_all(engine, 120)
    events_only = Batch(
        sentry_id=sentry_id, seq=2, events=(event(EventKind.SHARE_FOUND, "share-1", 100),)
    )
    with engine.begin() as conn:
        write_batches(conn, [events_only], at(200))
    report = _roll(engine, 300)
    assert (report.batches, report.marked) == (0, 0)
