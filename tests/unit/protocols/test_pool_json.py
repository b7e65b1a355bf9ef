"""Pool body helpers: exact amounts, times, SI hashrates, window keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rigwatch.protocols import pool_json
from rigwatch.protocols.errors import ProtocolError


@pytest.mark.parametrize(
    ("value", "sats"),
    [
        ("0.00015180", 15180),
        ("21000000", 2_100_000_000_000_000),
        (Decimal("0.1"), 10_000_000),
        (0.1, 10_000_000),
        (1, 100_000_000),
        ("0.000000005", 0),  # half a sat rounds to even
        ("0.000000015", 2),
        ("-0.1", None),
        ("NaN", None),
        ("Infinity", None),
        ("1e400", None),
        ("abc", None),
        (True, None),
        (None, None),
    ],
)
def test_btc_to_sats_is_exact(value: object, sats: int | None) -> None:
    assert pool_json.btc_to_sats(value) == sats


@pytest.mark.parametrize(
    ("value", "atomic"),
    [(1048576, 1048576), ("250000", 250000), (Decimal("5.0"), 5), (1.5, None), (-1, None)],
)
def test_atomic(value: object, atomic: int | None) -> None:
    assert pool_json.atomic(value) == atomic


@pytest.mark.parametrize(
    ("value", "ts"),
    [
        (1751962081, datetime.fromtimestamp(1751962081, UTC)),
        ("1751962081", datetime.fromtimestamp(1751962081, UTC)),
        (1751962081000, datetime.fromtimestamp(1751962081, UTC)),
        ("2025-07-08T08:00:00.000Z", datetime(2025, 7, 8, 8, tzinfo=UTC)),
        ("2025-07-08T10:00:00+02:00", datetime(2025, 7, 8, 8, tzinfo=UTC)),
        (0, None),
        (-5, None),
        ("yesterday", None),
        (10**30, None),
    ],
)
def test_times(value: object, ts: datetime | None) -> None:
    assert pool_json.unix_time(value) == ts


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("hashrate_60s", "1m"),
        ("hashrate_3600", "1h"),
        ("hashrate_86400s", "1d"),
        ("hashrate1hr", "1h"),
        ("hashrate6hr", "6h"),
        ("hashrate15m", "15m"),
        ("hashrate7d", "7d"),
        ("hashRate", None),
        ("hashrate_0", None),
        ("SPS1m", None),
    ],
)
def test_window_keys(key: str, label: str | None) -> None:
    assert pool_json.window_of(key) == label


def test_decode_keeps_fractions_exact() -> None:
    assert pool_json.decode("x", b'{"a": 0.1}') == {"a": Decimal("0.1")}


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a": NaN}', b"1" * 5000, b"\xff\xfe\x00"])
def test_decode_refuses_with_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        pool_json.decode("x", raw)


def test_si_rates_with_huge_exponents_are_dropped() -> None:
    assert pool_json.si_rate("9e999999E") is None
    assert pool_json.si_rate("1e+03T") == 1e15
