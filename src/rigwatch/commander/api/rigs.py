"""Read API for rigs' hosts and P2Pool nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from rigwatch.commander.api.farm import aware
from rigwatch.commander.auth import RW, Viewer
from rigwatch.domain.host import HostSample
from rigwatch.domain.p2pool import P2PoolStats
from rigwatch.domain.views import HostView, P2PoolNodeView
from rigwatch.store import rig_queries

router = APIRouter(tags=["rigs"])


class HostSamplePage(BaseModel):
    host_id: int
    items: list[HostSample]


class P2PoolHistory(BaseModel):
    node: str
    items: list[P2PoolStats]


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end_ts = aware(end) or datetime.now(UTC)
    start_ts = aware(start) or end_ts - timedelta(hours=1)
    if start_ts > end_ts:
        raise HTTPException(422, "`from` is after `to`")
    return start_ts, end_ts


@router.get("/hosts", response_model=list[HostView])
def hosts(_: Viewer, rw: RW) -> list[HostView]:
    """Every host with its newest health reading and the rigs that run on it."""
    return rw.read(rig_queries.list_hosts)


@router.get("/hosts/{host_id}", response_model=HostView, responses={404: {}})
def host(host_id: int, _: Viewer, rw: RW) -> HostView:
    found = rw.read(lambda c: rig_queries.list_hosts(c, host_id))
    if not found:
        raise HTTPException(404, f"no host {host_id}")
    return found[0]


@router.get("/hosts/{host_id}/samples", response_model=HostSamplePage, responses={404: {}})
def host_samples(
    host_id: int,
    _: Viewer,
    rw: RW,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> HostSamplePage:
    """Raw health readings, oldest first. Default window: the last hour."""
    start_ts, end_ts = _window(start, end)
    if not rw.read(lambda c: rig_queries.list_hosts(c, host_id)):
        raise HTTPException(404, f"no host {host_id}")
    rows = rw.read(lambda c: rig_queries.host_history(c, host_id, start_ts, end_ts, limit))
    return HostSamplePage(host_id=host_id, items=rows)


@router.get("/p2pool", response_model=list[P2PoolNodeView])
def p2pool_nodes(_: Viewer, rw: RW) -> list[P2PoolNodeView]:
    """The newest data-API reading of every P2Pool node the sentries watch."""
    return rw.read(rig_queries.p2pool_nodes)


@router.get("/p2pool/history", response_model=P2PoolHistory)
def p2pool_history(
    _: Viewer,
    rw: RW,
    node: Annotated[str, Query(min_length=1, max_length=200)],
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> P2PoolHistory:
    start_ts, end_ts = _window(start, end)
    rows = rw.read(lambda c: rig_queries.p2pool_history(c, node, start_ts, end_ts, limit))
    return P2PoolHistory(node=node, items=rows)
