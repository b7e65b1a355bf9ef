"""Health and the live stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import text

import rigwatch
from rigwatch.commander.auth import RW, Viewer
from rigwatch.commander.stream import TooManyClients

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    writer_backlog: int
    batches_written: int
    rows_written: int
    write_failures: int
    stream_clients: int
    jobs_failing: list[str]


@router.get("/health", response_model=Health)
def health(rw: RW) -> Health:
    """Liveness and readiness: no login needed, nothing secret in it. `degraded` names the
    scheduled jobs that failed three times in a row."""
    try:
        rw.read(lambda c: c.execute(text("SELECT 1")).scalar())
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - health reports the failure instead of raising
        database = f"error: {type(exc).__name__}"
    failing = rw.scheduler.failing()
    status = "unhealthy" if database != "ok" else ("degraded" if failing else "ok")
    return Health(
        status=status,
        version=rigwatch.__version__,
        database=database,
        writer_backlog=rw.writer.backlog,
        batches_written=rw.writer.batches_written,
        rows_written=rw.writer.rows_written,
        write_failures=rw.writer.failures,
        stream_clients=rw.hub.clients,
        jobs_failing=failing,
    )


@router.get("/stream", response_class=StreamingResponse, responses={503: {}})
async def stream(
    _: Viewer,
    rw: RW,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Server-sent events: `miners` and `summary` updates with ids; resume with Last-Event-ID."""
    try:
        body = rw.hub.subscribe(last_event_id)
    except TooManyClients as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "10"}) from exc
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
