"""Rediscovery looks only where it should, and a miner that changed address stays one miner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.fleet import Fleet
from rigwatch.sentry.targets import Target
from rigwatch.sentry.tracker import Tracker


class Miner:
    def __init__(self, ip: str, mac: str) -> None:
        self.ip, self.make, self.firmware, self.raw_model, self.mac = (
            ip,
            "Goldshell",
            None,
            "X",
            mac,
        )

    async def get_mac(self) -> str:
        return self.mac

    async def get_hostname(self) -> None:
        return None


def cfg(tmp_path: Path) -> SentryConfig:
    return SentryConfig(commander_url="http://127.0.40.1:9", data_dir=tmp_path, scan=["127.0.40.1"])


async def test_rediscovery_probes_empty_and_long_offline_addresses_only(tmp_path: Path) -> None:
    table = {
        "127.0.40.31": Miner("127.0.40.31", "aa:31"),
        "127.0.40.32": Miner("127.0.40.32", "aa:32"),
    }
    probed: list[str] = []

    async def get_miner(ip: str) -> Miner | None:
        probed.append(ip)
        return table.get(ip)

    targets = [Target(ip=f"127.0.40.{i}") for i in (31, 32, 33)]
    tracker = Tracker()
    async with httpx.AsyncClient() as client:
        fleet = Fleet(cfg(tmp_path), client, get_miner=get_miner)
        assert await fleet.discover_all(targets) == 2
        probed.clear()
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        tracker.observe_miss("AA:32", long_ago)
        tracker.observe_miss("AA:32", long_ago)
        await fleet.rediscover(targets, tracker, stale_after_s=600)
    assert sorted(probed) == ["127.0.40.32", "127.0.40.33"]


async def test_a_miner_found_at_a_new_address_replaces_its_old_poller(tmp_path: Path) -> None:
    table: dict[str, Miner] = {"127.0.40.41": Miner("127.0.40.41", "aa:41")}

    async def get_miner(ip: str) -> Miner | None:
        return table.get(ip)

    targets = [Target(ip="127.0.40.41"), Target(ip="127.0.40.42")]
    async with httpx.AsyncClient() as client:
        fleet = Fleet(cfg(tmp_path), client, get_miner=get_miner)
        await fleet.discover_all(targets)
        table = {"127.0.40.42": Miner("127.0.40.42", "aa:41")}  # DHCP moved it
        await fleet.rediscover(targets, Tracker(), stale_after_s=600)
    [poller] = fleet.pollers()
    assert poller.identity.key == "AA:41"
    assert poller.identity.ip == "127.0.40.42"
