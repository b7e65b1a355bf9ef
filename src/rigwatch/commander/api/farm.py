"""Read API: farm summary, miners, their samples, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from rigwatch.commander.auth import RW, Viewer
from rigwatch.domain.models import EventKind, MinerKind, MinerStatus
from rigwatch.domain.views import EventRow, FarmSummary, MinerDetail, MinerRow, SampleRow
from rigwatch.store import queries
from rigwatch.store.queries import MinerQuery

router = APIRouter(tags=["farm"])

SORTS = Literal[
    "hashrate",
    "-hashrate",
    "temp",
    "-temp",
    "power",
    "-power",
    "hostname",
    "-hostname",
    "ip",
    "-ip",
    "status",
    "-status",
    "last_seen",
    "-last_seen",
    "model",
    "-model",
]


class MinerPage(BaseModel):
    items: list[MinerRow]
    total: int
    limit: int
    offset: int


class SamplePage(BaseModel):
    miner_id: int
    items: list[SampleRow]


def aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@router.get("/summary", response_model=FarmSummary)
def summary(_: Viewer, rw: RW) -> FarmSummary:
    """Farm totals now: H/s, miners by status, power, J/TH, temps, last hour's shares."""
    now = datetime.now(UTC)
    return rw.read(lambda c: queries.farm_summary(c, now, rw.settings.offline_after_s))


@router.get("/miners", response_model=MinerPage)
def miners(
    _: Viewer,
    rw: RW,
    status: MinerStatus | None = None,
    kind: MinerKind | None = None,
    make: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100, description="free text")] = None,
    site: Annotated[str | None, Query(max_length=100, description="site name")] = None,
    sort: SORTS = "hostname",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MinerPage:
    query = MinerQuery(
        status=status,
        kind=kind,
        make=make,
        model=model,
        tag=tag,
        text=q,
        site=site,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    now = datetime.now(UTC)
    items, total = rw.read(
        lambda c: queries.list_miners(c, query, now, rw.settings.offline_after_s)
    )
    return MinerPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/miners/{miner_id}", response_model=MinerDetail, responses={404: {}})
def miner(miner_id: int, _: Viewer, rw: RW) -> MinerDetail:
    now = datetime.now(UTC)
    found = rw.read(lambda c: queries.get_miner(c, miner_id, now, rw.settings.offline_after_s))
    if found is None:
        raise HTTPException(404, f"no miner {miner_id}")
    return found


@router.get("/miners/{miner_id}/samples", response_model=SamplePage, responses={404: {}})
def samples(
    miner_id: int,
    _: Viewer,
    rw: RW,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> SamplePage:
    """Raw samples, oldest first. Default window: the last hour."""
    end_ts = aware(end) or datetime.now(UTC)
    start_ts = aware(start) or end_ts - timedelta(hours=1)
    if start_ts > end_ts:
        raise HTTPException(422, "`from` is after `to`")
    now = datetime.now(UTC)
    if rw.read(lambda c: queries.get_miner(c, miner_id, now, rw.settings.offline_after_s)) is None:
        raise HTTPException(404, f"no miner {miner_id}")
    rows = rw.read(lambda c: queries.miner_samples(c, miner_id, start_ts, end_ts, limit))
    return SamplePage(miner_id=miner_id, items=rows)


@router.get("/events", response_model=list[EventRow])
def events(
    _: Viewer,
    rw: RW,
    kind: Annotated[list[EventKind] | None, Query()] = None,
    miner_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventRow]:
    """Newest first; page backwards with `before_id`."""
    return rw.read(
        lambda c: queries.list_events(
            c, kinds=kind, miner_id=miner_id, since=aware(since), before_id=before_id, limit=limit
        )
    )
