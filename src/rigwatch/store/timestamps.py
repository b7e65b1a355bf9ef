"""Timestamps as integer microseconds since the Unix epoch (UTC).

Integers sort correctly, compare fast in SQLite's B-trees (a datetime stored as
text would cost a parse per comparison and sorts wrongly across offsets) and
map to BIGINT on PostgreSQL, so both databases share one logical schema.
Conversion to aware datetimes happens only at the store's boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """Aware datetime → microseconds since epoch; naive values are refused, not guessed."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: the store only takes aware UTC times")
    return (value - _EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    """Microseconds since epoch → aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)


def from_us_opt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def now_us() -> int:
    return to_us(datetime.now(UTC))
