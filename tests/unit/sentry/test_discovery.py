"""Discovery picks the right poller per make, keys miners by MAC, and bounds both
concurrency and the time spent on any one address."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from rigwatch.domain.models import MinerKind
from rigwatch.sentry.discovery import discover, identify, identity_from_pyasic
from rigwatch.sentry.pollers.pyasic_adapter import PyasicPoller
from rigwatch.sentry.targets import Target


class FakeMiner:
    def __init__(self, ip: str, make: str, *, firmware: str = "Stock", mac: str | None = None):
        self.ip, self.make, self.firmware, self.raw_model = ip, make, firmware, "Model X"
        self._mac = mac

    async def get_mac(self) -> str | None:
        return self._mac

    async def get_hostname(self) -> str | None:
        raise OSError("no web interface")


def factory(table: dict[str, FakeMiner | None], delay: float = 0.0) -> Any:
    async def get_miner(ip: str) -> FakeMiner | None:
        await asyncio.sleep(delay)
        return table.get(ip)

    return get_miner


def test_the_key_is_the_upper_case_mac_when_known() -> None:
    ident = identity_from_pyasic(FakeMiner("127.0.40.1", "BitAxe"), "127.0.40.1", mac="aa:bb:cc:01")
    assert ident.key == "AA:BB:CC:01"
    assert ident.kind is MinerKind.BITAXE
    assert (
        identity_from_pyasic(FakeMiner("127.0.40.2", "AntMiner"), "127.0.40.2").key == "127.0.40.2"
    )


@pytest.mark.parametrize(
    ("make", "firmware", "poller", "expected"),
    [
        ("AntMiner", "Stock", "auto", "CgminerPoller"),
        ("AntMiner", "VNish", "auto", "PyasicPoller"),
        ("WhatsMiner", "Stock", "auto", "CgminerPoller"),
        ("BitAxe", "Stock", "auto", "AxeosPoller"),
        ("Goldshell", "Stock", "auto", "PyasicPoller"),
        ("AntMiner", "Stock", "pyasic", "PyasicPoller"),
    ],
)
async def test_each_make_gets_its_poller(
    make: str, firmware: str, poller: Any, expected: str
) -> None:
    miner = FakeMiner("127.0.40.3", make, firmware=firmware, mac="aa:00:00:00:00:03")
    async with httpx.AsyncClient() as client:
        found = await identify(
            "127.0.40.3",
            deadline_s=1,
            poller=poller,
            http_client=client,
            poll_timeout_s=1,
            get_miner=factory({"127.0.40.3": miner}),
        )
    assert type(found).__name__ == expected
    assert found is not None and found.identity.key == "AA:00:00:00:00:03"
    assert found.identity.hostname is None


async def test_an_address_that_takes_too_long_is_skipped() -> None:
    async with httpx.AsyncClient() as client:
        found = await identify(
            "127.0.40.4",
            deadline_s=0.05,
            poller="auto",
            http_client=client,
            poll_timeout_s=1,
            get_miner=factory({"127.0.40.4": FakeMiner("127.0.40.4", "AntMiner")}, delay=5),
        )
    assert found is None


async def test_discovery_runs_at_most_concurrency_probes_at_once() -> None:
    in_flight = peak = 0

    async def get_miner(ip: str) -> FakeMiner | None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return FakeMiner(ip, "Goldshell") if ip.endswith(("1", "5")) else None

    targets = [Target(ip=f"127.0.40.{i}") for i in range(1, 41)]
    async with httpx.AsyncClient() as client:
        found = await discover(
            targets,
            concurrency=4,
            deadline_s=1,
            poller="auto",
            http_client=client,
            poll_timeout_s=1,
            get_miner=get_miner,
        )
    assert peak == 4
    assert [t.ip for t, _ in found] == [t.ip for t in targets if t.ip.endswith(("1", "5"))]
    assert all(isinstance(p, PyasicPoller) for _, p in found)


async def test_targets_with_an_explicit_kind_skip_identification() -> None:
    async def get_miner(ip: str) -> None:
        raise AssertionError("must not probe")

    targets = [
        Target(ip="127.0.40.6", kind="antminer", port=14028, name="sim-1"),
        Target(ip="127.0.40.7", kind="bitaxe"),
    ]
    async with httpx.AsyncClient() as client:
        found = await discover(
            targets,
            concurrency=2,
            deadline_s=1,
            poller="auto",
            http_client=client,
            poll_timeout_s=1,
            get_miner=get_miner,
        )
    (_, cg), (_, ax) = found
    assert cg.identity.key == "127.0.40.6:14028"
    assert cg.identity.hostname == "sim-1"
    assert ax.identity.key == "127.0.40.7"
    assert ax.identity.kind is MinerKind.BITAXE
