"""The commander's scheduled jobs: rollups, retention, snapshots, and later the pool and
chain syncs.

Jobs run one at a time on a worker thread, each in its own transaction, so they never
hold the event loop and never fight each other for SQLite's single writer (the ingest
writer has its own connection and commits between them). A job that raises is logged,
counted and tried again on its schedule; it never stops the scheduler. A job that
reports more work left (a backlog processed in bounded chunks) runs again soon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from rigwatch.domain.views import JobStatus

log = logging.getLogger(__name__)

FAILING_AFTER = 3
MORE_AFTER_S = 1.0
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a job reports: `more` when it stopped at its chunk bound with work left."""

    more: bool = False
    detail: str = ""


JobFn = Callable[[Connection, datetime], JobOutcome | None]
SyncFn = Callable[[Engine, datetime], JobOutcome | None]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """`run` works inside one transaction the scheduler opens. `sync` is for jobs that
    talk to the outside world (pools, explorers, price feeds): it gets the engine and
    opens its own short transactions after each fetch, so no write lock is held while
    waiting on the network. Exactly one of the two is given."""

    name: str
    every_s: float
    run: JobFn | None = None
    first_after_s: float = 2.0
    sync: SyncFn | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.sync is None):
            raise ValueError(f"job {self.name}: give exactly one of run and sync")


@dataclass(slots=True)
class _State:
    spec: JobSpec
    next_run: float
    last_run: float | None = None
    last_success: float | None = None
    last_duration_s: float | None = None
    consecutive_failures: int = 0
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    last_detail: str = ""
    running: bool = False


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Scheduler:
    """Runs `jobs` on their periods until stopped; `statuses()` is what the API shows."""

    def __init__(self, engine: Engine, jobs: Sequence[JobSpec]) -> None:
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        for job in jobs:
            if job.every_s <= 0:
                raise ValueError(f"job {job.name}: period must be positive")
        self._engine = engine
        now = time.time()
        self._states = {j.name: _State(j, now + j.first_after_s) for j in jobs}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def statuses(self) -> list[JobStatus]:
        return [
            JobStatus(
                name=s.spec.name,
                every_s=s.spec.every_s,
                last_run=_dt(s.last_run),
                last_success=_dt(s.last_success),
                last_duration_s=s.last_duration_s,
                consecutive_failures=s.consecutive_failures,
                next_run=_dt(s.next_run),
                runs=s.runs,
                failures=s.failures,
                last_error=s.last_error,
                last_detail=s.last_detail,
                running=s.running,
                failing=s.consecutive_failures >= FAILING_AFTER,
            )
            for s in self._states.values()
        ]

    def failing(self) -> list[str]:
        """Jobs that failed FAILING_AFTER times in a row or more."""
        return [n for n, s in self._states.items() if s.consecutive_failures >= FAILING_AFTER]

    async def run(self, stop: asyncio.Event) -> None:
        """Run due jobs until `stop` is set."""
        while not stop.is_set():
            due = min(self._states.values(), key=lambda s: s.next_run, default=None)
            if due is None:
                await stop.wait()
                return
            delay = due.next_run - time.time()
            if delay > 0:
                self._wake.clear()
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                ]
                try:
                    await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waiters:
                        w.cancel()
                continue
            await self._run_one(due)

    async def run_now(self, name: str) -> JobStatus:
        """Run one job at once (an admin's request, a test); its status afterwards."""
        state = self._states.get(name)
        if state is None:
            raise KeyError(name)
        await self._run_one(state)
        return next(s for s in self.statuses() if s.name == name)

    async def _run_one(self, state: _State) -> None:
        async with self._lock:
            state.running = True
            started = time.time()
            try:
                outcome = await asyncio.to_thread(self._call, state.spec)
            except Exception as exc:  # a failing job must not stop the others (logged)
                log.exception("job %s failed", state.spec.name)
                state.consecutive_failures += 1
                state.failures += 1
                state.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
                outcome = None
            else:
                state.consecutive_failures = 0
                state.last_success = time.time()
                state.last_error = None
                state.last_detail = outcome.detail if outcome else ""
            finally:
                state.running = False
            state.runs += 1
            state.last_run = started
            state.last_duration_s = time.time() - started
            more = outcome is not None and outcome.more
            state.next_run = time.time() + (MORE_AFTER_S if more else state.spec.every_s)
            self._wake.set()

    def _call(self, spec: JobSpec) -> JobOutcome | None:
        now = datetime.now(UTC)
        if spec.sync is not None:
            return spec.sync(self._engine, now)
        assert spec.run is not None  # noqa: S101 - checked in JobSpec
        with self._engine.begin() as conn:
            return spec.run(conn, now)


async def run_scheduler(scheduler: Scheduler, stop: asyncio.Event) -> None:
    """The scheduler as a task that ends quietly on stop or cancellation."""
    with contextlib.suppress(asyncio.CancelledError):
        await scheduler.run(stop)
