"""Notifications: which channel hears of an alert, and when.

An alert event (`alert_fired`, `alert_resolved`, `alert_flapping`) becomes a `Notice`.
A channel's `Filters` decide whether it hears of it at all: a minimum severity, and
optionally a set of sites and a set of tags (a notice matches a site filter only when it
belongs to one of those sites, and a tag filter only when its miner carries one of those
tags; a notice without a site or miner, such as a failing job, passes only filters that
name no sites or tags).

Then *when*: a critical notice is never delayed. Any other one is held while the
channel's quiet hours last (local times in the channel's timezone, e.g. 22:00-07:00)
and, on a channel in digest mode, until its digest window closes (the window opens with
the first notice held for it and lasts `digest_minutes`). Held notices of a digest
channel are released together as one digest message; on a channel without digest mode
they are sent one by one when quiet hours end.

Pure logic, no I/O: times are aware datetimes, zones are `zoneinfo` keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: object) -> Severity:
        """A severity from an event's data; anything unknown counts as a warning."""
        try:
            return cls(str(value).lower())
        except ValueError:
            return cls.WARNING


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class NoticeKind(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    DIGEST = "digest"
    SUMMARY = "summary"
    TEST = "test"


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    NTFY = "ntfy"


class DeliveryState(StrEnum):
    """An outbox row: `pending` is due at `next_try_at`; `held` waits for quiet hours to
    end or a digest window to close; `folded` went into a digest; `failed` gave up."""

    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    FAILED = "failed"
    FOLDED = "folded"


# The alert engine's event kinds and the notice each one makes.
ALERT_EVENTS: Mapping[str, NoticeKind] = {
    "alert_fired": NoticeKind.FIRING,
    "alert_resolved": NoticeKind.RESOLVED,
    "alert_flapping": NoticeKind.FLAPPING,
}


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError when there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {name!r}") from None


def parse_hhmm(text: str) -> time:
    """'07:30' → time(7, 30); ValueError for anything else."""
    hours, sep, minutes = text.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a HH:MM time")
    return time(int(hours), int(minutes))


def _local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock times; `start` after `end` spans midnight. Equal times are refused."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> QuietHours | None:
        if not data:
            return None
        return cls(parse_hhmm(str(data["start"])), parse_hhmm(str(data["end"])))

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}

    def quiet_at(self, now: datetime, tz: ZoneInfo) -> bool:
        t = now.astimezone(tz).time()
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def ends_after(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The first end of quiet hours after `now` (aware, in `tz`)."""
        local = now.astimezone(tz)
        candidate = _local_at(local.date(), self.end, tz)
        if candidate <= local:
            candidate = _local_at(local.date() + timedelta(days=1), self.end, tz)
        return candidate


@dataclass(frozen=True, slots=True)
class Filters:
    """Which notices a channel hears of. Empty `sites` / `tags`: any."""

    min_severity: Severity = Severity.INFO
    sites: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Filters:
        data = data or {}
        return cls(
            min_severity=Severity(data.get("min_severity", Severity.INFO)),
            sites=tuple(int(s) for s in data.get("sites") or ()),
            tags=tuple(str(t) for t in data.get("tags") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "min_severity": self.min_severity.value,
            "sites": list(self.sites),
            "tags": list(self.tags),
        }

    def admits(self, notice: Notice) -> bool:
        if notice.severity.rank < self.min_severity.rank:
            return False
        if self.sites and notice.site_id not in self.sites:
            return False
        return not self.tags or bool(set(self.tags) & set(notice.tags))


@dataclass(frozen=True, slots=True)
class Notice:
    """One alert transition as the channels are told of it.

    `value` is the rule's measured figure (a number or a short text), `subject` the
    alert's subject (`miner:12`, `sentry:3`, `job:pool_sync`, ...), `subject_name` a
    readable name for it when the store knows one (the miner's worker or hostname)."""

    kind: NoticeKind
    event_id: int
    ts: datetime
    severity: Severity
    rule: str
    subject: str
    message: str
    value: float | str | None = None
    alert_id: int | None = None
    subject_name: str | None = None
    miner_id: int | None = None
    sentry_id: int | None = None
    site_id: int | None = None
    site: str | None = None
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "event_id": self.event_id,
            "ts": self.ts.isoformat(),
            "severity": self.severity.value,
            "rule": self.rule,
            "subject": self.subject,
            "subject_name": self.subject_name,
            "message": self.message,
            "value": self.value,
            "alert_id": self.alert_id,
            "miner_id": self.miner_id,
            "sentry_id": self.sentry_id,
            "site_id": self.site_id,
            "site": self.site,
            "tags": list(self.tags),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            kind=NoticeKind(data["kind"]),
            event_id=int(data["event_id"]),
            ts=datetime.fromisoformat(data["ts"]),
            severity=Severity.parse(data["severity"]),
            rule=str(data["rule"]),
            subject=str(data["subject"]),
            subject_name=data.get("subject_name"),
            message=str(data["message"]),
            value=data.get("value"),
            alert_id=data.get("alert_id"),
            miner_id=data.get("miner_id"),
            sentry_id=data.get("sentry_id"),
            site_id=data.get("site_id"),
            site=data.get("site"),
            tags=tuple(data.get("tags") or ()),
        )


def _value(raw: object) -> float | str | None:
    if raw is None or isinstance(raw, bool):
        return None if raw is None else str(raw)
    if isinstance(raw, int | float):
        return float(raw)
    return str(raw)[:200]


def notice_from_event(
    *,
    event_id: int,
    kind: str,
    ts: datetime,
    message: str,
    data: Mapping[str, Any],
    miner_id: int | None,
    sentry_id: int | None,
) -> Notice | None:
    """The notice of an alert event (None for any other kind). The event's `data` holds
    `alert_id`, `rule` (also read as `rule_kind`), `subject`, `severity`, `value` and
    `message` (and `subject_name`); the row's own message is the fallback. A notice
    the alert engine marked `silenced` is not sent."""
    notice_kind = ALERT_EVENTS.get(kind)
    if notice_kind is None or data.get("silenced") is True:
        return None
    rule = data.get("rule") or data.get("rule_kind") or data.get("kind") or "alert"
    subject = data.get("subject") or (f"miner:{miner_id}" if miner_id is not None else "farm")
    alert_id = data.get("alert_id")
    return Notice(
        kind=notice_kind,
        event_id=event_id,
        ts=ts,
        severity=Severity.parse(data.get("severity", Severity.WARNING)),
        rule=str(rule)[:100],
        subject=str(subject)[:200],
        message=str(data.get("message") or message)[:2000],
        value=_value(data.get("value")),
        alert_id=int(alert_id) if isinstance(alert_id, int) else None,
        subject_name=str(data["subject_name"])[:200] if data.get("subject_name") else None,
        miner_id=miner_id,
        sentry_id=sentry_id,
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a channel speaks: its zone, quiet hours, digest window and summary time."""

    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None
    digest_minutes: int = 0
    daily_summary_at: time | None = None
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", zone(self.timezone))

    def quiet(self, now: datetime) -> bool:
        return self.quiet_hours is not None and self.quiet_hours.quiet_at(now, self.tz)

    def quiet_end(self, now: datetime) -> datetime | None:
        """When the quiet hours that hold `now` end; None when `now` is not quiet."""
        if self.quiet_hours is None or not self.quiet(now):
            return None
        return self.quiet_hours.ends_after(now, self.tz)

    def hold_until(
        self, severity: Severity, now: datetime, open_digest: datetime | None = None
    ) -> datetime | None:
        """Until when a notice of `severity` arriving at `now` is held; None: send now.
        `open_digest` is the close of the digest window already open, if one is."""
        if severity is Severity.CRITICAL:
            return None
        release: datetime | None = None
        if self.digest_minutes > 0:
            release = open_digest or now + timedelta(minutes=self.digest_minutes)
        quiet_end = self.quiet_end(now)
        if quiet_end is not None and (release is None or quiet_end > release):
            release = quiet_end
        return release

    def summary_slot(self, now: datetime) -> datetime | None:
        """The latest daily-summary time at or before `now` (aware, in the zone)."""
        if self.daily_summary_at is None:
            return None
        local = now.astimezone(self.tz)
        slot = _local_at(local.date(), self.daily_summary_at, self.tz)
        if slot > local:
            slot = _local_at(local.date() - timedelta(days=1), self.daily_summary_at, self.tz)
        return slot


def summary_key(slot: datetime) -> int:
    """The outbox key of the summary sent at local `slot`: its local date as yyyymmdd."""
    return slot.year * 10000 + slot.month * 100 + slot.day


def severity_counts(severities: Sequence[Severity]) -> dict[str, int]:
    return {s.value: sum(1 for x in severities if x is s) for s in Severity}
