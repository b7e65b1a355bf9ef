"""Summary, miners (filters, sort, pages), a miner's detail, its samples, and events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import batch, minutes_ago, sample


def _farm(sentry: httpx.Client) -> None:
    samples = [
        sample(key="aa:00:00:00:00:01", ts=minutes_ago(30), accepted=100, rejected=1),
        sample(key="aa:00:00:00:00:01", ts=minutes_ago(0.5), accepted=160, rejected=3),
        sample(
            key="aa:00:00:00:00:02",
            ts=minutes_ago(0.5),
            hashrate_hs=50e12,
            temp_max_c=72.0,
            hashboards=[
                {"index": 0, "hashrate_hs": 25e12},
                {"index": 1, "hashrate_hs": 25e12},
                {"index": 2, "missing": True},
            ],
        ),
        {
            **sample(
                key="bx:01",
                ts=minutes_ago(0.5),
                hashrate_hs=1.2e12,
                hashrate_expected_hs=1.2e12,
                power_w=18.0,
                temp_c=55.0,
                temp_max_c=60.0,
                hashboards=[],
                fans_rpm=[4000],
            ),
            "miner": {
                "key": "bx:01",
                "kind": "bitaxe",
                "ip": "127.0.10.9",
                "make": "Bitaxe",
                "model": "Gamma",
                "hostname": "bitaxe-desk",
            },
        },
    ]
    assert sentry.post("/api/v1/ingest", json=batch(1, samples)).status_code == 200


def test_summary_adds_up_the_farm(sentry: httpx.Client, viewer: httpx.Client) -> None:
    _farm(sentry)
    s = viewer.get("/api/v1/summary").json()
    assert s["miners_total"] == 3
    assert s["miners_online"] == 2 and s["miners_warning"] == 1 and s["miners_offline"] == 0
    assert s["hashrate_hs"] == pytest.approx(110e12 + 50e12 + 1.2e12)
    assert s["hashrate_expected_hs"] == pytest.approx(110e12 * 2 + 1.2e12)
    assert s["power_w"] == pytest.approx(3250 * 2 + 18)
    assert s["efficiency_j_th"] == pytest.approx((3250 * 2 + 18) / 161.2)
    assert s["temp_max_c"] == 72.0
    assert s["accepted_last_hour"] == 60
    assert s["rejected_last_hour"] == 2


def test_miners_filter_by_status_kind_and_text(sentry: httpx.Client, viewer: httpx.Client) -> None:
    _farm(sentry)

    def get(**p: Any) -> Any:
        return viewer.get("/api/v1/miners", params=p).json()

    assert get()["total"] == 3
    assert [m["key"] for m in get(status="warning")["items"]] == ["aa:00:00:00:00:02"]
    assert [m["kind"] for m in get(kind="bitaxe")["items"]] == ["bitaxe"]
    assert [m["hostname"] for m in get(q="DESK")["items"]] == ["bitaxe-desk"]
    assert get(model="Gamma")["total"] == 1
    assert get(make="AntMiner")["total"] == 2
    by_rate = [m["hashrate_hs"] for m in get(sort="-hashrate")["items"]]
    assert by_rate == sorted(by_rate, reverse=True)
    page = get(limit=2, offset=2, sort="hostname")
    assert page["total"] == 3 and len(page["items"]) == 1
    assert viewer.get("/api/v1/miners", params={"sort": "drop table"}).status_code == 422
    assert viewer.get("/api/v1/miners", params={"limit": 0}).status_code == 422


def test_a_miner_shows_its_latest_state_and_samples(
    sentry: httpx.Client, viewer: httpx.Client
) -> None:
    _farm(sentry)
    warning = viewer.get("/api/v1/miners", params={"status": "warning"}).json()["items"][0]
    detail = viewer.get(f"/api/v1/miners/{warning['id']}").json()
    assert detail["row"]["hostname"] == "miner-02"
    assert [b["missing"] for b in detail["hashboards"]] == [False, False, True]
    assert any("hashboard" in w for w in detail["row"]["warnings"])
    first = viewer.get("/api/v1/miners", params={"q": "miner-01"}).json()["items"][0]
    rows = viewer.get(f"/api/v1/miners/{first['id']}/samples").json()["items"]
    assert [r["accepted"] for r in rows] == [100, 160]
    narrow = viewer.get(
        f"/api/v1/miners/{first['id']}/samples", params={"from": minutes_ago(5).isoformat()}
    ).json()["items"]
    assert [r["accepted"] for r in narrow] == [160]
    assert viewer.get("/api/v1/miners/999999").status_code == 404
    assert viewer.get("/api/v1/miners/999999/samples").status_code == 404


def test_reading_needs_a_login(anonymous: httpx.Client) -> None:
    for path in ["/api/v1/summary", "/api/v1/miners", "/api/v1/events", "/api/v1/stream"]:
        assert anonymous.get(path).status_code == 401
    assert anonymous.get("/api/v1/health").json()["status"] == "ok"


def test_openapi_and_docs_are_served(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert "/api/v1/ingest" in spec["paths"]
    assert "/api/v1/miners/{miner_id}/samples" in spec["paths"]
    assert anonymous.get("/docs").status_code == 200
