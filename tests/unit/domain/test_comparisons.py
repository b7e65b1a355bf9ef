"""Period comparisons on worked examples: every number is written here and recomputed
by hand in the comments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from rigwatch.domain.comparisons import (
    Comparison,
    MetricComparison,
    MetricKind,
    Period,
    SumBasis,
    Trend,
    change_of,
    compare,
    history_span,
    sum_windows,
)
from rigwatch.domain.history import Snapshot, SnapshotRevenue
from rigwatch.domain.profit import Basis

XMR = 10**12  # atomic units per XMR


def actual(sat: int) -> SnapshotRevenue:
    return SnapshotRevenue(sat=sat, basis=Basis.ACTUAL)


def expected(sat: int) -> SnapshotRevenue:
    return SnapshotRevenue(sat=sat, basis=Basis.EXPECTED)


UNKNOWN_REVENUE = SnapshotRevenue(sat=None, basis=Basis.UNKNOWN)


def snap(day: date, **fields: Any) -> Snapshot:
    """A complete day: 100 TH/s of 110 expected, 3 kW, 30 J/TH, 9 of 10 miners online,
    10,000 sat of revenue received."""
    base = Snapshot(
        day=day,
        taken_at=datetime.combine(day + timedelta(days=1), time(0, 5), tzinfo=UTC),
        hashrate_mean_hs=100e12,
        expected_mean_hs=110e12,
        power_mean_w=3000.0,
        energy_kwh=72.0,
        efficiency_j_th=30.0,
        uptime_pct=90.0,
        miners_total=10,
        miners_online=9,
        miners_warning=0,
        miners_offline=1,
        accepted=1000,
        rejected=10,
        shares_found=2,
        blocks_found=0,
        payouts={},
        revenue=actual(10_000),
    )
    return replace(base, **fields)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def history(
    start: date, end: date, build: Callable[[date], Snapshot] | None = None
) -> dict[date, Snapshot]:
    make = build or snap
    return {d: make(d) for d in days(start, end)}


def metric(result: Comparison, name: str) -> MetricComparison:
    return next(m for m in result.metrics if m.metric == name)


# --- change, percent and trend -------------------------------------------------------


def test_a_rise_gives_its_change_its_percent_and_an_upward_trend() -> None:
    # 110 - 100 = 10; 10 / 100 = +10 %
    assert change_of(110.0, 100.0) == (10.0, 10.0, Trend.UP)


def test_a_fall_gives_a_negative_change_and_a_downward_trend() -> None:
    # 75 - 100 = -25; -25 / 100 = -25 %
    assert change_of(75, 100) == (-25, -25.0, Trend.DOWN)


def test_a_zero_baseline_gives_no_percentage_but_a_trend_from_the_sign() -> None:
    # 3 blocks against none: change +3, percent undefined (not 0 %), trend up
    assert change_of(3, 0) == (3, None, Trend.UP)
    assert change_of(-2.5, 0.0) == (-2.5, None, Trend.DOWN)
    assert change_of(0, 0) == (0, None, Trend.NEUTRAL)


def test_no_change_is_neutral_and_rounding_noise_does_not_make_a_trend() -> None:
    assert change_of(42, 42) == (0, 0.0, Trend.NEUTRAL)
    # 0.1 + 0.2 = 0.30000000000000004: a rounding difference, not a rise
    change, _percent, trend = change_of(0.1 + 0.2, 0.3)
    assert trend is Trend.NEUTRAL
    assert change == pytest.approx(0.0, abs=1e-15)


def test_a_missing_side_is_unavailable_never_zero() -> None:
    assert change_of(None, 100.0) == (None, None, Trend.UNAVAILABLE)
    assert change_of(100.0, None) == (None, None, Trend.UNAVAILABLE)


def test_a_negative_baseline_gives_the_percentage_of_its_size() -> None:
    # -50 to -25: change +25, percent +25 / |-50| = +50 %
    assert change_of(-25, -50) == (25, 50.0, Trend.UP)


# --- windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "today", "current", "previous"),
    [
        # D: today against yesterday
        ("D", date(2025, 3, 31), ("2025-03-31", "2025-03-31"), ("2025-03-30", "2025-03-30")),
        # W: Mar 25-31 (7 days) against Mar 18-24 (7 days)
        ("W", date(2025, 3, 31), ("2025-03-25", "2025-03-31"), ("2025-03-18", "2025-03-24")),
        # M on Mar 31: 31 days, but February has only 28: cut at Feb 28
        ("M", date(2025, 3, 31), ("2025-03-01", "2025-03-31"), ("2025-02-01", "2025-02-28")),
        # ... 29 in a leap year
        ("M", date(2024, 3, 31), ("2024-03-01", "2024-03-31"), ("2024-02-01", "2024-02-29")),
        # M on Mar 15: the first 15 days of each month
        ("M", date(2025, 3, 15), ("2025-03-01", "2025-03-15"), ("2025-02-01", "2025-02-15")),
        # M on May 31: April has 30 days, cut at Apr 30
        ("M", date(2025, 5, 31), ("2025-05-01", "2025-05-31"), ("2025-04-01", "2025-04-30")),
        # M in January: the previous month is last year's December
        ("M", date(2025, 1, 10), ("2025-01-01", "2025-01-10"), ("2024-12-01", "2024-12-10")),
        # Q on May 10: Apr 1 - May 10 is 30 + 10 = 40 days; Jan 1 + 39 days = Feb 9
        ("Q", date(2025, 5, 10), ("2025-04-01", "2025-05-10"), ("2025-01-01", "2025-02-09")),
        # Q on Jan 5: the previous quarter is last year's Q4
        ("Q", date(2025, 1, 5), ("2025-01-01", "2025-01-05"), ("2024-10-01", "2024-10-05")),
        # Q on Mar 31 (90 days: 31 + 28 + 31) against Oct 1 - Dec 29 (90 days of 92)
        ("Q", date(2025, 3, 31), ("2025-01-01", "2025-03-31"), ("2024-10-01", "2024-12-29")),
        # Y on Dec 31 of a leap year: 366 days against all 365 of 2023
        ("Y", date(2024, 12, 31), ("2024-01-01", "2024-12-31"), ("2023-01-01", "2023-12-31")),
        # Y on Mar 1 2025: 31 + 28 + 1 = 60 days; 2024 is a leap year, so Jan 1 + 59 = Feb 29
        ("Y", date(2025, 3, 1), ("2025-01-01", "2025-03-01"), ("2024-01-01", "2024-02-29")),
    ],
)
def test_sum_windows_compare_this_period_so_far_with_the_same_span_before(
    period: str, today: date, current: tuple[str, str], previous: tuple[str, str]
) -> None:
    (cs, ce), (ps, pe) = sum_windows(Period(period), today)
    assert (cs.isoformat(), ce.isoformat()) == current
    assert (ps.isoformat(), pe.isoformat()) == previous


def test_history_span_covers_the_level_day_and_both_windows() -> None:
    # M on Mar 31 2025: level day Mar 31 - 30 = Mar 1; previous window from Feb 1
    assert history_span(Period.M, date(2025, 3, 31)) == (date(2025, 2, 1), date(2025, 3, 30))
    # Y on Mar 1 2025: level day 365 days back = Mar 1 2024; previous window from Jan 1 2024
    assert history_span(Period.Y, date(2025, 3, 1)) == (date(2024, 1, 1), date(2025, 2, 28))


# --- level metrics, each period -------------------------------------------------------


@pytest.mark.parametrize(("period", "back"), [("D", 1), ("W", 7), ("M", 30), ("Q", 90), ("Y", 365)])
def test_level_metrics_compare_today_with_the_snapshot_that_many_days_back(
    period: str, back: int
) -> None:
    today = date(2025, 6, 30)
    past_day = today - timedelta(days=back)
    start, end = history_span(Period(period), today)
    past = history(start, end)
    # only the day `back` days ago differs: 80 TH/s, 2,800 W, 35 J/TH, 8 miners online
    past[past_day] = snap(
        past_day,
        hashrate_mean_hs=80e12,
        power_mean_w=2800.0,
        efficiency_j_th=35.0,
        miners_online=8,
        uptime_pct=80.0,
    )
    result = compare(Period(period), snap(today), past)

    assert result.past_day == past_day
    assert result.partial_data is False
    assert result.unavailable == ()
    hashrate = metric(result, "hashrate_mean_hs")
    # 100 - 80 = 20 TH/s; 20 / 80 = +25 %
    assert (hashrate.current, hashrate.past) == (100e12, 80e12)
    assert hashrate.change == pytest.approx(20e12)
    assert hashrate.percent == pytest.approx(25.0)
    assert hashrate.trend is Trend.UP
    assert hashrate.kind is MetricKind.LEVEL
    power = metric(result, "power_mean_w")
    # 3000 - 2800 = 200 W; 200 / 2800 = +7.142857 %
    assert power.change == pytest.approx(200.0)
    assert power.percent == pytest.approx(7.142857, rel=1e-6)
    efficiency = metric(result, "efficiency_j_th")
    # 30 - 35 = -5 J/TH (better); -5 / 35 = -14.285714 %
    assert efficiency.change == pytest.approx(-5.0)
    assert efficiency.percent == pytest.approx(-14.285714, rel=1e-6)
    assert efficiency.trend is Trend.DOWN
    online = metric(result, "miners_online")
    # 9 - 8 = 1 miner; 1 / 8 = +12.5 %
    assert (online.change, online.percent, online.trend) == (1, 12.5, Trend.UP)
    uptime = metric(result, "uptime_pct")
    # 90 - 80 = 10 points; 10 / 80 = +12.5 %
    assert uptime.change == pytest.approx(10.0)
    assert uptime.percent == pytest.approx(12.5)
    expected = metric(result, "expected_mean_hs")
    assert (expected.change, expected.percent, expected.trend) == (0.0, 0.0, Trend.NEUTRAL)


# --- missing and partial snapshots ----------------------------------------------------


def test_a_missing_past_snapshot_makes_the_level_metrics_unavailable_not_zero() -> None:
    today = date(2025, 6, 30)
    past = history(*history_span(Period.W, today))
    del past[date(2025, 6, 23)]  # the snapshot 7 days back
    result = compare(Period.W, snap(today), past)

    assert result.partial_data is True
    hashrate = metric(result, "hashrate_mean_hs")
    assert hashrate.current == 100e12
    assert hashrate.past is None
    assert hashrate.change is None
    assert hashrate.percent is None
    assert hashrate.trend is Trend.UNAVAILABLE
    assert "hashrate_mean_hs" in result.unavailable
    assert "miners_online" in result.unavailable
    # The current window is Jun 24-30, the previous Jun 17-23: Jun 23 is the previous
    # window's last day, so its sums are unavailable too, while the current ones stand.
    assert result.previous_window.missing == (date(2025, 6, 23),)
    assert result.current_window.missing == ()
    shares = metric(result, "shares_found")
    assert shares.current == 14  # 7 days x 2 shares
    assert shares.past is None
    assert shares.trend is Trend.UNAVAILABLE


def test_a_missing_day_in_the_previous_window_leaves_level_metrics_alone() -> None:
    today = date(2025, 6, 30)
    past = history(*history_span(Period.W, today))
    del past[date(2025, 6, 20)]  # inside Jun 17-23, not the level day Jun 23
    result = compare(Period.W, snap(today), past)

    assert result.partial_data is True
    assert metric(result, "hashrate_mean_hs").trend is Trend.NEUTRAL
    assert metric(result, "shares_found").past is None
    assert metric(result, "accepted").past is None
    assert "hashrate_mean_hs" not in result.unavailable
    assert {"shares_found", "blocks_found", "accepted", "energy_kwh"} <= set(result.unavailable)


def test_a_missing_day_in_this_periods_window_makes_its_sums_unavailable() -> None:
    today = date(2025, 6, 30)
    past = history(*history_span(Period.W, today))
    del past[date(2025, 6, 27)]
    result = compare(Period.W, snap(today), past)

    assert result.partial_data is True
    assert result.current_window.missing == (date(2025, 6, 27),)
    shares = metric(result, "shares_found")
    assert shares.current is None
    assert shares.past == 14
    assert shares.trend is Trend.UNAVAILABLE


def test_no_history_at_all_is_partial_and_every_comparison_unavailable() -> None:
    result = compare(Period.D, snap(date(2025, 6, 30)), {})
    assert result.partial_data is True
    assert all(m.trend is Trend.UNAVAILABLE for m in result.metrics)
    assert all(m.past is None for m in result.metrics)
    assert set(result.unavailable) == {m.metric for m in result.metrics}


def test_a_past_snapshot_flagged_partial_is_used_but_flags_the_comparison() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    past = {yesterday: snap(yesterday, partial=True, hashrate_mean_hs=50e12)}
    result = compare(Period.D, snap(today), past)
    assert result.partial_data is True
    # 100 - 50 = 50 TH/s; 50 / 50 = +100 %
    assert metric(result, "hashrate_mean_hs").percent == pytest.approx(100.0)


def test_todays_snapshot_in_progress_does_not_flag_the_comparison() -> None:
    today = date(2025, 6, 30)
    result = compare(
        Period.D, snap(today, partial=True), {date(2025, 6, 29): snap(date(2025, 6, 29))}
    )
    assert result.partial_data is False


def test_an_unknown_figure_in_a_present_snapshot_is_unavailable_without_partial() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    # no hashrate yesterday, so no efficiency either: that metric alone is unavailable
    result = compare(Period.D, snap(today), {yesterday: snap(yesterday, efficiency_j_th=None)})
    assert result.partial_data is False
    assert result.unavailable == ("efficiency_j_th",)


# --- sum metrics ----------------------------------------------------------------------


def test_day_sums_compare_today_so_far_with_yesterday() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    result = compare(
        Period.D,
        snap(today, shares_found=5, blocks_found=1, accepted=400),
        {yesterday: snap(yesterday, shares_found=4, blocks_found=0, accepted=1000)},
    )
    shares = metric(result, "shares_found")
    # 5 - 4 = 1; 1 / 4 = +25 %
    assert (shares.current, shares.past, shares.change, shares.percent) == (5, 4, 1, 25.0)
    assert shares.kind is MetricKind.SUM
    blocks = metric(result, "blocks_found")
    # a block today, none yesterday: +1, no percentage, up
    assert (blocks.change, blocks.percent, blocks.trend) == (1, None, Trend.UP)
    accepted = metric(result, "accepted")
    # 400 - 1000 = -600; -600 / 1000 = -60 %
    assert (accepted.change, accepted.percent, accepted.trend) == (-600, -60.0, Trend.DOWN)


def test_week_sums_compare_the_last_seven_days_with_the_seven_before() -> None:
    today = date(2025, 6, 30)

    def build(day: date) -> Snapshot:
        # the previous week (Jun 17-23) found 1 share a day, this week (Jun 24-30) 3
        return snap(day, shares_found=3 if day >= date(2025, 6, 24) else 1, energy_kwh=70.0)

    past = history(*history_span(Period.W, today), build=build)
    result = compare(Period.W, build(today), past)
    shares = metric(result, "shares_found")
    # 7 x 3 = 21 against 7 x 1 = 7; +14; 14 / 7 = +200 %
    assert (shares.current, shares.past, shares.change, shares.percent) == (21, 7, 14, 200.0)
    energy = metric(result, "energy_kwh")
    # 7 x 70 = 490 kWh each week: no change
    assert (energy.current, energy.past, energy.trend) == (490.0, 490.0, Trend.NEUTRAL)


def test_month_payouts_compare_march_31_with_all_of_february() -> None:
    today = date(2025, 3, 31)

    def build(day: date) -> Snapshot:
        # March: 0.01 XMR a day; February: 0.012 XMR a day and one BTC payout on Feb 10
        if day.month == 3:
            return snap(day, payouts={"XMR": XMR // 100})
        if day == date(2025, 2, 10):
            return snap(day, payouts={"XMR": 12 * XMR // 1000, "BTC": 50_000})
        return snap(day, payouts={"XMR": 12 * XMR // 1000})

    past = history(*history_span(Period.M, today), build=build)
    result = compare(Period.M, build(today), past)

    assert (result.current_window.start, result.current_window.end) == (
        date(2025, 3, 1),
        date(2025, 3, 31),
    )
    assert (result.current_window.days, result.previous_window.days) == (31, 28)
    assert result.partial_data is False
    xmr = metric(result, "payouts.XMR")
    # March 1-31: 31 x 10,000,000,000 = 310,000,000,000 atomic (0.31 XMR)
    # February 1-28: 28 x 12,000,000,000 = 336,000,000,000 atomic (0.336 XMR)
    # change: -26,000,000,000; percent: -26 / 336 = -7.738095 %
    assert xmr.current == 310_000_000_000
    assert xmr.past == 336_000_000_000
    assert xmr.change == -26_000_000_000
    assert xmr.percent == pytest.approx(-7.738095, rel=1e-6)
    assert xmr.trend is Trend.DOWN
    assert xmr.unit == "atomic"
    btc = metric(result, "payouts.BTC")
    # no BTC in March is a known zero: 0 - 50,000 = -50,000, -100 %
    assert (btc.current, btc.past, btc.change, btc.percent) == (0, 50_000, -50_000, -100.0)


def test_month_payouts_in_a_leap_year_take_february_29_too() -> None:
    today = date(2024, 3, 31)
    past = history(*history_span(Period.M, today), build=lambda d: snap(d, payouts={"XMR": 1000}))
    result = compare(Period.M, snap(today, payouts={"XMR": 1000}), past)
    xmr = metric(result, "payouts.XMR")
    # 31 x 1000 = 31,000 against 29 x 1000 = 29,000; +2,000; 2 / 29 = +6.896552 %
    assert (xmr.current, xmr.past, xmr.change) == (31_000, 29_000, 2_000)
    assert xmr.percent == pytest.approx(6.896552, rel=1e-6)


def test_month_sums_mid_month_compare_the_same_number_of_days() -> None:
    today = date(2025, 3, 15)
    past = history(*history_span(Period.M, today), build=lambda d: snap(d, blocks_found=d.day % 2))
    result = compare(Period.M, snap(today, blocks_found=1), past)
    blocks = metric(result, "blocks_found")
    # odd days find a block: March 1-15 has 8 odd days, February 1-15 also 8
    assert (blocks.current, blocks.past, blocks.change, blocks.percent) == (8, 8, 0, 0.0)
    assert blocks.trend is Trend.NEUTRAL


def test_year_sums_compare_this_year_so_far_with_the_same_days_last_year() -> None:
    today = date(2025, 1, 3)
    past = history(*history_span(Period.Y, today), build=lambda d: snap(d, shares_found=10))
    result = compare(Period.Y, snap(today, shares_found=1), past)
    shares = metric(result, "shares_found")
    # Jan 1-3 2025: 10 + 10 + 1 = 21; Jan 1-3 2024: 30; -9; -9 / 30 = -30 %
    assert (shares.current, shares.past, shares.change, shares.percent) == (21, 30, -9, -30.0)


def test_quarter_compares_the_level_90_days_back_and_the_quarter_so_far() -> None:
    today = date(2025, 5, 10)
    past = history(*history_span(Period.Q, today), build=lambda d: snap(d, shares_found=1))
    past[date(2025, 2, 9)] = snap(date(2025, 2, 9), hashrate_mean_hs=125e12, shares_found=1)
    result = compare(Period.Q, snap(today, shares_found=1), past)
    # level: May 10 - 90 days = Feb 9: 100 against 125 TH/s, -20 %
    assert result.past_day == date(2025, 2, 9)
    assert metric(result, "hashrate_mean_hs").percent == pytest.approx(-20.0)
    # sums: Apr 1 - May 10 (40 days) against Jan 1 - Feb 9 (40 days), 1 share a day each
    assert (metric(result, "shares_found").current, metric(result, "shares_found").past) == (
        40,
        40,
    )


def test_an_unknown_energy_on_one_day_makes_that_windows_energy_unavailable() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    result = compare(Period.D, snap(today), {yesterday: snap(yesterday, energy_kwh=None)})
    energy = metric(result, "energy_kwh")
    assert (energy.current, energy.past, energy.trend) == (72.0, None, Trend.UNAVAILABLE)


# --- revenue --------------------------------------------------------------------------


def test_revenue_received_compares_today_with_yesterday_as_actual() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    result = compare(
        Period.D,
        snap(today, revenue=actual(15_000)),
        {yesterday: snap(yesterday, revenue=actual(12_000))},
    )
    revenue = metric(result, "revenue_sat")
    # 15,000 - 12,000 = +3,000 sat; 3,000 / 12,000 = +25 %
    assert (revenue.current, revenue.past, revenue.change) == (15_000, 12_000, 3_000)
    assert revenue.percent == 25.0
    assert revenue.trend is Trend.UP
    assert (revenue.kind, revenue.unit) == (MetricKind.SUM, "sat")
    assert revenue.basis is SumBasis.ACTUAL
    assert (revenue.current_basis, revenue.past_basis) == (SumBasis.ACTUAL, SumBasis.ACTUAL)
    assert result.unavailable == ()
    # the other metrics have no basis
    assert metric(result, "shares_found").basis is None


def test_week_revenue_sums_each_window_and_says_expected_or_mixed() -> None:
    today = date(2025, 6, 30)

    def build(day: date) -> Snapshot:
        # the previous week (Jun 17-23): 9,000 sat a day, expected (no wallet synced);
        # this week (Jun 24-30): 10,000 sat received a day, today 4,000 expected so far
        if day == today:
            return snap(day, revenue=expected(4_000))
        return snap(day, revenue=actual(10_000) if day >= date(2025, 6, 24) else expected(9_000))

    past = history(*history_span(Period.W, today), build=build)
    result = compare(Period.W, build(today), past)
    revenue = metric(result, "revenue_sat")
    # this week: 6 x 10,000 + 4,000 = 64,000; the week before: 7 x 9,000 = 63,000
    # +1,000 sat; 1,000 / 63,000 = +1.587302 %
    assert (revenue.current, revenue.past, revenue.change) == (64_000, 63_000, 1_000)
    assert revenue.percent == pytest.approx(1.587302, rel=1e-6)
    assert revenue.trend is Trend.UP
    assert revenue.current_basis is SumBasis.MIXED  # 6 days actual, today expected
    assert revenue.past_basis is SumBasis.EXPECTED
    assert revenue.basis is SumBasis.MIXED
    assert result.partial_data is False


def test_all_expected_revenue_is_expected() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    result = compare(
        Period.D,
        snap(today, revenue=expected(2_500)),
        {yesterday: snap(yesterday, revenue=expected(10_000))},
    )
    revenue = metric(result, "revenue_sat")
    # 2,500 - 10,000 = -7,500 sat; -7,500 / 10,000 = -75 %
    assert (revenue.change, revenue.percent, revenue.trend) == (-7_500, -75.0, Trend.DOWN)
    assert revenue.basis is SumBasis.EXPECTED


def test_one_day_of_unknown_revenue_makes_its_windows_revenue_unavailable() -> None:
    today = date(2025, 6, 30)
    past = history(*history_span(Period.W, today))  # 10,000 sat received every day
    past[date(2025, 6, 20)] = snap(date(2025, 6, 20), revenue=UNKNOWN_REVENUE)
    result = compare(Period.W, snap(today), past)
    revenue = metric(result, "revenue_sat")
    # this week: 7 x 10,000 = 70,000 sat; the week before (Jun 17-23) has Jun 20
    # unknown: no sum, not 6 x 10,000 = 60,000
    assert revenue.current == 70_000
    assert revenue.past is None
    assert (revenue.change, revenue.percent, revenue.trend) == (None, None, Trend.UNAVAILABLE)
    assert revenue.past_basis is SumBasis.UNKNOWN
    assert revenue.current_basis is SumBasis.ACTUAL
    assert revenue.basis is SumBasis.ACTUAL  # the figure shown is actual
    assert result.unavailable == ("revenue_sat",)
    # every snapshot is there: an unknown figure is not partial data
    assert result.partial_data is False


def test_a_snapshot_without_revenue_counts_as_unknown_never_zero() -> None:
    today = date(2025, 6, 30)
    yesterday = date(2025, 6, 29)
    result = compare(Period.D, snap(today, revenue=None), {yesterday: snap(yesterday)})
    revenue = metric(result, "revenue_sat")
    assert (revenue.current, revenue.past, revenue.trend) == (None, 10_000, Trend.UNAVAILABLE)
    assert revenue.current_basis is SumBasis.UNKNOWN
    assert revenue.basis is SumBasis.ACTUAL
    no_history = metric(compare(Period.D, snap(today, revenue=None), {}), "revenue_sat")
    assert no_history.basis is SumBasis.UNKNOWN
