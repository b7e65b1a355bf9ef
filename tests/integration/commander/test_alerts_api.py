"""The alerts API on a real commander: viewers read, operators acknowledge and silence,
admins edit rules; every change audited; bad params are 422s naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rigwatch.commander.alert_eval import evaluate
from rigwatch.domain.models import Role
from rigwatch.store.tables import audit_log
from tests.helpers import RunningCommander, api_client, running_commander


@pytest.fixture
def rc(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A commander with no scheduled jobs: the tests evaluate when they choose."""
    with running_commander(tmp_path / "data", jobs=[], database_url=db_url) as running:
        yield running


@pytest.fixture
def viewer(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.VIEWER, path="/api/v1") as c:
        yield c


@pytest.fixture
def operator(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.OPERATOR, path="/api/v1") as c:
        yield c


@pytest.fixture
def admin(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.ADMIN, path="/api/v1") as c:
        yield c


def _evaluate(rc: RunningCommander, failing: list[str]) -> None:
    with rc.engine.begin() as conn:
        evaluate(conn, datetime.now(UTC), failing_jobs=failing)


def _audit(rc: RunningCommander) -> list[tuple[str, str]]:
    with rc.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action).order_by(audit_log.c.id))
        return [(r.actor, r.action) for r in rows]


def test_viewers_read_alerts_rules_and_silences_but_change_nothing(
    rc: RunningCommander, viewer: httpx.Client
) -> None:
    _evaluate(rc, ["rollups"])
    listed = viewer.get("/alerts", params={"state": "firing"})
    assert listed.status_code == 200
    [alert] = listed.json()
    assert (alert["subject"], alert["kind"], alert["state"]) == (
        "job:rollups",
        "job_failing",
        "firing",
    )
    assert viewer.get(f"/alerts/{alert['id']}").json()["id"] == alert["id"]
    assert viewer.get("/alerts", params={"state": "resolved"}).json() == []
    rules = viewer.get("/alerts/rules").json()
    assert "offline" in {r["kind"] for r in rules}
    temp = next(r for r in rules if r["kind"] == "temp_high")
    assert temp["params"]["chip_c"] == 95.0  # defaults shown
    assert viewer.get(f"/alerts/rules/{temp['id']}").status_code == 200
    assert viewer.get("/silences").json() == []

    assert viewer.post(f"/alerts/{alert['id']}/ack").status_code == 403
    silence = {"subject": "job:rollups", "minutes": 60, "reason": "known"}
    assert viewer.post("/silences", json=silence).status_code == 403
    assert viewer.post("/alerts/rules", json={"kind": "offline"}).status_code == 403
    assert viewer.put(f"/alerts/rules/{temp['id']}", json={"enabled": False}).status_code == 403
    assert viewer.delete(f"/alerts/rules/{temp['id']}").status_code == 403
    with api_client(rc, None, path="/api/v1") as anonymous:
        assert anonymous.get("/alerts").status_code == 401
    assert viewer.get("/alerts", params={"state": "burning"}).status_code == 422
    assert viewer.get("/alerts/999").status_code == 404
    assert _audit(rc) == []


def test_operators_acknowledge_and_silence_but_do_not_edit_rules(
    rc: RunningCommander, operator: httpx.Client
) -> None:
    _evaluate(rc, ["rollups"])
    [alert] = operator.get("/alerts").json()
    acked = operator.post(f"/alerts/{alert['id']}/ack")
    assert acked.status_code == 200
    assert acked.json()["acked_by"] == "test-operator"
    assert acked.json()["acked_at"] is not None
    assert operator.post("/alerts/999/ack").status_code == 404

    made = operator.post(
        "/silences", json={"subject": "job:rollups", "minutes": 30, "reason": "fixing it"}
    )
    assert made.status_code == 201
    body = made.json()
    assert (body["subject"], body["created_by"], body["active"]) == (
        "job:rollups",
        "test-operator",
        True,
    )
    _evaluate(rc, ["rollups"])
    assert operator.get(f"/alerts/{alert['id']}").json()["silenced_until"] is not None
    assert [s["id"] for s in operator.get("/silences", params={"active": True}).json()] == [
        body["id"]
    ]
    assert operator.delete(f"/silences/{body['id']}").status_code == 204
    assert operator.delete(f"/silences/{body['id']}").status_code == 404

    _evaluate(rc, [])  # the job recovered: the alert resolves
    assert operator.get(f"/alerts/{alert['id']}").json()["state"] == "resolved"
    assert operator.post(f"/alerts/{alert['id']}/ack").status_code == 409

    assert operator.post("/alerts/rules", json={"kind": "offline"}).status_code == 403
    assert operator.delete("/alerts/rules/1").status_code == 403
    assert _audit(rc) == [
        ("test-operator", "alert.ack"),
        ("test-operator", "silence.create"),
        ("test-operator", "silence.delete"),
    ]


def test_silences_are_validated(rc: RunningCommander, operator: httpx.Client) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bad = [
        {"minutes": 10, "reason": "no target"},
        {"subject": "miner:abc", "minutes": 10, "reason": "r"},
        {"subject": "miner:4242", "minutes": 10, "reason": "no such miner"},
        {"rule_id": 4242, "minutes": 10, "reason": "no such rule"},
        {"subject": "job:x", "until": past, "reason": "r"},
        {"subject": "job:x", "reason": "no end"},
        {"subject": "job:x", "minutes": 10},
        {"subject": "job:x", "minutes": 10, "reason": "r", "extra": 1},
    ]
    for body in bad:
        answer = operator.post("/silences", json=body)
        assert answer.status_code == 422, body
    assert operator.get("/silences").json() == []


def test_admins_edit_rules_and_each_change_is_audited(
    rc: RunningCommander, admin: httpx.Client
) -> None:
    made = admin.post(
        "/alerts/rules",
        json={
            "kind": "pool_not_allowed",
            "scope": "tag:client-a",
            "params": {"allowed": ["stratum+tcp://ocean.xyz:*"]},
            "severity": "critical",
            "hold_s": 120,
        },
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["kind"], rule["scope"], rule["severity"], rule["hold_s"]) == (
        "pool_not_allowed",
        "tag:client-a",
        "critical",
        120,
    )
    changed = admin.put(
        f"/alerts/rules/{rule['id']}",
        json={"enabled": False, "params": {"allowed": ["*.ocean.xyz:*"]}},
    )
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False
    assert changed.json()["params"]["allowed"] == ["*.ocean.xyz:*"]
    assert admin.put("/alerts/rules/4242", json={"enabled": True}).status_code == 404
    twin = {"kind": "pool_not_allowed", "scope": "tag:client-a", "params": {"allowed": ["x"]}}
    assert admin.post("/alerts/rules", json=twin).status_code == 409  # one rule per scope
    assert (
        admin.put(f"/alerts/rules/{rule['id']}", json={"scope": "tag:client-a"}).status_code == 200
    )
    assert admin.delete(f"/alerts/rules/{rule['id']}").status_code == 204
    assert admin.get(f"/alerts/rules/{rule['id']}").status_code == 404
    assert _audit(rc) == [
        ("test-admin", "alert_rule.create"),
        ("test-admin", "alert_rule.update"),
        ("test-admin", "alert_rule.update"),
        ("test-admin", "alert_rule.delete"),
    ]


BAD_RULES: list[tuple[dict[str, object], str]] = [
    ({"kind": "offline", "params": {"minutes": 0}}, "minutes"),
    ({"kind": "offline", "params": {"minutes": "five"}}, "minutes"),
    ({"kind": "offline", "params": {"colour": "red"}}, "colour"),
    ({"kind": "hashrate_low", "params": {"percent": 150}}, "percent"),
    ({"kind": "pool_not_allowed", "params": {}}, "allowed"),
    ({"kind": "worker_name", "params": {"pattern": "(", "syntax": "regex"}}, "pattern"),
    ({"kind": "temp_high", "scope": "planet"}, "scope"),
    ({"kind": "temp_high", "scope": "site:4242"}, "scope"),
    ({"kind": "job_failing", "scope": "tag:x"}, "scope"),
    ({"kind": "no_such_kind"}, "kind"),
    ({"kind": "offline", "hold_s": -1}, "hold_s"),
    ({"kind": "offline", "severity": "apocalyptic"}, "severity"),
]


def test_bad_rules_are_422_naming_the_field(rc: RunningCommander, admin: httpx.Client) -> None:
    for body, field in BAD_RULES:
        answer = admin.post("/alerts/rules", json=body)
        assert answer.status_code == 422, body
        assert field in answer.text, answer.text
    offline = next(r for r in admin.get("/alerts/rules").json() if r["kind"] == "offline")
    answer = admin.put(f"/alerts/rules/{offline['id']}", json={"params": {"minutes": -3}})
    assert answer.status_code == 422
    assert "params.minutes" in answer.text or "minutes" in answer.text
    assert admin.put(f"/alerts/rules/{offline['id']}", json={"kind": "hung"}).status_code == 422
    assert _audit(rc) == []
