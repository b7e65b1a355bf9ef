"""Alerts in the store: rules, alerts and silences, the evaluation's inputs, its writes.

The inputs are read in bulk, one query per kind of input for the whole farm, never one
per miner: the miners with their latest state (`miner_state`), their 5-minute rollups
over the rules' windows (grouped per miner in SQL; the join from `miners` makes it one
primary-key range per miner, never a scan of the whole rollup table), the pool-side
gaps, the sentries, the wallets with their newest payment, the open alerts and the
active silences. Only the inputs some enabled rule needs are read.

Writes touch only alerts that changed: new ones are inserted (ids returned), changed
ones updated by id in one executemany, and each notice appends an `events` row
(alert_fired / alert_flapping / alert_resolved) whose `data` the notifier reads. The
evaluation never writes `acked_by` / `acked_at` (a person's acknowledgement made
between its read and its write is kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, true, update
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.alerts import (
    MINER_KINDS,
    ROLLUP_KINDS,
    Alert,
    AlertState,
    Board,
    Inputs,
    MinerFacts,
    Notice,
    Outcome,
    Rule,
    RuleKind,
    Scope,
    SentryFacts,
    Severity,
    Silence,
    WalletFacts,
    Window,
    effective_params,
    hung_lookback_s,
    open_key,
    rollup_windows,
    subject_id,
    subject_name,
)
from rigwatch.domain.pools import gap_fraction
from rigwatch.store import jsontext
from rigwatch.store.tables import (
    alert_rules,
    alerts,
    events,
    miner_state,
    miners,
    payments,
    pool_miner_gaps,
    rollup_5m,
    sentries,
    silences,
    sites,
    wallets,
)
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

# ---- read models for the API ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as the API shows it: `params` with the defaults filled in."""

    id: int
    kind: RuleKind
    scope: str
    params: dict[str, Any]
    severity: Severity
    enabled: bool
    hold_s: int
    recover_s: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    rule_id: int | None
    kind: RuleKind
    subject: str
    state: AlertState
    severity: Severity
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    last_change_at: datetime
    changes: int
    value: float | None
    message: str
    acked_by: str | None
    acked_at: datetime | None
    silenced_until: datetime | None


@dataclass(frozen=True, slots=True)
class SilenceView:
    id: int
    rule_id: int | None
    subject: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    active: bool


# ---- rules ---------------------------------------------------------------------------------


def _rule_view(row: Row[Any]) -> RuleView:
    kind = RuleKind(row.kind)
    return RuleView(
        id=row.id,
        kind=kind,
        scope=row.scope,
        params=effective_params(kind, jsontext.loads(row.params) or {}),
        severity=Severity(row.severity),
        enabled=bool(row.enabled),
        hold_s=int(row.hold_s),
        recover_s=int(row.recover_s),
        created_at=from_us(row.created_at),
        updated_at=from_us(row.updated_at),
    )


def list_rules(conn: Connection) -> list[RuleView]:
    return [_rule_view(r) for r in conn.execute(select(alert_rules).order_by(alert_rules.c.id))]


def get_rule(conn: Connection, rule_id: int) -> RuleView | None:
    row = conn.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).one_or_none()
    return None if row is None else _rule_view(row)


def load_rules(conn: Connection) -> list[Rule]:
    """Every rule (disabled ones too: a disabled override turns its check off)."""
    return [
        Rule(
            id=v.id,
            kind=v.kind,
            scope=Scope.parse(v.scope),
            params=v.params,
            severity=v.severity,
            enabled=v.enabled,
            hold_s=float(v.hold_s),
            recover_s=float(v.recover_s),
        )
        for v in list_rules(conn)
    ]


def create_rule(
    conn: Connection,
    *,
    kind: RuleKind,
    scope: Scope,
    params: Mapping[str, object],
    severity: Severity,
    enabled: bool,
    hold_s: int,
    recover_s: int,
    now: datetime,
) -> int:
    """A rule whose params and scope the caller validated (domain.alerts)."""
    at = to_us(now)
    result = conn.execute(
        insert(alert_rules).values(
            kind=str(kind),
            scope=str(scope),
            params=jsontext.dumps(dict(params)),
            severity=str(severity),
            enabled=enabled,
            hold_s=hold_s,
            recover_s=recover_s,
            created_at=at,
            updated_at=at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # noqa: S101 - an INSERT always has one
    return int(key[0])


def rule_with_scope(conn: Connection, kind: RuleKind, scope: Scope) -> int | None:
    """The id of the rule of `kind` with exactly `scope`, if there is one (only one of
    them could ever apply, so the API refuses a second)."""
    query = select(alert_rules.c.id).where(
        alert_rules.c.kind == str(kind), alert_rules.c.scope == str(scope)
    )
    found = conn.execute(query).first()
    return None if found is None else int(found[0])


def stored_params(conn: Connection, rule_id: int) -> dict[str, object] | None:
    """The params as set (without defaults); None for an unknown rule."""
    raw = conn.execute(
        select(alert_rules.c.params).where(alert_rules.c.id == rule_id)
    ).scalar_one_or_none()
    return None if raw is None else dict(jsontext.loads(raw) or {})


def update_rule(conn: Connection, rule_id: int, now: datetime, **values: object) -> bool:
    """Change some of scope, params, severity, enabled, hold_s, recover_s."""
    row: dict[str, object] = {"updated_at": to_us(now)}
    for name, value in values.items():
        if name == "params":
            row[name] = jsontext.dumps(value)
        elif name in ("scope", "severity"):
            row[name] = str(value)
        else:
            row[name] = value
    result = conn.execute(update(alert_rules).where(alert_rules.c.id == rule_id).values(row))
    return result.rowcount > 0


def delete_rule(conn: Connection, rule_id: int, now: datetime) -> bool:
    """Delete a rule; its open alerts resolve now (with a notice for those that fired)
    and its history stays (rule_id NULL). Its silences go with it."""
    if get_rule(conn, rule_id) is None:
        return False
    rows = conn.execute(
        select(alerts).where(alerts.c.rule_id == rule_id, alerts.c.open_key.is_not(None))
    ).all()
    changed: list[Alert] = []
    notices: list[tuple[Alert, Notice, bool]] = []
    for row in rows:
        alert = _alert(row)
        told = alert.state in (AlertState.FIRING, AlertState.FLAPPING)
        name = subject_name(alert)
        closed = replace(
            alert,
            state=AlertState.RESOLVED,
            resolved_at=now,
            last_change_at=now,
            message=f"{name}: rule deleted",
        )
        changed.append(closed)
        if told:
            notices.append((closed, Notice.RESOLVED, closed.silenced_until is not None))
    write_outcome(conn, Outcome(changed, notices, 0, {}), now)
    conn.execute(delete(alert_rules).where(alert_rules.c.id == rule_id))
    return True


# ---- alerts ----------------------------------------------------------------------------------


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        rule_id=row.rule_id,
        kind=RuleKind(row.kind),
        subject=row.subject,
        state=AlertState(row.state),
        severity=Severity(row.severity),
        started_at=from_us(row.started_at),
        fired_at=from_us_opt(row.fired_at),
        resolved_at=from_us_opt(row.resolved_at),
        last_change_at=from_us(row.last_change_at),
        ok_since=from_us_opt(row.ok_since),
        changes=row.changes,
        flips=tuple(from_us(t) for t in jsontext.loads(row.flips) or ()),
        value=row.value,
        message=row.message,
        acked_by=row.acked_by,
        acked_at=from_us_opt(row.acked_at),
        silenced_until=from_us_opt(row.silenced_until),
        silenced_notice=bool(row.silenced_notice),
    )


def _view(row: Row[Any]) -> AlertView:
    return AlertView(
        id=row.id,
        rule_id=row.rule_id,
        kind=RuleKind(row.kind),
        subject=row.subject,
        state=AlertState(row.state),
        severity=Severity(row.severity),
        started_at=from_us(row.started_at),
        fired_at=from_us_opt(row.fired_at),
        resolved_at=from_us_opt(row.resolved_at),
        last_change_at=from_us(row.last_change_at),
        changes=row.changes,
        value=row.value,
        message=row.message,
        acked_by=row.acked_by,
        acked_at=from_us_opt(row.acked_at),
        silenced_until=from_us_opt(row.silenced_until),
    )


def load_open_alerts(conn: Connection) -> list[Alert]:
    return [_alert(r) for r in conn.execute(select(alerts).where(alerts.c.open_key.is_not(None)))]


def list_alerts(
    conn: Connection,
    *,
    state: AlertState | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AlertView]:
    """Newest first; `state` None: every state."""
    query = select(alerts).order_by(alerts.c.id.desc()).limit(max(1, min(limit, 1000)))
    if state is not None:
        query = query.where(alerts.c.state == str(state))
    if subject is not None:
        query = query.where(alerts.c.subject == subject)
    if before_id is not None:
        query = query.where(alerts.c.id < before_id)
    return [_view(r) for r in conn.execute(query)]


def get_alert(conn: Connection, alert_id: int) -> AlertView | None:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one_or_none()
    return None if row is None else _view(row)


def ack_alert(conn: Connection, alert_id: int, who: str, now: datetime) -> bool:
    """Record who acknowledged an open alert; False when it is resolved (or unknown)."""
    result = conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.open_key.is_not(None))
        .values(acked_by=who[:200], acked_at=to_us(now))
    )
    return result.rowcount > 0


# ---- silences --------------------------------------------------------------------------------


def _silence(row: Row[Any], now_us: int) -> SilenceView:
    return SilenceView(
        id=row.id,
        rule_id=row.rule_id,
        subject=row.subject,
        until=from_us(row.until),
        reason=row.reason,
        created_by=row.created_by,
        created_at=from_us(row.created_at),
        active=row.until > now_us,
    )


def list_silences(
    conn: Connection, now: datetime, *, active_only: bool = False
) -> list[SilenceView]:
    query = select(silences).order_by(silences.c.id.desc())
    if active_only:
        query = query.where(silences.c.until > to_us(now))
    return [_silence(r, to_us(now)) for r in conn.execute(query)]


def get_silence(conn: Connection, silence_id: int, now: datetime) -> SilenceView | None:
    row = conn.execute(select(silences).where(silences.c.id == silence_id)).one_or_none()
    return None if row is None else _silence(row, to_us(now))


def create_silence(
    conn: Connection,
    *,
    rule_id: int | None,
    subject: str | None,
    until: datetime,
    reason: str,
    created_by: str,
    now: datetime,
) -> int:
    result = conn.execute(
        insert(silences).values(
            rule_id=rule_id,
            subject=subject,
            until=to_us(until),
            reason=reason,
            created_by=created_by[:200],
            created_at=to_us(now),
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # noqa: S101 - an INSERT always has one
    return int(key[0])


def delete_silence(conn: Connection, silence_id: int) -> bool:
    return conn.execute(delete(silences).where(silences.c.id == silence_id)).rowcount > 0


def load_silences(conn: Connection, now: datetime) -> list[Silence]:
    rows = conn.execute(select(silences).where(silences.c.until > to_us(now)))
    return [
        Silence(
            id=r.id,
            until=from_us(r.until),
            reason=r.reason,
            rule_id=r.rule_id,
            subject=r.subject,
            created_by=r.created_by,
            created_at=from_us(r.created_at),
        )
        for r in rows
    ]


# ---- evaluation inputs -----------------------------------------------------------------------


def _needs(rules: Sequence[Rule], kinds: Iterable[RuleKind]) -> bool:
    wanted = set(kinds)
    return any(r.enabled and r.kind in wanted for r in rules)


def _floats(raw: Any) -> tuple[float, ...]:
    return tuple(float(x) for x in raw if isinstance(x, int | float)) if raw else ()


def _windows(
    conn: Connection, now: datetime, windows: set[int], hung_s: int
) -> dict[int, tuple[dict[int, Window], datetime | None, datetime | None]]:
    """Per miner: its rollups over each window, and for the hung rule the newest bucket
    with accepted shares and the oldest with share counts (within `hung_s`)."""
    if not windows and not hung_s:
        return {}
    now_us = to_us(now)
    r = rollup_5m.c
    since = now_us - 1_000_000 * max([*windows, hung_s])
    columns: list[Any] = []
    for w in sorted(windows):
        if 1_000_000 * w == now_us - since:  # the whole range read: no CASE needed
            columns += [
                func.sum(r.hashrate_mean * r.samples),
                func.sum(case((r.hashrate_mean.is_not(None), r.samples))),
                func.sum(r.expected_mean * r.samples),
                func.sum(case((r.expected_mean.is_not(None), r.samples))),
                func.sum(r.accepted),
                func.sum(r.rejected),
                func.sum(r.up_s),
            ]
            continue
        inside = r.bucket >= now_us - 1_000_000 * w
        with_rate = and_(inside, r.hashrate_mean.is_not(None))
        with_expected = and_(inside, r.expected_mean.is_not(None))
        columns += [
            func.sum(case((with_rate, r.hashrate_mean * r.samples))),
            func.sum(case((with_rate, r.samples))),
            func.sum(case((with_expected, r.expected_mean * r.samples))),
            func.sum(case((with_expected, r.samples))),
            func.sum(case((inside, r.accepted))),
            func.sum(case((inside, r.rejected))),
            func.sum(case((inside, r.up_s))),
        ]
    if hung_s:
        inside = r.bucket >= now_us - 1_000_000 * hung_s
        columns += [
            func.max(case((and_(inside, r.accepted > 0), r.bucket))),
            func.min(case((and_(inside, r.accepted.is_not(None)), r.bucket))),
        ]
    columns = [c.label(f"c{i}") for i, c in enumerate(columns)]
    # One primary-key range per miner, whatever the planner knows: a plain join or a
    # `bucket >=` filter lets SQLite without ANALYZE statistics (and PostgreSQL, which
    # has no skip scan) read the whole rollup table, measured 15x slower at 24 hours of
    # rows. SQLite seeks per id of `IN (SELECT id FROM miners)`; PostgreSQL gets a
    # LATERAL subquery per miner.
    if conn.dialect.name == "postgresql":
        per_miner = (
            select(*columns).where(r.miner_id == miners.c.id, r.bucket >= since).lateral("w")
        )
        query = select(miners.c.id, *per_miner.c).select_from(miners).join(per_miner, true())
    else:
        query = (
            select(r.miner_id, *columns)
            .where(r.miner_id.in_(select(miners.c.id)), r.bucket >= since)
            .group_by(r.miner_id)
        )
    out: dict[int, tuple[dict[int, Window], datetime | None, datetime | None]] = {}
    for row in conn.execute(query):
        per: dict[int, Window] = {}
        i = 1
        for w in sorted(windows):
            h, hn, x, xn, acc, rej, up = row[i : i + 7]
            i += 7
            per[w] = Window(
                hashrate_mean=h / hn if hn else None,
                expected_mean=x / xn if xn else None,
                accepted=None if acc is None else int(acc),
                rejected=None if rej is None else int(rej),
                covered_s=float(up or 0.0),
            )
        last_acc = first = None
        if hung_s:
            last_acc = from_us_opt(row[i])
            first = from_us_opt(row[i + 1])
        out[int(row[0])] = (per, last_acc, first)
    return out


def _gaps(conn: Connection) -> dict[int, tuple[float, datetime]]:
    g = pool_miner_gaps.c
    out: dict[int, tuple[float, datetime]] = {}
    query = select(g.miner_id, g.pool_hashrate_hs, g.miner_hashrate_hs, g.updated_at)
    for row in conn.execute(query):
        fraction = gap_fraction(row.miner_hashrate_hs, row.pool_hashrate_hs)
        if fraction is None:
            continue
        prev = out.get(row.miner_id)
        if prev is None or fraction > prev[0]:
            out[row.miner_id] = (fraction, from_us(row.updated_at))
    return out


def _miner_facts(conn: Connection, now: datetime, rules: Sequence[Rule]) -> list[MinerFacts]:
    windows = rollup_windows(rules)
    hung_s = hung_lookback_s(rules)
    rolled = _windows(conn, now, windows, hung_s) if _needs(rules, ROLLUP_KINDS) else {}
    gaps = _gaps(conn) if _needs(rules, [RuleKind.POOL_GAP]) else {}
    want_boards = _needs(rules, [RuleKind.HASHBOARD_MISSING, RuleKind.CHIPS_LOW])
    want_fans = _needs(rules, [RuleKind.FAN_FAILED])
    want_gpus = any(
        r.enabled and r.kind is RuleKind.TEMP_HIGH and r.params.get("gpu_c") is not None
        for r in rules
    )
    s = miner_state.c
    query = (
        select(
            miners.c.id,
            miners.c.key,
            miners.c.hostname,
            miners.c.worker,
            miners.c.tags,
            miners.c.sentry_id,
            sentries.c.site_id,
            s.last_sample_ts,
            s.hashrate_hs,
            s.temp_c,
            s.temp_max_c,
            s.chip_temp_c,
            s.fans_rpm,
            s.hashboards,
            s.devices,
            s.pool_url,
            s.pool_user,
        )
        .select_from(miners)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .outerjoin(miner_state, s.miner_id == miners.c.id)
        .where(sentries.c.revoked_at.is_(None))
    )
    loads = jsontext.loads
    out: list[MinerFacts] = []
    empty: tuple[dict[int, Window], None, None] = ({}, None, None)
    for row in conn.execute(query):
        mid = row.id
        per, last_acc, first = rolled.get(mid, empty)
        gap = gaps.get(mid)
        boards: tuple[Board, ...] = ()
        if want_boards and row.hashboards:
            boards = tuple(
                Board(
                    b.get("index", i),
                    bool(b.get("missing")),
                    b.get("chips"),
                    b.get("chips_expected"),
                )
                for i, b in enumerate(loads(row.hashboards) or ())
            )
        gpus: tuple[float, ...] = ()
        if want_gpus and row.devices:
            gpus = _floats([d.get("temp_c") for d in loads(row.devices) or ()])
        out.append(
            MinerFacts(
                id=mid,
                name=row.hostname or row.key,
                sentry_id=row.sentry_id,
                site_id=row.site_id,
                tags=tuple(loads(row.tags) or ()),
                worker=row.pool_user or row.worker,
                last_seen=from_us_opt(row.last_sample_ts),
                hashrate_hs=row.hashrate_hs,
                temp_c=row.temp_c,
                temp_max_c=row.temp_max_c,
                chip_temp_c=row.chip_temp_c,
                gpu_temps_c=gpus,
                fans_rpm=tuple(int(x) for x in _floats(loads(row.fans_rpm)))
                if want_fans and row.fans_rpm
                else (),
                boards=boards,
                pool_url=row.pool_url,
                windows=per,
                last_accepted_bucket=last_acc,
                first_bucket=first,
                pool_gap=None if gap is None else gap[0],
                pool_gap_at=None if gap is None else gap[1],
            )
        )
    return out


def _sentry_facts(conn: Connection) -> list[SentryFacts]:
    query = select(
        sentries.c.id,
        sentries.c.name,
        sentries.c.site_id,
        sentries.c.last_seen_at,
        sentries.c.enrolled_at,
    ).where(sentries.c.revoked_at.is_(None))
    return [
        SentryFacts(
            id=r.id,
            name=r.name,
            site_id=r.site_id,
            last_seen=from_us_opt(r.last_seen_at),
            enrolled_at=from_us_opt(r.enrolled_at),
        )
        for r in conn.execute(query)
    ]


def _wallet_facts(conn: Connection) -> list[WalletFacts]:
    query = (
        select(
            wallets.c.id,
            wallets.c.label,
            wallets.c.coin,
            wallets.c.address,
            wallets.c.created_at,
            func.max(payments.c.ts).label("last_payment"),
        )
        .select_from(wallets)
        .outerjoin(payments, payments.c.wallet_id == wallets.c.id)
        .group_by(
            wallets.c.id, wallets.c.label, wallets.c.coin, wallets.c.address, wallets.c.created_at
        )
    )
    return [
        WalletFacts(
            id=r.id,
            name=r.label or f"{r.coin} {r.address[:12]}…",
            created_at=from_us(r.created_at),
            last_payment=from_us_opt(r.last_payment),
        )
        for r in conn.execute(query)
    ]


def load_inputs(
    conn: Connection,
    now: datetime,
    rules: Sequence[Rule],
    *,
    failing_jobs: Sequence[str] = (),
    offline_after_s: float = 120.0,
) -> Inputs:
    """Everything the enabled rules read, in bulk."""
    return Inputs(
        rules=rules,
        miners=_miner_facts(conn, now, rules) if _needs(rules, MINER_KINDS) else (),
        sentries=_sentry_facts(conn) if _needs(rules, [RuleKind.SENTRY_SILENT]) else (),
        wallets=_wallet_facts(conn) if _needs(rules, [RuleKind.PAYOUT_OVERDUE]) else (),
        failing_jobs=tuple(failing_jobs),
        offline_after_s=offline_after_s,
    )


# ---- evaluation writes -----------------------------------------------------------------------


def _row(a: Alert) -> dict[str, Any]:
    return {
        "state": str(a.state),
        "severity": str(a.severity),
        "started_at": to_us(a.started_at),
        "fired_at": None if a.fired_at is None else to_us(a.fired_at),
        "resolved_at": None if a.resolved_at is None else to_us(a.resolved_at),
        "last_change_at": to_us(a.last_change_at),
        "ok_since": None if a.ok_since is None else to_us(a.ok_since),
        "changes": a.changes,
        "flips": jsontext.dumps([to_us(t) for t in a.flips]),
        "value": a.value,
        "message": a.message[:2000],
        "silenced_until": None if a.silenced_until is None else to_us(a.silenced_until),
        "silenced_notice": a.silenced_notice,
        "open_key": a.open_key,
    }


def _event_place(conn: Connection, subjects: Iterable[str]) -> tuple[dict[int, int], set[int]]:
    """For the notices' miner subjects: each existing miner's sentry; existing sentries."""
    miner_ids = {i for s in subjects if (i := subject_id(s, "miner")) is not None}
    sentry_ids = {i for s in subjects if (i := subject_id(s, "sentry")) is not None}
    of_miner: dict[int, int] = {}
    if miner_ids:
        rows = conn.execute(
            select(miners.c.id, miners.c.sentry_id).where(miners.c.id.in_(sorted(miner_ids)))
        )
        of_miner = {int(r.id): int(r.sentry_id) for r in rows}
    found: set[int] = set()
    if sentry_ids:
        rows = conn.execute(select(sentries.c.id).where(sentries.c.id.in_(sorted(sentry_ids))))
        found = {int(r.id) for r in rows}
    return of_miner, found


def write_outcome(conn: Connection, outcome: Outcome, now: datetime) -> list[int]:
    """Store what an evaluation changed; the ids of the events it appended."""
    new = [a for a in outcome.changed if a.id is None]
    old = [a for a in outcome.changed if a.id is not None]
    ids: dict[str, int] = {}
    if new:
        rows = [
            {
                **_row(a),
                "rule_id": a.rule_id,
                "kind": str(a.kind),
                "subject": a.subject,
                "acked_by": None,
                "acked_at": None,
            }
            for a in new
        ]
        result = conn.execute(
            insert(alerts).returning(alerts.c.id, sort_by_parameter_order=True), rows
        )
        for a, inserted in zip(new, result.all(), strict=True):
            ids[open_key(a.rule_id, a.subject)] = int(inserted[0])
    if old:
        columns = _row(old[0]).keys()
        statement = (
            update(alerts)
            .where(alerts.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        conn.execute(
            statement,
            [{"b_id": a.id, **{f"b_{k}": v for k, v in _row(a).items()}} for a in old],
        )
    if not outcome.notices:
        return []
    of_miner, known_sentries = _event_place(conn, (a.subject for a, _n, _s in outcome.notices))
    at = to_us(now)
    rows = []
    for seq, (a, notice, silenced) in enumerate(outcome.notices):
        alert_id = a.id if a.id is not None else ids[open_key(a.rule_id, a.subject)]
        miner_id = subject_id(a.subject, "miner")
        sentry_id = subject_id(a.subject, "sentry")
        if miner_id is not None:
            sentry_id = of_miner.get(miner_id)
            if sentry_id is None:
                miner_id = None  # the miner is gone
        elif sentry_id is not None and sentry_id not in known_sentries:
            sentry_id = None
        data = {
            "alert_id": alert_id,
            "rule_id": a.rule_id,
            "rule": str(a.kind),
            "rule_kind": str(a.kind),
            "subject": a.subject,
            "subject_name": subject_name(a),
            "severity": str(a.severity),
            "state": str(a.state),
            "value": a.value,
            "message": a.message,
            "silenced": silenced,
            "acked_by": a.acked_by,
            "started_at": a.started_at.isoformat(),
            "fired_at": None if a.fired_at is None else a.fired_at.isoformat(),
        }
        rows.append(
            {
                "ts": at,
                "kind": str(notice),
                "key": f"alert:{alert_id}:{notice}:{at}:{seq}",
                "sentry_id": sentry_id,
                "miner_id": miner_id,
                "host_id": None,
                "message": a.message[:2000],
                "data": jsontext.dumps(data),
            }
        )
    result = conn.execute(insert(events).returning(events.c.id, sort_by_parameter_order=True), rows)
    return [int(row[0]) for row in result.all()]


def subjects_exist(conn: Connection, subject: str) -> bool:
    """Whether the miner / sentry / wallet a subject names exists (jobs always do)."""
    for kind, table in (("miner", miners), ("sentry", sentries), ("wallet", wallets)):
        found = subject_id(subject, kind)
        if found is not None:
            return conn.execute(select(table.c.id).where(table.c.id == found)).first() is not None
    return True


def scope_exists(conn: Connection, scope: Scope) -> bool:
    """Whether the site or miner a scope names exists (tags and the farm always do)."""
    if scope.kind == "site":
        query = select(sites.c.id).where(sites.c.id == int(scope.value))
    elif scope.kind == "miner":
        query = select(miners.c.id).where(miners.c.id == int(scope.value))
    else:
        return True
    return conn.execute(query).first() is not None


def rule_exists(conn: Connection, rule_id: int) -> bool:
    query = select(alert_rules.c.id).where(alert_rules.c.id == rule_id)
    return conn.execute(query).first() is not None


def open_alerts_count(conn: Connection) -> dict[str, int]:
    query = (
        select(alerts.c.state, func.count())
        .where(alerts.c.open_key.is_not(None))
        .group_by(alerts.c.state)
    )
    return {str(row[0]): int(row[1]) for row in conn.execute(query)}
