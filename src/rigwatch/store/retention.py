"""Retention: how long each resolution is kept, applied in bounded chunks.

Defaults: raw rows 48 hours, 5-minute rollups 30 days, 1-hour rollups 2 years, daily
rollups forever. Nothing is deleted that the rollups have not covered yet
(`rollups.rolled_up_before`): a backlog or a late spool holds retention back rather
than losing data.

Deletes are chunked so the commander keeps serving (the job runs in one transaction
and SQLite has one writer): raw tables are keyed time-first, so each statement deletes
the oldest rows up to a timestamp found `max_rows` rows in; the per-miner rollups are
keyed (miner_id, bucket), so each statement deletes the old rows of a few miners (one
primary-key range each); the fleet tables are small and go per scope. A call stops
after `max_statements` statements and says whether more is left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection

from rigwatch.store.rollups import BUCKET_US, DAY_US, FLEET_TABLES, MINER_TABLES, rolled_up_before
from rigwatch.store.tables import (
    device_samples,
    hashboard_samples,
    host_samples,
    miners,
    p2pool_samples,
    samples,
)
from rigwatch.store.timestamps import to_us

RAW_TABLES = (samples, hashboard_samples, device_samples, host_samples, p2pool_samples)
HOUR_US = 3_600_000_000
MINERS_PER_STATEMENT = 50


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each resolution is kept; 0 days keeps daily rows forever."""

    raw_hours: float = 48.0
    days_5m: float = 30.0
    days_1h: float = 730.0
    days_1d: float = 0.0

    def __post_init__(self) -> None:
        if self.raw_hours <= 0 or self.days_5m <= 0 or self.days_1h <= 0 or self.days_1d < 0:
            raise ValueError(f"retention must be positive (daily: 0 = forever): {self}")


@dataclass(slots=True)
class RetentionReport:
    """Rows deleted per table, and whether the statement budget ran out first."""

    deleted: dict[str, int] = field(default_factory=dict)
    statements: int = 0
    more: bool = False

    @property
    def detail(self) -> str:
        parts = [f"{name} {count}" for name, count in self.deleted.items() if count]
        text = "deleted " + ", ".join(parts) if parts else "nothing to delete"
        return text + ("; more to do" if self.more else "")


class _Budget(Exception):
    """The statement budget of this call is spent."""


@dataclass(slots=True)
class _Run:
    conn: Connection
    report: RetentionReport
    max_statements: int

    def delete(self, table: Table, statement: Any) -> None:
        if self.report.statements >= self.max_statements:
            raise _Budget
        self.report.statements += 1
        count = max(int(self.conn.execute(statement).rowcount or 0), 0)
        self.report.deleted[table.name] = self.report.deleted.get(table.name, 0) + count


def _raw(run: _Run, table: Table, cutoff: int, max_rows: int) -> None:
    """Delete rows with ts < cutoff, oldest first, about `max_rows` per statement."""
    ts = table.c.ts
    while True:
        oldest = run.conn.execute(select(func.min(ts))).scalar_one_or_none()
        if oldest is None or oldest >= cutoff:
            return
        probe = select(ts).where(ts < cutoff).order_by(ts).offset(max_rows).limit(1)
        bound = run.conn.execute(probe).scalar_one_or_none()
        upto = cutoff if bound is None else int(bound)
        if upto <= oldest:
            # More than max_rows rows share the oldest timestamp: take them all.
            upto = int(oldest) + 1
        run.delete(table, delete(table).where(ts < upto))


def _miner_ids(conn: Connection) -> Iterator[list[int]]:
    after = -1
    while True:
        query = (
            select(miners.c.id)
            .where(miners.c.id > after)
            .order_by(miners.c.id)
            .limit(MINERS_PER_STATEMENT)
        )
        ids: list[Any] = list(conn.execute(query).scalars())
        if not ids:
            return
        yield [int(i) for i in ids]
        after = int(ids[-1])


def _per_miner(run: _Run, table: Table, cutoff: int) -> None:
    """Old rows of a few miners per statement: each is one primary-key range."""
    for ids in _miner_ids(run.conn):
        old = select(table.c.miner_id).where(table.c.miner_id.in_(ids), table.c.bucket < cutoff)
        if run.conn.execute(old.limit(1)).first() is not None:
            run.delete(
                table, delete(table).where(table.c.miner_id.in_(ids), table.c.bucket < cutoff)
            )


def _fleet(run: _Run, table: Table, cutoff: int) -> None:
    scopes: list[Any] = list(
        run.conn.execute(select(table.c.scope).where(table.c.bucket < cutoff).distinct())
        .scalars()
        .all()
    )
    for scope in scopes:
        run.delete(table, delete(table).where(table.c.scope == scope, table.c.bucket < cutoff))


def apply_retention(
    conn: Connection,
    now: datetime,
    policy: RetentionPolicy | None = None,
    *,
    max_statements: int = 20,
    max_rows: int = 20_000,
) -> RetentionReport:
    """Delete what `policy` no longer keeps, at most `max_statements` statements of about
    `max_rows` raw rows each, in the caller's transaction. `more` says call again."""
    policy = policy or RetentionPolicy()
    now_us = to_us(now)
    covered = rolled_up_before(conn)
    report = RetentionReport()
    run = _Run(conn, report, max_statements)
    raw_cutoff = min(now_us - int(policy.raw_hours * HOUR_US), covered)
    keep = {"5m": policy.days_5m, "1h": policy.days_1h, "1d": policy.days_1d}
    try:
        for table in RAW_TABLES:
            _raw(run, table, raw_cutoff, max_rows)
        for res, days in keep.items():
            if days <= 0:
                continue
            # Whole buckets only, and never rows a coarser bucket still has to read.
            cutoff = min(now_us - int(days * DAY_US), covered)
            cutoff -= cutoff % BUCKET_US[res]
            _per_miner(run, MINER_TABLES[res], cutoff)
            _fleet(run, FLEET_TABLES[res], cutoff)
    except _Budget:
        report.more = True
    return report
