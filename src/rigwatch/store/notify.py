"""Notification channels and the outbox of notices (commander/notify/dispatch.py drives it).

**Routing.** `route_events` reads the alert events (`alert_fired`, `alert_resolved`,
`alert_flapping`) after the watermark in `notify_state` (by `events.id`), turns each into
a `Notice` (with the miner's site, tags and name), and queues one outbox row per enabled
channel whose filters admit it (a channel hears of the events from its creation on):
`pending` when it may go now, `held` until quiet hours end or the channel's digest
window closes (`domain.notify.Schedule.hold_until`). The row
is unique by (channel, event, kind), so an event is notified once per channel however
often it is routed. On PostgreSQL ids are handed out before commit, so a transaction can
commit an id below one already read; the events of the last `LATE_COMMIT_S` below the
watermark are therefore read again (the unique key makes that harmless). Events older
than `MAX_EVENT_AGE_S` are passed over (a commander that was down does not wake people
up for yesterday's alerts).

**Held rows.** `release_held` turns held rows that are due into pending ones, or, on a
channel in digest mode, folds two or more into one `digest` row. A held row that comes
due while its channel is quiet waits for the quiet hours to end.

**Daily summary.** `queue_summaries` queues one `summary` per channel and local day at the
channel's `daily_summary_at` (late by at most `SUMMARY_GRACE`): the farm's figures of the
last complete UTC day (its snapshot, or one built now) and the alerts of that day.

**Delivery.** `claim_due` claims the due rows (it moves their `next_try_at` a lease ahead,
only where nobody else moved it first), so two dispatchers never send one row twice;
the sending happens outside any transaction; `record_sent` / `record_failure` write the
result on the row and on its channel (`last_success_at`, `last_error`,
`consecutive_failures`). A failed row is retried with exponential backoff until
`max_attempts`, then `failed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.notify import (
    ALERT_EVENTS,
    ChannelKind,
    DeliveryState,
    Filters,
    Notice,
    NoticeKind,
    QuietHours,
    Schedule,
    Severity,
    notice_from_event,
    parse_hhmm,
    severity_counts,
    summary_key,
)
from rigwatch.store import jsontext
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.snapshots import build_snapshot, day_start, get_snapshot
from rigwatch.store.tables import channels, events, miners, notifications, notify_state
from rigwatch.store.tables import sentries as sentries_table
from rigwatch.store.tables import sites as sites_table
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

WATERMARK = "events"
LATE_COMMIT_S = 120.0
MAX_EVENT_AGE_S = 6 * 3600.0
ROUTE_BATCH = 1000
SUMMARY_GRACE = timedelta(hours=6)
MAX_ERROR_CHARS = 500
DIGEST_MAX_ITEMS = 200
KEEP_DAYS = 30.0


class ChannelExists(ValueError):
    """Another channel has that name."""


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A channel as stored: `config` with its secrets (the API masks them)."""

    id: int
    kind: ChannelKind
    name: str
    config: Mapping[str, Any]
    filters: Filters
    schedule: Schedule
    enabled: bool
    created_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    channel_id: int
    kind: NoticeKind
    event_id: int | None
    payload: Mapping[str, Any]
    state: DeliveryState
    attempts: int
    next_try_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row with its channel, ready to send."""

    id: int
    kind: NoticeKind
    payload: Mapping[str, Any]
    attempts: int
    channel: ChannelRecord


@dataclass(frozen=True, slots=True)
class RouteReport:
    events: int
    queued: int
    more: bool


# ---- channels --------------------------------------------------------------------------


def _schedule(row: Row[Any]) -> Schedule:
    return Schedule(
        timezone=row.timezone,
        quiet_hours=QuietHours.from_json(jsontext.loads(row.quiet_hours)),
        digest_minutes=int(row.digest_minutes),
        daily_summary_at=parse_hhmm(row.daily_summary_at) if row.daily_summary_at else None,
    )


def _channel(row: Row[Any]) -> ChannelRecord:
    return ChannelRecord(
        id=int(row.id),
        kind=ChannelKind(row.kind),
        name=row.name,
        config=jsontext.loads(row.config) or {},
        filters=Filters.from_json(jsontext.loads(row.filters)),
        schedule=_schedule(row),
        enabled=bool(row.enabled),
        created_at=from_us(row.created_at),
        last_success_at=from_us_opt(row.last_success_at),
        last_error=row.last_error,
        consecutive_failures=int(row.consecutive_failures),
    )


def _channel_values(
    *,
    name: str,
    config: Mapping[str, Any],
    filters: Filters,
    schedule: Schedule,
    enabled: bool,
) -> dict[str, Any]:
    return {
        "name": name,
        "config": jsontext.dumps(dict(config)),
        "filters": jsontext.dumps(filters.to_json()),
        "quiet_hours": (
            None if schedule.quiet_hours is None else jsontext.dumps(schedule.quiet_hours.to_json())
        ),
        "digest_minutes": schedule.digest_minutes,
        "daily_summary_at": (
            None
            if schedule.daily_summary_at is None
            else schedule.daily_summary_at.strftime("%H:%M")
        ),
        "timezone": schedule.timezone,
        "enabled": enabled,
    }


def _name_taken(conn: Connection, name: str, other_than: int | None = None) -> bool:
    query = select(channels.c.id).where(channels.c.name == name)
    if other_than is not None:
        query = query.where(channels.c.id != other_than)
    return conn.execute(query).first() is not None


def add_channel(
    conn: Connection,
    *,
    kind: ChannelKind,
    name: str,
    config: Mapping[str, Any],
    filters: Filters,
    schedule: Schedule,
    enabled: bool,
    now: datetime,
) -> int:
    if _name_taken(conn, name):
        raise ChannelExists(f"a channel named {name!r} exists")
    values = _channel_values(
        name=name, config=config, filters=filters, schedule=schedule, enabled=enabled
    )
    new_id: int = conn.execute(
        channels.insert()
        .values(kind=kind.value, created_at=to_us(now), consecutive_failures=0, **values)
        .returning(channels.c.id)
    ).scalar_one()
    return int(new_id)


def update_channel(
    conn: Connection,
    channel_id: int,
    *,
    name: str,
    config: Mapping[str, Any],
    filters: Filters,
    schedule: Schedule,
    enabled: bool,
) -> bool:
    """Replace a channel's settings (its delivery state stays). False: no such channel."""
    if _name_taken(conn, name, other_than=channel_id):
        raise ChannelExists(f"a channel named {name!r} exists")
    values = _channel_values(
        name=name, config=config, filters=filters, schedule=schedule, enabled=enabled
    )
    result = conn.execute(update(channels).where(channels.c.id == channel_id).values(**values))
    return bool(result.rowcount)


def delete_channel(conn: Connection, channel_id: int) -> bool:
    """Delete a channel and its outbox rows."""
    conn.execute(delete(notifications).where(notifications.c.channel_id == channel_id))
    return bool(conn.execute(delete(channels).where(channels.c.id == channel_id)).rowcount)


def get_channel(conn: Connection, channel_id: int) -> ChannelRecord | None:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).one_or_none()
    return None if row is None else _channel(row)


def list_channels(conn: Connection, *, enabled_only: bool = False) -> list[ChannelRecord]:
    query = select(channels).order_by(channels.c.id)
    if enabled_only:
        query = query.where(channels.c.enabled.is_(True))
    return [_channel(r) for r in conn.execute(query)]


# ---- the outbox as the API shows it -----------------------------------------------------


def _notification(row: Row[Any]) -> NotificationRecord:
    return NotificationRecord(
        id=int(row.id),
        channel_id=int(row.channel_id),
        kind=NoticeKind(row.kind),
        event_id=row.event_id,
        payload=jsontext.loads(row.payload) or {},
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        next_try_at=from_us(row.next_try_at),
        created_at=from_us(row.created_at),
        sent_at=from_us_opt(row.sent_at),
        last_error=row.last_error,
    )


def list_notifications(
    conn: Connection,
    *,
    channel_id: int | None = None,
    state: DeliveryState | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[NotificationRecord]:
    """Outbox rows, newest first."""
    query = select(notifications).order_by(notifications.c.id.desc()).limit(max(1, limit))
    if channel_id is not None:
        query = query.where(notifications.c.channel_id == channel_id)
    if state is not None:
        query = query.where(notifications.c.state == state.value)
    if before_id is not None:
        query = query.where(notifications.c.id < before_id)
    return [_notification(r) for r in conn.execute(query)]


# ---- routing ----------------------------------------------------------------------------


def watermark(conn: Connection) -> int:
    value = conn.execute(
        select(notify_state.c.value).where(notify_state.c.name == WATERMARK)
    ).scalar_one_or_none()
    return int(value or 0)


def _set_watermark(conn: Connection, value: int) -> None:
    stmt = insert_for(conn, notify_state).values(name=WATERMARK, value=value)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"value": stmt.excluded.value})
    )


def _alert_events(conn: Connection, mark: int, now: datetime, batch: int) -> list[Row[Any]]:
    cols = (
        events.c.id,
        events.c.ts,
        events.c.kind,
        events.c.message,
        events.c.data,
        events.c.miner_id,
        events.c.sentry_id,
    )
    kinds = list(ALERT_EVENTS)
    new = conn.execute(
        select(*cols)
        .where(events.c.id > mark, events.c.kind.in_(kinds))
        .order_by(events.c.id)
        .limit(batch)
    ).all()
    late = conn.execute(
        select(*cols).where(
            events.c.ts >= to_us(now - timedelta(seconds=LATE_COMMIT_S)),
            events.c.id <= mark,
            events.c.kind.in_(kinds),
        )
    ).all()
    return sorted([*late, *new], key=lambda r: int(r.id))


@dataclass(frozen=True, slots=True)
class _Place:
    sentry_id: int | None
    site_id: int | None
    site: str | None
    tags: tuple[str, ...]
    name: str | None


def _places(
    conn: Connection, rows: Sequence[Row[Any]]
) -> dict[tuple[int | None, int | None], _Place]:
    """Site, tags and a readable name for each (miner, sentry) of the events."""
    miner_ids = {int(r.miner_id) for r in rows if r.miner_id is not None}
    by_miner: dict[int, Row[Any]] = {}
    if miner_ids:
        query = select(
            miners.c.id,
            miners.c.sentry_id,
            miners.c.tags,
            miners.c.worker,
            miners.c.hostname,
            miners.c.ip,
        ).where(miners.c.id.in_(miner_ids))
        by_miner = {int(m.id): m for m in conn.execute(query)}
    sentry_ids = {int(r.sentry_id) for r in rows if r.sentry_id is not None}
    sentry_ids |= {int(m.sentry_id) for m in by_miner.values()}
    sites: dict[int, tuple[int, str]] = {}
    if sentry_ids:
        query = (
            select(sentries_table.c.id, sites_table.c.id.label("site_id"), sites_table.c.name)
            .join(sites_table, sites_table.c.id == sentries_table.c.site_id)
            .where(sentries_table.c.id.in_(sentry_ids))
        )
        sites = {int(s.id): (int(s.site_id), s.name) for s in conn.execute(query)}
    found: dict[tuple[int | None, int | None], _Place] = {}
    for r in rows:
        miner = by_miner.get(int(r.miner_id)) if r.miner_id is not None else None
        sentry_id = int(miner.sentry_id) if miner is not None else r.sentry_id
        site = sites.get(sentry_id) if sentry_id is not None else None
        tags: tuple[str, ...] = ()
        name = None
        if miner is not None:
            tags = tuple(str(t) for t in jsontext.loads(miner.tags) or ())
            name = miner.worker or miner.hostname or miner.ip
        found[(r.miner_id, r.sentry_id)] = _Place(
            sentry_id=sentry_id,
            site_id=site[0] if site else None,
            site=site[1] if site else None,
            tags=tags,
            name=name,
        )
    return found


def _notice(row: Row[Any], place: _Place) -> Notice | None:
    data = jsontext.loads(row.data)
    notice = notice_from_event(
        event_id=int(row.id),
        kind=row.kind,
        ts=from_us(row.ts),
        message=row.message,
        data=data if isinstance(data, dict) else {},
        miner_id=row.miner_id,
        sentry_id=place.sentry_id,
    )
    if notice is None:
        return None
    return Notice(
        kind=notice.kind,
        event_id=notice.event_id,
        ts=notice.ts,
        severity=notice.severity,
        rule=notice.rule,
        subject=notice.subject,
        message=notice.message,
        value=notice.value,
        alert_id=notice.alert_id,
        subject_name=place.name or notice.subject_name,
        miner_id=notice.miner_id,
        sentry_id=notice.sentry_id,
        site_id=place.site_id,
        site=place.site,
        tags=place.tags,
    )


def _open_digests(conn: Connection) -> dict[int, datetime]:
    """Per channel, the earliest release of its held rows (the open digest window's close;
    when it is past, `release_held` right after routing folds the new rows in with it)."""
    query = (
        select(notifications.c.channel_id, func.min(notifications.c.next_try_at))
        .where(notifications.c.state == DeliveryState.HELD.value)
        .group_by(notifications.c.channel_id)
    )
    return {int(r[0]): from_us(int(r[1])) for r in conn.execute(query)}


def route_events(conn: Connection, now: datetime, *, batch: int = ROUTE_BATCH) -> RouteReport:
    """Queue the new alert events for every channel that should hear of them."""
    mark = watermark(conn)
    rows = _alert_events(conn, mark, now, batch)
    if not rows:
        return RouteReport(events=0, queued=0, more=False)
    top = max([mark, *(int(r.id) for r in rows)])
    more = sum(1 for r in rows if int(r.id) > mark) >= batch
    chans = list_channels(conn, enabled_only=True)
    now_us = to_us(now)
    stale_before = to_us(now - timedelta(seconds=MAX_EVENT_AGE_S))
    fresh = [r for r in rows if int(r.ts) >= stale_before]
    queued = 0
    if chans and fresh:
        places = _places(conn, fresh)
        open_digest = _open_digests(conn)
        for row in fresh:
            notice = _notice(row, places[(row.miner_id, row.sentry_id)])
            if notice is None:
                continue
            for chan in chans:
                if notice.ts < chan.created_at or not chan.filters.admits(notice):
                    continue
                hold = chan.schedule.hold_until(notice.severity, now, open_digest.get(chan.id))
                if hold is not None and chan.id not in open_digest:
                    open_digest[chan.id] = hold
                result = conn.execute(
                    insert_ignore(conn, notifications).values(
                        channel_id=chan.id,
                        kind=notice.kind.value,
                        event_id=notice.event_id,
                        payload=jsontext.dumps(notice.to_json()),
                        state=(DeliveryState.HELD if hold else DeliveryState.PENDING).value,
                        attempts=0,
                        next_try_at=to_us(hold) if hold else now_us,
                        created_at=now_us,
                    )
                )
                queued += max(0, result.rowcount or 0)
    if top > mark:
        _set_watermark(conn, top)
    return RouteReport(events=len(fresh), queued=queued, more=more)


# ---- held rows and digests --------------------------------------------------------------


def release_held(conn: Connection, now: datetime) -> int:
    """Release the held rows that are due: pending again, or folded into one digest per
    channel in digest mode. Returns the number of rows released or folded."""
    now_us = to_us(now)
    rows = conn.execute(
        select(notifications.c.id, notifications.c.channel_id, notifications.c.payload)
        .where(
            notifications.c.state == DeliveryState.HELD.value,
            notifications.c.next_try_at <= now_us,
        )
        .order_by(notifications.c.channel_id, notifications.c.id)
    ).all()
    if not rows:
        return 0
    by_channel: dict[int, list[Row[Any]]] = {}
    for row in rows:
        by_channel.setdefault(int(row.channel_id), []).append(row)
    released = 0
    for channel_id, held in by_channel.items():
        chan = get_channel(conn, channel_id)
        if chan is None:
            continue
        ids = [int(r.id) for r in held]
        quiet_end = chan.schedule.quiet_end(now)
        if quiet_end is not None:
            conn.execute(
                update(notifications)
                .where(notifications.c.id.in_(ids))
                .values(next_try_at=to_us(quiet_end))
            )
            continue
        released += len(ids)
        if chan.schedule.digest_minutes > 0 and len(ids) > 1:
            for start in range(0, len(held), DIGEST_MAX_ITEMS):
                _fold(conn, chan.id, held[start : start + DIGEST_MAX_ITEMS], now_us)
            continue
        conn.execute(
            update(notifications)
            .where(notifications.c.id.in_(ids))
            .values(state=DeliveryState.PENDING.value, next_try_at=now_us)
        )
    return released


def _fold(conn: Connection, channel_id: int, held: Sequence[Row[Any]], now_us: int) -> None:
    items = sorted(
        (jsontext.loads(r.payload) for r in held), key=lambda item: str(item.get("ts", ""))
    )
    conn.execute(
        notifications.insert().values(
            channel_id=channel_id,
            kind=NoticeKind.DIGEST.value,
            event_id=None,
            payload=jsontext.dumps({"count": len(items), "items": items}),
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_try_at=now_us,
            created_at=now_us,
        )
    )
    conn.execute(
        update(notifications)
        .where(notifications.c.id.in_([int(r.id) for r in held]))
        .values(state=DeliveryState.FOLDED.value, next_try_at=now_us)
    )


# ---- daily summary ----------------------------------------------------------------------


def _alerts_of(conn: Connection, day: date) -> dict[str, Any]:
    start = day_start(day)
    rows = conn.execute(
        select(events.c.kind, events.c.data).where(
            events.c.ts >= to_us(start),
            events.c.ts < to_us(start + timedelta(days=1)),
            events.c.kind.in_(list(ALERT_EVENTS)),
        )
    ).all()
    fired: list[Severity] = []
    subjects: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for row in rows:
        data = jsontext.loads(row.data)
        data = data if isinstance(data, dict) else {}
        kinds[ALERT_EVENTS[row.kind].value] += 1
        if row.kind == "alert_fired":
            fired.append(Severity.parse(data.get("severity")))
            subjects[str(data.get("subject", "?"))[:200]] += 1
    return {
        "fired": kinds[NoticeKind.FIRING.value],
        "resolved": kinds[NoticeKind.RESOLVED.value],
        "flapping": kinds[NoticeKind.FLAPPING.value],
        "by_severity": severity_counts(fired),
        "top_subjects": [{"subject": s, "count": n} for s, n in subjects.most_common(10)],
    }


def daily_summary(
    conn: Connection, day: date, now: datetime, *, offline_after_s: float = 120.0
) -> dict[str, Any]:
    """The summary of UTC `day`: its snapshot (stored, else built now) and its alerts."""
    snap = get_snapshot(conn, day) or build_snapshot(
        conn, day, now, offline_after_s=offline_after_s
    )
    revenue = None
    if snap.revenue is not None:
        revenue = {
            "sat": snap.revenue.sat,
            "basis": snap.revenue.basis.value,
            "currency": snap.revenue.currency,
            "fiat": snap.revenue.fiat,
        }
    return {
        "day": day.isoformat(),
        "hashrate_mean_hs": snap.hashrate_mean_hs,
        "expected_mean_hs": snap.expected_mean_hs,
        "uptime_pct": snap.uptime_pct,
        "power_mean_w": snap.power_mean_w,
        "energy_kwh": snap.energy_kwh,
        "miners_total": snap.miners_total,
        "miners_online": snap.miners_online,
        "miners_warning": snap.miners_warning,
        "miners_offline": snap.miners_offline,
        "accepted": snap.accepted,
        "rejected": snap.rejected,
        "shares_found": snap.shares_found,
        "blocks_found": snap.blocks_found,
        "revenue": revenue,
        "partial": snap.partial,
        "alerts": _alerts_of(conn, day),
    }


def queue_summaries(conn: Connection, now: datetime, *, offline_after_s: float = 120.0) -> int:
    """Queue the daily summaries that are due (once per channel and local day)."""
    queued = 0
    built: dict[date, dict[str, Any]] = {}
    now_us = to_us(now)
    for chan in list_channels(conn, enabled_only=True):
        slot = chan.schedule.summary_slot(now)
        if slot is None or now - slot > SUMMARY_GRACE or slot < chan.created_at:
            continue
        key = summary_key(slot)
        exists = conn.execute(
            select(notifications.c.id).where(
                notifications.c.channel_id == chan.id,
                notifications.c.kind == NoticeKind.SUMMARY.value,
                notifications.c.event_id == key,
            )
        ).first()
        if exists is not None:
            continue
        day = slot.astimezone(UTC).date() - timedelta(days=1)
        if day not in built:
            built[day] = daily_summary(conn, day, now, offline_after_s=offline_after_s)
        payload = {**built[day], "slot": slot.isoformat()}
        result = conn.execute(
            insert_ignore(conn, notifications).values(
                channel_id=chan.id,
                kind=NoticeKind.SUMMARY.value,
                event_id=key,
                payload=jsontext.dumps(payload),
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_try_at=now_us,
                created_at=now_us,
            )
        )
        queued += max(0, result.rowcount or 0)
    return queued


# ---- delivery ---------------------------------------------------------------------------


def _delivery(row: Row[Any], chan: ChannelRecord) -> Delivery:
    return Delivery(
        id=int(row.id),
        kind=NoticeKind(row.kind),
        payload=jsontext.loads(row.payload) or {},
        attempts=int(row.attempts),
        channel=chan,
    )


def claim_due(
    conn: Connection, now: datetime, *, lease_s: float, limit: int = 100
) -> list[Delivery]:
    """Claim the pending rows that are due on enabled channels, oldest first: each one's
    `next_try_at` moves `lease_s` ahead, where no other dispatcher moved it first."""
    now_us = to_us(now)
    rows = conn.execute(
        select(notifications)
        .join(channels, channels.c.id == notifications.c.channel_id)
        .where(
            notifications.c.state == DeliveryState.PENDING.value,
            notifications.c.next_try_at <= now_us,
            channels.c.enabled.is_(True),
        )
        .order_by(notifications.c.next_try_at, notifications.c.id)
        .limit(limit)
    ).all()
    lease_us = now_us + int(lease_s * 1e6)
    chans: dict[int, ChannelRecord | None] = {}
    claimed: list[Delivery] = []
    for row in rows:
        result = conn.execute(
            update(notifications)
            .where(
                and_(
                    notifications.c.id == row.id,
                    notifications.c.state == DeliveryState.PENDING.value,
                    notifications.c.next_try_at == row.next_try_at,
                )
            )
            .values(next_try_at=lease_us)
        )
        if result.rowcount != 1:
            continue
        cid = int(row.channel_id)
        if cid not in chans:
            chans[cid] = get_channel(conn, cid)
        chan = chans[cid]
        if chan is not None:
            claimed.append(_delivery(row, chan))
    return claimed


def add_test(
    conn: Connection, channel_id: int, now: datetime, payload: Mapping[str, Any], *, lease_s: float
) -> Delivery | None:
    """A test notice for a channel, already claimed (the caller sends it at once)."""
    chan = get_channel(conn, channel_id)
    if chan is None:
        return None
    now_us = to_us(now)
    new_id: int = conn.execute(
        notifications.insert()
        .values(
            channel_id=channel_id,
            kind=NoticeKind.TEST.value,
            event_id=None,
            payload=jsontext.dumps(dict(payload)),
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_try_at=now_us + int(lease_s * 1e6),
            created_at=now_us,
        )
        .returning(notifications.c.id)
    ).scalar_one()
    return Delivery(int(new_id), NoticeKind.TEST, dict(payload), 0, chan)


def record_sent(conn: Connection, delivery: Delivery, now: datetime) -> None:
    now_us = to_us(now)
    conn.execute(
        update(notifications)
        .where(notifications.c.id == delivery.id)
        .values(
            state=DeliveryState.SENT.value,
            attempts=delivery.attempts + 1,
            sent_at=now_us,
            next_try_at=now_us,
            last_error=None,
        )
    )
    conn.execute(
        update(channels)
        .where(channels.c.id == delivery.channel.id)
        .values(last_success_at=now_us, last_error=None, consecutive_failures=0)
    )


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """The wait after the `attempts`-th failed try: base, 2 x base, 4 x base ... up to max."""
    return float(min(max_s, base_s * 2 ** max(0, attempts - 1)))


def record_failure(
    conn: Connection,
    delivery: Delivery,
    now: datetime,
    error: str,
    *,
    max_attempts: int,
    base_s: float,
    max_s: float,
    retry_after_s: float | None = None,
) -> DeliveryState:
    """Count a failed try: retried after the backoff (or the service's Retry-After, when
    longer) until `max_attempts` tries, then `failed`; a test notice is tried once."""
    attempts = delivery.attempts + 1
    error = error[:MAX_ERROR_CHARS]
    gave_up = attempts >= max_attempts or delivery.kind is NoticeKind.TEST
    wait = max(backoff_s(attempts, base_s, max_s), retry_after_s or 0.0)
    state = DeliveryState.FAILED if gave_up else DeliveryState.PENDING
    conn.execute(
        update(notifications)
        .where(notifications.c.id == delivery.id)
        .values(
            state=state.value,
            attempts=attempts,
            next_try_at=to_us(now) if gave_up else to_us(now + timedelta(seconds=wait)),
            last_error=error,
        )
    )
    conn.execute(
        update(channels)
        .where(channels.c.id == delivery.channel.id)
        .values(
            last_error=error,
            consecutive_failures=channels.c.consecutive_failures + 1,
        )
    )
    return state


def prune(conn: Connection, now: datetime, *, keep_days: float = KEEP_DAYS) -> int:
    """Delete outbox rows done with (sent, folded, failed) longer ago than `keep_days`."""
    cutoff = to_us(now - timedelta(days=keep_days))
    done = [DeliveryState.SENT.value, DeliveryState.FOLDED.value, DeliveryState.FAILED.value]
    result = conn.execute(
        delete(notifications).where(
            notifications.c.state.in_(done), notifications.c.next_try_at < cutoff
        )
    )
    return int(result.rowcount or 0)


def states_of(conn: Connection, ids: Iterable[int]) -> dict[int, DeliveryState]:
    """The state of each outbox row (tests, the API)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(notifications.c.id, notifications.c.state).where(notifications.c.id.in_(wanted))
    )
    return {int(r.id): DeliveryState(str(r.state)) for r in rows}
