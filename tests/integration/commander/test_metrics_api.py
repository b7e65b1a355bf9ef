"""GET /metrics: who may scrape it, and what a scrape returns over HTTP."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rigwatch.commander import metrics
from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, batch, running_commander, sample

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def test_metrics_need_a_credential_by_default(anonymous: httpx.Client) -> None:
    r = anonymous.get("/metrics")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "rigwatch_" not in r.text


def test_a_wrong_or_revoked_key_is_refused(commander: RunningCommander) -> None:
    with commander.engine.begin() as conn:
        key = store_auth.create_api_key(conn, "old-prometheus", Role.VIEWER)
        store_auth.revoke_api_key(conn, "old-prometheus")
    for token in (key, "rw_not_a_key"):
        r = httpx.get(f"{commander.url}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


def test_a_sentry_credential_is_not_a_viewer(sentry: httpx.Client) -> None:
    assert sentry.get("/metrics").status_code == 403


def test_a_viewer_key_scrapes_the_farm(sentry: httpx.Client, viewer: httpx.Client) -> None:
    assert sentry.post("/api/v1/ingest", json=batch(1, [sample("aa:01", hashrate_hs=95e12)]))
    r = viewer.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == CONTENT_TYPE
    assert r.headers["cache-control"] == "no-store"
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    [hashrate] = families["rigwatch_miner_hashrate_hs"].samples
    assert hashrate.labels["miner"] == "aa:01"
    assert hashrate.labels["sentry"] == "test-sentry"
    assert hashrate.value == 95e12
    assert families["rigwatch_ingest_batches"].samples[0].value >= 1


def test_a_signed_in_person_may_read_them_too(commander: RunningCommander) -> None:
    with commander.engine.begin() as conn:
        user = store_auth.create_user(conn, "vera", "a long enough password", Role.VIEWER)
        secret, _csrf = store_auth.create_session(conn, user, 1)
    with httpx.Client(base_url=commander.url, cookies={"rigwatch_session": secret}) as person:
        assert person.get("/metrics").status_code == 200


def test_metrics_public_opens_them_without_a_credential(tmp_path: Path) -> None:
    with running_commander(tmp_path / "data", metrics_public=True) as rc:
        r = httpx.get(f"{rc.url}/metrics")
        assert r.status_code == 200
        assert "rigwatch_farm_miners" in r.text


def test_large_scrapes_are_gzipped_when_the_scraper_accepts_it(
    viewer: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = viewer.get("/metrics", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    monkeypatch.setattr(metrics, "GZIP_MIN_BYTES", 0)
    with viewer.stream("GET", "/metrics", headers={"Accept-Encoding": "gzip"}) as r:
        assert r.headers["content-encoding"] == "gzip"
        text = gzip.decompress(b"".join(r.iter_raw())).decode()
    assert text.startswith("# HELP rigwatch_")
    assert "rigwatch_stream_clients 0.0" in text
