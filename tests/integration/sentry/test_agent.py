"""The whole sentry loop against a stand-in commander: enroll, discover, poll, track,
spool and deliver; stop cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pyasic.data import MinerData
from pyasic.data.boards import HashBoard
from pyasic.device.algorithm.hashrate import SHA256HashRate
from pyasic.device.algorithm.hashrate.unit import HashUnit

from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.sentry.enrollment import EnrollmentError
from rigwatch.sentry.spool import Spool
from tests.integration.sentry.fake_commander import GOOD_TOKEN, FakeCommander, eventually


class SimMiner:
    """Enough of a pyasic miner object for discovery and PyasicPoller."""

    def __init__(self, ip: str, *, dark: bool = False) -> None:
        self.ip, self.make, self.raw_model, self.firmware = ip, "Goldshell", "KD Box", "Stock"
        self.dark = dark
        self.uptime = 1000

    async def get_mac(self) -> str:
        return "aa:40:00:00:00:" + self.ip.rsplit(".", 1)[1].zfill(2)

    async def get_hostname(self) -> str:
        return f"sim-{self.ip}"

    async def get_data(self, **_: Any) -> MinerData:
        if self.dark:
            raise TimeoutError
        self.uptime += 30
        return MinerData(
            ip=self.ip,
            uptime=self.uptime,
            hashboards=[
                HashBoard(
                    slot=0,
                    hashrate=SHA256HashRate(rate=1.0, unit=HashUnit.SHA256.TH),
                    temp=50,
                    missing=False,
                )
            ],
        )


@pytest.fixture
async def commander() -> AsyncIterator[FakeCommander]:
    fc = FakeCommander()
    yield fc
    await fc.stop()


def config(url: str, data_dir: Path, token: str | None = GOOD_TOKEN) -> SentryConfig:
    return SentryConfig(
        commander_url=url,
        data_dir=data_dir,
        enroll_token=token,
        scan=["127.0.40.21-24"],
        interval_s=1.0,
        deadline_s=0.5,
        poller="pyasic",
    )


async def test_the_sentry_polls_and_delivers_samples_and_events(
    commander: FakeCommander, tmp_path: Path
) -> None:
    miners = {
        "127.0.40.21": SimMiner("127.0.40.21"),
        "127.0.40.22": SimMiner("127.0.40.22", dark=True),
    }

    async def get_miner(ip: str) -> SimMiner | None:
        return miners.get(ip)

    stop = asyncio.Event()
    task = asyncio.create_task(
        run_sentry(config(commander.url, tmp_path), stop, get_miner=get_miner)
    )
    await asyncio.sleep(0.6)  # commander still down: enrollment is retried
    await commander.start()
    await eventually(lambda: len(commander.stored) >= 2, 15)
    await eventually(
        lambda: any(
            e["kind"] == "miner_offline" for b in commander.bodies.values() for e in b["events"]
        ),
        15,
    )
    stop.set()
    await asyncio.wait_for(task, 5)

    assert commander.stored == sorted(commander.stored)
    samples = [s for b in commander.bodies.values() for s in b["samples"]]
    assert {s["miner"]["key"] for s in samples} == {"AA:40:00:00:00:21"}
    assert samples[0]["hashrate_hs"] == pytest.approx(1e12)
    assert samples[0]["miner"]["hostname"] == "sim-127.0.40.21"
    events = [e for b in commander.bodies.values() for e in b["events"]]
    assert [e["key"] for e in events if e["kind"] == "miner_discovered"] == [
        "AA:40:00:00:00:21:discovered"
    ]
    assert [e["miner_key"] for e in events if e["kind"] == "miner_offline"] == ["AA:40:00:00:00:22"]
    with Spool(tmp_path / "spool.db") as spool:
        assert spool.next_seq > max(commander.stored)


async def test_without_token_or_saved_credential_the_sentry_refuses_to_start(
    tmp_path: Path,
) -> None:
    with pytest.raises(EnrollmentError, match="no enrollment token"):
        await run_sentry(config("http://127.0.40.1:9", tmp_path, token=None), asyncio.Event())


async def test_a_stop_during_enrollment_ends_cleanly(tmp_path: Path) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_sentry(config("http://127.0.40.1:9", tmp_path), stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 5)
