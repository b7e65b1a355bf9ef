"""Notices as people read them: a title, a few lines, a link to the dashboard.

Times are shown in the channel's timezone; hashrates in prefixed units. The structured
payload travels along (`Message.data`) for channels that send JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rigwatch.commander.notify.base import Message
from rigwatch.domain.notify import Notice, NoticeKind, Severity
from rigwatch.units import format_hashrate

KIND_WORDS = {
    NoticeKind.FIRING: "Firing",
    NoticeKind.RESOLVED: "Resolved",
    NoticeKind.FLAPPING: "Flapping",
}
DIGEST_LINES = 50


def _when(ts: datetime, tz: ZoneInfo) -> str:
    return ts.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _value(value: float | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def _subject(notice: Notice) -> str:
    if notice.subject_name:
        return f"{notice.subject} ({notice.subject_name})"
    return notice.subject


def notice_link(notice: Notice, public_url: str) -> str:
    if notice.miner_id is not None:
        return f"{public_url}/miners/{notice.miner_id}"
    return f"{public_url}/alerts"


def render_notice(notice: Notice, *, tz: ZoneInfo, public_url: str) -> Message:
    word = KIND_WORDS.get(notice.kind, notice.kind.value.title())
    title = f"[{notice.severity.value.upper()}] {word}: {notice.rule} on {_subject(notice)}"
    link = notice_link(notice, public_url)
    fields = [
        ("Severity", notice.severity.value),
        ("Subject", _subject(notice)),
        ("Value", _value(notice.value)),
        ("Time", _when(notice.ts, tz)),
    ]
    if notice.site:
        fields.append(("Site", notice.site))
    lines = [notice.message, "", *(f"{name}: {value}" for name, value in fields)]
    lines.append(f"Dashboard: {link}")
    data = {"notice": notice.to_json()}
    return Message(
        kind=notice.kind,
        severity=notice.severity,
        title=title[:250],
        text="\n".join(lines),
        ts=notice.ts,
        link=link,
        fields=tuple(fields),
        data=data,
    )


def render_digest(
    payload: Mapping[str, Any], *, tz: ZoneInfo, public_url: str, now: datetime
) -> Message:
    notices = [Notice.from_json(item) for item in payload.get("items", [])]
    counts = {kind: sum(1 for n in notices if n.kind is kind) for kind in KIND_WORDS}
    worst = max((n.severity for n in notices), key=lambda s: s.rank, default=Severity.INFO)
    summary = ", ".join(f"{n} {KIND_WORDS[k].lower()}" for k, n in counts.items() if n)
    title = f"rigwatch digest: {len(notices)} notices ({summary})"
    lines = []
    for notice in notices[:DIGEST_LINES]:
        when = notice.ts.astimezone(tz).strftime("%H:%M")
        word = KIND_WORDS.get(notice.kind, notice.kind.value)
        lines.append(
            f"{when} [{notice.severity.value.upper()}] {word}: {notice.rule} on "
            f"{_subject(notice)}: {notice.message}"
        )
    if len(notices) > DIGEST_LINES:
        lines.append(f"... and {len(notices) - DIGEST_LINES} more")
    link = f"{public_url}/alerts"
    lines += ["", f"Dashboard: {link}"]
    return Message(
        kind=NoticeKind.DIGEST,
        severity=worst,
        title=title,
        text="\n".join(lines),
        ts=now,
        link=link,
        fields=(
            ("Notices", str(len(notices))),
            *((KIND_WORDS[k], str(n)) for k, n in counts.items() if n),
        ),
        data={"digest": {"count": len(notices), "items": [n.to_json() for n in notices]}},
    )


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f} %"


def _count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def _revenue(revenue: Mapping[str, Any] | None) -> str:
    if not revenue or revenue.get("sat") is None:
        return "unknown"
    text = f"{int(revenue['sat']):,} sat ({revenue.get('basis', '?')})"
    if revenue.get("fiat") is not None:
        text += f" ≈ {float(revenue['fiat']):,.2f} {revenue.get('currency', 'USD')}"
    return text


def render_summary(
    payload: Mapping[str, Any], *, tz: ZoneInfo, public_url: str, now: datetime
) -> Message:
    alerts = payload.get("alerts") or {}
    by_sev = alerts.get("by_severity") or {}
    fields = (
        (
            "Hashrate",
            f"{format_hashrate(payload.get('hashrate_mean_hs'))} "
            f"(expected {format_hashrate(payload.get('expected_mean_hs'))})",
        ),
        ("Uptime", _pct(payload.get("uptime_pct"))),
        (
            "Miners",
            f"{payload.get('miners_online', 0)} online, "
            f"{payload.get('miners_warning', 0)} warning, "
            f"{payload.get('miners_offline', 0)} offline "
            f"of {payload.get('miners_total', 0)}",
        ),
        (
            "Shares",
            f"{_count(payload.get('accepted'))} accepted, "
            f"{_count(payload.get('rejected'))} rejected",
        ),
        ("Blocks found", _count(payload.get("blocks_found"))),
        ("Revenue", _revenue(payload.get("revenue"))),
        (
            "Alerts",
            f"{alerts.get('fired', 0)} fired (critical {by_sev.get('critical', 0)}, "
            f"warning {by_sev.get('warning', 0)}, info {by_sev.get('info', 0)}), "
            f"{alerts.get('resolved', 0)} resolved",
        ),
    )
    day = payload.get("day", "?")
    link = f"{public_url}/history"
    lines = [
        f"Farm summary for {day} (UTC day)" + (" — partial data" if payload.get("partial") else "")
    ]
    lines += [f"{name}: {value}" for name, value in fields]
    top = alerts.get("top_subjects") or []
    if top:
        lines.append("Most alerts: " + ", ".join(f"{t['subject']} ({t['count']})" for t in top[:5]))
    lines += ["", f"Dashboard: {link}"]
    return Message(
        kind=NoticeKind.SUMMARY,
        severity=Severity.INFO,
        title=f"rigwatch daily summary for {day}",
        text="\n".join(lines),
        ts=now,
        link=link,
        fields=fields,
        data={"summary": dict(payload)},
    )


def render_test(
    payload: Mapping[str, Any], *, tz: ZoneInfo, public_url: str, now: datetime
) -> Message:
    name = payload.get("channel", "?")
    link = f"{public_url}/notifications"
    text = (
        f"This is a test notice from rigwatch to channel {name!s}, sent at {_when(now, tz)}.\n"
        f"Dashboard: {link}"
    )
    return Message(
        kind=NoticeKind.TEST,
        severity=Severity.INFO,
        title="rigwatch test notice",
        text=text,
        ts=now,
        link=link,
        fields=(("Channel", str(name)),),
        data={"test": dict(payload)},
    )


def render(
    kind: NoticeKind,
    payload: Mapping[str, Any],
    *,
    tz: ZoneInfo,
    public_url: str,
    now: datetime,
) -> Message:
    """The message of one outbox row."""
    public_url = public_url.rstrip("/")
    if kind is NoticeKind.DIGEST:
        return render_digest(payload, tz=tz, public_url=public_url, now=now)
    if kind is NoticeKind.SUMMARY:
        return render_summary(payload, tz=tz, public_url=public_url, now=now)
    if kind is NoticeKind.TEST:
        return render_test(payload, tz=tz, public_url=public_url, now=now)
    return render_notice(Notice.from_json(payload), tz=tz, public_url=public_url)
