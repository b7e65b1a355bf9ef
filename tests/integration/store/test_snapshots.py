"""Daily snapshots on both databases, built from rollup rows written here by hand (every
figure below is recomputed in a comment) and events stored through the write path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.event import listen, remove

from rigwatch.domain.history import ModelCount, SnapshotSource
from rigwatch.domain.models import Event, EventKind
from rigwatch.store import snapshots as snaps
from rigwatch.store.ingest import write_batches
from rigwatch.store.rollups import run_rollups
from rigwatch.store.tables import fleet_rollup_1d, metadata, miners, snapshots
from rigwatch.store.timestamps import to_us
from tests.integration.store.conftest import BatchFactory
from tests.integration.store.store_helpers import T0, reading

D0 = T0  # 2025-01-01 00:00 UTC: `reading(key, seconds)` is `seconds` into DAY
DAY = D0.date()
AFTER = D0 + timedelta(days=1, minutes=10)  # 00:10 the next day
TH = 1e12


def us(ts: datetime) -> int:
    return to_us(ts)


def fleet(conn: Connection, res: str, bucket: datetime, **fields: Any) -> None:
    """One farm row of `fleet_rollup_<res>`; figures default to None / zero."""
    row: dict[str, Any] = {
        "scope": "farm",
        "bucket": us(bucket),
        "miners": 3,
        "samples": 0,
        "up_s": 0,
        "hashrate_mean": None,
        "hashrate_min": None,
        "hashrate_max": None,
        "expected_mean": None,
        "power_mean": None,
        "temp_mean": None,
        "temp_max": None,
        "accepted": 0,
        "rejected": 0,
        "stale": 0,
    }
    row.update(fields)
    conn.execute(metadata.tables[f"fleet_rollup_{res}"].insert().values(**row))


def per_miner(conn: Connection, res: str, miner_id: int, bucket: datetime, **fields: Any) -> None:
    row: dict[str, Any] = {"miner_id": miner_id, "bucket": us(bucket), "samples": 0, "up_s": 0}
    for name in ("hashrate", "temp", "power"):
        for stat in ("min", "mean", "max"):
            row[f"{name}_{stat}"] = None
    row.update(expected_mean=None, accepted=0, rejected=0, stale=0)
    row.update(fields)
    conn.execute(metadata.tables[f"rollup_{res}"].insert().values(**row))


def payout(key: str, ts: datetime, atomic: int, coin: str = "XMR") -> Event:
    return Event(
        ts=ts,
        kind=EventKind.PAYOUT,
        key=key,
        message="payout",
        data={"coin": coin, "amount_atomic": atomic},
    )


@pytest.fixture
def farm(engine: Engine, make_batch: BatchFactory) -> dict[str, int]:
    """Miners m1, m2 (S19 Pro) and m3 (S21) first seen on DAY; m4 only the day after.
    DAY's events: 2 shares, 1 block, payouts of 1.5 and 0.25 XMR; one more payout the
    next day that DAY must not count."""
    t = D0 + timedelta(hours=1)
    events = (
        Event(ts=t, kind=EventKind.SHARE_FOUND, key="s1", message="share"),
        Event(ts=t + timedelta(hours=2), kind=EventKind.SHARE_FOUND, key="s2", message="share"),
        Event(ts=t + timedelta(hours=3), kind=EventKind.BLOCK_FOUND, key="b1", message="block"),
        payout("p1", t + timedelta(hours=4), 1_500_000_000_000),
        payout("p2", t + timedelta(hours=5), 250_000_000_000),
        payout("p3", D0 + timedelta(days=1, hours=1), 9_000_000_000_000),
    )
    readings = tuple(
        reading(key, 3600, model=model)
        for key, model in (("m1", "S19 Pro"), ("m2", "S19 Pro"), ("m3", "S21"))
    )
    with engine.begin() as conn:
        write_batches(conn, [make_batch(1, readings, events)], D0 + timedelta(hours=6))
        ids = {r.key: r.id for r in conn.execute(select(miners.c.key, miners.c.id))}
        for key in ids:
            conn.execute(update(miners).where(miners.c.key == key).values(first_seen=us(D0)))
        later = reading("m4", 0, model="S21")
        write_batches(conn, [make_batch(2, (later,))], D0 + timedelta(days=1))
        m4: int = conn.execute(select(miners.c.id).where(miners.c.key == "m4")).scalar_one()
        conn.execute(
            update(miners)
            .where(miners.c.id == m4)
            .values(first_seen=us(D0 + timedelta(days=1, hours=2)))
        )
        ids["m4"] = m4
    return ids


def day_rollups(conn: Connection, ids: dict[str, int]) -> None:
    """DAY at 1-day resolution: 300 TH/s of 330 expected, 9 kW, 2.5 miners' worth of
    uptime; m1 healthy all day at 3,250 W, m2 up half the day at 3,000 W and at 80/110 =
    73 % of expected (warning), m3 silent."""
    fleet(
        conn,
        "1d",
        D0,
        samples=432,
        up_s=216_000,  # 2.5 x 86,400
        hashrate_mean=300 * TH,
        expected_mean=330 * TH,
        power_mean=9000.0,
        accepted=5000,
        rejected=50,
    )
    per_miner(
        conn,
        "1d",
        ids["m1"],
        D0,
        samples=288,
        up_s=86_400,
        hashrate_mean=110 * TH,
        expected_mean=110 * TH,
        power_mean=3250.0,
    )
    per_miner(
        conn,
        "1d",
        ids["m2"],
        D0,
        samples=144,
        up_s=43_200,
        hashrate_mean=80 * TH,
        expected_mean=110 * TH,
        power_mean=3000.0,
    )


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        remove(engine, "before_cursor_execute", count)


def stored_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(snapshots)).scalar_one())


# --- building -------------------------------------------------------------------------


def test_a_past_days_snapshot_comes_from_the_day_rollup_and_the_events(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        snap = snaps.take_snapshot(conn, DAY, AFTER)

    assert snap.source is SnapshotSource.DAY
    assert snap.partial is False
    assert snap.hashrate_mean_hs == pytest.approx(300 * TH)
    assert snap.expected_mean_hs == pytest.approx(330 * TH)
    assert snap.power_mean_w == pytest.approx(9000.0)
    # each miner's power while up: 3,250 W x 86,400 s + 3,000 W x 43,200 s
    # = 280,800,000 + 129,600,000 = 410,400,000 J = 114 kWh
    assert snap.energy_kwh == pytest.approx(114.0)
    # 9,000 W / 300 TH/s = 30 J/TH
    assert snap.efficiency_j_th == pytest.approx(30.0)
    # 216,000 up-seconds / (3 miners x 86,400 s) = 83.33 %
    assert snap.uptime_pct == pytest.approx(83.333333, rel=1e-6)
    # m4 was first seen the next day: 3 miners; m1 online, m2 warning, m3 offline
    assert (snap.miners_total, snap.miners_online, snap.miners_warning) == (3, 1, 1)
    assert snap.miners_offline == 1
    assert (snap.accepted, snap.rejected) == (5000, 50)
    assert (snap.shares_found, snap.blocks_found) == (2, 1)
    # 1,500,000,000,000 + 250,000,000,000 = 1,750,000,000,000 atomic (1.75 XMR); the
    # next day's 9 XMR is not DAY's
    assert dict(snap.payouts) == {"XMR": 1_750_000_000_000}
    assert snap.by_model == (
        ModelCount(model="S19 Pro", miners=2, reporting=2, hashrate_mean_hs=190 * TH),
        ModelCount(model="S21", miners=1, reporting=0, hashrate_mean_hs=None),
    )
    assert snap.revenue is None


def test_without_a_day_row_the_snapshot_sums_hourly_then_5_minute_rows(engine, farm):
    with engine.begin() as conn:
        for hour, hashrate, power in ((0, 100, 3000.0), (1, 200, 5000.0)):
            fleet(
                conn,
                "1h",
                D0 + timedelta(hours=hour),
                up_s=3 * 3600,
                hashrate_mean=hashrate * TH,
                expected_mean=330 * TH,
                power_mean=power,
                accepted=100,
            )
        # a 5-minute row inside an hour already counted must not count twice
        fleet(conn, "5m", D0 + timedelta(minutes=90), hashrate_mean=999 * TH, accepted=999)
        for minute in (120, 125):
            fleet(
                conn,
                "5m",
                D0 + timedelta(minutes=minute),
                up_s=3 * 300,
                hashrate_mean=300 * TH,
                expected_mean=330 * TH,
                power_mean=6000.0,
                accepted=10,
            )
        for hour, up_s in ((0, 3600), (1, 1800)):
            per_miner(
                conn,
                "1h",
                farm["m1"],
                D0 + timedelta(hours=hour),
                samples=60,
                up_s=up_s,
                hashrate_mean=100 * TH,
                power_mean=3000.0,
            )
        snap = snaps.take_snapshot(conn, DAY, AFTER)

    assert snap.source is SnapshotSource.HOUR
    # (100 x 3,600 + 200 x 3,600 + 300 x 300 + 300 x 300) / (3,600 + 3,600 + 300 + 300)
    # = 1,260,000 / 7,800 = 161.538 TH/s
    assert snap.hashrate_mean_hs == pytest.approx(161.538461 * TH, rel=1e-6)
    # (3,000 x 3,600 + 5,000 x 3,600 + 6,000 x 600) / 7,800 = 32,400,000 / 7,800
    # = 4,153.85 W
    assert snap.power_mean_w == pytest.approx(4153.846153, rel=1e-6)
    # energy from the per-miner hourly rows: m1 at 3,000 W for 3,600 + 1,800 s up
    # = 16,200,000 J = 4.5 kWh
    assert snap.energy_kwh == pytest.approx(4.5)
    # up: 3 x 3,600 x 2 + 3 x 300 x 2 = 23,400 s of 3 miners x 86,400 s = 9.027778 %
    assert snap.uptime_pct == pytest.approx(9.027778, rel=1e-6)
    assert snap.accepted == 220  # 100 + 100 + 10 + 10
    # per-miner from the hourly rows: only m1 reported
    assert (snap.miners_online, snap.miners_offline) == (1, 2)


def test_a_day_without_rollups_keeps_its_figures_unknown_and_partial(engine, farm):
    with engine.begin() as conn:
        snap = snaps.take_snapshot(conn, DAY, AFTER)
    assert snap.source is SnapshotSource.NONE
    assert snap.partial is True
    assert snap.hashrate_mean_hs is None
    assert snap.energy_kwh is None
    assert snap.uptime_pct is None
    assert snap.accepted is None
    # events still count: they are not rollups
    assert snap.shares_found == 2
    assert (snap.miners_total, snap.miners_offline) == (3, 3)


def test_todays_snapshot_is_in_progress_with_the_live_status_counts(engine, farm, make_batch):
    now = D0 + timedelta(hours=6, minutes=1)
    with engine.begin() as conn:
        # m1 and m2 reported a minute ago (m2 too hot: warning); m3 last at 01:00
        fresh = (
            reading("m1", 6 * 3600, model="S19 Pro"),
            reading("m2", 6 * 3600, model="S19 Pro", temp=99.0),
        )
        write_batches(conn, [make_batch(3, fresh)], now)
        snap = snaps.take_snapshot(conn, DAY, now)
    assert snap.partial is True
    # no rollup yet today: the live farm totals stand in
    assert snap.source is SnapshotSource.LIVE
    assert (snap.miners_total, snap.miners_online, snap.miners_warning) == (4, 1, 1)
    assert snap.miners_offline == 2
    # 2 miners x 100 TH/s live, 2 x 3,000 W
    assert snap.hashrate_mean_hs == pytest.approx(200 * TH)
    assert snap.power_mean_w == pytest.approx(6000.0)
    # 2 of 4 miners reporting: 50 %
    assert snap.uptime_pct == pytest.approx(50.0)


def test_a_day_not_yet_begun_is_refused(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="not begun"):
        snaps.take_snapshot(conn, DAY + timedelta(days=2), AFTER)


# --- storing --------------------------------------------------------------------------


def test_taking_a_snapshot_again_replaces_it_and_keeps_a_known_revenue(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        first = snaps.take_snapshot(conn, DAY, AFTER)
        table = snapshots
        conn.execute(
            update(table).where(table.c.day == DAY.isoformat()).values(revenue='{"USD": 123.45}')
        )
        # a late replay raised the day's mean: the retake picks it up
        conn.execute(update(fleet_rollup_1d).values(hashrate_mean=330 * TH))
        again = snaps.take_snapshot(conn, DAY, AFTER + timedelta(hours=1))

    assert stored_rows(engine) == 1
    assert first.hashrate_mean_hs == pytest.approx(300 * TH)
    assert again.hashrate_mean_hs == pytest.approx(330 * TH)
    assert again.taken_at == AFTER + timedelta(hours=1)
    assert again.revenue == {"USD": 123.45}
    with engine.connect() as conn:
        assert snaps.get_snapshot(conn, DAY) == again


def test_snapshots_read_back_exactly_by_day_range_and_newest_first(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        taken = [snaps.take_snapshot(conn, DAY - timedelta(days=back), AFTER) for back in (2, 1, 0)]
    with engine.connect() as conn:
        assert snaps.get_snapshot(conn, DAY) == taken[2]
        assert snaps.get_snapshot(conn, DAY + timedelta(days=5)) is None
        assert [s.day for s in snaps.list_snapshots(conn, 2)] == [DAY, DAY - timedelta(days=1)]
        span = snaps.snapshot_range(conn, DAY - timedelta(days=1), DAY)
        assert [s.day for s in span] == [DAY - timedelta(days=1), DAY]


def test_payouts_beyond_64_bits_stay_exact(engine, farm):
    huge = 2**70 + 1
    with engine.begin() as conn:
        snap = snaps.build_snapshot(conn, DAY, AFTER)
        snaps.store_snapshot(conn, type(snap)(**{**_fields(snap), "payouts": {"ETC": huge}}))
    with engine.connect() as conn:
        stored = snaps.get_snapshot(conn, DAY)
    assert stored is not None
    assert stored.payouts == {"ETC": huge}


def _fields(snap: Any) -> dict[str, Any]:
    return {name: getattr(snap, name) for name in snap.__slots__}


# --- missing days, backfill, the job --------------------------------------------------


def test_missing_days_are_those_without_a_complete_snapshot(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        snaps.take_snapshot(conn, DAY, AFTER)  # complete
        snaps.take_snapshot(conn, DAY - timedelta(days=1), AFTER)  # no rollups: partial
        wanted = [DAY - timedelta(days=i) for i in range(3)]
        assert snaps.missing_days(conn, wanted) == [
            DAY - timedelta(days=2),
            DAY - timedelta(days=1),
        ]
        assert snaps.missing_days(conn, []) == []


def test_backfill_rebuilds_missing_days_from_rollups_and_skips_days_without(engine, farm):
    now = D0 + timedelta(days=3, hours=12)  # Jan 4: backfill Jan 1, 2, 3
    jan2, jan3 = DAY + timedelta(days=1), DAY + timedelta(days=2)
    with engine.begin() as conn:
        day_rollups(conn, farm)  # Jan 1
        fleet(conn, "1h", D0 + timedelta(days=2, hours=5), hashrate_mean=50 * TH)  # Jan 3
        done = snaps.take_snapshot(conn, DAY, AFTER)
        result = snaps.backfill(conn, 3, now)
        # Jan 1 was complete: untouched; Jan 2 has no rollups: skipped
        assert result == snaps.BackfillResult(taken=(jan3,), skipped=(jan2,))
        assert snaps.get_snapshot(conn, DAY) == done
        rebuilt = snaps.get_snapshot(conn, jan3)
        assert rebuilt is not None
        assert rebuilt.hashrate_mean_hs == pytest.approx(50 * TH)
        assert rebuilt.partial is False
        assert snaps.get_snapshot(conn, jan2) is None
        with pytest.raises(ValueError):
            snaps.backfill(conn, 0, now)


def test_the_job_waits_until_00_05_and_then_takes_the_day_just_ended(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
    early = D0 + timedelta(days=1, minutes=4, seconds=59)
    with engine.begin() as conn:
        assert snaps.snapshot_job(conn, early) == []
    assert stored_rows(engine) == 0
    on_time = D0 + timedelta(days=1, minutes=5)
    with engine.begin() as conn:
        assert snaps.snapshot_job(conn, on_time) == [DAY]
        snap = snaps.get_snapshot(conn, DAY)
    assert snap is not None
    assert snap.hashrate_mean_hs == pytest.approx(300 * TH)


def test_the_job_is_one_cheap_read_when_nothing_is_missing(engine, farm):
    now = D0 + timedelta(days=1, minutes=35)
    with engine.begin() as conn:
        day_rollups(conn, farm)
        for back in range(7):
            snaps.take_snapshot(conn, DAY - timedelta(days=back), now)
    with counting(engine) as statements, engine.begin() as conn:
        assert snaps.snapshot_job(conn, now) == []
    reads = [s for s in statements if "snapshots" in s or "rollup" in s]
    assert len(reads) == 1


def test_the_job_retakes_a_snapshot_taken_before_its_day_ended(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        midday = snaps.take_snapshot(conn, DAY, D0 + timedelta(hours=12))
    assert midday.partial is True
    with engine.begin() as conn:
        assert snaps.snapshot_job(conn, AFTER) == [DAY]
        assert snaps.snapshot_job(conn, AFTER + timedelta(minutes=30)) == []
        final = snaps.get_snapshot(conn, DAY)
    assert final is not None
    assert final.partial is False


def test_the_job_fills_a_day_of_the_last_week_that_never_got_one(engine, farm):
    now = D0 + timedelta(days=3, minutes=10)  # Jan 4 00:10: yesterday is Jan 3
    with engine.begin() as conn:
        day_rollups(conn, farm)  # Jan 1 has rollups, Jan 2 and 3 none
        taken = snaps.snapshot_job(conn, now)
    # Jan 3 is taken (partial, no data, so retried on later runs); Jan 1 is filled from
    # its rollups; Jan 2 has nothing to build from and is left to the backfill
    assert taken == [DAY, DAY + timedelta(days=2)]


# --- through the real rollup job ------------------------------------------------------


def test_a_snapshot_of_samples_rolled_up_by_the_rollup_job(engine, make_batch):
    """m1 at 100 TH/s polled every minute 00:00-01:59, m2 at 50 TH/s 00:00-00:59, both
    3,000 W: the farm total is 150 TH/s in the first hour and 100 in the second."""
    batches = [
        make_batch(
            minute + 1,
            tuple(
                reading(key, minute * 60, hashrate=hashrate * TH, expected=hashrate * TH)
                for key, hashrate, until in (("m1", 100, 120), ("m2", 50, 60))
                if minute < until
            ),
        )
        for minute in range(120)
    ]
    with engine.begin() as conn:
        write_batches(conn, batches, D0 + timedelta(hours=2))
    with engine.begin() as conn:
        while run_rollups(conn, AFTER).more:
            pass
    with engine.begin() as conn:
        snap = snaps.take_snapshot(conn, DAY, AFTER)

    assert snap.source is SnapshotSource.DAY
    # the day is the mean of the hours present: (150 + 100) / 2 = 125 TH/s
    assert snap.hashrate_mean_hs == pytest.approx(125 * TH)
    assert snap.expected_mean_hs == pytest.approx(125 * TH)
    # up: m1 120 minutes + m2 60 minutes = 10,800 s of 2 miners x 86,400 s = 6.25 %
    assert snap.uptime_pct == pytest.approx(6.25, rel=0.02)
    # energy: 3,000 W x 7,200 s + 3,000 W x 3,600 s = 32,400,000 J = 9 kWh
    assert snap.energy_kwh == pytest.approx(9.0, rel=0.02)
    # both reported at their expected hashrate: online
    assert (snap.miners_total, snap.miners_online, snap.miners_offline) == (2, 2, 0)
    assert snap.partial is False


def test_the_job_waits_for_the_rollup_job_to_reach_the_end_of_the_day(engine, make_batch):
    with engine.begin() as conn:
        write_batches(conn, [make_batch(1, (reading("m1", 3600),))], D0 + timedelta(hours=1))
    with engine.begin() as conn:
        # the rollup job last ran at 02:00 on DAY and has not run since
        while run_rollups(conn, D0 + timedelta(hours=2)).more:
            pass
    with engine.begin() as conn:
        assert snaps.snapshot_job(conn, AFTER) == []
    assert stored_rows(engine) == 0
    with engine.begin() as conn:
        while run_rollups(conn, AFTER).more:
            pass
    with engine.begin() as conn:
        assert snaps.snapshot_job(conn, AFTER + timedelta(minutes=1)) == [DAY]
