"""One poll of every miner, concurrently, each under its own deadline.

Separate from the agent loop so the benchmark can call it on a simulated fleet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rigwatch.domain.models import MinerIdentity
from rigwatch.sentry.pollers.base import BadReply, MinerTimeout, Poller, PollError, PollResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of one miner gave: a result or a typed error, never both."""

    identity: MinerIdentity
    ts: datetime
    result: PollResult | None
    error: PollError | None
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.result is not None


async def _poll_one(poller: Poller, sem: asyncio.Semaphore, deadline_s: float) -> PollOutcome:
    async with sem:
        ts = datetime.now(UTC)
        started = time.monotonic()
        identity = poller.identity
        result: PollResult | None = None
        error: PollError | None = None
        try:
            async with asyncio.timeout(deadline_s):
                result = await poller.poll()
        except TimeoutError:
            error = MinerTimeout(f"{identity.key}: no answer within the {deadline_s} s deadline")
        except PollError as exc:
            error = exc
        except Exception as exc:
            # A poller bug must cost one miner's sample, not the whole sweep.
            logger.exception("poller %s crashed on %s", type(poller).__name__, identity.key)
            error = BadReply(f"{identity.key}: poller failed: {exc!r}"[:500])
        return PollOutcome(
            identity=result.identity if result is not None else identity,
            ts=ts,
            result=result,
            error=error,
            elapsed_s=time.monotonic() - started,
        )


async def poll_sweep(
    pollers: Sequence[Poller], concurrency: int, deadline_s: float
) -> list[PollOutcome]:
    """Poll every miner once, at most `concurrency` at a time, each bounded by
    `deadline_s` (so one hung miner delays nobody else). Outcomes keep the input order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    sem = asyncio.Semaphore(concurrency)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(_poll_one(p, sem, deadline_s)) for p in pollers]
    return [t.result() for t in tasks]
