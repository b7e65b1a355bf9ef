"""Fleet views for the dashboard: sites and tags with their totals, the miners that need
attention, every miner as a grid cell, and tags or racks changed on many miners at once.

Viewers read; operators and admins tag and place miners in racks (audited; a browser
sends its CSRF token as for every mutating call).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Operator, Viewer
from rigwatch.domain.models import MinerKind, MinerStatus
from rigwatch.store import auth as store_auth
from rigwatch.store import fleet as store_fleet
from rigwatch.store import jsontext
from rigwatch.store.fleet import MinerChange, Problems, SiteTotals, TagCount
from rigwatch.store.queries import MinerQuery

router = APIRouter(tags=["fleet"])

MAX_TAG_IDS = 10_000
MAX_TAGS_PER_CALL = 16
PROBLEMS_LIMIT = 12


@router.get("/sites", response_model=list[SiteTotals])
def list_sites(_: Viewer, rw: RW) -> list[SiteTotals]:
    """Every site: its sentries, its miners by status, and the hashrate, expected hashrate
    and power of those not offline (H/s, W)."""
    now = datetime.now(UTC)
    return rw.read(lambda c: store_fleet.site_totals(c, now, rw.settings.offline_after_s))


@router.get("/tags", response_model=list[TagCount])
def list_tags(_: Viewer, rw: RW) -> list[TagCount]:
    """Every tag in use and how many miners carry it, most used first."""
    return rw.read(store_fleet.tag_counts)


@router.get("/fleet/problems", response_model=Problems)
def problems(
    _: Viewer, rw: RW, limit: Annotated[int, Query(ge=1, le=200)] = PROBLEMS_LIMIT
) -> Problems:
    """How many miners are offline and warning, and up to `limit` of each with reasons:
    offline ones most recently lost first (reason: their latest offline event), warning
    ones by name (reasons: their latest sample's)."""
    now = datetime.now(UTC)
    return rw.read(lambda c: store_fleet.problems(c, now, rw.settings.offline_after_s, limit))


class Grid(BaseModel):
    """Every matching miner, column by column (index i of each list is one miner), in
    the order to draw them: by site, rack and name. `site`, `rack` and `model` index the
    `sites`, `racks` and `models` lists (-1: none). Figures are rounded to 4 significant
    digits (temperatures to 0.1 °C): this is a picture, not a record."""

    ts: datetime
    total: int
    sites: list[str]
    racks: list[str]
    models: list[str]
    id: list[int]
    name: list[str]
    status: list[MinerStatus]
    site: list[int]
    rack: list[int]
    model: list[int]
    hashrate_hs: list[float | None]
    hashrate_expected_hs: list[float | None]
    temp_c: list[float | None]
    power_w: list[float | None]


def _sig(v: float | None) -> float | None:
    return None if v is None else float(f"{v:.4g}")


def _indexed(values: tuple[str | None, ...]) -> tuple[list[str], list[int]]:
    """Repeated strings as a table and an index per value (-1: none)."""
    table: dict[str, int] = {}
    out = [-1 if v is None else table.setdefault(v, len(table)) for v in values]
    return list(table), out


@router.get("/fleet/grid", response_model=Grid)
def grid(
    _: Viewer,
    rw: RW,
    status: MinerStatus | None = None,
    kind: MinerKind | None = None,
    make: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    site: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=100, description="free text")] = None,
) -> Response:
    """The miners of the grid / heat-map view, with the filters of `GET /miners` (no
    paging: every match, compact). Built as columns and encoded directly (10,000
    miners: no model object per value)."""
    query = MinerQuery(status=status, kind=kind, make=make, model=model, tag=tag, text=q, site=site)
    now = datetime.now(UTC)
    cols = rw.read(lambda c: store_fleet.grid_columns(c, query, now, rw.settings.offline_after_s))
    sites, site_ix = _indexed(cols.site)
    racks, rack_ix = _indexed(cols.rack)
    models, model_ix = _indexed(cols.model)
    body = {
        "ts": now,
        "total": len(cols.id),
        "sites": sites,
        "racks": racks,
        "models": models,
        "id": cols.id,
        "name": cols.name,
        "status": cols.status,
        "site": site_ix,
        "rack": rack_ix,
        "model": model_ix,
        "hashrate_hs": [_sig(v) for v in cols.hashrate_hs],
        "hashrate_expected_hs": [_sig(v) for v in cols.hashrate_expected_hs],
        "temp_c": [None if v is None else round(v, 1) for v in cols.temp_c],
        "power_w": [_sig(v) for v in cols.power_w],
    }
    return Response(orjson.dumps(body), media_type="application/json")


Tag = Annotated[str, Field(min_length=1, max_length=store_fleet.TAG_MAX_LEN)]


class TagsIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=MAX_TAG_IDS, description="miner ids")
    add: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS_PER_CALL)
    remove: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS_PER_CALL)


@router.post("/miners/tags", response_model=MinerChange, responses={422: {}})
def tag_miners(body: TagsIn, who: Operator, rw: RW) -> MinerChange:
    """Add and remove tags on many miners at once (a tag in both lists is removed).
    Ids not found are listed in `missing`; nothing is changed when a tag is invalid or a
    miner would carry more than 32 tags."""
    if not body.add and not body.remove:
        raise HTTPException(422, "give tags to add or to remove")
    try:
        add = [store_fleet.clean_tag(t) for t in body.add]
        remove = [store_fleet.clean_tag(t) for t in body.remove]
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None

    def change(conn: Connection) -> MinerChange:
        result = store_fleet.set_tags(conn, body.ids, add, remove)
        detail = jsontext.dumps({"add": add, "remove": remove, "ids": sorted(set(body.ids))[:1000]})
        store_auth.audit(conn, who.name, "miners.tags", f"{result.changed} miners", detail)
        return result

    try:
        return rw.change(change)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


class RackIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=MAX_TAG_IDS, description="miner ids")
    rack: str | None = Field(
        max_length=store_fleet.RACK_MAX_LEN,
        description="the rack, e.g. `A-03`; null or empty takes the miners out of any rack",
    )


@router.post("/miners/rack", response_model=MinerChange, responses={422: {}})
def place_miners(body: RackIn, who: Operator, rw: RW) -> MinerChange:
    """Put many miners in one rack (or in none). The grid groups by rack; a sentry never
    changes it. Ids not found are listed in `missing`."""
    try:
        rack = store_fleet.clean_rack(body.rack)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None

    def change(conn: Connection) -> MinerChange:
        result = store_fleet.set_rack(conn, body.ids, rack)
        detail = jsontext.dumps({"rack": rack, "ids": sorted(set(body.ids))[:1000]})
        store_auth.audit(conn, who.name, "miners.rack", f"{result.changed} miners", detail)
        return result

    return rw.change(change)
