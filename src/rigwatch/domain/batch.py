"""What one ingest batch carries once it has left the wire format."""

from __future__ import annotations

from dataclasses import dataclass

from rigwatch.domain.host import HostIdentity, HostSample
from rigwatch.domain.models import Event, MinerIdentity, Sample
from rigwatch.domain.p2pool import P2PoolStats


@dataclass(frozen=True, slots=True)
class Reading:
    miner: MinerIdentity
    sample: Sample


@dataclass(frozen=True, slots=True)
class HostReading:
    """One reading of a host; `miner_keys` are the miners (rigs) that run on it."""

    host: HostIdentity
    sample: HostSample
    miner_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class P2PoolReading:
    """One read of a P2Pool node's data API; `node` is the sentry's name for it."""

    node: str
    stats: P2PoolStats
    host_key: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """A sentry's batch; (sentry_id, seq) is its idempotency key."""

    sentry_id: int
    seq: int
    readings: tuple[Reading, ...] = ()
    events: tuple[Event, ...] = ()
    hosts: tuple[HostReading, ...] = ()
    p2pool: tuple[P2PoolReading, ...] = ()
