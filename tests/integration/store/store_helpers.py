"""Builders for the store tests' batches: short to write, fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rigwatch.domain.batch import Reading
from rigwatch.domain.models import Event, EventKind, MinerIdentity, MinerKind, Sample

T0 = datetime(2025, 1, 1, tzinfo=UTC)

__all__ = ["T0", "Reading", "at", "event", "reading"]


def at(seconds: float) -> datetime:
    """A UTC time `seconds` after the tests' fixed epoch."""
    return T0 + timedelta(seconds=seconds)


def reading(
    key: str,
    seconds: float,
    *,
    hashrate: float | None = 100e12,
    expected: float | None = 100e12,
    accepted: int | None = None,
    temp: float | None = 60.0,
    kind: MinerKind = MinerKind.ASIC,
    **identity: str,
) -> Reading:
    return Reading(
        miner=MinerIdentity(key=key, kind=kind, **identity),
        sample=Sample(
            ts=at(seconds),
            hashrate_hs=hashrate,
            hashrate_expected_hs=expected,
            temp_c=temp,
            power_w=3000.0,
            accepted=accepted,
            rejected=0 if accepted is not None else None,
            stale=0 if accepted is not None else None,
            fans_rpm=(3000, 3100),
        ),
    )


def event(kind: EventKind, key: str, seconds: float, miner_key: str | None = None) -> Event:
    return Event(ts=at(seconds), kind=kind, key=key, miner_key=miner_key, message=str(kind))
