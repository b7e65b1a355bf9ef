"""Rigs, hosts and P2Pool in real headless Chromium: the miner table's kind filter, a GPU
rig's devices and host health, the P2Pool page's nodes, events, exact payouts and bar
charts, and miner-supplied strings shown as text, never run as markup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, running_commander, sample

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots")  # where the lead looks at the pages
HOSTILE = "<img src=x onerror=window.__pwned=1>"
HOSTILE_WORKER = "<img src=x onerror=window.__pwned=2>"
RIG_KEY = "rig:gpu-1"
BIG_PAYOUT = 1_234_567_890_123  # 1.234567890123 XMR
SMALL_PAYOUT = 350_000_000  # 0.000350000000 XMR


def _sentry(rc: RunningCommander) -> httpx.Client:
    with rc.engine.begin() as conn:
        store_auth.create_user(conn, "alice", "correct horse battery", Role.VIEWER)
        _id, token = store_auth.create_sentry(conn, "rig-room")
        found = store_auth.enroll(conn, token)
    assert found is not None
    return httpx.Client(base_url=rc.url, headers={"Authorization": f"Bearer {found[2]}"})


def ingest(sentry: httpx.Client, seq: int, **parts: list[dict[str, Any]]) -> None:
    body: dict[str, Any] = {"seq": seq, "samples": [], "events": [], **parts}
    reply = sentry.post("/api/v1/ingest", json=body)
    assert reply.status_code == 200, reply.text


def gpu_rig(ts: datetime) -> dict[str, Any]:
    devices = [
        {
            "index": 0,
            "kind": "gpu",
            "name": "NVIDIA GeForce RTX 3080",
            "bus_id": "01:00.0",
            "hashrate_hs": 45.5e6,
            "temp_c": 61.0,
            "mem_temp_c": 84.0,
            "fan_pct": 70.0,
            "power_w": 220.0,
            "core_clock_mhz": 1710.0,
            "mem_clock_mhz": 9501.0,
            "accepted": 120,
            "rejected": 1,
        },
        {
            "index": 1,
            "kind": "gpu",
            "name": HOSTILE,
            "bus_id": "02:00.0",
            "hashrate_hs": 31.2e6,
            "temp_c": 67.0,
            "fan_rpm": 2100,
            "power_w": 180.0,
            "accepted": 80,
            "rejected": 0,
        },
    ]
    return {
        "miner": {
            "key": RIG_KEY,
            "kind": "gpu",
            "ip": "127.0.20.1",
            "hostname": "gpu-rig-1",
            "make": "T-Rex",
            "model": "T-Rex 0.26.8",
            "worker": "rig1",
        },
        "ts": ts.isoformat(),
        "hashrate_hs": 76.7e6,
        "temp_c": 64.0,
        "temp_max_c": 67.0,
        "power_w": 400.0,
        "accepted": 200,
        "rejected": 1,
        "uptime_s": 7200,
        "pool_url": "stratum+tcp://127.0.0.1:3333",
        "algorithm": "kawpow",
        "devices": devices,
    }


def host_reading(ts: datetime, cpu_pct: float) -> dict[str, Any]:
    gib = 1024**3
    return {
        "host": {
            "key": "rig-host-1",
            "hostname": "gpu-host-1",
            "os": "Linux 6.1",
            "cpu_model": "AMD Ryzen 5 5600",
            "cpu_count": 12,
        },
        "ts": ts.isoformat(),
        "cpu_pct": cpu_pct,
        "load_1m": 1.25,
        "cpu_temp_c": 55.0,
        "mem_used_bytes": 6 * gib,
        "mem_total_bytes": 16 * gib,
        "disk_used_bytes": 120 * gib,
        "disk_total_bytes": 480 * gib,
        "uptime_s": 3 * 86400 + 4 * 3600,
        "gpus": [
            {"index": 0, "name": "NVIDIA GeForce RTX 3080", "temp_c": 61.0, "fan_pct": 70.0},
            {"index": 1, "name": "NVIDIA GeForce RTX 3070", "temp_c": 67.0, "util_pct": 99.0},
        ],
        "miners": [RIG_KEY],
    }


def p2pool_reading(ts: datetime, node: str, hashrate_15m_hs: float) -> dict[str, Any]:
    return {
        "node": node,
        "host_key": "rig-host-1",
        "ts": ts.isoformat(),
        "hashrate_15m_hs": hashrate_15m_hs,
        "hashrate_1h_hs": 11800.0,
        "hashrate_24h_hs": 11500.0,
        "shares_found": 3,
        "shares_failed": 0,
        "average_effort_pct": 97.3,
        "current_effort_pct": 42.5,
        "connections": 2,
        "peers": 24,
        "wallet": "4" + "A" * 94,
        "workers": [
            {"address": "127.0.0.1:50001", "name": "rig1", "hashrate_hs": 6000.0, "uptime_s": 600},
            {"address": "127.0.0.1:50002", "name": HOSTILE_WORKER, "hashrate_hs": 6345.0},
        ],
        "sidechain_height": 9_876_543,
        "pool_hashrate_hs": 12.5e6,
        "pool_miners": 1500,
        "network_height": 3_300_000,
        "network_reward_atomic": 600_000_000_000,
    }


def p2pool_events(now: datetime) -> list[dict[str, Any]]:
    def share(n: int, ts: datetime, user: str) -> dict[str, Any]:
        return {
            "ts": ts.isoformat(),
            "kind": "share_found",
            "key": f"p2pool:share:{3_300_000 + n}:{9_876_500 + n}:test",
            "host_key": "rig-host-1",
            "message": "P2Pool share found",
            "data": {
                "coin": "XMR",
                "mainchain_height": 3_300_000 + n,
                "sidechain_height": 9_876_500 + n,
                "difficulty": 150_000_000 + n,
                "effort_pct": 40.0 + n,
                "user": user,
            },
        }

    def payout(atomic: int, height: int, ts: datetime) -> dict[str, Any]:
        return {
            "ts": ts.isoformat(),
            "kind": "payout",
            "key": f"p2pool:payout:{height}:4AAAA",
            "host_key": "rig-host-1",
            "message": "P2Pool payout",
            "data": {
                "coin": "XMR",
                "amount_atomic": atomic,
                "block_height": height,
                "wallet": "4" + "A" * 94,
            },
        }

    return [
        share(1, now - timedelta(days=2), "rig1"),
        share(2, now - timedelta(minutes=40), "rig1"),
        share(3, now - timedelta(minutes=5), HOSTILE_WORKER),
        {
            "ts": (now - timedelta(minutes=30)).isoformat(),
            "kind": "block_found",
            "key": "p2pool:block:3299990",
            "host_key": "rig-host-1",
            "message": "Monero block 3299990 found by you",
            "data": {"coin": "XMR", "block_height": 3_299_990, "by": "you", "accepted": True},
        },
        payout(BIG_PAYOUT, 3_299_990, now - timedelta(minutes=29)),
        payout(SMALL_PAYOUT, 3_299_000, now - timedelta(days=1)),
    ]


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[RunningCommander, httpx.Client]]:
    with running_commander(tmp_path / "data", label="rig farm") as rc, _sentry(rc) as sentry:
        now = datetime.now(UTC)
        asic = sample(key="aa:00:00:00:00:01", ts=now)
        asic["miner"]["hostname"] = "s19-1"
        ingest(
            sentry,
            1,
            samples=[asic, gpu_rig(now)],
            hosts=[host_reading(now, 37.5)],
            p2pool=[p2pool_reading(now, "p2pool-main", 12345.0)],
            events=p2pool_events(now),
        )
        yield rc, sentry


@pytest.fixture
def empty_farm(tmp_path: Path) -> Iterator[tuple[RunningCommander, httpx.Client]]:
    with running_commander(tmp_path / "data") as rc, _sentry(rc) as sentry:
        yield rc, sentry


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


def test_a_gpu_rig_is_listed_by_kind_and_its_page_shows_devices_and_host_health(
    browser: Browser, farm: tuple[RunningCommander, httpx.Client], tmp_path: Path
) -> None:
    rc, sentry = farm
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.clock.install()
    sign_in(page, rc.url)
    rows = page.locator("#miner-rows tr[data-id]")
    expect(rows).to_have_count(2)
    page.get_by_test_id("filter-kind").select_option("gpu")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("gpu-rig-1")
    expect(rows.first.locator("td").nth(2)).to_have_text("gpu")
    page.get_by_test_id("filter-kind").select_option("asic")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("s19-1")
    page.get_by_test_id("filter-kind").select_option("gpu")
    expect(rows).to_have_count(1)

    page.get_by_role("link", name="gpu-rig-1").click()
    expect(page.get_by_test_id("miner-title")).to_contain_text("gpu-rig-1")
    expect(page.get_by_test_id("miner-algorithm")).to_have_text("kawpow")
    expect(page.get_by_test_id("miner-hashrate")).to_have_text("76.70 MH/s")
    devices = page.locator("#device-rows tr[data-device]")
    expect(devices).to_have_count(2)
    expect(devices.nth(0)).to_contain_text("45.50 MH/s")
    expect(devices.nth(0).get_by_test_id("device-temp")).to_have_text("61 °C")
    expect(devices.nth(0)).to_contain_text("84 °C")
    expect(devices.nth(0)).to_contain_text("70 %")
    expect(devices.nth(1).get_by_test_id("device-temp")).to_have_text("67 °C")
    expect(devices.nth(1)).to_contain_text("2100 rpm")
    expect(devices.nth(1).get_by_test_id("device-name")).to_have_text(HOSTILE)
    expect(page.locator("h2", has_text="Hashboards")).to_have_count(0)
    health = page.get_by_test_id("host-health")
    expect(health).to_contain_text("gpu-host-1")
    expect(page.get_by_test_id("host-cpu")).to_have_text("37.5 %")
    expect(health).to_contain_text("6.0 GiB of 16.0 GiB")
    expect(health).to_contain_text("25.0 %")  # disk 120 of 480 GiB
    expect(health).to_contain_text("3 d 4 h")
    expect(page.locator("#host-gpu-rows tr")).to_have_count(2)
    expect(page.locator("#chart canvas")).to_have_count(1)
    not_pwned(page)
    shoot(page, tmp_path, "rig.png")

    # The page's own refresh (every 30 s) reads the API and still shows text as text.
    later = datetime.now(UTC)
    ingest(sentry, 2, samples=[gpu_rig(later)], hosts=[host_reading(later, 81.0)])
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("host-cpu")).to_have_text("81.0 %")
    expect(devices).to_have_count(2)
    expect(devices.nth(1).get_by_test_id("device-name")).to_have_text(HOSTILE)
    expect(page.locator("#device-rows img")).to_have_count(0)
    not_pwned(page)
    page.close()


def test_the_p2pool_page_shows_nodes_events_exact_payouts_and_daily_bars(
    browser: Browser, farm: tuple[RunningCommander, httpx.Client], tmp_path: Path
) -> None:
    rc, sentry = farm
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.clock.install()
    sign_in(page, rc.url)
    page.get_by_test_id("main-nav").get_by_role("link", name="P2Pool").click()
    expect(page).to_have_url(rc.url + "/p2pool")

    node = page.get_by_test_id("p2pool-node")
    expect(node).to_have_count(1)
    expect(node).to_contain_text("p2pool-main")
    expect(page.get_by_test_id("node-hashrate")).to_have_text("12.35 kH/s")
    expect(node).to_contain_text("11.80 kH/s")
    expect(page.get_by_test_id("node-shares")).to_have_text("3")
    expect(page.get_by_test_id("node-effort")).to_have_text("42.5 %")
    expect(node).to_contain_text("97.3 %")
    expect(node).to_contain_text("0.600000000000 XMR")
    workers = node.locator("[data-workers] tr")
    expect(workers).to_have_count(2)
    expect(workers.nth(1).locator("td.name")).to_have_text(HOSTILE_WORKER)

    shares = page.locator("#share-rows tr[data-event]")
    expect(shares).to_have_count(3)
    expect(shares.first).to_contain_text("9876503")
    expect(shares.first).to_contain_text("43.0 %")
    expect(shares.first.locator("td.name")).to_have_text(HOSTILE_WORKER)
    expect(shares.first).to_contain_text("min ago")
    blocks = page.locator("#block-rows tr[data-event]")
    expect(blocks).to_have_count(1)
    expect(blocks.first).to_contain_text("3299990")
    expect(blocks.first).to_contain_text("you")
    payouts = page.locator("#payout-rows tr[data-event]")
    expect(payouts).to_have_count(2)
    expect(payouts.first.get_by_test_id("payout-amount")).to_have_text("1.234567890123 XMR")
    expect(payouts.nth(1).get_by_test_id("payout-amount")).to_have_text("0.000350000000 XMR")
    expect(page.get_by_test_id("p2pool-totals")).to_contain_text("1.234917890123 XMR paid")

    for kind, total in (("shares", "3"), ("blocks", "1"), ("payouts", "2")):
        bars = page.get_by_test_id(f"bars-{kind}")
        expect(bars.locator("canvas")).to_have_count(1)
        expect(bars).to_have_attribute("data-points", "30")
        expect(bars).to_have_attribute("data-total", total)
    not_pwned(page)
    shoot(page, tmp_path, "p2pool.png")

    # The node card is refreshed in place from the API.
    ingest(sentry, 2, p2pool=[p2pool_reading(datetime.now(UTC), "p2pool-main", 23456.0)])
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("node-hashrate")).to_have_text("23.46 kH/s")
    expect(workers.nth(1).locator("td.name")).to_have_text(HOSTILE_WORKER)
    not_pwned(page)
    page.close()


def test_the_p2pool_page_reads_well_before_any_node_reports_and_picks_the_first_one_up(
    browser: Browser, empty_farm: tuple[RunningCommander, httpx.Client], tmp_path: Path
) -> None:
    rc, sentry = empty_farm
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.clock.install()
    sign_in(page, rc.url)
    page.goto(rc.url + "/p2pool")
    expect(page.get_by_test_id("p2pool-empty")).to_contain_text("No P2Pool node reported yet")
    expect(page.locator("#share-rows")).to_have_text("no share found yet")
    expect(page.locator("#block-rows")).to_have_text("no block found yet")
    expect(page.locator("#payout-rows")).to_have_text("no payout received yet")
    expect(page.get_by_test_id("bars-shares")).to_have_attribute("data-total", "0")
    page.screenshot(path=str(tmp_path / "p2pool-empty.png"), full_page=True)

    ingest(sentry, 1, p2pool=[p2pool_reading(datetime.now(UTC), "first-node", 5000.0)])
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("p2pool-node")).to_have_count(1)
    expect(page.get_by_test_id("node-hashrate")).to_have_text("5.00 kH/s")
    expect(page.get_by_test_id("p2pool-empty")).to_have_count(0)
    not_pwned(page)
    page.close()
