"""What one ingest batch carries once it has left the wire format."""

from __future__ import annotations

from dataclasses import dataclass

from rigwatch.domain.models import Event, MinerIdentity, Sample


@dataclass(frozen=True, slots=True)
class Reading:
    miner: MinerIdentity
    sample: Sample


@dataclass(frozen=True, slots=True)
class Batch:
    """A sentry's batch; (sentry_id, seq) is its idempotency key."""

    sentry_id: int
    seq: int
    readings: tuple[Reading, ...] = ()
    events: tuple[Event, ...] = ()
