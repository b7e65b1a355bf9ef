"""`/api/v1/users`: admins list, add, re-role, reset and delete people; audited; no one
can lock the farm out of its last admin."""

from __future__ import annotations

import httpx
import pytest

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander


def audit_actions(rc: RunningCommander) -> list[tuple[str, str, str, str]]:
    with rc.engine.connect() as conn:
        rows = store_auth.list_audit(conn, action="user.")
    return [(r.actor, r.action, r.target, r.detail) for r in reversed(rows)]


def session_client(rc: RunningCommander, username: str) -> httpx.Client:
    with rc.engine.begin() as conn:
        user_id = store_auth.user_id(conn, username)
        assert user_id is not None
        secret, csrf = store_auth.create_session(conn, user_id, 1.0)
    return httpx.Client(
        base_url=rc.url, cookies={"rigwatch_session": secret}, headers={"x-csrf-token": csrf}
    )


def can_sign_in(rc: RunningCommander, username: str, password: str) -> bool:
    with rc.engine.begin() as conn:
        return store_auth.verify_user(conn, username, password) is not None


def test_an_admin_adds_a_user_with_a_generated_password_shown_once(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    reply = admin.post("/api/v1/users", json={"username": "carol", "role": "operator"})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["user"]["username"] == "carol"
    assert body["user"]["role"] == "operator"
    assert len(body["password"]) >= 16
    assert can_sign_in(commander, "carol", body["password"])
    listed = admin.get("/api/v1/users").json()
    assert [u["username"] for u in listed] == ["carol"]
    assert "password" not in listed[0] and "password_hash" not in listed[0]
    one = admin.get(f"/api/v1/users/{body['user']['id']}").json()
    assert one["role"] == "operator"
    assert audit_actions(commander) == [("test-admin", "user.create", "carol", "operator")]


def test_a_given_password_is_used_and_not_echoed(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    reply = admin.post(
        "/api/v1/users", json={"username": "dave", "role": "viewer", "password": "long enough pw"}
    )
    assert reply.status_code == 201
    assert reply.json()["password"] is None
    assert can_sign_in(commander, "dave", "long enough pw")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "", "role": "viewer"},
        {"username": "<script>", "role": "viewer"},
        {"username": "x" * 65, "role": "viewer"},
        {"username": "erin", "role": "root"},
        {"username": "erin", "role": "viewer", "password": "short"},
    ],
)
def test_bad_input_is_refused_with_422(admin: httpx.Client, body: dict[str, str]) -> None:
    assert admin.post("/api/v1/users", json=body).status_code == 422
    assert admin.get("/api/v1/users").json() == []


def test_a_taken_name_is_refused_with_409(admin: httpx.Client) -> None:
    assert admin.post("/api/v1/users", json={"username": "frank"}).status_code == 201
    assert admin.post("/api/v1/users", json={"username": "frank"}).status_code == 409


def test_a_role_change_applies_to_the_open_session_at_once(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    created = admin.post("/api/v1/users", json={"username": "gina", "role": "viewer"}).json()
    with session_client(commander, "gina") as gina:
        assert gina.get("/api/v1/admin/jobs").status_code == 403
        changed = admin.put(f"/api/v1/users/{created['user']['id']}", json={"role": "admin"})
        assert changed.status_code == 200 and changed.json()["role"] == "admin"
        assert gina.get("/api/v1/admin/jobs").status_code == 200
    assert audit_actions(commander)[-1] == ("test-admin", "user.role", "gina", "viewer → admin")


def test_a_password_reset_shows_the_new_one_once_and_ends_sessions(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    created = admin.post("/api/v1/users", json={"username": "hank"}).json()
    old = created["password"]
    with session_client(commander, "hank") as hank:
        assert hank.get("/api/v1/summary").status_code == 200
        reply = admin.post(f"/api/v1/users/{created['user']['id']}/password")
        assert reply.status_code == 200
        new = reply.json()["password"]
        assert new != old
        assert hank.get("/api/v1/summary").status_code == 401
    assert can_sign_in(commander, "hank", new)
    assert not can_sign_in(commander, "hank", old)
    assert audit_actions(commander)[-1] == ("test-admin", "user.passwd", "hank", "reset")


def test_a_deleted_user_is_gone_with_their_sessions(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    created = admin.post("/api/v1/users", json={"username": "ivan"}).json()
    user_id = created["user"]["id"]
    with session_client(commander, "ivan") as ivan:
        assert admin.delete(f"/api/v1/users/{user_id}").status_code == 204
        assert ivan.get("/api/v1/summary").status_code == 401
    assert admin.get(f"/api/v1/users/{user_id}").status_code == 404
    assert admin.delete(f"/api/v1/users/{user_id}").status_code == 404
    assert admin.put(f"/api/v1/users/{user_id}", json={"role": "viewer"}).status_code == 404
    assert audit_actions(commander)[-1] == ("test-admin", "user.delete", "ivan", "viewer")


def test_the_last_admin_cannot_be_demoted_or_deleted_nor_an_admin_themselves(
    commander: RunningCommander, admin: httpx.Client
) -> None:
    with commander.engine.begin() as conn:
        boss = store_auth.create_user(conn, "boss", "long enough pw", Role.ADMIN)
    assert admin.put(f"/api/v1/users/{boss}", json={"role": "viewer"}).status_code == 409
    assert admin.delete(f"/api/v1/users/{boss}").status_code == 409
    second = admin.post("/api/v1/users", json={"username": "deputy", "role": "admin"}).json()
    with session_client(commander, "boss") as me:
        assert me.delete(f"/api/v1/users/{boss}").status_code == 409
        assert me.put(f"/api/v1/users/{boss}", json={"role": "viewer"}).status_code == 409
        assert (
            me.put(f"/api/v1/users/{second['user']['id']}", json={"role": "viewer"}).json()["role"]
            == "viewer"
        )
    # With a second admin again, another admin may demote boss.
    admin.put(f"/api/v1/users/{second['user']['id']}", json={"role": "admin"})
    assert admin.put(f"/api/v1/users/{boss}", json={"role": "operator"}).status_code == 200


def test_operators_and_viewers_cannot_touch_users(
    operator: httpx.Client, viewer: httpx.Client
) -> None:
    for client in (operator, viewer):
        assert client.get("/api/v1/users").status_code == 403
        assert client.post("/api/v1/users", json={"username": "x"}).status_code == 403
