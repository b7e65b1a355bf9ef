"""One way of reading history: a chart's worth of points for a farm, site or miner.

The resolution is the coarsest that still fills the chart: the one whose buckets in the
window number at least half the points asked for (a 1-year chart reads 365 daily rows,
a 30-day chart 720 hourly ones, a day 288 five-minute ones), so a chart never reads
more rows than it can draw. Raw samples serve only a miner's short windows (up to 3
hours): they are keyed time-first, so a per-miner read scans every miner's rows of the
window. Site and farm charts read the fleet rollups, never raw rows. Where the chosen
resolution has been trimmed by retention before the window starts, a coarser one that
reaches further back is used instead.

Buckets are merged k at a time into points aligned to the epoch (so a refreshed chart
keeps its points), at most `points` of them. A point without data is a gap: its values
are None, never zero. Means are weighted by sample counts for a miner; for a site or
the farm each bucket's total counts once. `up` is the covered fraction of the point's
time (for a site or the farm: of the miners that reported).
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from rigwatch.store.rollups import BUCKET_US, FARM, FLEET_TABLES, MINER_TABLES
from rigwatch.store.tables import miners, samples, sites
from rigwatch.store.timestamps import from_us, to_us

RAW_MAX_WINDOW_US = 3 * 3_600_000_000
COARSEST_FIRST = ("1d", "1h", "5m")
GAP_FACTOR = 1.5
_SCOPE = re.compile(r"^(farm|site:(\d{1,9})|miner:(\d{1,9}))$")


class Metric(StrEnum):
    HASHRATE = "hashrate"
    TEMP = "temp"
    POWER = "power"
    SHARES = "shares"
    EFFICIENCY = "efficiency"


UNITS = {
    Metric.HASHRATE: "H/s",
    Metric.TEMP: "°C",
    Metric.POWER: "W",
    Metric.SHARES: "shares",
    Metric.EFFICIENCY: "J/TH",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """'farm', 'site:<id>' or 'miner:<id>'."""

    kind: str
    id: int | None = None

    @property
    def key(self) -> str:
        return FARM if self.kind == FARM else f"{self.kind}:{self.id}"


def parse_scope(text: str) -> Scope:
    """The scope named by `text`; ValueError when it names none."""
    found = _SCOPE.match(text)
    if found is None:
        raise ValueError(f"scope must be farm, site:ID or miner:ID, not {text[:40]!r}")
    if found.group(2) is not None:
        return Scope("site", int(found.group(2)))
    if found.group(3) is not None:
        return Scope("miner", int(found.group(3)))
    return Scope(FARM)


def scope_exists(conn: Connection, scope: Scope) -> bool:
    if scope.kind == FARM:
        return True
    table = sites if scope.kind == "site" else miners
    return conn.execute(select(table.c.id).where(table.c.id == scope.id)).first() is not None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point: `value` is the mean (a sum for shares); None where there is no data."""

    ts: datetime
    value: float | None
    min: float | None = None
    max: float | None = None
    expected: float | None = None
    up: float | None = None
    rejected: int | None = None
    stale: int | None = None


@dataclass(frozen=True, slots=True)
class Series:
    scope: str
    metric: Metric
    unit: str
    resolution: str
    step_s: float
    start: datetime
    end: datetime
    points: list[SeriesPoint]


@dataclass(slots=True)
class _Row:
    """One bucket (or raw sample) of any source, in one shape."""

    ts: int
    weight: int
    up_s: float | None
    up_of_s: float
    hashrate: float | None
    hashrate_min: float | None
    hashrate_max: float | None
    expected: float | None
    temp: float | None
    temp_min: float | None
    temp_max: float | None
    power: float | None
    power_min: float | None
    power_max: float | None
    accepted: int | None
    rejected: int | None
    stale: int | None


def choose_resolution(window_us: int, points: int, *, raw_allowed: bool) -> str:
    """The coarsest resolution with at least points / 2 buckets in the window."""
    for name in COARSEST_FIRST:
        if window_us / BUCKET_US[name] >= points / 2:
            return name
    return "raw" if raw_allowed and window_us <= RAW_MAX_WINDOW_US else "5m"


def _oldest(conn: Connection, scope: Scope, resolution: str) -> int | None:
    if resolution == "raw":
        query = select(func.min(samples.c.ts))
    elif scope.kind == "miner":
        table = MINER_TABLES[resolution]
        query = select(func.min(table.c.bucket)).where(table.c.miner_id == scope.id)
    else:
        fleet = FLEET_TABLES[resolution]
        query = select(func.min(fleet.c.bucket)).where(fleet.c.scope == scope.key)
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def _reaching_back(conn: Connection, scope: Scope, resolution: str, start_us: int) -> str:
    """A coarser resolution when retention trimmed `resolution` after `start_us` and the
    coarser one reaches further back: by a whole bucket of its own at least, since the
    bucket holding a new miner's first sample always starts a little before it."""
    order = ["raw", "5m", "1h", "1d"]
    oldest = _oldest(conn, scope, resolution)
    for coarser in order[order.index(resolution) + 1 :]:
        if oldest is None or oldest <= start_us:
            break
        theirs = _oldest(conn, scope, coarser)
        if theirs is not None and theirs + BUCKET_US[coarser] <= oldest:
            resolution, oldest = coarser, theirs
    return resolution


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _rollup_rows(conn: Connection, scope: Scope, resolution: str, lo: int, hi: int) -> list[_Row]:
    size_s = BUCKET_US[resolution] / 1e6
    per_miner = scope.kind == "miner"
    if per_miner:
        t = MINER_TABLES[resolution]
        where = t.c.miner_id == scope.id
    else:
        t = FLEET_TABLES[resolution]
        where = t.c.scope == scope.key
    query = select(t).where(where, t.c.bucket >= lo, t.c.bucket <= hi).order_by(t.c.bucket)
    found: list[Any] = [row._mapping for row in conn.execute(query)]
    return [
        _Row(
            ts=int(r["bucket"]),
            weight=int(r["samples"]) if per_miner else 1,
            up_s=float(r["up_s"]),
            up_of_s=size_s if per_miner else size_s * int(r["miners"]),
            hashrate=_float(r["hashrate_mean"]),
            hashrate_min=_float(r["hashrate_min"]),
            hashrate_max=_float(r["hashrate_max"]),
            expected=_float(r["expected_mean"]),
            temp=_float(r["temp_mean"]),
            temp_min=_float(r["temp_min"]) if per_miner else None,
            temp_max=_float(r["temp_max"]),
            power=_float(r["power_mean"]),
            power_min=_float(r["power_min"]) if per_miner else None,
            power_max=_float(r["power_max"]) if per_miner else None,
            accepted=_int(r["accepted"]),
            rejected=_int(r["rejected"]),
            stale=_int(r["stale"]),
        )
        for r in found
    ]


def _raw_rows(conn: Connection, miner_id: int, lo: int, hi: int) -> list[_Row]:
    s = samples.c
    query = (
        select(
            s.ts,
            s.hashrate_hs,
            s.hashrate_expected_hs,
            s.temp_c,
            s.temp_max_c,
            s.power_w,
            s.accepted_delta,
            s.rejected_delta,
            s.stale_delta,
        )
        .where(s.ts >= lo, s.ts <= hi, s.miner_id == miner_id)
        .order_by(s.ts)
    )
    found: list[Any] = list(conn.execute(query))
    rows = []
    for ts, hashrate, expected, temp, temp_max, power, acc, rej, stale in found:
        hr, tc, pw = _float(hashrate), _float(temp), _float(power)
        rows.append(
            _Row(
                int(ts),
                1,
                None,
                0.0,
                hr,
                hr,
                hr,
                _float(expected),
                tc,
                tc,
                _float(temp_max) if temp_max is not None else tc,
                pw,
                pw,
                pw,
                _int(acc),
                _int(rej),
                _int(stale),
            )
        )
    return rows


def _mean(rows: Sequence[_Row], name: str) -> float | None:
    total = weight = 0.0
    for row in rows:
        value = getattr(row, name)
        if value is not None:
            total += value * row.weight
            weight += row.weight
    return total / weight if weight else None


def _extreme(rows: Sequence[_Row], name: str, pick: Any) -> float | None:
    values = [v for v in (getattr(r, name) for r in rows) if v is not None]
    return pick(values) if values else None


def _sum(rows: Sequence[_Row], name: str) -> int | None:
    values = [v for v in (getattr(r, name) for r in rows) if v is not None]
    return sum(values) if values else None


def _point(ts: int, rows: Sequence[_Row], metric: Metric, span_s: float | None) -> SeriesPoint:
    when = from_us(ts)
    if not rows:
        return SeriesPoint(when, None)
    up: float | None = None
    covered = [r.up_s for r in rows if r.up_s is not None]
    if covered:
        # A miner's missing buckets are down time; a fleet's count its reporting miners.
        of = span_s if span_s is not None else sum(r.up_of_s for r in rows)
        up = min(sum(covered) / of, 1.0) if of else None
    if metric is Metric.HASHRATE:
        return SeriesPoint(
            when,
            _mean(rows, "hashrate"),
            _extreme(rows, "hashrate_min", min),
            _extreme(rows, "hashrate_max", max),
            _mean(rows, "expected"),
            up,
        )
    if metric is Metric.TEMP:
        return SeriesPoint(
            when,
            _mean(rows, "temp"),
            _extreme(rows, "temp_min", min),
            _extreme(rows, "temp_max", max),
            up=up,
        )
    if metric is Metric.POWER:
        return SeriesPoint(
            when,
            _mean(rows, "power"),
            _extreme(rows, "power_min", min),
            _extreme(rows, "power_max", max),
            up=up,
        )
    if metric is Metric.SHARES:
        accepted = _sum(rows, "accepted")
        return SeriesPoint(
            when,
            None if accepted is None else float(accepted),
            up=up,
            rejected=_sum(rows, "rejected"),
            stale=_sum(rows, "stale"),
        )
    hashrate, power = _mean(rows, "hashrate"), _mean(rows, "power")
    efficiency = power / (hashrate / 1e12) if hashrate and power is not None else None
    return SeriesPoint(when, efficiency, up=up)


def _grid(
    rows: Sequence[_Row], metric: Metric, lo: int, hi: int, step: int, per_miner: bool
) -> list[SeriesPoint]:
    grouped: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.ts - row.ts % step].append(row)
    span_s = step / 1e6 if per_miner else None
    first = lo - lo % step
    return [_point(ts, grouped.get(ts, []), metric, span_s) for ts in range(first, hi + 1, step)]


def _step_for(bucket_us: int, lo: int, hi: int, points: int) -> int:
    """The smallest multiple of `bucket_us` that puts at most `points` points in [lo, hi]."""
    k = max(1, math.ceil((hi - lo + 1) / bucket_us / points))
    while (hi // (k * bucket_us)) - (lo // (k * bucket_us)) + 1 > points:
        k += 1
    return k * bucket_us


def _raw_points(
    rows: Sequence[_Row], metric: Metric, lo: int, hi: int, points: int
) -> tuple[list[SeriesPoint], float]:
    """Raw samples as points with a gap (None) where polls stopped; binned when there
    are more than `points` of them."""
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(rows)]
    usual = float(statistics.median(gaps)) if gaps else 0.0
    breaks = sum(1 for gap in gaps if gap > GAP_FACTOR * usual)
    if len(rows) + breaks > points:
        step = _step_for(1_000_000, lo, hi, points)
        return _grid(rows, metric, lo, hi, step, per_miner=False), step / 1e6
    out: list[SeriesPoint] = []
    for i, row in enumerate(rows):
        out.append(_point(row.ts, [row], metric, None))
        if i < len(gaps) and gaps[i] > GAP_FACTOR * usual:
            out.append(SeriesPoint(from_us(row.ts + int(usual)), None))
    return out, usual / 1e6


def read_series(
    conn: Connection,
    scope: Scope,
    metric: Metric,
    start: datetime,
    end: datetime,
    points: int = 500,
    *,
    resolution: str | None = None,
) -> Series:
    """At most `points` points of `metric` for `scope` between `start` and `end`.

    `resolution` ('raw', '5m', '1h', '1d') forces one (benchmarks, comparisons);
    by default the coarsest that fills the points is read.
    """
    if points < 1:
        raise ValueError("points must be at least 1")
    lo, hi = to_us(start), to_us(end)
    if hi <= lo:
        raise ValueError("end must be after start")
    per_miner = scope.kind == "miner"
    if resolution is None:
        resolution = choose_resolution(hi - lo, points, raw_allowed=per_miner)
        resolution = _reaching_back(conn, scope, resolution, lo)
    elif resolution == "raw" and not per_miner:
        raise ValueError("raw samples serve a miner's series only")
    if resolution == "raw" and scope.id is not None:
        rows = _raw_rows(conn, scope.id, lo, hi)
        found, step_s = _raw_points(rows, metric, lo, hi, points)
    else:
        size = BUCKET_US[resolution]
        step = _step_for(size, lo, hi, points)
        rows = _rollup_rows(conn, scope, resolution, lo - lo % step, hi)
        found, step_s = _grid(rows, metric, lo, hi, step, per_miner), step / 1e6
    return Series(
        scope=scope.key,
        metric=metric,
        unit=UNITS[metric],
        resolution=resolution,
        step_s=step_s,
        start=start,
        end=end,
        points=found,
    )
