"""The demo farm's alert story, end to end, in real headless Chromium.

A real commander (all its scheduled jobs, so the alert and notify jobs run), three
simulated ASICs on loopback and a sentry polling them every second. A webhook channel
(with an HMAC secret) points at a loopback receiver. One miner overheats: the alert
fires, the webhook gets a signed firing notice, an operator acknowledges the alert on
the alerts page, the miner cools, the alert resolves and the webhook gets the resolved
notice. Screenshots of each step go to the test's tmp dir and /tmp/rigwatch-shots/.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.sim import Fleet, FleetSpec
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine, upgrade
from tests.helpers import RunningCommander, start_commander
from tests.replay import Hit, ReplayServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

BASE = "127.0.63.1"
PASSWORD = "correct horse battery"
SECRET = "story-webhook-secret"
SHOTS = Path("/tmp/rigwatch-shots")
T = TypeVar("T")


def until(check: Callable[[], T | None], within_s: float, what: str) -> T:
    deadline = time.monotonic() + within_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what}")
        time.sleep(0.25)


@dataclass
class Farm:
    """The sim fleet and the sentry, on an event loop of their own (Playwright's sync
    API refuses to run inside one)."""

    sentry_token: str
    commander_url: str
    data_dir: Path
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    ips: list[str] = field(default_factory=list)
    _fleet: Fleet | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "the fleet did not start"
        if self._error:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with Fleet(FleetSpec.mix(3, base=BASE, seed=11)) as fleet:
            self._fleet = fleet
            self.ips = list(fleet.ips)
            cfg = SentryConfig(
                commander_url=self.commander_url,
                data_dir=self.data_dir,
                enroll_token=self.sentry_token,
                scan=[f"{fleet.ips[0]}-{fleet.ips[-1]}"],
                interval_s=1.0,
                deadline_s=2.0,
            )
            sentry = asyncio.create_task(run_sentry(cfg, self._stop))
            self._ready.set()
            await self._stop.wait()
            await asyncio.wait_for(sentry, 30)

    def inject(self, ip: str, fault: str) -> None:
        assert self._fleet is not None
        future: Future[None] = asyncio.run_coroutine_threadsafe(
            self._fleet.inject(ip, fault), self.loop
        )
        future.result(10)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(40)


@pytest.fixture
def story(tmp_path: Path) -> Iterator[tuple[RunningCommander, Farm, ReplayServer, httpx.Client]]:
    settings = Settings(data_dir=tmp_path / "commander", notify_every_s=1.0)
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    with engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "rack-story")
        store_auth.create_user(conn, "olga", PASSWORD, Role.OPERATOR)
        store_auth.create_user(conn, "root", PASSWORD, Role.ADMIN)
        key = store_auth.create_api_key(conn, "story-admin", Role.ADMIN)
    engine.dispose()
    rc = start_commander(settings)  # jobs=None: the default jobs, alerts and notify included
    farm = Farm(token, rc.url, tmp_path / "sentry")
    with ReplayServer() as receiver:
        receiver.route("/hook", body=b"{}")
        client = httpx.Client(
            base_url=rc.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        try:
            farm.start()
            yield rc, farm, receiver, client
        finally:
            client.close()
            farm.stop()
            rc.stop()
            rc.engine.dispose()


def notices(receiver: ReplayServer) -> list[tuple[Hit, dict[str, Any]]]:
    return [(h, json.loads(h.body)) for h in list(receiver.requests) if h.path == "/hook"]


def notice_for(
    receiver: ReplayServer, kind: str, subject: str
) -> tuple[Hit, dict[str, Any]] | None:
    for hit, body in notices(receiver):
        if body.get("kind") == kind and body.get("notice", {}).get("subject") == subject:
            return hit, body
    return None


def shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"story-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def signed_in(browser: Browser, url: str, username: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(url + "/")
    return page


def test_a_miner_overheats_fires_notifies_is_acknowledged_cools_and_resolves(
    browser: Browser,
    story: tuple[RunningCommander, Farm, ReplayServer, httpx.Client],
    tmp_path: Path,
) -> None:
    rc, farm, receiver, api = story
    started = time.monotonic()

    # The webhook channel, added through the API, signed with a secret.
    answer = api.post(
        "/api/v1/channels",
        json={
            "kind": "webhook",
            "name": "story hook",
            "config": {"url": receiver.url + "/hook", "secret": SECRET},
        },
    )
    assert answer.status_code == 201, answer.text
    channel_id = answer.json()["id"]

    # The farm-wide temperature rule fires and resolves at once (no hold, no recovery).
    rules = api.get("/api/v1/alerts/rules").json()
    [temp_rule] = [r for r in rules if r["kind"] == "temp_high" and r["scope"] == "farm"]
    answer = api.put(f"/api/v1/alerts/rules/{temp_rule['id']}", json={"hold_s": 0, "recover_s": 0})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["hold_s"], answer.json()["recover_s"]) == (0, 0)

    def miners() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = api.get("/api/v1/miners").json()["items"]
        reporting = [m for m in items if m["temp_c"] is not None]
        return items if len(reporting) == 3 else None

    found = until(miners, 30, "the sentry to report all three miners")
    hot_ip = farm.ips[0]
    miner = next(m for m in found if m["ip"] == hot_ip)
    subject = f"miner:{miner['id']}"
    assert not api.get("/api/v1/alerts", params={"state": "firing"}).json()

    page = signed_in(browser, rc.url, "olga")
    page.goto(rc.url + "/alerts")
    expect(page.locator("#firing-rows")).to_contain_text("nothing open")
    shot(page, tmp_path, "1-all-clear")

    # 1. The miner overheats: the alert fires.
    farm.inject(hot_ip, "hot")

    def firing() -> dict[str, Any] | None:
        items = api.get("/api/v1/alerts", params={"state": "firing", "subject": subject}).json()
        return next((a for a in items if a["kind"] == "temp_high"), None)

    alert = until(firing, 20, f"a firing temp_high alert on {subject}")
    assert alert["severity"] == "critical" and alert["acked_by"] is None

    # 2. The webhook receives the firing notice, signed.
    hit, body = until(lambda: notice_for(receiver, "firing", subject), 20, "the firing webhook")
    expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-rigwatch-signature"] == f"sha256={expected}"
    assert hit.headers["x-rigwatch-timestamp"] == str(body["sent_at"])
    assert body["version"] == 1 and body["severity"] == "critical"
    assert body["notice"]["rule"] == "temp_high"
    assert body["notice"]["alert_id"] == alert["id"]
    assert body["link"].endswith(f"/miners/{miner['id']}")

    # 3. The operator sees it on the alerts page and acknowledges it.
    page.reload()
    row = page.locator(f'#firing-rows tr[data-alert="{alert["id"]}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.get_by_test_id("alert-state")).to_have_text("firing")
    expect(row).to_contain_text("temp_high")
    expect(row).to_contain_text(subject)
    shot(page, tmp_path, "2-firing")
    row.get_by_test_id("ack").click()
    expect(page.get_by_test_id("alert-status")).to_contain_text("acknowledged by olga")
    expect(row.get_by_test_id("acked-by")).to_contain_text("olga")
    expect(row.get_by_test_id("ack")).to_have_count(0)
    shot(page, tmp_path, "3-acknowledged")
    acked = api.get(f"/api/v1/alerts/{alert['id']}").json()
    assert acked["acked_by"] == "olga" and acked["acked_at"] is not None

    # 4. The miner cools: the alert resolves, and the webhook hears of it.
    farm.inject(hot_ip, "clear")

    def resolved() -> dict[str, Any] | None:
        current: dict[str, Any] = api.get(f"/api/v1/alerts/{alert['id']}").json()
        return current if current["state"] == "resolved" else None

    done = until(resolved, 45, "the alert to resolve as the miner cools")
    assert done["acked_by"] == "olga" and done["resolved_at"] is not None
    hit, body = until(lambda: notice_for(receiver, "resolved", subject), 20, "the resolved webhook")
    expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-rigwatch-signature"] == f"sha256={expected}"
    assert body["notice"]["alert_id"] == alert["id"]
    assert [b["kind"] for _, b in notices(receiver)] == ["firing", "resolved"]

    page.reload()
    expect(page.locator("#firing-rows")).to_contain_text("nothing open")
    page.get_by_test_id("tab-history").click()
    history = page.locator(f'#history-rows tr[data-alert="{alert["id"]}"]')
    expect(history).to_be_visible()
    expect(history).to_contain_text("olga")
    shot(page, tmp_path, "4-resolved")
    page.close()

    # The admin's notifications page: the channel delivered both, and is healthy.
    admin = signed_in(browser, rc.url, "root")
    admin.goto(rc.url + "/notifications")
    chan = admin.locator(f'tr[data-channel="{channel_id}"]')
    expect(chan).to_contain_text("story hook")
    expect(chan).to_have_attribute("data-failing", "0")
    expect(chan.get_by_test_id("last-success")).not_to_have_text("—")
    expect(admin.locator('#notice-rows tr[data-state="sent"]')).to_have_count(2)
    shot(admin, tmp_path, "5-notifications")
    admin.close()
    assert time.monotonic() - started < 90
