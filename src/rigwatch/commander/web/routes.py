"""Server-rendered pages: login, the farm overview, a miner's page, P2Pool, history,
earnings (with its payments CSV) and blocks."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import (
    RW,
    SESSION_COOKIE,
    FormCsrf,
    check_csrf,
    is_loopback,
    session_principal,
)
from rigwatch.commander.context import Commander
from rigwatch.commander.pool_sync import default_base_url
from rigwatch.commander.ratelimit import LoginLimiter
from rigwatch.config import Settings
from rigwatch.domain.alerts import RuleKind
from rigwatch.domain.alerts import Severity as AlertSeverity
from rigwatch.domain.models import Role
from rigwatch.domain.p2pool import ATOMIC_PER_XMR
from rigwatch.domain.pools import PoolKind
from rigwatch.domain.views import Principal
from rigwatch.store import auth as store_auth
from rigwatch.store import fleet as store_fleet
from rigwatch.store import payouts as store_payouts
from rigwatch.store import pools as store_pools
from rigwatch.store import queries, rig_queries
from rigwatch.store import snapshots as store_snapshots
from rigwatch.store.aggregates import COIN_DECIMALS
from rigwatch.store.export import Export, csv_chunks
from rigwatch.units import format_hashrate, format_power

HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "rigwatch_login_csrf"
DEMO_USER = "demo"

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["hashrate"] = format_hashrate
templates.env.filters["power"] = format_power
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_bytes(n: float | None) -> str:
    """Bytes as people read them (binary prefixes, as `free -h` and `df -h` print)."""
    if n is None:
        return "—"
    value, i = float(n), 0
    while abs(value) >= 1024 and i < len(_BINARY) - 1:
        value /= 1024
        i += 1
    return f"{value:.0f} {_BINARY[i]}" if i == 0 else f"{value:.1f} {_BINARY[i]}"


def format_percent(part: float | None, whole: float | None = None) -> str:
    """`part` as a percentage, or `part / whole` when a whole is given."""
    if part is None:
        return "—"
    if whole is not None:
        if not whole:
            return "—"
        part = part * 100 / whole
    return f"{part:.1f} %"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    return f"{d} d {h} h" if d else f"{h} h {m} min" if h else f"{m} min"


def format_temp(c: float | None) -> str:
    return "—" if c is None else f"{c:.0f} °C"


def format_xmr(atomic: int | None) -> str:
    """Atomic units as XMR with all 12 decimals: integer arithmetic, exact at any size."""
    if atomic is None:
        return "—"
    whole, frac = divmod(abs(atomic), ATOMIC_PER_XMR)
    return f"{'-' if atomic < 0 else ''}{whole}.{frac:012d} XMR"


def format_coin(atomic: int | None, coin: str) -> str:
    """Atomic units of `coin` with all its decimals (integer arithmetic, exact at any
    size); a coin of unknown decimals as its atomic integer, labelled so."""
    if atomic is None:
        return "—"
    decimals = COIN_DECIMALS.get(coin.upper())
    if decimals is None:
        return f"{atomic} atomic {coin}"
    whole, frac = divmod(abs(atomic), 10**decimals)
    sign = "-" if atomic < 0 else ""
    return f"{sign}{whole}.{frac:0{decimals}d} {coin}" if decimals else f"{sign}{whole} {coin}"


templates.env.filters["bytes"] = format_bytes
templates.env.filters["coin"] = format_coin
templates.env.filters["xmr"] = format_xmr
templates.env.filters["percent"] = format_percent
templates.env.filters["duration"] = format_duration
templates.env.filters["temp"] = format_temp
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


def _page_user(request: Request, rw: RW) -> tuple[Principal, str]:
    found = session_principal(request, rw)
    if found is not None:
        return found
    nxt = quote(request.url.path)
    if rw.settings.demo_autologin and is_loopback(request):
        raise LoginRequired(f"/auth/demo?next={nxt}")
    raise LoginRequired(f"/login?next={nxt}")


PageUser = Annotated[tuple[Principal, str], Depends(_page_user)]


def page_role(role: Role) -> Callable[..., tuple[Principal, str]]:
    """Dependency for a page (or a page's form post): a signed-in person with at least
    `role` (403 otherwise); an unsafe method must carry the session's CSRF token."""

    def dependency(request: Request, rw: RW, csrf: FormCsrf) -> tuple[Principal, str]:
        user = _page_user(request, rw)
        check_csrf(request, user[1], csrf)
        if user[0].role is None or not user[0].role.allows(role):
            raise HTTPException(403, f"this page needs the {role.value} role")
        return user

    return dependency


PageOperator = Annotated[tuple[Principal, str], Depends(page_role(Role.OPERATOR))]
PageAdmin = Annotated[tuple[Principal, str], Depends(page_role(Role.ADMIN))]


def _safe_next(nxt: str | None) -> str:
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") else "/"


def _set_session(response: Response, request: Request, secret: str, rw: Commander) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(rw.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def _context(
    request: Request, rw: Commander, user: tuple[Principal, str] | None
) -> dict[str, object]:
    return {
        "request": request,
        "label": rw.settings.label,
        "user": user[0] if user else None,
        "csrf": user[1] if user else "",
    }


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, rw: RW, next: str | None = None, error: str | None = None
) -> Response:
    token = secrets.token_urlsafe(24)
    ctx = _context(request, rw, None) | {
        "next": _safe_next(next),
        "error": error,
        "login_csrf": token,
    }
    response = templates.TemplateResponse(request, "login.html", ctx)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    rw: RW,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise HTTPException(403, "login form expired; reload the page")
    limiter = login_limiter(request)
    ip = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(username, ip)
    if wait:
        return _locked_out(request, rw, next, wait)
    found = rw.change(lambda c: store_auth.verify_user(c, username, password))
    if found is None:
        lockouts = limiter.failure(username, ip)

        def record(conn: Connection) -> None:
            store_auth.audit(conn, "anonymous", "login.failed", username, f"from {ip}")
            for lock in lockouts:
                detail = f"locked {lock.seconds} s after repeated failures (lockout {lock.strikes})"
                store_auth.audit(conn, "system", "login.locked", lock.key, detail)

        rw.change(record)
        if lockouts:
            return _locked_out(request, rw, next, limiter.retry_after(username, ip))
        return RedirectResponse(f"/login?error=1&next={quote(_safe_next(next))}", status_code=303)
    limiter.success(username, ip)
    user_id, _role = found
    secret, _csrf = rw.change(
        lambda c: store_auth.create_session(c, user_id, rw.settings.session_hours)
    )
    rw.change(lambda c: store_auth.audit(c, username, "login", username))
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, request, secret, rw)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


_LIMITER_LOCK = threading.Lock()


def login_limiter(request: Request) -> LoginLimiter:
    """This app's sign-in limiter (in memory, one per app)."""
    with _LIMITER_LOCK:
        found: LoginLimiter | None = getattr(request.app.state, "login_limiter", None)
        if found is None:
            found = LoginLimiter()
            request.app.state.login_limiter = found
        return found


def _locked_out(request: Request, rw: Commander, nxt: str, wait: int) -> Response:
    """429 with Retry-After: the sign-in form again, saying how long to wait."""
    token = secrets.token_urlsafe(24)
    ctx = _context(request, rw, None) | {
        "next": _safe_next(nxt),
        "error": None,
        "retry_after": wait,
        "login_csrf": token,
    }
    response = templates.TemplateResponse(
        request, "login.html", ctx, status_code=429, headers={"Retry-After": str(wait)}
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    rw: RW,
    user: PageUser,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    check_csrf(request, user[1], csrf)  # the form's field, or the header of a fetch()
    secret = request.cookies.get(SESSION_COOKIE, "")
    rw.change(lambda c: store_auth.delete_session(c, secret))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/demo")
def demo_login(request: Request, rw: RW, next: str | None = None) -> Response:
    """The demo signs a browser on this machine in as a viewer, and nobody else."""
    if not (rw.settings.demo_autologin and is_loopback(request)):
        raise HTTPException(404, "not found")

    def change(conn: Connection) -> tuple[str, str]:
        found = store_auth.user_id(conn, DEMO_USER)
        if found is None:
            found = store_auth.create_user(conn, DEMO_USER, secrets.token_urlsafe(24), Role.VIEWER)
        return store_auth.create_session(conn, found, rw.settings.session_hours)

    secret, _ = rw.change(change)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, request, secret, rw)
    return response


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, rw: RW, user: PageUser) -> Response:
    now = datetime.now(UTC)
    summary = rw.read(lambda c: queries.farm_summary(c, now, rw.settings.offline_after_s))
    problems = rw.read(lambda c: store_fleet.problems(c, now, rw.settings.offline_after_s))
    sites = rw.read(store_fleet.site_names)
    tags = rw.read(store_fleet.tag_counts)
    role = user[0].role
    return templates.TemplateResponse(
        request,
        "index.html",
        _context(request, rw, user)
        | {
            "summary": summary,
            "problems": problems,
            "sites": sites,
            "tags": tags,
            "can_tag": role is not None and role.allows(Role.OPERATOR),
        },
    )


@router.get("/miners/{miner_id}", response_class=HTMLResponse)
def miner_page(miner_id: int, request: Request, rw: RW, user: PageUser) -> Response:
    now = datetime.now(UTC)
    detail = rw.read(lambda c: queries.get_miner(c, miner_id, now, rw.settings.offline_after_s))
    if detail is None:
        raise HTTPException(404, f"no miner {miner_id}")
    host_id = detail.host_id
    found = rw.read(lambda c: rig_queries.list_hosts(c, host_id)) if host_id is not None else []
    pool_side = rw.read(lambda c: store_pools.miner_pools(c, miner_id))
    return templates.TemplateResponse(
        request,
        "miner.html",
        _context(request, rw, user)
        | {"miner": detail, "host": found[0] if found else None, "pool_side": pool_side},
    )


@router.get("/p2pool", response_class=HTMLResponse)
def p2pool_page(request: Request, rw: RW, user: PageUser) -> Response:
    """P2Pool nodes, recent shares, blocks and payouts, and daily bar charts."""
    nodes = rw.read(rig_queries.p2pool_nodes)
    return templates.TemplateResponse(
        request, "p2pool.html", _context(request, rw, user) | {"nodes": nodes}
    )


HISTORY_DAYS = 90


@router.get("/history", response_class=HTMLResponse)
def history_page(
    request: Request,
    rw: RW,
    user: PageUser,
    days: Annotated[int, Query(ge=1, le=store_snapshots.MAX_BACKFILL_DAYS)] = HISTORY_DAYS,
) -> Response:
    """The D/W/M/Q/Y comparison (read by the page from the API) and the newest daily
    snapshots, newest first."""
    snaps = rw.read(lambda c: store_snapshots.list_snapshots(c, days))
    rows = [(s, s.taken_at < store_snapshots.day_start(s.day) + timedelta(days=1)) for s in snaps]
    return templates.TemplateResponse(
        request,
        "history.html",
        _context(request, rw, user) | {"snapshots": rows, "days": days},
    )


@router.get("/earnings", response_class=HTMLResponse)
def earnings_page(request: Request, rw: RW, user: PageUser) -> Response:
    """Revenue, power cost and profit (cards, daily and monthly tables) and the payouts
    received, in the chosen currency; the page reads them from the API."""
    return templates.TemplateResponse(request, "earnings.html", _context(request, rw, user))


@router.get("/blocks", response_class=HTMLResponse)
def blocks_page(request: Request, rw: RW, user: PageUser) -> Response:
    """Recent network blocks, the farm's blocks with their effort and its solo odds, and
    the blocks found by the pools it mines on; the page reads them from the API."""
    return templates.TemplateResponse(request, "blocks.html", _context(request, rw, user))


@router.get("/pools", response_class=HTMLResponse)
def pools_page(request: Request, rw: RW, user: PageUser) -> Response:
    """The pool accounts as the pools see them (hashrate per window, workers, balance,
    payouts, sync health); admins add, sync and remove accounts. Read from the API."""
    defaults = {kind.value: default_base_url(rw.settings, kind) for kind in PoolKind}
    return templates.TemplateResponse(
        request,
        "pools.html",
        _context(request, rw, user)
        | {"is_admin": user[0].role == Role.ADMIN, "kinds": list(PoolKind), "defaults": defaults},
    )


@router.get("/sentries", response_class=HTMLResponse)
def sentries_page(request: Request, rw: RW, user: PageOperator) -> Response:
    """The sentries: last seen, miners, state; admins enroll new ones (a one-time token in
    a copy-paste command) and revoke them."""
    rows = rw.read(queries.list_sentries)
    return templates.TemplateResponse(
        request,
        "sentries.html",
        _context(request, rw, user)
        | {
            "sentries": rows,
            "is_admin": user[0].role == Role.ADMIN,
            "public_url": str(request.base_url).rstrip("/"),
        },
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, rw: RW, user: PageAdmin) -> Response:
    """People: add with a role, change roles, reset passwords, delete (admins only)."""
    return templates.TemplateResponse(request, "users.html", _context(request, rw, user))


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, rw: RW, user: PageAdmin) -> Response:
    """The audit log, newest first, filtered by actor and action (admins only)."""
    return templates.TemplateResponse(request, "audit.html", _context(request, rw, user))


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, rw: RW, user: PageUser) -> Response:
    """Alerts: firing (with pending and flapping), history, silences and the rules;
    operators acknowledge and silence, admins edit the rules. The page reads the API."""
    role = user[0].role
    return templates.TemplateResponse(
        request,
        "alerts.html",
        _context(request, rw, user)
        | {
            "can_operate": role is not None and role.allows(Role.OPERATOR),
            "is_admin": role == Role.ADMIN,
            "rule_kinds": [k.value for k in RuleKind],
            "severities": [s.value for s in AlertSeverity],
        },
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, rw: RW, user: PageAdmin) -> Response:
    """Notification channels (add, test-send, enable, delete; failing ones marked) and
    the recent notifications with their delivery state (admins only)."""
    return templates.TemplateResponse(request, "notifications.html", _context(request, rw, user))


PAYMENTS_CSV_PAGE = 1000
PAYMENTS_CSV_HEADER = (
    "time_utc",
    "coin",
    "amount",
    "amount_atomic",
    "wallet_label",
    "address",
    "txid",
    "vout",
    "block_height",
    "block_hash",
    "coinbase",
)


def _coin_decimal(atomic: int, coin: str) -> str:
    """An atomic amount as an exact decimal number ("" for a coin of unknown decimals)."""
    decimals = COIN_DECIMALS.get(coin.upper())
    if decimals is None:
        return ""
    whole, frac = divmod(abs(atomic), 10**decimals)
    sign = "-" if atomic < 0 else ""
    return f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"


@router.get("/earnings/payments.csv")
def payments_csv(
    rw: RW,
    _user: PageUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    """The payouts received (chain payments), newest first, matching `q` as the earnings
    page's search does: the same rows as its table, all pages, as CSV. Amounts exact."""

    def rows(conn: Connection) -> Iterator[tuple[Any, ...]]:
        page = 1
        while True:
            _total, items = store_payouts.list_payments(
                conn, page=page, limit=PAYMENTS_CSV_PAGE, q=q
            )
            for p in items:
                yield (
                    p.ts.astimezone(UTC).isoformat(),
                    p.coin,
                    _coin_decimal(p.amount_atomic, p.coin),
                    p.amount_atomic,
                    p.label or "",
                    p.address,
                    p.txid,
                    p.vout,
                    p.block_height,
                    p.block_hash,
                    "yes" if p.coinbase else "no",
                )
            if len(items) < PAYMENTS_CSV_PAGE:
                return
            page += 1

    def chunks() -> Iterator[str]:
        with rw.engine.connect() as conn:
            yield from csv_chunks(Export(PAYMENTS_CSV_HEADER, rows(conn)))

    name = f"payments-{datetime.now(UTC).date().isoformat()}.csv"
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def mount(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)
    # Sites and settings pages, the fleet API and gzip (web/fleet.py imports this module).
    from rigwatch.commander.web import fleet

    fleet.mount(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.target, status_code=303)
