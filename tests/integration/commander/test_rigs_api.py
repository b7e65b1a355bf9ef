"""Rigs, hosts and P2Pool through the real HTTP API: ingest, read back, totals, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.helpers import batch, minutes_ago, sample

RIG = "trex@127.0.0.1:4067"


def _rig_sample(ts: datetime, **fields: Any) -> dict[str, Any]:
    body = sample(key=RIG, ts=ts, hashboards=[], hashrate_hs=120e6, hashrate_expected_hs=None)
    body["miner"] = {"key": RIG, "kind": "gpu", "ip": "127.0.20.1", "make": "T-Rex"}
    body["algorithm"] = "kawpow"
    body["devices"] = [
        {"index": 0, "name": "RTX 3070", "hashrate_hs": 60e6, "temp_c": 58.0, "fan_pct": 60},
        {"index": 1, "name": "RTX 3070", "hashrate_hs": 60e6, "temp_c": 63.0, "power_w": 130.0},
    ]
    body.update(fields)
    return body


def _host(ts: datetime, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "host": {"key": "rig-01", "hostname": "rig-01", "cpu_count": 8},
        "ts": ts.isoformat(),
        "cpu_pct": 17.5,
        "mem_used_bytes": 3 * 2**30,
        "mem_total_bytes": 16 * 2**30,
        "gpus": [{"index": 0, "name": "RTX 3070", "temp_c": 58.0, "util_pct": 100.0}],
        "miners": [RIG],
    }
    body.update(fields)
    return body


def _node(ts: datetime) -> dict[str, Any]:
    return {
        "node": "p2pool@rig-01",
        "host_key": "rig-01",
        "ts": ts.isoformat(),
        "hashrate_15m_hs": 5400.0,
        "shares_found": 3,
        "current_effort_pct": 77.5,
        "workers": [{"address": "127.0.0.1:40000", "hashrate_hs": 5400.0, "name": "rig-01"}],
    }


def _event(kind: str, key: str, ts: datetime, **data: Any) -> dict[str, Any]:
    return {"ts": ts.isoformat(), "kind": kind, "key": key, "host_key": "rig-01", "data": data}


def _send(sentry: httpx.Client, seq: int, **parts: Any) -> httpx.Response:
    body = batch(seq, parts.pop("samples", []), parts.pop("events", None))
    body.update(parts)
    return sentry.post("/api/v1/ingest", json=body)


def test_a_rig_with_its_host_and_p2pool_node_reads_back(sentry, viewer):
    now = minutes_ago(0.2)
    reply = _send(
        sentry,
        1,
        samples=[_rig_sample(now)],
        hosts=[_host(now)],
        p2pool=[_node(now)],
        events=[_event("share_found", "p2pool:share:1", now, sidechain_height=9)],
    )
    assert reply.status_code == 200, reply.text
    [rig] = viewer.get("/api/v1/miners", params={"kind": "gpu"}).json()["items"]
    detail = viewer.get(f"/api/v1/miners/{rig['id']}").json()
    assert detail["algorithm"] == "kawpow"
    assert [d["temp_c"] for d in detail["devices"]] == [58.0, 63.0]
    [host] = viewer.get("/api/v1/hosts").json()
    assert detail["host_id"] == host["id"]
    assert host["miner_ids"] == [rig["id"]]
    assert host["latest"]["cpu_pct"] == 17.5
    assert host["latest"]["gpus"][0]["util_pct"] == 100.0
    assert rig["host"] == "rig-01"
    found = viewer.get("/api/v1/miners", params={"q": "rig-01"}).json()["items"]
    assert [m["id"] for m in found] == [rig["id"]]
    history = viewer.get(f"/api/v1/hosts/{host['id']}/samples").json()["items"]
    assert len(history) == 1
    [node] = viewer.get("/api/v1/p2pool").json()
    assert node["stats"]["current_effort_pct"] == 77.5
    assert node["host_id"] == host["id"]
    series = viewer.get("/api/v1/p2pool/history", params={"node": "p2pool@rig-01"}).json()
    assert [s["shares_found"] for s in series["items"]] == [3]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"devices": [{"index": 0, "temp_c": float("nan")}]}, "temp_c"),
        ({"devices": [{"index": 0, "fan_pct": 250}]}, "fan_pct"),
        ({"devices": [{"index": 0, "hashrate_hs": -1}]}, "hashrate_hs"),
        ({"algorithm": "x" * 65}, "algorithm"),
    ],
)
def test_a_bad_device_field_is_refused_naming_it_and_changes_nothing(sentry, viewer, change, field):
    body = batch(1, [_rig_sample(minutes_ago(0.2), **change)])
    # json.dumps writes NaN as the bare token a sloppy sentry would send.
    reply = sentry.post(
        "/api/v1/ingest",
        content=json.dumps(body, allow_nan=True),
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 422
    assert field in reply.text
    assert viewer.get("/api/v1/miners").json()["total"] == 0


def test_a_bad_host_reading_is_refused(sentry, viewer):
    reply = _send(sentry, 1, hosts=[_host(minutes_ago(0.1), cpu_pct=140.0)])
    assert reply.status_code == 422 and "cpu_pct" in reply.text
    assert viewer.get("/api/v1/hosts").json() == []


def test_daily_totals_and_their_csv(sentry, viewer):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=1, microsecond=0)
    events = [
        _event("share_found", "s1", today),
        _event("share_found", "s2", today),
        _event("payout", "p1", today, amount_atomic=1_000_000_000_000, coin="XMR"),
        _event("payout", "p2", today, amount_atomic=234_000_000_000, coin="XMR"),
    ]
    assert _send(sentry, 1, events=events).status_code == 200
    day = today.date().isoformat()
    shares = viewer.get("/api/v1/aggregates/daily", params={"kind": "shares"}).json()
    assert [(s["day"], s["count"]) for s in shares] == [(day, 2)]
    per_host = viewer.get(
        "/api/v1/aggregates/daily", params={"kind": "payouts", "by": "host"}
    ).json()
    assert [(p["host"], p["amount_atomic"], p["amount"]) for p in per_host] == [
        ("rig-01", 1_234_000_000_000, 1.234)
    ]
    reply = viewer.get("/api/v1/aggregates/daily", params={"kind": "payouts", "format": "csv"})
    assert reply.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(reply.text))) == [
        ["day", "coin", "payouts", "amount_atomic", "amount"],
        [day, "XMR", "2", "1234000000000", "1.234"],
    ]


def test_the_export_route_streams_csv_and_refuses_bad_ranges(sentry, viewer):
    now = minutes_ago(0.2)
    assert _send(sentry, 1, samples=[_rig_sample(now)]).status_code == 200
    day = now.date().isoformat()
    reply = viewer.get("/api/v1/export/samples", params={"from": day, "to": day})
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0][:3] == ["ts", "miner_id", "miner_key"] and rows[1][2] == RIG
    assert "attachment" in reply.headers["content-disposition"]
    bad = viewer.get("/api/v1/export/samples", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert bad.status_code == 422
    assert viewer.get("/api/v1/export/nonsense").status_code == 422


def test_reports_need_a_viewer_at_least(anonymous):
    assert anonymous.get("/api/v1/export/samples").status_code == 401
    assert anonymous.get("/api/v1/hosts").status_code == 401
