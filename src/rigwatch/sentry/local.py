"""What a sentry reads on its own machine each sweep: host health and a P2Pool node.

A sentry that runs on a rig reports the rig's host (CPU, memory, disk, GPUs), and the
P2Pool node beside it through its log (shares, blocks, payouts) and its `--data-api`
directory. File and psutil reads block, so they run in a worker thread. The log
tailer's position is committed only after the events are in the spool (`commit`), so
a crash in between re-reads them and the commander's natural keys store them once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rigwatch.domain.batch import HostReading, P2PoolReading
from rigwatch.domain.models import Event
from rigwatch.sentry.pollers.host import HostReader
from rigwatch.sentry.pollers.p2pool import P2PoolDataApiReader, P2PoolLogTailer, TailChunk

logger = logging.getLogger(__name__)

# Chunks read in one sweep at most (4 MiB each): a huge backlog drains over several sweeps.
MAX_CHUNKS_PER_SWEEP = 16


@dataclass(slots=True)
class LocalRead:
    """One sweep's worth of local readings, and the tail chunks to commit once spooled."""

    hosts: list[HostReading] = field(default_factory=list)
    p2pool: list[P2PoolReading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    chunks: list[TailChunk] = field(default_factory=list)


class LocalSources:
    """The host reader and P2Pool readers a sentry was told to run (any may be absent)."""

    def __init__(
        self,
        *,
        data_dir: Path,
        host_metrics: bool,
        host_key: str | None,
        rig_keys: Sequence[str],
        p2pool_log: Path | None,
        p2pool_api: Path | None,
    ) -> None:
        self.host = HostReader(data_dir, key=host_key) if host_metrics else None
        self.host_key = (
            self.host.identity.key if self.host else (host_key or socket.gethostname() or None)
        )
        self.rig_keys = tuple(rig_keys) if host_metrics else ()
        self.tailer = P2PoolLogTailer(p2pool_log, data_dir) if p2pool_log else None
        self.api = P2PoolDataApiReader(p2pool_api) if p2pool_api else None
        self.node = f"p2pool@{self.host_key or 'local'}"

    @property
    def active(self) -> bool:
        return self.host is not None or self.tailer is not None or self.api is not None

    async def read(self) -> LocalRead:
        return await asyncio.to_thread(self._read)

    def _read(self) -> LocalRead:
        out = LocalRead()
        if self.host is not None:
            out.hosts.append(HostReading(self.host.identity, self.host.read(), self.rig_keys))
        if self.tailer is not None:
            self._tail(out)
        if self.api is not None:
            found = self.api.read()
            for problem in found.errors:
                logger.warning("P2Pool data API: %s", problem)
            out.p2pool.append(P2PoolReading(self.node, found.stats, self.host_key))
        return out

    def _tail(self, out: LocalRead) -> None:
        assert self.tailer is not None  # noqa: S101 - checked by the caller
        for _ in range(MAX_CHUNKS_PER_SWEEP):
            chunk = self.tailer.read_new()
            out.chunks.append(chunk)
            if chunk.truncated:
                logger.warning("P2Pool log %s was truncated or rewritten", self.tailer.path)
            if chunk.lost:
                logger.warning("P2Pool log %s: the file read before is gone", self.tailer.path)
            out.events.extend(
                dataclasses.replace(e, host_key=e.host_key or self.host_key) for e in chunk.events
            )
            if not chunk.more:
                break

    def commit(self, read: LocalRead) -> None:
        """The events of `read` are spooled: move the log position past them."""
        if self.tailer is None:
            return
        for chunk in read.chunks:
            self.tailer.commit(chunk)

    def close(self) -> None:
        if self.tailer is not None:
            self.tailer.close()
        if self.host is not None:
            self.host.close()
