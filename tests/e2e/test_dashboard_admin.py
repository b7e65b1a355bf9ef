"""The admin pages in real headless Chromium: users (add, re-role, reset, delete), sentries
(enroll with a copy-paste command whose token works, revoke), the audit log; and what a
viewer and an operator see of them. Every change goes through the page's own fetch()
calls, so they prove the CSRF token travels with them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.e2e.signin import PASSWORD
from tests.e2e.signin import signed_in as sign_in
from tests.helpers import RunningCommander, running_commander

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots/admin")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[RunningCommander]:
    with running_commander(tmp_path / "data", jobs=[]) as rc:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "root", PASSWORD, Role.ADMIN)
            store_auth.create_user(conn, "olga", PASSWORD, Role.OPERATOR)
            store_auth.create_user(conn, "vic", PASSWORD, Role.VIEWER)
        yield rc


def signed_in(browser: Browser, rc: RunningCommander, username: str) -> Page:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return sign_in(browser, rc.url, username, width=1300)


def can_sign_in(rc: RunningCommander, username: str, password: str) -> bool:
    with rc.engine.begin() as conn:
        return store_auth.verify_user(conn, username, password) is not None


def test_an_admin_manages_users_from_the_users_page(
    browser: Browser, farm: RunningCommander
) -> None:
    page = signed_in(browser, farm, "root")
    page.get_by_test_id("main-nav").get_by_role("link", name="Users").click()
    expect(page).to_have_url(farm.url + "/admin/users")
    rows = page.locator("#user-rows tr[data-user]")
    expect(rows).to_have_count(3)
    expect(page.locator('tr[data-user="root"]')).to_contain_text("(you)")
    expect(page.locator('tr[data-user="root"] [data-testid="delete-user"]')).to_have_count(0)

    page.get_by_test_id("add-username").fill("carol")
    page.get_by_test_id("add-role").select_option("operator")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("user-status")).to_have_text("carol added as operator")
    expect(rows).to_have_count(4)
    password = page.get_by_test_id("password-value").inner_text()
    assert len(password) >= 16 and can_sign_in(farm, "carol", password)

    carol = page.locator('tr[data-user="carol"]')
    carol.get_by_test_id("role-select").select_option("admin")
    expect(page.get_by_test_id("user-status")).to_have_text("carol is now admin")
    carol.get_by_test_id("reset-password").click()
    expect(page.get_by_test_id("password-value")).not_to_have_text(password)
    new_password = page.get_by_test_id("password-value").inner_text()
    assert can_sign_in(farm, "carol", new_password)
    assert not can_sign_in(farm, "carol", password)
    page.screenshot(path=str(SHOTS / "users.png"), full_page=True)
    carol.get_by_test_id("delete-user").click()
    expect(page.get_by_test_id("user-status")).to_have_text("carol deleted")
    expect(rows).to_have_count(3)

    page.get_by_test_id("main-nav").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(farm.url + "/admin/audit")
    audit = page.locator("#audit-rows tr[data-id]")
    expect(audit.first).to_contain_text("user.delete")
    for action in ("user.create", "user.role", "user.passwd", "user.delete", "login"):
        expect(page.locator("#audit-rows")).to_contain_text(action)
    page.get_by_test_id("audit-action").fill("user.role")
    page.get_by_role("button", name="Show").click()
    expect(audit).to_have_count(1)
    expect(audit.first).to_contain_text("operator → admin")
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
    page.close()


def test_an_admin_enrolls_a_sentry_whose_command_works_and_revokes_it(
    browser: Browser, farm: RunningCommander
) -> None:
    page = signed_in(browser, farm, "root")
    page.get_by_test_id("main-nav").get_by_role("link", name="Sentries").click()
    expect(page.get_by_test_id("sentry-table")).to_contain_text("no sentry yet")
    page.get_by_test_id("enroll-name").fill("rack-a")
    page.get_by_test_id("enroll-scan").fill("127.0.20.0/24 127.0.21.0/24")
    page.get_by_role("button", name="Enroll").click()
    command = page.get_by_test_id("enroll-command")
    expect(command).to_contain_text("rigwatch sentry run")
    text = command.inner_text()
    found = re.fullmatch(
        rf"rigwatch sentry run --commander {re.escape(farm.url)} --token (rwe_\S+) "
        r"--scan 127\.0\.20\.0/24 --scan 127\.0\.21\.0/24",
        text,
    )
    assert found, text
    expect(page.locator('tr[data-sentry="rack-a"]')).to_contain_text("waiting for enrollment")
    page.screenshot(path=str(SHOTS / "sentries.png"), full_page=True)

    with httpx.Client(base_url=farm.url) as sentry:
        enrolled = sentry.post("/api/v1/sentries/enroll", json={"token": found.group(1)})
        assert enrolled.status_code == 200
        credential = enrolled.json()["credential"]
        ingest = {"seq": 1, "samples": [], "events": []}
        headers = {"Authorization": f"Bearer {credential}"}
        assert sentry.post("/api/v1/ingest", json=ingest, headers=headers).status_code == 200

        page.reload()
        row = page.locator('tr[data-sentry="rack-a"]')
        expect(row).to_contain_text("enrolled")
        expect(row.locator("td[data-ago]")).to_contain_text("ago")
        row.get_by_role("button", name="Revoke").click()
        expect(row.locator('[data-col="state"]')).to_have_text("revoked")
        ingest["seq"] = 2
        assert sentry.post("/api/v1/ingest", json=ingest, headers=headers).status_code == 401
    page.close()


def test_an_operator_sees_sentries_read_only_and_no_admin_pages(
    browser: Browser, farm: RunningCommander
) -> None:
    with farm.engine.begin() as conn:
        store_auth.create_sentry(conn, "rack-b")
    page = signed_in(browser, farm, "olga")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name="Sentries")).to_have_count(1)
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    page.goto(farm.url + "/sentries")
    expect(page.locator('tr[data-sentry="rack-b"]')).to_contain_text("waiting for enrollment")
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.get_by_test_id("enroll-form")).to_have_count(0)
    reply = page.goto(farm.url + "/admin/users")
    assert reply is not None and reply.status == 403
    page.close()


def test_a_viewer_sees_no_sentries_users_or_audit(browser: Browser, farm: RunningCommander) -> None:
    page = signed_in(browser, farm, "vic")
    nav = page.get_by_test_id("main-nav")
    for name in ("Sentries", "Users", "Audit"):
        expect(nav.get_by_role("link", name=name)).to_have_count(0)
    for path in ("/sentries", "/admin/users", "/admin/audit"):
        reply = page.goto(farm.url + path)
        assert reply is not None and reply.status == 403, path
    # The page's own calls carry the CSRF token; the same call forged without it fails.
    page.goto(farm.url + "/")
    forged = page.evaluate(
        """async () => {
          const headers = {"x-csrf-token": "forged"};
          const r = await fetch("/api/v1/users", {method: "POST", headers, body: "{}"});
          return r.status;
        }"""
    )
    assert forged == 403
    page.close()


def test_signing_out_works_with_the_forms_csrf_field(
    browser: Browser, farm: RunningCommander
) -> None:
    page = signed_in(browser, farm, "vic")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(farm.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.close()
