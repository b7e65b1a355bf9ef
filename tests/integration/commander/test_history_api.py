"""History API through a real commander: snapshots, comparisons and the admin's controls.

Rollup rows and stored snapshots are written straight into the commander's store, with
figures chosen here; today's comparison reads them on the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from rigwatch.domain.history import Snapshot, SnapshotRevenue
from rigwatch.domain.profit import Basis
from rigwatch.store import snapshots as store
from rigwatch.store.tables import audit_log, fleet_rollup_1d
from rigwatch.store.timestamps import to_us
from tests.helpers import RunningCommander, running_commander

TH = 1e12


@pytest.fixture
def commander(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A real commander without scheduled jobs: the tests write the history themselves."""
    with running_commander(
        tmp_path / "data", jobs=[], database_url=db_url, stream_heartbeat_s=0.5
    ) as rc:
        yield rc


def day_snapshot(day: date, **fields: Any) -> Snapshot:
    """A complete stored day: 100 TH/s of 110 expected, 3 kW, 30 J/TH, 3 shares found."""
    base = Snapshot(
        day=day,
        taken_at=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        + timedelta(minutes=5),
        hashrate_mean_hs=100 * TH,
        expected_mean_hs=110 * TH,
        power_mean_w=3000.0,
        energy_kwh=72.0,
        efficiency_j_th=30.0,
        uptime_pct=99.0,
        miners_total=1,
        miners_online=1,
        miners_warning=0,
        miners_offline=0,
        accepted=1000,
        rejected=5,
        shares_found=3,
        blocks_found=0,
        payouts={"XMR": 1_500_000_000_000},
        revenue=SnapshotRevenue.of(12_000, Basis.ACTUAL, price=100_000.0),
    )
    return replace(base, **fields)


def store_days(engine: Engine, *snaps: Snapshot) -> None:
    with engine.begin() as conn:
        for snap in snaps:
            store.store_snapshot(conn, snap)


def today_rollup(engine: Engine, day: date, **fields: Any) -> None:
    row: dict[str, Any] = {
        "scope": "farm",
        "bucket": to_us(datetime.combine(day, datetime.min.time(), tzinfo=UTC)),
        "miners": 1,
        "samples": 60,
        "up_s": 3600.0,
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
    with engine.begin() as conn:
        conn.execute(fleet_rollup_1d.insert().values(**row))


def today() -> date:
    return datetime.now(UTC).date()


def metric(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in body["metrics"] if m["metric"] == name)
    return found


# --- reading snapshots ----------------------------------------------------------------


def test_a_viewer_reads_the_newest_snapshots_newest_first(commander, viewer):
    assert viewer.get("/api/v1/history/snapshots").json() == []
    store_days(commander.engine, *(day_snapshot(date(2025, 3, d)) for d in (1, 2, 3)))

    body = viewer.get("/api/v1/history/snapshots", params={"limit": 2}).json()
    assert [s["day"] for s in body] == ["2025-03-03", "2025-03-02"]
    first = body[0]
    assert first["hashrate_mean_hs"] == pytest.approx(100 * TH)
    assert first["payouts"] == {"XMR": 1_500_000_000_000}
    assert first["in_progress"] is False
    assert first["partial"] is False
    assert first["revenue"]["sat"] == 12_000


def test_a_snapshot_carries_its_revenue_exactly(commander, viewer):
    # 15,456 sat received; x 100,000 USD / 1e8 = 15.456 USD; 2**62 + 1 atomic DOGE
    revenue = SnapshotRevenue.of(
        15_456,
        Basis.ACTUAL,
        chain_payouts={"BTC": 15_456, "DOGE": 2**62 + 1},
        price=100_000.0,
    )
    store_days(commander.engine, day_snapshot(date(2025, 3, 1), revenue=revenue))
    store_days(
        commander.engine,
        day_snapshot(date(2025, 3, 2), revenue=SnapshotRevenue(sat=None, basis=Basis.UNKNOWN)),
    )

    body = viewer.get("/api/v1/history/snapshot/2025-03-01").json()
    assert body["revenue"] == {
        "sat": 15_456,
        "basis": "actual",
        "chain_payouts": {"BTC": 15_456, "DOGE": 2**62 + 1},
        "currency": "USD",
        "price": 100_000.0,
        "fiat": pytest.approx(15.456),
    }
    unknown = viewer.get("/api/v1/history/snapshot/2025-03-02").json()["revenue"]
    # unknown: null, never 0
    assert (unknown["sat"], unknown["basis"], unknown["fiat"]) == (None, "unknown", None)


def test_a_bad_limit_is_refused(viewer):
    assert viewer.get("/api/v1/history/snapshots", params={"limit": 0}).status_code == 422


def test_a_range_returns_the_stored_days_in_it_oldest_first(commander, viewer):
    store_days(commander.engine, *(day_snapshot(date(2025, 3, d)) for d in (1, 2, 4, 5)))
    body = viewer.get(
        "/api/v1/history/range", params={"start": "2025-03-02", "end": "2025-03-04"}
    ).json()
    # March 3 has no snapshot: it is absent, not a row of zeros
    assert [s["day"] for s in body] == ["2025-03-02", "2025-03-04"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-03-05", "end": "2025-03-01"},  # backwards
        {"start": "2025-03-01", "end": "2045-03-01"},  # longer than ten years
        {"start": "2025-02-30", "end": "2025-03-01"},  # no such day
        {"start": "yesterday", "end": "2025-03-01"},
        {"start": "2025-03-01"},  # no end
    ],
)
def test_a_bad_range_is_refused(viewer, params):
    assert viewer.get("/api/v1/history/range", params=params).status_code == 422


def test_one_day_is_found_by_its_date(commander, viewer):
    store_days(commander.engine, day_snapshot(date(2025, 3, 2), blocks_found=1))
    body = viewer.get("/api/v1/history/snapshot/2025-03-02").json()
    assert body["day"] == "2025-03-02"
    assert body["blocks_found"] == 1
    assert body["efficiency_j_th"] == pytest.approx(30.0)


def test_a_day_without_a_snapshot_is_404_and_a_bad_date_422(viewer):
    assert viewer.get("/api/v1/history/snapshot/2025-03-02").status_code == 404
    assert viewer.get("/api/v1/history/snapshot/2025-13-01").status_code == 422
    assert viewer.get("/api/v1/history/snapshot/today").status_code == 422


def test_reading_history_needs_a_login(anonymous):
    assert anonymous.get("/api/v1/history/snapshots").status_code == 401
    assert anonymous.get("/api/v1/analytics/comparison").status_code == 401


# --- comparisons ----------------------------------------------------------------------


def test_a_day_comparison_of_today_so_far_with_yesterday(commander, viewer):
    now_day = today()
    # today so far: 110 TH/s of 110 expected at 3,250 W; yesterday 100 TH/s at 3,000 W
    today_rollup(
        commander.engine, now_day, hashrate_mean=110 * TH, expected_mean=110 * TH, power_mean=3250.0
    )
    store_days(commander.engine, day_snapshot(now_day - timedelta(days=1)))

    body = viewer.get("/api/v1/analytics/comparison", params={"period": "D"}).json()
    if body["today"] != now_day.isoformat():  # midnight passed mid-test: nothing to say
        pytest.skip("the UTC day changed during the test")
    assert body["period"] == "D"
    assert body["days_back"] == 1
    assert body["current_source"] == "1d"
    assert body["partial_data"] is False
    hashrate = metric(body, "hashrate_mean_hs")
    # 110 - 100 = 10 TH/s; 10 / 100 = +10 %
    assert hashrate["current"] == pytest.approx(110 * TH)
    assert hashrate["past"] == pytest.approx(100 * TH)
    assert hashrate["change"] == pytest.approx(10 * TH)
    assert hashrate["percent"] == pytest.approx(10.0)
    assert hashrate["trend"] == "up"
    power = metric(body, "power_mean_w")
    # 3,250 - 3,000 = 250 W; 250 / 3,000 = +8.333 %
    assert power["change"] == pytest.approx(250.0)
    assert power["percent"] == pytest.approx(8.333333, rel=1e-6)
    efficiency = metric(body, "efficiency_j_th")
    # 3,250 / 110 = 29.545 J/TH against 30: better, so down
    assert efficiency["current"] == pytest.approx(29.545454, rel=1e-6)
    assert efficiency["trend"] == "down"
    blocks = metric(body, "blocks_found")
    # no block either day: a zero baseline gives no percentage, and no change is neutral
    assert (blocks["current"], blocks["past"], blocks["change"]) == (0, 0, 0)
    assert blocks["percent"] is None
    assert blocks["trend"] == "neutral"
    shares = metric(body, "shares_found")
    # none today so far against 3 yesterday: -3, -100 %
    assert (shares["change"], shares["percent"], shares["trend"]) == (-3, -100.0, "down")
    xmr = metric(body, "payouts.XMR")
    assert (xmr["current"], xmr["past"]) == (0, 1_500_000_000_000)
    revenue = metric(body, "revenue_sat")
    # yesterday received 12,000 sat; today has no network readings: unknown, not 0
    assert (revenue["current"], revenue["past"]) == (None, 12_000)
    assert revenue["trend"] == "unavailable"
    assert (revenue["kind"], revenue["unit"]) == ("sum", "sat")
    assert (revenue["current_basis"], revenue["past_basis"]) == ("unknown", "actual")
    assert revenue["basis"] == "actual"
    assert "revenue_sat" in body["unavailable"]
    assert hashrate["basis"] is None


def test_a_missing_past_snapshot_gives_partial_data_and_unavailable_metrics(commander, viewer):
    now_day = today()
    today_rollup(commander.engine, now_day, hashrate_mean=110 * TH, power_mean=3250.0)
    store_days(commander.engine, day_snapshot(now_day - timedelta(days=1)))

    body = viewer.get("/api/v1/analytics/comparison", params={"period": "W"}).json()
    assert body["partial_data"] is True
    assert body["past_day"] == (date.fromisoformat(body["today"]) - timedelta(days=7)).isoformat()
    hashrate = metric(body, "hashrate_mean_hs")
    assert hashrate["current"] == pytest.approx(110 * TH)
    assert hashrate["past"] is None
    assert hashrate["change"] is None
    assert hashrate["percent"] is None
    assert hashrate["trend"] == "unavailable"
    assert "hashrate_mean_hs" in body["unavailable"]
    assert "shares_found" in body["unavailable"]
    assert body["previous_window"]["days"] == 7
    assert len(body["previous_window"]["missing"]) == 7


def test_an_unknown_period_is_refused(viewer):
    assert viewer.get("/api/v1/analytics/comparison", params={"period": "X"}).status_code == 422


@pytest.mark.parametrize("period", ["D", "W", "M", "Q", "Y"])
def test_every_period_answers_on_an_empty_farm(viewer, period):
    body = viewer.get("/api/v1/analytics/comparison", params={"period": period}).json()
    assert body["partial_data"] is True
    assert body["current_source"] == "none"
    assert all(m["trend"] == "unavailable" for m in body["metrics"])


# --- admin ----------------------------------------------------------------------------


def test_an_admin_takes_todays_snapshot_in_progress(commander, admin, viewer):
    now_day = today()
    today_rollup(commander.engine, now_day, hashrate_mean=110 * TH, power_mean=3300.0)
    response = admin.post("/api/v1/admin/snapshot")
    assert response.status_code == 200
    body = response.json()
    if body["day"] != now_day.isoformat():
        pytest.skip("the UTC day changed during the test")
    assert body["in_progress"] is True
    assert body["partial"] is True
    assert body["hashrate_mean_hs"] == pytest.approx(110 * TH)
    # 3,300 W / 110 TH/s = 30 J/TH
    assert body["efficiency_j_th"] == pytest.approx(30.0)
    assert viewer.get(f"/api/v1/history/snapshot/{now_day}").status_code == 200
    with commander.engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action, audit_log.c.target)).all()
    assert ("snapshot.take", now_day.isoformat()) in [tuple(a) for a in actions]


def test_an_admin_takes_a_past_days_snapshot(admin, viewer):
    response = admin.post("/api/v1/admin/snapshot", params={"day": "2025-03-02"})
    assert response.status_code == 200
    body = response.json()
    assert body["day"] == "2025-03-02"
    assert body["in_progress"] is False
    # no rollups for that day: unknown, not zero
    assert body["hashrate_mean_hs"] is None
    assert body["partial"] is True
    assert viewer.get("/api/v1/history/snapshot/2025-03-02").status_code == 200


def test_a_snapshot_of_a_day_not_begun_or_not_a_day_is_refused(admin):
    tomorrow = today() + timedelta(days=2)
    assert admin.post("/api/v1/admin/snapshot", params={"day": str(tomorrow)}).status_code == 422
    assert admin.post("/api/v1/admin/snapshot", params={"day": "03/02/2025"}).status_code == 422


def test_an_admin_backfills_missing_days_from_the_rollups(commander, admin):
    covered = today() - timedelta(days=2)
    today_rollup(commander.engine, covered, hashrate_mean=90 * TH)
    response = admin.post("/api/v1/admin/snapshots/backfill", params={"days": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["days"] == 3
    assert body["taken"] == [covered.isoformat()]
    assert len(body["skipped"]) == 2
    with commander.engine.connect() as conn:
        snap = store.get_snapshot(conn, covered)
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    assert snap is not None
    assert snap.hashrate_mean_hs == pytest.approx(90 * TH)
    assert "snapshot.backfill" in actions


@pytest.mark.parametrize("days", [0, -1, 100_000])
def test_a_bad_backfill_length_is_refused(admin, days):
    response = admin.post("/api/v1/admin/snapshots/backfill", params={"days": days})
    assert response.status_code == 422


def test_only_an_admin_may_take_or_backfill_snapshots(commander, operator, viewer):
    clients: list[httpx.Client] = [operator, viewer]
    for client in clients:
        assert client.post("/api/v1/admin/snapshot").status_code == 403
        backfill = client.post("/api/v1/admin/snapshots/backfill", params={"days": 2})
        assert backfill.status_code == 403
    assert stored(commander.engine) == 0


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(store.list_snapshots(conn, 1000))


def test_anonymous_callers_may_not_take_snapshots(anonymous):
    assert anonymous.post("/api/v1/admin/snapshot").status_code == 401


def test_the_openapi_document_describes_the_history_models(anonymous):
    schemas = anonymous.get("/openapi.json").json()["components"]["schemas"]
    assert {"SnapshotOut", "ComparisonOut", "BackfillOut", "MetricComparison", "Window"} <= set(
        schemas
    )
    assert "partial_data" in schemas["ComparisonOut"]["properties"]
    assert {"sat", "basis", "chain_payouts", "fiat"} <= set(schemas["RevenueOut"]["properties"])
    metric_fields = set(schemas["MetricComparison"]["properties"])
    assert {"basis", "current_basis", "past_basis"} <= metric_fields
