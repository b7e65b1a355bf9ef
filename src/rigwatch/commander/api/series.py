"""`GET /api/v1/series`: history for the charts and the CSV export, at the coarsest
resolution that fills the points asked for (see `store.series`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from rigwatch.commander.api.farm import aware
from rigwatch.commander.auth import RW, Viewer
from rigwatch.store import series as store_series
from rigwatch.store.series import Metric

router = APIRouter(tags=["history"])

MAX_POINTS = 5000
MAX_WINDOW = timedelta(days=366 * 20)
SCOPE_PATTERN = r"^(farm|site:\d{1,9}|miner:\d{1,9})$"


class SeriesPointOut(BaseModel):
    t: datetime = Field(description="Start of the point's interval (UTC).")
    value: float | None = Field(description="Mean (shares: accepted sum); null = no data.")
    min: float | None = None
    max: float | None = None
    expected: float | None = Field(default=None, description="Expected hashrate (hashrate).")
    up: float | None = Field(default=None, description="Covered fraction of the interval.")
    rejected: int | None = None
    stale: int | None = None


class SeriesOut(BaseModel):
    scope: str
    metric: Metric
    unit: str
    resolution: Literal["raw", "5m", "1h", "1d"]
    step_s: float = Field(description="Seconds per point (raw: the usual poll gap).")
    start: datetime
    end: datetime
    points: list[SeriesPointOut]


@router.get("/series", response_model=SeriesOut, responses={404: {}, 422: {}})
def series(
    _: Viewer,
    rw: RW,
    metric: Metric,
    scope: Annotated[str, Query(max_length=32, pattern=SCOPE_PATTERN)] = "farm",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    points: Annotated[int, Query(ge=2, le=MAX_POINTS)] = 500,
) -> SeriesOut:
    """About `points` points of `metric` for the farm, a site or a miner; default window:
    the last 24 hours. Gaps are null, never zero."""
    end_ts = aware(end) or datetime.now(UTC)
    start_ts = aware(start) or end_ts - timedelta(hours=24)
    if start_ts >= end_ts:
        raise HTTPException(422, "`from` must be before `to`")
    if end_ts - start_ts > MAX_WINDOW:
        raise HTTPException(422, "the window is longer than 20 years")
    where = store_series.parse_scope(scope)
    if not rw.read(lambda c: store_series.scope_exists(c, where)):
        raise HTTPException(404, f"no {where.kind} {where.id}")
    found = rw.read(lambda c: store_series.read_series(c, where, metric, start_ts, end_ts, points))
    return SeriesOut(
        scope=found.scope,
        metric=found.metric,
        unit=found.unit,
        resolution=found.resolution,
        step_s=found.step_s,
        start=found.start,
        end=found.end,
        points=[
            SeriesPointOut(
                t=p.ts,
                value=p.value,
                min=p.min,
                max=p.max,
                expected=p.expected,
                up=p.up,
                rejected=p.rejected,
                stale=p.stale,
            )
            for p in found.points
        ],
    )
