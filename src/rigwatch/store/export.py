"""Streaming exports: samples, events, shares and payouts as rows for CSV.

Every export is a header plus an iterator that pulls rows from a server-side cursor in
chunks, so memory stays flat however long the range (a year of samples is millions of
rows). The CLI and the API share these and `csv_chunks`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from rigwatch.store.aggregates import (
    STREAM_ROWS,
    TotalBy,
    TotalKind,
    daily_totals,
    day_bounds,
    stream_events,
)
from rigwatch.store.tables import hosts, miners, rollup_1d, samples
from rigwatch.store.timestamps import from_us

DAY_US = 86_400_000_000
_FIGURES = (
    "samples",
    "uptime_pct",
    "hashrate_mean_hs",
    "hashrate_max_hs",
    "temp_max_c",
    "power_mean_w",
    "accepted",
    "rejected",
)


class ExportWhat(StrEnum):
    SAMPLES = "samples"
    EVENTS = "events"
    SHARES = "shares"
    PAYOUTS = "payouts"


class ExportBy(StrEnum):
    DAY = "day"
    HOST = "host"


@dataclass(frozen=True, slots=True)
class Export:
    header: tuple[str, ...]
    rows: Iterator[Sequence[Any]]


def _iso(ts_us: int) -> str:
    return from_us(ts_us).isoformat().replace("+00:00", "Z")


def _day(day_index: int) -> str:
    return from_us(day_index * DAY_US).date().isoformat()


def _stream(conn: Connection, query: Any) -> Iterator[Any]:
    yield from conn.execute(query.execution_options(stream_results=True, yield_per=STREAM_ROWS))


def _labelled(conn: Connection, query: Any, first: Callable[[int], str]) -> Export:
    """Header from the query's column labels; the first column (a time) formatted."""
    header = tuple(query.selected_columns.keys())
    return Export(header, ((first(r[0]), *r[1:]) for r in _stream(conn, query)))


def _raw_samples(conn: Connection, start_us: int, end_us: int) -> Export:
    query = (
        select(
            samples.c.ts,
            samples.c.miner_id,
            miners.c.key.label("miner_key"),
            miners.c.kind,
            miners.c.hostname,
            samples.c.hashrate_hs,
            samples.c.hashrate_expected_hs,
            samples.c.temp_c,
            samples.c.temp_max_c,
            samples.c.power_w,
            samples.c.accepted,
            samples.c.rejected,
            samples.c.stale,
            samples.c.accepted_delta,
            samples.c.rejected_delta,
            samples.c.uptime_s,
            samples.c.pool_url,
        )
        .join(miners, miners.c.id == samples.c.miner_id)
        .where(samples.c.ts >= start_us, samples.c.ts < end_us)
        .order_by(samples.c.ts, samples.c.miner_id)
    )
    return _labelled(conn, query, _iso)


def _per_miner_day(start_us: int, end_us: int) -> Any:
    """Per miner and UTC day from the daily rollups: raw samples are kept for 48 hours
    only, the daily rows for ever, so a year's export per day reads these."""
    r = rollup_1d
    return select(
        (r.c.bucket // DAY_US).label("day"),
        r.c.miner_id,
        r.c.samples.label("samples"),
        (r.c.up_s / (DAY_US / 1e6) * 100).label("uptime_pct"),
        r.c.hashrate_mean.label("hashrate_mean_hs"),
        r.c.hashrate_max.label("hashrate_max_hs"),
        r.c.temp_max.label("temp_max_c"),
        r.c.power_mean.label("power_mean_w"),
        r.c.accepted.label("accepted"),
        r.c.rejected.label("rejected"),
    ).where(r.c.bucket >= start_us, r.c.bucket < end_us)


def _samples_by_day(conn: Connection, start_us: int, end_us: int) -> Export:
    per = _per_miner_day(start_us, end_us).subquery()
    query = (
        select(
            per.c.day,
            per.c.miner_id,
            miners.c.key.label("miner_key"),
            miners.c.hostname,
            *(per.c[name] for name in _FIGURES),
        )
        .join(miners, miners.c.id == per.c.miner_id)
        .order_by(per.c.day, per.c.miner_id)
    )
    return _labelled(conn, query, _day)


def _samples_by_host(conn: Connection, start_us: int, end_us: int) -> Export:
    """Per day and host: the rigs' mean hashrates and power added up (one mean per rig)."""
    per = _per_miner_day(start_us, end_us).subquery()
    query = (
        select(
            per.c.day,
            hosts.c.id.label("host_id"),
            hosts.c.key.label("host"),
            func.count().label("rigs"),
            func.sum(per.c.samples).label("samples"),
            func.sum(per.c.hashrate_mean_hs).label("hashrate_mean_hs"),
            func.max(per.c.temp_max_c).label("temp_max_c"),
            func.sum(per.c.power_mean_w).label("power_mean_w"),
            func.sum(per.c.accepted).label("accepted"),
            func.sum(per.c.rejected).label("rejected"),
        )
        .join(miners, miners.c.id == per.c.miner_id)
        .join(hosts, hosts.c.id == miners.c.host_id)
        .group_by(per.c.day, hosts.c.id, hosts.c.key)
        .order_by(per.c.day, hosts.c.key)
    )
    return _labelled(conn, query, _day)


def _raw_events(conn: Connection, start_us: int, end_us: int) -> Export:
    header = ("ts", "kind", "key", "sentry_id", "miner_id", "host", "message", "data")
    rows = (
        (_iso(r.ts), r.kind, r.key, r.sentry_id, r.miner_id, r.host_key, r.message, r.data)
        for r in stream_events(conn, None, start_us, end_us)
    )
    return Export(header, rows)


def _events_counted(conn: Connection, start_us: int, end_us: int, by_host: bool) -> Export:
    counts: dict[tuple[str, str, str], int] = {}
    for r in stream_events(conn, None, start_us, end_us):
        bucket = (_day(r.ts // DAY_US), (r.host_key or "") if by_host else "", r.kind)
        counts[bucket] = counts.get(bucket, 0) + 1
    header = ("day", "host", "kind", "count") if by_host else ("day", "kind", "count")
    rows = (
        (day, host, kind, n) if by_host else (day, kind, n)
        for (day, host, kind), n in sorted(counts.items())
    )
    return Export(header, iter(list(rows)))


def _totals(conn: Connection, kind: TotalKind, by: ExportBy, start: date, end: date) -> Export:
    totals = daily_totals(
        conn, kind, TotalBy.HOST if by is ExportBy.HOST else TotalBy.FARM, start, end
    )
    if kind is TotalKind.PAYOUTS:
        header: tuple[str, ...] = ("day", "host", "coin", "payouts", "amount_atomic", "amount")
        rows: list[Sequence[Any]] = [
            (t.day.isoformat(), t.host or "", t.coin, t.count, t.amount_atomic, t.amount)
            for t in totals
        ]
    else:
        header = ("day", "host", "shares")
        rows = [(t.day.isoformat(), t.host or "", t.count) for t in totals]
    if by is ExportBy.DAY:
        header = tuple(h for h in header if h != "host")
        rows = [(r[0], *r[2:]) for r in rows]
    return Export(header, iter(rows))


def export_rows(
    conn: Connection, what: ExportWhat, by: ExportBy | None, start: date, end: date
) -> Export:
    """The export of `what` over the UTC days [start, end]; raw rows when `by` is None
    (samples and events), daily totals otherwise (shares and payouts: by day at least).
    Samples per day or host come from the daily rollups, so they cover what the rollup
    job has processed (it runs every minute)."""
    start_us, end_us = day_bounds(start, end)
    if what is ExportWhat.SAMPLES:
        if by is ExportBy.DAY:
            return _samples_by_day(conn, start_us, end_us)
        if by is ExportBy.HOST:
            return _samples_by_host(conn, start_us, end_us)
        return _raw_samples(conn, start_us, end_us)
    if what is ExportWhat.EVENTS:
        if by is None:
            return _raw_events(conn, start_us, end_us)
        return _events_counted(conn, start_us, end_us, by is ExportBy.HOST)
    kind = TotalKind.SHARES if what is ExportWhat.SHARES else TotalKind.PAYOUTS
    return _totals(conn, kind, by or ExportBy.DAY, start, end)


def count_rows(conn: Connection, what: ExportWhat, start: date, end: date) -> int | None:
    """How many raw sample rows an export will walk (for a progress bar); None when cheap
    enough not to matter."""
    if what is not ExportWhat.SAMPLES:
        return None
    start_us, end_us = day_bounds(start, end)
    query = select(func.count()).select_from(samples)
    query = query.where(samples.c.ts >= start_us, samples.c.ts < end_us)
    return int(conn.execute(query).scalar_one())


def csv_chunks(export: Export, rows_per_chunk: int = 1000) -> Iterator[str]:
    """CSV text in chunks of rows (header first): what a streaming response sends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(export.header)
    pending = 1
    for row in export.rows:
        writer.writerow(_cells(row))
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if buffer.tell():
        yield buffer.getvalue()


def _cells(row: Iterable[Any]) -> list[Any]:
    # Spreadsheets run a cell that starts with = + - @ as a formula; miner-supplied text
    # (hostnames, pool URLs, event messages) must not be able to.
    return [f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row]
