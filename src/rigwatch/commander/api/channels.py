"""Notification channels and their outbox (admin only; every change audited).

A channel's `config` holds its address and secrets (SMTP password, bot token, webhook
secret, Discord webhook URL, ntfy token); the API never returns a secret: each one that
is set reads `********`, and an update that sends `********` back (or leaves the key
out) keeps the stored value.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin
from rigwatch.commander.notify import registry
from rigwatch.commander.notify.dispatch import options, send_test
from rigwatch.domain.notify import (
    ChannelKind,
    DeliveryState,
    Filters,
    NoticeKind,
    QuietHours,
    Schedule,
    Severity,
    parse_hhmm,
    zone,
)
from rigwatch.store import auth as store_auth
from rigwatch.store import notify as store

router = APIRouter(tags=["notifications"])

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class FiltersIn(BaseModel):
    """Which notices the channel hears of: at least `min_severity`; when `sites` (site
    ids) or `tags` are given, only notices of those sites / of miners with one of those
    tags."""

    min_severity: Severity = Severity.INFO
    sites: Annotated[list[int], Field(max_length=100)] = []
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)
    ] = []


class QuietHoursIn(BaseModel):
    """Local times ("22:00" to "07:00" spans midnight) in the channel's timezone."""

    start: Annotated[str, Field(pattern=HHMM)]
    end: Annotated[str, Field(pattern=HHMM)]

    @model_validator(mode="after")
    def _different(self) -> QuietHoursIn:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")
        return self


class ChannelIn(BaseModel):
    """A channel. `config` by kind (base URLs default to the public services, settings
    `telegram_url` and `ntfy_url`):
    webhook `{url, secret?}`; email `{host, port=587, security=starttls|tls|none,
    username?, password?, from_addr, to: [...], ca_pem?}`; telegram `{token, chat_id,
    base_url?}`; discord `{webhook_url, username?}`; ntfy `{topic, base_url?, token?}`."""

    kind: ChannelKind
    name: Annotated[str, Field(min_length=1, max_length=100)]
    config: dict[str, Any]
    filters: FiltersIn = FiltersIn()
    quiet_hours: QuietHoursIn | None = None
    digest_minutes: Annotated[int, Field(ge=0, le=1440)] = 0
    daily_summary_at: Annotated[str | None, Field(pattern=HHMM)] = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value


class ChannelView(BaseModel):
    id: int
    kind: ChannelKind
    name: str
    config: dict[str, Any]
    filters: FiltersIn
    quiet_hours: QuietHoursIn | None
    digest_minutes: int
    daily_summary_at: str | None
    timezone: str
    enabled: bool
    created_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    failing: bool


class NotificationView(BaseModel):
    id: int
    channel_id: int
    kind: NoticeKind
    event_id: int | None
    state: DeliveryState
    attempts: int
    next_try_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]


class TestResult(BaseModel):
    ok: bool
    error: str | None
    notification_id: int
    state: DeliveryState
    channel: ChannelView


def view(chan: store.ChannelRecord) -> ChannelView:
    quiet = chan.schedule.quiet_hours
    at = chan.schedule.daily_summary_at
    return ChannelView(
        id=chan.id,
        kind=chan.kind,
        name=chan.name,
        config=registry.masked(chan.kind, chan.config),
        filters=FiltersIn.model_validate(chan.filters.to_json()),
        quiet_hours=None if quiet is None else QuietHoursIn.model_validate(quiet.to_json()),
        digest_minutes=chan.schedule.digest_minutes,
        daily_summary_at=None if at is None else at.strftime("%H:%M"),
        timezone=chan.schedule.timezone,
        enabled=chan.enabled,
        created_at=chan.created_at,
        last_success_at=chan.last_success_at,
        last_error=chan.last_error,
        consecutive_failures=chan.consecutive_failures,
        failing=chan.consecutive_failures > 0,
    )


def _notification_view(row: store.NotificationRecord) -> NotificationView:
    return NotificationView(
        id=row.id,
        channel_id=row.channel_id,
        kind=row.kind,
        event_id=row.event_id,
        state=row.state,
        attempts=row.attempts,
        next_try_at=row.next_try_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        payload=dict(row.payload),
    )


def _config(body: ChannelIn, rw: RW, old: store.ChannelRecord | None) -> dict[str, Any]:
    """The validated configuration to store (secrets kept from `old` where not resent)."""
    raw = registry.merged(
        body.kind, body.config, old.config if old and old.kind is body.kind else None
    )
    defaults = {
        ChannelKind.TELEGRAM: rw.settings.telegram_url,
        ChannelKind.NTFY: rw.settings.ntfy_url,
    }
    if body.kind in defaults and not raw.get("base_url"):
        raw["base_url"] = defaults[body.kind]
    try:
        model = registry.validated(body.kind, raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(
            422, [{**e, "loc": ["body", "config", *e["loc"]]} for e in errors]
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


def _parts(body: ChannelIn) -> tuple[Filters, Schedule]:
    filters = Filters.from_json(body.filters.model_dump())
    schedule = Schedule(
        timezone=body.timezone,
        quiet_hours=QuietHours.from_json(
            body.quiet_hours.model_dump() if body.quiet_hours else None
        ),
        digest_minutes=body.digest_minutes,
        daily_summary_at=parse_hhmm(body.daily_summary_at) if body.daily_summary_at else None,
    )
    return filters, schedule


def _found(rw: RW, channel_id: int) -> store.ChannelRecord:
    chan = rw.read(lambda c: store.get_channel(c, channel_id))
    if chan is None:
        raise HTTPException(404, f"no channel {channel_id}")
    return chan


@router.get("/channels", response_model=list[ChannelView])
def list_channels(_: Admin, rw: RW) -> list[ChannelView]:
    """Every channel with its delivery state (`last_success_at`, `last_error`,
    `consecutive_failures`); secrets masked."""
    return [view(c) for c in rw.read(store.list_channels)]


@router.get("/channels/{channel_id}", response_model=ChannelView, responses={404: {}})
def get_channel(channel_id: int, _: Admin, rw: RW) -> ChannelView:
    return view(_found(rw, channel_id))


@router.post("/channels", response_model=ChannelView, status_code=201, responses={409: {}, 422: {}})
def add_channel(body: ChannelIn, who: Admin, rw: RW) -> ChannelView:
    """Add a channel (admin)."""
    config = _config(body, rw, None)
    filters, schedule = _parts(body)
    now = datetime.now(UTC)

    def change(conn: Connection) -> int:
        new_id = store.add_channel(
            conn,
            kind=body.kind,
            name=body.name,
            config=config,
            filters=filters,
            schedule=schedule,
            enabled=body.enabled,
            now=now,
        )
        store_auth.audit(conn, who.name, "channel.add", f"{new_id} {body.kind}:{body.name}"[:500])
        return new_id

    try:
        new_id = rw.change(change)
    except store.ChannelExists as exc:
        raise HTTPException(409, str(exc)) from None
    return view(_found(rw, new_id))


@router.put(
    "/channels/{channel_id}",
    response_model=ChannelView,
    responses={404: {}, 409: {}, 422: {}},
)
def update_channel(channel_id: int, body: ChannelIn, who: Admin, rw: RW) -> ChannelView:
    """Replace a channel's settings (admin); secrets sent as `********` or left out
    stay as they are."""
    old = _found(rw, channel_id)
    config = _config(body, rw, old)
    filters, schedule = _parts(body)

    def change(conn: Connection) -> bool:
        done = store.update_channel(
            conn,
            channel_id,
            name=body.name,
            config=config,
            filters=filters,
            schedule=schedule,
            enabled=body.enabled,
        )
        if done:
            store_auth.audit(
                conn, who.name, "channel.update", f"{channel_id} {body.kind}:{body.name}"[:500]
            )
        return done

    try:
        if not rw.change(change):
            raise HTTPException(404, f"no channel {channel_id}")
    except store.ChannelExists as exc:
        raise HTTPException(409, str(exc)) from None
    return view(_found(rw, channel_id))


@router.delete("/channels/{channel_id}", status_code=204, responses={404: {}})
def delete_channel(channel_id: int, who: Admin, rw: RW) -> Response:
    """Delete a channel and its outbox (admin)."""

    def change(conn: Connection) -> bool:
        chan = store.get_channel(conn, channel_id)
        if chan is None:
            return False
        store.delete_channel(conn, channel_id)
        store_auth.audit(
            conn, who.name, "channel.delete", f"{channel_id} {chan.kind}:{chan.name}"[:500]
        )
        return True

    if not rw.change(change):
        raise HTTPException(404, f"no channel {channel_id}")
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test", response_model=TestResult, responses={404: {}})
async def test_channel(channel_id: int, who: Admin, rw: RW) -> TestResult:
    """Send a test notice through the channel now (admin), enabled or not; the result
    (a failure also shows in the channel's `last_error`)."""
    _found(rw, channel_id)
    opts = options(rw.settings)

    def run() -> Any:
        with httpx.Client(follow_redirects=False) as client:
            return send_test(rw.engine, channel_id, datetime.now(UTC), opts, client=client)

    attempt = await asyncio.to_thread(run)
    if attempt is None:
        raise HTTPException(404, f"no channel {channel_id}")
    rw.change(
        lambda c: store_auth.audit(
            c, who.name, "channel.test", f"{channel_id} {'ok' if attempt.ok else 'failed'}"
        )
    )
    return TestResult(
        ok=attempt.ok,
        error=attempt.error,
        notification_id=attempt.notification_id,
        state=attempt.state,
        channel=view(_found(rw, channel_id)),
    )


@router.get("/notifications", response_model=list[NotificationView], responses={404: {}})
def list_notifications(
    _: Admin,
    rw: RW,
    channel_id: int | None = None,
    state: DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: int | None = None,
) -> list[NotificationView]:
    """The outbox, newest first: what was sent, held, retried or given up on."""
    rows = rw.read(
        lambda c: store.list_notifications(
            c, channel_id=channel_id, state=state, limit=limit, before_id=before_id
        )
    )
    return [_notification_view(r) for r in rows]
