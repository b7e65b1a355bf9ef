"""The alerts and notifications pages in headless Chromium: an admin edits a rule in the
rules editor, adds a webhook channel through the form and test-sends it (a failing
receiver is shown as failing); a viewer reads the rules but gets no editor, no silence
form and no notifications page. (The alert story, with acknowledgement, is
test_alert_story.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.e2e.signin import PASSWORD
from tests.e2e.signin import signed_in as sign_in
from tests.helpers import RunningCommander, running_commander
from tests.replay import ReplayServer

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots/alerts")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[RunningCommander]:
    with running_commander(tmp_path / "data", jobs=[]) as rc:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "root", PASSWORD, Role.ADMIN)
            store_auth.create_user(conn, "vic", PASSWORD, Role.VIEWER)
        yield rc


def signed_in(browser: Browser, rc: RunningCommander, username: str) -> Page:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return sign_in(browser, rc.url, username, width=1400)


def test_an_admin_edits_a_rule_and_adds_and_tests_a_channel(
    browser: Browser, farm: RunningCommander
) -> None:
    page = signed_in(browser, farm, "root")
    page.get_by_test_id("main-nav").get_by_role("link", name="Alerts").click()
    expect(page).to_have_url(farm.url + "/alerts")
    page.get_by_test_id("tab-rules").click()
    rule = page.locator('#rule-rows tr[data-kind="temp_high"]').first
    expect(rule).to_be_visible()
    rule.locator('[data-field="hold_s"]').fill("5")
    rule.locator('[data-field="params"]').fill('{"chip_c": 90}')
    rule.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("alert-status")).to_contain_text("saved")
    expect(rule.locator('[data-field="hold_s"]')).to_have_value("5")
    expect(rule.locator('[data-field="params"]')).to_have_value(re.compile('"chip_c":90'))
    rule.locator('[data-field="params"]').fill('{"nonsense": 1}')
    rule.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("alert-status")).to_contain_text("could not save")
    page.screenshot(path=str(SHOTS / "rules.png"), full_page=True)

    with ReplayServer() as receiver:
        receiver.route("/ok", body=b"{}")
        receiver.route("/down", body=b"nope", status=500)
        page.get_by_test_id("main-nav").get_by_role("link", name="Notifications").click()
        expect(page).to_have_url(farm.url + "/notifications")
        for name, path in (("good hook", "/ok"), ("bad hook", "/down")):
            page.get_by_test_id("channel-name").fill(name)
            page.get_by_test_id("webhook-url").fill(receiver.url + path)
            page.get_by_test_id("channel-submit").click()
            expect(page.get_by_test_id("channel-status")).to_have_text(
                f"channel {name} (webhook) added"
            )
        good = page.locator('tr[data-name="good hook"]')
        bad = page.locator('tr[data-name="bad hook"]')
        good.get_by_test_id("test-channel").click()
        expect(good.get_by_test_id("test-result")).to_have_text("test sent ✓")
        expect(good.get_by_test_id("last-success")).not_to_have_text("—")
        bad.get_by_test_id("test-channel").click()
        expect(bad.get_by_test_id("test-result")).to_contain_text("test failed")
        expect(bad).to_have_attribute("data-failing", "1")
        expect(bad.get_by_test_id("failing")).to_be_visible()
        expect(bad.get_by_test_id("last-error")).to_contain_text("HTTP 500")
        expect(bad.get_by_test_id("failures")).to_have_text("1")
        expect(good).to_have_attribute("data-failing", "0")
        assert receiver.hits("/ok") == 1 and receiver.hits("/down") == 1
        page.reload()
        expect(page.locator("#notice-rows tr[data-kind=test]")).to_have_count(2)
        page.screenshot(path=str(SHOTS / "notifications.png"), full_page=True)


def test_a_viewer_reads_alerts_but_changes_nothing(
    browser: Browser, farm: RunningCommander
) -> None:
    page = signed_in(browser, farm, "vic")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name="Notifications")).to_have_count(0)
    nav.get_by_role("link", name="Alerts").click()
    expect(page.locator("#firing-rows")).to_contain_text("nothing open")
    page.get_by_test_id("tab-rules").click()
    expect(page.locator('#rule-rows tr[data-kind="temp_high"]')).to_have_count(1)
    expect(page.locator("#rule-rows input, #rule-rows textarea, #rule-rows button")).to_have_count(
        0
    )
    expect(page.get_by_test_id("add-rule")).to_have_count(0)
    expect(page.get_by_test_id("add-silence")).to_have_count(0)
    answer = page.goto(farm.url + "/notifications")
    assert answer is not None and answer.status == 403
