"""A snapshot's revenue: how it is rounded and which one a retake keeps."""

from __future__ import annotations

import pytest

from rigwatch.domain.history import SnapshotRevenue, kept_revenue
from rigwatch.domain.profit import Basis

ACTUAL = SnapshotRevenue.of(15_456, Basis.ACTUAL, price=100_000.0)
EXPECTED = SnapshotRevenue.of(9_610.69, Basis.EXPECTED, price=100_000.0)
UNKNOWN = SnapshotRevenue.of(None, Basis.UNKNOWN, price=100_000.0)


def test_an_expectation_is_rounded_to_a_satoshi_and_valued_at_the_days_price() -> None:
    # 9,610.69 sat -> 9,611 sat; x 100,000 USD / 1e8 = 9.611 USD
    assert EXPECTED.sat == 9_611
    assert EXPECTED.fiat == pytest.approx(9.611)
    # 15,456 sat x 100,000 / 1e8 = 15.456 USD
    assert ACTUAL.fiat == pytest.approx(15.456)


def test_unknown_revenue_has_no_amount_and_no_value_never_zero() -> None:
    assert (UNKNOWN.sat, UNKNOWN.fiat, UNKNOWN.basis) == (None, None, Basis.UNKNOWN)
    # an amount with an unknown basis is unknown too
    assert SnapshotRevenue.of(5.0, Basis.UNKNOWN).sat is None
    assert SnapshotRevenue.of(5.0, Basis.ACTUAL).fiat is None  # no price, no value
    with pytest.raises(ValueError):
        SnapshotRevenue(sat=0, basis=Basis.UNKNOWN)
    with pytest.raises(ValueError):
        SnapshotRevenue(sat=None, basis=Basis.ACTUAL)


def test_a_retake_never_keeps_a_less_known_revenue() -> None:
    assert kept_revenue(ACTUAL, UNKNOWN) is ACTUAL
    assert kept_revenue(ACTUAL, EXPECTED) is ACTUAL
    assert kept_revenue(EXPECTED, UNKNOWN) is EXPECTED
    assert kept_revenue(UNKNOWN, EXPECTED) is EXPECTED
    assert kept_revenue(EXPECTED, ACTUAL) is ACTUAL
    assert kept_revenue(None, UNKNOWN) is UNKNOWN
    assert kept_revenue(ACTUAL, None) is ACTUAL
    # the same basis: the newer figure (a late sync found another payout)
    later = SnapshotRevenue.of(20_000, Basis.ACTUAL, price=100_000.0)
    assert kept_revenue(ACTUAL, later) is later


def test_a_retake_without_the_days_price_keeps_the_stored_price() -> None:
    later = SnapshotRevenue.of(20_000, Basis.ACTUAL, chain_payouts={"BTC": 20_000})
    kept = kept_revenue(ACTUAL, later)
    assert kept is not None
    # 20,000 sat at the stored 100,000 USD = 20.00 USD
    assert (kept.sat, kept.price, kept.chain_payouts) == (20_000, 100_000.0, {"BTC": 20_000})
    assert kept.fiat == pytest.approx(20.0)
