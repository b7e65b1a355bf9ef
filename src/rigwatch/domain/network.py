"""The network a farm mines against: chain tip, difficulty, hashrate, fees, blocks, price.

Parsed from an Esplora / mempool-compatible explorer (`protocols.esplora`), kept as a
series by the network job, and shown with the age of each figure: when a source fails
the last good value stays, marked by how old it is. Nothing here is ever filled in from
a constant; a figure never fetched is None ("unknown"), not zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

BTC = "BTC"
# The fiat currencies mempool.space quotes (`GET /api/v1/prices`).
FIAT_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY")
# Fee estimate levels as stored (`fee_<level>` columns, sat/vB).
FEE_LEVELS = ("fast", "half_hour", "hour", "economy")


@dataclass(frozen=True, slots=True)
class DifficultyAdjustment:
    """`/api/v1/difficulty-adjustment`, in base units (seconds, percent, aware datetimes).

    `source_ms` says whether the source wrote its times in milliseconds (the current
    mempool backend) or in seconds (the old docs example)."""

    progress_pct: float | None
    difficulty_change_pct: float | None
    estimated_retarget: datetime | None
    remaining_blocks: int | None
    remaining_s: float | None
    previous_retarget_pct: float | None
    previous_time: datetime | None
    next_retarget_height: int | None
    time_avg_s: float | None
    expected_blocks: float | None
    source_ms: bool | None


@dataclass(frozen=True, slots=True)
class NetworkHashrate:
    """`/api/v1/mining/hashrate/<period>`: the current estimate (H/s) and difficulty."""

    hashrate_hs: float | None
    difficulty: float | None


@dataclass(frozen=True, slots=True)
class FeeEstimates:
    """`/api/v1/fees/recommended`, sat/vB."""

    fast: float | None
    half_hour: float | None
    hour: float | None
    economy: float | None
    minimum: float | None


@dataclass(frozen=True, slots=True)
class ChainBlock:
    """One block of the chain. Pool, fees and reward come from mempool's `extras`;
    a plain Esplora block list has none of them (None)."""

    height: int
    hash: str | None
    ts: datetime | None
    pool: str | None
    fees_sat: int | None
    reward_sat: int | None
    tx_count: int | None
    difficulty: float | None = None


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """`/api/v1/prices`: fiat per coin by currency, quoted at `time` (None: not given)."""

    time: datetime | None
    prices: Mapping[str, float]
    coin: str = BTC


@dataclass(frozen=True, slots=True)
class NetworkReading:
    """What one sync learned; a source that failed leaves its part None (or empty)."""

    height: int | None = None
    difficulty: float | None = None
    hashrate_hs: float | None = None
    adjustment: DifficultyAdjustment | None = None
    fees: FeeEstimates | None = None
    blocks: tuple[ChainBlock, ...] = ()
    prices: PriceQuote | None = None
    chain: str = BTC

    def has_stats(self) -> bool:
        """Whether there is anything for the `network_stats` series."""
        return any(
            v is not None
            for v in (self.height, self.difficulty, self.hashrate_hs, self.adjustment, self.fees)
        )


@dataclass(frozen=True, slots=True)
class Figure(Generic[T]):
    """A value with the time it was learned and how old it was when read."""

    value: T
    as_of: datetime
    age_s: float


def figure(value: T, as_of: datetime, now: datetime) -> Figure[T]:
    return Figure(value, as_of, max(0.0, (now - as_of).total_seconds()))


@dataclass(frozen=True, slots=True)
class NetworkView:
    """The newest known value of each network figure, each with its own `as_of`.

    A figure is None only when no sync ever got it; `read_at` is the `now` the ages are
    measured from."""

    chain: str
    read_at: datetime
    height: Figure[int] | None = None
    difficulty: Figure[float] | None = None
    hashrate_hs: Figure[float] | None = None
    next_retarget_height: Figure[int] | None = None
    next_retarget_at: Figure[datetime] | None = None
    difficulty_change_pct: Figure[float] | None = None
    fees: Mapping[str, Figure[float] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One stored price: fiat per coin in `currency`, quoted at `as_of`; `age_s` is how
    old it was when read (None in a history listing)."""

    coin: str
    currency: str
    price: float
    as_of: datetime
    age_s: float | None = None
