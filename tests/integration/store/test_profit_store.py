"""Profit from the store on each database: rollup, network, block, price, wallet and site
power rows written here with figures chosen so that every result is recomputed by hand.

The day is 2025-03-10 (UTC), read at 2025-03-11 12:00.
- Miner A (S19 Pro, site "default", 0.05 USD/kWh, 2 % fee): 100 TH/s and 3000 W all day:
  8.64e18 hashes / (1e14 x 2^32) = 2.0116568e-5 blocks x 325e6 sat = 6537.884 sat gross,
  6407.127 sat after the fee = 6.407127 USD at 100,000 USD; 72 kWh x 0.05 = 3.60 USD.
- Miner B (S19 Pro, site "north", 0.05 EUR/kWh, 2 % fee): 110 TH/s for 12 hours, no power
  reading: 4.752e18 hashes -> 3595.836 sat gross, 3523.920 sat net = 3.523920 USD; power
  estimated at 3250 W / 110 TH/s x 110 TH/s = 3250 W x 12 h = 39 kWh x 0.05 EUR = 1.95 EUR
  = 1.95 x 100,000 / 80,000 = 2.4375 USD.
- A GPU rig and an L3+ (scrypt) are not Bitcoin miners: excluded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Connection, Engine

from rigwatch.domain.models import EventKind
from rigwatch.domain.profit import Basis, PowerSource, SitePower, TouPeriod
from rigwatch.store import profit as store
from rigwatch.store.auth import create_sentry
from rigwatch.store.profit import Scope
from rigwatch.store.tables import (
    events,
    miner_state,
    miners,
    network_blocks,
    network_stats,
    prices,
    revenue_daily,
    rollup_1d,
    rollup_1h,
    site_power,
    sites,
    wallets,
)
from rigwatch.store.timestamps import to_us

TH = 1e12
DAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)


def at(day: date, hour: int = 0, minute: int = 0) -> int:
    return to_us(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC))


def add_miner(conn: Connection, sentry_id: int, key: str, kind: str, model: str | None) -> int:
    query = (
        insert(miners)
        .values(
            sentry_id=sentry_id,
            key=key,
            kind=kind,
            model=model,
            hostname=key,
            tags="[]",
            first_seen=at(DAY) - 86_400_000_000,
        )
        .returning(miners.c.id)
    )
    return int(conn.execute(query).scalar_one())


def rollup(table: Any, miner_id: int, bucket: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "miner_id": miner_id,
        "bucket": bucket,
        "samples": 100,
        "up_s": 86400.0,
        "hashrate_min": None,
        "hashrate_mean": None,
        "hashrate_max": None,
        "expected_mean": None,
        "temp_min": None,
        "temp_mean": None,
        "temp_max": None,
        "power_min": None,
        "power_mean": None,
        "power_max": None,
        "accepted": 0,
        "rejected": 0,
        "stale": 0,
    }
    row.update(fields)
    return row


def stats(ts: int, difficulty: float | None, hashrate: float | None) -> dict[str, Any]:
    return {
        "chain": "BTC",
        "ts": ts,
        "height": 840_000,
        "difficulty": difficulty,
        "network_hashrate_hs": hashrate,
    }


@pytest.fixture
def farm(engine: Engine) -> dict[str, int]:
    """The miners, rollups, network, blocks and prices of the module docstring."""
    with engine.begin() as conn:
        sentry_a, _ = create_sentry(conn, "rack-a")
        sentry_b, _ = create_sentry(conn, "rack-b", site="north")
        ids = {
            "a": add_miner(conn, sentry_a, "miner-a", "asic", "S19 Pro"),
            "b": add_miner(conn, sentry_b, "miner-b", "asic", "Antminer S19 Pro"),
            "gpu": add_miner(conn, sentry_a, "rig-1", "gpu", "6x GTX 1070 Ti"),
            "l3": add_miner(conn, sentry_a, "miner-l3", "asic", "L3+"),
        }
        ids["site_a"] = int(conn.execute(sites.select().where(sites.c.name == "default")).one().id)
        ids["site_b"] = int(conn.execute(sites.select().where(sites.c.name == "north")).one().id)
        day = at(DAY)
        conn.execute(
            insert(rollup_1d),
            [
                rollup(rollup_1d, ids["a"], day, hashrate_mean=100 * TH, power_mean=3000.0),
                rollup(rollup_1d, ids["b"], day, hashrate_mean=110 * TH, up_s=43200.0),
                rollup(rollup_1d, ids["gpu"], day, hashrate_mean=200e6, power_mean=1100.0),
                rollup(rollup_1d, ids["l3"], day, hashrate_mean=504e6, power_mean=800.0),
            ],
        )
        conn.execute(
            insert(network_stats),
            [
                stats(at(DAY - timedelta(days=1), 20), 9e13, 6e20),
                stats(at(DAY, 6), 1e14, 7e20),
                stats(at(DAY, 18), None, None),  # the source failed: last good value stays
                stats(at(DAY + timedelta(days=1), 1), 2e14, 9e20),  # after the day
            ],
        )
        conn.execute(
            insert(network_blocks),
            [
                # 3.125 BTC + 0.125 BTC fees
                block(840_000, at(DAY, 1), fees_sat=12_500_000, reward_sat=None),
                # fees unknown, reward given: 325,000,000 - 312,500,000 = 12,500,000
                block(840_001, at(DAY, 2), fees_sat=None, reward_sat=325_000_000),
                block(839_900, at(DAY - timedelta(days=1), 2), fees_sat=900_000_000),
            ],
        )
        conn.execute(
            insert(prices),
            [
                price("USD", at(DAY, 1), 99_000.0),  # mean of the day: 100,000
                price("USD", at(DAY, 13), 101_000.0),
                price("USD", at(DAY + timedelta(days=1), 1), 200_000.0),
                price("EUR", at(DAY, 1), 80_000.0),
            ],
        )
        store.put_site_power(conn, ids["site_a"], SitePower("USD", 0.05, pool_fee_pct=2.0), NOW)
        store.put_site_power(conn, ids["site_b"], SitePower("EUR", 0.05, pool_fee_pct=2.0), NOW)
    return ids


def block(height: int, ts: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "chain": "BTC",
        "height": height,
        "hash": f"{height:064x}",
        "ts": ts,
        "pool": None,
        "fees_sat": None,
        "reward_sat": None,
        "tx_count": 1,
        "seen_at": ts,
    }
    row.update(fields)
    return row


def price(currency: str, ts: int, value: float) -> dict[str, Any]:
    return {"coin": "BTC", "currency": currency, "ts": ts, "price": value}


def day_rows(engine: Engine, by: Scope, currency: str = "USD", day: date = DAY) -> list[Any]:
    with engine.connect() as conn:
        result = store.daily_profit(conn, days=4, by=by, currency=currency, now=NOW)
    return [r for r in result.rows if r.day == day]


def test_each_miner_gets_its_own_expected_figures(engine, farm):
    rows = {r.id: r for r in day_rows(engine, Scope.MINER)}
    assert set(rows) == {farm["a"], farm["b"]}  # the GPU rig and the L3+ are excluded
    a = rows[farm["a"]].profit
    assert a.revenue.value == pytest.approx(6.407126784324646)
    assert a.revenue.basis is Basis.EXPECTED
    assert a.power_cost.value == pytest.approx(3.60)
    assert a.power_source is PowerSource.MEASURED
    assert a.efficiency_j_th.value == pytest.approx(30.0)
    b = rows[farm["b"]].profit
    assert b.revenue_sat.value == pytest.approx(3523.9197313785553)
    assert b.revenue.value == pytest.approx(3.5239197313785553)
    assert b.energy_kwh.value == pytest.approx(39.0)
    assert b.power_source is PowerSource.ESTIMATED
    assert b.power_cost.value == pytest.approx(2.4375)
    assert b.power_cost.basis is Basis.EXPECTED
    # B's mean over the day: 4.752e18 / 86400 = 55 TH/s
    assert b.hashrate_hs.value == pytest.approx(55 * TH)
    assert rows[farm["b"]].site_id == farm["site_b"]


def test_the_difficulty_is_the_newest_known_at_the_days_end(engine, farm):
    a = next(r for r in day_rows(engine, Scope.MINER) if r.id == farm["a"]).profit
    # 06:00's 1e14 (not 18:00's failed reading, nor the next day's 2e14): 2.0116568e-5 blocks
    assert a.expected_blocks.value == pytest.approx(2.0116567611694336e-5)
    # network 7e20 x 86400 / (1e14 x 2^32) = 140.816 blocks a day
    assert a.network_blocks_per_day.value == pytest.approx(140.81597328186035)


def test_sites_and_the_farm_sum_their_miners(engine, farm):
    sites_rows = {r.id: r for r in day_rows(engine, Scope.SITE)}
    assert sites_rows[farm["site_b"]].name == "north"
    assert sites_rows[farm["site_b"]].profit.power_cost.value == pytest.approx(2.4375)
    (row,) = day_rows(engine, Scope.FARM)
    assert row.miners == 2
    farm_day = row.profit
    # revenue 6.407127 + 3.523920 = 9.931047 USD; cost 3.60 + 2.4375 = 6.0375 USD
    assert farm_day.revenue.value == pytest.approx(9.931046515703201)
    assert farm_day.power_cost.value == pytest.approx(6.0375)
    assert farm_day.profit.value == pytest.approx(3.8935465157032016)
    assert farm_day.power_source is PowerSource.MIXED
    assert row.partial is False


def test_a_wallet_synced_past_the_day_gives_actual_revenue(engine, farm):
    with engine.begin() as conn:
        wallet = conn.execute(
            insert(wallets)
            .values(
                coin="BTC",
                address="bc1qexample",
                backend="esplora",
                base_url="http://127.0.0.1:1",
                created_at=at(DAY),
                last_success_at=at(DAY + timedelta(days=1), 0, 5),
            )
            .returning(wallets.c.id)
        ).scalar_one()
        conn.execute(
            insert(revenue_daily).values(
                wallet_id=wallet, day=DAY.isoformat(), coin="BTC", amount_atomic=12_000, payments=1
            )
        )
    (row,) = day_rows(engine, Scope.FARM)
    # 12,000 sat paid x 100,000 USD / 1e8 = 12.00 USD, actual; profit 12.00 - 6.0375 = 5.9625
    assert row.profit.revenue.value == pytest.approx(12.0)
    assert row.profit.revenue.basis is Basis.ACTUAL
    assert row.profit.profit.value == pytest.approx(5.9625)
    # the fee both sites pay, 2 %: 12,000 x 2 / 98 = 244.898 sat kept by the pool
    assert row.profit.pool_fee_sat.value == pytest.approx(244.89795918367346)
    # a site's figures stay expected: payouts are not per site
    site = next(r for r in day_rows(engine, Scope.SITE) if r.id == farm["site_a"])
    assert site.profit.revenue.basis is Basis.EXPECTED
    # the next day has no row, and the wallet has not synced past it: still expected
    (next_day,) = day_rows(engine, Scope.FARM, day=DAY + timedelta(days=1))
    assert next_day.profit.revenue.basis is not Basis.ACTUAL


def test_without_wallets_the_farm_revenue_stays_expected(engine, farm):
    (row,) = day_rows(engine, Scope.FARM)
    assert row.profit.revenue.basis is Basis.EXPECTED


def test_another_currency_uses_that_currencys_price(engine, farm):
    (row,) = day_rows(engine, Scope.FARM, currency="EUR")
    # revenue 9931.0466 sat x 80,000 EUR / 1e8 = 7.944837 EUR; cost 3.60 USD = 2.88 EUR + 1.95
    assert row.profit.revenue.value == pytest.approx(7.944837212562561)
    assert row.profit.power_cost.value == pytest.approx(2.88 + 1.95)
    assert row.profit.currency == "EUR"


def test_a_currency_without_prices_is_unknown(engine, farm):
    (row,) = day_rows(engine, Scope.FARM, currency="JPY")
    assert row.profit.revenue.basis is Basis.UNKNOWN
    assert row.profit.revenue_sat.value == pytest.approx(9931.046515703201)


def test_a_day_without_network_readings_has_unknown_revenue(engine, farm):
    earlier = DAY - timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(
            insert(rollup_1d).values(
                **rollup(
                    rollup_1d, farm["a"], at(earlier), hashrate_mean=100 * TH, power_mean=3000.0
                )
            )
        )
    (row,) = day_rows(engine, Scope.FARM, day=earlier)
    assert row.profit.expected_blocks.basis is Basis.UNKNOWN
    assert row.profit.revenue.value is None
    assert row.profit.profit.value is None
    # what is known stays known: energy and cost
    assert row.profit.power_cost.value == pytest.approx(3.60)


def test_a_site_without_power_settings_has_unknown_cost(engine, farm):
    with engine.begin() as conn:
        conn.execute(site_power.delete().where(site_power.c.site_id == farm["site_b"]))
    rows = {r.id: r for r in day_rows(engine, Scope.SITE)}
    assert rows[farm["site_b"]].profit.power_cost.basis is Basis.UNKNOWN
    assert rows[farm["site_a"]].profit.power_cost.value == pytest.approx(3.60)
    (row,) = day_rows(engine, Scope.FARM)
    assert row.profit.profit.basis is Basis.UNKNOWN


def test_today_is_partial(engine, farm):
    with engine.connect() as conn:
        result = store.daily_profit(conn, days=1, by=Scope.FARM, currency="USD", now=NOW)
    (row,) = result.rows
    assert row.day == NOW.date() and row.partial
    assert result.excluded_miners == 2


def test_site_power_round_trips(engine):
    power = SitePower("EUR", 0.12, (TouPeriod(22, 6, 0.04),), 1.5)
    with engine.begin() as conn:
        assert store.get_site_power(conn, 1) is None
        store.put_site_power(conn, 1, power, NOW)
        store.put_site_power(conn, 1, power, NOW + timedelta(hours=1))
    with engine.connect() as conn:
        found = store.get_site_power(conn, 1)
    assert found == (power, NOW + timedelta(hours=1))


def test_solo_odds_and_the_effort_of_a_block(engine, farm):
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    d_2_32 = 1e14 * 2**32
    with engine.begin() as conn:
        for key, hs in (("a", 0.4e18), ("b", 0.6e18)):
            conn.execute(
                insert(miner_state).values(
                    miner_id=farm[key],
                    ts=to_us(now) - 10_000_000,
                    last_sample_ts=to_us(now) - 10_000_000,
                    status="online",
                    warnings="[]",
                    hashrate_hs=hs,
                    fans_rpm="[]",
                    errors="[]",
                    hashboards="[]",
                    pools="[]",
                )
            )
        # hours 07:00-10:00 (4 hours, after the 06:00 difficulty of 1e14) hold half a
        # block's work: 0.5 x 1e14 x 2^32 / (4 x 3600 s) H/s each; the block at 10:30
        per_hour = 0.5 * d_2_32 / 4
        conn.execute(
            insert(rollup_1h),
            [
                rollup(rollup_1h, farm["a"], at(DAY, h), up_s=3600.0, hashrate_mean=per_hour / 3600)
                for h in range(7, 11)
            ],
        )
        conn.execute(
            insert(events).values(
                ts=at(DAY, 10, 30),
                kind=EventKind.BLOCK_FOUND.value,
                key="block-1",
                miner_id=farm["a"],
                message="block",
                data="{}",
            )
        )
    with engine.connect() as conn:
        report = store.solo(conn, currency="USD", now=now, offline_after_s=120)
    # 1 EH/s against 1e14: 0.2011657 blocks a day, P = 0.1822231, 429,496.73 s per block
    assert report.miners == 2
    assert report.odds.blocks_per_day == pytest.approx(0.20116567611694336)
    assert report.odds.p_block_per_day == pytest.approx(0.18222306577715439)
    assert report.odds.expected_seconds_to_block == pytest.approx(429_496.7296)
    assert report.odds.one_in == pytest.approx(700.0)
    # reward: the mean of the newest 144 blocks, here all three: 325e6, 325e6 and
    # 839,900's 6.25 BTC + 9 BTC fees = 1525e6; (325 + 325 + 1525) / 3 = 725e6 sat
    assert report.reward_sat == pytest.approx(725_000_000)
    # x 0.2011657 blocks a day = 145,845,115 sat = 144,386.66 USD at 99,000
    assert report.expected_revenue_sat_per_day == pytest.approx(145_845_115.18478394)
    # the block's effort: 0.5 expected blocks for 1 found = 50 %
    (found,) = report.blocks
    assert found.effort.effort_pct == pytest.approx(50.0)
    assert report.overall.luck_pct == pytest.approx(200.0)
    # the price is the newest at or before now: 99,000 USD (01:00; 13:00 is later)
    assert report.price == pytest.approx(99_000.0)
