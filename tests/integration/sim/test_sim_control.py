"""The control endpoint lists the simulated farm and injects faults into it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from rigwatch.sim import Fleet, cgminer_request

FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]


async def test_control_lists_miners_and_injects_a_fault_by_address(fleet_of: FleetFactory) -> None:
    async with fleet_of(("s19pro", "gamma"), base="127.0.212.1", control_port=18991) as fleet:
        assert fleet.control_url == "http://127.0.0.1:18991"
        async with httpx.AsyncClient(base_url=fleet.control_url) as client:
            listing = (await client.get("/miners")).json()
            assert [(m["ip"], m["kind"], m["model"]) for m in listing] == [
                ("127.0.212.1", "antminer", "S19 Pro"),
                ("127.0.212.2", "bitaxe", "Gamma"),
            ]
            assert listing[0]["reports"]["hashrate_ths"] > 100
            dropped = await client.post(
                "/miners/127.0.212.1/fault", json={"fault": "board_drop", "board": 1}
            )
            assert dropped.status_code == 200
            assert dropped.json()["faults"] == ["board_drop:1"]
            dark = await client.post("/miners/127.0.212.1/fault", json={"fault": "dark"})
            assert dark.json()["reports"]["availability"] == "dark"
            await asyncio.sleep(0.05)
            with pytest.raises(ConnectionRefusedError):
                await cgminer_request("127.0.212.1", "summary")
            assert (
                await client.post("/miners/127.0.212.9/fault", json={"fault": "hot"})
            ).status_code == 404
            assert (
                await client.post("/miners/127.0.212.1/fault", json={"fault": "melt"})
            ).status_code == 400
            only_board = await client.post(
                "/miners/127.0.212.2/fault", json={"fault": "board_drop", "board": 0}
            )
            assert only_board.status_code == 400
            await client.post("/miners/127.0.212.1/fault", json={"fault": "clear"})
            await asyncio.sleep(0.05)
        assert (await cgminer_request("127.0.212.1", "summary"))["SUMMARY"][0]["Elapsed"] > 0
