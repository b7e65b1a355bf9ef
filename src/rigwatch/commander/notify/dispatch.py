"""The notify job: alert events → channels → outbox → delivery.

Every `notify_every_s` (10 s) the job, in ONE short transaction, routes the alert events
after its watermark to the channels whose filters admit them, releases held notices
that are due (quiet hours over, digest window closed), queues the daily summaries that
are due, and claims the outbox rows due for sending. Then, with no transaction open, it
sends each claimed row through its channel (each call with its own timeout) and writes
each result in its own short transaction. Ingest never waits on it: the ingest writer
has its own connection, and a slow or dead service costs only this job's time.

A failed send is retried with exponential backoff (`notify_backoff_s`, doubling up to
`notify_backoff_max_s`, or longer when the service sent Retry-After) until
`notify_max_attempts`; the channel keeps `last_error`, `consecutive_failures` and
`last_success_at` for the API. After one failure a channel gets no more tries in the
same run (its other due rows wait for the next one). The job raises (so that
`/api/v1/admin/jobs` counts a failure) only when every channel it tried failed; its
detail names the channels that failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import Engine

from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.commander.notify import registry
from rigwatch.commander.notify.base import DeliveryError, SendContext
from rigwatch.commander.notify.render import render
from rigwatch.config import Settings
from rigwatch.domain.notify import DeliveryState
from rigwatch.store import notify as store
from rigwatch.store.tables import notifications
from rigwatch.store.timestamps import to_us

log = logging.getLogger(__name__)

JOB_NAME = "notify"
DELIVER_BATCH = 50
LEASE_S = 300.0


class NotifyFailed(RuntimeError):
    """Every channel the job tried failed."""


@dataclass(frozen=True, slots=True)
class Options:
    public_url: str
    timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_s: float = 30.0
    backoff_max_s: float = 3600.0
    offline_after_s: float = 120.0
    lease_s: float = LEASE_S


def options(settings: Settings) -> Options:
    return Options(
        public_url=dashboard_url(settings),
        timeout_s=settings.notify_timeout_s,
        max_attempts=settings.notify_max_attempts,
        backoff_s=settings.notify_backoff_s,
        backoff_max_s=settings.notify_backoff_max_s,
        offline_after_s=settings.offline_after_s,
    )


def dashboard_url(settings: Settings) -> str:
    """The base of the links in notices: `public_url`, else where the commander listens."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


@dataclass(frozen=True, slots=True)
class Attempt:
    notification_id: int
    channel_id: int
    ok: bool
    error: str | None
    state: DeliveryState


def deliver(
    engine: Engine, delivery: store.Delivery, now: datetime, opts: Options, client: httpx.Client
) -> Attempt:
    """Send one claimed row (no transaction open) and record the result."""
    chan = delivery.channel
    ctx = SendContext(client=client, timeout_s=opts.timeout_s, now=now)
    error: DeliveryError | None = None
    try:
        message = render(
            delivery.kind,
            delivery.payload,
            tz=chan.schedule.tz,
            public_url=opts.public_url,
            now=now,
        )
        registry.send(chan.kind, chan.config, message, ctx)
    except DeliveryError as exc:
        error = exc
    except ValidationError as exc:
        error = DeliveryError(f"channel configuration invalid: {exc.error_count()} errors")
    with engine.begin() as conn:
        if error is None:
            store.record_sent(conn, delivery, now)
            return Attempt(delivery.id, chan.id, True, None, DeliveryState.SENT)
        state = store.record_failure(
            conn,
            delivery,
            now,
            str(error),
            max_attempts=opts.max_attempts,
            base_s=opts.backoff_s,
            max_s=opts.backoff_max_s,
            retry_after_s=error.retry_after_s,
        )
    log.warning(
        "notification %s on channel %s (%s) failed: %s", delivery.id, chan.id, chan.name, error
    )
    return Attempt(delivery.id, chan.id, False, str(error), state)


def run_notify(engine: Engine, now: datetime, opts: Options, *, client: httpx.Client) -> JobOutcome:
    """One round: route, release, summarise, claim (one transaction), then deliver."""
    with engine.begin() as conn:
        routed = store.route_events(conn, now)
        released = store.release_held(conn, now)
        summaries = store.queue_summaries(conn, now, offline_after_s=opts.offline_after_s)
        store.prune(conn, now)
        due = store.claim_due(conn, now, lease_s=opts.lease_s, limit=DELIVER_BATCH)
    failed: dict[int, str] = {}
    names: dict[int, str] = {}
    sent = 0
    postponed: list[int] = []
    for delivery in due:
        names[delivery.channel.id] = delivery.channel.name
        if delivery.channel.id in failed:
            postponed.append(delivery.id)
            continue
        attempt = deliver(engine, delivery, now, opts, client)
        if attempt.ok:
            sent += 1
        else:
            failed[delivery.channel.id] = attempt.error or "failed"
    if postponed:
        # Claimed but not tried (their channel just failed): due again after one backoff.
        with engine.begin() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.id.in_(postponed))
                .values(next_try_at=to_us(now + timedelta(seconds=opts.backoff_s)))
            )
    detail = (
        f"{routed.events} alert events, {routed.queued} queued, {released} released, "
        f"{summaries} summaries, {sent} sent, {len(due) - sent - len(postponed)} failed"
    )
    if failed:
        detail += "; failing: " + "; ".join(f"{names[c]}: {e}" for c, e in failed.items())
    if names and len(failed) == len(names):
        raise NotifyFailed(f"every channel tried failed: {detail}"[:1000])
    return JobOutcome(more=routed.more or len(due) >= DELIVER_BATCH, detail=detail)


def run_with_settings(engine: Engine, now: datetime, settings: Settings) -> JobOutcome:
    with httpx.Client(follow_redirects=False) as client:
        return run_notify(engine, now, options(settings), client=client)


def send_test(
    engine: Engine, channel_id: int, now: datetime, opts: Options, *, client: httpx.Client
) -> Attempt | None:
    """Send a test notice through one channel now (enabled or not); None: no channel."""
    with engine.begin() as conn:
        chan = store.get_channel(conn, channel_id)
        if chan is None:
            return None
        delivery = store.add_test(
            conn,
            channel_id,
            now,
            {"channel": chan.name, "channel_id": chan.id},
            lease_s=opts.lease_s,
        )
    if delivery is None:
        return None
    return deliver(engine, delivery, now, opts, client)


def notify_job(settings: Settings) -> JobSpec:
    """The scheduled job (to list in `schedule.default_jobs`)."""

    def run(engine: Engine, now: datetime) -> JobOutcome:
        return run_with_settings(engine, now, settings)

    return JobSpec(JOB_NAME, settings.notify_every_s, sync=run, first_after_s=10.0)
