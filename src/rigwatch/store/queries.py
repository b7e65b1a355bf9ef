"""The read side: farm totals, the miner list, one miner, history, events, sentries.

Live figures come from `miner_state` (one row per miner), never from raw
samples, except the last hour's share counts which sum the stored deltas over
a time range (the raw table's key is time-first, so that is a range scan).
A miner whose last sample is older than `offline_after_s` is offline whatever
its stored status says: a sentry that died cannot report its miners offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, update
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.models import Device, DeviceKind, EventKind, MinerKind, MinerStatus
from rigwatch.domain.status import efficiency_j_per_th
from rigwatch.domain.views import (
    EventRow,
    FarmSummary,
    HashboardView,
    MinerDetail,
    MinerRow,
    PoolView,
    SampleRow,
    SentryRow,
)
from rigwatch.store import jsontext
from rigwatch.store.tables import events, hosts, miner_state, miners, samples, sentries, sites
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

_SORTS: dict[str, Any] = {
    "hashrate": miner_state.c.hashrate_hs,
    "temp": func.coalesce(miner_state.c.temp_max_c, miner_state.c.temp_c),
    "power": miner_state.c.power_w,
    "name": func.coalesce(miners.c.hostname, miners.c.key),
    "hostname": func.coalesce(miners.c.hostname, miners.c.key),
    "ip": miners.c.ip,
    "status": None,  # the effective status, built per query
    "last_seen": miner_state.c.last_sample_ts,
    "model": miners.c.model,
}
SORT_KEYS = frozenset(_SORTS) | frozenset("-" + key for key in _SORTS)


@dataclass(frozen=True, slots=True)
class MinerQuery:
    """Filters, order and page of the miner list; validated on construction."""

    status: MinerStatus | None = None
    kind: MinerKind | None = None
    make: str | None = None
    model: str | None = None
    tag: str | None = None
    text: str | None = None
    site: str | None = None
    sort: str = "name"
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ValueError(f"sort must be one of {sorted(SORT_KEYS)}, not {self.sort!r}")
        if not 1 <= self.limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        if self.offset < 0:
            raise ValueError("offset must not be negative")


def _effective_status(now: datetime, offline_after_s: float) -> ColumnElement[str]:
    cutoff = to_us(now - timedelta(seconds=offline_after_s))
    return case(
        (miner_state.c.status.is_(None), literal(str(MinerStatus.OFFLINE))),
        (miner_state.c.last_sample_ts < cutoff, literal(str(MinerStatus.OFFLINE))),
        else_=miner_state.c.status,
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def farm_summary(conn: Connection, now: datetime, offline_after_s: float) -> FarmSummary:
    """Farm totals over the miners that are not offline, plus last hour's shares."""
    status = _effective_status(now, offline_after_s).label("status")
    per_miner = (
        select(
            status,
            miner_state.c.hashrate_hs,
            miner_state.c.hashrate_expected_hs,
            miner_state.c.power_w,
            miner_state.c.temp_c,
            func.coalesce(miner_state.c.temp_max_c, miner_state.c.temp_c).label("temp_top"),
        )
        .select_from(miners)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .subquery()
    )
    grouped = select(
        per_miner.c.status,
        func.count(),
        func.coalesce(func.sum(per_miner.c.hashrate_hs), 0.0),
        func.coalesce(func.sum(per_miner.c.hashrate_expected_hs), 0.0),
        func.coalesce(func.sum(per_miner.c.power_w), 0.0),
        func.avg(per_miner.c.temp_c),
        func.max(per_miner.c.temp_top),
    ).group_by(per_miner.c.status)
    counts = dict.fromkeys(MinerStatus, 0)
    hashrate = expected = power = 0.0
    temp_sum = 0.0
    temp_n = 0
    temp_max: float | None = None
    for row in conn.execute(grouped):
        state = MinerStatus(row[0])
        counts[state] = int(row[1])
        if state is MinerStatus.OFFLINE:
            continue
        hashrate += float(row[2])
        expected += float(row[3])
        power += float(row[4])
        if row[5] is not None:
            # avg() per group, weighted back by the group's miner count.
            temp_sum += float(row[5]) * int(row[1])
            temp_n += int(row[1])
        if row[6] is not None:
            temp_max = float(row[6]) if temp_max is None else max(temp_max, float(row[6]))
    hour_ago = to_us(now - timedelta(hours=1))
    shares = conn.execute(
        select(
            func.coalesce(func.sum(samples.c.accepted_delta), 0),
            func.coalesce(func.sum(samples.c.rejected_delta), 0),
        ).where(samples.c.ts >= hour_ago, samples.c.ts <= to_us(now))
    ).one()
    return FarmSummary(
        ts=now,
        hashrate_hs=hashrate,
        hashrate_expected_hs=expected,
        miners_total=sum(counts.values()),
        miners_online=counts[MinerStatus.ONLINE],
        miners_warning=counts[MinerStatus.WARNING],
        miners_offline=counts[MinerStatus.OFFLINE],
        power_w=power,
        efficiency_j_th=efficiency_j_per_th(power or None, hashrate),
        temp_mean_c=temp_sum / temp_n if temp_n else None,
        temp_max_c=temp_max,
        accepted_last_hour=int(shares[0]),
        rejected_last_hour=int(shares[1]),
    )


def _miner_select(now: datetime, offline_after_s: float) -> Select[Any]:
    return (
        select(
            miners,
            sentries.c.name.label("sentry_name"),
            sites.c.name.label("site_name"),
            _effective_status(now, offline_after_s).label("eff_status"),
            miner_state.c.last_sample_ts,
            miner_state.c.warnings,
            miner_state.c.hashrate_hs,
            miner_state.c.hashrate_expected_hs,
            miner_state.c.temp_c,
            miner_state.c.temp_max_c,
            miner_state.c.power_w,
            miner_state.c.fans_rpm,
            miner_state.c.uptime_s,
            miner_state.c.pool_url,
            miner_state.c.chip_temp_c,
            miner_state.c.accepted,
            miner_state.c.rejected,
            miner_state.c.stale,
            miner_state.c.errors,
            miner_state.c.hashboards,
            miner_state.c.pools,
            miner_state.c.algorithm,
            miner_state.c.devices,
            hosts.c.key.label("host_key"),
        )
        .select_from(miners)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .join(sites, sites.c.id == sentries.c.site_id)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .outerjoin(hosts, hosts.c.id == miners.c.host_id)
    )


def _miner_row(row: Row[Any]) -> MinerRow:
    status = MinerStatus(row.eff_status)
    warnings = (
        tuple(jsontext.loads(row.warnings) or ()) if status is not MinerStatus.OFFLINE else ()
    )
    return MinerRow(
        id=row.id,
        sentry_id=row.sentry_id,
        sentry=row.sentry_name,
        site=row.site_name,
        key=row.key,
        kind=MinerKind(row.kind),
        status=status,
        make=row.make,
        model=row.model,
        firmware=row.firmware,
        ip=row.ip,
        mac=row.mac,
        hostname=row.hostname,
        worker=row.worker,
        tags=tuple(jsontext.loads(row.tags) or ()),
        last_seen=from_us_opt(row.last_sample_ts),
        hashrate_hs=row.hashrate_hs,
        hashrate_expected_hs=row.hashrate_expected_hs,
        temp_c=row.temp_c,
        temp_max_c=row.temp_max_c,
        power_w=row.power_w,
        fans_rpm=tuple(jsontext.loads(row.fans_rpm) or ()),
        uptime_s=row.uptime_s,
        pool_url=row.pool_url,
        warnings=warnings,
        host=row.host_key,
        rack=row.rack,
    )


def _filters(q: MinerQuery, status: ColumnElement[str]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.status is not None:
        where.append(status == str(q.status))
    if q.kind is not None:
        where.append(miners.c.kind == str(q.kind))
    if q.make is not None:
        where.append(func.lower(miners.c.make) == q.make.lower())
    if q.model is not None:
        where.append(func.lower(miners.c.model) == q.model.lower())
    if q.tag is not None:
        where.append(miners.c.tags.like(_like(jsontext.dumps(q.tag)), escape="\\"))
    if q.site is not None:
        at_site = select(sentries.c.id).join(sites, sites.c.id == sentries.c.site_id)
        where.append(miners.c.sentry_id.in_(at_site.where(sites.c.name == q.site)))
    if q.text:
        pattern = _like(q.text.strip())
        columns = (
            miners.c.key,
            miners.c.ip,
            miners.c.hostname,
            miners.c.worker,
            miners.c.model,
            miners.c.make,
            miners.c.mac,
            hosts.c.key,
        )
        where.append(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
    return where


def list_miners(
    conn: Connection, q: MinerQuery, now: datetime, offline_after_s: float
) -> tuple[list[MinerRow], int]:
    """One page of miners matching the query, and how many match in all."""
    status = _effective_status(now, offline_after_s)
    where = and_(literal(True), *_filters(q, status))
    total = conn.execute(
        select(func.count())
        .select_from(miners)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .outerjoin(hosts, hosts.c.id == miners.c.host_id)
        .where(where)
    ).scalar_one()
    name = q.sort.removeprefix("-")
    key = status if name == "status" else _SORTS[name]
    order = key.desc() if q.sort.startswith("-") else key.asc()
    query = (
        _miner_select(now, offline_after_s)
        .where(where)
        .order_by(order.nulls_last(), miners.c.id)
        .limit(q.limit)
        .offset(q.offset)
    )
    return [_miner_row(row) for row in conn.execute(query)], int(total)


def get_miner(
    conn: Connection, miner_id: int, now: datetime, offline_after_s: float
) -> MinerDetail | None:
    """Everything the miner page shows from the latest state; None when unknown."""
    row = conn.execute(
        _miner_select(now, offline_after_s).where(miners.c.id == miner_id)
    ).one_or_none()
    if row is None:
        return None
    boards = jsontext.loads(row.hashboards) or []
    pools = jsontext.loads(row.pools) or []
    return MinerDetail(
        row=_miner_row(row),
        chip_temp_c=row.chip_temp_c,
        accepted=row.accepted,
        rejected=row.rejected,
        stale=row.stale,
        errors=tuple(jsontext.loads(row.errors) or ()),
        hashboards=tuple(
            HashboardView(
                index=b["index"],
                hashrate_hs=b["hashrate_hs"],
                temp_c=b["temp_c"],
                chip_temp_c=b["chip_temp_c"],
                chips=b["chips"],
                chips_expected=b["chips_expected"],
                missing=b["missing"],
            )
            for b in boards
        ),
        pools=tuple(
            PoolView(
                url=p["url"],
                user=p["user"],
                active=p["active"],
                alive=p["alive"],
                accepted=p["accepted"],
                rejected=p["rejected"],
                stale=p["stale"],
            )
            for p in pools
        ),
        algorithm=row.algorithm,
        devices=tuple(
            Device(**{**d, "kind": DeviceKind(d["kind"])})
            for d in (jsontext.loads(row.devices) or [])
        ),
        host_id=row.host_id,
    )


def miner_samples(
    conn: Connection, miner_id: int, start: datetime, end: datetime, limit: int = 10000
) -> list[SampleRow]:
    """Raw samples of one miner in [start, end), oldest first (a time-range scan)."""
    query = (
        select(samples)
        .where(
            samples.c.ts >= to_us(start),
            samples.c.ts < to_us(end),
            samples.c.miner_id == miner_id,
        )
        .order_by(samples.c.ts)
        .limit(limit)
    )
    return [
        SampleRow(
            ts=from_us(row.ts),
            hashrate_hs=row.hashrate_hs,
            hashrate_expected_hs=row.hashrate_expected_hs,
            temp_c=row.temp_c,
            temp_max_c=row.temp_max_c,
            chip_temp_c=row.chip_temp_c,
            power_w=row.power_w,
            accepted=row.accepted,
            rejected=row.rejected,
            stale=row.stale,
            uptime_s=row.uptime_s,
            fans_rpm=tuple(jsontext.loads(row.fans_rpm) or ()),
        )
        for row in conn.execute(query)
    ]


def list_events(
    conn: Connection,
    *,
    kinds: list[EventKind] | None = None,
    miner_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[EventRow]:
    """Events newest first (by arrival id, so `before_id` pages without gaps)."""
    query = select(events).order_by(events.c.id.desc()).limit(max(1, min(limit, 1000)))
    if kinds:
        query = query.where(events.c.kind.in_([str(k) for k in kinds]))
    if miner_id is not None:
        query = query.where(events.c.miner_id == miner_id)
    if since is not None:
        query = query.where(events.c.ts >= to_us(since))
    if before_id is not None:
        query = query.where(events.c.id < before_id)
    return [
        EventRow(
            id=row.id,
            ts=from_us(row.ts),
            kind=EventKind(row.kind),
            key=row.key,
            miner_id=row.miner_id,
            sentry_id=row.sentry_id,
            message=row.message,
            data=jsontext.loads(row.data) or {},
            host_id=row.host_id,
        )
        for row in conn.execute(query)
    ]


def list_sentries(conn: Connection) -> list[SentryRow]:
    """Every sentry with its site and how many miners it reports."""
    counts = (
        select(miners.c.sentry_id, func.count().label("n")).group_by(miners.c.sentry_id).subquery()
    )
    query = (
        select(sentries, sites.c.name.label("site_name"), counts.c.n)
        .join(sites, sites.c.id == sentries.c.site_id)
        .outerjoin(counts, counts.c.sentry_id == sentries.c.id)
        .order_by(sentries.c.name)
    )
    return [
        SentryRow(
            id=row.id,
            name=row.name,
            site=row.site_name,
            enrolled=row.enrolled_at is not None,
            revoked=row.revoked_at is not None,
            created_at=from_us(row.created_at),
            last_seen=from_us_opt(row.last_seen_at),
            last_seq=row.last_seq,
            version=row.version,
            miners=int(row.n or 0),
        )
        for row in conn.execute(query)
    ]


def set_sentry_version(conn: Connection, sentry_id: int, version: str) -> None:
    """Record the version a sentry reports (its batches' User-Agent)."""
    conn.execute(update(sentries).where(sentries.c.id == sentry_id).values(version=version))
