"""Turns stored batches into live-stream events: per-miner updates now, farm summary throttled."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import UTC, datetime

from rigwatch.commander.context import Commander
from rigwatch.domain.views import FarmSummary, MinerUpdate
from rigwatch.store import queries
from rigwatch.store.ingest import BatchResult

log = logging.getLogger(__name__)

SUMMARY_EVERY_S = 2.0


def _compact(u: MinerUpdate) -> dict[str, object]:
    return {
        "id": u.miner_id,
        "s": u.status.value,
        "h": u.hashrate_hs,
        "x": u.hashrate_expected_hs,
        "t": u.temp_c,
        "tm": u.temp_max_c,
        "p": u.power_w,
        "ts": u.ts.timestamp(),
    }


class LiveFeed:
    def __init__(self, rw: Commander, loop: asyncio.AbstractEventLoop) -> None:
        self._rw = rw
        self._loop = loop
        self._dirty = asyncio.Event()

    def on_stored(self, results: list[BatchResult]) -> None:
        """Called on the writer thread after a commit."""
        updates = [_compact(u) for r in results if r.stored for u in r.updates]
        if updates:
            self._loop.call_soon_threadsafe(self._publish, updates)

    def _publish(self, updates: list[dict[str, object]]) -> None:
        self._rw.hub.publish("miners", {"miners": updates})
        self._dirty.set()

    def _summary(self) -> FarmSummary:
        now = datetime.now(UTC)
        return self._rw.read(
            lambda c: queries.farm_summary(c, now, self._rw.settings.offline_after_s)
        )

    async def summaries(self) -> None:
        """Publish the farm summary at most every few seconds, only when something changed."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                summary = await asyncio.to_thread(self._summary)
            except Exception:
                log.exception("farm summary for the live stream failed")
            else:
                payload = asdict(summary) | {"ts": summary.ts.timestamp()}
                self._rw.hub.publish("summary", payload)
            await asyncio.sleep(SUMMARY_EVERY_S)
