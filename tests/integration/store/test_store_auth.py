"""Sentry enrollment, bearer credentials, users, sessions and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from rigwatch.domain.models import Role
from rigwatch.store import auth
from rigwatch.store.tables import audit_log, credentials, sentries


def test_a_new_sentry_enrolls_once_with_its_token(engine: Engine):
    with engine.begin() as conn:
        sentry_id, token = auth.create_sentry(conn, "rack-a")
    assert token.startswith("rwe_")
    with engine.begin() as conn:
        enrolled = auth.enroll(conn, token)
    assert enrolled is not None
    assert enrolled[:2] == (sentry_id, "rack-a")
    assert enrolled[2].startswith("rws_")
    with engine.begin() as conn:
        assert auth.enroll(conn, token) is None
        principal = auth.authenticate_bearer(conn, enrolled[2])
        assert principal is not None
        assert (principal.kind, principal.sentry_id) == ("sentry", sentry_id)
        assert conn.execute(select(sentries.c.enrolled_at)).scalar_one() is not None


def test_secrets_are_stored_only_as_hashes(engine: Engine):
    with engine.begin() as conn:
        _, token = auth.create_sentry(conn, "rack-a")
        key = auth.create_api_key(conn, "script", Role.VIEWER)
        stored: list[str] = list(conn.execute(select(credentials.c.secret_hash)).scalars())
    assert token not in stored and key not in stored
    assert auth.secret_hash(token) in stored


def test_an_enrollment_token_is_not_a_bearer_credential(engine: Engine):
    with engine.begin() as conn:
        _, token = auth.create_sentry(conn, "rack-a")
        assert auth.authenticate_bearer(conn, token) is None


def test_a_revoked_sentry_is_rejected_and_cannot_enroll(engine: Engine):
    with engine.begin() as conn:
        _, token_a = auth.create_sentry(conn, "rack-a")
        _, token_b = auth.create_sentry(conn, "rack-b")
        enrolled = auth.enroll(conn, token_a)
        assert enrolled is not None
        assert auth.revoke_sentry(conn, "rack-a")
        assert auth.revoke_sentry(conn, "rack-b")
        assert not auth.revoke_sentry(conn, "nope")
        assert auth.authenticate_bearer(conn, enrolled[2]) is None
        assert auth.enroll(conn, token_b) is None


def test_unknown_secrets_are_rejected(engine: Engine):
    with engine.begin() as conn:
        assert auth.authenticate_bearer(conn, "rws_nothing") is None
        assert auth.enroll(conn, "rwe_nothing") is None


def test_sentry_names_are_unique_and_new_sites_are_created(engine: Engine):
    with engine.begin() as conn:
        auth.create_sentry(conn, "rack-a", site="north")
        with pytest.raises(auth.AlreadyExists):
            auth.create_sentry(conn, "rack-a")


def test_api_keys_carry_their_role_and_can_be_revoked(engine: Engine):
    with engine.begin() as conn:
        key = auth.create_api_key(conn, "grafana", Role.OPERATOR)
        assert key.startswith("rwk_")
        principal = auth.authenticate_bearer(conn, key)
        assert principal is not None
        assert (principal.kind, principal.role, principal.name) == (
            "apikey",
            Role.OPERATOR,
            "grafana",
        )
        assert auth.revoke_api_key(conn, "grafana")
        assert auth.authenticate_bearer(conn, key) is None


def test_users_verify_by_password_and_can_change_it(engine: Engine):
    with engine.begin() as conn:
        assert auth.count_users(conn) == 0
        user_id = auth.create_user(conn, "ada", "correct horse", Role.ADMIN)
        assert auth.count_users(conn) == 1
        assert auth.verify_user(conn, "ada", "correct horse") == (user_id, Role.ADMIN)
        assert auth.verify_user(conn, "ada", "wrong") is None
        assert auth.verify_user(conn, "nobody", "correct horse") is None
        with pytest.raises(auth.AlreadyExists):
            auth.create_user(conn, "ada", "x", Role.VIEWER)
        assert auth.set_password(conn, "ada", "battery staple")
        assert not auth.set_password(conn, "nobody", "x")
        assert auth.verify_user(conn, "ada", "correct horse") is None
        assert auth.verify_user(conn, "ada", "battery staple") == (user_id, Role.ADMIN)


def test_sessions_resolve_until_they_expire_or_are_deleted(engine: Engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        user_id = auth.create_user(conn, "ada", "pw", Role.OPERATOR)
        secret, csrf = auth.create_session(conn, user_id, hours=1)
        found = auth.get_session(conn, secret, now)
        assert found is not None
        principal, found_csrf = found
        assert found_csrf == csrf
        assert (principal.kind, principal.role, principal.user_id, principal.name) == (
            "session",
            Role.OPERATOR,
            user_id,
            "ada",
        )
        assert auth.get_session(conn, secret, now + timedelta(hours=2)) is None
        assert auth.get_session(conn, "bogus", now) is None
        assert auth.purge_sessions(conn, now + timedelta(hours=2)) == 1
        secret, _ = auth.create_session(conn, user_id, hours=1)
        auth.delete_session(conn, secret)
        assert auth.get_session(conn, secret, now) is None


def test_changing_a_password_ends_the_users_sessions(engine: Engine):
    with engine.begin() as conn:
        user_id = auth.create_user(conn, "ada", "pw", Role.VIEWER)
        secret, _ = auth.create_session(conn, user_id, hours=1)
        auth.set_password(conn, "ada", "pw2")
        assert auth.get_session(conn, secret, datetime.now(UTC)) is None


def test_audit_records_who_did_what(engine: Engine):
    with engine.begin() as conn:
        auth.audit(conn, "ada", "sentry.create", "rack-a", "from CLI")
        auth.audit(conn, "ada", "sentry.revoke", "rack-a")
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    assert [(r.actor, r.action, r.target, r.detail) for r in rows] == [
        ("ada", "sentry.create", "rack-a", "from CLI"),
        ("ada", "sentry.revoke", "rack-a", ""),
    ]
