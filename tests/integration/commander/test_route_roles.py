"""Every route of the app, walked for every persona: who gets in and who is refused.

`ROLES` maps each (method, path) of `app.routes` to the least privilege it needs. A
route missing from it fails `test_every_route_has_a_role_entry`, so a new route cannot
ship without someone deciding who may call it; an entry for a route that is gone fails
too. Then every route is called as each persona (anonymous, a sentry credential, viewer,
operator and admin both as a signed-in session and as an API key) and the answer must be
what the table says: API routes 401 without a caller and 403 below the role; pages a
redirect to the sign-in page without a session and 403 below the role; anything else
neither (and never a 5xx).

Also here: CSRF. Every unsafe route called with an admin's session cookie and no CSRF
token (none, or a forged one in a form field, as a cross-site form would send) is
refused with 403, unless it is one of the few that never accept the session cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from rigwatch.commander.auth import CSRF_HEADER, SESSION_COOKIE
from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, running_commander


class Need(Enum):
    PUBLIC = "public"  # anyone, signed in or not
    SELF = "self"  # authenticates by what the request carries (a password, a token)
    DEMO = "demo"  # exists only in the demo on loopback (404 here)
    SENTRY = "sentry"  # a sentry credential, nothing else
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


P, S, V, OP, A = Need.PUBLIC, Need.SENTRY, Need.VIEWER, Need.OPERATOR, Need.ADMIN

# (method, path) → the least it needs. Pages (not under /api/) need a session; API
# routes take a session (with the CSRF header on unsafe calls) or a bearer API key.
ROLES: dict[tuple[str, str], Need] = {
    # -- public and self-authenticating
    ("GET", "/openapi.json"): P,
    ("GET", "/docs"): P,
    ("GET", "/docs/oauth2-redirect"): P,
    ("GET", "/redoc"): P,
    ("GET", "/static"): P,
    ("GET", "/api/v1/health"): P,
    ("GET", "/login"): P,
    ("POST", "/login"): Need.SELF,
    ("POST", "/api/v1/sentries/enroll"): Need.SELF,
    ("GET", "/auth/demo"): Need.DEMO,
    # -- sentries
    ("POST", "/api/v1/ingest"): S,
    # -- pages
    ("GET", "/"): V,
    ("POST", "/logout"): V,
    ("GET", "/miners/{miner_id}"): V,
    ("GET", "/p2pool"): V,
    ("GET", "/history"): V,
    ("GET", "/earnings"): V,
    ("GET", "/earnings/payments.csv"): V,
    ("GET", "/blocks"): V,
    ("GET", "/pools"): V,
    ("GET", "/sentries"): OP,
    ("GET", "/sites"): V,
    ("GET", "/settings"): V,
    ("GET", "/admin/users"): A,
    ("GET", "/admin/audit"): A,
    ("GET", "/alerts"): V,
    ("GET", "/notifications"): A,
    # -- read API
    ("GET", "/api/v1/stream"): V,
    ("GET", "/api/v1/summary"): V,
    ("GET", "/api/v1/miners"): V,
    ("GET", "/api/v1/miners/{miner_id}"): V,
    ("GET", "/api/v1/miners/{miner_id}/samples"): V,
    ("GET", "/api/v1/miners/{miner_id}/pool"): V,
    ("GET", "/api/v1/events"): V,
    ("GET", "/api/v1/hosts"): V,
    ("GET", "/api/v1/hosts/{host_id}"): V,
    ("GET", "/api/v1/hosts/{host_id}/samples"): V,
    ("GET", "/api/v1/p2pool"): V,
    ("GET", "/api/v1/p2pool/history"): V,
    ("GET", "/api/v1/aggregates/daily"): V,
    ("GET", "/api/v1/export/{what}"): V,
    ("GET", "/api/v1/series"): V,
    ("GET", "/api/v1/history/snapshots"): V,
    ("GET", "/api/v1/history/range"): V,
    ("GET", "/api/v1/history/snapshot/{day}"): V,
    ("GET", "/api/v1/analytics/comparison"): V,
    ("GET", "/api/v1/network"): V,
    ("GET", "/api/v1/network/blocks"): V,
    ("GET", "/api/v1/prices"): V,
    ("GET", "/api/v1/prices/history"): V,
    ("GET", "/api/v1/pools"): V,
    ("GET", "/api/v1/pools/{account_id}"): V,
    ("GET", "/api/v1/profit/daily"): V,
    ("GET", "/api/v1/profit/solo"): V,
    ("GET", "/api/v1/sites/{site_id}/power"): V,
    ("GET", "/api/v1/models/efficiency"): V,
    ("GET", "/api/v1/revenue/transactions"): V,
    ("GET", "/api/v1/revenue/daily"): V,
    ("GET", "/api/v1/wallets"): V,
    ("GET", "/api/v1/sites"): V,
    ("GET", "/api/v1/tags"): V,
    ("GET", "/api/v1/fleet/problems"): V,
    ("GET", "/api/v1/fleet/grid"): V,
    # -- running the farm
    ("POST", "/api/v1/miners/tags"): OP,
    ("POST", "/api/v1/miners/rack"): OP,
    # -- administration
    ("GET", "/api/v1/sentries"): A,
    ("POST", "/api/v1/sentries"): A,
    ("POST", "/api/v1/sentries/{name}/revoke"): A,
    ("GET", "/api/v1/admin/jobs"): A,
    ("POST", "/api/v1/admin/jobs/{name}/run"): A,
    ("POST", "/api/v1/admin/snapshot"): A,
    ("POST", "/api/v1/admin/snapshots/backfill"): A,
    ("POST", "/api/v1/pools"): A,
    ("DELETE", "/api/v1/pools/{account_id}"): A,
    ("POST", "/api/v1/pools/{account_id}/sync"): A,
    ("PUT", "/api/v1/sites/{site_id}/power"): A,
    ("POST", "/api/v1/wallets"): A,
    ("DELETE", "/api/v1/wallets/{wallet_id}"): A,
    ("GET", "/api/v1/admin/revenue/status"): A,
    ("POST", "/api/v1/admin/revenue/sync"): A,
    ("POST", "/api/v1/admin/revenue/reset"): A,
    ("POST", "/api/v1/admin/revenue/clear"): A,
    ("GET", "/api/v1/users"): A,
    ("POST", "/api/v1/users"): A,
    ("GET", "/api/v1/users/{user_id}"): A,
    ("PUT", "/api/v1/users/{user_id}"): A,
    ("DELETE", "/api/v1/users/{user_id}"): A,
    ("POST", "/api/v1/users/{user_id}/password"): A,
    ("GET", "/api/v1/admin/audit"): A,
    ("GET", "/api/v1/channels"): A,
    ("POST", "/api/v1/channels"): A,
    ("GET", "/api/v1/channels/{channel_id}"): A,
    ("PUT", "/api/v1/channels/{channel_id}"): A,
    ("DELETE", "/api/v1/channels/{channel_id}"): A,
    ("POST", "/api/v1/channels/{channel_id}/test"): A,
    ("GET", "/api/v1/notifications"): A,
    # -- alerts: everyone reads, operators acknowledge and silence, admins edit rules
    ("GET", "/api/v1/alerts"): V,
    ("GET", "/api/v1/alerts/{alert_id}"): V,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): OP,
    ("GET", "/api/v1/alerts/rules"): V,
    ("GET", "/api/v1/alerts/rules/{rule_id}"): V,
    ("POST", "/api/v1/alerts/rules"): A,
    ("PUT", "/api/v1/alerts/rules/{rule_id}"): A,
    ("DELETE", "/api/v1/alerts/rules/{rule_id}"): A,
    ("GET", "/api/v1/silences"): V,
    ("POST", "/api/v1/silences"): OP,
    ("DELETE", "/api/v1/silences/{silence_id}"): OP,
    # -- Prometheus: an API route outside /api/ (bearer key or session; 401, not a redirect)
    ("GET", "/metrics"): V,
}

# Routes outside /api/ that answer as the API does (401/403), not as a page (redirect).
API_OUTSIDE_API = {"/metrics"}

# Unsafe routes that never take the session cookie, so have no session CSRF token to
# check: each protects itself another way.
CSRF_EXEMPT = {
    ("POST", "/login"): "a login-CSRF cookie (SameSite=Strict) and a matching form field",
    ("POST", "/api/v1/sentries/enroll"): "authenticated by the one-time token in its body",
    ("POST", "/api/v1/ingest"): "sentry bearer credential only; cookies are ignored",
}

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PATH_VALUES = {
    "day": "2000-01-01",
    "what": "samples",
    "name": "no-such-thing",
}
RANK = {Need.VIEWER: 0, Need.OPERATOR: 1, Need.ADMIN: 2}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers flattened with
    their prefixes (HEAD is GET's twin); a mount (static files) as one GET."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path
        if isinstance(route, APIRoute | Route) and path:
            found |= {(m, path) for m in (context.methods or set()) - {"HEAD"}}
        elif isinstance(route, Mount) and path:
            found.add(("GET", path))
        else:  # a kind of route this walk does not know: a person must look at it
            found.add(("?", repr(route)))
    return found


def concrete(path: str) -> str:
    def value(m: re.Match[str]) -> str:
        return PATH_VALUES.get(m.group(1), "999999")

    path = re.sub(r"\{(\w+)(?::\w+)?\}", value, path)
    return "/static/style.css" if path == "/static" else path


@dataclass(frozen=True)
class Persona:
    name: str
    role: Role | None = None  # a person's or API key's role
    session: bool = False  # a signed-in person (cookie) rather than a bearer secret
    sentry: bool = False


PERSONAS = [
    Persona("anonymous"),
    Persona("sentry", sentry=True),
    *(Persona(f"{r.value} session", role=r, session=True) for r in Role),
    *(Persona(f"{r.value} api key", role=r) for r in Role),
]


@dataclass
class Callers:
    rc: RunningCommander
    users: dict[Role, int]
    keys: dict[Role, str]
    sentry_credential: str

    def session(self, role: Role) -> tuple[str, str]:
        """A fresh session of the role's user: (cookie secret, CSRF token)."""
        with self.rc.engine.begin() as conn:
            return store_auth.create_session(conn, self.users[role], 1.0)

    def request(self, persona: Persona, method: str, path: str) -> httpx.Response:
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        if persona.sentry:
            headers["Authorization"] = f"Bearer {self.sentry_credential}"
        elif persona.role is not None and persona.session:
            secret, csrf = self.session(persona.role)
            cookies[SESSION_COOKIE] = secret
            headers[CSRF_HEADER] = csrf
        elif persona.role is not None:
            headers["Authorization"] = f"Bearer {self.keys[persona.role]}"
        body = b"{}" if method in UNSAFE else None
        if body is not None:
            headers["content-type"] = "application/json"
        with (
            httpx.Client(base_url=self.rc.url, cookies=cookies, timeout=30) as client,
            client.stream(method, concrete(path), headers=headers, content=body) as reply,
        ):
            return reply  # status and headers only: /stream never ends


@pytest.fixture(scope="module")
def callers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callers]:
    data: Path = tmp_path_factory.mktemp("roles") / "data"
    with running_commander(data, jobs=[]) as rc:
        with rc.engine.begin() as conn:
            users = {
                r: store_auth.create_user(conn, f"{r.value}-person", "a long password", r)
                for r in Role
            }
            keys = {r: store_auth.create_api_key(conn, f"{r.value}-key", r) for r in Role}
            _id, token = store_auth.create_sentry(conn, "walker")
            found = store_auth.enroll(conn, token)
        assert found is not None
        yield Callers(rc, users, keys, found[2])


@pytest.fixture(scope="module")
def app_routes(callers: Callers) -> set[tuple[str, str]]:
    """The route table of the app the commander under test is serving."""
    app = callers.rc.server.config.app
    assert isinstance(app, FastAPI)
    return route_table(app)


def test_every_route_has_a_role_entry(app_routes: set[tuple[str, str]]) -> None:
    missing = sorted(app_routes - ROLES.keys())
    assert not missing, (
        "routes nobody decided who may call; add them to ROLES in "
        f"tests/integration/commander/test_route_roles.py: {missing}"
    )


def test_every_role_entry_is_a_route(app_routes: set[tuple[str, str]]) -> None:
    stale = sorted(ROLES.keys() - app_routes)
    assert not stale, f"ROLES names routes the app does not have: {stale}"


def expected(need: Need, path: str, persona: Persona) -> str:
    """'ok', '401', '403', '404' or 'login' (a redirect to the sign-in page)."""
    if need in (Need.PUBLIC, Need.SELF):
        return "ok"
    if need is Need.DEMO:
        return "404"
    if need is Need.SENTRY:
        return "ok" if persona.sentry else "401"
    page = not path.startswith("/api/") and path not in API_OUTSIDE_API
    if page and not persona.session:
        return "login"  # pages are for signed-in people; bearer secrets don't open them
    if persona.role is None:
        return "401" if persona.name == "anonymous" else "403"
    return "ok" if RANK[Need(persona.role.value)] >= RANK[need] else "403"


def outcome(reply: httpx.Response) -> str:
    code = reply.status_code
    if code >= 500:
        return f"server error {code}"
    if code in (301, 302, 303, 307) and reply.headers.get("location", "").startswith("/login"):
        return "login"
    if code in (401, 403):
        return str(code)
    if code == 404 and reply.request.url.path.startswith("/auth/demo"):
        return "404"
    return "ok"


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
def test_each_persona_gets_what_its_role_allows_on_every_route(
    callers: Callers, app_routes: set[tuple[str, str]], persona: Persona
) -> None:
    wrong: list[str] = []
    for method, path in sorted(app_routes & ROLES.keys()):
        need = ROLES[(method, path)]
        want = expected(need, path, persona)
        got = outcome(callers.request(persona, method, path))
        if (method, path) == ("POST", "/logout") and persona.session and got == "login":
            got = "ok"  # signed out: the sign-in page is where signing out leads
        if got != want:
            wrong.append(f"{method} {path} (needs {need.value}): got {got}, expected {want}")
    assert not wrong, f"as {persona.name}:\n" + "\n".join(wrong)


def test_a_sign_in_page_visit_by_a_lower_role_is_refused_not_redirected(callers: Callers) -> None:
    reply = callers.request(
        Persona("viewer session", Role.VIEWER, session=True), "GET", "/sentries"
    )
    assert reply.status_code == 403
    reply = callers.request(
        Persona("operator session", Role.OPERATOR, session=True), "GET", "/admin/users"
    )
    assert reply.status_code == 403


# -- CSRF ------------------------------------------------------------------------------


def _cross_site(callers: Callers, method: str, path: str, form: dict[str, str] | None) -> int:
    secret, _csrf = callers.session(Role.ADMIN)
    headers = {"Origin": "https://evil.example", "Referer": "https://evil.example/page"}
    with httpx.Client(
        base_url=callers.rc.url, cookies={SESSION_COOKIE: secret}, timeout=30
    ) as client:
        reply = client.request(method, concrete(path), headers=headers, data=form)
        return reply.status_code


@pytest.mark.parametrize(
    "form", [None, {"csrf": "forged"}, {"csrf": ""}], ids=["no-token", "forged", "empty"]
)
def test_an_unsafe_call_with_only_the_session_cookie_is_refused_on_every_route(
    callers: Callers, app_routes: set[tuple[str, str]], form: dict[str, str] | None
) -> None:
    unsafe = sorted((m, p) for m, p in app_routes if m in UNSAFE)
    assert ("POST", "/api/v1/users") in unsafe
    let_through = [
        f"{m} {p}: {code}"
        for m, p in unsafe
        if (m, p) not in CSRF_EXEMPT and (code := _cross_site(callers, m, p, form)) != 403
    ]
    assert not let_through, "accepted a session cookie without its CSRF token:\n" + "\n".join(
        let_through
    )


def test_the_csrf_token_in_a_form_field_is_accepted_as_well_as_the_header(
    callers: Callers,
) -> None:
    secret, csrf = callers.session(Role.ADMIN)
    name = f"form-sentry-{datetime.now(UTC).strftime('%H%M%S%f')}"
    with httpx.Client(
        base_url=callers.rc.url, cookies={SESSION_COOKIE: secret}, timeout=30
    ) as client:
        refused = client.post(f"/api/v1/sentries/{name}/revoke", data={"csrf": "x" * len(csrf)})
        assert refused.status_code == 403
        passed = client.post(f"/api/v1/sentries/{name}/revoke", data={"csrf": csrf})
        assert passed.status_code == 404  # past the CSRF check: no such sentry
        by_header = client.post(f"/api/v1/sentries/{name}/revoke", headers={CSRF_HEADER: csrf})
        assert by_header.status_code == 404


def test_one_sessions_token_does_not_pass_for_another_session(callers: Callers) -> None:
    secret, _ = callers.session(Role.ADMIN)
    _, other_csrf = callers.session(Role.ADMIN)
    with httpx.Client(
        base_url=callers.rc.url, cookies={SESSION_COOKIE: secret}, timeout=30
    ) as client:
        reply = client.post("/api/v1/users", json={}, headers={CSRF_HEADER: other_csrf})
    assert reply.status_code == 403


def test_bearer_calls_need_no_csrf_token(callers: Callers) -> None:
    with httpx.Client(
        base_url=callers.rc.url,
        headers={"Authorization": f"Bearer {callers.keys[Role.ADMIN]}"},
        cookies={SESSION_COOKIE: "not-a-session"},
        timeout=30,
    ) as client:
        reply = client.post("/api/v1/sentries", json={"name": "by-script"})
    assert reply.status_code == 201, reply.text
