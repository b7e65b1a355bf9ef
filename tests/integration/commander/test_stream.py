"""GET /api/v1/stream: ids, Last-Event-ID replay, resync, heartbeat and the client cap."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import batch, minutes_ago, running_commander, sample


def read_events(lines: Iterator[str], count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "event" in current:
                events.append(current)
                current = {}
            if len(events) >= count:
                return events
            current = {}
            continue
        name, _, value = line.partition(":")
        current[name] = value.strip()
    return events


@contextmanager
def stream(client: httpx.Client, last_id: str | None = None) -> Iterator[Iterator[str]]:
    headers = {"Last-Event-ID": last_id} if last_id else {}
    with client.stream("GET", "/api/v1/stream", headers=headers, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield response.iter_lines()


def named(events: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    return [e for e in events if e.get("event") == name]


def test_each_stored_batch_yields_updates_with_increasing_ids(
    sentry: httpx.Client, viewer: httpx.Client
) -> None:
    with stream(viewer) as lines:
        assert read_events(lines, 1)[0]["event"] == "hello"
        for seq in (1, 2):
            sentry.post("/api/v1/ingest", json=batch(seq, [sample(ts=minutes_ago(3 - seq))]))
        got = read_events(lines, 6)
    updates = named(got, "miners")
    assert len(updates) >= 2
    ids = [int(e["id"]) for e in got if "id" in e]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    first = json.loads(updates[0]["data"])["miners"][0]
    assert first["h"] == 110e12 and first["s"] == "online"


def test_a_reconnecting_client_gets_what_it_missed(
    sentry: httpx.Client, viewer: httpx.Client
) -> None:
    with stream(viewer) as lines:
        read_events(lines, 1)
        sentry.post("/api/v1/ingest", json=batch(1, [sample(ts=minutes_ago(3))]))
        first = named(read_events(lines, 1), "miners")[0]
    sentry.post("/api/v1/ingest", json=batch(2, [sample(ts=minutes_ago(2))]))
    sentry.post("/api/v1/ingest", json=batch(3, [sample(ts=minutes_ago(1))]))
    with stream(viewer, last_id=first["id"]) as lines:
        got = read_events(lines, 6)
    replayed = [e for e in got if e.get("event") in ("miners", "summary")]
    assert replayed and all(int(e["id"]) > int(first["id"]) for e in replayed)
    assert len(named(got, "miners")) >= 2
    assert not named(got, "resync")


def test_an_unknown_or_expired_id_gets_a_resync(viewer: httpx.Client) -> None:
    for last in ("1", "not-a-number", "99999999999999999"):
        with stream(viewer, last_id=last) as lines:
            got = read_events(lines, 2)
        assert named(got, "resync"), last


def test_an_idle_stream_sends_heartbeats(viewer: httpx.Client) -> None:
    with stream(viewer) as lines:
        got = read_events(lines, 3)
    assert named(got, "heartbeat")


def test_connections_are_capped(tmp_path: Path) -> None:
    with running_commander(tmp_path / "d", stream_max_clients=2, stream_heartbeat_s=0.2) as rc:
        with rc.engine.begin() as conn:
            key = store_auth.create_api_key(conn, "v", Role.VIEWER)
        client = httpx.Client(base_url=rc.url, headers={"Authorization": f"Bearer {key}"})
        with client, stream(client) as a, stream(client) as b:
            read_events(a, 1)
            read_events(b, 1)
            refused = client.get("/api/v1/stream")
            assert refused.status_code == 503
