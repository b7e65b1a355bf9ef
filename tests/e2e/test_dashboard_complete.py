"""The complete dashboard in real headless Chromium: problem tiles first, the miners as a
table and as a grid, bulk tagging and racks, sites and tags, the events timeline, dark
and light themes, a phone's 390 px viewport and the keyboard.

Screenshots (dark, light, phone, grid) are copied to /tmp/rigwatch-shots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.tables import audit_log
from tests.helpers import RunningCommander, batch, minutes_ago, running_commander, sample

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/rigwatch-shots")
PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}

# Every element outside a sideways-scrolling box must fit in the viewport.
OVERFLOWING = """() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") return true;
    }
    return false;
  };
  const bad = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (!r.width || getComputedStyle(el).visibility === "hidden") continue;
    if ((r.right > vw + 1 || r.left < -1) && !scrolls(el) && !el.matches(".skip")) {
      const where = `${Math.round(r.left)}..${Math.round(r.right)}`;
      bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${where}`);
    }
  }
  return {vw, page: document.documentElement.scrollWidth, bad: bad.slice(0, 10)};
}"""


def _miner(key: str, host: str, **fields: Any) -> dict[str, Any]:
    body = sample(key=key, **fields)
    body["miner"]["hostname"] = host
    return body


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two sites: north (4 miners: 2 fine, one hashing at 45 %, one offline after a
    timeout) and south (3 fine); three people: viewer, operator, admin."""
    data = tmp_path_factory.mktemp("complete") / "data"
    with running_commander(data, jobs=[], label="test farm") as rc:
        with rc.engine.begin() as conn:
            for name, role in (("vera", Role.VIEWER), ("otto", Role.OPERATOR), ("ada", Role.ADMIN)):
                store_auth.create_user(conn, name, PASSWORD, role)
            tokens = {
                site: store_auth.create_sentry(conn, f"sentry-{site}", site=site)[1]
                for site in ("north", "south")
            }
            bearers = {}
            for site, token in tokens.items():
                found = store_auth.enroll(conn, token)
                assert found is not None
                bearers[site] = found[2]
        north = [
            _miner("aa:00:00:00:01:01", "n-s19-1"),
            _miner("aa:00:00:00:01:02", "n-s19-2"),
            _miner("aa:00:00:00:01:03", "n-slow", hashrate_hs=49.5e12),
            _miner("aa:00:00:00:01:04", "n-gone", ts=minutes_ago(30)),
        ]
        events = [
            {
                "ts": minutes_ago(25).isoformat(),
                "kind": "miner_offline",
                "key": "off:aa:00:00:00:01:04:1",
                "miner_key": "aa:00:00:00:01:04",
                "message": "timeout after 5 s",
            },
            {
                "ts": minutes_ago(3).isoformat(),
                "kind": "miner_restarted",
                "key": "restart:aa:00:00:00:01:01:1",
                "miner_key": "aa:00:00:00:01:01",
                "message": "uptime went back to 40 s",
            },
        ]
        south = [
            _miner(f"bb:00:00:00:02:0{i}", f"s-s21-{i}", hashrate_hs=200e12) for i in (1, 2, 3)
        ]
        for site, samples, evs in (("north", north, events), ("south", south, [])):
            with httpx.Client(
                base_url=rc.url, headers={"Authorization": f"Bearer {bearers[site]}"}
            ) as sentry:
                r = sentry.post("/api/v1/ingest", json=batch(1, samples, evs))
                assert r.status_code == 200, r.text
        with httpx.Client(base_url=rc.url) as anon:
            ids = {}
            key = _api_key(rc)
            items = anon.get(
                "/api/v1/miners", params={"limit": 100}, headers={"Authorization": f"Bearer {key}"}
            ).json()["items"]
            for m in items:
                ids[m["hostname"]] = m["id"]
        yield {"rc": rc, "ids": ids}


def _api_key(rc: RunningCommander) -> str:
    with rc.engine.begin() as conn:
        return store_auth.create_api_key(conn, f"probe-{id(rc)}", Role.VIEWER)


def _sign_in(page: Page, url: str, user: str, path: str = "/") -> None:
    page.goto(f"{url}/login?next={path}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(url + path)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page_as(browser: Browser, farm: dict[str, Any]) -> Iterator[Any]:
    pages: list[Page] = []

    def open_as(
        user: str, path: str = "/", viewport: dict[str, int] = DESKTOP, scheme: str = "dark"
    ) -> Page:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
        page = context.new_page()
        pages.append(page)
        _sign_in(page, farm["rc"].url, user, path)
        return page

    yield open_as
    for p in pages:
        p.context.close()


def _ready(page: Page, view: str) -> None:
    expect(page.locator(f"#miners[data-ready~={view}]")).to_have_count(1)


def test_problem_tiles_come_first_with_their_reasons_and_open_the_miner(
    page_as: Any, farm: dict[str, Any]
) -> None:
    page = page_as("vera")
    tiles = page.get_by_test_id("problem-tile")
    expect(tiles).to_have_count(2)
    expect(tiles.nth(0)).to_contain_text("n-gone")
    expect(tiles.nth(0)).to_contain_text("timeout after 5 s")
    expect(tiles.nth(1)).to_contain_text("n-slow")
    expect(tiles.nth(1)).to_contain_text("hashrate at 45% of expected")
    expect(page.get_by_test_id("problems-about")).to_have_text("1 offline · 1 warning · 7 miners")
    above = page.evaluate(
        "() => document.getElementById('problems').compareDocumentPosition("
        "document.getElementById('summary')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above, "the problem tiles come before the totals"
    tiles.nth(1).click()
    expect(page).to_have_url(f"{farm['rc'].url}/miners/{farm['ids']['n-slow']}")


def test_the_theme_toggle_changes_colours_and_is_remembered(page_as: Any) -> None:
    page = page_as("vera")
    _ready(page, "table")
    background = "() => getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    theme = page.locator("html")
    expect(theme).to_have_attribute("data-theme", "dark")
    _shot(page, "dark")
    page.get_by_test_id("theme-toggle").click()
    expect(theme).to_have_attribute("data-theme", "light")
    light = page.evaluate(background)
    assert light != dark
    assert page.evaluate("() => localStorage.getItem('rigwatch.theme')") == "light"
    page.reload()
    expect(theme).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light
    _ready(page, "table")
    _shot(page, "light")
    page.goto(page.url.rstrip("/") + "/settings")
    expect(page.get_by_test_id("theme-light")).to_be_checked()
    page.get_by_test_id("theme-dark").check()
    expect(theme).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == dark
    # With no choice made, the system's preference decides.
    system = page_as("vera", "/settings", DESKTOP, "light")
    expect(system.locator("html")).to_have_attribute("data-theme", "light")
    expect(system.get_by_test_id("theme-system")).to_be_checked()


@pytest.mark.parametrize("path", ["/", "/miners/{id}", "/history", "/sites", "/settings", "/pools"])
def test_nothing_is_wider_than_a_390_px_phone(
    page_as: Any, farm: dict[str, Any], path: str
) -> None:
    target = path.format(id=farm["ids"]["n-s19-1"])
    page = page_as("ada", target, PHONE)
    settled = {
        "/": ["#miners[data-ready~=table]"],
        "/miners/{id}": ["#timeline[data-ready]", "#chart canvas"],
        "/history": ["#comparison-rows tr:not(:has(td[colspan]))"],
    }
    for selector in settled.get(path, []):
        expect(page.locator(selector).first).to_be_attached()
    found = page.evaluate(OVERFLOWING)
    assert found["page"] <= found["vw"], found
    assert not found["bad"], found
    if path == "/":
        _shot(page, "phone")
        page.get_by_test_id("view-grid").click()
        _ready(page, "grid")
        found = page.evaluate(OVERFLOWING)
        assert not found["bad"] and found["page"] <= found["vw"], found


def _focused(page: Page) -> str:
    return str(
        page.evaluate(
            "() => { const a = document.activeElement;"
            " return a.dataset.testid || a.id || a.className || a.tagName; }"
        )
    )


def _tab_to(page: Page, testid: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(t) => document.activeElement && document.activeElement.matches(t)",
            testid,
        ):
            return
    raise AssertionError(f"Tab never reached {testid}; last focus: {_focused(page)}")


def test_the_keyboard_reaches_filter_view_toggle_and_a_grid_cell_and_enter_opens_the_miner(
    page_as: Any, farm: dict[str, Any]
) -> None:
    page = page_as("vera")
    _ready(page, "table")
    page.evaluate("() => localStorage.removeItem('rigwatch.minersView')")
    page.locator("body").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.matches('a.skip')")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused control shows an outline"
    _tab_to(page, "[data-testid=filter-text]")
    page.keyboard.type("n-")
    expect(page.locator("#miner-rows tr[data-id]")).to_have_count(4)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    expect(page.locator("#miner-rows tr[data-id]")).to_have_count(7)
    _tab_to(page, "[data-testid=view-grid]")
    page.keyboard.press("Enter")
    _ready(page, "grid")
    expect(page.get_by_test_id("view-grid")).to_have_attribute("aria-pressed", "true")
    _tab_to(page, "#grid-groups .c")
    expect(page.get_by_test_id("grid-tip")).to_be_visible()
    page.evaluate("() => { window.firstCell = document.activeElement; }")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.previousElementSibling === window.firstCell")
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "link"
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    name = label.split(":")[0]
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{farm['rc'].url}/miners/{farm['ids'][name]}")
    expect(page.get_by_test_id("miner-title")).to_contain_text(name)


def test_the_grid_shows_one_cell_per_miner_coloured_by_status(page_as: Any) -> None:
    page = page_as("vera")
    page.get_by_test_id("view-grid").click()
    _ready(page, "grid")
    cells = page.locator("#grid-groups .c")
    expect(cells).to_have_count(7)
    expect(page.locator("#grid-groups .g-group")).to_have_count(2)
    colours = page.evaluate(
        """() => [...document.querySelectorAll('#grid-groups .c')].map((c) => [
          c.className, getComputedStyle(c).backgroundColor])"""
    )
    by_class = {cls.split()[1]: colour for cls, colour in colours}
    assert sorted(c.split()[1] for c, _ in colours) == [
        "s-off",
        "s-on",
        "s-on",
        "s-on",
        "s-on",
        "s-on",
        "s-warn",
    ]
    assert len(set(by_class.values())) == 3, by_class
    cells.nth(0).hover()
    expect(page.get_by_test_id("grid-tip")).to_contain_text("H/s")
    page.get_by_test_id("grid-color").select_option("temp")
    expect(page.locator("#grid-groups .c.s-on")).to_have_count(0)
    expect(page.locator("#grid-groups .c.s-off")).to_have_count(1)
    page.get_by_test_id("grid-color").select_option("status")
    _shot(page, "grid")
    page.reload()
    _ready(page, "grid")  # the view is remembered
    page.get_by_test_id("view-table").click()
    _ready(page, "table")


def test_an_operator_tags_two_miners_and_the_tag_filter_finds_them(
    page_as: Any, farm: dict[str, Any]
) -> None:
    viewer = page_as("vera")
    _ready(viewer, "table")
    viewer.locator("#miner-rows tr[data-id] input[data-pick]").first.check()
    expect(viewer.get_by_test_id("bulk-count")).to_have_text("1 selected")
    expect(viewer.get_by_test_id("bulk-tag")).to_have_count(0)

    page = page_as("otto")
    _ready(page, "table")
    boxes = page.locator("#miner-rows tr[data-id] input[data-pick]")
    boxes.nth(0).click()
    boxes.nth(1).click(modifiers=["Shift"])
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    names = page.locator("#miner-rows tr.picked td:nth-child(2) a").all_inner_texts()
    assert len(names) == 2
    page.get_by_test_id("bulk-tag-name").fill("rack-7")
    page.get_by_test_id("bulk-tag-add").click()
    expect(page.get_by_test_id("bulk-msg")).to_contain_text("Tagged 2 of 2 miners")
    page.get_by_test_id("filter-tag").select_option("rack-7")
    rows = page.locator("#miner-rows tr[data-id]")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("td:nth-child(2) a").all_inner_texts()) == sorted(names)
    expect(rows.first.locator("td.tags")).to_contain_text("rack-7")
    assert "tag=rack-7" in page.url
    page.get_by_test_id("view-grid").click()
    _ready(page, "grid")
    expect(page.locator("#grid-groups .c")).to_have_count(2)
    expect(page.locator("#grid-groups .c.sel")).to_have_count(2)
    with farm["rc"].engine.connect() as conn:
        actions = conn.execute(
            select(audit_log.c.actor, audit_log.c.action).where(audit_log.c.action == "miners.tags")
        ).all()
    assert ("otto", "miners.tags") in [tuple(a) for a in actions]
    # Remove it again, so the other tests see the farm as it was.
    page.get_by_test_id("bulk-tag-name").fill("rack-7")
    page.get_by_test_id("bulk-tag-remove").click()
    expect(page.get_by_test_id("bulk-msg")).to_contain_text("Untagged 2 of 2 miners")


def test_an_operator_puts_miners_in_a_rack_and_the_grid_groups_them_by_rack(
    page_as: Any, farm: dict[str, Any]
) -> None:
    viewer = page_as("vera")
    _ready(viewer, "table")
    viewer.locator("#miner-rows tr[data-id] input[data-pick]").first.check()
    expect(viewer.get_by_test_id("bulk-rack")).to_have_count(0)

    page = page_as("otto")
    _ready(page, "table")
    boxes = page.locator("#miner-rows tr[data-id] input[data-pick]")
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 selected")
    page.get_by_test_id("bulk-rack-name").fill("A-03")
    page.get_by_test_id("bulk-rack-set").click()
    expect(page.get_by_test_id("bulk-msg")).to_contain_text("Placed 3 of 3 miners in rack")
    expect(page.locator('#miner-rows [data-col="rack"]')).to_have_count(3)
    expect(page.locator('#miner-rows [data-col="rack"]').first).to_have_text("rack A-03")
    page.get_by_test_id("view-grid").click()
    _ready(page, "grid")
    page.get_by_test_id("grid-group").select_option("rack")
    headings = page.locator("#grid-groups .g-group h3").all_inner_texts()
    assert any(
        "rack A-03" in h and h.split("rack A-03")[1].strip().startswith("3 miners")
        for h in headings
    ), headings
    assert any("no rack" in h for h in headings), headings
    _shot(page, "grid-by-rack")
    page.get_by_test_id("grid-group").select_option("site")
    page.get_by_test_id("view-table").click()
    _ready(page, "table")
    # Out of the rack again (an empty rack), so the other tests see the farm as it was.
    page.get_by_test_id("bulk-rack-name").fill("")
    page.get_by_test_id("bulk-rack-set").click()
    expect(page.get_by_test_id("bulk-msg")).to_contain_text("out of any rack")
    expect(page.locator('#miner-rows [data-col="rack"]')).to_have_count(0)
    page.get_by_test_id("bulk-clear").click()


def test_the_sites_page_lists_sites_and_links_to_the_filtered_overview(page_as: Any) -> None:
    page = page_as("vera", "/sites")
    names = page.get_by_test_id("site-link").all_inner_texts()
    assert {"north", "south"} <= set(names), names  # beside the store's own "default"
    north = page.locator("tr[data-site=north]")
    expect(north.locator("[data-col=miners]")).to_have_text("4")
    expect(north.locator("[data-col=hashrate]")).to_have_text("269.50 TH/s")
    expect(page.locator("tr[data-site=south] [data-col=hashrate]")).to_have_text("600.00 TH/s")
    north.get_by_test_id("site-link").click()
    _ready(page, "table")
    expect(page.get_by_test_id("filter-site")).to_have_value("north")
    expect(page.locator("#miner-rows tr[data-id]")).to_have_count(4)


def test_the_events_timeline_shows_a_stored_event(page_as: Any, farm: dict[str, Any]) -> None:
    page = page_as("vera", f"/miners/{farm['ids']['n-s19-1']}")
    events = page.get_by_test_id("timeline-event")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("restarted")
    expect(events.first).to_contain_text("uptime went back to 40 s")
    expect(events.first.locator("time")).to_have_text("3 min ago")


def test_the_settings_page_shows_admins_the_settings_with_secrets_masked(
    page_as: Any,
) -> None:
    page = page_as("ada", "/settings")
    table = page.get_by_test_id("settings-table")
    expect(table.locator("tr[data-setting=offline_after_s] td").nth(1)).to_have_text("120.0")
    expect(table.locator("tr[data-setting=label] td").nth(1)).to_have_text("test farm")
    viewer = page_as("vera", "/settings")
    expect(viewer.get_by_test_id("settings-admin-only")).to_be_visible()
    expect(viewer.get_by_test_id("settings-table")).to_have_count(0)
