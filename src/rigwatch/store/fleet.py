"""Fleet-wide reads for the dashboard, and the one fleet-wide change it makes (tags).

- `problems`: the offline and warning miners with their reasons, for the overview's
  "needs attention" tiles (offline first, the most recent outages first).
- `grid_columns`: every miner matching the list's filters, column by column, for the
  dense grid / heat-map view (thousands of cells from one query).
- `site_totals` and `tag_counts`: the sites and tags page.
- `set_tags`: add and remove tags on many miners at once.

Status is the effective one (`queries._effective_status`): a miner whose last sample is
older than `offline_after_s` is offline whatever its stored status says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, literal, select, update
from sqlalchemy.engine import Connection

from rigwatch.domain.models import EventKind, MinerStatus
from rigwatch.store import jsontext
from rigwatch.store.queries import MinerQuery, _effective_status, _filters
from rigwatch.store.tables import events, hosts, miner_state, miners, sentries, sites
from rigwatch.store.timestamps import from_us_opt

TAG_MAX_LEN = 64
RACK_MAX_LEN = 100  # miners.rack
TAGS_PER_MINER = 32
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Problem:
    """A miner that needs attention and why."""

    id: int
    name: str
    status: MinerStatus
    site: str
    reasons: tuple[str, ...]
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Problems:
    total: int
    offline: int
    warning: int
    offline_items: tuple[Problem, ...]
    warning_items: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class GridColumns:
    """Miners for the grid, column by column (index i of each tuple is one miner)."""

    id: tuple[int, ...]
    name: tuple[str, ...]
    status: tuple[str, ...]
    site: tuple[str, ...]
    rack: tuple[str | None, ...]
    model: tuple[str | None, ...]
    hashrate_hs: tuple[float | None, ...]
    hashrate_expected_hs: tuple[float | None, ...]
    temp_c: tuple[float | None, ...]
    power_w: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class SiteTotals:
    """A site with its sentries, its miners by status and the live totals of those not
    offline (hashrate and power), as the farm summary counts them."""

    id: int
    name: str
    sentries: int
    miners: int
    online: int
    warning: int
    offline: int
    hashrate_hs: float
    hashrate_expected_hs: float
    power_w: float


@dataclass(frozen=True, slots=True)
class TagCount:
    tag: str
    miners: int


@dataclass(frozen=True, slots=True)
class MinerChange:
    """What a change of many miners did (`set_tags`, `set_rack`): miners found, miners
    that changed, ids not found."""

    matched: int
    changed: int
    missing: tuple[int, ...]


def _name() -> ColumnElement[str]:
    return func.coalesce(miners.c.hostname, miners.c.ip, miners.c.key)


def problems(conn: Connection, now: datetime, offline_after_s: float, limit: int = 12) -> Problems:
    """Counts of offline and warning miners, and up to `limit` of each with reasons.

    Offline miners come most recently lost first (a miner gone for months is old news),
    with the message of their latest `miner_offline` event (timeout, refused, ...);
    warning miners by name, with the reasons their latest sample gave.
    """
    status = _effective_status(now, offline_after_s).label("status")
    base = (
        select(
            miners.c.id,
            _name().label("name"),
            status,
            sites.c.name.label("site"),
            miner_state.c.warnings,
            miner_state.c.last_sample_ts,
        )
        .select_from(miners)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .join(sites, sites.c.id == sentries.c.site_id)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
    ).subquery()
    counts = dict.fromkeys(MinerStatus, 0)
    grouped = select(base.c.status, func.count().label("n")).group_by(base.c.status)
    for row in conn.execute(grouped):
        counts[MinerStatus(row.status)] = int(row.n)
    offline_rows = conn.execute(
        select(base)
        .where(base.c.status == str(MinerStatus.OFFLINE))
        .order_by(base.c.last_sample_ts.desc().nulls_last(), base.c.id)
        .limit(limit)
    ).all()
    warning_rows = conn.execute(
        select(base)
        .where(base.c.status == str(MinerStatus.WARNING))
        .order_by(base.c.name, base.c.id)
        .limit(limit)
    ).all()
    messages = _offline_messages(conn, [r.id for r in offline_rows])
    offline_items = tuple(
        Problem(
            id=r.id,
            name=r.name,
            status=MinerStatus.OFFLINE,
            site=r.site,
            reasons=(
                (messages[r.id],)
                if messages.get(r.id)
                else ("never reported",)
                if r.last_sample_ts is None
                else ("no data",)
            ),
            last_seen=from_us_opt(r.last_sample_ts),
        )
        for r in offline_rows
    )
    warning_items = tuple(
        Problem(
            id=r.id,
            name=r.name,
            status=MinerStatus.WARNING,
            site=r.site,
            reasons=tuple(jsontext.loads(r.warnings) or ()),
            last_seen=from_us_opt(r.last_sample_ts),
        )
        for r in warning_rows
    )
    return Problems(
        total=sum(counts.values()),
        offline=counts[MinerStatus.OFFLINE],
        warning=counts[MinerStatus.WARNING],
        offline_items=offline_items,
        warning_items=warning_items,
    )


def _offline_messages(conn: Connection, miner_ids: Sequence[int]) -> dict[int, str]:
    """The message of each miner's latest `miner_offline` event (index (miner_id, id))."""
    if not miner_ids:
        return {}
    latest = (
        select(events.c.miner_id, func.max(events.c.id).label("id"))
        .where(events.c.miner_id.in_(miner_ids), events.c.kind == str(EventKind.MINER_OFFLINE))
        .group_by(events.c.miner_id)
        .subquery()
    )
    rows = conn.execute(
        select(events.c.miner_id, events.c.message).join(latest, latest.c.id == events.c.id)
    )
    return {int(r.miner_id): str(r.message) for r in rows}


def grid_columns(
    conn: Connection, q: MinerQuery, now: datetime, offline_after_s: float
) -> GridColumns:
    """Every miner matching the list's filters (its limit and offset ignored), by site,
    rack and name, as columns: one query, no object per miner (10,000 miners are the
    point). `temp_c` is the hottest reading (max sensor, else board mean)."""
    status = _effective_status(now, offline_after_s)
    query = (
        select(
            miners.c.id,
            _name().label("name"),
            status.label("status"),
            sites.c.name.label("site"),
            miners.c.rack,
            miners.c.model,
            miner_state.c.hashrate_hs,
            miner_state.c.hashrate_expected_hs,
            func.coalesce(miner_state.c.temp_max_c, miner_state.c.temp_c).label("temp"),
            miner_state.c.power_w,
        )
        .select_from(miners)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .join(sites, sites.c.id == sentries.c.site_id)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .where(and_(literal(True), *_filters(q, status)))
        .order_by(sites.c.name, miners.c.rack.asc().nulls_last(), "name", miners.c.id)
    )
    if q.text:
        query = query.outerjoin(hosts, hosts.c.id == miners.c.host_id)
    rows = conn.execute(query).all()
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 10
    return GridColumns(*columns)


def site_totals(conn: Connection, now: datetime, offline_after_s: float) -> list[SiteTotals]:
    """Every site (those without miners too), by name."""
    status = _effective_status(now, offline_after_s)
    up = status != str(MinerStatus.OFFLINE)

    def live(column: ColumnElement[float | None]) -> ColumnElement[float]:
        return func.coalesce(func.sum(case((up, column), else_=literal(0.0))), 0.0)

    per_site = (
        select(
            sentries.c.site_id,
            func.count(miners.c.id).label("miners"),
            *(func.sum(case((status == str(s), 1), else_=0)).label(str(s)) for s in MinerStatus),
            live(miner_state.c.hashrate_hs).label("hashrate"),
            live(miner_state.c.hashrate_expected_hs).label("expected"),
            live(miner_state.c.power_w).label("power"),
        )
        .select_from(miners)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .group_by(sentries.c.site_id)
        .subquery()
    )
    sentry_counts = (
        select(sentries.c.site_id, func.count().label("n")).group_by(sentries.c.site_id).subquery()
    )
    query = (
        select(sites.c.id, sites.c.name, sentry_counts.c.n, per_site)
        .outerjoin(per_site, per_site.c.site_id == sites.c.id)
        .outerjoin(sentry_counts, sentry_counts.c.site_id == sites.c.id)
        .order_by(sites.c.name)
    )
    return [
        SiteTotals(
            id=int(r["id"]),
            name=str(r["name"]),
            sentries=int(r["n"] or 0),
            miners=int(r["miners"] or 0),
            online=int(r[str(MinerStatus.ONLINE)] or 0),
            warning=int(r[str(MinerStatus.WARNING)] or 0),
            offline=int(r[str(MinerStatus.OFFLINE)] or 0),
            hashrate_hs=float(r["hashrate"] or 0.0),
            hashrate_expected_hs=float(r["expected"] or 0.0),
            power_w=float(r["power"] or 0.0),
        )
        for r in conn.execute(query).mappings()
    ]


def site_names(conn: Connection) -> list[str]:
    """Every site's name, sorted."""
    return [str(r.name) for r in conn.execute(select(sites.c.name).order_by(sites.c.name))]


def tag_counts(conn: Connection) -> list[TagCount]:
    """Every tag in use with how many miners carry it, most used first."""
    counts: Counter[str] = Counter()
    for row in conn.execute(select(miners.c.tags).where(miners.c.tags != "[]")):
        counts.update(set(jsontext.loads(row.tags) or ()))
    return [TagCount(tag, n) for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, 1-64 characters, no control characters; ValueError else."""
    cleaned = " ".join(tag.split())
    if not cleaned:
        raise ValueError("a tag must not be empty")
    if len(cleaned) > TAG_MAX_LEN:
        raise ValueError(f"a tag must be at most {TAG_MAX_LEN} characters")
    if any(not ch.isprintable() for ch in cleaned):
        raise ValueError("a tag must not hold control characters")
    return cleaned


def set_tags(
    conn: Connection, miner_ids: Iterable[int], add: Sequence[str], remove: Sequence[str]
) -> MinerChange:
    """Add `add` and remove `remove` on each miner (in the caller's transaction); a tag in
    both is removed. Tags keep their order; new ones go last. ValueError when a miner would
    carry more than `TAGS_PER_MINER` tags (nothing is changed then)."""
    wanted = sorted(set(miner_ids))
    adding = [clean_tag(t) for t in add]
    removing = {clean_tag(t) for t in remove}
    found: dict[int, list[str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in conn.execute(select(miners.c.id, miners.c.tags).where(miners.c.id.in_(chunk))):
            found[int(row.id)] = list(jsontext.loads(row.tags) or ())
    updates: list[dict[str, object]] = []
    for mid, tags in found.items():
        new = [t for t in tags if t not in removing]
        for t in adding:
            if t not in removing and t not in new:
                new.append(t)
        if len(new) > TAGS_PER_MINER:
            raise ValueError(f"miner {mid} would carry {len(new)} tags; at most {TAGS_PER_MINER}")
        if new != tags:
            updates.append({"mid": mid, "tags": jsontext.dumps(new)})
    if updates:
        conn.execute(
            update(miners).where(miners.c.id == bindparam("mid")).values(tags=bindparam("tags")),
            updates,
        )
    return MinerChange(
        matched=len(found),
        changed=len(updates),
        missing=tuple(m for m in wanted if m not in found),
    )


def clean_rack(rack: str | None) -> str | None:
    """A rack as stored: trimmed, at most 100 characters, no control characters; None (or
    only spaces) takes the miners out of any rack. ValueError else."""
    if rack is None:
        return None
    cleaned = " ".join(rack.split())
    if not cleaned:
        return None
    if len(cleaned) > RACK_MAX_LEN:
        raise ValueError(f"a rack must be at most {RACK_MAX_LEN} characters")
    if any(not ch.isprintable() for ch in cleaned):
        raise ValueError("a rack must not hold control characters")
    return cleaned


def set_rack(conn: Connection, miner_ids: Iterable[int], rack: str | None) -> MinerChange:
    """Put each miner in `rack` (None: in none), in the caller's transaction. The grid
    groups by it; the sentries never set it, so a rack stays as people placed it."""
    wanted = sorted(set(miner_ids))
    placed = clean_rack(rack)
    found: dict[int, str | None] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in conn.execute(select(miners.c.id, miners.c.rack).where(miners.c.id.in_(chunk))):
            found[int(row.id)] = row.rack
    moving = [mid for mid, old in found.items() if old != placed]
    for start in range(0, len(moving), _CHUNK):
        chunk = moving[start : start + _CHUNK]
        conn.execute(update(miners).where(miners.c.id.in_(chunk)).values(rack=placed))
    return MinerChange(
        matched=len(found),
        changed=len(moving),
        missing=tuple(m for m in wanted if m not in found),
    )
