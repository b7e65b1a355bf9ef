"""Which jobs the commander schedules, and how often: the one list of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.commander.network_sync import network_job
from rigwatch.commander.notify.dispatch import notify_job
from rigwatch.commander.payout_sync import payout_job
from rigwatch.commander.pool_sync import pool_sync_job
from rigwatch.config import Settings
from rigwatch.store.retention import RetentionPolicy, apply_retention
from rigwatch.store.rollups import run_rollups
from rigwatch.store.snapshots import snapshot_job

ROLLUPS_EVERY_S = 60.0
RETENTION_EVERY_S = 3600.0
SNAPSHOTS_EVERY_S = 1800.0


def _rollups(conn: Connection, now: datetime) -> JobOutcome:
    report = run_rollups(conn, now)
    return JobOutcome(more=report.more, detail=report.detail)


def default_jobs(settings: Settings) -> list[JobSpec]:
    """The jobs of a commander with `settings`."""
    policy = RetentionPolicy(
        raw_hours=settings.retention_raw_hours,
        days_5m=settings.retention_5m_days,
        days_1h=settings.retention_1h_days,
        days_1d=settings.retention_1d_days,
    )

    def retention(conn: Connection, now: datetime) -> JobOutcome:
        report = apply_retention(conn, now, policy)
        return JobOutcome(more=report.more, detail=report.detail)

    def snapshots(conn: Connection, now: datetime) -> JobOutcome:
        taken = snapshot_job(conn, now, offline_after_s=settings.offline_after_s)
        return JobOutcome(detail=", ".join(day.isoformat() for day in taken) or "none missing")

    jobs = [
        JobSpec("rollups", ROLLUPS_EVERY_S, _rollups, first_after_s=5.0),
        JobSpec("retention", RETENTION_EVERY_S, retention, first_after_s=60.0),
        JobSpec("snapshots", SNAPSHOTS_EVERY_S, snapshots, first_after_s=30.0),
    ]
    # With no channel configured it sends nothing; channels are named by an admin.
    jobs.append(notify_job(settings))
    if settings.external_sync:
        jobs.append(network_job(settings.mempool_url, settings.network_sync_s))
        jobs.append(pool_sync_job(settings))
        jobs.append(payout_job(settings))
    return jobs
