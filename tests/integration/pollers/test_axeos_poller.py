"""AxeosPoller against loopback HTTP servers replaying real AxeOS bodies or failing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.sentry.pollers.axeos import AxeosPoller
from rigwatch.sentry.pollers.base import AuthFailed, BadReply, MinerRefused, MinerTimeout

from .servers import FIXTURES, refused_port, serve

BITAXE = FIXTURES / "bitaxe-http"
INFO = (BITAXE / "osmu-wiki__v2.12.2-bm1370-gamma601__system-info.json").read_bytes()
ASIC = (BITAXE / "osmu-wiki__v2.12.2-bm1370-gamma601__system-asic.json").read_bytes()


def http(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def read_request_line(reader: asyncio.StreamReader) -> str:
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode()


def routes(table: dict[str, bytes], log: list[str] | None = None):
    async def handler(reader, writer):
        line = await read_request_line(reader)
        if log is not None:
            log.append(line)
        path = line.split(" ")[1]
        writer.write(table.get(path, http(404, b"Not Found", "text/plain")))
        await writer.drain()

    return handler


def make(served, client: httpx.AsyncClient, timeout_s: float = 2.0) -> AxeosPoller:
    ident = MinerIdentity(key=served.host, kind=MinerKind.BITAXE, ip=served.host)
    return AxeosPoller(ident, served.host, client=client, port=served.port, timeout_s=timeout_s)


async def test_a_gamma_is_polled_and_asked_for_its_asic_only_once():
    log: list[str] = []
    table = {"/api/system/info": http(200, INFO), "/api/system/asic": http(200, ASIC)}
    async with serve("127.0.30.21", routes(table, log)) as s, httpx.AsyncClient() as client:
        p = make(s, client)
        first = await p.poll()
        await p.poll()
    assert [line.split(" ")[1] for line in log] == [
        "/api/system/info",
        "/api/system/asic",
        "/api/system/info",
    ]
    assert first.sample.hashrate_hs == pytest.approx(1072.2407227e9)
    assert first.sample.hashboards[0].chips == 1
    assert first.identity.model == "Gamma"
    assert first.identity.mac == "10:F5:12:33:BB:F0"
    assert first.identity.make == "Bitaxe"


async def test_firmware_without_the_asic_endpoint_still_polls():
    old = (BITAXE / "osmu-wiki__v2.6.0-bm1366-ultra302__system-info.json").read_bytes()
    async with (
        serve("127.0.30.22", routes({"/api/system/info": http(200, old)})) as s,
        httpx.AsyncClient() as client,
    ):
        result = await make(s, client).poll()
    assert result.identity.model == "Ultra"
    assert result.sample.fans_rpm == (5515,)


@pytest.mark.parametrize("status", [401, 403])
async def test_a_device_outside_the_allowed_network_is_an_auth_failure(status):
    table = {"/api/system/info": http(status, b"Unauthorized", "text/plain")}
    async with serve("127.0.30.23", routes(table)) as s, httpx.AsyncClient() as client:
        with pytest.raises(AuthFailed):
            await make(s, client).poll()


@pytest.mark.parametrize(
    "response",
    [
        http(500, b"oops", "text/plain"),
        http(200, b"<html>AxeOS</html>", "text/html"),
        http(200, b'{"message":"Mining paused"}'),
        b"not http at all\r\n\r\n",
    ],
)
async def test_garbage_is_a_bad_reply(response):
    async with (
        serve("127.0.30.24", routes({"/api/system/info": response})) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(BadReply):
            await make(s, client).poll()


async def test_nothing_listening_is_refused():
    host = "127.0.30.25"
    ident = MinerIdentity(key=host, kind=MinerKind.BITAXE, ip=host)
    async with httpx.AsyncClient() as client:
        p = AxeosPoller(ident, host, client=client, port=refused_port(host))
        with pytest.raises(MinerRefused):
            await p.poll()


async def test_a_hung_device_times_out_at_the_deadline():
    async def handler(reader, writer):
        await asyncio.sleep(30)

    async with serve("127.0.30.26", handler) as s, httpx.AsyncClient() as client:
        started = time.monotonic()
        with pytest.raises(MinerTimeout):
            await make(s, client, timeout_s=0.3).poll()
        assert time.monotonic() - started < 1.0


async def test_a_device_that_drips_its_body_times_out_over_the_whole_request():
    async def handler(reader, writer):
        await read_request_line(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serve("127.0.30.27", handler) as s, httpx.AsyncClient() as client:
        started = time.monotonic()
        with pytest.raises(MinerTimeout):
            await make(s, client, timeout_s=0.4).poll()
        assert time.monotonic() - started < 1.2


async def test_a_device_that_closes_without_answering_is_not_a_sample():
    async def handler(reader, writer):
        await read_request_line(reader)

    async with serve("127.0.30.28", handler) as s, httpx.AsyncClient() as client:
        with pytest.raises(BadReply):
            await make(s, client).poll()
