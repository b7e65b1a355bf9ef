"""A farm's daily snapshot: the figures an operator reads a day, a week or a year later.

Figures the store could not know are None, never zero: a day without rollup data has
no mean hashrate, which is not the same as a farm that hashed nothing. Payouts are
exact integers of atomic units per coin, so sums over a year stay exact.

The day's revenue (`SnapshotRevenue`) carries its basis, as `domain.profit` does:
`actual` (what the farm's Bitcoin wallets received), `expected` (what the hashes done
should have earned) or `unknown` (an input is missing; the amount is None, not 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from rigwatch.domain.profit import Basis

SAT_PER_BTC = 100_000_000


class SnapshotSource(StrEnum):
    """Where a snapshot's level figures came from, coarsest first."""

    DAY = "1d"
    HOUR = "1h"
    FIVE_MIN = "5m"
    LIVE = "live"  # today, before the first rollup: the miners' latest state
    NONE = "none"  # no rollup data for the day at all


@dataclass(frozen=True, slots=True)
class ModelCount:
    """Miners of one model on the day: how many were known, how many reported."""

    model: str
    miners: int
    reporting: int
    hashrate_mean_hs: float | None


BASIS_RANK: Mapping[Basis, int] = {Basis.UNKNOWN: 0, Basis.EXPECTED: 1, Basis.ACTUAL: 2}


@dataclass(frozen=True, slots=True)
class SnapshotRevenue:
    """The farm's revenue on one UTC day, after the pool's fee.

    `sat`: satoshis; `actual` is exactly what the farm's BTC wallets received that day
    (from the chain), `expected` the odds' figure rounded to the nearest satoshi; None
    exactly when `basis` is `unknown`. `chain_payouts`: what every wallet received that
    day per coin, in exact atomic units. `price`: the day's mean Bitcoin price in
    `currency`, and `fiat` the revenue at that price; each None when no quote is known.
    """

    sat: int | None
    basis: Basis
    chain_payouts: Mapping[str, int] = field(default_factory=dict)
    currency: str = "USD"
    price: float | None = None
    fiat: float | None = None

    def __post_init__(self) -> None:
        if (self.sat is None) != (self.basis is Basis.UNKNOWN):
            raise ValueError(f"revenue {self.sat!r} does not fit its basis {self.basis}")
        if self.fiat is not None and (self.sat is None or self.price is None):
            raise ValueError("a fiat revenue needs the satoshis and the price")

    @classmethod
    def of(
        cls,
        sat: float | None,
        basis: Basis,
        *,
        chain_payouts: Mapping[str, int] | None = None,
        currency: str = "USD",
        price: float | None = None,
    ) -> SnapshotRevenue:
        """From a satoshi figure (a fractional expectation is rounded to a satoshi); an
        unknown basis or amount gives an unknown revenue, and the fiat value is
        computed from the whole satoshis at `price`."""
        whole = None if sat is None or basis is Basis.UNKNOWN else round(sat)
        return cls(
            sat=whole,
            basis=Basis.UNKNOWN if whole is None else basis,
            chain_payouts=dict(chain_payouts or {}),
            currency=currency,
            price=price,
            fiat=None if whole is None or price is None else whole * price / SAT_PER_BTC,
        )

    @property
    def rank(self) -> int:
        return BASIS_RANK[self.basis]


def kept_revenue(
    stored: SnapshotRevenue | None, new: SnapshotRevenue | None
) -> SnapshotRevenue | None:
    """The revenue a retaken snapshot keeps: the new one unless it is less known than
    the stored one (an actual is never replaced by an expected or an unknown, an
    expected never by an unknown). At the same basis the new one wins (a late sync
    fixed it), keeping the stored day's price where the new one has none."""
    if new is None or stored is None:
        return stored if new is None else new
    if new.rank < stored.rank:
        return stored
    if new.price is None and stored.price is not None and stored.currency == new.currency:
        return SnapshotRevenue.of(
            new.sat,
            new.basis,
            chain_payouts=new.chain_payouts,
            currency=new.currency,
            price=stored.price,
        )
    return new


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Farm totals for one UTC day.

    `partial` says the day's figures are incomplete: the snapshot was taken before the
    day ended, or no rollup covered the day. Level figures (means) are over the part of
    the day the rollups cover; counts (shares, blocks, payouts, energy) are day sums.
    """

    day: date
    taken_at: datetime
    hashrate_mean_hs: float | None
    expected_mean_hs: float | None
    power_mean_w: float | None
    energy_kwh: float | None
    efficiency_j_th: float | None
    uptime_pct: float | None
    miners_total: int
    miners_online: int
    miners_warning: int
    miners_offline: int
    accepted: int | None
    rejected: int | None
    shares_found: int
    blocks_found: int
    by_model: tuple[ModelCount, ...] = ()
    payouts: Mapping[str, int] = field(default_factory=dict)
    revenue: SnapshotRevenue | None = None  # None: not computed (taken before revenue was)
    partial: bool = False
    source: SnapshotSource = SnapshotSource.NONE
