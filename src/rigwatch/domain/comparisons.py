"""Period comparisons: today against a day, a week, a month, a quarter and a year ago.

Two kinds of metric, compared differently because they mean different things:

- Level metrics (mean hashrate, expected hashrate, efficiency, power, uptime, miners
  online) describe a state. Today's value is compared with the snapshot exactly
  1 / 7 / 30 / 90 / 365 days back (D / W / M / Q / Y).
- Sum metrics (shares found, blocks found, accepted shares, energy, payouts per coin,
  revenue) accumulate. Comparing one day's payout with one day's payout a month ago says
  little, so each compares the period's sum so far with the same span of the previous
  period. The windows (both ends inclusive; today counts as the part of it so far):

  - D: today vs yesterday.
  - W: the last 7 days (today and the 6 before) vs the 7 days before those.
  - M: this calendar month so far (the 1st to today, n days) vs the first n days of
    the previous month, cut at that month's end: on March 31 that is March 1-31
    against February 1-28 (29 in a leap year); on March 15, March 1-15 against
    February 1-15.
  - Q: this calendar quarter so far (n days) vs the first n days of the previous
    quarter, cut at its end.
  - Y: this calendar year so far (n days) vs the first n days of the previous year,
    cut at its end (December 31 of a leap year: 366 days against 365).

A value that is not known is None and never counts as zero: a missing past snapshot
makes `partial_data` true and leaves every metric it feeds unavailable (a sum over a
window with a missing day is unavailable, since summing the other days would
understate it). A past value of zero gives no percentage, only a trend from the sign.

Revenue (`revenue_sat`, satoshis after the pool's fee) is a sum metric whose days each
have a basis: a window with a day of unknown revenue (or a snapshot without revenue) has
no sum, not a smaller one. The metric says what its figures are: `current_basis` and
`past_basis` per window (`actual`, `expected`, `mixed` when its days are of both, or
`unknown`), and `basis` over the windows that are known. Other metrics have no basis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rigwatch.domain.history import Snapshot
from rigwatch.domain.profit import Basis

Number = int | float


class Period(StrEnum):
    D = "D"
    W = "W"
    M = "M"
    Q = "Q"
    Y = "Y"


DAYS_BACK: Mapping[Period, int] = {
    Period.D: 1,
    Period.W: 7,
    Period.M: 30,
    Period.Q: 90,
    Period.Y: 365,
}


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    NEUTRAL = "neutral"
    UNAVAILABLE = "unavailable"


class MetricKind(StrEnum):
    LEVEL = "level"  # today's value vs the snapshot N days back
    SUM = "sum"  # this period's sum so far vs the same span of the previous period


class SumBasis(StrEnum):
    """How a sum over days is known: every day actual, every day expected, some of each
    (mixed), or not at all (unknown: a day's figure or its snapshot is missing)."""

    ACTUAL = "actual"
    EXPECTED = "expected"
    MIXED = "mixed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Window:
    """Days [start, end] summed for the sum metrics, and those with no snapshot."""

    start: date
    end: date
    days: int
    missing: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricComparison:
    metric: str
    kind: MetricKind
    unit: str
    current: Number | None
    past: Number | None
    change: Number | None
    percent: float | None
    trend: Trend
    basis: SumBasis | None = None  # revenue only: over the known sides
    current_basis: SumBasis | None = None
    past_basis: SumBasis | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every metric for one period; `unavailable` names those with a side missing."""

    period: Period
    today: date
    past_day: date
    current_window: Window
    previous_window: Window
    partial_data: bool
    unavailable: tuple[str, ...]
    metrics: tuple[MetricComparison, ...]


LEVEL_METRICS: tuple[tuple[str, str], ...] = (
    ("hashrate_mean_hs", "H/s"),
    ("expected_mean_hs", "H/s"),
    ("efficiency_j_th", "J/TH"),
    ("power_mean_w", "W"),
    ("uptime_pct", "%"),
    ("miners_online", "miners"),
)
SUM_METRICS: tuple[tuple[str, str], ...] = (
    ("shares_found", "shares"),
    ("blocks_found", "blocks"),
    ("accepted", "shares"),
    ("energy_kwh", "kWh"),
)
PAYOUT_PREFIX = "payouts."
PAYOUT_UNIT = "atomic"
REVENUE_METRIC = "revenue_sat"
REVENUE_UNIT = "sat"


def days_back(period: Period) -> int:
    return DAYS_BACK[period]


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _first_n(start: date, n: int, last: date) -> tuple[date, date]:
    """[start, start + n - 1], cut at `last`."""
    return start, min(start + timedelta(days=n - 1), last)


def sum_windows(period: Period, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(current, previous) windows of the sum metrics, both ends inclusive."""
    if period in (Period.D, Period.W):
        n = DAYS_BACK[period]
        current = (today - timedelta(days=n - 1), today)
        return current, (current[0] - timedelta(days=n), current[0] - timedelta(days=1))
    if period is Period.M:
        start = today.replace(day=1)
        prev_end = start - timedelta(days=1)
        prev_start = prev_end.replace(day=1)
    elif period is Period.Q:
        start = _quarter_start(today)
        prev_end = start - timedelta(days=1)
        prev_start = _quarter_start(prev_end)
    else:
        start = date(today.year, 1, 1)
        prev_end = start - timedelta(days=1)
        prev_start = date(prev_end.year, 1, 1)
    n = (today - start).days + 1
    return (start, today), _first_n(prev_start, n, prev_end)


def history_span(period: Period, today: date) -> tuple[date, date]:
    """The past days [first, last] whose snapshots `compare` reads for this period."""
    _current, (prev_start, _prev_end) = sum_windows(period, today)
    first = min(prev_start, today - timedelta(days=DAYS_BACK[period]))
    return first, today - timedelta(days=1)


def change_of(
    current: Number | None, past: Number | None
) -> tuple[Number | None, float | None, Trend]:
    """Absolute change, percentage (None for a zero past) and trend of one metric.

    Floats within a relative 1e-9 of each other are neutral: a mean that differs only
    by rounding did not move.
    """
    if current is None or past is None:
        return None, None, Trend.UNAVAILABLE
    change = current - past
    percent = None if past == 0 else change / abs(past) * 100.0
    if change == 0 or (
        isinstance(change, float) and math.isclose(current, past, rel_tol=1e-9, abs_tol=0.0)
    ):
        trend = Trend.NEUTRAL
    else:
        trend = Trend.UP if change > 0 else Trend.DOWN
    return change, percent, trend


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _metric(
    name: str, kind: MetricKind, unit: str, current: Number | None, past: Number | None
) -> MetricComparison:
    change, percent, trend = change_of(current, past)
    return MetricComparison(name, kind, unit, current, past, change, percent, trend)


def _figure(name: str) -> Callable[[Snapshot], Number | None]:
    def get(snap: Snapshot) -> Number | None:
        value: Number | None = getattr(snap, name)
        return value

    return get


def _payout(coin: str) -> Callable[[Snapshot], Number | None]:
    """A day without a payout in `coin` paid zero of it: that zero is known."""

    def get(snap: Snapshot) -> Number | None:
        return snap.payouts.get(coin, 0)

    return get


def _revenue(snap: Snapshot) -> Number | None:
    """A day's revenue in satoshis; None when unknown or never computed (not zero)."""
    return None if snap.revenue is None else snap.revenue.sat


def basis_of(bases: list[Basis]) -> SumBasis:
    """The basis of a sum of figures with these bases."""
    found = set(bases)
    if not found or Basis.UNKNOWN in found:
        return SumBasis.UNKNOWN
    if found == {Basis.ACTUAL}:
        return SumBasis.ACTUAL
    if found == {Basis.EXPECTED}:
        return SumBasis.EXPECTED
    return SumBasis.MIXED


def _window_basis(snaps: list[Snapshot] | None) -> SumBasis:
    if not snaps or any(s.revenue is None for s in snaps):
        return SumBasis.UNKNOWN
    return basis_of([s.revenue.basis for s in snaps if s.revenue is not None])


def combined_basis(*sides: SumBasis) -> SumBasis:
    """The basis of a comparison over its known sides: unknown when none is known."""
    known = {b for b in sides if b is not SumBasis.UNKNOWN}
    if not known:
        return SumBasis.UNKNOWN
    return known.pop() if len(known) == 1 else SumBasis.MIXED


def _revenue_metric(
    cur_snaps: list[Snapshot] | None, prev_snaps: list[Snapshot] | None
) -> MetricComparison:
    current, past = _window_sum(cur_snaps, _revenue), _window_sum(prev_snaps, _revenue)
    change, percent, trend = change_of(current, past)
    cur_basis, past_basis = _window_basis(cur_snaps), _window_basis(prev_snaps)
    return MetricComparison(
        REVENUE_METRIC,
        MetricKind.SUM,
        REVENUE_UNIT,
        current,
        past,
        change,
        percent,
        trend,
        basis=combined_basis(cur_basis, past_basis),
        current_basis=cur_basis,
        past_basis=past_basis,
    )


def _window_sum(
    snaps: list[Snapshot] | None, value: Callable[[Snapshot], Number | None]
) -> Number | None:
    """Sum over a window's snapshots; None when a day or one day's figure is unknown."""
    if snaps is None:
        return None
    total: Number = 0
    for snap in snaps:
        figure = value(snap)
        if figure is None:
            return None
        total += figure
    return total


def compare(period: Period, current: Snapshot, history: Mapping[date, Snapshot]) -> Comparison:
    """Compare `current` (today's snapshot so far) with the stored `history` (by day).

    `history` needs the days of `history_span`; more are ignored, and a stored
    snapshot of today is ignored in favour of `current`. A past snapshot flagged
    `partial` (its day incomplete) is used but makes `partial_data` true.
    """
    today = current.day
    past_day = today - timedelta(days=DAYS_BACK[period])
    past = history.get(past_day)

    def snap_of(day: date) -> Snapshot | None:
        return current if day == today else history.get(day)

    windows: list[Window] = []
    window_snaps: list[list[Snapshot] | None] = []
    for start, end in sum_windows(period, today):
        found = [(d, snap_of(d)) for d in _days(start, end)]
        missing = tuple(d for d, s in found if s is None)
        windows.append(Window(start, end, (end - start).days + 1, missing))
        window_snaps.append(None if missing else [s for _d, s in found if s is not None])
    cur_snaps, prev_snaps = window_snaps

    metrics = [
        _metric(
            name,
            MetricKind.LEVEL,
            unit,
            getattr(current, name),
            None if past is None else getattr(past, name),
        )
        for name, unit in LEVEL_METRICS
    ]
    for name, unit in SUM_METRICS:
        metrics.append(
            _metric(
                name,
                MetricKind.SUM,
                unit,
                _window_sum(cur_snaps, _figure(name)),
                _window_sum(prev_snaps, _figure(name)),
            )
        )
    metrics.append(_revenue_metric(cur_snaps, prev_snaps))
    used = [s for snaps in window_snaps if snaps for s in snaps if s is not current]
    coins = sorted({coin for s in [current, *used] for coin in s.payouts})
    for coin in coins:
        metrics.append(
            _metric(
                PAYOUT_PREFIX + coin,
                MetricKind.SUM,
                PAYOUT_UNIT,
                _window_sum(cur_snaps, _payout(coin)),
                _window_sum(prev_snaps, _payout(coin)),
            )
        )

    past_used = ([past] if past is not None else []) + used
    partial = (
        past is None
        or any(w.missing for w in windows)
        or any(s.partial for s in past_used if s.day != today)
    )
    return Comparison(
        period=period,
        today=today,
        past_day=past_day,
        current_window=windows[0],
        previous_window=windows[1],
        partial_data=partial,
        unavailable=tuple(m.metric for m in metrics if m.trend is Trend.UNAVAILABLE),
        metrics=tuple(metrics),
    )
