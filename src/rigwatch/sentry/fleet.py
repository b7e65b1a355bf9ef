"""The set of miners a sentry polls, and how it changes between discovery rounds."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx

from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.discovery import GetMiner, discover
from rigwatch.sentry.pollers.base import Poller
from rigwatch.sentry.targets import Target
from rigwatch.sentry.tracker import Tracker

logger = logging.getLogger(__name__)

TargetKey = tuple[str, int | None]


def _tkey(target: Target) -> TargetKey:
    return (target.ip, target.port)


class Fleet:
    """Pollers by target address. A miner is one key: when a newly found poller has the
    key of a poller at another address (DHCP moved it), the old one is dropped."""

    def __init__(
        self,
        cfg: SentryConfig,
        http_client: httpx.AsyncClient,
        *,
        get_miner: GetMiner | None = None,
    ) -> None:
        self._cfg = cfg
        self._http = http_client
        self._get_miner = get_miner
        self._by_target: dict[TargetKey, Poller] = {}

    def pollers(self) -> list[Poller]:
        return list(self._by_target.values())

    def __len__(self) -> int:
        return len(self._by_target)

    def _install(self, target: Target, poller: Poller) -> None:
        key = poller.identity.key
        moved = [
            tk for tk, p in self._by_target.items() if p.identity.key == key and tk != _tkey(target)
        ]
        for tk in moved:
            logger.info("miner %s moved from %s to %s", key, tk[0], target.ip)
            del self._by_target[tk]
        self._by_target[_tkey(target)] = poller

    async def _identify(self, targets: Sequence[Target]) -> int:
        found = await discover(
            targets,
            concurrency=self._cfg.concurrency,
            deadline_s=self._cfg.deadline_s,
            poller=self._cfg.poller,
            http_client=self._http,
            poll_timeout_s=self._cfg.deadline_s,
            get_miner=self._get_miner,
        )
        for target, poller in found:
            self._install(target, poller)
        return len(found)

    async def discover_all(self, targets: Sequence[Target]) -> int:
        """First round: identify every target."""
        n = await self._identify(targets)
        logger.info("discovery: %d miner(s) among %d address(es)", n, len(targets))
        return n

    async def rediscover(
        self, targets: Sequence[Target], tracker: Tracker, *, stale_after_s: float
    ) -> int:
        """Look again at addresses with no miner yet, and re-identify pyasic-identified
        miners offline for `stale_after_s` or more (firmware changed, or another device
        took the address)."""
        now = datetime.now(UTC)
        stale = timedelta(seconds=stale_after_s)
        todo: list[Target] = []
        for target in targets:
            poller = self._by_target.get(_tkey(target))
            if poller is None:
                todo.append(target)
                continue
            explicit = target.kind is not None and target.kind != "pyasic"
            since = tracker.offline_since(poller.identity.key)
            if not explicit and since is not None and now - since >= stale:
                todo.append(target)
        if not todo:
            return 0
        n = await self._identify(todo)
        logger.info("rediscovery: %d miner(s) among %d address(es) looked at", n, len(todo))
        return n
