"""First start: make sure somebody can sign in."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth

FIRST_ADMIN = "admin"


def ensure_admin(engine: Engine) -> str | None:
    """Create the first admin when there are no users; return its password (shown once)."""
    with engine.begin() as conn:
        if store_auth.count_users(conn) > 0:
            return None
        password = secrets.token_urlsafe(12)
        store_auth.create_user(conn, FIRST_ADMIN, password, Role.ADMIN)
        store_auth.audit(conn, "rigwatch", "user.create", FIRST_ADMIN, "first start")
        return password
