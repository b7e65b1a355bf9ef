"""The commander's ASGI app: API, ingest, live stream and dashboard on one store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI

from rigwatch.commander.alert_eval import AlertTrigger, alert_job
from rigwatch.commander.api import (
    admin,
    alerts,
    audit,
    channels,
    farm,
    history,
    ingest,
    network,
    pools,
    profit,
    reports,
    revenue,
    rigs,
    sentries,
    series,
    system,
    users,
)
from rigwatch.commander.context import Commander
from rigwatch.commander.jobs import JobSpec, Scheduler, run_scheduler
from rigwatch.commander.live import LiveFeed
from rigwatch.commander.metrics import mount_metrics
from rigwatch.commander.schedule import default_jobs
from rigwatch.commander.stream import StreamHub
from rigwatch.commander.web import routes as web
from rigwatch.commander.writer import IngestWriter
from rigwatch.config import Settings
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.ingest import BatchResult

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, jobs: Sequence[JobSpec] | None = None) -> FastAPI:
    """The commander; `jobs` replaces the scheduled jobs of `default_jobs` (tests, tools)."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        hub = StreamHub(
            replay=settings.stream_replay,
            max_clients=settings.stream_max_clients,
            heartbeat_s=settings.stream_heartbeat_s,
        )
        writer = IngestWriter(
            engine, max_rows=settings.writer_max_rows, max_delay_s=settings.writer_max_delay_s
        )
        trigger = AlertTrigger()

        def failing_jobs() -> list[str]:
            return scheduler.failing()

        job_list = list(default_jobs(settings) if jobs is None else jobs)
        if jobs is None:
            job_list.append(
                alert_job(failing_jobs, trigger, offline_after_s=settings.offline_after_s)
            )
        scheduler = Scheduler(engine, job_list)
        rw = Commander(
            settings=settings, engine=engine, writer=writer, hub=hub, scheduler=scheduler
        )
        feed = LiveFeed(rw, loop)

        def on_stored(results: list[BatchResult]) -> None:
            # Runs on the writer thread: both only hand the results on.
            feed.on_stored(results)
            trigger.poke(results)

        writer.on_stored = on_stored
        app.state.rw = rw
        writer.start()
        summaries = asyncio.create_task(feed.summaries(), name="live-summaries")
        jobs_stop = asyncio.Event()
        job_task = asyncio.create_task(run_scheduler(scheduler, jobs_stop), name="jobs")
        try:
            yield
        finally:
            jobs_stop.set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(job_task, 30)
            hub.close_all()
            summaries.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await summaries
            await asyncio.to_thread(writer.stop)
            engine.dispose()

    app = FastAPI(
        title="rigwatch commander",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    for router in (
        system.router,
        ingest.router,
        sentries.router,
        farm.router,
        rigs.router,
        reports.router,
        series.router,
        history.router,
        network.router,
        pools.router,
        profit.router,
        revenue.router,
        admin.router,
        alerts.router,
        channels.router,
        users.router,
        audit.router,
    ):
        app.include_router(router, prefix="/api/v1")
    web.mount(app, settings)
    mount_metrics(app)
    return app
