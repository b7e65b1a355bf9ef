"""The sites and tags page, the settings page, the fleet API and compressed responses.

`mount(app)` adds all of them to the commander: the pages (`/sites`, `/settings`), the
fleet API under `/api/v1` (`rigwatch.commander.api.fleet`) and gzip for every response
of 1 KB or more that the browser accepts compressed (the live stream excepted: Starlette
never compresses `text/event-stream`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, SecretBytes, SecretStr
from starlette.middleware.gzip import GZipMiddleware

from rigwatch.commander.api import fleet as fleet_api
from rigwatch.commander.auth import RW
from rigwatch.commander.web.routes import PageUser, _context, templates
from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.store import fleet as store_fleet

router = APIRouter(include_in_schema=False)

GZIP_MIN_BYTES = 1000
GZIP_LEVEL = 6  # the default 9 costs several times the CPU for a few % less

MASK = "•••••• (set)"
UNSET = "(not set)"
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|private|credential|_key$)")


@router.get("/sites", response_class=HTMLResponse)
def sites_page(request: Request, rw: RW, user: PageUser) -> Response:
    """Sites with their sentries, miners by status, hashrate and power; tags with their
    counts. Each links to the overview filtered by it."""
    now = datetime.now(UTC)
    sites = rw.read(lambda c: store_fleet.site_totals(c, now, rw.settings.offline_after_s))
    tags = rw.read(store_fleet.tag_counts)
    return templates.TemplateResponse(
        request, "sites.html", _context(request, rw, user) | {"sites": sites, "tags": tags}
    )


@dataclass(frozen=True, slots=True)
class SettingRow:
    name: str
    value: str
    description: str
    explicit: bool
    masked: bool


def _secret_name(name: str) -> bool:
    leaf = name.rsplit(".", 1)[-1].lower()
    return not leaf.endswith("_file") and _SECRET_NAME.search(leaf) is not None


def mask_url(text: str) -> str:
    """A URL with its password (and any secret-looking query parameter) masked; other
    text unchanged."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if parts.password is not None:
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username or ''}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_name(k) for k, _ in pairs):
            query = urlencode([(k, "***" if _secret_name(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _show(name: str, value: Any) -> tuple[str, bool]:
    if isinstance(value, SecretStr | SecretBytes) or _secret_name(name):
        return (MASK if value else UNSET), True
    if value is None:
        return "—", False
    if isinstance(value, bool):
        return ("on" if value else "off"), False
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(mask_url(str(v)) for v in value) or "—", False
    if isinstance(value, dict):
        shown = {k: (MASK if _secret_name(str(k)) else mask_url(str(v))) for k, v in value.items()}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "—", False
    text = str(value)
    masked = mask_url(text)
    return masked, masked != text


def effective_settings(settings: BaseModel, prefix: str = "") -> list[SettingRow]:
    """Every setting with its effective value (nested models flattened with dots),
    secrets masked: passwords, tokens and keys by name, passwords inside URLs."""
    rows: list[SettingRow] = []
    explicit = settings.model_fields_set
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        full = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            rows.extend(effective_settings(value, f"{full}."))
            continue
        shown, masked = _show(full, value)
        rows.append(
            SettingRow(
                name=full,
                value=shown,
                description=info.description or "",
                explicit=name in explicit,
                masked=masked,
            )
        )
    return rows


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, rw: RW, user: PageUser) -> Response:
    """The theme choice (everyone) and, for admins, the commander's effective settings."""
    is_admin = user[0].role is not None and user[0].role.allows(Role.ADMIN)
    rows = effective_settings(rw.settings) if is_admin else []
    return templates.TemplateResponse(
        request,
        "settings.html",
        _context(request, rw, user)
        | {"settings_rows": rows, "is_admin": is_admin, "env_prefix": _env_prefix()},
    )


def _env_prefix() -> str:
    return str(Settings.model_config.get("env_prefix", ""))


def mount(app: FastAPI) -> None:
    """The fleet API, the sites and settings pages, and gzip (see the module's doc)."""
    app.include_router(fleet_api.router, prefix="/api/v1")
    app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
