"""The Pools page in real headless Chromium: an admin adds a ckpool and a P2Pool observer
account from the page, syncs them and reads what the pools say; a failing pool shows its
error and keeps its figures; a viewer reads without the admin's controls.

The pools are a loopback server replaying real answers: ckpool's recordings and the P2Pool
observer's documented examples (tests/fixtures/SOURCES.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.e2e.signin import PASSWORD
from tests.e2e.signin import signed_in as sign_in
from tests.helpers import RunningCommander, running_commander
from tests.integration.commander.test_pool_sync import CK_ACCOUNT, route_ckpool
from tests.integration.commander.test_pool_sync_observer import ADDRESS, route_observer
from tests.replay import ReplayServer

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/rigwatch-shots")


@pytest.fixture(scope="module")
def pools() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        route_ckpool(server)
        route_observer(server)
        yield server


@pytest.fixture(scope="module")
def rc(tmp_path_factory: pytest.TempPathFactory, pools: ReplayServer) -> Iterator[RunningCommander]:
    data = tmp_path_factory.mktemp("pools") / "data"
    # No scheduled jobs: accounts are synced only when the page asks.
    with running_commander(data, jobs=[], ckpool_url=pools.url + "/ck") as running:
        with running.engine.begin() as conn:
            store_auth.create_user(conn, "ada", PASSWORD, Role.ADMIN)
            store_auth.create_user(conn, "vera", PASSWORD, Role.VIEWER)
        yield running


def signed_in(browser: Browser, rc: RunningCommander, user: str) -> Page:
    return sign_in(browser, rc.url, user, then="/pools", width=1280)


def add(page: Page, kind: str, account: str, base_url: str | None = None) -> None:
    page.get_by_test_id("pool-kind").select_option(kind)
    page.get_by_test_id("pool-account").fill(account)
    if base_url is not None:
        page.get_by_test_id("pool-base-url").fill(base_url)
    page.get_by_test_id("pool-add").click()
    expect(page.get_by_test_id("pools-status")).to_contain_text("added")


def test_an_admin_adds_syncs_and_reads_pool_accounts_and_a_viewer_only_reads(
    browser: Browser, rc: RunningCommander, pools: ReplayServer, tmp_path: Path
) -> None:
    page = signed_in(browser, rc, "ada")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    expect(page.get_by_test_id("pool-cards")).to_contain_text("No pool account watched yet")
    # The page does not stream, so the header shows no live dot (a red one would say the
    # stream is down).
    expect(page.locator("#live-state")).to_be_hidden()
    # A P2Pool node has no public default: the form asks for its URL.
    page.get_by_test_id("pool-kind").select_option("p2pool")
    assert page.get_by_test_id("pool-base-url").get_attribute("required") is not None

    add(page, "ckpool", CK_ACCOUNT)
    add(page, "p2pool-observer", ADDRESS, pools.url + "/obs")
    cards = page.get_by_test_id("pool-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("not synced yet")

    for i in range(2):
        cards.nth(i).get_by_test_id("pool-sync").click()
        expect(page.get_by_test_id("pools-status")).to_contain_text("synced")
    ck = page.locator('[data-testid="pool-card"]', has_text="ckpool")
    obs = page.locator('[data-testid="pool-card"]', has_text="p2pool-observer")
    # ckpool's recording: hashrate1hr "4.57G"; the observer: the account's window share.
    expect(ck.get_by_test_id("pool-rate-1h")).to_have_text("4.57 GH/s")
    expect(ck.get_by_test_id("pool-synced")).to_contain_text("synced")
    expect(obs.get_by_test_id("pool-rate-54m")).to_have_text("2.60 MH/s")
    expect(obs).to_contain_text("XMR")
    obs.get_by_test_id("pool-details").locator("summary").click()
    expect(obs.get_by_test_id("pool-details")).to_contain_text(
        "0.003400854816 XMR"
    )  # 3,400,854,816 piconero
    ck.get_by_test_id("pool-details").locator("summary").click()
    expect(ck.get_by_test_id("pool-details")).to_contain_text(CK_ACCOUNT)

    # The pool starts answering garbage: the card says so and keeps the last figures.
    pools.route(f"/ck/users/{CK_ACCOUNT}", body=b"<html>502</html>")
    ck.get_by_test_id("pool-sync").click()
    expect(ck.get_by_test_id("pool-error")).to_contain_text("failing (1 in a row)")
    expect(ck.get_by_test_id("pool-rate-1h")).to_have_text("4.57 GH/s")
    # The cards were redrawn; the workers and payouts opened before are still open.
    expect(ck.get_by_test_id("pool-details")).to_have_attribute("open", "")
    expect(ck.get_by_test_id("pool-details")).to_contain_text(CK_ACCOUNT)
    route_ckpool(pools)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(tmp_path / "pools.png"), full_page=True)
    shutil.copyfile(tmp_path / "pools.png", SHOTS / "pools.png")

    viewer = signed_in(browser, rc, "vera")
    expect(viewer.get_by_test_id("pool-card")).to_have_count(2)
    expect(viewer.get_by_test_id("add-pool")).to_have_count(0)
    expect(viewer.get_by_test_id("pool-sync")).to_have_count(0)

    obs.get_by_test_id("pool-remove").click()
    expect(page.get_by_test_id("pool-card")).to_have_count(1)
    assert errors == []
