"""What the write path consumes: batches whose samples are plain records, and its cache.

A *sample record* is a dict keyed by the ingest contract's field names (the wire's
`SampleIn`), with every key present:

- `miner`: a dict with every identity field (`key`, `kind`, `ip`, `mac`, `hostname`,
  `make`, `model`, `firmware`, `worker`; None where not reported);
- `ts`: integer microseconds since the epoch, UTC (the store's unit, `timestamps`);
- the scalar figures (`hashrate_hs` ... `algorithm`), None where not reported;
- `fans_rpm` and `errors`: sequences; `hashboards`, `pools`, `devices`: sequences of
  the domain's `Hashboard`, `PoolState` and `Device`.

The commander's fast ingest path validates a request body straight into such records
(`protocols.ingest.parse_fast`), so a sample costs no pydantic model and no domain
object on its way to the store; `RowBatch.of(batch)` turns a domain `Batch` into the
same form, so every caller shares one write path.

`IngestCache` is the writer's memory of what it wrote: miner ids and identities by
(sentry, key) and each miner's newest counters. With it, a batch of known miners that
report the same identity needs no SELECT. It is only trusted while nothing else wrote
the database (see `check`), and the caller must `clear` it when a transaction fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from rigwatch.domain.batch import Batch, HostReading, P2PoolReading, Reading
from rigwatch.domain.models import Event, MinerKind, Sample
from rigwatch.store.timestamps import to_us

IDENTITY_KEYS = ("key", "kind", "ip", "mac", "hostname", "make", "model", "firmware", "worker")
FIGURE_KEYS = (
    "hashrate_hs",
    "hashrate_expected_hs",
    "temp_c",
    "temp_max_c",
    "chip_temp_c",
    "fans_rpm",
    "power_w",
    "accepted",
    "rejected",
    "stale",
    "uptime_s",
    "pool_url",
    "pool_user",
    "errors",
    "hashboards",
    "pools",
    "algorithm",
    "devices",
)

Record = dict[str, Any]


def record_of(reading: Reading) -> Record:
    """A domain reading as a sample record."""
    miner = reading.miner
    sample = reading.sample
    record: Record = {
        "miner": {name: getattr(miner, name) for name in IDENTITY_KEYS},
        "ts": to_us(sample.ts),
    }
    for name in FIGURE_KEYS:
        record[name] = getattr(sample, name)
    return record


def sample_of(record: Record, ts: datetime) -> Sample:
    """The domain sample of a record (for the domain's health rules).

    Positional, in `Sample`'s field order: ~25 % cheaper than keywords, and this runs
    once per miner per commit (tests/unit/store pin the order with a round trip).
    """
    return Sample(
        ts,
        record["hashrate_hs"],
        record["hashrate_expected_hs"],
        record["temp_c"],
        record["temp_max_c"],
        record["chip_temp_c"],
        tuple(record["fans_rpm"]),
        record["power_w"],
        record["accepted"],
        record["rejected"],
        record["stale"],
        record["uptime_s"],
        record["pool_url"],
        record["pool_user"],
        tuple(record["errors"]),
        tuple(record["hashboards"]),
        tuple(record["pools"]),
        record["algorithm"],
        tuple(record["devices"]),
    )


@dataclass(frozen=True, slots=True)
class RowBatch:
    """A sentry's batch with its samples as records; (sentry_id, seq) is its key."""

    sentry_id: int
    seq: int
    samples: Sequence[Record] = ()
    events: tuple[Event, ...] = ()
    hosts: tuple[HostReading, ...] = ()
    p2pool: tuple[P2PoolReading, ...] = ()

    @classmethod
    def of(cls, batch: Batch | RowBatch) -> RowBatch:
        if isinstance(batch, RowBatch):
            return batch
        return cls(
            batch.sentry_id,
            batch.seq,
            [record_of(r) for r in batch.readings],
            batch.events,
            batch.hosts,
            batch.p2pool,
        )


def batch_size(batch: Batch | RowBatch) -> int:
    """Samples plus events: what a batch weighs for the writer's group commit."""
    samples = batch.samples if isinstance(batch, RowBatch) else batch.readings
    return len(samples) + len(batch.events)


@dataclass(slots=True)
class KnownMiner:
    """A `miners` row as stored, plus the last reported identity known to change nothing."""

    id: int
    kind: MinerKind
    values: dict[str, Any]
    first_seen: int
    reported: dict[str, Any] | None = None


@dataclass(slots=True)
class Chain:
    """A miner's `miner_state` times and counters, to derive the next deltas from."""

    ts: int
    last_sample: int
    accepted: int | None
    rejected: int | None
    stale: int | None


@dataclass(slots=True)
class IngestCache:
    """Miners and share-counter chains as the store holds them after the last commit.

    Owned by one writer, used on one connection. `check` runs inside each write
    transaction once it holds the write lock, and empties the cache when anything else
    may have written the database since: on SQLite when `PRAGMA data_version` moved
    (any commit by any other connection, any process) or the connection changed; on
    other databases always (they are not cached).
    """

    miners: dict[tuple[int, str], KnownMiner] = field(default_factory=dict)
    by_id: dict[int, KnownMiner] = field(default_factory=dict)
    ids: dict[tuple[int, str], int] = field(default_factory=dict)
    chains: dict[int, Chain] = field(default_factory=dict)
    _connection: Any = None
    _version: int | None = None

    def clear(self) -> None:
        self.miners.clear()
        self.by_id.clear()
        self.ids.clear()
        self.chains.clear()
        self._connection = None
        self._version = None

    def check(self, conn: Connection) -> None:
        """Forget everything unless this connection alone wrote since the last check."""
        if conn.dialect.name != "sqlite":
            self.clear()
            return
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None  # noqa: S101 - an open connection
        version = dbapi.execute("PRAGMA data_version").fetchone()[0]
        if dbapi is not self._connection or version != self._version:
            self.clear()
            self._connection = dbapi
            self._version = version

    def remember(self, sentry_id: int, key: str, miner: KnownMiner) -> None:
        self.miners[(sentry_id, key)] = miner
        self.by_id[miner.id] = miner
        self.ids[(sentry_id, key)] = miner.id
