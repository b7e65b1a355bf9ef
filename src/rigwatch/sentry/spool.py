"""The sentry's durable outbox: every batch is written here before it is sent.

Exactly-once delivery is spool-until-ack plus the commander's (sentry, seq) idempotency:
a batch leaves this file only when the commander acknowledged it (stored now, or stored
before), so a crash or an outage at any point means a resend, never a loss or a duplicate.

Sequence numbers
    `append` assigns the next seq inside the same transaction that stores the batch, so a
    seq is never handed out twice. The counter lives in the file and survives restarts.
    A *freshly created* spool starts at the current time in microseconds: if an operator
    wipes the data directory, the new counter starts above every seq the commander has
    already stored from this sentry (unless this sentry sent more than one batch per
    microsecond on average, which it cannot), so new batches are not mistaken for replays.

Durability
    WAL with `synchronous=FULL`: a batch the sentry believes spooled is on disk, and a seq
    once used is never reissued after a power cut (reissuing one would make the commander
    discard a *different* batch as a replay). One append per poll interval makes the cost
    irrelevant.

Bound
    The spool is bounded (default 2 GiB of batch bodies or 1,000,000 batches). When an
    append would exceed the bound, the OLDEST pending batches are deleted to make room:
    during a very long outage the newest data is the most useful. Every such loss is
    counted (`dropped_count`, kept in the file) and logged at ERROR level, because data
    loss must never be silent.

The class is synchronous and single-threaded by design: each call is one short SQLite
transaction, made from the event-loop thread between polls.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rigwatch.protocols.ingest import (
    EventIn,
    HostReadingIn,
    IngestBatch,
    P2PoolStatsIn,
    SampleIn,
)

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    seq INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One pending batch: its seq and the exact JSON body to POST."""

    seq: int
    body: bytes


def _now_us() -> int:
    return time.time_ns() // 1000


class Spool:
    """Durable FIFO of serialized `IngestBatch` bodies in `data_dir/spool.db`."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 2 * 1024**3,
        max_batches: int = 1_000_000,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_batches = max_batches
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        with self._tx():
            self._db.execute(
                "INSERT OR IGNORE INTO meta(name, value) VALUES ('next_seq', ?)", (_now_us(),)
            )
            self._db.execute("INSERT OR IGNORE INTO meta(name, value) VALUES ('dropped', 0)")
            self._db.execute(
                "INSERT OR IGNORE INTO meta(name, value) "
                "VALUES ('bytes', (SELECT COALESCE(SUM(length(body)), 0) FROM pending))"
            )

    def _tx(self) -> _Transaction:
        """`with self._tx():` runs the block in one IMMEDIATE transaction."""
        return _Transaction(self._db)

    def _meta(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def append(
        self,
        samples: Sequence[SampleIn],
        events: Sequence[EventIn],
        hosts: Sequence[HostReadingIn] = (),
        p2pool: Sequence[P2PoolStatsIn] = (),
    ) -> int:
        """Store one batch under the next seq and return that seq.

        The seq is taken and the body stored in one transaction, so a crash leaves either
        both or neither.
        """
        with self._tx():
            seq = self._meta("next_seq")
            body = IngestBatch(
                seq=seq,
                samples=list(samples),
                events=list(events),
                hosts=list(hosts),
                p2pool=list(p2pool),
            )
            data = body.model_dump_json().encode()
            self._make_room(len(data))
            self._db.execute(
                "INSERT INTO pending(seq, created_at, body) VALUES (?, ?, ?)",
                (seq, time.time(), data),
            )
            self._db.execute("UPDATE meta SET value = ? WHERE name = 'next_seq'", (seq + 1,))
            self._db.execute("UPDATE meta SET value = value + ? WHERE name = 'bytes'", (len(data),))
        return seq

    def _make_room(self, incoming: int) -> None:
        """Drop the oldest batches until one more of `incoming` bytes fits (inside a tx)."""
        count = int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])
        size = self._meta("bytes")
        dropped: list[int] = []
        while count > 0 and (count + 1 > self.max_batches or size + incoming > self.max_bytes):
            seq, length = self._db.execute(
                "SELECT seq, length(body) FROM pending ORDER BY seq LIMIT 1"
            ).fetchone()
            self._db.execute("DELETE FROM pending WHERE seq = ?", (seq,))
            dropped.append(int(seq))
            count -= 1
            size -= int(length)
        if dropped:
            self._db.execute("UPDATE meta SET value = ? WHERE name = 'bytes'", (size,))
            self._db.execute(
                "UPDATE meta SET value = value + ? WHERE name = 'dropped'", (len(dropped),)
            )
            logger.error(
                "spool full (%d batches / %d bytes max): DROPPED %d oldest unsent batch(es), "
                "seq %d..%d; this data is lost",
                self.max_batches,
                self.max_bytes,
                len(dropped),
                dropped[0],
                dropped[-1],
            )

    def peek_oldest(self, n: int = 1) -> list[SpooledBatch]:
        """The `n` oldest pending batches, oldest first; nothing is removed."""
        rows = self._db.execute(
            "SELECT seq, body FROM pending ORDER BY seq LIMIT ?", (n,)
        ).fetchall()
        return [SpooledBatch(seq=int(seq), body=bytes(body)) for seq, body in rows]

    def ack(self, seq: int) -> bool:
        """Forget a batch the commander acknowledged; False if it was not pending."""
        with self._tx():
            row = self._db.execute(
                "DELETE FROM pending WHERE seq = ? RETURNING length(body)", (seq,)
            ).fetchone()
            if row is None:
                return False
            self._db.execute("UPDATE meta SET value = value - ? WHERE name = 'bytes'", (row[0],))
        return True

    def dead_letter(self, seq: int, reason: str) -> bool:
        """Move a batch the commander will never accept out of the queue, keeping it and
        the reason for an operator to inspect; False if it was not pending."""
        with self._tx():
            row = self._db.execute(
                "DELETE FROM pending WHERE seq = ? RETURNING created_at, body", (seq,)
            ).fetchone()
            if row is None:
                return False
            created_at, body = row
            self._db.execute(
                "INSERT OR REPLACE INTO dead_letter(seq, created_at, failed_at, reason, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, created_at, time.time(), reason, body),
            )
            self._db.execute("UPDATE meta SET value = value - ? WHERE name = 'bytes'", (len(body),))
        return True

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def pending_bytes(self) -> int:
        return self._meta("bytes")

    def dead_letters(self) -> list[tuple[int, str]]:
        """(seq, reason) of every dead-lettered batch, oldest first."""
        rows = self._db.execute("SELECT seq, reason FROM dead_letter ORDER BY seq").fetchall()
        return [(int(seq), str(reason)) for seq, reason in rows]

    @property
    def dropped_count(self) -> int:
        """Batches lost to the size bound since this spool file was created."""
        return self._meta("dropped")

    @property
    def next_seq(self) -> int:
        return self._meta("next_seq")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE / COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
