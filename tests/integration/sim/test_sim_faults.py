"""Faults show on the wire the way a monitor would meet them on a real farm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from rigwatch.sim import Fault, FaultKind, Fleet, ManualClock, cgminer_request

FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]


async def test_a_dropped_board_is_missing_for_pyasic_and_the_hashrate_falls(
    fleet_of: FleetFactory, pyasic: Any
) -> None:
    async with fleet_of(("s19pro", "m50"), base="127.0.203.1") as fleet:
        for sim in fleet:
            healthy = sim.expected_report().hashrate_ths
            await sim.apply(Fault(FaultKind.BOARD_DROP, board=1))
            data = await (await pyasic.get_miner(sim.ip)).get_data()
            report = sim.expected_report()
            assert [b.missing for b in data.hashboards] == [False, True, False]
            assert float(data.hashrate) == pytest.approx(report.hashrate_ths, rel=1e-9)
            assert report.hashrate_ths < healthy * 0.75
            assert "board_drop:1" in report.faults


async def test_a_dropped_antminer_board_shows_in_rpc_stats_and_web_errors(
    fleet_of: FleetFactory, pyasic: Any
) -> None:
    async with fleet_of(("s21",), base="127.0.204.1") as fleet:
        sim = fleet[0]
        await sim.apply(Fault(FaultKind.BOARD_DROP, board=2))
        stats = (await cgminer_request(sim.ip, "stats"))["STATS"][1]
        assert stats["chain_acn3"] == 0
        assert stats["chain_rate3"] == ""
        assert stats["miner_count"] == 2
        data = await (await pyasic.get_miner(sim.ip)).get_data()
        assert any("chain 2 missing" in e.error_message for e in data.errors)


async def test_a_dark_miner_refuses_connections_until_cleared(fleet_of: FleetFactory) -> None:
    async with fleet_of(("s19", "gamma"), base="127.0.205.1") as fleet:
        antminer, bitaxe = fleet[0], fleet[1]
        await antminer.apply(Fault(FaultKind.DARK))
        await bitaxe.apply(Fault(FaultKind.DARK))
        with pytest.raises(ConnectionRefusedError):
            await cgminer_request(antminer.ip, "summary")
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://{bitaxe.ip}/api/system/info")
        await antminer.apply(Fault(FaultKind.CLEAR))
        reply = await cgminer_request(antminer.ip, "summary")
        assert reply["STATUS"][0]["STATUS"] == "S"


async def test_a_hung_miner_accepts_but_never_answers(fleet_of: FleetFactory) -> None:
    async with fleet_of(("m30s+", "gamma"), base="127.0.206.1") as fleet:
        whatsminer, bitaxe = fleet[0], fleet[1]
        await whatsminer.apply(Fault(FaultKind.HUNG))
        await bitaxe.apply(Fault(FaultKind.HUNG))
        with pytest.raises(TimeoutError):
            await cgminer_request(whatsminer.ip, "summary", timeout_s=0.5)
        reader, writer = await asyncio.open_connection(bitaxe.ip, 80)
        writer.write(b"GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await reader.read(1)
        writer.close()
        await writer.wait_closed()
        await whatsminer.apply(Fault(FaultKind.CLEAR))
        assert (await cgminer_request(whatsminer.ip, "summary"))["SUMMARY"][0]["Elapsed"] > 0


async def test_a_restart_is_unavailable_for_a_while_then_starts_uptime_and_counters_again(
    fleet_of: FleetFactory, clock: ManualClock
) -> None:
    async with fleet_of(("s19pro",), base="127.0.207.1", restart_s=0.3) as fleet:
        sim = fleet[0]
        before = (await cgminer_request(sim.ip, "summary"))["SUMMARY"][0]
        assert before["Accepted"] > 1000
        sim.inject(Fault(FaultKind.RESTART))
        await asyncio.sleep(0.1)
        with pytest.raises(ConnectionRefusedError):
            await cgminer_request(sim.ip, "summary")
        await sim.apply(Fault(FaultKind.CLEAR))
        await asyncio.sleep(0.4)
        clock.advance(120)
        after = (await cgminer_request(sim.ip, "summary"))["SUMMARY"][0]
        assert after["Elapsed"] == 120
        assert 0 < after["Accepted"] < before["Accepted"] / 100


async def test_a_bitaxe_restart_request_resets_its_counters(
    fleet_of: FleetFactory, clock: ManualClock
) -> None:
    async with fleet_of(("gamma",), base="127.0.208.1", restart_s=0.2) as fleet:
        sim = fleet[0]
        url = f"http://{sim.ip}/api/system"
        async with httpx.AsyncClient() as client:
            before = (await client.get(url + "/info")).json()
            reply = await client.post(url + "/restart")
            assert reply.status_code == 200
            assert reply.json() == {"message": "System will restart shortly."}
        await asyncio.sleep(0.8)
        clock.advance(60)
        async with httpx.AsyncClient() as client:
            after = (await client.get(url + "/info")).json()
        assert before["sharesAccepted"] > 1000
        assert after["uptimeSeconds"] == 60
        assert after["sharesAccepted"] < before["sharesAccepted"] / 100


async def test_a_hot_miner_reports_high_temperatures_and_fans_at_full_speed(
    fleet_of: FleetFactory, pyasic: Any
) -> None:
    async with fleet_of(("s19pro", "m30s+"), base="127.0.209.1") as fleet:
        for sim in fleet:
            cool = sim.expected_report()
            await sim.apply(Fault(FaultKind.HOT))
            data = await (await pyasic.get_miner(sim.ip)).get_data()
            hot = sim.expected_report()
            assert min(b.chip_temp for b in data.hashboards) >= 90
            assert data.temperature_avg > cool.temperature_avg_c + 20
            assert [f.speed for f in data.fans] == list(hot.fans_rpm)
            assert min(hot.fans_rpm) >= 0.95 * sim.profile.fan_max_rpm


async def test_faults_scheduled_in_the_spec_apply_by_themselves(fleet_of: FleetFactory) -> None:
    from rigwatch.sim import ScheduledFault

    faults = (
        ScheduledFault(target=0, fault=Fault(FaultKind.HOT)),
        ScheduledFault(target="127.0.210.2", fault=Fault(FaultKind.DARK), at_s=0.2),
    )
    async with fleet_of(("s19", "s21"), base="127.0.210.1", faults=faults) as fleet:
        assert fleet[0].expected_report().faults == ("hot",)
        await cgminer_request(fleet[1].ip, "version")
        await asyncio.sleep(0.4)
        with pytest.raises(ConnectionRefusedError):
            await cgminer_request(fleet[1].ip, "version")
