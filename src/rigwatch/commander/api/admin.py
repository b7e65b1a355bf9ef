"""Administration: the scheduled jobs and their health."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from rigwatch.commander.auth import RW, Admin
from rigwatch.domain.views import JobStatus
from rigwatch.store import auth as store_auth

router = APIRouter(tags=["admin"])


@router.get("/admin/jobs", response_model=list[JobStatus])
def jobs(_: Admin, rw: RW) -> list[JobStatus]:
    """Every scheduled job: last run and success, duration, failures in a row, next run."""
    return rw.scheduler.statuses()


@router.post("/admin/jobs/{name}/run", response_model=JobStatus, responses={404: {}})
async def run_job(name: str, who: Admin, rw: RW) -> JobStatus:
    """Run a job now (it still runs on its schedule too)."""
    try:
        status = await rw.scheduler.run_now(name)
    except KeyError:
        raise HTTPException(404, f"no job {name!r}") from None
    rw.change(lambda c: store_auth.audit(c, who.name, "job.run", name))
    return status
