"""Profit API through a real commander: roles, validation, currencies, site power, the
model table. Rollup, network and price rows are written straight into its store with
figures chosen here (the worked example of tests/unit/domain/test_profit.py: one 100 TH/s
miner at 3000 W against difficulty 1e14, 325,000,000 sat a block, 100,000 USD).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from rigwatch.store.auth import create_sentry
from rigwatch.store.tables import (
    audit_log,
    miners,
    network_blocks,
    network_stats,
    prices,
    rollup_1d,
)
from rigwatch.store.timestamps import to_us
from tests.helpers import RunningCommander, running_commander

TH = 1e12


@pytest.fixture
def commander(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A real commander without scheduled jobs."""
    with running_commander(tmp_path / "data", jobs=[], database_url=db_url) as rc:
        yield rc


def yesterday_start() -> datetime:
    today = datetime.now(UTC).date() - timedelta(days=1)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def seed(engine: Engine) -> datetime:
    """Yesterday: one S19 Pro at 100 TH/s and 3000 W all day, difficulty 1e14, two blocks
    of 325,000,000 sat, BTC at 100,000 USD and 90,000 EUR."""
    start = yesterday_start()
    day = to_us(start)
    hour = 3_600_000_000
    with engine.begin() as conn:
        sentry_id, _ = create_sentry(conn, "rack-a")
        miner_id: int = conn.execute(
            insert(miners)
            .values(
                sentry_id=sentry_id,
                key="miner-a",
                kind="asic",
                model="S19 Pro",
                hostname="miner-a",
                tags="[]",
                first_seen=day,
            )
            .returning(miners.c.id)
        ).scalar_one()
        conn.execute(
            insert(rollup_1d).values(
                miner_id=miner_id,
                bucket=day,
                samples=100,
                up_s=86400.0,
                hashrate_mean=100 * TH,
                power_mean=3000.0,
                accepted=0,
                rejected=0,
                stale=0,
            )
        )
        conn.execute(
            insert(network_stats).values(
                chain="BTC",
                ts=day + hour,
                height=840_000,
                difficulty=1e14,
                network_hashrate_hs=7e20,
            )
        )
        conn.execute(
            insert(network_blocks),
            [
                {
                    "chain": "BTC",
                    "height": h,
                    "hash": f"{h:064x}",
                    "ts": day + 2 * hour,
                    "fees_sat": 12_500_000,
                    "seen_at": day + 2 * hour,
                }
                for h in (840_000, 840_001)
            ],
        )
        conn.execute(
            insert(prices),
            [
                {"coin": "BTC", "currency": "USD", "ts": day + hour, "price": 100_000.0},
                {"coin": "BTC", "currency": "EUR", "ts": day + hour, "price": 90_000.0},
            ],
        )
    return start


POWER = {"currency": "USD", "price_per_kwh": 0.05, "tou": [], "pool_fee_pct": 2.0}


def test_a_viewer_reads_the_farms_daily_profit_with_each_basis(commander, admin, viewer):
    start = seed(commander.engine)
    assert admin.put("/api/v1/sites/1/power", json=POWER).status_code == 200

    body = viewer.get("/api/v1/profit/daily", params={"days": 2}).json()
    assert body["currency"] == "USD" and body["coin"] == "BTC"
    today, yesterday = body["rows"]
    assert today["partial"] is True
    assert yesterday["day"] == start.date().isoformat()
    assert yesterday["partial"] is False
    f = yesterday["figures"]
    # 6537.884 sat gross; after 2 %: 6407.127 sat = 6.407127 USD (rounded to 6 places)
    assert f["revenue"] == {"value": 6.407127, "basis": "expected"}
    assert f["revenue_sat"]["value"] == pytest.approx(6407.127, abs=1e-3)
    # 72 kWh x 0.05 = 3.60 USD, from the miner's own readings
    assert f["power_cost"] == {"value": 3.6, "basis": "actual"}
    assert f["profit"] == {"value": 2.807127, "basis": "expected"}
    assert f["break_even_per_kwh"]["value"] == pytest.approx(0.088988)
    assert f["hashprice"]["value"] == pytest.approx(0.064071)
    assert f["efficiency_j_th"] == {"value": 30.0, "basis": "actual"}
    assert yesterday["power_source"] == "measured"


def test_figures_without_inputs_are_unknown_and_null(commander, viewer):
    seed(commander.engine)  # no site power set: fee, cost and profit unknown
    body = viewer.get("/api/v1/profit/daily", params={"days": 2}).json()
    f = body["rows"][1]["figures"]
    assert f["gross_revenue"] == {"value": 6.537884, "basis": "expected"}
    assert f["pool_fee"] == {"value": None, "basis": "unknown"}
    assert f["power_cost"] == {"value": None, "basis": "unknown"}
    assert f["profit"] == {"value": None, "basis": "unknown"}


def test_the_currency_is_chosen_per_request(commander, admin, viewer):
    seed(commander.engine)
    assert admin.put("/api/v1/sites/1/power", json=POWER).status_code == 200
    body = viewer.get("/api/v1/profit/daily", params={"days": 2, "currency": "eur"}).json()
    assert body["currency"] == "EUR"
    f = body["rows"][1]["figures"]
    # 6407.127 sat x 90,000 EUR / 1e8 = 5.766414 EUR; 3.60 USD x 90/100 = 3.24 EUR
    assert f["revenue"]["value"] == pytest.approx(5.766414, abs=1e-6)
    assert f["power_cost"]["value"] == pytest.approx(3.24)
    # no GBP quote: money unknown, satoshis still known
    gbp = viewer.get("/api/v1/profit/daily", params={"days": 2, "currency": "GBP"}).json()
    g = gbp["rows"][1]["figures"]
    assert g["revenue"] == {"value": None, "basis": "unknown"}
    assert g["revenue_sat"]["basis"] == "expected"


def test_by_site_and_by_miner(commander, admin, viewer):
    seed(commander.engine)
    admin.put("/api/v1/sites/1/power", json=POWER)
    sites = viewer.get("/api/v1/profit/daily", params={"days": 2, "by": "site"}).json()
    assert [(r["scope"], r["name"]) for r in sites["rows"]] == [("site", "default")]
    per_miner = viewer.get("/api/v1/profit/daily", params={"days": 2, "by": "miner"}).json()
    (row,) = per_miner["rows"]
    assert row["scope"] == "miner" and row["name"] == "miner-a" and row["site_id"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"days": 0},
        {"days": 367},
        {"by": "rack"},
        {"currency": "US"},
        {"currency": "U$D"},
        {"by": "miner", "days": 32},
    ],
)
def test_bad_queries_are_refused(viewer, params):
    assert viewer.get("/api/v1/profit/daily", params=params).status_code == 422


def test_reads_need_a_login(anonymous):
    for path in (
        "/api/v1/profit/daily",
        "/api/v1/profit/solo",
        "/api/v1/sites/1/power",
        "/api/v1/models/efficiency",
    ):
        assert anonymous.get(path).status_code == 401


def test_the_solo_odds_of_the_farm(commander, viewer):
    seed(commander.engine)
    body = viewer.get("/api/v1/profit/solo", params={"currency": "EUR"}).json()
    # no miner reporting now: the odds are unknown, the network is known
    assert body["miners"] == 0
    assert body["p_block_per_day"] is None
    assert body["difficulty"] == 1e14
    assert body["reward_sat"] == 325_000_000
    assert body["price"] == 90_000.0
    assert body["blocks"] == [] and body["overall"]["blocks"] == 0
    assert viewer.get("/api/v1/profit/solo", params={"currency": "dollars"}).status_code == 422


def test_an_admin_sets_a_sites_power_price_and_it_is_audited(commander, admin, viewer):
    assert viewer.get("/api/v1/sites/1/power").json()["configured"] is False
    body = {
        "currency": "eur",
        "price_per_kwh": 0.10,
        "tou": [
            {"start_hour": 22, "end_hour": 6, "price_per_kwh": 0.04},
            {"start_hour": 17, "end_hour": 20, "price_per_kwh": 0.25},
        ],
        "pool_fee_pct": 1.5,
    }
    put = admin.put("/api/v1/sites/1/power", json=body)
    assert put.status_code == 200, put.text
    got = viewer.get("/api/v1/sites/1/power").json()
    assert got["configured"] is True
    assert got["currency"] == "EUR"
    assert got["pool_fee_pct"] == 1.5
    # (8 x 0.04 + 3 x 0.25 + 13 x 0.10) / 24 = 2.37 / 24 = 0.09875
    assert got["mean_price_per_kwh"] == pytest.approx(0.09875)
    assert len(got["tou"]) == 2
    with commander.engine.connect() as conn:
        (row,) = conn.execute(select(audit_log).where(audit_log.c.action == "site.power.set"))
    assert row.target == "site 1"


def test_only_an_admin_sets_power_prices(operator, viewer):
    assert operator.put("/api/v1/sites/1/power", json=POWER).status_code == 403
    assert viewer.put("/api/v1/sites/1/power", json=POWER).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {**POWER, "price_per_kwh": -1},
        {**POWER, "currency": "euro"},
        {**POWER, "pool_fee_pct": 100},
        {**POWER, "tou": [{"start_hour": 24, "end_hour": 2, "price_per_kwh": 0.1}]},
        {**POWER, "tou": [{"start_hour": 2, "end_hour": 2, "price_per_kwh": 0.1}]},
        {
            **POWER,
            "tou": [
                {"start_hour": 22, "end_hour": 6, "price_per_kwh": 0.04},
                {"start_hour": 5, "end_hour": 8, "price_per_kwh": 0.1},
            ],
        },
        # no base price and hours 12-23 without one
        {
            **POWER,
            "price_per_kwh": None,
            "tou": [{"start_hour": 0, "end_hour": 12, "price_per_kwh": 0.1}],
        },
        {"currency": "USD"},
    ],
)
def test_bad_power_settings_are_refused_and_change_nothing(admin, viewer, body):
    assert admin.put("/api/v1/sites/1/power", json=body).status_code == 422
    assert viewer.get("/api/v1/sites/1/power").json()["configured"] is False


def test_an_unknown_site_is_404(admin, viewer):
    assert viewer.get("/api/v1/sites/999/power").status_code == 404
    assert admin.put("/api/v1/sites/999/power", json=POWER).status_code == 404


def test_the_model_table_names_its_sources(viewer):
    rows = viewer.get("/api/v1/models/efficiency").json()
    s19_pro = next(r for r in rows if r["model"] == "S19 Pro")
    # 3250 W / 110 TH/s = 29.5455 J/TH
    assert s19_pro["efficiency_j_th"] == pytest.approx(29.5455)
    assert all(r["source"] for r in rows)
