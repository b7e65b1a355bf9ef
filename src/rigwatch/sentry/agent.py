"""The sentry's main loop: enroll, discover, then poll → track → spool, while the
uplink sends spooled batches on its own task.

Polling never waits for the commander: batches go to the durable spool, and the uplink
delivers them whenever the commander is reachable. Rediscovery also runs beside the
polling, so a slow discovery round never delays a sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import httpx

from rigwatch.domain.models import Event
from rigwatch.sentry.batching import local_to_wire, split, to_wire, track
from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.discovery import GetMiner
from rigwatch.sentry.enrollment import CommanderUnavailable, Credential, ensure_credential
from rigwatch.sentry.fleet import Fleet
from rigwatch.sentry.local import LocalRead, LocalSources
from rigwatch.sentry.pollers.base import Poller
from rigwatch.sentry.pollers.rigs import make_rig_poller, parse_rig_arg
from rigwatch.sentry.spool import Spool
from rigwatch.sentry.sweep import PollOutcome, poll_sweep
from rigwatch.sentry.targets import Target, resolve_targets
from rigwatch.sentry.tracker import Tracker
from rigwatch.sentry.uplink import Uplink, uplink_client

__all__ = ["PollOutcome", "poll_sweep", "run_sentry"]

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()
T = TypeVar("T")

SPOOL_FILE = "spool.db"
INTERVAL_JITTER = 0.1


def miner_http_client(cfg: SentryConfig) -> httpx.AsyncClient:
    """The HTTP client AxeOS pollers share: bounded pool (httpx slows down with huge
    ones, encode/httpx#3215) and every phase under the per-miner deadline."""
    size = min(cfg.concurrency, 128)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(cfg.deadline_s),
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
    )


async def _until_stopped(coro: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """Run `coro` unless `stop` is set first, in which case it is cancelled: None."""
    task = asyncio.ensure_future(coro)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(task, stopper, return_exceptions=True)
    if task.cancelled():
        return None
    return task.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))


async def _credential(
    cfg: SentryConfig, client: httpx.AsyncClient, stop: asyncio.Event
) -> Credential | None:
    """Enroll, retrying while the commander is unreachable; None if stopped meanwhile.
    A refused or missing token (EnrollmentError) is raised: only an operator can fix it."""
    delay = 1.0
    while not stop.is_set():
        try:
            return await ensure_credential(cfg, client)
        except CommanderUnavailable as exc:
            logger.warning("enrollment: %s; retrying in %.0f s", exc, delay)
            await _sleep(stop, delay * _jitter.uniform(0.5, 1.0))
            delay = min(delay * 2, 60.0)
    return None


def spool_sweep(
    spool: Spool,
    outcomes: Sequence[PollOutcome],
    tracker: Tracker,
    max_samples: int,
    local: LocalRead | None = None,
) -> list[int]:
    """Turn one sweep (and this machine's readings) into spooled batches; the seqs used.
    Host and P2Pool readings ride with the first batch."""
    events: list[Event] = track(outcomes, tracker)
    if local is not None:
        events.extend(local.events)
    samples, wire_events = to_wire(outcomes, events)
    hosts, nodes = local_to_wire(local.hosts, local.p2pool) if local else ([], [])
    parts = split(samples, wire_events, max_samples)
    if not parts and (hosts or nodes):
        parts = [([], [])]
    seqs: list[int] = []
    for i, (s, e) in enumerate(parts):
        if i == 0 and (hosts or nodes):
            seqs.append(spool.append(s, e, hosts=hosts, p2pool=nodes))
        else:
            seqs.append(spool.append(s, e))
    return seqs


class _Agent:
    def __init__(
        self,
        cfg: SentryConfig,
        targets: list[Target],
        spool: Spool,
        uplink: Uplink,
        fleet: Fleet,
        stop: asyncio.Event,
        rigs: Sequence[Poller] = (),
        local: LocalSources | None = None,
    ) -> None:
        self.cfg = cfg
        self.targets = targets
        self.spool = spool
        self.uplink = uplink
        self.fleet = fleet
        self.stop = stop
        self.rigs = list(rigs)
        self.local = local
        self.tracker = Tracker()
        self._rediscovery: asyncio.Task[int] | None = None

    def _maybe_rediscover(self) -> None:
        task = self._rediscovery
        if task is not None and not task.done():
            return
        if task is not None and not task.cancelled() and task.exception() is not None:
            logger.error("rediscovery failed", exc_info=task.exception())
        self._rediscovery = asyncio.create_task(
            self.fleet.rediscover(self.targets, self.tracker, stale_after_s=self.cfg.rediscover_s),
            name="rigwatch-rediscovery",
        )

    async def sweep_once(self) -> None:
        pollers = self.fleet.pollers() + self.rigs
        outcomes = await poll_sweep(pollers, self.cfg.concurrency, self.cfg.deadline_s)
        local = await self.local.read() if self.local is not None else None
        seqs = spool_sweep(self.spool, outcomes, self.tracker, self.cfg.batch_max_samples, local)
        if self.local is not None and local is not None:
            self.local.commit(local)
        if seqs:
            self.uplink.wake()
        ok = sum(1 for o in outcomes if o.ok)
        logger.info(
            "sweep: %d/%d miners answered; %d batch(es) spooled, %d pending",
            ok,
            len(outcomes),
            len(seqs),
            self.spool.pending_count(),
        )

    async def run(self) -> None:
        found = await _until_stopped(self.fleet.discover_all(self.targets), self.stop)
        if found is None:
            return
        if found == 0 and self.targets:
            logger.warning(
                "no miners found yet among %d address(es); looking again every %.0f s",
                len(self.targets),
                self.cfg.rediscover_s,
            )
        next_discovery = time.monotonic() + self.cfg.rediscover_s
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                await self.sweep_once()
                if time.monotonic() >= next_discovery:
                    self._maybe_rediscover()
                    next_discovery = time.monotonic() + self.cfg.rediscover_s
                jitter = _jitter.uniform(-INTERVAL_JITTER, INTERVAL_JITTER) * self.cfg.interval_s
                await _sleep(self.stop, started + self.cfg.interval_s + jitter - time.monotonic())
        finally:
            if self._rediscovery is not None:
                self._rediscovery.cancel()
                await asyncio.gather(self._rediscovery, return_exceptions=True)


async def run_sentry(
    cfg: SentryConfig,
    stop: asyncio.Event | None = None,
    *,
    get_miner: GetMiner | None = None,
) -> None:
    """Run the sentry until `stop` is set (or the task is cancelled).

    Raises ValueError for unusable targets and EnrollmentError when there is no way to
    get a credential. On stop nothing half-written is flushed: every batch is either in
    the spool (and sent on the next start) or acknowledged. `get_miner` replaces
    `pyasic.get_miner` (tests, simulations).
    """
    stop = stop if stop is not None else asyncio.Event()
    targets = resolve_targets(cfg.scan, cfg.targets_file)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    rig_targets = [parse_rig_arg(r) for r in cfg.rigs]
    local = LocalSources(
        data_dir=cfg.data_dir,
        host_metrics=cfg.host_metrics,
        host_key=cfg.host_key,
        rig_keys=[r.key for r in rig_targets],
        p2pool_log=cfg.p2pool_log,
        p2pool_api=cfg.p2pool_api,
    )
    if not targets and not rig_targets and not local.active:
        raise ValueError("the scan specs and targets file name no address to watch")
    spool = Spool(
        cfg.data_dir / SPOOL_FILE,
        max_bytes=cfg.spool_max_bytes,
        max_batches=cfg.spool_max_batches,
    )
    try:
        async with uplink_client() as up_client, miner_http_client(cfg) as miner_client:
            cred = await _credential(cfg, up_client, stop)
            if cred is None:
                return
            uplink = Uplink(spool, up_client, cred.commander_url, cred.credential)
            sender = asyncio.create_task(uplink.run(stop), name="rigwatch-uplink")
            fleet = Fleet(cfg, miner_client, get_miner=get_miner)
            rigs = [
                make_rig_poller(r, client=miner_client, timeout_s=cfg.deadline_s)
                for r in rig_targets
            ]
            agent = _Agent(cfg, targets, spool, uplink, fleet, stop, rigs, local)
            try:
                await agent.run()
            finally:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
                logger.info("sentry stopped; %d batch(es) stay spooled", spool.pending_count())
    finally:
        local.close()
        spool.close()
