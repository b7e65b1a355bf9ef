"""Who is asking: bearer secrets for sentries and scripts, session cookies for people."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from rigwatch.commander.context import Commander, commander
from rigwatch.domain.models import Role
from rigwatch.domain.views import Principal
from rigwatch.store import auth as store_auth

SESSION_COOKIE = "rigwatch_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def session_principal(request: Request, rw: Commander) -> tuple[Principal, str] | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > 200:
        return None
    now = datetime.now(UTC)
    return rw.read(lambda c: store_auth.get_session(c, secret, now))


def resolve(request: Request, rw: Commander) -> Principal | None:
    """The caller, or None. A bearer header, when present, is the only thing looked at."""
    token = _bearer(request)
    if token is not None:
        if len(token) > 200:
            return None
        return rw.read(lambda c: store_auth.authenticate_bearer(c, token))
    found = session_principal(request, rw)
    if found is None:
        return None
    principal, csrf = found
    if request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, csrf):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return principal


def require_role(role: Role) -> Callable[..., Principal]:
    """Dependency: a person or script with at least `role`."""

    def dependency(request: Request, rw: Annotated[Commander, Depends(commander)]) -> Principal:
        principal = resolve(request, rw)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "authentication required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role is None or not principal.role.allows(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role.value} role")
        return principal

    return dependency


def require_sentry(request: Request, rw: Annotated[Commander, Depends(commander)]) -> Principal:
    token = _bearer(request)
    principal = (
        None
        if token is None or len(token) > 200
        else rw.read(lambda c: store_auth.authenticate_bearer(c, token))
    )
    if principal is None or principal.kind != "sentry" or principal.sentry_id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing, wrong or revoked sentry credential",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
SentryCaller = Annotated[Principal, Depends(require_sentry)]
RW = Annotated[Commander, Depends(commander)]
