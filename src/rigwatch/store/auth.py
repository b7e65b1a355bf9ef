"""Bearer secrets, users, sessions and the audit log.

Every secret (enrollment token, sentry credential, API key, session id) is
random, shown once, and stored only as its SHA-256: a leaked database does not
leak working credentials, and lookups go by hash, so nothing compares secret
strings byte by byte in Python. SHA-256 (not argon2) is right here because the
secrets are 256-bit random values, not guessable passwords; passwords get argon2.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from rigwatch.domain.models import Role
from rigwatch.domain.views import Principal
from rigwatch.store.tables import audit_log, credentials, sentries, sessions, sites, users
from rigwatch.store.timestamps import from_us, now_us, to_us

ENROLL_PREFIX = "rwe_"
SENTRY_PREFIX = "rws_"
APIKEY_PREFIX = "rwk_"

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 run.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AlreadyExists(ValueError):
    """A name that must be unique (sentry, user) is taken."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _site_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(sites.c.id).where(sites.c.name == name)).scalar_one_or_none()
    if found is not None:
        return int(found)
    query = insert(sites).values(name=name, created_at=now_us()).returning(sites.c.id)
    return int(conn.execute(query).scalar_one())


def create_sentry(conn: Connection, name: str, site: str = "default") -> tuple[int, str]:
    """A new sentry and its one-time enrollment token (shown once, stored hashed)."""
    if conn.execute(select(sentries.c.id).where(sentries.c.name == name)).first():
        raise AlreadyExists(f"sentry {name!r} already exists")
    now = now_us()
    query = (
        insert(sentries)
        .values(site_id=_site_id(conn, site), name=name, created_at=now)
        .returning(sentries.c.id)
    )
    sentry_id = int(conn.execute(query).scalar_one())
    token = _new_secret(ENROLL_PREFIX)
    conn.execute(
        insert(credentials).values(
            kind="enroll",
            name=name,
            secret_hash=secret_hash(token),
            sentry_id=sentry_id,
            created_at=now,
        )
    )
    return sentry_id, token


def enroll(conn: Connection, token: str) -> tuple[int, str, str] | None:
    """Trade an unused enrollment token for a long-lived sentry credential.

    Returns (sentry_id, sentry name, credential) or None when the token is
    unknown, used, revoked or belongs to a revoked sentry. The token is consumed
    by a conditional UPDATE, so two concurrent enrollments cannot both win.
    """
    row = conn.execute(
        select(credentials.c.id, sentries.c.id.label("sentry_id"), sentries.c.name)
        .join(sentries, sentries.c.id == credentials.c.sentry_id)
        .where(
            credentials.c.secret_hash == secret_hash(token),
            credentials.c.kind == "enroll",
            credentials.c.used_at.is_(None),
            credentials.c.revoked_at.is_(None),
            sentries.c.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    now = now_us()
    consumed = conn.execute(
        update(credentials)
        .where(credentials.c.id == row.id, credentials.c.used_at.is_(None))
        .values(used_at=now)
    )
    if consumed.rowcount != 1:
        return None
    credential = _new_secret(SENTRY_PREFIX)
    conn.execute(
        insert(credentials).values(
            kind="sentry",
            name=row.name,
            secret_hash=secret_hash(credential),
            sentry_id=row.sentry_id,
            created_at=now,
        )
    )
    conn.execute(update(sentries).where(sentries.c.id == row.sentry_id).values(enrolled_at=now))
    return int(row.sentry_id), str(row.name), credential


def revoke_sentry(conn: Connection, name: str) -> bool:
    """Revoke a sentry and every credential it has; False when no such sentry."""
    sentry_id = conn.execute(
        select(sentries.c.id).where(sentries.c.name == name)
    ).scalar_one_or_none()
    if sentry_id is None:
        return False
    now = now_us()
    conn.execute(
        update(sentries)
        .where(sentries.c.id == sentry_id, sentries.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    conn.execute(
        update(credentials)
        .where(credentials.c.sentry_id == sentry_id, credentials.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return True


def create_api_key(conn: Connection, name: str, role: Role) -> str:
    """A new API key for scripts, with the given role; shown once."""
    key = _new_secret(APIKEY_PREFIX)
    conn.execute(
        insert(credentials).values(
            kind="apikey",
            name=name,
            secret_hash=secret_hash(key),
            role=str(Role(role)),
            created_at=now_us(),
        )
    )
    return key


def revoke_api_key(conn: Connection, name: str) -> bool:
    """Revoke every live API key with that name; False when there was none."""
    result = conn.execute(
        update(credentials)
        .where(
            credentials.c.kind == "apikey",
            credentials.c.name == name,
            credentials.c.revoked_at.is_(None),
        )
        .values(revoked_at=now_us())
    )
    return result.rowcount > 0


def authenticate_bearer(conn: Connection, secret: str) -> Principal | None:
    """The principal behind a sentry credential or API key; None for anything else."""
    row = conn.execute(
        select(
            credentials.c.kind,
            credentials.c.name,
            credentials.c.role,
            credentials.c.sentry_id,
            sentries.c.revoked_at.label("sentry_revoked_at"),
        )
        .outerjoin(sentries, sentries.c.id == credentials.c.sentry_id)
        .where(
            credentials.c.secret_hash == secret_hash(secret),
            credentials.c.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    if row.kind == "sentry" and row.sentry_id is not None and row.sentry_revoked_at is None:
        return Principal(kind="sentry", name=row.name, sentry_id=row.sentry_id)
    if row.kind == "apikey" and row.role is not None:
        return Principal(kind="apikey", name=row.name, role=Role(row.role))
    return None


def create_user(conn: Connection, username: str, password: str, role: Role) -> int:
    """A new person with an argon2-hashed password."""
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise AlreadyExists(f"user {username!r} already exists")
    result = conn.execute(
        insert(users)
        .values(
            username=username,
            password_hash=_hasher.hash(password),
            role=str(Role(role)),
            created_at=now_us(),
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


def verify_user(conn: Connection, username: str, password: str) -> tuple[int, Role] | None:
    """(user id, role) when the password matches; rehashes when argon2 parameters changed."""
    row = conn.execute(
        select(users.c.id, users.c.password_hash, users.c.role).where(users.c.username == username)
    ).first()
    if row is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(
            update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password))
        )
    return int(row.id), Role(row.role)


def user_id(conn: Connection, username: str) -> int | None:
    found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    return None if found is None else int(found)


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def set_password(conn: Connection, username: str, password: str) -> bool:
    """Replace a user's password and end their sessions; False when no such user."""
    user_id = conn.execute(
        select(users.c.id).where(users.c.username == username)
    ).scalar_one_or_none()
    if user_id is None:
        return False
    conn.execute(
        update(users).where(users.c.id == user_id).values(password_hash=_hasher.hash(password))
    )
    conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
    return True


def create_session(conn: Connection, user_id: int, hours: float) -> tuple[str, str]:
    """(session secret for the cookie, CSRF token for forms); only the secret's hash is kept."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    conn.execute(
        insert(sessions).values(
            id_hash=secret_hash(secret),
            user_id=user_id,
            csrf_token=csrf,
            created_at=to_us(now),
            expires_at=to_us(now + timedelta(hours=hours)),
        )
    )
    return secret, csrf


def get_session(conn: Connection, secret: str, now: datetime) -> tuple[Principal, str] | None:
    """The logged-in person and the session's CSRF token; None when unknown or expired."""
    row = conn.execute(
        select(
            sessions.c.csrf_token,
            sessions.c.expires_at,
            users.c.id,
            users.c.username,
            users.c.role,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id_hash == secret_hash(secret))
    ).first()
    if row is None or from_us(row.expires_at) <= now:
        return None
    principal = Principal(kind="session", name=row.username, role=Role(row.role), user_id=row.id)
    return principal, str(row.csrf_token)


def delete_session(conn: Connection, secret: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.id_hash == secret_hash(secret)))


def purge_sessions(conn: Connection, now: datetime) -> int:
    """Delete expired sessions; returns how many."""
    result = conn.execute(sessions.delete().where(sessions.c.expires_at <= to_us(now)))
    return int(result.rowcount)


def audit(conn: Connection, actor: str, action: str, target: str, detail: str = "") -> None:
    """Record who changed what; every change made through the API or CLI calls this."""
    conn.execute(
        insert(audit_log).values(
            ts=now_us(), actor=actor[:200], action=action[:100], target=target[:500], detail=detail
        )
    )


# -- people: listing and changing them (the admin's users page and API) ----------------


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    role: Role
    created_at: datetime
    sessions: int


def _user_rows(conn: Connection, where: Any = None) -> list[UserRow]:
    now = now_us()
    live = (
        select(sessions.c.user_id, func.count().label("n"))
        .where(sessions.c.expires_at > now)
        .group_by(sessions.c.user_id)
        .subquery()
    )
    query = (
        select(users.c.id, users.c.username, users.c.role, users.c.created_at, live.c.n)
        .outerjoin(live, live.c.user_id == users.c.id)
        .order_by(users.c.username)
    )
    if where is not None:
        query = query.where(where)
    return [
        UserRow(
            id=int(r.id),
            username=str(r.username),
            role=Role(r.role),
            created_at=from_us(r.created_at),
            sessions=int(r.n or 0),
        )
        for r in conn.execute(query)
    ]


def list_users(conn: Connection) -> list[UserRow]:
    """Every person, by user name, with how many live sessions each has."""
    return _user_rows(conn)


def get_user(conn: Connection, user_id: int) -> UserRow | None:
    found = _user_rows(conn, users.c.id == user_id)
    return found[0] if found else None


def count_admins(conn: Connection) -> int:
    query = select(func.count()).select_from(users).where(users.c.role == str(Role.ADMIN))
    return int(conn.execute(query).scalar_one())


def set_role(conn: Connection, user_id: int, role: Role) -> bool:
    """Change a person's role; it applies to their live sessions at their next request
    (a session reads the role from the user row). False when no such user."""
    result = conn.execute(update(users).where(users.c.id == user_id).values(role=str(Role(role))))
    return result.rowcount > 0


def delete_user(conn: Connection, user_id: int) -> bool:
    """Delete a person and end their sessions; False when no such user."""
    conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
    return conn.execute(users.delete().where(users.c.id == user_id)).rowcount > 0


# -- the audit log, read back --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    ts: datetime
    actor: str
    action: str
    target: str
    detail: str


def list_audit(
    conn: Connection,
    *,
    limit: int = 100,
    before_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditRow]:
    """Newest first; page backwards with `before_id`. `action` ending in `.` or `*`
    matches a family (`user.` → user.create, user.delete, ...)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        prefix = action.rstrip("*")
        if prefix != action or action.endswith("."):
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(audit_log.c.action.like(escaped + "%", escape="\\"))
        else:
            query = query.where(audit_log.c.action == action)
    return [
        AuditRow(
            id=int(r.id),
            ts=from_us(r.ts),
            actor=str(r.actor),
            action=str(r.action),
            target=str(r.target),
            detail=str(r.detail),
        )
        for r in conn.execute(query)
    ]
