"""History in real headless Chromium: the farm and miner hashrate charts with their range
buttons (the resolution read shown beside them, gaps as gaps), and the history page's
D/W/M/Q/Y comparison and daily snapshot table, on rollup and snapshot rows written
straight into the store with the numbers below."""

from __future__ import annotations

import math
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
from sqlalchemy import select

from rigwatch.config import Settings
from rigwatch.domain.history import Snapshot, SnapshotRevenue, SnapshotSource
from rigwatch.domain.models import Role
from rigwatch.domain.profit import Basis
from rigwatch.store import auth as store_auth
from rigwatch.store.snapshots import day_start, store_snapshot
from rigwatch.store.tables import (
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    miners,
    rollup_1d,
    rollup_1h,
    rollup_5m,
)
from rigwatch.store.timestamps import to_us
from tests.helpers import RunningCommander, sample, start_commander

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots")  # where the lead looks at the pages
HOSTILE_COIN = "<img src=x onerror=window.__pwned=1>"
MINER_KEY = "aa:00:00:00:00:01"
BIG_PAYOUT = 1_234_567_890_123  # 1.234567890123 XMR
MIN5_US = 300 * 1_000_000
HOUR_US = 3600 * 1_000_000
DAY_US = 86400 * 1_000_000
TH = 1e12
NEUTRAL = "\u2013"  # the neutral trend mark, an en dash
# A 1400 px window gives a chart ~1330 px wide, so as many points: 24 h reads 5-minute
# rows (288 < 1330 / 2, nothing coarser fills it), 30 d hourly ones (720 >= 1330 / 2),
# 1 y daily ones (hourly rows reach back only 35 days).
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}


@dataclass
class Farm:
    rc: RunningCommander
    today: date
    miner_id: int


def _after_midnight_if_close() -> datetime:
    """Now, but not within 90 s of a UTC midnight: the day must not turn mid-test."""
    now = datetime.now(UTC)
    left = (day_start(now.date()) + timedelta(days=1) - now).total_seconds()
    if left < 90:
        time.sleep(left + 1)
        now = datetime.now(UTC)
    return now


@pytest.fixture
def commander(tmp_path: Path) -> Iterator[RunningCommander]:
    # No scheduled jobs: the rows written below stay exactly as written.
    rc = start_commander(Settings(data_dir=tmp_path / "data", label="history farm"), jobs=[])
    try:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "alice", "correct horse battery", Role.VIEWER)
        yield rc
    finally:
        rc.stop()
        rc.engine.dispose()


def _ingest_miner(rc: RunningCommander, now: datetime) -> int:
    """One miner and today's events through the real ingest API; its id once stored."""
    with rc.engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "rack-h")
        found = store_auth.enroll(conn, token)
    assert found is not None
    # A sample every 5 minutes for the last 75 minutes: raw rows reach back past the
    # miner chart's 1 h window, so that window reads them.
    samples = [sample(key=MINER_KEY, ts=now - timedelta(minutes=5 * i)) for i in range(15, -1, -1)]
    for one in samples:
        one["miner"]["hostname"] = "s19-hist"

    def event(kind: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"ts": now.isoformat(), "kind": kind, "key": key, "message": kind, "data": data}

    events = [
        event("share_found", "hist:share:1", {"coin": "BTC"}),
        event("share_found", "hist:share:2", {"coin": "BTC"}),
        event("block_found", "hist:block:1", {"coin": "BTC", "block_height": 900_000}),
    ]
    with httpx.Client(base_url=rc.url, headers={"Authorization": f"Bearer {found[2]}"}) as s:
        reply = s.post("/api/v1/ingest", json={"seq": 1, "samples": samples, "events": events})
        assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with rc.engine.connect() as conn:
            miner_id = conn.execute(select(miners.c.id).where(miners.c.key == MINER_KEY)).scalar()
        if miner_id is not None:
            return int(miner_id)
        time.sleep(0.05)
    raise AssertionError("the ingested miner was not stored")


def _fleet(bucket: int, hashrate: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scope": "farm",
        "bucket": bucket,
        "miners": 1,
        "samples": 10,
        "up_s": 300.0,
        "hashrate_mean": hashrate,
        "hashrate_min": hashrate * 0.97,
        "hashrate_max": hashrate * 1.02,
        "expected_mean": 110 * TH,
        "power_mean": 3000.0,
        "temp_mean": 62.0,
        "temp_max": 70.0,
        "accepted": 20,
        "rejected": 0,
        "stale": 0,
    }
    return row | extra


def _per_miner(miner_id: int, bucket: int, hashrate: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "miner_id": miner_id,
        "bucket": bucket,
        "samples": 10,
        "up_s": 300.0,
        "hashrate_min": hashrate * 0.97,
        "hashrate_mean": hashrate,
        "hashrate_max": hashrate * 1.02,
        "expected_mean": 110 * TH,
        "temp_min": 60.0,
        "temp_mean": 62.0,
        "temp_max": 70.0,
        "power_min": 2950.0,
        "power_mean": 3000.0,
        "power_max": 3050.0,
        "accepted": 20,
        "rejected": 0,
        "stale": 0,
    }
    return row | extra


def _seed_rollups(rc: RunningCommander, now: datetime, miner_id: int) -> None:
    """5-minute rows for 48 h (2 h missing, 6-8 h ago), hourly rows for 35 days (day 10
    back missing), daily rows for 400 days (days 200-209 back missing); today's farm
    day row: 100 TH/s, 3000 W; the miner's: 3000 W for 10 h up (30 kWh)."""
    now_us = to_us(now)
    five = now_us - now_us % MIN5_US
    hour = now_us - now_us % HOUR_US
    day = now_us - now_us % DAY_US
    wave = lambda i: 100 * TH + 4 * TH * math.sin(i / 15)  # noqa: E731
    fleet_5m, miner_5m = [], []
    for i in range(48 * 12):
        bucket = five - i * MIN5_US
        if 6 * HOUR_US <= now_us - bucket < 8 * HOUR_US:
            continue
        fleet_5m.append(_fleet(bucket, wave(i)))
        miner_5m.append(_per_miner(miner_id, bucket, wave(i)))
    fleet_1h, miner_1h = [], []
    for i in range(35 * 24):
        if 10 * 24 <= i < 11 * 24:
            continue
        extra = {"up_s": 3600.0, "samples": 120, "accepted": 240}
        fleet_1h.append(_fleet(hour - i * HOUR_US, wave(i) - i * 0.01 * TH, **extra))
        miner_1h.append(_per_miner(miner_id, hour - i * HOUR_US, wave(i), **extra))
    fleet_1d, miner_1d = [], []
    for back in range(400):
        if 200 <= back < 210:
            continue
        hashrate = 100 * TH - back * 0.08 * TH
        extra = {"up_s": 86400.0, "samples": 2880, "accepted": 5000}
        fleet_1d.append(_fleet(day - back * DAY_US, hashrate, **extra))
        if back == 0:
            extra |= {"up_s": 36000.0}
        miner_1d.append(_per_miner(miner_id, day - back * DAY_US, hashrate, **extra))
    with rc.engine.begin() as conn:
        for table, rows in (
            (fleet_rollup_5m, fleet_5m),
            (fleet_rollup_1h, fleet_1h),
            (fleet_rollup_1d, fleet_1d),
            (rollup_5m, miner_5m),
            (rollup_1h, miner_1h),
            (rollup_1d, miner_1d),
        ):
            conn.execute(table.insert(), rows)


def _snapshot(day: date, hashrate: float | None, **extra: Any) -> Snapshot:
    fields: dict[str, Any] = {
        "day": day,
        "taken_at": day_start(day) + timedelta(days=1, minutes=5),
        "hashrate_mean_hs": hashrate,
        "expected_mean_hs": 110 * TH,
        "power_mean_w": 2800.0,
        "energy_kwh": 72.0,
        "efficiency_j_th": 35.0,
        "uptime_pct": 95.0,
        "miners_total": 1,
        "miners_online": 1,
        "miners_warning": 0,
        "miners_offline": 0,
        "accepted": 4000,
        "rejected": 10,
        "shares_found": 3,
        "blocks_found": 0,
        "source": SnapshotSource.DAY,
    }
    return Snapshot(**(fields | extra))


def _seed_snapshots(rc: RunningCommander, today: date) -> None:
    """Yesterday 80 TH/s with no block (a zero baseline) and an exact XMR payout (plus
    one in a coin whose name is markup) and 12,000 sat of revenue received; 2 days back
    9,611 sat expected; 3 days back revenue unknown; 4 days back taken mid-day (in
    progress); 5 days back without rollups (partial); 30 days back 50 TH/s. Nothing 7
    days back, so the week comparison has no past snapshot."""
    back = lambda n: today - timedelta(days=n)  # noqa: E731
    snaps = [
        _snapshot(
            back(1),
            80 * TH,
            payouts={"XMR": BIG_PAYOUT, HOSTILE_COIN: 7},
            revenue=SnapshotRevenue.of(12_000, Basis.ACTUAL, price=100_000.0),
        ),
        _snapshot(
            back(2),
            90 * TH,
            payouts={"BTC": 5000},
            revenue=SnapshotRevenue.of(9_611, Basis.EXPECTED),
        ),
        _snapshot(back(3), 95 * TH, revenue=SnapshotRevenue.of(None, Basis.UNKNOWN)),
        _snapshot(
            back(4),
            60 * TH,
            taken_at=day_start(back(4)) + timedelta(hours=12),
            partial=True,
            source=SnapshotSource.HOUR,
        ),
        _snapshot(
            back(5),
            None,
            expected_mean_hs=None,
            power_mean_w=None,
            energy_kwh=None,
            efficiency_j_th=None,
            uptime_pct=None,
            accepted=None,
            rejected=None,
            miners_online=0,
            miners_offline=1,
            shares_found=0,
            partial=True,
            source=SnapshotSource.NONE,
        ),
        _snapshot(back(30), 50 * TH),
    ]
    with rc.engine.begin() as conn:
        for snap in snaps:
            store_snapshot(conn, snap)


@pytest.fixture
def farm(commander: RunningCommander) -> Farm:
    now = _after_midnight_if_close()
    miner_id = _ingest_miner(commander, now)
    _seed_rollups(commander, now, miner_id)
    _seed_snapshots(commander, now.date())
    return Farm(commander, now.date(), miner_id)


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(f"{url}/login?next=/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    expect(page).to_have_url(url + "/")


def shoot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / name)


def not_pwned(page: Page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"


def cells(row: Locator) -> list[str]:
    return [t.strip() for t in row.locator("td").all_inner_texts()]


def test_the_farm_and_miner_charts_switch_range_and_show_the_resolution_read(
    browser: Browser, farm: Farm, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    sign_in(page, farm.rc.url)
    expect(page.locator("#miner-rows tr[data-id]")).to_have_count(1)  # the table is unchanged

    chart = page.get_by_test_id("farm-chart")
    label = page.get_by_test_id("farm-chart-resolution")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-resolution", "5m")  # 24 h by default
    expect(label).to_contain_text("5-minute rollups")
    expect(chart).to_have_attribute("data-points", "289")
    assert int(chart.get_attribute("data-gaps") or "0") >= 24  # the 2 h without rows
    expect(page.get_by_test_id("farm-chart-note")).to_be_hidden()
    shoot(page, tmp_path, "overview-chart.png")

    page.get_by_role("button", name="30 d").click()
    expect(chart).to_have_attribute("data-resolution", "1h")
    expect(label).to_contain_text("hourly rollups")
    expect(chart).to_have_attribute("data-range", "2592000")
    assert int(chart.get_attribute("data-points") or "0") >= 720
    assert int(chart.get_attribute("data-gaps") or "0") >= 24  # the day without hourly rows
    page.get_by_role("button", name="1 y").click()
    expect(chart).to_have_attribute("data-resolution", "1d")
    expect(label).to_contain_text("daily rollups")
    assert 365 <= int(chart.get_attribute("data-points") or "0") <= 367
    assert int(chart.get_attribute("data-gaps") or "0") >= 10  # days 200-209 back
    expect(chart.locator("canvas")).to_have_count(1)
    page.get_by_role("button", name="7 d").click()
    expect(chart).to_have_attribute("data-resolution", "1h")  # 5-minute rows reach back 48 h
    page.get_by_role("button", name="1 h").click()
    expect(chart).to_have_attribute("data-resolution", "5m")
    expect(chart).to_have_attribute("data-points", "13")

    page.get_by_role("link", name="s19-hist").click()
    mchart = page.get_by_test_id("hashrate-chart")
    mlabel = page.get_by_test_id("chart-resolution")
    expect(mchart.locator("canvas")).to_have_count(1)
    expect(mchart).to_have_attribute("data-resolution", "raw")  # 1 h by default
    expect(mlabel).to_contain_text("raw samples")
    assert 12 <= int(mchart.get_attribute("data-points") or "0") <= 13
    page.get_by_role("button", name="24 h").click()
    expect(mchart).to_have_attribute("data-resolution", "5m")
    expect(mlabel).to_contain_text("5-minute rollups")
    expect(mchart).to_have_attribute("data-points", "289")
    page.get_by_role("button", name="1 y").click()
    expect(mchart).to_have_attribute("data-resolution", "1d")
    expect(mlabel).to_contain_text("daily rollups")
    expect(page.get_by_role("button", name="1 y")).to_have_attribute("aria-pressed", "true")
    expect(mchart.locator("canvas")).to_have_count(1)
    shoot(page, tmp_path, "miner-chart.png")
    page.close()


def test_the_history_page_compares_periods_and_lists_the_snapshots(
    browser: Browser, farm: Farm, tmp_path: Path
) -> None:
    today = farm.today
    page = browser.new_page(viewport=VIEWPORT)
    sign_in(page, farm.rc.url)
    page.get_by_test_id("main-nav").get_by_role("link", name="History").click()
    expect(page).to_have_url(farm.rc.url + "/history")

    rows = page.locator("#comparison-rows")
    metric = lambda name: rows.locator(f'tr[data-metric="{name}"]')  # noqa: E731
    expect(metric("hashrate_mean_hs")).to_have_count(1)
    assert cells(metric("hashrate_mean_hs")) == [
        "Hashrate (mean)",
        "100.00 TH/s",
        "80.00 TH/s",
        "+20.00 TH/s",
        "+25.0 %",
        "▲",
    ]
    assert cells(metric("efficiency_j_th")) == [
        "Efficiency",
        "30.0 J/TH",
        "35.0 J/TH",
        "-5.0 J/TH",
        "-14.3 %",
        "▼",
    ]
    expect(metric("efficiency_j_th").locator("td.trend.good")).to_have_count(1)  # fewer J/TH
    assert cells(metric("expected_mean_hs"))[3:] == ["0.00 H/s", "0.0 %", NEUTRAL]
    # A zero baseline: no block yesterday, one today: a trend but no percentage.
    assert cells(metric("blocks_found")) == ["Blocks found", "1", "0", "+1", "—", "▲"]
    assert cells(metric("shares_found")) == ["Shares found", "2", "3", "-1", "-33.3 %", "▼"]
    assert cells(metric("energy_kwh"))[1:3] == ["30.0 kWh", "72.0 kWh"]
    assert cells(metric("payouts.XMR")) == [
        "Payouts (XMR)",
        "0.000000000000 XMR",
        "1.234567890123 XMR",
        "-1.234567890123 XMR",
        "-100.0 %",
        "▼",
    ]
    # Revenue: yesterday's 12,000 sat received; today's unknown (no network readings)
    assert cells(metric("revenue_sat")) == ["Revenue", "n/a", "0.00012000 BTC"] + ["n/a"] * 3
    hostile = cells(metric(f"payouts.{HOSTILE_COIN}"))
    assert hostile[0] == f"Payouts ({HOSTILE_COIN})"
    assert hostile[2] == f"7 atomic {HOSTILE_COIN}"
    expect(page.get_by_test_id("partial-notice")).to_be_hidden()
    yesterday = (today - timedelta(days=1)).isoformat()
    expect(page.get_by_test_id("comparison-about")).to_contain_text(yesterday)
    expect(page.locator("#comparison-rows img")).to_have_count(0)

    table = page.get_by_test_id("snapshot-table")
    days = table.locator("tbody tr")
    expected_days = [(today - timedelta(days=n)).isoformat() for n in (1, 2, 3, 4, 5, 30)]
    expect(days).to_have_count(6)
    assert [days.nth(i).get_attribute("data-day") for i in range(6)] == expected_days
    first = days.nth(0)
    expect(first.locator('[data-col="hashrate"]')).to_have_text("80.00 TH/s")
    expect(first.locator('[data-col="payouts"]')).to_contain_text("1.234567890123 XMR")
    expect(first.locator('[data-col="payouts"]')).to_contain_text(f"7 atomic {HOSTILE_COIN}")
    expect(first).to_contain_text("2.80 kW")
    expect(first).to_contain_text("72.0 kWh")
    expect(first).to_contain_text("35.0 J/TH")
    expect(first).to_contain_text("95.0 %")
    expect(days.nth(1).locator('[data-col="payouts"]')).to_have_text("0.00005000 BTC")
    expect(table.locator("thead th", has_text="Revenue")).to_have_count(1)
    revenue = [days.nth(i).locator('[data-col="revenue"]') for i in range(4)]
    expect(revenue[0]).to_have_text("0.00012000 BTC")  # received: exact
    expect(revenue[0]).to_have_attribute("title", re.compile(r"12\.00 USD"))
    expect(revenue[1]).to_have_text("≈ 0.00009611 BTC")  # expected
    expect(revenue[2]).to_have_text("—")  # unknown, not 0
    expect(revenue[3]).to_have_text("—")  # taken before revenue was kept
    expect(days.nth(3)).to_have_class("partial")
    expect(days.nth(3).locator("td").first).to_contain_text("in progress")
    expect(days.nth(4)).to_have_class("partial")
    expect(days.nth(4).locator("td").first).to_contain_text("partial")
    expect(days.nth(4).locator('[data-col="hashrate"]')).to_have_text("—")
    expect(table.locator("img")).to_have_count(0)
    not_pwned(page)
    shoot(page, tmp_path, "history.png")

    # A week back has no snapshot: a clear notice, and n/a where a side is missing.
    page.get_by_role("button", name="W", exact=True).click()
    notice = page.get_by_test_id("partial-notice")
    expect(notice).to_be_visible()
    week_ago = (today - timedelta(days=7)).isoformat()
    expect(notice).to_contain_text(f"no snapshot of {week_ago}")
    expect(notice).to_contain_text("Hashrate (mean)")
    expect(notice).to_contain_text("Blocks found")
    expect(metric("hashrate_mean_hs")).to_have_attribute("data-trend", "unavailable")
    assert cells(metric("hashrate_mean_hs")) == [
        "Hashrate (mean)",
        "100.00 TH/s",
        "n/a",
        "n/a",
        "n/a",
        "n/a",
    ]
    assert cells(metric("blocks_found"))[2:] == ["n/a", "n/a", "n/a", "n/a"]
    expect(page).to_have_url(farm.rc.url + "/history#W")
    shoot(page, tmp_path, "history-week.png")

    # A month back: 50 TH/s then.
    page.get_by_role("button", name="M", exact=True).click()
    expect(metric("hashrate_mean_hs").locator("td").nth(4)).to_have_text("+100.0 %")
    assert cells(metric("hashrate_mean_hs"))[2] == "50.00 TH/s"
    not_pwned(page)
    page.close()


def test_the_history_page_reads_well_before_the_first_snapshot(
    browser: Browser, commander: RunningCommander, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    sign_in(page, commander.url)
    chart = page.get_by_test_id("farm-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-resolution", "5m")
    expect(page.get_by_test_id("farm-chart-note")).to_contain_text("No hashrate recorded")

    page.goto(commander.url + "/history")
    expect(page.get_by_test_id("history-empty")).to_contain_text("No daily snapshot yet")
    expect(page.get_by_test_id("snapshot-table")).to_have_count(0)
    notice = page.get_by_test_id("partial-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("no snapshot of")
    rows = page.locator("#comparison-rows tr[data-metric]")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        assert cells(rows.nth(i))[2] == "n/a"  # never 0
    page.screenshot(path=str(tmp_path / "history-empty.png"), full_page=True)
    page.close()
