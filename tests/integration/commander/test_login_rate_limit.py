"""Sign-in rate limiting on a real commander: per user name and per client address,
429 with Retry-After, no password check while locked, every failure and lockout audited."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander

PASSWORD = "correct horse battery"


@pytest.fixture
def people(commander: RunningCommander) -> RunningCommander:
    with commander.engine.begin() as conn:
        store_auth.create_user(conn, "alice", PASSWORD, Role.VIEWER)
        store_auth.create_user(conn, "bob", PASSWORD, Role.VIEWER)
    return commander


@pytest.fixture
def browser(people: RunningCommander) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=people.url) as client:
        yield client


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token.group(1), "next": "/"},
    )


def audit(rc: RunningCommander, action: str) -> list[store_auth.AuditRow]:
    with rc.engine.connect() as conn:
        return store_auth.list_audit(conn, action=action, limit=500)


def test_five_wrong_passwords_lock_the_user_name_with_429_and_retry_after(
    people: RunningCommander, browser: httpx.Client
) -> None:
    for _ in range(4):
        reply = sign_in(browser, "alice", "wrong password")
        assert reply.status_code == 303
        assert reply.headers["location"].startswith("/login?error=1")
    locked = sign_in(browser, "alice", "wrong password")
    assert locked.status_code == 429
    assert 55 <= int(locked.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins" in locked.text
    # Locked: even the right password is refused, and not even checked.
    again = sign_in(browser, "alice", PASSWORD)
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) <= 60
    assert "rigwatch_session" not in browser.cookies
    # Another name from the same address is not locked by alice's failures.
    assert sign_in(browser, "bob", PASSWORD).status_code == 303
    assert "rigwatch_session" in browser.cookies

    failed = audit(people, "login.failed")
    assert [(e.actor, e.target) for e in failed] == [("anonymous", "alice")] * 5
    assert all(e.detail == "from 127.0.0.1" for e in failed)
    locks = audit(people, "login.locked")
    assert [(e.actor, e.target) for e in locks] == [("system", "user:alice")]
    assert "60 s" in locks[0].detail
    assert [e.target for e in audit(people, "login")] == ["bob"]


def test_the_user_name_is_locked_whatever_its_case(browser: httpx.Client) -> None:
    for name in ["alice", "Alice", "ALICE", "alice ", "aLice"]:
        sign_in(browser, name, "nope")
    assert sign_in(browser, "alice", PASSWORD).status_code == 429


def test_one_address_guessing_many_names_is_locked_after_twenty_failures(
    people: RunningCommander, browser: httpx.Client
) -> None:
    for i in range(19):
        assert sign_in(browser, f"nobody-{i}", "guess").status_code == 303
    locked = sign_in(browser, "nobody-19", "guess")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert sign_in(browser, "bob", PASSWORD).status_code == 429
    locks = audit(people, "login.locked")
    assert [e.target for e in locks] == ["ip:127.0.0.1"]


def test_a_good_sign_in_clears_the_user_names_failures(browser: httpx.Client) -> None:
    for _ in range(4):
        sign_in(browser, "alice", "wrong")
    assert sign_in(browser, "alice", PASSWORD).status_code == 303
    for _ in range(4):
        assert sign_in(browser, "alice", "wrong").status_code == 303
