"""Hashrates are stored in H/s and shown with SI prefixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigwatch.units import format_ago, format_hashrate, format_power, to_hs


@pytest.mark.parametrize(
    ("hs", "text"),
    [
        (0, "0.00 H/s"),
        (999, "999.00 H/s"),
        (1_200, "1.20 kH/s"),
        (1.2e12, "1.20 TH/s"),
        (110.52e12, "110.52 TH/s"),
        (3.4e18, "3.40 EH/s"),
        (None, "—"),
    ],
)
def test_hashrates_read_with_si_prefixes(hs: float | None, text: str) -> None:
    assert format_hashrate(hs) == text


@pytest.mark.parametrize(
    ("value", "unit", "hs"),
    [(1, "GH", 1e9), (2, "TH/s", 2e12), (3, "kH/s", 3e3), (4, "MH", 4e6), (5, "H/s", 5)],
)
def test_units_convert_to_hs(value: float, unit: str, hs: float) -> None:
    assert to_hs(value, unit) == hs


def test_an_unknown_unit_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown hashrate unit"):
        to_hs(1, "bananas")


def test_power_and_relative_times() -> None:
    assert format_power(950) == "950 W"
    assert format_power(3250) == "3.25 kW"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert format_ago(now - timedelta(seconds=12), now) == "12 s ago"
    assert format_ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert format_ago(now - timedelta(hours=2), now) == "2 h ago"
    assert format_ago(now - timedelta(days=4), now) == "4 d ago"


@given(st.floats(min_value=0, max_value=1e21, allow_nan=False))
def test_any_hashrate_formats_to_one_prefixed_figure(hs: float) -> None:
    value, unit = format_hashrate(hs).split(" ")
    assert unit.endswith("H/s")
    assert float(value) < 1000 or unit == "ZH/s"
