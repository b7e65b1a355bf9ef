"""CgminerPoller against loopback servers that replay real captures or misbehave."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.sentry.pollers.base import BadReply, MinerRefused, MinerTimeout, Poller
from rigwatch.sentry.pollers.cgminer import CgminerPoller

from .servers import FIXTURES, read_json_request, refused_port, reset, serve

ANTMINER = FIXTURES / "cgminer-rpc" / "antminer"
WHATSMINER = FIXTURES / "cgminer-rpc" / "whatsminer"
INVALID = b'{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command"}],"id":1}'


def capture(folder: Path, case: str, command: str) -> bytes:
    for suffix in (".json", ".txt"):
        path = folder / f"{case}__{command}{suffix}"
        if path.exists():
            return path.read_bytes()
    return INVALID


def replay(folder, case: str, *, joined: bool = True, aliases=None, log=None):
    """A miner that answers from real captures, joined or one command at a time.

    Joined replies embed the captured bytes verbatim (malformed ones included).
    """
    aliases = aliases or {}

    async def handler(reader, writer):
        request = await read_json_request(reader)
        if log is not None:
            log.append(request)
        commands = json.loads(request)["command"].split("+")
        if len(commands) == 1:
            body = capture(folder, case, aliases.get(commands[0], commands[0]))
        elif not joined:
            body = INVALID
        else:
            parts = [
                b'"' + c.encode() + b'":[' + capture(folder, case, aliases.get(c, c)) + b"]"
                for c in commands
            ]
            body = b"{" + b",".join(parts) + b',"id":1}'
        writer.write(body + b"\x00")
        await writer.drain()

    return handler


def identity(ip: str) -> MinerIdentity:
    return MinerIdentity(key=ip, kind=MinerKind.ASIC, ip=ip)


def poller(served, variant="antminer", timeout_s=2.0) -> CgminerPoller:
    return CgminerPoller(
        identity(served.host), served.host, variant=variant, port=served.port, timeout_s=timeout_s
    )


async def test_an_s19_pro_answers_one_joined_command_and_identifies_itself():
    log: list[bytes] = []
    async with serve(
        "127.0.30.1", replay(ANTMINER, "foreman__antminer-s19-really-cold", log=log)
    ) as s:
        p: Poller = poller(s)  # satisfies the sentry Poller protocol (checked by mypy)
        result = await p.poll()
    assert log == [b'{"command":"version+summary+stats+pools"}']
    assert result.sample.hashrate_hs == pytest.approx(110786.79e9)
    assert result.sample.fans_rpm == (5520, 5400, 5040, 5040)
    assert result.identity.model == "S19 Pro"
    assert result.identity.make == "Antminer"
    assert result.identity.worker == "x.001"
    assert result.identity.key == "127.0.30.1"
    assert p.identity == result.identity
    assert result.sample.ts.tzinfo is not None


async def test_malformed_real_stats_inside_a_joined_reply_are_repaired():
    async with serve("127.0.30.2", replay(ANTMINER, "foreman__antminer-s9-bad-temps")) as s:
        result = await poller(s).poll()
    assert result.sample.hashrate_hs == pytest.approx(13883.81e9)
    assert [b.index for b in result.sample.hashboards] == [0, 1, 2]


async def test_firmware_that_rejects_joined_commands_is_asked_one_command_per_connection():
    log: list[bytes] = []
    handler = replay(ANTMINER, "foreman__antminer-s17", joined=False, log=log)
    async with serve("127.0.30.3", handler) as s:
        p = poller(s)
        first = await p.poll()
        second = await p.poll()
    assert len(log) == 1 + 4 + 4  # the joined attempt once, then only single commands
    assert first.sample.hashrate_hs == pytest.approx(54997.01e9)
    assert second.identity.model == "S17"


async def test_a_whatsminer_joined_reply_with_a_failing_devdetails_still_polls():
    handler = replay(
        WHATSMINER, "foreman__whatsminer-m31s-new-firmware-2", aliases={"devs": "edevs"}
    )
    async with serve("127.0.30.4", handler) as s:
        result = await poller(s, "whatsminer").poll()
    assert result.sample.hashrate_hs == pytest.approx(77909448.60e6)
    assert result.sample.power_w == 3553
    assert len(result.sample.hashboards) == 3
    assert result.identity.mac == "C6:06:12:00:2D:63"
    assert result.identity.firmware == "20201202.22.REL"
    assert result.identity.make == "Whatsminer"


async def test_a_whatsminer_that_rejects_the_joined_request_falls_back():
    case = "foreman__whatsminer-m31s-sleeping"
    refusal = (WHATSMINER / f"{case}__poolsplussummaryplusedevs.json").read_bytes()
    inner = replay(WHATSMINER, case, aliases={"devs": "edevs"})

    async def handler(reader, writer):
        request = await read_json_request(reader)
        if b"+" in request:
            writer.write(refusal + b"\x00")
            return
        # hand the already-read request back to the replaying handler
        feed = asyncio.StreamReader()
        feed.feed_data(request)
        feed.feed_eof()
        await inner(feed, writer)

    async with serve("127.0.30.5", handler) as s:
        result = await poller(s, "whatsminer").poll()
    assert result.sample.hashrate_hs == pytest.approx(85163473.24e6)
    assert result.identity.mac == "C6:02:14:00:1F:B3"


async def test_nothing_listening_is_refused():
    host = "127.0.30.6"
    p = CgminerPoller(identity(host), host, variant="antminer", port=refused_port(host))
    with pytest.raises(MinerRefused):
        await p.poll()


async def test_a_reset_connection_is_refused():
    async def handler(reader, writer):
        await read_json_request(reader)
        reset(writer)

    async with serve("127.0.30.7", handler) as s:
        with pytest.raises(MinerRefused):
            await poller(s).poll()


async def test_a_miner_that_never_answers_times_out_at_the_deadline():
    async def handler(reader, writer):
        await asyncio.sleep(30)

    async with serve("127.0.30.8", handler) as s:
        started = time.monotonic()
        with pytest.raises(MinerTimeout):
            await poller(s, timeout_s=0.3).poll()
        elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.0


async def test_a_miner_that_drips_bytes_forever_times_out_over_the_whole_exchange():
    async def handler(reader, writer):
        await read_json_request(reader)
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serve("127.0.30.9", handler) as s:
        started = time.monotonic()
        with pytest.raises(MinerTimeout):
            await poller(s, timeout_s=0.4).poll()
    assert time.monotonic() - started < 1.2


async def test_a_miner_that_closes_without_replying_gives_a_bad_reply():
    async def handler(reader, writer):
        await read_json_request(reader)

    async with serve("127.0.30.10", handler) as s:
        with pytest.raises(BadReply, match="without a reply"):
            await poller(s).poll()


@pytest.mark.parametrize(
    "body",
    [b"\x00", b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\xff\xfe\x00garbage", b"[1,2,3]\x00"],
)
async def test_garbage_replies_are_bad_replies(body):
    async def handler(reader, writer):
        await read_json_request(reader)
        writer.write(body)
        await writer.drain()

    async with serve("127.0.30.11", handler) as s:
        with pytest.raises(BadReply):
            await poller(s).poll()


async def test_a_reply_without_the_data_a_sample_needs_is_a_bad_reply():
    ok = b'{"STATUS":[{"STATUS":"S"}],"id":1}'

    async def handler(reader, writer):
        await read_json_request(reader)
        writer.write(
            b'{"version":['
            + ok
            + b'],"summary":['
            + ok
            + b'],"stats":['
            + ok
            + b'],"pools":['
            + ok
            + b'],"id":1}\x00'
        )
        await writer.drain()

    async with serve("127.0.30.12", handler) as s:
        with pytest.raises(BadReply):
            await poller(s).poll()
