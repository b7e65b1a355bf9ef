"""The job scheduler on a real store, and its health through a real commander."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.jobs import FAILING_AFTER, JobOutcome, JobSpec, Scheduler
from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.tables import audit_log
from tests.helpers import RunningCommander, api_client, start_commander


def _note(conn: Connection, now: datetime) -> JobOutcome:
    """A real job: it writes an audit row each run."""
    store_auth.audit(conn, "scheduler", "test.tick", now.isoformat())
    return JobOutcome(detail="noted")


def _broken(conn: Connection, now: datetime) -> None:
    conn.execute(text("SELECT * FROM no_such_table"))


def _ticks(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(audit_log).where(audit_log.c.action == "test.tick")
        return int(conn.execute(query).scalar_one())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


async def _run_for(scheduler: Scheduler, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_jobs_run_on_their_period_and_a_failing_one_stops_nothing(engine: Engine):
    scheduler = Scheduler(
        engine,
        [
            JobSpec("note", 0.1, _note, first_after_s=0),
            JobSpec("broken", 0.1, _broken, first_after_s=0),
        ],
    )
    await _run_for(scheduler, 1.0)
    note, broken = scheduler.statuses()
    assert note.runs >= 4 and note.failures == 0 and note.last_detail == "noted"
    assert _ticks(engine) == note.runs
    assert note.last_success is not None and note.consecutive_failures == 0
    assert broken.runs >= FAILING_AFTER and broken.consecutive_failures == broken.runs
    assert broken.last_success is None and "no_such_table" in (broken.last_error or "")
    assert broken.failing and scheduler.failing() == ["broken"]
    assert note.next_run is not None and note.last_run is not None


async def test_a_job_with_work_left_runs_again_soon(engine: Engine):
    calls: list[float] = []

    def chunked(conn: Connection, now: datetime) -> JobOutcome:
        calls.append(time.monotonic())
        return JobOutcome(more=len(calls) < 3)

    scheduler = Scheduler(engine, [JobSpec("backlog", 3600, chunked, first_after_s=0)])
    await _run_for(scheduler, 3.5)
    # Three chunks about a second apart, then the hour-long period.
    assert len(calls) == 3


async def test_a_sync_job_gets_the_engine_and_opens_its_own_transactions(engine: Engine):
    def fetch_then_write(eng: Engine, now: datetime) -> JobOutcome:
        # (a connector would fetch from the network here, holding no transaction)
        with eng.begin() as conn:
            _note(conn, now)
        return JobOutcome(detail="synced")

    scheduler = Scheduler(engine, [JobSpec("sync", 3600, sync=fetch_then_write)])
    status = await scheduler.run_now("sync")
    assert status.last_detail == "synced" and _ticks(engine) == 1
    with pytest.raises(ValueError, match="exactly one"):
        JobSpec("both", 1, _note, sync=fetch_then_write)
    with pytest.raises(ValueError, match="exactly one"):
        JobSpec("neither", 1)


def test_job_names_are_unique_and_periods_positive(engine: Engine):
    with pytest.raises(ValueError, match="unique"):
        Scheduler(engine, [JobSpec("a", 1, _note), JobSpec("a", 1, _note)])
    with pytest.raises(ValueError, match="positive"):
        Scheduler(engine, [JobSpec("a", 0, _note)])


@pytest.fixture
def commander_with_jobs(tmp_path: Path) -> Iterator[RunningCommander]:
    jobs = [JobSpec("note", 3600, _note, first_after_s=3600), JobSpec("broken", 0.05, _broken, 0)]
    rc = start_commander(Settings(data_dir=tmp_path / "data"), jobs=jobs)
    try:
        yield rc
    finally:
        rc.stop()
        rc.engine.dispose()


def test_health_degrades_and_names_a_job_failing_three_times(commander_with_jobs):
    rc = commander_with_jobs
    with api_client(rc, Role.ADMIN) as admin, api_client(rc, Role.VIEWER) as viewer:
        deadline = time.monotonic() + 10
        health = admin.get("/api/v1/health").json()
        while health["status"] != "degraded" and time.monotonic() < deadline:
            time.sleep(0.05)
            health = admin.get("/api/v1/health").json()
        assert health["status"] == "degraded" and health["jobs_failing"] == ["broken"]
        jobs = {j["name"]: j for j in admin.get("/api/v1/admin/jobs").json()}
        assert jobs["broken"]["consecutive_failures"] >= FAILING_AFTER
        assert jobs["note"]["runs"] == 0 and jobs["note"]["last_run"] is None
        ran = admin.post("/api/v1/admin/jobs/note/run").json()
        assert ran["runs"] == 1 and ran["last_success"] is not None
        assert _ticks(rc.engine) == 1
        assert admin.post("/api/v1/admin/jobs/nope/run").status_code == 404
        assert viewer.get("/api/v1/admin/jobs").status_code == 403
        assert viewer.post("/api/v1/admin/jobs/note/run").status_code == 403
