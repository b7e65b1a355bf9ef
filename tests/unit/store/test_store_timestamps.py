"""Microsecond timestamps: exact round trips, order kept, naive times refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigwatch.store.timestamps import from_us, from_us_opt, to_us

aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(aware)
def test_a_time_round_trips_exactly(value: datetime):
    assert from_us(to_us(value)) == value


@given(aware, aware)
def test_integer_order_is_time_order(a: datetime, b: datetime):
    assert (to_us(a) < to_us(b)) == (a < b)


def test_other_offsets_are_converted_to_utc():
    local = datetime(2025, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert from_us(to_us(local)) == datetime(2025, 1, 1, tzinfo=UTC)
    assert from_us(to_us(local)).tzinfo is UTC


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        to_us(datetime(2025, 1, 1))


def test_none_passes_through():
    assert from_us_opt(None) is None
    assert from_us_opt(0) == datetime(1970, 1, 1, tzinfo=UTC)
