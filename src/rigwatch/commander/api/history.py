"""History API: daily snapshots, period comparisons, and the admin's snapshot controls.

Comparisons take today's snapshot in progress (built on the fly, not stored: means so
far, the miners' status now) as the current side and the stored snapshots as the past,
so a report never waits for tonight's snapshot.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin, Viewer
from rigwatch.domain.comparisons import (
    DAYS_BACK,
    MetricComparison,
    Period,
    Window,
    compare,
    history_span,
)
from rigwatch.domain.history import ModelCount, Snapshot, SnapshotRevenue, SnapshotSource
from rigwatch.domain.profit import Basis
from rigwatch.store import auth as store_auth
from rigwatch.store import snapshots as store

router = APIRouter(tags=["history"])

MAX_RANGE_DAYS = store.MAX_BACKFILL_DAYS


class RevenueOut(BaseModel):
    """The farm's revenue on the day, after the pool's fee. Unknown is null, never 0."""

    sat: int | None = Field(
        description="Satoshis: actual = received by the farm's BTC wallets (exact); "
        "expected = from the hashes done and the odds, rounded to a satoshi; null when unknown"
    )
    basis: Basis = Field(description="actual, expected or unknown")
    chain_payouts: dict[str, int] = Field(
        description="Received on the chain that day per coin (all wallets), atomic units (exact)"
    )
    currency: str = Field(description="Currency of `price` and `fiat`")
    price: float | None = Field(description="The day's mean Bitcoin price; null when unknown")
    fiat: float | None = Field(description="`sat` at `price`; null when either is unknown")

    @classmethod
    def of(cls, revenue: SnapshotRevenue) -> RevenueOut:
        return cls(
            sat=revenue.sat,
            basis=revenue.basis,
            chain_payouts=dict(revenue.chain_payouts),
            currency=revenue.currency,
            price=revenue.price,
            fiat=revenue.fiat,
        )


class SnapshotOut(BaseModel):
    """One UTC day of the farm. Figures the store could not know are null, not zero."""

    day: date
    taken_at: datetime
    in_progress: bool = Field(description="Taken before the day ended (today so far)")
    partial: bool = Field(description="The day's data is incomplete (in progress, or no rollups)")
    source: SnapshotSource = Field(description="Rollup resolution the level figures came from")
    hashrate_mean_hs: float | None
    expected_mean_hs: float | None
    power_mean_w: float | None
    energy_kwh: float | None
    efficiency_j_th: float | None
    uptime_pct: float | None
    miners_total: int
    miners_online: int
    miners_warning: int
    miners_offline: int
    accepted: int | None
    rejected: int | None
    shares_found: int
    blocks_found: int
    by_model: list[ModelCount]
    payouts: dict[str, int] = Field(description="Per coin, in atomic units (exact)")
    revenue: RevenueOut | None = Field(
        description="The day's farm revenue; null for a snapshot taken before revenue was kept"
    )

    @classmethod
    def of(cls, snap: Snapshot) -> SnapshotOut:
        end = datetime.combine(snap.day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return cls(
            day=snap.day,
            taken_at=snap.taken_at,
            in_progress=snap.taken_at < end,
            partial=snap.partial,
            source=snap.source,
            hashrate_mean_hs=snap.hashrate_mean_hs,
            expected_mean_hs=snap.expected_mean_hs,
            power_mean_w=snap.power_mean_w,
            energy_kwh=snap.energy_kwh,
            efficiency_j_th=snap.efficiency_j_th,
            uptime_pct=snap.uptime_pct,
            miners_total=snap.miners_total,
            miners_online=snap.miners_online,
            miners_warning=snap.miners_warning,
            miners_offline=snap.miners_offline,
            accepted=snap.accepted,
            rejected=snap.rejected,
            shares_found=snap.shares_found,
            blocks_found=snap.blocks_found,
            by_model=list(snap.by_model),
            payouts=dict(snap.payouts),
            revenue=None if snap.revenue is None else RevenueOut.of(snap.revenue),
        )


class ComparisonOut(BaseModel):
    """Each metric now and then: level metrics against the snapshot `days_back` days
    ago, sum metrics (shares, blocks, energy, payouts, revenue) over `current_window`
    against `previous_window`. `partial_data` when a snapshot they need is missing or
    incomplete; `unavailable` names the metrics with a side unknown (null, not zero).
    Revenue (`revenue_sat`, satoshis) is unavailable for a window with a day of unknown
    revenue, and says whether its figures are actual, expected or mixed (`basis`,
    `current_basis`, `past_basis`)."""

    period: Period
    days_back: int
    today: date
    past_day: date
    current_source: SnapshotSource = Field(description="Where today's figures came from")
    partial_data: bool
    unavailable: list[str]
    current_window: Window
    previous_window: Window
    metrics: list[MetricComparison]


class BackfillOut(BaseModel):
    days: int
    taken: list[date] = Field(description="Days rebuilt from the rollups")
    skipped: list[date] = Field(description="Missing days with no rollups to rebuild from")


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/history/snapshots", response_model=list[SnapshotOut])
def snapshots(
    _: Viewer, rw: RW, limit: Annotated[int, Query(ge=1, le=MAX_RANGE_DAYS)] = 30
) -> list[SnapshotOut]:
    """The newest stored snapshots, newest first."""
    return [SnapshotOut.of(s) for s in rw.read(lambda c: store.list_snapshots(c, limit))]


@router.get("/history/range", response_model=list[SnapshotOut])
def snapshot_range(_: Viewer, rw: RW, start: date, end: date) -> list[SnapshotOut]:
    """Stored snapshots of the days `start`..`end` (inclusive), oldest first; days
    without one are absent."""
    if start > end:
        raise HTTPException(422, "`start` is after `end`")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise HTTPException(422, f"a range is at most {MAX_RANGE_DAYS} days")
    return [SnapshotOut.of(s) for s in rw.read(lambda c: store.snapshot_range(c, start, end))]


@router.get("/history/snapshot/{day}", response_model=SnapshotOut, responses={404: {}})
def snapshot(_: Viewer, rw: RW, day: date) -> SnapshotOut:
    """The stored snapshot of one UTC day (YYYY-MM-DD)."""
    found = rw.read(lambda c: store.get_snapshot(c, day))
    if found is None:
        raise HTTPException(404, f"no snapshot of {day.isoformat()}")
    return SnapshotOut.of(found)


@router.get("/analytics/comparison", response_model=ComparisonOut)
def comparison(_: Viewer, rw: RW, period: Period = Period.D) -> ComparisonOut:
    """Today so far against 1 / 7 / 30 / 90 / 365 days back (D / W / M / Q / Y): for each
    metric the current and past value, change, percent (null for a zero past) and
    trend. Sums compare this period so far with the same span of the previous one."""
    now = _now()
    today = now.date()
    first, last = history_span(period, today)

    def read(conn: Connection) -> tuple[Snapshot, list[Snapshot]]:
        current = store.build_snapshot(
            conn, today, now, offline_after_s=rw.settings.offline_after_s
        )
        return current, store.snapshot_range(conn, first, last)

    current, past = rw.read(read)
    result = compare(period, current, {s.day: s for s in past})
    return ComparisonOut(
        period=period,
        days_back=DAYS_BACK[period],
        today=result.today,
        past_day=result.past_day,
        current_source=current.source,
        partial_data=result.partial_data,
        unavailable=list(result.unavailable),
        current_window=result.current_window,
        previous_window=result.previous_window,
        metrics=list(result.metrics),
    )


@router.post("/admin/snapshot", response_model=SnapshotOut, responses={422: {}})
def take_snapshot(
    who: Admin,
    rw: RW,
    day: Annotated[date | None, Query(description="UTC day; default today so far")] = None,
) -> SnapshotOut:
    """Take (or retake) a day's snapshot now; today's is marked in progress and is
    taken again by the nightly job once the day has ended."""
    now = _now()
    wanted = day or now.date()
    if wanted > now.date():
        raise HTTPException(422, f"{wanted.isoformat()} has not begun yet")

    def change(conn: Connection) -> Snapshot:
        snap = store.take_snapshot(conn, wanted, now, offline_after_s=rw.settings.offline_after_s)
        store_auth.audit(conn, who.name, "snapshot.take", wanted.isoformat())
        return snap

    return SnapshotOut.of(rw.change(change))


@router.post("/admin/snapshots/backfill", response_model=BackfillOut)
def backfill(
    who: Admin,
    rw: RW,
    days: Annotated[int, Query(ge=1, le=store.MAX_BACKFILL_DAYS)] = 30,
) -> BackfillOut:
    """Rebuild the missing (or incomplete) snapshots of the last `days` days before
    today from the rollups; days no rollup covers are reported as skipped."""
    now = _now()

    def change(conn: Connection) -> store.BackfillResult:
        result = store.backfill(conn, days, now, offline_after_s=rw.settings.offline_after_s)
        detail = f"taken {len(result.taken)}, skipped {len(result.skipped)}"
        store_auth.audit(conn, who.name, "snapshot.backfill", f"{days} days", detail)
        return result

    result = rw.change(change)
    return BackfillOut(days=days, taken=list(result.taken), skipped=list(result.skipped))
