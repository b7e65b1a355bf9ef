"""Rig pollers against loopback HTTP/TCP servers replaying real captures or misbehaving."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from rigwatch.domain.models import DeviceKind, MinerKind
from rigwatch.sentry.pollers.base import AuthFailed, BadReply, MinerRefused, MinerTimeout
from rigwatch.sentry.pollers.rigs import make_rig_poller, parse_rig_arg

from .servers import FIXTURES, read_json_request, refused_port, serve

XMRIG = FIXTURES / "xmrig-http"
GPU = FIXTURES / "gpu-miners-http"
TRM = FIXTURES / "cgminer-rpc" / "teamredminer"
Route = Callable[[str, dict[str, list[str]], dict[str, str]], tuple[int, bytes]]


def http(status: int, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def http_server(route: Route, log: list[str] | None = None):
    """One request per connection: route(path, query, headers) -> (status, body)."""

    async def handler(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        line, *header_lines = head.split("\r\n")
        target = urlsplit(line.split(" ")[1])
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (h.partition(":") for h in header_lines if h)
        }
        if log is not None:
            log.append(target.path)
        status, body = route(target.path, parse_qs(target.query), headers)
        writer.write(http(status, body))
        await writer.drain()

    return handler


def files(table: dict[str, bytes], token: str | None = None) -> Route:
    """Serve `table`, checking a bearer token the way XMRig's Httpd::auth does."""

    def route(path, query, headers):
        auth = headers.get("authorization")
        if token is None and auth is not None:
            return 401, b'{"status":401,"error":"Unauthorized"}'
        if token is not None and auth is None:
            return 401, b'{"status":401,"error":"Unauthorized"}'
        if token is not None and auth != f"Bearer {token}":
            return 403, b'{"status":403,"error":"Forbidden"}'
        if path in table:
            return 200, table[path]
        return 404, b'{"status":404,"error":"Not Found"}'

    return route


def rig(software: str, served, client, *, token: str = "", timeout_s: float = 2.0):
    arg = f"{software}=http://{served.host}:{served.port}" + (f"#{token}" if token else "")
    return make_rig_poller(parse_rig_arg(arg), client=client, timeout_s=timeout_s)


XMRIG_511 = {
    "/1/summary": (XMRIG / "foreman-5.11.1-cpu__1-summary.json").read_bytes(),
    "/2/backends": (XMRIG / "foreman-5.11.1-cpu__2-backends.json").read_bytes(),
}


# --- XMRig ---------------------------------------------------------------------------


async def test_xmrig_falls_back_to_the_v1_summary_once_and_reads_backends():
    log: list[str] = []
    async with (
        serve("127.0.41.1", http_server(files(XMRIG_511), log)) as s,
        httpx.AsyncClient() as client,
    ):
        poller = rig("xmrig", s, client)
        assert poller.identity.key == f"xmrig@127.0.41.1:{s.port}"
        assert poller.identity.kind is MinerKind.CPU
        first = await poller.poll()
        await poller.poll()
    assert log == ["/2/summary", "/1/summary", "/2/backends", "/1/summary", "/2/backends"]
    assert first.sample.hashrate_hs == 445.81
    assert first.sample.devices[0].hashrate_hs == 1104.88
    assert first.sample.algorithm == "rx/0"
    assert first.identity.make == "XMRig"
    assert first.identity.firmware == "5.11.1"
    assert first.identity.model == "Intel(R) Core(TM) i7-8750H CPU @ 2.20GHz"
    assert first.identity.worker == "LAPTOP-I9PPS5BU"
    assert first.identity.key == f"xmrig@127.0.41.1:{s.port}"


async def test_xmrig_with_the_right_access_token_is_polled():
    async with (
        serve("127.0.41.2", http_server(files(XMRIG_511, token="s3cret"))) as s,
        httpx.AsyncClient() as client,
    ):
        result = await rig("xmrig", s, client, token="s3cret").poll()
    assert result.sample.uptime_s == 18


async def test_xmrig_without_the_token_it_needs_is_an_auth_failure_not_offline():
    async with (
        serve("127.0.41.3", http_server(files(XMRIG_511, token="s3cret"))) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(AuthFailed, match=r"401.*needs an access token"):
            await rig("xmrig", s, client).poll()


async def test_xmrig_with_a_wrong_token_is_an_auth_failure():
    async with (
        serve("127.0.41.4", http_server(files(XMRIG_511, token="s3cret"))) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(AuthFailed, match=r"403.*rejected"):
            await rig("xmrig", s, client, token="wrong").poll()


async def test_a_token_sent_to_xmrig_without_one_is_an_auth_failure():
    async with (
        serve("127.0.41.5", http_server(files(XMRIG_511))) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(AuthFailed, match="401"):
            await rig("xmrig", s, client, token="unneeded").poll()


async def test_old_xmrig_nvidia_on_the_root_path_is_not_asked_for_backends_again():
    log: list[str] = []
    table = {"/": (XMRIG / "foreman-old-nvidia__root.json").read_bytes()}
    async with (
        serve("127.0.41.6", http_server(files(table), log)) as s,
        httpx.AsyncClient() as client,
    ):
        poller = rig("xmrig", s, client)
        first = await poller.poll()
        await poller.poll()
    assert log == ["/2/summary", "/1/summary", "/", "/2/backends", "/"]
    assert len(first.sample.devices) == 8
    assert first.identity.model == "8x GeForce GTX 1070 Ti"


async def test_xmrig_proxy_reads_its_own_summary_and_no_backends():
    summary = {
        "version": "6.22.0",
        "kind": "proxy",
        "uptime": 60,
        "hashrate": {"total": [12.5, 12.0, 0.0, 0.0, 0.0, 0.0]},
        "miners": {"now": 3, "max": 3},
        "upstreams": {"active": 1, "sleep": 0, "error": 0, "total": 1, "ratio": 3.0},
        "results": {"accepted": 7, "rejected": 1},
    }
    log: list[str] = []
    table = {"/1/summary": json.dumps(summary).encode()}
    async with (
        serve("127.0.41.7", http_server(files(table), log)) as s,
        httpx.AsyncClient() as client,
    ):
        result = await rig("xmrig-proxy", s, client).poll()
    assert log == ["/1/summary"]
    assert result.sample.hashrate_hs == pytest.approx(12500.0)  # kH/s on the wire
    assert (result.sample.accepted, result.sample.rejected) == (7, 1)
    assert result.identity.firmware == "6.22.0"


# --- GPU programs over HTTP ----------------------------------------------------------


@pytest.mark.parametrize(
    ("software", "path", "capture", "hashrate_hs", "devices"),
    [
        ("trex", "/summary", "trex/foreman-api1.1__summary.json", 150645350.0, 8),
        ("lolminer", "/summary", "lolminer/foreman-1.0-summary__case3.json", 302.40e6, 4),
        ("srbminer", "/", "srbminer/foreman-1.7.9__root.json", 343.0, 1),
        ("srbminer", "/", "srbminer/foreman-multi-cpu__root.json", 206111.5149227829, 1),
        ("gminer", "/stat", "gminer/foreman__stat.json", 61.1 + 65.1 + 62.1 + 65.1, 4),
        ("nbminer", "/api/v1/status", "nbminer/foreman__api-v1-status.json", 2989.0, 2),
    ],
)
async def test_gpu_miners_are_polled_from_their_real_bodies(
    software, path, capture, hashrate_hs, devices
):
    table = {path: (GPU / capture).read_bytes()}
    async with (
        serve("127.0.41.10", http_server(files(table))) as s,
        httpx.AsyncClient() as client,
    ):
        poller = rig(software, s, client)
        assert poller.identity.kind is MinerKind.GPU
        result = await poller.poll()
    assert result.sample.hashrate_hs == pytest.approx(hashrate_hs)
    assert len(result.sample.devices) == devices
    assert result.identity.key == f"{software}@127.0.41.10:{s.port}"
    assert result.identity.firmware is not None or software == "gminer"


def trex_with_password(password: str, log: list[str]) -> Route:
    body = (GPU / "trex" / "foreman-api3.0__summary.json").read_bytes()

    def route(path, query, headers):
        log.append(path + ("?" + ",".join(sorted(query)) if query else ""))
        if path == "/login":
            if query.get("password") == [password]:
                return 200, b'{"sid":"hj2DGIIYQ6rWcEbtscEU0ooGQvj3101L","success":1}'
            return 200, b'{"success":0}'
        if path == "/summary" and query.get("sid") == ["hj2DGIIYQ6rWcEbtscEU0ooGQvj3101L"]:
            return 200, body
        return 403, b"Forbidden"

    return route


async def test_trex_with_an_api_key_logs_in_once_and_sends_the_session_id():
    log: list[str] = []
    async with (
        serve("127.0.41.11", http_server(trex_with_password("pw", log))) as s,
        httpx.AsyncClient() as client,
    ):
        poller = rig("trex", s, client, token="pw")
        first = await poller.poll()
        await poller.poll()
    assert log == ["/login?password", "/summary?sid", "/summary?sid"]
    assert first.sample.hashrate_hs == 7748158.0


async def test_trex_with_a_wrong_api_key_is_an_auth_failure():
    log: list[str] = []
    async with (
        serve("127.0.41.12", http_server(trex_with_password("pw", log))) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(AuthFailed):
            await rig("trex", s, client, token="nope").poll()
        with pytest.raises(AuthFailed):
            await rig("trex", s, client).poll()


@pytest.mark.parametrize("status", [401, 403])
async def test_an_http_rig_answering_401_or_403_is_an_auth_failure(status):
    async with (
        serve("127.0.41.13", http_server(lambda p, q, h: (status, b"no"))) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(AuthFailed):
            await rig("gminer", s, client).poll()


@pytest.mark.parametrize("software", ["xmrig", "trex", "lolminer", "nbminer"])
@pytest.mark.parametrize(
    "reply", [(200, b"<html>miner</html>"), (500, b"oops"), (200, b'{"unrelated": true}')]
)
async def test_garbage_from_an_http_rig_is_a_bad_reply(software, reply):
    async with (
        serve("127.0.41.14", http_server(lambda p, q, h: reply)) as s,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(BadReply):
            await rig(software, s, client).poll()


@pytest.mark.parametrize("software", ["xmrig", "srbminer"])
async def test_nothing_listening_on_an_http_rig_is_refused(software):
    host = "127.0.41.15"
    async with httpx.AsyncClient() as client:
        target = parse_rig_arg(f"{software}=http://{host}:{refused_port(host)}")
        with pytest.raises(MinerRefused):
            await make_rig_poller(target, client=client, timeout_s=2.0).poll()


@pytest.mark.parametrize("software", ["xmrig", "trex"])
async def test_a_hung_http_rig_times_out_at_the_deadline(software):
    async def handler(reader, writer):
        await asyncio.sleep(30)

    async with serve("127.0.41.16", handler) as s, httpx.AsyncClient() as client:
        started = time.monotonic()
        with pytest.raises(MinerTimeout):
            await rig(software, s, client, timeout_s=0.3).poll()
        assert time.monotonic() - started < 1.0


# --- TeamRedMiner over the cgminer API -----------------------------------------------

INVALID = b'{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command"}],"id":1}'


def trm(case: str, *, joined: bool = True, log: list[bytes] | None = None):
    """A TeamRedMiner answering from real captures; no `summary` was captured."""

    def capture(command: str) -> bytes:
        path = TRM / f"{case}__{command}.json"
        return path.read_bytes() if path.exists() else INVALID

    async def handler(reader, writer):
        request = await read_json_request(reader)
        if log is not None:
            log.append(request)
        commands = json.loads(request)["command"].split("+")
        if len(commands) == 1:
            body = capture(commands[0])
        elif not joined:
            body = INVALID
        else:
            parts = [b'"' + c.encode() + b'":[' + capture(c) + b"]" for c in commands]
            body = b"{" + b",".join(parts) + b',"id":1}'
        writer.write(body + b"\x00")
        await writer.drain()

    return handler


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as shared:
        yield shared


def trm_poller(served, client, timeout_s: float = 2.0):
    target = parse_rig_arg(f"teamredminer={served.host}:{served.port}")
    return make_rig_poller(target, client=client, timeout_s=timeout_s)


async def test_teamredminer_is_polled_with_one_joined_command(client):
    log: list[bytes] = []
    async with serve("127.0.41.20", trm("foreman-trm-120s", log=log)) as s:
        poller = trm_poller(s, client)
        assert poller.identity.key == f"teamredminer@127.0.41.20:{s.port}"
        result = await poller.poll()
    assert log == [b'{"command":"summary+devs+pools"}']
    assert result.sample.hashrate_hs == pytest.approx(12573.0)
    assert len(result.sample.devices) == 6
    assert result.sample.devices[0].kind is DeviceKind.GPU
    assert result.sample.algorithm == "cnv8"
    assert result.identity.firmware == "0.3.8"
    assert result.identity.model == "6 GPUs"


async def test_teamredminer_that_rejects_joined_commands_is_asked_one_by_one(client):
    log: list[bytes] = []
    async with serve("127.0.41.21", trm("foreman-trm", joined=False, log=log)) as s:
        result = await trm_poller(s, client).poll()
    assert [json.loads(r)["command"] for r in log] == [
        "summary+devs+pools",
        "summary",
        "devs",
        "pools",
    ]
    assert result.sample.hashrate_hs == pytest.approx(344.1)
    assert result.sample.pool_url == "stratum+tcp://pool.supportxmr.com:7777"


async def test_teamredminer_refused_hung_and_garbage(client):
    host = "127.0.41.22"
    with pytest.raises(MinerRefused):
        await make_rig_poller(
            parse_rig_arg(f"teamredminer={host}:{refused_port(host)}"),
            client=client,
            timeout_s=2.0,
        ).poll()

    async def hang(reader, writer):
        await asyncio.sleep(30)

    async with serve(host, hang) as s:
        with pytest.raises(MinerTimeout):
            await trm_poller(s, client, timeout_s=0.3).poll()

    async def garbage(reader, writer):
        await read_json_request(reader)
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n\x00")
        await writer.drain()

    async with serve(host, garbage) as s:
        with pytest.raises(BadReply):
            await trm_poller(s, client).poll()
