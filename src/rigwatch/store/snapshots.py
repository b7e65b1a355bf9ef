"""Daily farm snapshots: built from the rollups and the event stream, one row per UTC day.

A snapshot is read by reports a year later, so it is built from what lasts: the
farm rollup of the day (`fleet_rollup_1d`, or the hourly and 5-minute rows while the
day row is not there yet), per-miner day rollups for the miners by model and, for a
past day, by status (a miner that reported that day counted online, or warning when
its day mean fell short of expected), and the events for shares, blocks and payouts.
Only today's snapshot reads the miners' live state, since that is what "now" means.

Revenue is the farm's row of `store.profit` for the day (satoshis after the pool's fee,
actual / expected / unknown, and its value in USD at the day's price) with what the
wallets received on the chain per coin (`store.payouts.daily_revenue`).

Taking a snapshot again replaces its row (a late spool replay fixed the rollups), but
never with a less known revenue: an actual revenue stays when the retake finds only an
expected or unknown one (`domain.history.kept_revenue`), while an unknown or expected
one is filled in by a retake that knows better. The job retakes a day of the last week
once every BTC wallet has synced past its end and its revenue is not yet actual. A day
with no rollup data keeps its level figures None and is flagged `partial`, as is a day
not yet over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, case, func, select
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.history import (
    ModelCount,
    Snapshot,
    SnapshotRevenue,
    SnapshotSource,
    kept_revenue,
)
from rigwatch.domain.models import MinerStatus
from rigwatch.domain.profit import Basis
from rigwatch.domain.status import DEFAULT_LIMITS, efficiency_j_per_th
from rigwatch.store import jsontext
from rigwatch.store import profit as store_profit
from rigwatch.store.aggregates import DailyTotal, TotalBy, TotalKind, daily_totals
from rigwatch.store.dialect import insert_for
from rigwatch.store.payouts import daily_revenue
from rigwatch.store.queries import farm_summary
from rigwatch.store.tables import (
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    miner_state,
    miners,
    rollup_1d,
    rollup_1h,
    rollup_5m,
    rollup_pending,
    rollup_state,
    snapshots,
    wallets,
)
from rigwatch.store.timestamps import from_us, to_us

FARM_SCOPE = "farm"
DAY_S = 86400
DAY_US = DAY_S * 1_000_000
TAKE_AFTER = time(0, 5)  # the rollup job has had five minutes to close the day
CATCH_UP_DAYS = 7  # the job also fills days it never took, this far back
MAX_BACKFILL_DAYS = 3660
DEFAULT_OFFLINE_AFTER_S = 120.0
UNKNOWN_MODEL = "unknown"
REVENUE_CURRENCY = "USD"
REVENUE_COIN = "BTC"
ROLLUP_WATERMARK = "received_at"  # the rollup job's watermark in `rollup_state`


FLEET = {"1d": fleet_rollup_1d, "1h": fleet_rollup_1h, "5m": fleet_rollup_5m}
PER_MINER = {"1d": rollup_1d, "1h": rollup_1h, "5m": rollup_5m}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- farm figures ---------------------------------------------------------------------


@dataclass(slots=True)
class _Farm:
    """The day's farm figures from the fleet rollups (means over the rows present)."""

    source: SnapshotSource = SnapshotSource.NONE
    hashrate_mean: float | None = None
    expected_mean: float | None = None
    power_mean: float | None = None
    up_s: float | None = None
    accepted: int | None = None
    rejected: int | None = None


class _Weighted:
    """Mean of bucket means weighted by bucket length, skipping unknown values."""

    def __init__(self) -> None:
        self.total = 0.0
        self.weight = 0.0

    def add(self, value: float | None, seconds: float) -> None:
        if value is not None:
            self.total += float(value) * seconds
            self.weight += seconds

    @property
    def mean(self) -> float | None:
        return self.total / self.weight if self.weight else None


def _fleet_rows(conn: Connection, res: str, start_us: int, end_us: int) -> list[Row[Any]]:
    table = FLEET[res]
    query = (
        select(table)
        .where(table.c.scope == FARM_SCOPE, table.c.bucket >= start_us, table.c.bucket < end_us)
        .order_by(table.c.bucket)
    )
    return list(conn.execute(query))


def _farm(conn: Connection, day: date) -> _Farm:
    """The day's farm figures from the coarsest fleet rollup rows there are.

    The 1-day row when it exists; otherwise the hourly rows, then the 5-minute rows
    after the last hour (today, before its hours close), each weighted by its length.
    Like the rollup's own day row, a mean is over the buckets present: an hour with no
    row at all does not dilute it. Shares and up-seconds are sums.
    """
    start_us = to_us(day_start(day))
    end_us = start_us + DAY_US
    day_rows = _fleet_rows(conn, "1d", start_us, start_us + 1)
    if day_rows:
        rows = [(day_rows[0], float(DAY_S))]
        source = SnapshotSource.DAY
    else:
        hours = _fleet_rows(conn, "1h", start_us, end_us)
        rest_us = hours[-1].bucket + 3600 * 1_000_000 if hours else start_us
        fives = _fleet_rows(conn, "5m", rest_us, end_us)
        rows = [(r, 3600.0) for r in hours] + [(r, 300.0) for r in fives]
        source = SnapshotSource.HOUR if hours else SnapshotSource.FIVE_MIN
    if not rows:
        return _Farm()
    hashrate, expected, power = _Weighted(), _Weighted(), _Weighted()
    for row, seconds in rows:
        hashrate.add(row.hashrate_mean, seconds)
        expected.add(row.expected_mean, seconds)
        power.add(row.power_mean, seconds)
    return _Farm(
        source=source,
        hashrate_mean=hashrate.mean,
        expected_mean=expected.mean,
        power_mean=power.mean,
        up_s=float(sum(row.up_s or 0 for row, _s in rows)),
        accepted=int(sum(row.accepted or 0 for row, _s in rows)),
        rejected=int(sum(row.rejected or 0 for row, _s in rows)),
    )


# --- miners ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MinerDay:
    samples: int
    hashrate_mean: float | None
    expected_mean: float | None
    temp_max: float | None
    energy_j: float | None  # its mean power times the seconds it was up

    def status(self) -> MinerStatus:
        """Online when it reported and its day looked healthy; warning when short of
        its expected hashrate or too hot at its hottest; offline when it never reported."""
        if self.samples <= 0:
            return MinerStatus.OFFLINE
        short = (
            self.hashrate_mean is not None
            and self.expected_mean
            and self.hashrate_mean < DEFAULT_LIMITS.min_hashrate_ratio * self.expected_mean
        )
        hot = self.temp_max is not None and self.temp_max > DEFAULT_LIMITS.max_chip_temp_c
        return MinerStatus.WARNING if short or hot else MinerStatus.ONLINE


def _ratio(total: Any, weight: Any) -> float | None:
    return float(total) / float(weight) if weight else None


def _sample_weighted(table: Table, column: Any) -> tuple[Any, Any]:
    """SUM(value x samples) and the samples of rows with a value: a weighted mean."""
    known = case((column.is_(None), 0), else_=table.c.samples)
    return func.sum(column * table.c.samples), func.sum(known)


def _miner_days(conn: Connection, day: date) -> dict[int, _MinerDay]:
    """Per-miner figures of the day from the coarsest per-miner rollup that has rows;
    means over several rows weighted by their sample counts, as the rollup does."""
    start_us = to_us(day_start(day))
    for res in ("1d", "1h", "5m"):
        t = PER_MINER[res]
        query = (
            select(
                t.c.miner_id,
                func.sum(t.c.samples),
                *_sample_weighted(t, t.c.hashrate_mean),
                *_sample_weighted(t, t.c.expected_mean),
                func.max(t.c.temp_max),
                func.sum(t.c.power_mean * t.c.up_s),
                func.count(t.c.power_mean),
            )
            .where(t.c.bucket >= start_us, t.c.bucket < start_us + DAY_US)
            .group_by(t.c.miner_id)
        )
        found = {
            int(r[0]): _MinerDay(
                samples=int(r[1] or 0),
                hashrate_mean=_ratio(r[2], r[3]),
                expected_mean=_ratio(r[4], r[5]),
                temp_max=None if r[6] is None else float(r[6]),
                energy_j=float(r[7]) if r[8] else None,
            )
            for r in conn.execute(query)
        }
        if found:
            return found
    return {}


def _known_miners(conn: Connection, before_us: int) -> list[tuple[int, str]]:
    """(id, model) of the miners first seen before the day's end."""
    query = select(miners.c.id, miners.c.model).where(miners.c.first_seen < before_us)
    return [(int(r.id), r.model or UNKNOWN_MODEL) for r in conn.execute(query)]


def _live_reporting(conn: Connection, now: datetime, offline_after_s: float) -> dict[int, float]:
    """Miners reporting now (by their last sample), with their latest hashrate."""
    cutoff = to_us(now - timedelta(seconds=offline_after_s))
    query = select(miner_state.c.miner_id, miner_state.c.hashrate_hs).where(
        miner_state.c.last_sample_ts >= cutoff,
        miner_state.c.status != str(MinerStatus.OFFLINE),
    )
    return {int(r.miner_id): float(r.hashrate_hs or 0.0) for r in conn.execute(query)}


def _by_model(
    known: list[tuple[int, str]], days: dict[int, _MinerDay], live: dict[int, float] | None
) -> tuple[ModelCount, ...]:
    """Miners per model; today a miner reporting now counts as reporting too."""
    groups: dict[str, list[int]] = {}
    for miner_id, model in known:
        groups.setdefault(model, []).append(miner_id)
    counts: list[ModelCount] = []
    for model, ids in sorted(groups.items()):
        reporting = [
            i
            for i in ids
            if (i in days and days[i].samples > 0) or (live is not None and i in live)
        ]
        means = [days[i].hashrate_mean for i in ids if i in days]
        known_means = [m for m in means if m is not None]
        if not known_means and live is not None and any(i in live for i in ids):
            known_means = [live[i] for i in ids if i in live]
        counts.append(
            ModelCount(
                model=model,
                miners=len(ids),
                reporting=len(reporting),
                hashrate_mean_hs=sum(known_means) if known_means else None,
            )
        )
    return tuple(counts)


# --- building and storing -------------------------------------------------------------


def _event_totals(
    conn: Connection, day: date
) -> tuple[list[DailyTotal], list[DailyTotal], list[DailyTotal]]:
    """The day's shares, blocks and payouts from `aggregates.daily_totals`."""
    return (
        daily_totals(conn, TotalKind.SHARES, TotalBy.FARM, day, day),
        daily_totals(conn, TotalKind.BLOCKS, TotalBy.FARM, day, day),
        daily_totals(conn, TotalKind.PAYOUTS, TotalBy.FARM, day, day),
    )


def _revenue(conn: Connection, day: date, now: datetime) -> SnapshotRevenue:
    """The day's farm revenue (today: so far) and what the wallets received."""
    row = store_profit.farm_day(conn, day, currency=REVENUE_CURRENCY, now=now)
    sat = row.profit.revenue_sat
    received = daily_revenue(conn, day.isoformat(), day.isoformat())
    return SnapshotRevenue.of(
        sat.value,
        sat.basis,
        chain_payouts={r.coin: r.amount_atomic for r in received},
        currency=REVENUE_CURRENCY,
        price=store_profit.day_price(conn, day, REVENUE_CURRENCY, now),
    )


def build_snapshot(
    conn: Connection,
    day: date,
    now: datetime,
    *,
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
) -> Snapshot:
    """The snapshot of `day` as the store knows it at `now`, without storing it.

    For today this is the snapshot in progress: means so far, counts so far, and the
    miners' status now; before the first rollup of the day it falls back to the live
    farm totals (source `live`). Uptime is the fleet's up-seconds over every known
    miner's share of the day so far (a miner silent all day counts as down); energy is
    each miner's mean power times the seconds it was up, summed.
    """
    if day > now.astimezone(UTC).date():
        raise ValueError(f"{day} has not begun yet")
    end = day_start(day) + timedelta(days=1)
    in_progress = now < end
    elapsed_s = (min(now, end) - day_start(day)).total_seconds()
    farm = _farm(conn, day)
    known = _known_miners(conn, to_us(end))
    days = _miner_days(conn, day)
    live = _live_reporting(conn, now, offline_after_s) if in_progress else None

    if in_progress:
        summary = farm_summary(conn, now, offline_after_s)
        total = summary.miners_total
        online, warning = summary.miners_online, summary.miners_warning
        offline = summary.miners_offline
        if farm.source is SnapshotSource.NONE and total:
            farm = _Farm(
                source=SnapshotSource.LIVE,
                hashrate_mean=summary.hashrate_hs,
                expected_mean=summary.hashrate_expected_hs,
                power_mean=summary.power_w,
            )
    else:
        statuses = [days[i].status() if i in days else MinerStatus.OFFLINE for i, _model in known]
        total = len(known)
        online = statuses.count(MinerStatus.ONLINE)
        warning = statuses.count(MinerStatus.WARNING)
        offline = statuses.count(MinerStatus.OFFLINE)

    uptime: float | None = None
    if farm.source is SnapshotSource.LIVE:
        uptime = 100.0 * (online + warning) / total if total else None
    elif farm.up_s is not None and total and elapsed_s > 0:
        uptime = min(100.0, 100.0 * farm.up_s / (total * elapsed_s))
    energies = [d.energy_j for d in days.values() if d.energy_j is not None]

    shares, blocks, payouts = _event_totals(conn, day)
    return Snapshot(
        day=day,
        taken_at=now,
        hashrate_mean_hs=farm.hashrate_mean,
        expected_mean_hs=farm.expected_mean,
        power_mean_w=farm.power_mean,
        energy_kwh=sum(energies) / 3.6e6 if energies else None,
        efficiency_j_th=efficiency_j_per_th(farm.power_mean, farm.hashrate_mean),
        uptime_pct=uptime,
        miners_total=total,
        miners_online=online,
        miners_warning=warning,
        miners_offline=offline,
        accepted=farm.accepted,
        rejected=farm.rejected,
        shares_found=sum(t.count for t in shares),
        blocks_found=sum(t.count for t in blocks),
        by_model=_by_model(known, days, live),
        payouts={
            t.coin: t.amount_atomic for t in payouts if t.coin and t.amount_atomic is not None
        },
        revenue=_revenue(conn, day, now),
        partial=in_progress or farm.source is SnapshotSource.NONE,
        source=farm.source,
    )


def _to_json(snap: Snapshot) -> dict[str, Any]:
    """The whole snapshot as JSON; atomic amounts as strings (exact beyond 2**63)."""
    return {
        "day": snap.day.isoformat(),
        "taken_at": snap.taken_at.isoformat(),
        "hashrate_mean_hs": snap.hashrate_mean_hs,
        "expected_mean_hs": snap.expected_mean_hs,
        "power_mean_w": snap.power_mean_w,
        "energy_kwh": snap.energy_kwh,
        "efficiency_j_th": snap.efficiency_j_th,
        "uptime_pct": snap.uptime_pct,
        "miners_total": snap.miners_total,
        "miners_online": snap.miners_online,
        "miners_warning": snap.miners_warning,
        "miners_offline": snap.miners_offline,
        "accepted": snap.accepted,
        "rejected": snap.rejected,
        "shares_found": snap.shares_found,
        "blocks_found": snap.blocks_found,
        "by_model": _models_json(snap.by_model),
        "payouts": _payouts_json(snap.payouts),
        "revenue": _revenue_json(snap.revenue),
        "partial": snap.partial,
        "source": str(snap.source),
    }


def _models_json(models: Iterable[ModelCount]) -> list[dict[str, Any]]:
    return [
        {
            "model": m.model,
            "miners": m.miners,
            "reporting": m.reporting,
            "hashrate_mean_hs": m.hashrate_mean_hs,
        }
        for m in models
    ]


def _payouts_json(payouts: Any) -> dict[str, str]:
    return {str(coin): str(int(amount)) for coin, amount in sorted(payouts.items())}


def _revenue_json(revenue: SnapshotRevenue | None) -> dict[str, Any] | None:
    """Revenue as JSON; satoshis and atomic amounts as strings (exact at any size)."""
    if revenue is None:
        return None
    return {
        "sat": None if revenue.sat is None else str(revenue.sat),
        "basis": str(revenue.basis),
        "chain_payouts": _payouts_json(revenue.chain_payouts),
        "currency": revenue.currency,
        "price": revenue.price,
        "fiat": revenue.fiat,
    }


def _revenue_of(data: Any) -> SnapshotRevenue | None:
    """A stored revenue; None for none, or for a shape this version does not know."""
    if not isinstance(data, dict) or "basis" not in data:
        return None
    sat = data.get("sat")
    return SnapshotRevenue(
        sat=None if sat is None else int(sat),
        basis=Basis(data["basis"]),
        chain_payouts={str(c): int(a) for c, a in (data.get("chain_payouts") or {}).items()},
        currency=str(data.get("currency") or REVENUE_CURRENCY),
        price=None if data.get("price") is None else float(data["price"]),
        fiat=None if data.get("fiat") is None else float(data["fiat"]),
    )


def _stored_revenue(conn: Connection, day: date) -> SnapshotRevenue | None:
    text = conn.execute(
        select(snapshots.c.revenue).where(snapshots.c.day == day.isoformat())
    ).scalar_one_or_none()
    return _revenue_of(jsontext.loads(text))


def store_snapshot(conn: Connection, snap: Snapshot) -> None:
    """Insert or replace the day's row; a stored revenue better known than the new one
    survives the retake (`kept_revenue`)."""
    table = snapshots
    revenue = kept_revenue(_stored_revenue(conn, snap.day), snap.revenue)
    if revenue != snap.revenue:
        snap = replace(snap, revenue=revenue)
    revenue_json = _revenue_json(snap.revenue)
    values = {
        "day": snap.day.isoformat(),
        "taken_at": to_us(snap.taken_at),
        "hashrate_mean_hs": snap.hashrate_mean_hs,
        "expected_mean_hs": snap.expected_mean_hs,
        "power_mean_w": snap.power_mean_w,
        "energy_kwh": snap.energy_kwh,
        "efficiency_j_th": snap.efficiency_j_th,
        "uptime_pct": snap.uptime_pct,
        "miners_total": snap.miners_total,
        "miners_online": snap.miners_online,
        "miners_warning": snap.miners_warning,
        "miners_offline": snap.miners_offline,
        "accepted": snap.accepted,
        "rejected": snap.rejected,
        "shares_found": snap.shares_found,
        "blocks_found": snap.blocks_found,
        "by_model": jsontext.dumps(_models_json(snap.by_model)),
        "payouts": jsontext.dumps(_payouts_json(snap.payouts)),
        "revenue": None if revenue_json is None else jsontext.dumps(revenue_json),
        "partial": snap.partial,
        "data": jsontext.dumps(_to_json(snap)),
    }
    insert = insert_for(conn, table).values(**values)
    update: dict[str, Any] = {k: insert.excluded[k] for k in values if k != "day"}
    conn.execute(insert.on_conflict_do_update(index_elements=[table.c.day], set_=update))


def take_snapshot(
    conn: Connection,
    day: date,
    now: datetime,
    *,
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
) -> Snapshot:
    """Build the day's snapshot and store it, replacing an earlier one (idempotent)."""
    snap = build_snapshot(conn, day, now, offline_after_s=offline_after_s)
    store_snapshot(conn, snap)
    stored = get_snapshot(conn, day)
    return stored if stored is not None else snap


# --- reading --------------------------------------------------------------------------


def _from_row(row: Row[Any]) -> Snapshot:
    data = jsontext.loads(row.data) or {}
    return Snapshot(
        day=date.fromisoformat(row.day),
        taken_at=from_us(row.taken_at),
        hashrate_mean_hs=row.hashrate_mean_hs,
        expected_mean_hs=row.expected_mean_hs,
        power_mean_w=row.power_mean_w,
        energy_kwh=row.energy_kwh,
        efficiency_j_th=row.efficiency_j_th,
        uptime_pct=row.uptime_pct,
        miners_total=row.miners_total,
        miners_online=row.miners_online,
        miners_warning=row.miners_warning,
        miners_offline=row.miners_offline,
        accepted=row.accepted,
        rejected=row.rejected,
        shares_found=row.shares_found,
        blocks_found=row.blocks_found,
        by_model=tuple(
            ModelCount(
                model=str(m["model"]),
                miners=int(m["miners"]),
                reporting=int(m["reporting"]),
                hashrate_mean_hs=m.get("hashrate_mean_hs"),
            )
            for m in jsontext.loads(row.by_model) or []
        ),
        payouts={str(c): int(a) for c, a in (jsontext.loads(row.payouts) or {}).items()},
        revenue=_revenue_of(jsontext.loads(row.revenue)),
        partial=bool(row.partial),
        source=SnapshotSource(data.get("source", SnapshotSource.NONE)),
    )


def get_snapshot(conn: Connection, day: date) -> Snapshot | None:
    table = snapshots
    row = conn.execute(select(table).where(table.c.day == day.isoformat())).one_or_none()
    return None if row is None else _from_row(row)


def list_snapshots(conn: Connection, limit: int = 30) -> list[Snapshot]:
    """The newest `limit` snapshots, newest first."""
    table = snapshots
    query = select(table).order_by(table.c.day.desc()).limit(max(1, limit))
    return [_from_row(r) for r in conn.execute(query)]


def snapshot_range(conn: Connection, start: date, end: date) -> list[Snapshot]:
    """Snapshots of the days [start, end], oldest first ('YYYY-MM-DD' sorts as dates)."""
    table = snapshots
    query = (
        select(table)
        .where(table.c.day >= start.isoformat(), table.c.day <= end.isoformat())
        .order_by(table.c.day)
    )
    return [_from_row(r) for r in conn.execute(query)]


def missing_days(conn: Connection, days: Iterable[date]) -> list[date]:
    """Those of `days` with no snapshot, or only a partial one (taken before the day
    ended, or when no rollup covered it), oldest first."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    table = snapshots
    complete = {
        r.day
        for r in conn.execute(
            select(table.c.day).where(
                table.c.day >= wanted[0].isoformat(),
                table.c.day <= wanted[-1].isoformat(),
                table.c.partial.is_(False),
            )
        )
    }
    return [d for d in wanted if d.isoformat() not in complete]


def _days_with_rollups(conn: Connection, days: Iterable[date]) -> set[date]:
    """Those of `days` with a farm rollup row (something to rebuild from); one query per
    resolution over their span."""
    wanted = set(days)
    if not wanted:
        return set()
    start_us = to_us(day_start(min(wanted)))
    end_us = to_us(day_start(max(wanted)) + timedelta(days=1))
    found: set[date] = set()
    for res in ("1d", "1h", "5m"):
        table = FLEET[res]
        query = (
            select(table.c.bucket // DAY_US)
            .where(table.c.scope == FARM_SCOPE, table.c.bucket >= start_us, table.c.bucket < end_us)
            .distinct()
        )
        found |= {from_us(int(r[0]) * DAY_US).date() for r in conn.execute(query)}
    return found & wanted


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """Days rebuilt, and missing days left alone because no rollup covers them."""

    taken: tuple[date, ...]
    skipped: tuple[date, ...]


def _past_days(now: datetime, days: int) -> Iterator[date]:
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    for back in range(days - 1, -1, -1):
        yield yesterday - timedelta(days=back)


def backfill(
    conn: Connection,
    days: int,
    now: datetime,
    *,
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
) -> BackfillResult:
    """Rebuild the missing snapshots of the `days` days before today from the rollups."""
    if not 1 <= days <= MAX_BACKFILL_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_BACKFILL_DAYS}")
    taken: list[date] = []
    skipped: list[date] = []
    missing = missing_days(conn, _past_days(now, days))
    covered = _days_with_rollups(conn, missing)
    for day in missing:
        if day in covered:
            take_snapshot(conn, day, now, offline_after_s=offline_after_s)
            taken.append(day)
        else:
            skipped.append(day)
    return BackfillResult(tuple(taken), tuple(skipped))


def _rolled_up_to(conn: Connection, end_us: int) -> bool:
    """Whether the rollup job has accounted for every batch received before `end_us`
    and left no bucket before it pending; true before its first run (nothing to wait
    for: the snapshot is then taken from what there is, partial, and retried)."""
    watermark = conn.execute(
        select(rollup_state.c.value).where(rollup_state.c.name == ROLLUP_WATERMARK)
    ).scalar_one_or_none()
    if watermark is None:
        return True
    if watermark < end_us:
        return False
    behind = conn.execute(
        select(rollup_pending.c.bucket).where(rollup_pending.c.bucket < end_us).limit(1)
    ).first()
    return behind is None


def _wallets_synced_to(conn: Connection) -> int | None:
    """The time every BTC wallet has synced to (the oldest last success), or None when
    there is no BTC wallet or one never synced: a day ended by then has an actual
    revenue (`store.profit`)."""
    row = conn.execute(
        select(
            func.count(), func.min(wallets.c.last_success_at), func.count(wallets.c.last_success_at)
        ).where(wallets.c.coin == REVENUE_COIN)
    ).one()
    count, oldest, synced = int(row[0]), row[1], int(row[2])
    if not count or synced < count or oldest is None:
        return None
    return int(oldest)


def _revenue_basis(text: str | None) -> Basis | None:
    revenue = _revenue_of(jsontext.loads(text))
    return None if revenue is None else revenue.basis


def snapshot_job(
    conn: Connection, now: datetime, *, offline_after_s: float = DEFAULT_OFFLINE_AFTER_S
) -> list[date]:
    """The scheduler's job: after 00:05 UTC, take the day just ended unless it has a
    complete snapshot (a snapshot taken while the day ran, or before the rollups
    reached it, is retaken), and fill days of the last week that never got one and
    have rollups; but wait while the rollup job has not yet reached the end of the
    day. A day of the last week whose revenue is not actual is retaken once every BTC
    wallet has synced past its end (the payouts are in: its revenue becomes actual).
    One read of at most a week of snapshot keys (and, when a revenue there is not
    actual, one of the wallets) when nothing is missing. Returns the days taken,
    oldest first."""
    now = now.astimezone(UTC)
    if now.time() < TAKE_AFTER:
        return []
    week = list(_past_days(now, CATCH_UP_DAYS))
    yesterday = week[-1]
    table = snapshots
    rows = list(
        conn.execute(
            select(table.c.day, table.c.partial, table.c.revenue).where(
                table.c.day >= week[0].isoformat(), table.c.day <= yesterday.isoformat()
            )
        )
    )
    stored = {date.fromisoformat(r.day): bool(r.partial) for r in rows}
    todo = {yesterday} if stored.get(yesterday, True) else set()
    never = [d for d in week[:-1] if d not in stored]
    todo |= _days_with_rollups(conn, never)
    not_actual = [
        date.fromisoformat(r.day) for r in rows if _revenue_basis(r.revenue) is not Basis.ACTUAL
    ]
    if not_actual:
        synced_to = _wallets_synced_to(conn)
        if synced_to is not None:
            todo |= {d for d in not_actual if to_us(day_start(d)) + DAY_US <= synced_to}
    if todo and not _rolled_up_to(conn, to_us(day_start(yesterday)) + DAY_US):
        return []  # the rollup job is behind: a snapshot now would miss part of the day
    for day in sorted(todo):
        take_snapshot(conn, day, now, offline_after_s=offline_after_s)
    return sorted(todo)
