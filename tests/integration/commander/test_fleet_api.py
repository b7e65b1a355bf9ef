"""Fleet API: sites and tags with their totals, problem miners, the grid, bulk tagging
and racks (roles, audit, CSRF, limits), the miners list's site filter, and gzip."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.tables import audit_log
from tests.helpers import RunningCommander, batch, minutes_ago, sample


def _miner(key: str, host: str, **fields: Any) -> dict[str, Any]:
    body = sample(key=key, **fields)
    body["miner"]["hostname"] = host
    return body


def _farm(commander: RunningCommander) -> None:
    """north: 2 hashing, 1 at 40 %, 1 silent for 30 min (its last event: a timeout);
    south: 2 hashing at 200 TH/s."""
    with commander.engine.begin() as conn:
        bearers = {}
        for site in ("north", "south"):
            _sid, token = store_auth.create_sentry(conn, f"sentry-{site}", site=site)
            found = store_auth.enroll(conn, token)
            assert found is not None
            bearers[site] = found[2]
    north = [
        _miner("aa:01", "n-1"),
        _miner("aa:02", "n-2"),
        _miner("aa:03", "n-slow", hashrate_hs=44e12),
        _miner("aa:04", "n-gone", ts=minutes_ago(30)),
    ]
    gone = {
        "ts": minutes_ago(29).isoformat(),
        "kind": "miner_offline",
        "key": "off:aa:04",
        "miner_key": "aa:04",
        "message": "connection refused",
    }
    south = [_miner(f"bb:0{i}", f"s-{i}", hashrate_hs=200e12, power_w=3500.0) for i in (1, 2)]
    for site, samples, events in (("north", north, [gone]), ("south", south, [])):
        with httpx.Client(
            base_url=commander.url, headers={"Authorization": f"Bearer {bearers[site]}"}
        ) as c:
            assert c.post("/api/v1/ingest", json=batch(1, samples, events)).status_code == 200


def _ids(client: httpx.Client, **params: Any) -> dict[str, int]:
    items = client.get("/api/v1/miners", params={"limit": 100, **params}).json()["items"]
    return {m["hostname"]: m["id"] for m in items}


def test_sites_add_up_their_miners_hashrate_and_power(
    commander: RunningCommander, viewer: httpx.Client
) -> None:
    _farm(commander)
    sites = {s["name"]: s for s in viewer.get("/api/v1/sites").json()}
    north, south = sites["north"], sites["south"]
    assert (north["miners"], north["online"], north["warning"], north["offline"]) == (4, 2, 1, 1)
    assert north["sentries"] == 1
    assert north["hashrate_hs"] == pytest.approx(110e12 * 2 + 44e12)  # the offline one not
    assert north["power_w"] == pytest.approx(3250.0 * 3)
    assert south["hashrate_hs"] == pytest.approx(400e12)
    assert south["power_w"] == pytest.approx(7000.0)
    assert south["hashrate_expected_hs"] == pytest.approx(220e12)
    for name, site in sites.items():
        if name not in ("north", "south"):
            assert site["miners"] == 0 and site["hashrate_hs"] == 0.0


def test_problems_list_offline_miners_with_their_last_event_then_warnings(
    commander: RunningCommander, viewer: httpx.Client
) -> None:
    _farm(commander)
    p = viewer.get("/api/v1/fleet/problems").json()
    assert (p["total"], p["offline"], p["warning"]) == (6, 1, 1)
    [gone] = p["offline_items"]
    assert gone["name"] == "n-gone" and gone["site"] == "north"
    assert gone["reasons"] == ["connection refused"]
    [slow] = p["warning_items"]
    assert slow["name"] == "n-slow" and slow["reasons"] == ["hashrate at 40% of expected"]
    assert viewer.get("/api/v1/fleet/problems", params={"limit": 0}).status_code == 422


def test_the_grid_holds_every_matching_miner_compactly_by_site(
    commander: RunningCommander, viewer: httpx.Client
) -> None:
    _farm(commander)
    g = viewer.get("/api/v1/fleet/grid").json()
    assert g["total"] == 6
    assert [g["sites"][i] for i in g["site"]] == ["north"] * 4 + ["south"] * 2
    assert g["name"][:4] == ["n-1", "n-2", "n-gone", "n-slow"]
    assert g["status"][:4] == ["online", "online", "offline", "warning"]
    assert g["rack"] == [-1] * 6
    assert g["models"] == ["S19 Pro"] and set(g["model"]) == {0}
    assert g["hashrate_hs"][3] == pytest.approx(44e12)
    assert g["temp_c"][0] == 70.0
    only = viewer.get("/api/v1/fleet/grid", params={"site": "south"}).json()
    assert only["name"] == ["s-1", "s-2"]
    assert viewer.get("/api/v1/fleet/grid", params={"status": "offline"}).json()["name"] == [
        "n-gone"
    ]


def test_the_miner_list_filters_by_site(commander: RunningCommander, viewer: httpx.Client) -> None:
    _farm(commander)
    assert sorted(_ids(viewer, site="south")) == ["s-1", "s-2"]
    assert _ids(viewer, site="nowhere") == {}


def test_an_operator_tags_miners_and_the_tag_filter_finds_them(
    commander: RunningCommander, viewer: httpx.Client, operator: httpx.Client
) -> None:
    _farm(commander)
    ids = _ids(viewer)
    picked = [ids["n-1"], ids["s-2"]]
    r = operator.post("/api/v1/miners/tags", json={"ids": [*picked, 999_999], "add": ["rack-7"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"matched": 2, "changed": 2, "missing": [999_999]}
    assert sorted(_ids(viewer, tag="rack-7")) == ["n-1", "s-2"]
    again = operator.post("/api/v1/miners/tags", json={"ids": picked, "add": ["rack-7", "hot"]})
    assert again.json() == {"matched": 2, "changed": 2, "missing": []}
    assert viewer.get("/api/v1/tags").json() == [
        {"tag": "hot", "miners": 2},
        {"tag": "rack-7", "miners": 2},
    ]
    tags = viewer.get("/api/v1/miners", params={"q": "n-1"}).json()["items"][0]["tags"]
    assert tags == ["rack-7", "hot"]
    gone = operator.post("/api/v1/miners/tags", json={"ids": picked[:1], "remove": ["rack-7"]})
    assert gone.json()["changed"] == 1
    assert sorted(_ids(viewer, tag="rack-7")) == ["s-2"]
    with commander.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.target).where(
                audit_log.c.action == "miners.tags"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("miners.tags", "2 miners"),
        ("miners.tags", "2 miners"),
        ("miners.tags", "1 miners"),
    ]


def test_tagging_needs_an_operator_and_valid_tags(
    commander: RunningCommander,
    viewer: httpx.Client,
    admin: httpx.Client,
    anonymous: httpx.Client,
) -> None:
    _farm(commander)
    one = list(_ids(viewer).values())[:1]
    body = {"ids": one, "add": ["x"]}
    assert viewer.post("/api/v1/miners/tags", json=body).status_code == 403
    assert anonymous.post("/api/v1/miners/tags", json=body).status_code == 401
    assert admin.post("/api/v1/miners/tags", json=body).status_code == 200
    for bad in (
        {"ids": one},
        {"ids": [], "add": ["x"]},
        {"ids": one, "add": [""]},
        {"ids": one, "add": ["   "]},
        {"ids": one, "add": ["x" * 65]},
        {"ids": one, "add": ["bad\u0007bell"]},
        {"ids": one, "add": [f"t{i}" for i in range(17)]},
        {"ids": list(range(10_001)), "add": ["x"]},
    ):
        assert admin.post("/api/v1/miners/tags", json=bad).status_code == 422, bad
    many = admin.post("/api/v1/miners/tags", json={"ids": one, "add": [f"a{i}" for i in range(16)]})
    assert many.status_code == 200
    more = admin.post("/api/v1/miners/tags", json={"ids": one, "add": [f"b{i}" for i in range(16)]})
    assert more.status_code == 422 and "at most 32" in more.json()["detail"]


def test_an_operator_places_miners_in_racks_and_the_grid_orders_by_them(
    commander: RunningCommander,
    viewer: httpx.Client,
    operator: httpx.Client,
    anonymous: httpx.Client,
) -> None:
    _farm(commander)
    ids = _ids(viewer)
    north = [ids["n-2"], ids["n-slow"]]
    r = operator.post("/api/v1/miners/rack", json={"ids": [*north, 999_999], "rack": " A-03 "})
    assert r.status_code == 200, r.text
    assert r.json() == {"matched": 2, "changed": 2, "missing": [999_999]}
    same = operator.post("/api/v1/miners/rack", json={"ids": north, "rack": "A-03"})
    assert same.json() == {"matched": 2, "changed": 0, "missing": []}
    assert (
        operator.post("/api/v1/miners/rack", json={"ids": [ids["n-1"]], "rack": "B 1"}).json()[
            "changed"
        ]
        == 1
    )

    g = viewer.get("/api/v1/fleet/grid", params={"site": "north"}).json()
    # By site, then rack (racked first, rackless last), then name.
    assert g["name"] == ["n-2", "n-slow", "n-1", "n-gone"]
    assert [g["racks"][i] if i >= 0 else None for i in g["rack"]] == ["A-03", "A-03", "B 1", None]
    listed = viewer.get("/api/v1/miners", params={"q": "n-slow"}).json()["items"][0]
    assert listed["rack"] == "A-03"

    # null (or only spaces) takes miners out of any rack
    out = operator.post("/api/v1/miners/rack", json={"ids": north, "rack": None})
    assert out.json()["changed"] == 2
    assert (
        operator.post("/api/v1/miners/rack", json={"ids": [ids["n-1"]], "rack": "  "}).json()[
            "changed"
        ]
        == 1
    )
    assert viewer.get("/api/v1/fleet/grid").json()["rack"] == [-1] * 6

    body = {"ids": north, "rack": "A-01"}
    assert viewer.post("/api/v1/miners/rack", json=body).status_code == 403
    assert anonymous.post("/api/v1/miners/rack", json=body).status_code == 401
    for bad in (
        {"ids": north},
        {"ids": [], "rack": "A"},
        {"ids": north, "rack": "x" * 101},
        {"ids": north, "rack": "bad\u0007bell"},
        {"ids": north, "rack": 7},
    ):
        assert operator.post("/api/v1/miners/rack", json=bad).status_code == 422, bad
    with commander.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.target).where(audit_log.c.action == "miners.rack")
        ).all()
    assert [r[0] for r in rows] == ["2 miners", "0 miners", "1 miners", "2 miners", "1 miners"]


def test_a_browser_session_must_send_its_csrf_token_to_tag(
    commander: RunningCommander, viewer: httpx.Client
) -> None:
    _farm(commander)
    one = list(_ids(viewer).values())[:1]
    with commander.engine.begin() as conn:
        uid = store_auth.create_user(conn, "otto", "correct horse battery", Role.OPERATOR)
        secret, csrf = store_auth.create_session(conn, uid, 1.0)
    with httpx.Client(base_url=commander.url, cookies={"rigwatch_session": secret}) as browser:
        body = {"ids": one, "add": ["x"]}
        assert browser.post("/api/v1/miners/tags", json=body).status_code == 403
        ok = browser.post("/api/v1/miners/tags", json=body, headers={"x-csrf-token": csrf})
        assert ok.status_code == 200


def test_responses_are_gzipped_when_the_client_accepts_it(
    commander: RunningCommander, viewer: httpx.Client
) -> None:
    _farm(commander)
    big = viewer.get("/openapi.json", headers={"accept-encoding": "gzip"})
    assert big.headers["content-encoding"] == "gzip"
    small = viewer.get("/api/v1/fleet/grid", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 1 KB: not worth it
    css = viewer.get("/static/style.css", headers={"accept-encoding": "gzip"})
    assert css.headers["content-encoding"] == "gzip"
    plain = viewer.get("/static/style.css", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == css.text
