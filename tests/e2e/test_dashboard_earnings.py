"""Money in real headless Chromium: the overview's network and price cards with the age of
each value (a stale one flagged, one never fetched shown as "—"), the earnings page (cards
with their basis, daily and monthly tables, currency switch remembered, payouts searched,
paged and downloaded as CSV) and the blocks page (network blocks, the farm's block, the
pools' blocks, solo odds). Network, price, payout, power-price, rollup and pool rows are
written straight into the store with the figures below; the miner and its block come in
through the real ingest API. A pool name that is markup is shown as text.

Worked figures for yesterday (one S19 Pro at 100 TH/s and 3000 W all day):
- paid: 0.01000000 + 0.00234567 BTC = 1,234,567 sat (actual: both BTC wallets synced
  after the day ended)
- revenue: 1,234,567 sat x 100,000 USD / 1e8 sat = 1,234.567 USD -> "$1,234.57";
  at 90,000 EUR: 1,111.1103 EUR -> "€1,111.11"
- power: 3000 W x 86,400 s = 72 kWh x 0.05 USD = 3.60 USD -> "$3.60"; in EUR through the
  day's prices: 3.60 x 90,000 / 100,000 = 3.24 EUR -> "€3.24"
- profit: 1,234.567 - 3.60 = 1,230.967 USD -> "$1,230.97"; 1,111.1103 - 3.24 = 1,107.8703
  EUR -> "€1,107.87"
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from rigwatch.domain.models import Role
from rigwatch.domain.payouts import Backend
from rigwatch.store import auth as store_auth
from rigwatch.store import payouts as store_payouts
from rigwatch.store.tables import (
    miners,
    network_blocks,
    network_stats,
    payments,
    pool_account_samples,
    pool_accounts,
    pool_blocks,
    prices,
    rollup_1d,
    rollup_1h,
    sentries,
    site_power,
    wallets,
)
from tests.helpers import RunningCommander, running_commander, sample

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots")  # where the lead looks at the pages
HOSTILE = "<img src=x onerror=window.__pwned=1>"
MINER_KEY = "ee:00:00:00:00:01"
TH = 1e12
DIFFICULTY = 1.2e14
NETWORK_HS = 8.5e20
HEIGHT = 900_100
FARM_BLOCK = 900_095
REWARD_SAT = 325_000_000  # subsidy 312,500,000 at this height + 12,500,000 fees
FEES_SAT = 12_500_000
WALLET_A = "bc1qoceanpayout000000000000000000000000000a"
WALLET_B = "bc1qsolowallet0000000000000000000000000000b"
EXTRA_PAYMENTS = 28  # small coinbase payments two days back: 31 payments, two pages
FRESH_AGE = re.compile(r"^\d+ (s|min) ago$")  # a few minutes (less just after midnight)
VIEWPORT: ViewportSize = {"width": 1500, "height": 1000}


def us(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000)


def hexid(n: int, prefix: str = "") -> str:
    return (prefix + f"{n:x}").rjust(64, "0")


@dataclass
class Farm:
    rc: RunningCommander
    now: datetime
    today: date
    miner_id: int


def _now_off_midnight() -> datetime:
    """Now, but not within 3 minutes of a UTC midnight: the day must not turn mid-test."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    left = (midnight - now).total_seconds()
    if left < 180:
        time.sleep(left + 1)
        now = datetime.now(UTC)
    return now


def _ingest(rc: RunningCommander, now: datetime) -> int:
    """The miner (reporting now) and its block through the real ingest API; its id."""
    with rc.engine.begin() as conn:
        store_auth.create_user(conn, "alice", "correct horse battery", Role.VIEWER)
        _id, token = store_auth.create_sentry(conn, "rack-e")
        found = store_auth.enroll(conn, token)
    assert found is not None
    one = sample(key=MINER_KEY, ts=now, hashrate_hs=100 * TH, power_w=3000.0)
    one["miner"]["hostname"] = "s19-earn"
    events = [
        {
            "ts": (now - timedelta(minutes=30)).isoformat(),
            "kind": "block_found",
            "key": f"btc:block:{FARM_BLOCK}",
            "message": f"Bitcoin block {FARM_BLOCK} found",
            "miner_key": MINER_KEY,
            "data": {"coin": "BTC", "block_height": FARM_BLOCK, "by": "you", "accepted": True},
        },
        {
            "ts": (now - timedelta(hours=5)).isoformat(),
            "kind": "block_found",
            "key": "p2pool:block:3300001",
            "message": "Monero block 3300001 found by someone else in this p2pool",
            "data": {"coin": "XMR", "block_height": 3_300_001, "by": "someone_else"},
        },
    ]
    with httpx.Client(base_url=rc.url, headers={"Authorization": f"Bearer {found[2]}"}) as s:
        reply = s.post("/api/v1/ingest", json={"seq": 1, "samples": [one], "events": events})
        assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with rc.engine.connect() as conn:
            miner_id = conn.execute(select(miners.c.id).where(miners.c.key == MINER_KEY)).scalar()
        if miner_id is not None:
            return int(miner_id)
        time.sleep(0.05)
    raise AssertionError("the ingested miner was not stored")


def _rollup(miner_id: int, bucket: datetime, up_s: float) -> dict[str, Any]:
    return {
        "miner_id": miner_id,
        "bucket": us(bucket),
        "samples": max(1, int(up_s // 30)),
        "up_s": up_s,
        "hashrate_min": 99 * TH,
        "hashrate_mean": 100 * TH,
        "hashrate_max": 101 * TH,
        "expected_mean": 100 * TH,
        "temp_min": 60.0,
        "temp_mean": 62.0,
        "temp_max": 70.0,
        "power_min": 2990.0,
        "power_mean": 3000.0,
        "power_max": 3010.0,
        "accepted": 1000,
        "rejected": 0,
        "stale": 0,
    }


def _stats(ts: datetime, **figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "chain": "BTC",
        "ts": us(ts),
        "height": None,
        "difficulty": None,
        "network_hashrate_hs": None,
        "next_retarget_height": None,
        "next_retarget_ts": None,
        "difficulty_change_pct": None,
        "fee_fast": None,
        "fee_half_hour": None,
        "fee_hour": None,
        "fee_economy": None,
    }
    return row | figures


def _seed_work(conn: Connection, miner_id: int, now: datetime, today: datetime) -> None:
    """Daily rollups two days back, yesterday (all day) and today so far; hourly ones for
    the last day (the solo effort reads them); 0.05 USD/kWh and a 2 % pool fee."""
    so_far = max(60.0, (now - today).total_seconds())
    conn.execute(
        rollup_1d.insert(),
        [
            _rollup(miner_id, today - timedelta(days=2), 86400.0),
            _rollup(miner_id, today - timedelta(days=1), 86400.0),
            _rollup(miner_id, today, so_far),
        ],
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    hourly = [_rollup(miner_id, hour - timedelta(hours=h), 3600.0) for h in range(24)]
    conn.execute(rollup_1h.insert(), hourly)
    site_id = conn.execute(select(sentries.c.site_id).where(sentries.c.name == "rack-e")).scalar()
    conn.execute(
        site_power.insert().values(
            site_id=site_id,
            currency="USD",
            price_per_kwh=0.05,
            tou="[]",
            pool_fee_pct=2.0,
            updated_at=us(now),
        )
    )


def _seed_network(conn: Connection, now: datetime, today: datetime) -> None:
    """Stats: the day figures two days back and yesterday; now: height, difficulty,
    hashrate and the next adjustment 2 minutes ago, fees only 40 minutes ago (stale).
    Prices at noon of each day and 3 minutes ago (USD and EUR; never JPY). Blocks each day,
    one mined by a pool whose name is markup."""
    recent = lambda s: max(today + timedelta(seconds=1), now - timedelta(seconds=s))  # noqa: E731
    day_figures = {"difficulty": DIFFICULTY, "network_hashrate_hs": NETWORK_HS}
    conn.execute(
        network_stats.insert(),
        [
            _stats(today - timedelta(days=2) + timedelta(hours=12), height=899_800, **day_figures),
            _stats(today - timedelta(days=1) + timedelta(hours=12), height=899_950, **day_figures),
            _stats(
                now - timedelta(minutes=40),
                fee_fast=12.0,
                fee_half_hour=10.0,
                fee_hour=8.0,
                fee_economy=3.0,
            ),
            _stats(
                recent(120),
                height=HEIGHT,
                next_retarget_height=903_168,
                next_retarget_ts=us(now + timedelta(days=3, hours=4)),
                difficulty_change_pct=2.31,
                **day_figures,
            ),
        ],
    )
    quotes = [
        (today - timedelta(days=2) + timedelta(hours=12), 99_000.0, 89_000.0),
        (today - timedelta(days=1) + timedelta(hours=12), 100_000.0, 90_000.0),
        (recent(180), 101_000.0, 91_000.0),
    ]
    conn.execute(
        prices.insert(),
        [
            {"coin": "BTC", "currency": cur, "ts": us(ts), "price": price}
            for ts, usd, eur in quotes
            for cur, price in (("USD", usd), ("EUR", eur))
        ],
    )
    blocks = [
        (899_810, today - timedelta(days=2) + timedelta(hours=13), "Foundry USA"),
        (899_960, today - timedelta(days=1) + timedelta(hours=13), "AntPool"),
        (HEIGHT - 1, recent(900), "ViaBTC"),
        (HEIGHT, recent(300), HOSTILE),
    ]
    conn.execute(
        network_blocks.insert(),
        [
            {
                "chain": "BTC",
                "height": height,
                "hash": hexid(height, "0000000000000000000"),
                "ts": us(ts),
                "pool": pool,
                "fees_sat": FEES_SAT,
                "reward_sat": REWARD_SAT,
                "tx_count": 3000 + height % 100,
                "seen_at": us(now),
            }
            for height, ts, pool in blocks
        ],
    )


def _seed_payouts(conn: Connection, now: datetime, today: datetime) -> None:
    """Two BTC wallets synced now. Two days back: 0.005 BTC to A and 28 x 1000 sat to B;
    yesterday: 0.01 BTC to A and 0.00234567 BTC to B."""
    ids = {}
    for address, label in ((WALLET_A, "Ocean payouts"), (WALLET_B, "Solo wallet")):
        ids[address] = store_payouts.create_wallet(
            conn,
            coin="BTC",
            address=address,
            backend=Backend.ESPLORA,
            base_url="http://127.0.0.1:9/api",
            label=label,
            now=now - timedelta(days=30),
        )
    conn.execute(update(wallets).values(last_success_at=us(now), last_sync_at=us(now)))
    two_back = today - timedelta(days=2) + timedelta(hours=9)
    yesterday = today - timedelta(days=1) + timedelta(hours=9)
    rows = [
        (WALLET_A, 1, 500_000, two_back, 899_805),
        (WALLET_A, 2, 1_000_000, yesterday, 899_955),
        (WALLET_B, 3, 234_567, yesterday + timedelta(hours=2), 899_957),
        *(
            (WALLET_B, 100 + i, 1000, two_back + timedelta(minutes=i), 899_806)
            for i in range(EXTRA_PAYMENTS)
        ),
    ]
    conn.execute(
        payments.insert(),
        [
            {
                "wallet_id": ids[address],
                "txid": hexid(n, "ab"),
                "vout": 0,
                "amount_atomic": amount,
                "block_height": height,
                "block_hash": hexid(height, "00000000"),
                "ts": us(ts),
                "coinbase": address == WALLET_B,
                "created_at": us(now),
            }
            for address, n, amount, ts, height in rows
        ],
    )
    days = [(today - timedelta(days=n)).date().isoformat() for n in (1, 2)]
    final = store_payouts.final_before(now, 365)
    for wallet_id in ids.values():
        store_payouts.recompute_days(conn, wallet_id, "BTC", days, final)


def _seed_pool(conn: Connection, now: datetime, today: datetime) -> None:
    """An Ocean account whose name is markup, with one block found by the pool."""
    account_id: int = conn.execute(
        pool_accounts.insert()
        .values(
            kind="ocean",
            name=HOSTILE,
            base_url="http://127.0.0.1:9/ocean",
            account=WALLET_A,
            interval_s=300,
            enabled=True,
            created_at=us(now - timedelta(days=30)),
            last_sync_at=us(now),
            last_success_at=us(now),
            consecutive_failures=0,
        )
        .returning(pool_accounts.c.id)
    ).scalar_one()
    conn.execute(
        pool_account_samples.insert().values(
            account_id=account_id, ts=us(now), hashrates='{"5m": 1.0e14}', coin="BTC"
        )
    )
    conn.execute(
        pool_blocks.insert().values(
            account_id=account_id,
            height=899_990,
            hash=hexid(899_990, "000000000000000000011"),
            ts=us(now - timedelta(hours=6)),
            reward_atomic=318_000_000,
            finder="ocean.worker-7",
            first_seen=us(now),
        )
    )


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    data_dir = tmp_path_factory.mktemp("earnings") / "data"
    # No scheduled jobs: the rows written below stay exactly as written.
    with running_commander(data_dir, jobs=[], label="earnings farm") as rc:
        now = _now_off_midnight()
        today = datetime.combine(now.date(), datetime.min.time(), UTC)
        miner_id = _ingest(rc, now)
        with rc.engine.begin() as conn:
            _seed_work(conn, miner_id, now, today)
            _seed_network(conn, now, today)
            _seed_payouts(conn, now, today)
            _seed_pool(conn, now, today)
        yield Farm(rc, now, now.date(), miner_id)


def sign_in(page: Page, url: str, path: str = "/") -> None:
    page.goto(url + path)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    expect(page).to_have_url(url + path)


def shoot(page: Page, tmp_path: Path, name: str, target: Locator | None = None) -> None:
    path = tmp_path / name
    if target is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / name)


def not_pwned(page: Page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"


def watch_errors(page: Page) -> list[str]:
    """Script errors and failed requests of the page, collected as it runs."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def cells(row: Locator) -> list[str]:
    return [t.strip() for t in row.locator("td").all_inner_texts()]


def test_the_overview_shows_network_and_price_cards_with_the_age_of_each_value(
    browser: Browser, farm: Farm, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    errors = watch_errors(page)
    sign_in(page, farm.rc.url)
    cards = page.get_by_test_id("network-cards")
    expect(cards).to_have_attribute("data-loaded", "true")

    height = page.get_by_test_id("net-height")
    expect(height.locator("[data-value]")).to_have_text("900,100")
    expect(height).to_have_attribute("data-state", "fresh")
    expect(height.locator("[data-age-line]")).to_have_text(FRESH_AGE)
    expect(page.get_by_test_id("net-difficulty").locator("[data-value]")).to_have_text("120.00 T")
    expect(page.get_by_test_id("net-hashrate").locator("[data-value]")).to_have_text("850.00 EH/s")
    adjustment = page.get_by_test_id("net-adjustment")
    expect(adjustment.locator("[data-value]")).to_have_text("+2.31 % est.")
    expect(adjustment.locator("[data-detail]")).to_have_text("at height 903,168 · in 3 d 3 h")
    expect(adjustment).to_have_attribute("data-state", "fresh")

    # Fees were last read 40 minutes ago: shown with their age, flagged stale.
    fees = page.get_by_test_id("net-fees")
    expect(fees.locator("[data-value]")).to_have_text("12 fast")
    expect(fees.locator("[data-detail]")).to_have_text("30 min 10 · 1 h 8 · economy 3")
    expect(fees).to_have_attribute("data-state", "stale")
    expect(fees.get_by_test_id("stale")).to_have_text("stale")
    expect(fees.locator("[data-age-line]")).to_contain_text("40 min ago")
    expect(height.get_by_test_id("stale")).to_have_count(0)

    price = page.get_by_test_id("net-price")
    expect(price.locator("[data-value]")).to_have_text("$101,000.00")
    expect(price.locator("[data-age-line]")).to_have_text(FRESH_AGE)
    shoot(page, tmp_path, "overview-network.png", cards)

    # No JPY price was ever fetched: "—", never a stand-in.
    page.get_by_test_id("currency-select").select_option("JPY")
    expect(price.locator("[data-value]")).to_have_text("—")
    expect(price.locator("[data-age-line]")).to_have_text("never fetched in JPY")
    expect(price).to_have_attribute("data-state", "never")
    page.get_by_test_id("currency-select").select_option("EUR")
    expect(price.locator("[data-value]")).to_have_text("€91,000.00")
    expect(page.locator("#miner-rows tr[data-id]")).to_have_count(1)  # the farm table still works
    assert errors == []
    page.close()


def test_the_earnings_page_shows_basis_daily_and_monthly_figures_currency_and_payouts(
    browser: Browser, farm: Farm, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, farm.rc.url)
    page.get_by_test_id("main-nav").get_by_role("link", name="Earnings").click()
    expect(page).to_have_url(farm.rc.url + "/earnings")
    expect(page.get_by_test_id("earn-cards")).to_have_attribute("data-loaded", "USD:30")

    yesterday = (farm.today - timedelta(days=1)).isoformat()
    two_back = (farm.today - timedelta(days=2)).isoformat()

    # Cards: power cost measured and priced (actual); revenue actual for the days the
    # wallets cover, expected today, so the 30 days are "expected".
    revenue = page.get_by_test_id("card-revenue")
    expect(revenue.locator("h2 .basis")).to_have_text("expected")
    expect(revenue.locator("[data-yesterday]")).to_contain_text("$1,234.57")
    expect(revenue.locator("[data-yesterday] .basis")).to_have_text("actual")
    expect(revenue.locator("[data-today] .basis")).to_have_text("expected")
    expect(revenue.locator("[data-span]")).to_contain_text("3 with mining data")
    cost = page.get_by_test_id("card-power_cost")
    expect(cost.locator("h2 .basis")).to_have_text("actual")
    expect(cost.locator("[data-yesterday]")).to_contain_text("$3.60")
    profit = page.get_by_test_id("card-profit")
    expect(profit.locator("[data-yesterday]")).to_contain_text("$1,230.97")
    expect(profit.locator("[data-yesterday] .basis")).to_have_text("actual")
    expect(page.get_by_test_id("card-hashprice").locator("h2 .basis")).to_have_text("actual")

    # Daily table: newest first, today's figures expected, yesterday's actual and exact.
    daily = page.get_by_test_id("daily-table").locator("tbody tr")
    expect(daily).to_have_count(3)
    assert [daily.nth(i).get_attribute("data-day") for i in range(3)] == [
        farm.today.isoformat(),
        yesterday,
        two_back,
    ]
    row = page.locator(f'#daily-rows tr[data-day="{yesterday}"]')
    expect(row.locator('[data-col="revenue"]')).to_have_text("$1,234.57")
    expect(row.locator('[data-col="revenue"]')).to_have_attribute("data-basis", "actual")
    expect(row.locator('[data-col="power_cost"]')).to_have_text("$3.60")
    expect(row.locator('[data-col="profit"]')).to_have_text("$1,230.97")
    expect(row.locator('[data-col="received"]')).to_have_text("0.01234567 BTC")
    assert cells(row)[4] == "0.01234567 BTC"  # revenue in BTC, the payouts exactly
    today_row = page.locator(f'#daily-rows tr[data-day="{farm.today.isoformat()}"]')
    expect(today_row.locator('[data-col="revenue"]')).to_have_attribute("data-basis", "expected")
    expect(today_row.locator('[data-col="revenue"]')).to_contain_text("≈ $")
    expect(today_row).to_contain_text("so far")
    earlier = page.locator(f'#daily-rows tr[data-day="{two_back}"] [data-col="received"]')
    expect(earlier).to_have_text("0.00528000 BTC")

    # Monthly: sums of the daily rows, received exact.
    months = page.get_by_test_id("monthly-table").locator("tbody tr")
    month_days = {farm.today.isoformat()[:7], yesterday[:7], two_back[:7]}
    expect(months).to_have_count(len(month_days))
    paid = {yesterday[:7]: 0, two_back[:7]: 0}
    paid[yesterday[:7]] += 1_234_567
    paid[two_back[:7]] += 528_000
    for month, sats in paid.items():
        got = page.locator(f'#monthly-rows tr[data-month="{month}"] [data-col="received"]')
        expect(got).to_have_text(f"0.{sats:08d} BTC")

    # Currency: EUR reloads the figures and is remembered.
    page.get_by_test_id("currency-select").select_option("EUR")
    expect(page.get_by_test_id("earn-cards")).to_have_attribute("data-loaded", "EUR:30")
    expect(row.locator('[data-col="revenue"]')).to_have_text("€1,111.11")
    expect(row.locator('[data-col="power_cost"]')).to_have_text("€3.24")
    expect(row.locator('[data-col="profit"]')).to_have_text("€1,107.87")
    expect(revenue.locator("[data-yesterday]")).to_contain_text("€1,111.11")
    page.reload()
    expect(page.get_by_test_id("currency-select")).to_have_value("EUR")
    expect(page.get_by_test_id("earn-cards")).to_have_attribute("data-loaded", "EUR:30")
    expect(row.locator('[data-col="revenue"]')).to_have_text("€1,111.11")

    # Payouts: 31 in pages of 25; a search narrows them; the CSV holds what matches.
    payouts = page.get_by_test_id("payout-table").locator("tbody tr[data-payment]")
    expect(payouts).to_have_count(25)
    expect(page.get_by_test_id("payout-page")).to_have_text("1\u201325 of 31")
    expect(page.get_by_test_id("payout-prev")).to_be_disabled()
    page.get_by_test_id("payout-next").click()
    expect(page.get_by_test_id("payout-page")).to_have_text("26\u201331 of 31")
    expect(payouts).to_have_count(6)
    expect(page.get_by_test_id("payout-next")).to_be_disabled()
    page.get_by_test_id("payout-search").fill("ocean")
    expect(page.get_by_test_id("payout-count")).to_have_text("· 2 payments match")
    expect(payouts).to_have_count(2)
    expect(payouts.first.locator('[data-col="amount"]')).to_have_text("0.01000000 BTC")
    expect(payouts.first).to_contain_text("Ocean payouts")
    expect(page.get_by_test_id("payout-csv")).to_have_attribute(
        "href", "/earnings/payments.csv?q=ocean"
    )
    shoot(page, tmp_path, "earnings.png")

    with page.expect_download() as downloading:
        page.get_by_test_id("payout-csv").click()
    download = downloading.value
    assert download.suggested_filename.startswith("payments-")
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["amount"], r["amount_atomic"], r["wallet_label"]) for r in rows] == [
        ("0.01000000", "1000000", "Ocean payouts"),
        ("0.00500000", "500000", "Ocean payouts"),
    ]
    assert {r["address"] for r in rows} == {WALLET_A}
    not_pwned(page)
    assert errors == []
    context.close()


def test_the_blocks_page_lists_network_farm_and_pool_blocks_with_markup_as_text(
    browser: Browser, farm: Farm, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    errors = watch_errors(page)
    sign_in(page, farm.rc.url)
    page.get_by_test_id("main-nav").get_by_role("link", name="Blocks").click()
    expect(page).to_have_url(farm.rc.url + "/blocks")
    expect(page.locator("body")).to_have_attribute("data-loaded", "USD")

    network = page.get_by_test_id("network-blocks").locator("tbody tr[data-height]")
    expect(network).to_have_count(4)
    newest = page.locator(f'tr[data-height="{HEIGHT}"]')
    assert cells(newest)[0] == "900,100"
    expect(newest.locator('[data-col="pool"]')).to_have_text(HOSTILE)  # text, not markup
    assert cells(newest)[4:6] == ["0.12500000 BTC", "3.25000000 BTC"]

    farm_blocks = page.get_by_test_id("farm-blocks").locator("tbody tr[data-event]")
    expect(farm_blocks).to_have_count(1)
    ours = cells(farm_blocks.first)
    assert ours[1:5] == ["BTC", "900,095", "s19-earn", "accepted"]
    assert ours[5].endswith("%")  # the effort, from the hourly work and the difficulty
    expect(page.get_by_test_id("solo-chance")).not_to_have_text("—")
    expect(page.get_by_test_id("solo-wait")).to_contain_text("years")
    expect(page.get_by_test_id("solo-effort")).to_contain_text("%")

    pool_rows = page.get_by_test_id("pool-blocks").locator("tbody tr")
    expect(pool_rows).to_have_count(2)  # the Ocean account's block and P2Pool's from its log
    ocean = page.locator("#pool-block-rows tr:not([data-pool=log])")
    expect(ocean.locator('[data-col="pool"]')).to_contain_text(HOSTILE)
    expect(ocean).to_contain_text("3.18000000 BTC")
    expect(ocean).to_contain_text("ocean.worker-7")
    expect(page.locator('#pool-block-rows tr[data-pool="log"]')).to_contain_text(
        "someone else in this P2Pool"
    )
    expect(page.locator("main img")).to_have_count(0)
    shoot(page, tmp_path, "blocks.png")
    not_pwned(page)
    assert errors == []
    page.close()
