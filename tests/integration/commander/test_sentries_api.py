"""Enrollment: one-time tokens, hashed credentials, revocation, roles."""

from __future__ import annotations

import httpx

from rigwatch.sentry.uplink import uplink_client
from tests.helpers import batch


def test_an_admin_creates_a_sentry_that_enrolls_once(
    admin: httpx.Client, anonymous: httpx.Client
) -> None:
    created = admin.post("/api/v1/sentries", json={"name": "rack-a"})
    assert created.status_code == 201
    token = created.json()["enrollment_token"]
    enrolled = anonymous.post("/api/v1/sentries/enroll", json={"token": token})
    assert enrolled.status_code == 200
    credential = enrolled.json()["credential"]
    assert credential != token
    assert anonymous.post("/api/v1/sentries/enroll", json={"token": token}).status_code == 401
    ok = anonymous.post(
        "/api/v1/ingest", json=batch(1), headers={"Authorization": f"Bearer {credential}"}
    )
    assert ok.status_code == 200
    names = [s["name"] for s in admin.get("/api/v1/sentries").json()]
    assert names == ["rack-a"]


def test_a_revoked_sentry_is_cut_off(admin: httpx.Client, anonymous: httpx.Client) -> None:
    token = admin.post("/api/v1/sentries", json={"name": "rack-b"}).json()["enrollment_token"]
    credential = anonymous.post("/api/v1/sentries/enroll", json={"token": token}).json()[
        "credential"
    ]
    assert admin.post("/api/v1/sentries/rack-b/revoke").status_code == 204
    reply = anonymous.post(
        "/api/v1/ingest", json=batch(1), headers={"Authorization": f"Bearer {credential}"}
    )
    assert reply.status_code == 401
    assert admin.post("/api/v1/sentries/nope/revoke").status_code == 404


def test_only_admins_manage_sentries(
    viewer: httpx.Client, operator: httpx.Client, anonymous: httpx.Client
) -> None:
    assert viewer.post("/api/v1/sentries", json={"name": "x"}).status_code == 403
    assert operator.post("/api/v1/sentries", json={"name": "x"}).status_code == 403
    assert anonymous.post("/api/v1/sentries", json={"name": "x"}).status_code == 401
    assert viewer.get("/api/v1/sentries").status_code == 403


def test_bad_names_and_duplicates_are_refused(admin: httpx.Client) -> None:
    assert admin.post("/api/v1/sentries", json={"name": "../etc"}).status_code == 422
    assert admin.post("/api/v1/sentries", json={"name": "dup"}).status_code == 201
    assert admin.post("/api/v1/sentries", json={"name": "dup"}).status_code == 409


def test_enrollment_rejects_garbage(anonymous: httpx.Client) -> None:
    assert anonymous.post("/api/v1/sentries/enroll", json={"token": "rwe_nope"}).status_code == 401
    assert anonymous.post("/api/v1/sentries/enroll", json={"token": "x" * 500}).status_code == 422
    assert anonymous.post("/api/v1/sentries/enroll", content=b"junk").status_code == 422


def test_a_sentry_s_version_comes_from_its_user_agent(
    sentry: httpx.Client, admin: httpx.Client
) -> None:
    agent = uplink_client().headers["user-agent"]
    assert agent.startswith("rigwatch-sentry/")
    sentry.headers["User-Agent"] = agent
    assert sentry.post("/api/v1/ingest", json=batch(1)).status_code == 200
    [row] = [s for s in admin.get("/api/v1/sentries").json() if s["name"] == "test-sentry"]
    assert row["version"] == agent.split("/", 1)[1]
    # A later batch from a newer sentry updates it; a client that says nothing changes nothing.
    sentry.headers["User-Agent"] = "rigwatch-sentry/9.9.9"
    assert sentry.post("/api/v1/ingest", json=batch(2)).status_code == 200
    sentry.headers["User-Agent"] = "curl/8.0"
    assert sentry.post("/api/v1/ingest", json=batch(3)).status_code == 200
    [row] = [s for s in admin.get("/api/v1/sentries").json() if s["name"] == "test-sentry"]
    assert row["version"] == "9.9.9"
