"""Wire details real clients depend on: framing, multi-commands, Digest, 404s, probes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from rigwatch.sim import Fleet, ManualClock, cgminer_request

FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]


async def _raw(ip: str, payload: bytes, port: int = 4028) -> bytes:
    reader, writer = await asyncio.open_connection(ip, port)
    writer.write(payload)
    await writer.drain()
    async with asyncio.timeout(5):
        data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


@pytest.fixture
async def trio(fleet_of: FleetFactory) -> AsyncIterator[Fleet]:
    async with fleet_of(("s19pro", "m50", "gamma"), base="127.0.211.1") as fleet:
        yield fleet


async def test_a_request_without_newline_or_half_close_gets_one_nul_terminated_reply(
    trio: Fleet,
) -> None:
    data = await _raw(trio[0].ip, b'{"command": "version"}')
    assert data.endswith(b"}\x00")
    reply = json.loads(data[:-1])
    assert reply["VERSION"][0]["Type"] == "Antminer S19 Pro"


async def test_a_request_split_across_packets_is_still_understood(trio: Fleet) -> None:
    reader, writer = await asyncio.open_connection(trio[0].ip, 4028)
    for chunk in (b'{"comm', b'and": "sum', b'mary"}'):
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.01)
    async with asyncio.timeout(5):
        data = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert json.loads(data[:-1])["SUMMARY"][0]["GHS 5s"] > 0


@pytest.mark.parametrize("command", ["summary+stats+pools+version", "version+pools+stats+summary"])
async def test_joined_commands_in_any_order_answer_one_full_reply_each(
    trio: Fleet, command: str
) -> None:
    reply = await cgminer_request(trio[0].ip, command)
    names = command.split("+")
    assert set(reply) == {*names, "id"}
    for name in names:
        assert len(reply[name]) == 1
        assert reply[name][0]["STATUS"][0]["STATUS"] == "S"
    assert reply["stats"][0]["STATS"][1]["rate_unit"] == "GH"


async def test_whatsminer_answers_version_with_the_real_error_and_devdetails_with_btminer(
    trio: Fleet,
) -> None:
    version = await cgminer_request(trio[1].ip, "version")
    assert version["STATUS"] == "E"
    assert version["Msg"] == "invalid cmd"
    details = await cgminer_request(trio[1].ip, "devdetails")
    assert details["DEVDETAILS"][0]["Model"] == "M50_VH50"
    assert details["DEVDETAILS"][0]["Driver"] == "bitmicro"
    joined = await cgminer_request(trio[1].ip, "pools+summary+devs")
    assert joined["devs"][0]["DEVS"][0]["Effective Chips"] == 105
    status = await cgminer_request(trio[1].ip, "status")
    assert status["Msg"]["mineroff"] == "false"


async def test_connections_closed_without_a_request_are_harmless(trio: Fleet) -> None:
    for _ in range(20):
        for port, miner in ((4028, trio[0]), (80, trio[0]), (80, trio[2])):
            _reader, writer = await asyncio.open_connection(miner.ip, port)
            writer.close()
            await writer.wait_closed()
    assert (await cgminer_request(trio[0].ip, "summary"))["SUMMARY"][0]["Elapsed"] > 0


async def test_antminer_web_challenges_with_digest_and_serves_cgi_with_root_root(
    trio: Fleet,
) -> None:
    ip = trio[0].ip
    async with httpx.AsyncClient() as client:
        root = await client.get(f"http://{ip}/")
        assert root.status_code == 401
        assert 'Digest realm="antMiner Configuration"' in root.headers["www-authenticate"]
        wrong = await client.get(
            f"http://{ip}/cgi-bin/stats.cgi", auth=httpx.DigestAuth("root", "admin")
        )
        assert wrong.status_code == 401
        auth = httpx.DigestAuth("root", "root")
        stats = (await client.get(f"http://{ip}/cgi-bin/stats.cgi", auth=auth)).json()
        assert [c["index"] for c in stats["STATS"][0]["chain"]] == [0, 1, 2]
        info = (await client.get(f"http://{ip}/cgi-bin/get_system_info.cgi", auth=auth)).json()
        assert info["minertype"] == "Antminer S19 Pro"
        missing = await client.get(f"http://{ip}/kaonsu/v1/brief", auth=auth)
        assert missing.status_code == 404
        with pytest.raises(ValueError):
            missing.json()


async def test_bitaxe_serves_axeos_and_applies_patched_settings(
    trio: Fleet, clock: ManualClock
) -> None:
    ip = trio[2].ip
    async with httpx.AsyncClient(base_url=f"http://{ip}") as client:
        assert "AxeOS" in (await client.get("/")).text
        asic = (await client.get("/api/system/asic")).json()
        assert asic["ASICModel"] == "BM1370"
        ok = await client.patch(
            "/api/system", json={"stratumUser": "me.rig1", "fanspeed": 80, "autofanspeed": 0}
        )
        assert ok.status_code == 200
        assert ok.content == b""
        bad = await client.patch("/api/system", json={"frequency": "fast"})
        assert bad.status_code == 400
        assert bad.text == "Wrong API input"
        renamed = await client.patch("/api/system", json={"hostname": "desk-axe"})
        assert renamed.json()["status"] == "success"
        clock.advance(2)
        info = (await client.get("/api/system/info")).json()
    assert info["stratumUser"] == "me.rig1"
    assert info["autofanspeed"] == 0
    assert info["fanspeed"] == 80
    assert info["hostname"] == "desk-axe"


async def test_http_keep_alive_serves_many_requests_on_one_connection(trio: Fleet) -> None:
    async with httpx.AsyncClient(base_url=f"http://{trio[2].ip}") as client:
        for _ in range(50):
            assert (await client.get("/api/system/info")).status_code == 200
    assert trio[2].requests_served >= 50
