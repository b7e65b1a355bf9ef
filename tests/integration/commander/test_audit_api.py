"""`GET /api/v1/admin/audit`: the audit log for admins, newest first, paged and filtered."""

from __future__ import annotations

import httpx

from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander


def seed(rc: RunningCommander) -> None:
    with rc.engine.begin() as conn:
        for i in range(7):
            store_auth.audit(conn, "alice", "user.create", f"user-{i}", "viewer")
        store_auth.audit(conn, "bob", "sentry.revoke", "rack-a")
        store_auth.audit(conn, "bob", "user_create", "not-a-family-member")
        store_auth.audit(conn, "cli", "user.passwd", "user-1", "<b>detail</b>")


def test_newest_first_and_paged_backwards(commander: RunningCommander, admin: httpx.Client) -> None:
    seed(commander)
    first = admin.get("/api/v1/admin/audit", params={"limit": 4}).json()
    assert [e["action"] for e in first["items"]] == [
        "user.passwd",
        "user_create",
        "sentry.revoke",
        "user.create",
    ]
    assert first["items"][0]["detail"] == "<b>detail</b>"
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_before_id"]
    while cursor is not None:
        page = admin.get("/api/v1/admin/audit", params={"limit": 4, "before_id": cursor}).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_before_id"]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 10


def test_filtered_by_actor_and_by_action_or_action_family(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    seed(commander)

    def actions(**params: str) -> list[str]:
        page = admin.get("/api/v1/admin/audit", params=params).json()
        return [f"{e['actor']}:{e['action']}" for e in page["items"]]

    assert actions(actor="bob") == ["bob:user_create", "bob:sentry.revoke"]
    assert actions(action="sentry.revoke") == ["bob:sentry.revoke"]
    assert actions(action="user.") == ["cli:user.passwd"] + ["alice:user.create"] * 7
    assert actions(action="user.*", actor="cli") == ["cli:user.passwd"]
    assert actions(action="user%") == []
    assert actions(actor="nobody") == []


def test_changes_made_through_the_api_show_up(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    admin.post("/api/v1/sentries", json={"name": "rack-b"})
    admin.post("/api/v1/sentries/rack-b/revoke")
    page = admin.get("/api/v1/admin/audit").json()
    assert [(e["actor"], e["action"], e["target"]) for e in page["items"]] == [
        ("test-admin", "sentry.revoke", "rack-b"),
        ("test-admin", "sentry.create", "rack-b"),
    ]
    assert page["next_before_id"] is None


def test_bounds_are_checked(admin: httpx.Client) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"before_id": 0}, {"actor": "x" * 201}):
        assert admin.get("/api/v1/admin/audit", params=params).status_code == 422


def test_only_admins_read_it(operator: httpx.Client, viewer: httpx.Client) -> None:
    assert operator.get("/api/v1/admin/audit").status_code == 403
    assert viewer.get("/api/v1/admin/audit").status_code == 403
