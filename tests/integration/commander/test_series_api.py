"""GET /api/v1/series through a real commander on both databases: the resolution it
reads, the points bound, gaps as null, the metrics, and bad requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch
from rigwatch.store.auth import create_sentry
from rigwatch.store.ingest import write_batches
from rigwatch.store.rollups import run_rollups
from rigwatch.store.tables import (
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    miners,
    rollup_5m,
)
from rigwatch.store.timestamps import to_us
from tests.helpers import RunningCommander, running_commander
from tests.integration.store.store_helpers import T0, at, reading

TH = 1e12
HOUR_US = 3_600_000_000


@pytest.fixture
def commander(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A real commander without scheduled jobs: the tests write the rollups themselves."""
    with running_commander(tmp_path / "data", jobs=[], database_url=db_url) as rc:
        yield rc


def _iso(when: datetime) -> str:
    return when.isoformat()


def _fleet(engine: Engine, table, buckets: list[int], **figures: Any) -> None:
    rows = [
        {"scope": "farm", "bucket": b, "miners": 2, "samples": 20, "up_s": 0.0} | figures
        for b in buckets
    ]
    for row in rows:
        row.update({k: v(row["bucket"]) for k, v in figures.items() if callable(v)})
    with engine.begin() as conn:
        conn.execute(insert(table), rows)


def _hours(n: int, skip: range = range(0)) -> list[int]:
    start = to_us(T0)
    return [start + i * HOUR_US for i in range(n) if i not in skip]


def _get(client, **params: Any):
    return client.get("/api/v1/series", params=params)


def test_a_30_day_farm_chart_reads_hourly_rows_with_gaps_as_null(viewer, commander):
    # 30 days of hourly farm rows, day 10 missing; 100 and 110 TH/s in turn.
    _fleet(
        commander.engine,
        fleet_rollup_1h,
        _hours(30 * 24, skip=range(240, 264)),
        up_s=2 * 3600 * 0.9,
        expected_mean=120 * TH,
        hashrate_mean=lambda b: (100 + 10 * ((b // HOUR_US) % 2)) * TH,
        hashrate_min=lambda b: (95 + 10 * ((b // HOUR_US) % 2)) * TH,
        hashrate_max=lambda b: (105 + 10 * ((b // HOUR_US) % 2)) * TH,
    )
    r = _get(
        viewer, scope="farm", metric="hashrate", **{"from": _iso(T0), "to": _iso(at(30 * 86400))}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolution"] == "1h"
    assert body["step_s"] == 7200  # 720 hours in at most 500 points: two per point
    points = body["points"]
    assert len(points) == 361 <= 500
    first = points[0]
    assert datetime.fromisoformat(first["t"]) == T0
    assert first["value"] == pytest.approx(105 * TH)
    assert (first["min"], first["max"]) == (pytest.approx(95 * TH), pytest.approx(115 * TH))
    assert first["expected"] == pytest.approx(120 * TH)
    assert first["up"] == pytest.approx(0.9)
    # Day 10 is a gap: twelve null points, not zeros.
    day10 = points[120:132]
    assert all(p["value"] is None and p["up"] is None for p in day10)
    assert points[119]["value"] is not None and points[132]["value"] is not None


def test_a_year_reads_daily_rows_and_a_day_five_minute_rows(viewer, commander):
    days = [to_us(T0) + i * 24 * HOUR_US for i in range(365)]
    _fleet(commander.engine, fleet_rollup_1d, days, hashrate_mean=200 * TH, up_s=1.0)
    five = [to_us(T0) + i * 300_000_000 for i in range(288)]
    _fleet(commander.engine, fleet_rollup_5m, five, hashrate_mean=150 * TH, up_s=1.0)
    year = _get(viewer, metric="hashrate", **{"from": _iso(T0), "to": _iso(at(365 * 86400 - 1))})
    assert year.status_code == 200
    assert year.json()["resolution"] == "1d"
    assert len(year.json()["points"]) == 365
    assert {p["value"] for p in year.json()["points"]} == {200 * TH}
    day = _get(viewer, metric="hashrate", **{"from": _iso(T0), "to": _iso(at(86400 - 1))})
    assert day.json()["resolution"] == "5m"
    assert len(day.json()["points"]) == 288
    assert day.json()["step_s"] == 300
    # Ten points asked for a year: daily rows, 37 days a point.
    few = _get(
        viewer, metric="hashrate", points=10, **{"from": _iso(T0), "to": _iso(at(365 * 86400 - 1))}
    )
    assert few.json()["resolution"] == "1d"
    assert len(few.json()["points"]) <= 10


def test_power_efficiency_and_shares_per_point(viewer, commander):
    _fleet(
        commander.engine,
        fleet_rollup_1h,
        _hours(4),
        hashrate_mean=200 * TH,
        power_mean=6000.0,
        temp_mean=60.0,
        temp_max=75.0,
        accepted=10,
        rejected=1,
        stale=0,
    )
    window = {"from": _iso(T0), "to": _iso(at(4 * 3600 - 1)), "points": 2}
    eff = _get(viewer, metric="efficiency", **window).json()
    assert eff["unit"] == "J/TH"
    assert [p["value"] for p in eff["points"]] == [pytest.approx(30.0)] * 2  # 6000 W / 200 TH
    shares = _get(viewer, metric="shares", **window).json()
    assert [(p["value"], p["rejected"], p["stale"]) for p in shares["points"]] == [(20, 2, 0)] * 2
    temp = _get(viewer, metric="temp", **window).json()
    assert (temp["points"][0]["value"], temp["points"][0]["max"]) == (60.0, 75.0)
    power = _get(viewer, metric="power", **window).json()
    assert power["points"][0]["value"] == 6000.0


def test_a_short_miner_window_reads_raw_samples_and_a_missed_stretch_is_a_gap(viewer, commander):
    # Every 30 s for an hour, silent from 20:00 to 30:00.
    seconds = [s for s in range(0, 3600, 30) if not 1200 <= s < 1800]
    with commander.engine.begin() as conn:
        sentry_id, _token = create_sentry(conn, "rack-a")
        readings = tuple(reading("A", s, hashrate=(100 + s % 7) * TH) for s in seconds)
        write_batches(conn, [Batch(sentry_id=sentry_id, seq=1, readings=readings)], at(3600))
        miner_id = conn.execute(select(miners.c.id)).scalar_one()
    r = _get(
        viewer,
        scope=f"miner:{miner_id}",
        metric="hashrate",
        **{"from": _iso(T0), "to": _iso(at(3599))},
    )
    body = r.json()
    assert body["resolution"] == "raw"
    assert body["step_s"] == 30
    points = body["points"]
    assert len(points) == len(seconds) + 1
    gap = points[40]
    assert datetime.fromisoformat(gap["t"]) == at(1170 + 30)
    assert gap["value"] is None
    assert points[39]["value"] == pytest.approx((100 + 1170 % 7) * TH)
    assert points[41]["value"] == pytest.approx((100 + 1800 % 7) * TH)


def test_a_new_miner_s_hour_reads_raw_samples_even_once_rolled_up(viewer, commander):
    # Samples for the last 15 minutes of the hour only, and their 5-minute rollups: the
    # rollups start no whole bucket earlier than the raw rows, so raw is not "trimmed".
    seconds = list(range(2700, 3600, 30))
    with commander.engine.begin() as conn:
        sentry_id, _token = create_sentry(conn, "rack-a")
        readings = tuple(reading("A", s, hashrate=100 * TH) for s in seconds)
        write_batches(conn, [Batch(sentry_id=sentry_id, seq=1, readings=readings)], at(3600))
        run_rollups(conn, at(3600))
        miner_id = conn.execute(select(miners.c.id)).scalar_one()
        assert conn.execute(select(func.count()).select_from(rollup_5m)).scalar_one() > 0
    window = {"from": _iso(T0), "to": _iso(at(3599))}
    body = _get(viewer, scope=f"miner:{miner_id}", metric="hashrate", **window).json()
    assert body["resolution"] == "raw"
    assert sum(p["value"] is not None for p in body["points"]) == len(seconds)


def test_bad_requests_are_refused(viewer, anonymous, commander):
    window = {"from": _iso(T0), "to": _iso(at(3600))}
    for params in (
        {"scope": "rack:1", "metric": "hashrate"},
        {"scope": "site:x", "metric": "hashrate"},
        {"scope": "farm", "metric": "volts"},
        {"scope": "farm", "metric": "hashrate", "points": 5001},
        {"scope": "farm", "metric": "hashrate", "points": 1},
    ):
        assert _get(viewer, **params, **window).status_code == 422, params
    backwards = {"from": _iso(at(3600)), "to": _iso(T0)}
    assert _get(viewer, metric="hashrate", **backwards).status_code == 422
    forever = {"from": _iso(T0 - timedelta(days=366 * 21)), "to": _iso(T0)}
    assert _get(viewer, metric="hashrate", **forever).status_code == 422
    assert _get(viewer, scope="miner:999", metric="hashrate", **window).status_code == 404
    assert _get(anonymous, metric="hashrate", **window).status_code == 401
