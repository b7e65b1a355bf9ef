"""A farm's daily snapshot: the figures an operator reads a day, a week or a year later.

Figures the store could not know are None, never zero: a day without rollup data has
no mean hashrate, which is not the same as a farm that hashed nothing. Payouts are
exact integers of atomic units per coin, so sums over a year stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


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
    revenue: Mapping[str, float] | None = None
    partial: bool = False
    source: SnapshotSource = SnapshotSource.NONE
