"""POST /api/v1/ingest: stored once, bounded, and refused input changes nothing."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from tests.helpers import batch, minutes_ago, sample


def stored_counts(viewer: httpx.Client) -> tuple[int, float]:
    summary = viewer.get("/api/v1/summary").json()
    return summary["miners_total"], summary["hashrate_hs"]


def test_a_batch_is_stored_and_acknowledged(sentry: httpx.Client, viewer: httpx.Client) -> None:
    reply = sentry.post("/api/v1/ingest", json=batch(1))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"seq": 1, "stored": True, "samples": 1, "events": 0}
    assert stored_counts(viewer) == (1, 110e12)
    health = viewer.get("/api/v1/health").json()
    assert health["batches_written"] == 1 and health["write_failures"] == 0


def test_a_replayed_batch_is_stored_once(sentry: httpx.Client, viewer: httpx.Client) -> None:
    body = batch(7, [sample(ts=minutes_ago(1)), sample(key="aa:bb:cc:00:00:02", ts=minutes_ago(1))])
    assert sentry.post("/api/v1/ingest", json=body).json()["stored"] is True
    again = sentry.post("/api/v1/ingest", json=body)
    assert again.status_code == 200
    assert again.json()["stored"] is False
    miners = viewer.get("/api/v1/miners").json()
    assert miners["total"] == 2
    samples = viewer.get(f"/api/v1/miners/{miners['items'][0]['id']}/samples").json()["items"]
    assert len(samples) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hashrate_hs", -1.0),
        ("hashrate_hs", 1e25),
        ("temp_c", 500.0),
        ("temp_c", -100.0),
        ("power_w", -5.0),
    ],
)
def test_an_impossible_value_is_refused_with_the_field_named(
    sentry: httpx.Client, viewer: httpx.Client, field: str, value: float
) -> None:
    sentry.post("/api/v1/ingest", json=batch(1))
    before = stored_counts(viewer)
    fields: dict[str, Any] = {field: value}
    reply = sentry.post("/api/v1/ingest", json=batch(2, [sample(**fields)]))
    assert reply.status_code == 422
    assert field in reply.json()["detail"]["message"]
    assert stored_counts(viewer) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_hashrates_are_refused(
    sentry: httpx.Client, viewer: httpx.Client, literal: str
) -> None:
    body = json.dumps(batch(3, [sample(hashrate_hs=float(literal))]), allow_nan=True)
    assert literal in body
    reply = sentry.post(
        "/api/v1/ingest", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422, reply.text
    assert "hashrate_hs" in reply.json()["detail"]["message"]
    assert stored_counts(viewer) == (0, 0.0)


def test_too_long_strings_and_batches_are_refused(sentry: httpx.Client) -> None:
    long_key = sample(key="x" * 65)
    assert sentry.post("/api/v1/ingest", json=batch(1, [long_key])).status_code == 422
    too_many = [sample(key=f"k{i}") for i in range(5001)]
    reply = sentry.post("/api/v1/ingest", json=batch(2, too_many))
    assert reply.status_code in (413, 422)


def test_an_oversized_body_is_refused_before_parsing(sentry: httpx.Client) -> None:
    reply = sentry.post(
        "/api/v1/ingest",
        content=b"{" + b" " * (9 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 413


def test_garbage_is_a_422_not_a_crash(sentry: httpx.Client) -> None:
    for body in [b"", b"not json", b"[]", b'{"seq": "x"}', b'{"seq": 1, "samples": [{}]}']:
        reply = sentry.post(
            "/api/v1/ingest", content=body, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 422, body
        assert reply.json()["detail"]["message"]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer rws_unknown", "Basic abc"])
def test_a_missing_or_wrong_credential_gets_401(
    anonymous: httpx.Client, header: str | None, viewer: httpx.Client
) -> None:
    headers = {"Authorization": header} if header else {}
    reply = anonymous.post("/api/v1/ingest", json=batch(1), headers=headers)
    assert reply.status_code == 401
    assert stored_counts(viewer) == (0, 0.0)


def test_an_api_key_is_not_a_sentry_credential(admin: httpx.Client) -> None:
    assert admin.post("/api/v1/ingest", json=batch(1)).status_code == 401


def test_events_are_deduplicated_by_natural_key(sentry: httpx.Client, viewer: httpx.Client) -> None:
    event: dict[str, Any] = {
        "ts": minutes_ago(2).isoformat(),
        "kind": "miner_offline",
        "key": "aa:offline:1",
        "miner_key": "aa:bb:cc:00:00:01",
        "message": "missed 2 polls",
    }
    sentry.post("/api/v1/ingest", json=batch(1, [sample(ts=minutes_ago(3))], [event]))
    sentry.post("/api/v1/ingest", json=batch(2, [], [event]))
    events = viewer.get("/api/v1/events", params={"kind": "miner_offline"}).json()
    assert [e["key"] for e in events] == ["aa:offline:1"]


def test_non_finite_event_data_is_refused(sentry: httpx.Client) -> None:
    event = {
        "ts": minutes_ago(1).isoformat(),
        "kind": "payout",
        "key": "p1",
        "data": {"amount": math.inf},
    }
    body = json.dumps(batch(1, [], [event]), allow_nan=True).encode()
    assert b"Infinity" in body
    assert (
        sentry.post(
            "/api/v1/ingest", content=body, headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
