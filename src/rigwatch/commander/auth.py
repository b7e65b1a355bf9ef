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


def check_csrf(request: Request, expected: str, form_csrf: str | None = None) -> None:
    """403 unless an unsafe call made with the session cookie carries the session's CSRF
    token, in the `x-csrf-token` header or (an HTML form) a `csrf` field."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER) or form_csrf or ""
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def form_csrf(request: Request) -> str | None:
    """Dependency: the `csrf` field of a form body, read only for an unsafe call made
    with a session cookie and without the CSRF header (an HTML form's post)."""
    if (
        request.method not in UNSAFE
        or request.headers.get(CSRF_HEADER)
        or _bearer(request) is not None
        or SESSION_COOKIE not in request.cookies
    ):
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return None
    form = await request.form(max_files=0, max_fields=100)  # malformed: 400
    value = form.get("csrf")
    return value if isinstance(value, str) and len(value) <= 200 else None


FormCsrf = Annotated[str | None, Depends(form_csrf)]


def resolve(request: Request, rw: Commander, form_token: str | None = None) -> Principal | None:
    """The caller, or None. A bearer header, when present, is the only thing looked at;
    a session cookie must come with its CSRF token on an unsafe call (`check_csrf`)."""
    token = _bearer(request)
    if token is not None:
        if len(token) > 200:
            return None
        return rw.read(lambda c: store_auth.authenticate_bearer(c, token))
    found = session_principal(request, rw)
    if found is None:
        return None
    principal, csrf = found
    check_csrf(request, csrf, form_token)
    return principal


def require_role(role: Role) -> Callable[..., Principal]:
    """Dependency: a person or script with at least `role`."""

    def dependency(
        request: Request, rw: Annotated[Commander, Depends(commander)], csrf: FormCsrf
    ) -> Principal:
        principal = resolve(request, rw, csrf)
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
