"""Daily totals and CSV exports: what an operator takes to a spreadsheet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Viewer
from rigwatch.commander.context import Commander
from rigwatch.store.aggregates import DailyTotal, TotalBy, TotalKind, daily_totals
from rigwatch.store.export import Export, ExportBy, ExportWhat, csv_chunks, export_rows

router = APIRouter(tags=["reports"])

MAX_DAYS = 3660
CSV = "text/csv; charset=utf-8"


def _days(start: date | None, end: date | None, default_days: int) -> tuple[date, date]:
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=default_days - 1)
    if first > last:
        raise HTTPException(422, "`from` is after `to`")
    if (last - first).days >= MAX_DAYS:
        raise HTTPException(422, f"a range is at most {MAX_DAYS} days")
    return first, last


def _csv(rw: Commander, build: Callable[[Connection], Export], filename: str) -> StreamingResponse:
    """Stream the CSV while the rows are read: the connection lives as long as the body."""

    def chunks() -> Iterator[str]:
        with rw.engine.connect() as conn:
            yield from csv_chunks(build(conn))

    return StreamingResponse(
        chunks(),
        media_type=CSV,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _blocks_export(totals: list[DailyTotal]) -> Export:
    rows = [(t.day.isoformat(), t.host or "", t.count, t.own) for t in totals]
    return Export(("day", "host", "blocks", "own"), iter(rows))


@router.get(
    "/aggregates/daily",
    response_model=list[DailyTotal],
    responses={200: {"content": {CSV: {}}}},
)
def aggregates_daily(
    _: Viewer,
    rw: RW,
    kind: TotalKind,
    by: TotalBy = TotalBy.FARM,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Literal["json", "csv"] = "json",
) -> list[DailyTotal] | StreamingResponse:
    """Shares found, blocks found or payouts (per coin, exact atomic sums) per UTC day,
    for the farm or per host. Default range: the last 30 days."""
    first, last = _days(start, end, 30)
    name = f"{kind}-by-{by}-{first}-{last}.csv"
    if format == "json":
        return rw.read(lambda c: daily_totals(c, kind, by, first, last))
    if kind is TotalKind.BLOCKS:
        return _csv(rw, lambda c: _blocks_export(daily_totals(c, kind, by, first, last)), name)
    what = ExportWhat.SHARES if kind is TotalKind.SHARES else ExportWhat.PAYOUTS
    per = ExportBy.HOST if by is TotalBy.HOST else ExportBy.DAY
    return _csv(rw, lambda c: export_rows(c, what, per, first, last), name)


@router.get("/export/{what}", responses={200: {"content": {CSV: {}}}, 422: {}})
def export_csv(
    _: Viewer,
    rw: RW,
    what: ExportWhat,
    by: ExportBy | None = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> StreamingResponse:
    """CSV of samples or events (raw, or per day / host), shares or payouts (per day or
    host), streamed from the store so a year of rows costs no more memory than a day.
    Default range: today (UTC)."""
    first, last = _days(start, end, 1)
    suffix = f"-by-{by}" if by else ""
    return _csv(
        rw, lambda c: export_rows(c, what, by, first, last), f"{what}{suffix}-{first}-{last}.csv"
    )
