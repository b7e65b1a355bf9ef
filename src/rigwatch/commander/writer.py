"""The one task that owns the write connection.

Requests hand their batch to the writer and wait; the writer groups whatever is queued
into one transaction (group commit) and only then answers. A sentry therefore deletes a
batch from its spool only after it is durable, and many sentries share one fsync.

The writer keeps one connection of its own and an `IngestCache` of the miners it has
written (ids, identities, counter chains), valid only on that connection and only
until another connection writes; it is emptied whenever a transaction fails.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from rigwatch.domain.batch import Batch
from rigwatch.store.ingest import BatchResult, write_batches
from rigwatch.store.ingest_rows import IngestCache, RowBatch, batch_size

log = logging.getLogger(__name__)


@dataclass
class _Job:
    batch: Batch | RowBatch
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[BatchResult]
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = max(1, batch_size(self.batch))


class WriterStopped(RuntimeError):
    """The writer is shutting down; the sentry will retry the batch."""


class IngestWriter:
    """Group-commits ingest batches on a dedicated thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_rows: int,
        max_delay_s: float,
        on_stored: Callable[[list[BatchResult]], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_rows = max_rows
        self._max_delay_s = max_delay_s
        self.on_stored = on_stored
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rigwatch-writer", daemon=True)
        self._stopping = False
        self._conn: Connection | None = None
        self._cache = IngestCache()
        self.batches_written = 0
        self.rows_written = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout=30)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def submit(self, batch: Batch | RowBatch) -> BatchResult:
        if self._stopping:
            raise WriterStopped("commander is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(batch, loop, loop.create_future())
        self._queue.put(job)
        return await job.future

    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, rows = [first], first.rows
        deadline = time.monotonic() + self._max_delay_s
        while rows < self._max_rows:
            try:
                # Take what is already queued without waiting: group commit, no added latency.
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
            rows += job.rows
            if time.monotonic() > deadline:
                break
        return jobs, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            jobs, stop = self._collect(first)
            self._write(jobs)
        # Anything left after stop is refused so its sentry retries later.
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                _settle(job, error=WriterStopped("commander is shutting down"))
        self._disconnect()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _disconnect(self) -> None:
        self._cache.clear()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:
                log.exception("closing the writer's connection failed")

    def _write(self, jobs: list[_Job]) -> None:
        now = datetime.now(UTC)
        try:
            conn = self._connection()
            with conn.begin():
                results = write_batches(conn, [j.batch for j in jobs], now, self._cache)
        except Exception as exc:
            # What the cache learnt in this transaction was rolled back with it; a fresh
            # connection also recovers from one the database dropped.
            self._disconnect()
            if len(jobs) == 1:
                self.failures += 1
                log.exception(
                    "ingest write failed for sentry %s seq %s",
                    jobs[0].batch.sentry_id,
                    jobs[0].batch.seq,
                )
                _settle(jobs[0], error=exc)
                return
            # One bad batch must not fail the others that shared its transaction.
            for job in jobs:
                self._write([job])
            return
        self.batches_written += len(jobs)
        self.rows_written += sum(r.samples + r.events for r in results)
        for job, result in zip(jobs, results, strict=True):
            _settle(job, result=result)
        if self.on_stored is not None:
            try:
                self.on_stored(results)
            except Exception:
                log.exception("live-stream publish failed")


def _settle(
    job: _Job, *, result: BatchResult | None = None, error: BaseException | None = None
) -> None:
    def apply() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)  # type: ignore[arg-type]

    try:
        job.loop.call_soon_threadsafe(apply)
    except RuntimeError:
        log.warning("event loop closed before batch %s was acknowledged", job.batch.seq)
