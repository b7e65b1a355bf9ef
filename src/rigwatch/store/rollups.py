"""Rollups: raw samples into 5-minute, 1-hour and 1-day rows per miner, per site, per farm.

Raw samples are keyed time-first and kept for a short window; every chart and report
reads these rollups instead (DESIGN.md, "Measured on this machine").

How a run works (`run_rollups`), so that it is incremental, idempotent and right for
late data:

- New work is found from `ingest_batches`: batches received since the watermark
  `received_at` (minus a settling margin, so a writer still committing an older
  `received_at` is not skipped) mark the 5-minute buckets of their samples' time range
  (`first_ts`..`last_ts`, widened by two buckets each side because a sample changes
  its neighbours' uptime) in `rollup_pending`. A batch without a range (written before
  the write path recorded one) marks the `fallback_s` before its arrival. The first
  run ever marks every bucket that holds raw samples. A spool replayed from yesterday
  therefore marks yesterday's buckets, and they are recomputed.
- Pending buckets are recomputed whole, from the raw rows, and UPSERTed: re-running
  gives the same rows. Then the hours of the recomputed 5-minute buckets from the
  5-minute rows, then the days from the hours; per miner, then per site and farm.
  Rows are never deleted here (only by retention), so recomputing a bucket whose raw
  rows retention already removed keeps the rollups of the miners that are gone from raw.
- Each call handles at most `max_buckets` buckets per resolution, in its caller's
  transaction, and says whether work remains (`RollupReport.more`): the commander
  keeps serving between chunks. Hours wait until no 5-minute bucket before their end
  is pending (days likewise), so a backlog is not rolled up twice.

Per-miner figures of a 5-minute bucket, from its raw samples:
- `samples`: how many; min / mean / max of `hashrate_hs`, `temp_c` (temp_max is the
  max of `temp_max_c`, or of `temp_c` where a miner reports no maximum) and `power_w`;
  the mean of `hashrate_hs` is over the samples (a gap does not dilute it) and a
  missing value is ignored, not counted as zero;
- accepted / rejected / stale: sums of the per-sample deltas the write path stored (a
  counter reset is a restart, not a negative delta);
- `up_s`, seconds of the bucket the miner was up. A sample vouches for the miner from
  its time to the next sample when that comes within 1.5x the miner's typical poll
  gap `g`; otherwise (a missed poll, an outage, the newest sample) for `g` only. So a
  missing sample costs about one poll interval of downtime, and jittered polls cost
  none. `g` is the median gap between consecutive samples that start in the bucket and
  its two neighbours, each gap counted as at most 5 minutes (which also bounds what
  one sample vouches for). Coverage that runs past the end of the bucket counts in the
  next bucket if the miner has samples there. `up_s / 300` is the uptime fraction.

Coarser per-miner rows: sums of samples, up_s and shares; min of mins, max of maxes;
means weighted by sample counts.

Fleet rows (`scope` 'farm' or 'site:<id>'): `miners` that had samples, sums of
samples, up_s and shares, max temperature. In a 5-minute bucket hashrate / expected /
power mean are the sums over the miners of their means, temp_mean the mean over the
miners, and hashrate min = max = mean (the farm total is known per 5 minutes). In an
hour or a day they are the means of the finer fleet rows present (so a miner that was
down half the day shows as a dip of the farm total, and mean lies within min..max), and
hashrate min / max the extremes of the finer rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    case,
    cast,
    delete,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection

from rigwatch.store.bulk import Positional
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.tables import (
    FLEET_FIGURES,
    ROLLUP_FIGURES,
    SHARE_COUNTS,
    fleet_rollup_1d,
    fleet_rollup_1h,
    fleet_rollup_5m,
    ingest_batches,
    miners,
    rollup_1d,
    rollup_1h,
    rollup_5m,
    rollup_pending,
    rollup_state,
    samples,
    sentries,
)
from rigwatch.store.timestamps import to_us

MINUTE_US = 60_000_000
FIVE_MIN_US = 5 * MINUTE_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
BUCKET_US = {"5m": FIVE_MIN_US, "1h": HOUR_US, "1d": DAY_US}
MINER_TABLES = {"5m": rollup_5m, "1h": rollup_1h, "1d": rollup_1d}
FLEET_TABLES = {"5m": fleet_rollup_5m, "1h": fleet_rollup_1h, "1d": fleet_rollup_1d}
FARM = "farm"

# A gap up to this many typical gaps is a late poll, not downtime.
JITTER_TOLERANCE = 1.5
# Buckets each side of a batch's range that its samples can change (uptime).
NEIGHBOURS = 2
# A range longer than this many buckets is narrowed to the buckets that hold samples.
DENSE_MARK_BUCKETS = 288
SETTLE_S = 30.0
FALLBACK_S = 48 * 3600.0
WATERMARK = "received_at"
LAST_RUN = "last_run"


@dataclass(frozen=True, slots=True)
class RollupReport:
    """What one call did: batches seen, buckets marked and recomputed, rows written."""

    batches: int
    marked: int
    buckets_5m: int
    buckets_1h: int
    buckets_1d: int
    rows: int
    more: bool

    @property
    def detail(self) -> str:
        return (
            f"{self.batches} batches, {self.marked} buckets marked; recomputed "
            f"{self.buckets_5m} x 5m, {self.buckets_1h} x 1h, {self.buckets_1d} x 1d "
            f"({self.rows} rows){'; more to do' if self.more else ''}"
        )


def _floor(ts: int, size: int) -> int:
    return ts - ts % size


def _bucket_of(column: Any, size: int) -> ColumnElement[int]:
    """`column` floored to `size`; a literal, so SELECT and GROUP BY are the same SQL."""
    return column - column % literal_column(str(size))  # type: ignore[no-any-return]


def _get_state(conn: Connection, name: str) -> int | None:
    value = conn.execute(select(rollup_state.c.value).where(rollup_state.c.name == name))
    found = value.scalar_one_or_none()
    return None if found is None else int(found)


def _set_state(conn: Connection, name: str, value: int) -> None:
    upsert = insert_for(conn, rollup_state).values(name=name, value=value)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[rollup_state.c.name], set_={"value": upsert.excluded.value}
        )
    )


def _mark(conn: Connection, resolution: str, buckets: Iterable[int]) -> int:
    rows = [{"resolution": resolution, "bucket": b} for b in sorted(set(buckets))]
    for start in range(0, len(rows), 1000):
        conn.execute(insert_ignore(conn, rollup_pending), rows[start : start + 1000])
    return len(rows)


def _buckets_between(conn: Connection, first_us: int, last_us: int) -> list[int]:
    """The 5-minute buckets from `first_us` to `last_us` (and their neighbours) to mark.

    Long ranges are narrowed to the buckets that hold raw samples, so one odd timestamp
    cannot mark years of empty buckets.
    """
    lo = _floor(first_us, FIVE_MIN_US)
    hi = _floor(last_us, FIVE_MIN_US)
    if (hi - lo) // FIVE_MIN_US <= DENSE_MARK_BUCKETS:
        held: Iterable[int] = range(lo, hi + FIVE_MIN_US, FIVE_MIN_US)
    else:
        bucket = _bucket_of(samples.c.ts, FIVE_MIN_US)
        query = (
            select(bucket)
            .where(samples.c.ts >= lo, samples.c.ts < hi + FIVE_MIN_US)
            .group_by(bucket)
        )
        held = [int(b) for b in conn.execute(query).scalars()]
    marked: set[int] = set()
    for bucket_us in held:
        marked.update(bucket_us + k * FIVE_MIN_US for k in range(-NEIGHBOURS, NEIGHBOURS + 1))
    return sorted(marked)


def mark_range(conn: Connection, first_us: int, last_us: int) -> int:
    """Mark the 5-minute buckets of raw samples from `first_us` to `last_us` (a backfill,
    a repair) for recomputing by the next runs; returns how many were marked."""
    if last_us < first_us:
        raise ValueError("last_us is before first_us")
    return _mark(conn, "5m", _buckets_between(conn, first_us, last_us))


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + FIVE_MIN_US * (2 * NEIGHBOURS + 1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _collect_batches(
    conn: Connection, watermark: int | None, target: int, fallback_us: int
) -> tuple[int, int]:
    """Mark what batches received in (watermark, target] touched; (batches, marked)."""
    if watermark is None:
        bounds = conn.execute(select(func.min(samples.c.ts), func.max(samples.c.ts))).one()
        if bounds[0] is None:
            return 0, 0
        return 0, mark_range(conn, int(bounds[0]), int(bounds[1]))
    first = _bucket_of(ingest_batches.c.first_ts, FIVE_MIN_US)
    last = _bucket_of(ingest_batches.c.last_ts, FIVE_MIN_US)
    query = (
        select(
            first,
            last,
            func.count(),
            func.min(ingest_batches.c.received_at),
            func.max(ingest_batches.c.received_at),
        )
        .where(
            ingest_batches.c.received_at > watermark,
            ingest_batches.c.received_at <= target,
            # A batch of events or host readings only has nothing to roll up.
            ingest_batches.c.samples > 0,
        )
        .group_by(first, last)
    )
    ranges: list[tuple[int, int]] = []
    batches = 0
    found: list[Any] = list(conn.execute(query))
    for lo, hi, count, received_min, received_max in found:
        batches += int(count)
        if lo is None or hi is None:
            ranges.append((int(received_min) - fallback_us, int(received_max)))
        else:
            ranges.append((int(lo), int(hi)))
    marked = 0
    for lo, hi in _merge(ranges):
        marked += _mark(conn, "5m", _buckets_between(conn, lo, hi))
    return batches, marked


def _pending(conn: Connection, resolution: str, limit: int, before: int | None) -> list[int]:
    query = select(rollup_pending.c.bucket).where(rollup_pending.c.resolution == resolution)
    if before is not None:
        query = query.where(rollup_pending.c.bucket < before)
    query = query.order_by(rollup_pending.c.bucket).limit(limit)
    found: list[Any] = list(conn.execute(query).scalars())
    return [int(b) for b in found]


def _oldest_pending(conn: Connection, resolution: str) -> int | None:
    query = select(func.min(rollup_pending.c.bucket)).where(
        rollup_pending.c.resolution == resolution
    )
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def _unmark(conn: Connection, resolution: str, buckets: Sequence[int]) -> None:
    for start in range(0, len(buckets), 500):
        conn.execute(
            delete(rollup_pending).where(
                rollup_pending.c.resolution == resolution,
                rollup_pending.c.bucket.in_(buckets[start : start + 500]),
            )
        )


def _runs(buckets: Sequence[int], size: int) -> Iterator[tuple[int, int]]:
    """Contiguous [lo, hi) spans of sorted bucket starts."""
    start = prev = None
    for bucket in buckets:
        if start is None or prev is None:
            start = prev = bucket
        elif bucket == prev + size:
            prev = bucket
        else:
            yield start, prev + size
            start = prev = bucket
    if start is not None and prev is not None:
        yield start, prev + size


# --- 5 minutes from raw samples ------------------------------------------------------


def coverage(times: Sequence[int], lo: int, hi: int) -> dict[int, float]:
    """Microseconds of up time per 5-minute bucket in [lo, hi) for one miner's sorted
    sample times (which must include those from lo - 10 min to hi + 10 min)."""
    count = len(times)
    gaps = [min(times[i + 1] - times[i], FIVE_MIN_US) for i in range(count - 1)]
    gaps.append(FIVE_MIN_US)
    by_bucket: dict[int, list[int]] = defaultdict(list)
    for ts, gap in zip(times, gaps, strict=True):
        by_bucket[ts - ts % FIVE_MIN_US].append(gap)
    typical: dict[int, float] = {}
    covered: dict[int, float] = defaultdict(float)
    for ts, gap in zip(times, gaps, strict=True):
        bucket = ts - ts % FIVE_MIN_US
        if bucket < lo - FIVE_MIN_US or bucket >= hi:
            continue
        usual = typical.get(bucket)
        if usual is None:
            near = [
                *by_bucket.get(bucket - FIVE_MIN_US, ()),
                *by_bucket[bucket],
                *by_bucket.get(bucket + FIVE_MIN_US, ()),
            ]
            usual = typical[bucket] = float(statistics.median(near))
        vouched = gap if gap <= JITTER_TOLERANCE * usual else usual
        end = ts + vouched
        edge = bucket + FIVE_MIN_US
        if end <= edge:
            covered[bucket] += vouched
        else:
            covered[bucket] += edge - ts
            covered[edge] += end - edge
    return covered


def _raw_aggregates(conn: Connection, lo: int, hi: int) -> list[Any]:
    bucket = _bucket_of(samples.c.ts, FIVE_MIN_US)
    hottest = func.coalesce(samples.c.temp_max_c, samples.c.temp_c)
    query = (
        select(
            samples.c.miner_id,
            bucket,
            func.count(),
            func.min(samples.c.hashrate_hs),
            func.avg(samples.c.hashrate_hs),
            func.max(samples.c.hashrate_hs),
            func.avg(samples.c.hashrate_expected_hs),
            func.min(samples.c.temp_c),
            func.avg(samples.c.temp_c),
            func.max(hottest),
            func.min(samples.c.power_w),
            func.avg(samples.c.power_w),
            func.max(samples.c.power_w),
            cast(func.sum(samples.c.accepted_delta), BigInteger),
            cast(func.sum(samples.c.rejected_delta), BigInteger),
            cast(func.sum(samples.c.stale_delta), BigInteger),
        )
        .where(samples.c.ts >= lo, samples.c.ts < hi)
        .group_by(samples.c.miner_id, bucket)
    )
    return list(conn.execute(query).all())


def _sample_times(conn: Connection, lo: int, hi: int) -> dict[int, list[int]]:
    query = (
        select(samples.c.miner_id, samples.c.ts)
        .where(samples.c.ts >= lo, samples.c.ts < hi)
        .order_by(samples.c.ts, samples.c.miner_id)
    )
    # Straight from the driver's cursor: building a Result row per sample cost more
    # than the rollup itself. The bounds are integers, rendered inline.
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        rows: Sequence[Any] = cursor.fetchall()
    finally:
        cursor.close()
    times: dict[int, list[int]] = defaultdict(list)
    for miner_id, ts in rows:
        times[miner_id].append(ts)
    return times


def _upsert_sql(conn: Connection, table: Table) -> Any:
    keys = [c for c in table.primary_key.columns]
    upsert = insert_for(conn, table)
    return upsert.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: upsert.excluded[c.name] for c in table.columns if c not in keys},
    )


def _miner_rows(table: Table) -> Positional:
    return Positional(lambda conn: _upsert_sql(conn, table), [c.name for c in table.columns])


_MINER_ROWS = {res: _miner_rows(table) for res, table in MINER_TABLES.items()}


def _five_minutes(conn: Connection, lo: int, hi: int) -> int:
    """Recompute per-miner 5-minute rows of [lo, hi) from raw samples; rows written."""
    aggregates = _raw_aggregates(conn, lo, hi)
    if not aggregates:
        return 0
    times = _sample_times(conn, lo - 2 * FIVE_MIN_US, hi + 2 * FIVE_MIN_US)
    covered = {miner_id: coverage(ts, lo, hi) for miner_id, ts in times.items()}
    rows: list[tuple[Any, ...]] = []
    for miner_id, bucket, count, *figures in aggregates:
        up_us = covered.get(miner_id, {}).get(bucket, 0.0)
        *floats, accepted, rejected, stale = figures
        rows.append(
            (
                miner_id,
                int(bucket),
                int(count),
                min(up_us, FIVE_MIN_US) / 1e6,
                *floats,
                None if accepted is None else int(accepted),
                None if rejected is None else int(rejected),
                None if stale is None else int(stale),
            )
        )
    _MINER_ROWS["5m"].run(conn, rows)
    return len(rows)


# --- coarser per-miner rows from finer ones ------------------------------------------


def _weighted(column: Any, weight: Any) -> Any:
    counted = func.sum(case((column.is_not(None), weight), else_=None))
    return func.sum(column * weight) / counted


def _every_miner(table: Table) -> ColumnElement[bool]:
    """`miner_id IN (every miner)`: makes SQLite seek each miner's primary-key range of
    the bucket range (there is no index on bucket alone) instead of scanning the table."""
    return table.c.miner_id.in_(select(miners.c.id))


def _coarser(conn: Connection, res: str, finer: Table, lo: int, hi: int) -> int:
    """Per-miner rows of resolution `res` in [lo, hi) from the `finer` rows, in SQL."""
    target = MINER_TABLES[res]
    bucket = _bucket_of(finer.c.bucket, BUCKET_US[res])
    c = finer.c
    figures: dict[str, Any] = {}
    for name in ROLLUP_FIGURES:
        if name.endswith("_min"):
            figures[name] = func.min(c[name])
        elif name.endswith("_max"):
            figures[name] = func.max(c[name])
        else:
            figures[name] = _weighted(c[name], c.samples)
    columns: dict[str, Any] = {
        "miner_id": c.miner_id,
        "bucket": bucket,
        "samples": func.sum(c.samples),
        "up_s": func.sum(c.up_s),
        **figures,
        **{name: cast(func.sum(c[name]), BigInteger) for name in SHARE_COUNTS},
    }
    names = [col.name for col in target.columns]
    query = (
        select(*(columns[name] for name in names))
        .where(_every_miner(finer), finer.c.bucket >= lo, finer.c.bucket < hi)
        .group_by(c.miner_id, bucket)
    )
    keys = list(target.primary_key.columns)
    upsert = insert_for(conn, target).from_select(names, query)
    statement = upsert.on_conflict_do_update(
        index_elements=keys,
        set_={col.name: upsert.excluded[col.name] for col in target.columns if col not in keys},
    )
    result = conn.execute(statement)
    return max(int(result.rowcount or 0), 0)


# --- per site and farm -----------------------------------------------------------------


@dataclass(slots=True)
class _Fleet:
    miners: int = 0
    samples: int = 0
    up_s: float = 0.0
    hashrate: float | None = None
    expected: float | None = None
    power: float | None = None
    temp_sum: float = 0.0
    temp_n: int = 0
    temp_max: float | None = None
    accepted: int | None = None
    rejected: int | None = None
    stale: int | None = None


def _add(total: float | None, value: Any) -> Any:
    if value is None:
        return total
    return value if total is None else total + value


def _max(current: float | None, value: Any) -> float | None:
    if value is None:
        return current
    return float(value) if current is None else max(current, float(value))


def _per_scope(conn: Connection, table: Table, lo: int, hi: int) -> dict[tuple[str, int], _Fleet]:
    """Per-miner rows of [lo, hi) summed per site and for the farm."""
    c = table.c
    query = (
        select(
            c.bucket,
            sentries.c.site_id,
            func.count(),
            func.sum(c.samples),
            func.sum(c.up_s),
            func.sum(c.hashrate_mean),
            func.sum(c.expected_mean),
            func.sum(c.power_mean),
            func.sum(c.temp_mean),
            func.count(c.temp_mean),
            func.max(c.temp_max),
            cast(func.sum(c.accepted), BigInteger),
            cast(func.sum(c.rejected), BigInteger),
            cast(func.sum(c.stale), BigInteger),
        )
        .select_from(
            miners.join(sentries, sentries.c.id == miners.c.sentry_id).join(
                table, c.miner_id == miners.c.id
            )
        )
        .where(_every_miner(table), c.bucket >= lo, c.bucket < hi)
        .group_by(c.bucket, sentries.c.site_id)
    )
    fleets: dict[tuple[str, int], _Fleet] = defaultdict(_Fleet)
    for row in conn.execute(query):
        bucket = int(row[0])
        for scope in (f"site:{row[1]}", FARM):
            f = fleets[(scope, bucket)]
            f.miners += int(row[2])
            f.samples += int(row[3])
            f.up_s += float(row[4])
            f.hashrate = _add(f.hashrate, row[5])
            f.expected = _add(f.expected, row[6])
            f.power = _add(f.power, row[7])
            f.temp_sum += float(row[8] or 0.0)
            f.temp_n += int(row[9])
            f.temp_max = _max(f.temp_max, row[10])
            f.accepted = _add(f.accepted, None if row[11] is None else int(row[11]))
            f.rejected = _add(f.rejected, None if row[12] is None else int(row[12]))
            f.stale = _add(f.stale, None if row[13] is None else int(row[13]))
    return fleets


def _fleet_row(scope: str, bucket: int, f: _Fleet) -> dict[str, Any]:
    return {
        "scope": scope,
        "bucket": bucket,
        "miners": f.miners,
        "samples": f.samples,
        "up_s": f.up_s,
        "hashrate_mean": f.hashrate,
        "hashrate_min": f.hashrate,
        "hashrate_max": f.hashrate,
        "expected_mean": f.expected,
        "power_mean": f.power,
        "temp_mean": f.temp_sum / f.temp_n if f.temp_n else None,
        "temp_max": f.temp_max,
        "accepted": f.accepted,
        "rejected": f.rejected,
        "stale": f.stale,
    }


def _finer_fleet(
    conn: Connection, finer: Table, size: int, lo: int, hi: int
) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Means and extremes of the finer fleet rows per (scope, coarser bucket)."""
    c = finer.c
    bucket = _bucket_of(c.bucket, size)
    query = (
        select(
            c.scope,
            bucket,
            func.avg(c.hashrate_mean),
            func.min(c.hashrate_min),
            func.max(c.hashrate_max),
            func.avg(c.expected_mean),
            func.avg(c.power_mean),
            func.avg(c.temp_mean),
        )
        .where(c.bucket >= lo, c.bucket < hi)
        .group_by(c.scope, bucket)
    )
    return {(row[0], int(row[1])): tuple(row[2:]) for row in conn.execute(query)}


def _fleet(conn: Connection, res: str, lo: int, hi: int) -> int:
    """Recompute the site and farm rows of resolution `res` in [lo, hi)."""
    fleets = _per_scope(conn, MINER_TABLES[res], lo, hi)
    rows = [_fleet_row(scope, bucket, f) for (scope, bucket), f in sorted(fleets.items())]
    if res != "5m":
        finer = FLEET_TABLES["5m" if res == "1h" else "1h"]
        means = _finer_fleet(conn, finer, BUCKET_US[res], lo, hi)
        for row in rows:
            found = means.get((row["scope"], row["bucket"]))
            if found is not None:
                (
                    row["hashrate_mean"],
                    row["hashrate_min"],
                    row["hashrate_max"],
                    row["expected_mean"],
                    row["power_mean"],
                    row["temp_mean"],
                ) = found
    if rows:
        conn.execute(_upsert_sql(conn, FLEET_TABLES[res]), rows)
    return len(rows)


# --- the job -----------------------------------------------------------------------------


def _level(conn: Connection, res: str, max_buckets: int, before: int | None) -> tuple[int, int]:
    """Recompute up to `max_buckets` pending buckets of `res`; (buckets, rows)."""
    buckets = _pending(conn, res, max_buckets, before)
    if not buckets:
        return 0, 0
    size = BUCKET_US[res]
    rows = 0
    for lo, hi in _runs(buckets, size):
        if res == "5m":
            rows += _five_minutes(conn, lo, hi)
        else:
            finer = MINER_TABLES["5m" if res == "1h" else "1h"]
            rows += _coarser(conn, res, finer, lo, hi)
        rows += _fleet(conn, res, lo, hi)
    _unmark(conn, res, buckets)
    coarser = {"5m": "1h", "1h": "1d"}.get(res)
    if coarser is not None:
        _mark(conn, coarser, (_floor(b, BUCKET_US[coarser]) for b in buckets))
    return len(buckets), rows


def _ready_before(conn: Connection, finer: str, size: int) -> int | None:
    """Coarser buckets must end before the oldest pending finer bucket (None: any)."""
    oldest = _oldest_pending(conn, finer)
    return None if oldest is None else _floor(oldest, size)


def run_rollups(
    conn: Connection,
    now: datetime,
    *,
    max_buckets: int = 24,
    settle_s: float = SETTLE_S,
    fallback_s: float = FALLBACK_S,
) -> RollupReport:
    """One bounded step of the rollup job, in the caller's transaction.

    Marks what batches received since the last run touched, then recomputes at most
    `max_buckets` pending buckets of each resolution. `more` says work remains: call
    again (after committing) until it is False.
    """
    if max_buckets < 1:
        raise ValueError("max_buckets must be at least 1")
    now_us = to_us(now)
    # A write first: on SQLite the transaction takes the write lock now, so nothing the
    # reads below saw can change before the writes that depend on them.
    _set_state(conn, LAST_RUN, now_us)
    watermark = _get_state(conn, WATERMARK)
    target = now_us - int(settle_s * 1e6)
    batches = marked = 0
    if watermark is None or target > watermark:
        batches, marked = _collect_batches(conn, watermark, target, int(fallback_s * 1e6))
        _set_state(conn, WATERMARK, target if watermark is None else max(target, watermark))
    done_5m, rows_5m = _level(conn, "5m", max_buckets, None)
    done_1h, rows_1h = _level(conn, "1h", max_buckets, _ready_before(conn, "5m", HOUR_US))
    done_1d, rows_1d = _level(conn, "1d", max_buckets, _ready_before(conn, "1h", DAY_US))
    more = conn.execute(select(rollup_pending.c.bucket).limit(1)).first() is not None
    return RollupReport(
        batches=batches,
        marked=marked,
        buckets_5m=done_5m,
        buckets_1h=done_1h,
        buckets_1d=done_1d,
        rows=rows_5m + rows_1h + rows_1d,
        more=more,
    )


def rolled_up_before(conn: Connection, margin_s: float = 3600.0) -> int:
    """A time (µs) before which every raw sample and finer rollup row has been rolled up
    into the coarser rows: what retention may delete without losing anything.

    Pending buckets and batches not yet accounted for hold it back (less `margin_s`,
    for the neighbours a recompute reads); before the first run it is 0.
    """
    watermark = _get_state(conn, WATERMARK)
    if watermark is None:
        return 0
    bounds: list[int] = []
    oldest = conn.execute(select(func.min(rollup_pending.c.bucket))).scalar_one_or_none()
    if oldest is not None:
        bounds.append(int(oldest))
    waiting = conn.execute(
        select(
            func.min(ingest_batches.c.first_ts),
            func.min(case((ingest_batches.c.first_ts.is_(None), ingest_batches.c.received_at))),
        ).where(ingest_batches.c.received_at > watermark)
    ).one()
    if waiting[0] is not None:
        bounds.append(int(waiting[0]))
    if waiting[1] is not None:
        bounds.append(int(waiting[1]) - int(FALLBACK_S * 1e6))
    return min([watermark, *bounds]) - int(margin_s * 1e6)


__all__ = [
    "BUCKET_US",
    "FARM",
    "FLEET_FIGURES",
    "FLEET_TABLES",
    "MINER_TABLES",
    "RollupReport",
    "coverage",
    "mark_range",
    "rolled_up_before",
    "run_rollups",
]
