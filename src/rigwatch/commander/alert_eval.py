"""Alert evaluation: read the inputs in bulk, advance every alert, write what changed.

`evaluate` is one evaluation in the caller's transaction. The scheduled job
(`alert_job`) evaluates every `EVERY_S` (60 s) and, when given an `AlertTrigger`, also
soon after any stored ingest batch: the writer thread only sets a flag
(`AlertTrigger.poke`, a few hundred nanoseconds, never blocks ingest) and the job, which
ticks every `TICK_S`, evaluates when it finds the flag set. So that a large farm under
continuous ingest does not evaluate back to back, a poke is acted on once at least
`DUTY` times the last evaluation's duration has passed since it ended (at most 1/DUTY of
one core): within a second for small farms, about 2-3 s for 10,000 miners. Evaluations
run on the scheduler's worker thread, one at a time with the other jobs, so ingest is
never held up, and SQLite's single writer is only taken for the final writes (the reads
come first, and most evaluations write nothing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.domain import alerts as domain
from rigwatch.store import alerts as store
from rigwatch.store.ingest import BatchResult

EVERY_S = 60.0
TICK_S = 1.0
DUTY = 5.0
JOB_NAME = "alerts"


@dataclass(frozen=True, slots=True)
class AlertReport:
    """What one evaluation did."""

    observed: int
    created: int
    changed: int
    fired: int
    resolved: int
    flapping: int
    event_ids: list[int] = field(default_factory=list)
    open: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def detail(self) -> str:
        opened = ", ".join(f"{n} {state}" for state, n in sorted(self.open.items()) if n)
        return (
            f"{self.observed} checks, {self.fired} fired, {self.resolved} resolved, "
            f"{self.flapping} flapping; open: {opened or 'none'} ({self.elapsed_s * 1000:.0f} ms)"
        )


def evaluate(
    conn: Connection,
    now: datetime,
    *,
    failing_jobs: Sequence[str] = (),
    offline_after_s: float = 120.0,
) -> AlertReport:
    """One evaluation of every rule over the stored state at `now`."""
    started = time.perf_counter()
    rules = store.load_rules(conn)
    inputs = store.load_inputs(
        conn, now, rules, failing_jobs=failing_jobs, offline_after_s=offline_after_s
    )
    open_alerts = store.load_open_alerts(conn)
    silences = store.load_silences(conn, now)
    outcome = domain.evaluate(inputs, open_alerts, silences, now)
    event_ids = store.write_outcome(conn, outcome, now)
    kinds = [n for _a, n, _s in outcome.notices]
    return AlertReport(
        observed=outcome.observed,
        created=sum(1 for a in outcome.changed if a.id is None),
        changed=len(outcome.changed),
        fired=kinds.count(domain.Notice.FIRED),
        resolved=kinds.count(domain.Notice.RESOLVED),
        flapping=kinds.count(domain.Notice.FLAPPING),
        event_ids=event_ids,
        open={str(state): n for state, n in outcome.open.items()},
        elapsed_s=time.perf_counter() - started,
    )


class AlertTrigger:
    """A flag the ingest writer sets after each stored batch; the alert job takes it.

    `poke` is safe from any thread and cheap (the writer thread calls it after every
    commit); `take` says whether a poke came since the last take."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self.pokes = 0

    def poke(self, results: Sequence[BatchResult] | None = None) -> None:
        if results is not None and not any(r.stored and r.samples for r in results):
            return
        self.pokes += 1
        self._flag.set()

    @property
    def pending(self) -> bool:
        return self._flag.is_set()

    def take(self) -> bool:
        if not self._flag.is_set():
            return False
        self._flag.clear()
        return True


def alert_job(
    scheduler_failing: Callable[[], list[str]],
    trigger: AlertTrigger | None = None,
    *,
    offline_after_s: float = 120.0,
    every_s: float = EVERY_S,
    min_gap_s: float = TICK_S,
    duty: float = DUTY,
) -> JobSpec:
    """The scheduled alert evaluation. Without a trigger it runs every `every_s`; with
    one it ticks every TICK_S and evaluates when `every_s` has passed since the last
    evaluation, or when poked and max(`min_gap_s`, `duty` x the last evaluation's time)
    has passed (an idle tick touches no database). Tests pass 0 for both."""
    last = {"at": float("-inf"), "cost": 0.0}
    detail: list[str] = ["not run yet"]

    def run(engine: Engine, now: datetime) -> JobOutcome:
        since = time.monotonic() - last["at"]
        due = since >= every_s
        poked = (
            trigger is not None and trigger.pending and since >= max(min_gap_s, duty * last["cost"])
        )
        if not (due or poked):
            return JobOutcome(detail=detail[0])
        if trigger is not None:
            trigger.take()
        started = time.monotonic()
        try:
            with engine.begin() as conn:
                report = evaluate(
                    conn, now, failing_jobs=scheduler_failing(), offline_after_s=offline_after_s
                )
        finally:
            last["at"] = time.monotonic()
            last["cost"] = last["at"] - started
        detail[0] = report.detail
        return JobOutcome(detail=report.detail)

    period = TICK_S if trigger is not None else every_s
    return JobSpec(JOB_NAME, period, sync=run, first_after_s=10.0)
