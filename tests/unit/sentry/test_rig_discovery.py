"""A scan recognises CPU/GPU mining programs where pyasic finds no ASIC."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from rigwatch.sentry.discovery import discover
from rigwatch.sentry.pollers.rigs import TeamRedMinerPoller, XmrigPoller, probe_rig
from rigwatch.sentry.targets import Target

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SUMMARY = (FIXTURES / "xmrig-http" / "foreman-new__1-summary.json").read_bytes()
TRM_DEVS = (FIXTURES / "cgminer-rpc" / "teamredminer" / "foreman-trm__devs.json").read_bytes()
WHATSMINER_DEVS = (
    FIXTURES / "cgminer-rpc" / "whatsminer" / "foreman__whatsminer-m20s-new-firmware__devs.json"
)


async def nothing(ip: str) -> None:
    return None


@contextlib.asynccontextmanager
async def listening(host: str, port: int, handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, host, port)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def xmrig(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    path = head.split(b" ")[1]
    status, body = (b"200 OK", SUMMARY) if path == b"/1/summary" else (b"404 X", b"{}")
    writer.write(
        b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n\r\n" + body
    )
    await writer.drain()
    writer.close()


def cgminer(devs: bytes):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = json.loads(await reader.read(4096))
        commands = request["command"].split("+")
        if commands == ["devs"]:
            writer.write(devs + b"\x00")
        else:
            writer.write(b'{"STATUS":[{"STATUS":"E","Code":14,"Msg":"Invalid command"}]}\x00')
        await writer.drain()
        writer.close()

    return handler


async def test_xmrig_is_found_on_the_port_the_caller_names():
    async with listening("127.0.41.30", 0, xmrig) as port, httpx.AsyncClient() as client:
        found = await discover(
            [Target(ip="127.0.41.30", port=port)],
            concurrency=1,
            deadline_s=3,
            poller="auto",
            http_client=client,
            poll_timeout_s=1,
            get_miner=nothing,
        )
    ((_, poller),) = found
    assert isinstance(poller, XmrigPoller)
    assert poller.identity.key == f"xmrig@127.0.41.30:{port}"


async def test_teamredminer_is_found_on_its_default_port():
    async with (
        listening("127.0.41.31", 4028, cgminer(TRM_DEVS)),
        httpx.AsyncClient() as client,
    ):
        poller = await probe_rig("127.0.41.31", client=client, timeout_s=1)
    assert isinstance(poller, TeamRedMinerPoller)
    assert poller.identity.key == "teamredminer@127.0.41.31:4028"


async def test_an_asic_cgminer_api_is_not_taken_for_teamredminer():
    devs = WHATSMINER_DEVS.read_bytes()  # a real DEVS reply, from cgminer 4.9.2
    async with listening("127.0.41.32", 4028, cgminer(devs)), httpx.AsyncClient() as client:
        assert await probe_rig("127.0.41.32", client=client, timeout_s=1) is None


async def test_an_address_where_nothing_answers_is_not_a_rig():
    async with httpx.AsyncClient() as client:
        found = await discover(
            [Target(ip="127.0.41.33", port=18080)],
            concurrency=1,
            deadline_s=3,
            poller="auto",
            http_client=client,
            poll_timeout_s=1,
            get_miner=nothing,
        )
    assert found == []
