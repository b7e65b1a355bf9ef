"""Every miner-supplied string is shown as text, never run as markup, on every page.

Script and HTML are planted through the real ingest API in every string a miner, a rig's
host or a P2Pool node reports: hostname, worker, pool URL and user, firmware, make,
model, miner key, address, MAC, algorithm, error strings, device and GPU names, bus ids,
host names, OS and CPU strings, P2Pool node, worker names and addresses, wallet, and
event keys, messages and data. A failed sign-in with a hostile user name plants one in
the audit log too. Then every page of the dashboard (taken from the app's route table,
so a page added later is opened too) is opened in Chromium as an admin; on each:
`window.__pwned` stays undefined, no planted element exists in the DOM, and the planted
text is on the page literally. The pages' timers are run forward so their refreshes
(which rebuild tables in JavaScript) are checked as well as the server's rendering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from rigwatch.domain.models import EventKind, Role
from rigwatch.domain.pools import PoolKind
from rigwatch.store import auth as store_auth
from rigwatch.store import pools as store_pools
from tests.helpers import RunningCommander, running_commander
from tests.integration.commander.test_route_roles import route_table

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SCRIPT = "<script>window.__pwned=1</script>"
IMG = "<img src=x onerror=window.__pwned=1>"
SVG = "<svg onload=window.__pwned=1>"  # for the fields of at most 32 characters
PAYLOADS = (SCRIPT, IMG)
PASSWORD = "correct horse battery"
SHOTS = Path("/tmp/rigwatch-shots/escaping")

# Pages that are not a dashboard page to look at, or need what a browser cannot show.
NOT_PAGES = {"/login", "/logout", "/auth/demo", "/docs", "/docs/oauth2-redirect", "/redoc"}


def planted(field: str, payload: str) -> str:
    """`payload` behind a label naming the field, so each field can be found on a page."""
    return f"{field}:{payload}"


def miner_sample(n: int, payload: str, now: datetime, *, rig: bool = False) -> dict[str, Any]:
    p = payload
    short = planted(f"m{n}", SVG)
    body: dict[str, Any] = {
        "miner": {
            "key": planted(f"key{n}", p),
            "kind": "gpu" if rig else "asic",
            "ip": planted(f"ip{n}", p),
            "mac": short,
            "hostname": planted(f"host{n}", p),
            "make": planted(f"make{n}", p),
            "model": planted(f"model{n}", p),
            "firmware": planted(f"fw{n}", p),
            "worker": planted(f"worker{n}", p),
        },
        "ts": now.isoformat(),
        "hashrate_hs": 100e12 if not rig else 60e6,
        "hashrate_expected_hs": 110e12 if not rig else 60e6,
        "temp_c": 62.0,
        "temp_max_c": 70.0,
        "fans_rpm": [5400, 5400],
        "power_w": 3200.0,
        "accepted": 1000,
        "rejected": 50,
        "uptime_s": 3600,
        "pool_url": planted(f"poolurl{n}", p),
        "pool_user": planted(f"pooluser{n}", p),
        "errors": [planted(f"error{n}a", SCRIPT), planted(f"error{n}b", IMG)],
        "algorithm": planted(f"algo{n}", p),
        "pools": [
            {
                "url": planted(f"pool{n}a", SCRIPT),
                "user": planted(f"user{n}a", IMG),
                "active": True,
            },
            {"url": planted(f"pool{n}b", IMG), "user": planted(f"user{n}b", SCRIPT)},
        ],
    }
    if rig:
        body["devices"] = [
            {
                "index": i,
                "kind": "gpu",
                "name": planted(f"dev{n}{i}", pay),
                "bus_id": planted(f"b{i}", SVG),
            }
            | {"hashrate_hs": 30e6, "temp_c": 60.0, "power_w": 150.0}
            for i, pay in enumerate(PAYLOADS)
        ]
    else:
        body["hashboards"] = [
            {"index": i, "hashrate_hs": 33e12, "temp_c": 60.0, "chips": 110, "chips_expected": 114}
            for i in range(3)
        ]
    return body


def host_reading(now: datetime, rig_key: str) -> dict[str, Any]:
    return {
        "host": {
            "key": planted("hostkey", IMG),
            "hostname": planted("hostname", SCRIPT),
            "os": planted("os", IMG),
            "cpu_model": planted("cpu", SCRIPT),
            "cpu_count": 8,
        },
        "ts": now.isoformat(),
        "cpu_pct": 12.0,
        "mem_used_bytes": 1 << 30,
        "mem_total_bytes": 8 << 30,
        "gpus": [
            {"index": i, "name": planted(f"gpu{i}", pay), "uuid": planted(f"u{i}", pay)}
            for i, pay in enumerate(PAYLOADS)
        ],
        "miners": [rig_key],
    }


def p2pool_reading(now: datetime) -> dict[str, Any]:
    return {
        "node": planted("node", SCRIPT + IMG),
        "host_key": planted("hostkey", IMG),
        "ts": now.isoformat(),
        "hashrate_15m_hs": 12000.0,
        "shares_found": 3,
        "connections": 2,
        "wallet": planted("wallet", SCRIPT + IMG),
        "workers": [
            {"address": planted(f"addr{i}", pay), "name": planted(f"p2worker{i}", pay)}
            | {"hashrate_hs": 6000.0, "uptime_s": 600}
            for i, pay in enumerate(PAYLOADS)
        ],
    }


def events(now: datetime, miner_keys: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for i, kind in enumerate(EventKind):
        for j, pay in enumerate(PAYLOADS):
            data: dict[str, Any] = {
                "coin": planted("coin", pay),
                "by": planted("by", pay),
                "user": planted("shareuser", pay),
                "client": planted("client", pay),
                "wallet": planted("evwallet", pay),
                "url": planted("evurl", pay),
                "pool": planted("evpool", pay),
                "finder": planted("finder", pay),
                "hash": planted("hash", pay),
                "reason": planted("reason", pay),
                "block_height": 3_300_000 + i,
                "amount_atomic": 1_000_000 + i,
            }
            found.append(
                {
                    "ts": (now - timedelta(minutes=i + j)).isoformat(),
                    "kind": kind.value,
                    "key": planted(f"event-{kind.value}-{j}", pay),
                    "miner_key": miner_keys[j % len(miner_keys)],
                    "host_key": planted("hostkey", IMG),
                    "message": planted(f"message-{kind.value}", pay),
                    "data": data,
                }
            )
    # The farm's own block, found by a planted miner, shown on the Blocks page.
    found.append(
        {
            "ts": (now - timedelta(minutes=90)).isoformat(),
            "kind": "block_found",
            "key": planted("own-block", SCRIPT),
            "miner_key": miner_keys[0],
            "message": planted("own-block-message", IMG),
            "data": {"coin": planted("owncoin", IMG), "by": "you", "block_height": 900_000},
        }
    )
    return found


@dataclass
class Farm:
    rc: RunningCommander
    miner_ids: list[int]


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    data = tmp_path_factory.mktemp("escaping") / "data"
    with running_commander(data, label="escaping farm") as rc:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "root", PASSWORD, Role.ADMIN)
            _id, token = store_auth.create_sentry(conn, "rack-x")
            enrolled = store_auth.enroll(conn, token)
            key = store_auth.create_api_key(conn, "reader", Role.VIEWER)
        assert enrolled is not None
        now = datetime.now(UTC) - timedelta(seconds=5)
        samples = [
            miner_sample(1, SCRIPT, now),
            miner_sample(2, IMG, now),
            miner_sample(3, SCRIPT, now, rig=True),
            miner_sample(4, IMG, now, rig=True),
        ]
        keys = [s["miner"]["key"] for s in samples]
        body = {
            "seq": 1,
            "samples": samples,
            "events": events(now, keys),
            "hosts": [host_reading(now, keys[2])],
            "p2pool": [p2pool_reading(now)],
        }
        with httpx.Client(
            base_url=rc.url, headers={"Authorization": f"Bearer {enrolled[2]}"}
        ) as sentry:
            reply = sentry.post("/api/v1/ingest", json=body)
            assert reply.status_code == 200, reply.text
            assert reply.json()["stored"] is True
        with httpx.Client(base_url=rc.url, headers={"Authorization": f"Bearer {key}"}) as api:
            items = api.get("/api/v1/miners", params={"limit": 100}).json()["items"]
        assert len(items) == 4
        # A failed sign-in with a hostile user name: it lands in the audit log.
        with httpx.Client(base_url=rc.url) as anonymous:
            form = anonymous.get("/login")
            found = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert found is not None
            anonymous.post(
                "/login",
                data={"username": planted("u", SCRIPT), "password": "x", "csrf": found.group(1)},
            )
        # A pool account named and failing with markup (its name is an admin's, its error
        # the pool's words).
        with rc.engine.begin() as conn:
            pool_id = store_pools.add_account(
                conn,
                kind=PoolKind.CKPOOL,
                name=planted("poolname", SCRIPT),
                base_url="http://127.0.0.1:9",
                account="acct",
                interval_s=300,
                now=now,
            )
            store_pools.record_failure(conn, pool_id, now, planted("poolerr", IMG))
        by_host = {m["hostname"]: m["id"] for m in items}
        yield Farm(rc, [by_host[s["miner"]["hostname"]] for s in samples])


def pages(farm: Farm) -> list[str]:
    """Every dashboard page the app serves, with each planted miner's page."""
    app = farm.rc.server.config.app
    assert isinstance(app, FastAPI)
    found: list[str] = []
    for method, path in sorted(route_table(app)):
        if method != "GET" or path.startswith(("/api/", "/static")) or path in NOT_PAGES:
            continue
        if path.endswith((".csv", ".json")):
            continue
        if path == "/miners/{miner_id}":
            found += [f"/miners/{i}" for i in farm.miner_ids]
        elif "{" not in path:
            found.append(path)
    return found


# What each page must show literally (the label and the planted text after it).
EXPECTED: dict[str, list[str]] = {
    "/": [planted(f"host{n}", p) for n, p in ((1, SCRIPT), (2, IMG), (3, SCRIPT), (4, IMG))],
    "/p2pool": [
        planted("node", SCRIPT + IMG),
        planted("wallet", SCRIPT + IMG),
        planted("p2worker0", SCRIPT),
        planted("p2worker1", IMG),
        planted("addr0", SCRIPT),
        planted("shareuser", SCRIPT),
        planted("shareuser", IMG),
        planted("by", IMG),
    ],
    "/blocks": [planted("owncoin", IMG), planted("host1", SCRIPT), planted("by", SCRIPT)],
    "/admin/audit": [planted("u", SCRIPT)],
    "/pools": [planted("poolname", SCRIPT), planted("poolerr", IMG)],
}


def expected_on_miner_page(n: int, payload: str, rig: bool) -> list[str]:
    texts = [
        planted(f"host{n}", payload),
        planted(f"make{n}", payload),
        planted(f"model{n}", payload),
        planted(f"fw{n}", payload),
        planted(f"ip{n}", payload),
        planted(f"m{n}", SVG),
        planted(f"worker{n}", payload),
        planted(f"algo{n}", payload),
        planted(f"pool{n}a", SCRIPT),
        planted(f"user{n}a", IMG),
        planted(f"pool{n}b", IMG),
        planted(f"user{n}b", SCRIPT),
        planted(f"error{n}a", SCRIPT),
        planted(f"error{n}b", IMG),
    ]
    if rig:
        texts += [planted(f"dev{n}0", SCRIPT), planted(f"dev{n}1", IMG), planted("b0", SVG)]
    if n == 3:  # the rig on the planted host
        texts += [
            planted("hostname", SCRIPT),
            planted("os", IMG),
            planted("cpu", SCRIPT),
            planted("gpu0", SCRIPT),
            planted("gpu1", IMG),
        ]
    return texts


INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.getAttributeNames()) {
      const value = el.getAttribute(a) || "";
      if (a.startsWith("on") && value.includes("__pwned")) found.push(el.outerHTML.slice(0, 120));
    }
  }
  for (const s of document.scripts) {
    if (s.textContent.includes("__pwned")) found.push("script: " + s.textContent.slice(0, 80));
  }
  return found;
}"""


def check_page(page: Page, url: str, path: str, texts: list[str]) -> list[str]:
    problems: list[str] = []
    page.goto(url + path)
    if not page.url.startswith(url + path.split("?")[0]):
        return [f"{path}: ended at {page.url}"]
    body = page.locator("body")
    for text in texts:
        try:
            expect(body).to_contain_text(text, timeout=10_000)
        except AssertionError:
            problems.append(f"{path}: does not show {text!r} literally")
    # Run the page's timers forward: its periodic refreshes rebuild tables from the API.
    page.clock.fast_forward(65_000)
    page.wait_for_timeout(1500)
    if page.evaluate("typeof window.__pwned") != "undefined":
        problems.append(f"{path}: a planted script ran (window.__pwned is set)")
    injected = page.evaluate(INJECTED)
    if injected:
        problems.append(f"{path}: planted markup is in the DOM: {injected[:3]}")
    shown = page.evaluate("document.body.textContent")  # not innerText: CSS upper-cases
    for text in texts:  # still shown literally after the refreshes
        if text not in shown:
            problems.append(f"{path}: no longer shows {text!r} after its refresh")
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = path.strip("/").replace("/", "-") or "overview"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return problems


def test_no_page_runs_or_renders_markup_planted_in_miner_supplied_strings(
    browser: Browser, farm: Farm
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.clock.install()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, farm.rc.url, "root", PASSWORD)
    expect(page).to_have_url(farm.rc.url + "/")

    walked = pages(farm)
    assert {"/", "/p2pool", "/history", "/earnings", "/blocks", "/sentries"} <= set(walked)
    assert {"/admin/users", "/admin/audit"} <= set(walked)
    problems: list[str] = []
    for path in walked:
        texts = EXPECTED.get(path, [])
        if path.startswith("/miners/"):
            n = farm.miner_ids.index(int(path.rsplit("/", 1)[1])) + 1
            texts = expected_on_miner_page(n, PAYLOADS[(n - 1) % 2], rig=n >= 3)
        problems += check_page(page, farm.rc.url, path, texts)
    context.close()
    assert not problems, "\n".join(problems)
    assert not [e for e in errors if "__pwned" in e], errors
