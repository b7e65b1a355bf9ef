"""pyasic itself, pointed at simulated miners, reads what the simulator means to report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from rigwatch.sim import Fleet, ManualClock

FARM = ("s19pro", "s21", "m30s+", "gamma")

FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]


@pytest.fixture
async def farm(fleet_of: FleetFactory) -> AsyncIterator[Fleet]:
    async with fleet_of(FARM, base="127.0.200.1") as fleet:
        yield fleet


@pytest.mark.parametrize(
    ("index", "make", "model", "cls"),
    [
        (0, "AntMiner", "S19 Pro", "BMMinerS19Pro"),
        (1, "AntMiner", "S21", "BMMinerS21"),
        (2, "WhatsMiner", "M30S+ VE40", "BTMinerM30SPlusVE40"),
        (3, "BitAxe", "Gamma", "BitAxeGamma"),
    ],
)
async def test_pyasic_identifies_make_and_model(
    farm: Fleet, pyasic: Any, index: int, make: str, model: str, cls: str
) -> None:
    miner = await pyasic.get_miner(farm[index].ip)
    assert type(miner).__name__ == cls
    data = await miner.get_data()
    assert data.make == make
    assert data.model == model


@pytest.mark.parametrize("index", range(len(FARM)))
async def test_pyasic_reads_hashrate_temperatures_and_fans_the_sim_reports(
    farm: Fleet, pyasic: Any, index: int
) -> None:
    sim = farm[index]
    miner = await pyasic.get_miner(sim.ip)
    data = await miner.get_data()
    expected = sim.expected_report()

    assert float(data.hashrate) == pytest.approx(expected.hashrate_ths, rel=1e-9)
    assert float(data.expected_hashrate) == pytest.approx(expected.expected_ghs / 1000, rel=1e-3)
    assert [fan.speed for fan in data.fans] == list(expected.fans_rpm)
    assert data.uptime == expected.uptime_s
    assert len(data.hashboards) == sim.profile.boards
    for board, want in zip(data.hashboards, expected.boards, strict=True):
        assert not board.missing
        assert float(board.hashrate) == pytest.approx(want.hashrate_ghs / 1000, rel=1e-9)
        assert board.temp == pytest.approx(want.pcb_temp_c)
        assert board.chip_temp == pytest.approx(want.chip_temp_c)
        assert board.chips == want.chips
    assert data.mac == sim.state.identity.mac
    assert data.hostname == sim.state.identity.hostname
    assert data.is_mining


async def test_pyasic_reads_share_counters_from_antminer_and_whatsminer_pools(
    farm: Fleet, pyasic: Any
) -> None:
    for sim in (farm[0], farm[2]):
        data = await (await pyasic.get_miner(sim.ip)).get_data()
        expected = sim.expected_report()
        active = [p for p in data.pools if p.active]
        assert len(active) == 1
        assert active[0].accepted == expected.accepted
        assert active[0].rejected == expected.rejected
        assert active[0].url.host == "127.0.0.1"


async def test_values_move_with_the_clock_and_stay_consistent(
    farm: Fleet, pyasic: Any, clock: ManualClock
) -> None:
    sim = farm[0]
    before = sim.expected_report()
    clock.advance(600)
    data = await (await pyasic.get_miner(sim.ip)).get_data()
    after = sim.expected_report()
    assert after.uptime_s == before.uptime_s + 600
    assert after.accepted > before.accepted
    assert float(data.hashrate) == pytest.approx(after.hashrate_ths, rel=1e-9)


async def test_a_scan_of_the_subnet_finds_exactly_the_simulated_miners(
    fleet_of: FleetFactory, pyasic: Any
) -> None:
    async with fleet_of(FARM, base="127.0.202.1") as fleet:
        network = pyasic.MinerNetwork.from_subnet("127.0.202.0/28")
        found = await network.scan()
    assert sorted(str(m.ip) for m in found) == sorted(fleet.ips)
