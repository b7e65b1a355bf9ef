"""pyasic's MinerData maps onto rigwatch's Sample in base units, with absurd values
dropped at the edge; pyasic's exceptions map onto the typed poll errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pyasic import APIError
from pyasic.data import MinerData
from pyasic.data.boards import HashBoard
from pyasic.data.device import DeviceInfo
from pyasic.data.error_codes import X19Error
from pyasic.data.fans import Fan
from pyasic.data.pools import PoolMetrics, PoolUrl
from pyasic.device.algorithm.hashrate import SHA256HashRate
from pyasic.device.algorithm.hashrate.unit import HashUnit
from pyasic.device.firmware import MinerFirmware
from pyasic.device.makes import MinerMake
from pyasic.device.models import AntminerModels

from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.protocols.ingest import SampleIn
from rigwatch.sentry.pollers.base import BadReply, MinerRefused, MinerTimeout
from rigwatch.sentry.pollers.pyasic_adapter import (
    PyasicPoller,
    hashrate_hs,
    poll_error_from,
    sample_from_miner_data,
)

TS = datetime(2025, 1, 1, tzinfo=UTC)
TH = HashUnit.SHA256.TH


def th(rate: float) -> SHA256HashRate:
    return SHA256HashRate(rate=rate, unit=TH)


def s19_pro() -> MinerData:
    return MinerData(
        ip="127.0.40.1",
        device_info=DeviceInfo(
            make=MinerMake.ANTMINER, model=AntminerModels.S19Pro, firmware=MinerFirmware.STOCK
        ),
        mac="aa:bb:cc:dd:ee:01",
        hostname="rack1-s19",
        fw_ver="Wed Oct 21 10:18:10 CST 2020",
        expected_hashrate=th(110.0),
        hashboards=[
            HashBoard(
                slot=0,
                hashrate=th(36.5),
                temp=60,
                chip_temp=75,
                chips=114,
                expected_chips=114,
                missing=False,
            ),
            HashBoard(
                slot=1,
                hashrate=th(37.0),
                temp=62,
                chip_temp=77,
                chips=114,
                expected_chips=114,
                missing=False,
            ),
            HashBoard(slot=2, expected_chips=114, missing=True),
        ],
        fans=[Fan(speed=5400), Fan(speed=5460), Fan(speed=None), Fan(speed=5520)],
        wattage=3250,
        uptime=86_400,
        pools=[
            PoolMetrics(
                url=PoolUrl.from_str("stratum+tcp://127.0.40.200:3333"),
                user="acct.w1",
                accepted=1000,
                rejected=4,
                active=True,
                alive=True,
                index=0,
            ),
            PoolMetrics(
                url=PoolUrl.from_str("stratum+tcp://127.0.40.201:3333"),
                user="acct.w1",
                accepted=20,
                rejected=1,
                active=False,
                alive=True,
                index=1,
            ),
        ],
        errors=[X19Error(error_message="temp too high")],
    )


def test_an_antminer_maps_onto_a_sample_in_base_units() -> None:
    facts, sample = sample_from_miner_data(s19_pro(), TS)
    assert sample.ts == TS
    assert sample.hashrate_hs == pytest.approx(73.5e12)
    assert sample.hashrate_expected_hs == pytest.approx(110e12)
    assert [b.index for b in sample.hashboards] == [0, 1, 2]
    board = sample.hashboards[0]
    assert board.hashrate_hs == pytest.approx(36.5e12)
    assert (board.temp_c, board.chip_temp_c, board.chips, board.chips_expected) == (
        60,
        75,
        114,
        114,
    )
    assert not board.missing
    assert sample.hashboards[2].missing
    assert sample.hashboards[2].hashrate_hs is None
    assert sample.temp_c == 61
    assert sample.chip_temp_c == 76
    assert sample.temp_max_c == 77
    assert sample.fans_rpm == (5400, 5460, 5520)
    assert sample.power_w == 3250
    assert sample.uptime_s == 86_400
    assert (sample.accepted, sample.rejected) == (1020, 5)
    assert sample.pool_url == "stratum+tcp://127.0.40.200:3333"
    assert sample.pool_user == "acct.w1"
    assert len(sample.pools) == 2
    assert sample.pools[0].active and not sample.pools[1].active
    assert sample.errors == ("temp too high",)
    assert facts.mac == "AA:BB:CC:DD:EE:01"
    assert facts.hostname == "rack1-s19"
    assert (facts.make, facts.model) == ("AntMiner", "S19 Pro")
    assert facts.firmware == "Stock Wed Oct 21 10:18:10 CST 2020"
    assert facts.worker == "acct.w1"


def test_the_mapped_sample_passes_the_ingest_contract() -> None:
    facts, sample = sample_from_miner_data(s19_pro(), datetime.now(UTC))
    ident = facts.apply(
        MinerIdentity(key="AA:BB:CC:DD:EE:01", kind=MinerKind.ASIC, ip="127.0.40.1")
    )
    wire = SampleIn.from_domain(ident, sample)
    assert wire.miner.model == "S19 Pro"
    assert wire.miner.key == "AA:BB:CC:DD:EE:01"


def test_an_empty_miner_data_maps_onto_an_empty_sample() -> None:
    facts, sample = sample_from_miner_data(MinerData(ip="127.0.40.2"), TS)
    assert sample.hashrate_hs is None
    assert sample.hashboards == ()
    assert sample.accepted is None
    assert sample.pool_url is None
    assert facts.make is None and facts.mac is None


def test_absurd_values_are_dropped_not_sent() -> None:
    data = MinerData(
        ip="127.0.40.3",
        hashboards=[HashBoard(slot=0, hashrate=th(1.1e14), temp=-300, chip_temp=999)],
        fans=[Fan(speed=10_000_000)],
        wattage=-5,
    )
    _, sample = sample_from_miner_data(data, TS)
    assert sample.hashrate_hs is None
    assert sample.hashboards[0].hashrate_hs is None
    assert sample.hashboards[0].temp_c is None
    assert sample.temp_max_c is None
    assert sample.fans_rpm == ()
    assert sample.power_w is None


def test_hashrates_convert_by_their_own_unit() -> None:
    assert hashrate_hs(SHA256HashRate(rate=500, unit=HashUnit.SHA256.GH)) == pytest.approx(5e11)
    assert hashrate_hs(th(1)) == pytest.approx(1e12)
    assert hashrate_hs(None) is None


def test_a_pool_without_url_keeps_its_counters() -> None:
    data = MinerData(ip="127.0.40.4", pools=[PoolMetrics(url=None, accepted=7, rejected=0)])
    _, sample = sample_from_miner_data(data, TS)
    assert sample.accepted == 7
    assert sample.pool_url is None


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (TimeoutError(), MinerTimeout),
        (httpx.ReadTimeout("slow"), MinerTimeout),
        (ConnectionRefusedError(), MinerRefused),
        (httpx.ConnectError("refused"), MinerRefused),
        (APIError("bad json"), BadReply),
        (KeyError("STATUS"), BadReply),
    ],
)
def test_pyasic_errors_become_typed_poll_errors(exc: BaseException, kind: type) -> None:
    assert isinstance(poll_error_from(exc, "127.0.40.5"), kind)


def test_an_api_error_caused_by_a_refusal_is_a_refusal() -> None:
    try:
        try:
            raise ConnectionRefusedError
        except ConnectionRefusedError as inner:
            raise APIError("Failed to call hashrate") from inner
    except APIError as outer:
        assert isinstance(poll_error_from(outer, "x"), MinerRefused)


class FakeMiner:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    async def get_data(self, **kwargs: Any) -> MinerData:
        assert kwargs == {"exclude": ["config"]}
        if self.outcome == "hang":
            await asyncio.sleep(30)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        data: MinerData = self.outcome
        return data


def ident() -> MinerIdentity:
    return MinerIdentity(key="127.0.40.6", kind=MinerKind.ASIC, ip="127.0.40.6")


async def test_the_poller_keeps_its_key_and_learns_facts() -> None:
    poller = PyasicPoller(ident(), FakeMiner(s19_pro()))
    result = await poller.poll()
    assert result.identity.key == "127.0.40.6"
    assert result.identity.mac == "AA:BB:CC:DD:EE:01"
    assert poller.identity.model == "S19 Pro"
    assert result.sample.hashrate_hs == pytest.approx(73.5e12)


async def test_the_poller_turns_a_hang_into_a_timeout() -> None:
    with pytest.raises(MinerTimeout):
        await PyasicPoller(ident(), FakeMiner("hang"), timeout_s=0.05).poll()


async def test_the_poller_turns_an_api_error_into_a_bad_reply() -> None:
    with pytest.raises(BadReply):
        await PyasicPoller(ident(), FakeMiner(APIError("Failed to call hashrate"))).poll()
