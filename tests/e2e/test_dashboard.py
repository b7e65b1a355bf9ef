"""The dashboard in real headless Chromium: sign in, live hashrate, filter, open a miner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, batch, running_commander, sample

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[RunningCommander, httpx.Client]]:
    with running_commander(tmp_path / "data", label="test farm") as rc:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "alice", "correct horse battery", Role.VIEWER)
            _id, token = store_auth.create_sentry(conn, "rack-a")
            found = store_auth.enroll(conn, token)
        assert found is not None
        with httpx.Client(
            base_url=rc.url, headers={"Authorization": f"Bearer {found[2]}"}
        ) as sentry:
            miners = [sample(key=f"aa:00:00:00:00:{i:02x}") for i in range(1, 7)]
            for i, m in enumerate(miners):
                m["miner"]["hostname"] = f"s19-{i + 1}"
            miners.append(
                {
                    **sample(
                        key="bx:01", hashrate_hs=1.2e12, hashrate_expected_hs=1.2e12, hashboards=[]
                    ),
                    "miner": {
                        "key": "bx:01",
                        "kind": "bitaxe",
                        "make": "Bitaxe",
                        "model": "Gamma",
                        "hostname": "bitaxe-desk",
                        "ip": "127.0.10.99",
                    },
                }
            )
            assert sentry.post("/api/v1/ingest", json=batch(1, miners)).status_code == 200
            yield rc, sentry


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(f"{url}/login?next=/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    expect(page).to_have_url(url + "/")


def test_the_farm_page_updates_live_filters_and_opens_a_miner(
    browser: Browser, farm: tuple[RunningCommander, httpx.Client], tmp_path: Path
) -> None:
    rc, sentry = farm
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, rc.url)
    expect(page.get_by_test_id("farm-label")).to_have_text("test farm")
    rows = page.locator("#miner-rows tr[data-id]")
    expect(rows).to_have_count(7)
    hashrate = page.get_by_test_id("farm-hashrate")
    expect(hashrate).to_have_text("661.20 TH/s")
    expect(page.locator("#live-state.on")).to_have_count(1)
    expect(page.locator("#live-state")).to_be_visible()

    stop = threading.Event()

    def feed() -> None:
        seq = 2
        while not stop.is_set():
            sentry.post(
                "/api/v1/ingest",
                json=batch(seq, [sample(key="aa:00:00:00:00:01", hashrate_hs=90e12 + seq * 1e9)]),
            )
            seq += 1
            time.sleep(0.3)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        expect(hashrate).not_to_have_text("661.20 TH/s", timeout=15_000)
        assert "TH/s" in hashrate.inner_text()
    finally:
        stop.set()
        feeder.join()
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.get_by_test_id("filter-text").fill("desk")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bitaxe-desk")
    page.get_by_test_id("filter-text").fill("")
    expect(rows).to_have_count(7)
    page.get_by_test_id("filter-kind").select_option("bitaxe")
    expect(rows).to_have_count(1)
    page.get_by_test_id("filter-kind").select_option("")
    expect(rows).to_have_count(7)
    expect(rows.first.locator("td[data-ago]")).to_contain_text("ago")

    page.get_by_role("link", name="s19-2").click()
    expect(page.get_by_test_id("miner-title")).to_contain_text("s19-2")
    expect(page.get_by_test_id("miner-hashrate")).to_have_text("110.00 TH/s")
    expect(page.locator("#chart canvas")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "miner.png"), full_page=True)
    page.close()


def test_a_wrong_password_is_refused(
    browser: Browser, farm: tuple[RunningCommander, httpx.Client]
) -> None:
    rc, _ = farm
    page = browser.new_page()
    page.goto(rc.url + "/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_be_visible()
    page.goto(rc.url + "/")
    expect(page).to_have_url(f"{rc.url}/login?next=/")
    page.close()
