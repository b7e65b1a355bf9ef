"""Daily snapshots on both databases, built from rollup rows written here by hand (every
figure below is recomputed in a comment) and events stored through the write path.

Revenue of DAY (2025-01-01), with the `money` fixture's network, block, price and site
power rows and `day_rollups`' per-miner rows (m1 110 TH/s all day, m2 80 TH/s for 12 h):
hashes 110e12 x 86,400 + 80e12 x 43,200 = 1.296e19; at difficulty 1e14 that is
1.296e19 / (1e14 x 2^32) = 3.0174851e-5 blocks x 325,000,000 sat (3.125 BTC subsidy +
0.125 BTC fees) = 9,806.827 sat gross, less the 2 % pool fee = 9,610.690 sat expected,
kept as 9,611 sat; at the day's mean price (99,000 + 101,000) / 2 = 100,000 USD that is
9,611 x 100,000 / 1e8 = 9.611 USD. Actual, once the BTC wallets synced past the day:
12,000 + 3,456 = 15,456 sat received = 15.456 USD.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.event import listen, remove

from rigwatch.domain.history import ModelCount, SnapshotRevenue, SnapshotSource
from rigwatch.domain.models import Event, EventKind
from rigwatch.domain.profit import Basis, SitePower
from rigwatch.store import profit as store_profit
from rigwatch.store import snapshots as snaps
from rigwatch.store.ingest import write_batches
from rigwatch.store.rollups import run_rollups
from rigwatch.store.tables import (
    fleet_rollup_1d,
    metadata,
    miners,
    network_blocks,
    network_stats,
    prices,
    revenue_daily,
    sites,
    snapshots,
    wallets,
)
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
    # no network reading, price, pool fee or wallet: revenue unknown, not 0
    assert snap.revenue == SnapshotRevenue(sat=None, basis=Basis.UNKNOWN)


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


def test_taking_a_snapshot_again_replaces_it(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        first = snaps.take_snapshot(conn, DAY, AFTER)
        # a late replay raised the day's mean: the retake picks it up
        conn.execute(update(fleet_rollup_1d).values(hashrate_mean=330 * TH))
        again = snaps.take_snapshot(conn, DAY, AFTER + timedelta(hours=1))

    assert stored_rows(engine) == 1
    assert first.hashrate_mean_hs == pytest.approx(300 * TH)
    assert again.hashrate_mean_hs == pytest.approx(330 * TH)
    assert again.taken_at == AFTER + timedelta(hours=1)
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


# --- revenue --------------------------------------------------------------------------


def at_day(hour: int, minute: int = 0, days: int = 0) -> int:
    return us(D0 + timedelta(days=days, hours=hour, minutes=minute))


def add_money(conn: Connection) -> None:
    """DAY's network (difficulty 1e14 at 06:00), one block (height 840,000: 3.125 BTC +
    0.125 BTC fees), BTC quotes of 99,000 and 101,000 USD, and a 2 % pool fee."""
    conn.execute(
        network_stats.insert().values(
            chain="BTC", ts=at_day(6), height=840_000, difficulty=1e14, network_hashrate_hs=7e20
        )
    )
    conn.execute(
        network_blocks.insert().values(
            chain="BTC",
            height=840_000,
            hash=f"{840_000:064x}",
            ts=at_day(1),
            pool=None,
            fees_sat=12_500_000,
            reward_sat=None,
            tx_count=1,
            seen_at=at_day(1),
        )
    )
    conn.execute(
        prices.insert(),
        [
            {"coin": "BTC", "currency": "USD", "ts": at_day(1), "price": 99_000.0},
            {"coin": "BTC", "currency": "USD", "ts": at_day(13), "price": 101_000.0},
            # the next day's quote is not DAY's
            {"coin": "BTC", "currency": "USD", "ts": at_day(1, days=1), "price": 500_000.0},
        ],
    )
    site = int(conn.execute(select(sites.c.id).where(sites.c.name == "default")).scalar_one())
    store_profit.put_site_power(conn, site, SitePower("USD", 0.05, pool_fee_pct=2.0), AFTER)


def add_wallet(
    conn: Connection, coin: str, synced_at: int | None, *paid: int, address: str = "a"
) -> int:
    """A wallet last synced at `synced_at`, with DAY's payouts received."""
    wallet = int(
        conn.execute(
            wallets.insert()
            .values(
                coin=coin,
                address=f"{coin.lower()}-{address}",
                backend="esplora" if coin == "BTC" else "blockbook",
                base_url="http://127.0.0.1:1",
                created_at=us(D0),
                last_success_at=synced_at,
            )
            .returning(wallets.c.id)
        ).scalar_one()
    )
    if paid:
        conn.execute(
            revenue_daily.insert().values(
                wallet_id=wallet,
                day=DAY.isoformat(),
                coin=coin,
                amount_atomic=sum(paid),
                payments=len(paid),
            )
        )
    return wallet


def add_payouts(conn: Connection) -> None:
    """A BTC wallet synced at 00:07 the next day that received 12,000 + 3,456 sat on DAY,
    and a DOGE wallet that received 1,500 DOGE (150,000,000,000 atomic)."""
    add_wallet(conn, "BTC", at_day(0, 7, days=1), 12_000, 3_456)
    add_wallet(conn, "DOGE", None, 150_000_000_000)


def test_a_snapshot_carries_the_days_expected_revenue_in_sats_and_usd(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        add_money(conn)
        snap = snaps.take_snapshot(conn, DAY, AFTER)
    revenue = snap.revenue
    assert revenue is not None
    # worked in the module docstring: 9,610.690 sat expected, kept as 9,611
    assert (revenue.sat, revenue.basis) == (9_611, Basis.EXPECTED)
    assert revenue.currency == "USD"
    assert revenue.price == pytest.approx(100_000.0)
    assert revenue.fiat == pytest.approx(9.611)
    assert dict(revenue.chain_payouts) == {}


def test_payouts_received_on_the_chain_make_the_revenue_actual_and_exact(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        add_money(conn)
        add_payouts(conn)
        snap = snaps.take_snapshot(conn, DAY, AFTER)
        text = conn.execute(select(snapshots.c.revenue)).scalar_one()
    revenue = snap.revenue
    assert revenue is not None
    # 12,000 + 3,456 = 15,456 sat received; x 100,000 USD / 1e8 = 15.456 USD
    assert (revenue.sat, revenue.basis) == (15_456, Basis.ACTUAL)
    assert revenue.fiat == pytest.approx(15.456)
    assert dict(revenue.chain_payouts) == {"BTC": 15_456, "DOGE": 150_000_000_000}
    # stored exactly: atomic amounts as strings
    assert '"sat":"15456"' in text
    assert '"DOGE":"150000000000"' in text


def test_without_a_quote_of_the_day_the_revenue_has_no_usd_value(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        add_money(conn)
        conn.execute(prices.delete().where(prices.c.ts < at_day(0, days=1)))
        snap = snaps.take_snapshot(conn, DAY, AFTER)
    assert snap.revenue is not None
    assert (snap.revenue.sat, snap.revenue.basis) == (9_611, Basis.EXPECTED)
    # the next day's 500,000 is not the day's price
    assert (snap.revenue.price, snap.revenue.fiat) == (None, None)


def test_a_retake_fills_a_revenue_that_was_unknown(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        early = snaps.take_snapshot(conn, DAY, AFTER)
        # the network, price and pool fee come in after the first snapshot
        add_money(conn)
        later = snaps.take_snapshot(conn, DAY, AFTER + timedelta(hours=1))
    assert early.revenue == SnapshotRevenue(sat=None, basis=Basis.UNKNOWN)
    assert later.revenue is not None
    assert (later.revenue.sat, later.revenue.basis) == (9_611, Basis.EXPECTED)
    with engine.connect() as conn:
        assert snaps.get_snapshot(conn, DAY) == later


def test_a_known_actual_revenue_is_never_replaced_by_a_less_known_one(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        add_money(conn)
        add_payouts(conn)
        first = snaps.take_snapshot(conn, DAY, AFTER)
        # a new BTC wallet that never synced: the day's payouts are no longer all known,
        # so a retake finds only the expected 9,611 sat
        add_wallet(conn, "BTC", None, address="new")
        expected = snaps.take_snapshot(conn, DAY, AFTER + timedelta(hours=1))
        # and with the network readings gone too, nothing at all
        conn.execute(network_stats.delete())
        conn.execute(update(fleet_rollup_1d).values(hashrate_mean=330 * TH))
        unknown = snaps.take_snapshot(conn, DAY, AFTER + timedelta(hours=2))
    assert first.revenue is not None
    assert (first.revenue.sat, first.revenue.basis) == (15_456, Basis.ACTUAL)
    assert expected.revenue == first.revenue
    assert unknown.revenue == first.revenue
    # the rest of the snapshot was retaken
    assert unknown.hashrate_mean_hs == pytest.approx(330 * TH)
    assert unknown.taken_at == AFTER + timedelta(hours=2)
    with engine.connect() as conn:
        stored = snaps.get_snapshot(conn, DAY)
        data = conn.execute(select(snapshots.c.data)).scalar_one()
    assert stored == unknown
    assert '"basis":"actual"' in data  # the whole-snapshot JSON agrees


def test_the_job_retakes_a_day_once_every_btc_wallet_has_synced_past_it(engine, farm):
    with engine.begin() as conn:
        day_rollups(conn, farm)
        add_money(conn)
        # the wallet last synced at 23:58 on DAY: its payouts of the day are not all in
        wallet = add_wallet(conn, "BTC", at_day(23, 58), 12_000, 3_456)
        assert snaps.snapshot_job(conn, AFTER) == [DAY]
        taken = snaps.get_snapshot(conn, DAY)
        assert taken is not None and taken.revenue is not None
        assert (taken.revenue.sat, taken.revenue.basis) == (9_611, Basis.EXPECTED)
        # complete, and the wallet still behind: nothing to retake
        assert snaps.snapshot_job(conn, AFTER + timedelta(minutes=30)) == []
        conn.execute(
            update(wallets).where(wallets.c.id == wallet).values(last_success_at=at_day(0, 50, 1))
        )
        assert snaps.snapshot_job(conn, AFTER + timedelta(hours=1)) == [DAY]
        retaken = snaps.get_snapshot(conn, DAY)
        # actual now: it is not retaken again
        assert snaps.snapshot_job(conn, AFTER + timedelta(hours=2)) == []
    assert retaken is not None and retaken.revenue is not None
    assert (retaken.revenue.sat, retaken.revenue.basis) == (15_456, Basis.ACTUAL)


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
