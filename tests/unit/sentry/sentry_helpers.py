"""Small builders for sentry tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rigwatch.domain.models import MinerIdentity, MinerKind, Sample
from rigwatch.protocols.ingest import EventIn, SampleIn

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def identity(key: str = "AA:BB:CC:00:00:01", ip: str = "127.0.40.1") -> MinerIdentity:
    return MinerIdentity(key=key, kind=MinerKind.ASIC, ip=ip, mac=key)


def sample_in(n: int = 0, key: str = "AA:BB:CC:00:00:01") -> SampleIn:
    ts = datetime.now(UTC) - timedelta(seconds=60)
    return SampleIn.from_domain(identity(key), Sample(ts=ts, hashrate_hs=1e14 + n, accepted=n))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def unused_events() -> list[EventIn]:
    return []
