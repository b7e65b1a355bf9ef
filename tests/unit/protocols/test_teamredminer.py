"""TeamRedMiner parser on real captured cgminer-API replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.protocols import teamredminer
from rigwatch.protocols.errors import ProtocolError

from .payloads import FIXTURES, replies

TRM = FIXTURES / "cgminer-rpc" / "teamredminer"
TS = datetime(2024, 1, 1, tzinfo=UTC)
WALLET = (
    "479c6JsyawEVAMNZU8GMmXgVPTxd1vdejR6vVpsm7z8y2AvP7C5hz2g5gfrqyffpvLPLYb2eUm"
    "mWA5yhRw5ANYyePX7SvLE"
)


def test_one_gpu_rig_with_pools():
    facts, s = teamredminer.parse(replies(TRM, "foreman-trm", teamredminer.COMMANDS), ts=TS)
    assert facts.make == "TeamRedMiner"
    assert facts.software == "TeamRedMiner 0.3.8"
    assert facts.firmware == "0.3.8"
    assert facts.model == "1 GPU"
    assert facts.worker == WALLET
    assert s.hashrate_hs == pytest.approx(344.1)  # "KHS 30s": 0.3441
    assert s.algorithm == "cnv8"
    assert s.pool_url == "stratum+tcp://pool.supportxmr.com:7777"
    assert s.pool_user == WALLET
    assert (s.accepted, s.rejected, s.stale) == (13, 0, 0)
    assert s.uptime_s == 344  # Device Elapsed; no summary captured
    assert s.fans_rpm == (1417,)
    (gpu,) = s.devices
    assert gpu.index == 0
    assert gpu.temp_c == 68.0
    assert gpu.fan_pct == 34.0
    assert gpu.fan_rpm == 1417
    assert gpu.core_clock_mhz == 1187.0
    assert gpu.mem_clock_mhz == 1500.0
    assert (gpu.accepted, gpu.rejected) == (13, 0)
    assert len(s.pools) == 1
    assert s.pools[0].active


def test_six_gpu_rig_with_120s_windows():
    facts, s = teamredminer.parse(replies(TRM, "foreman-trm-120s", teamredminer.COMMANDS), ts=TS)
    assert facts.model == "6 GPUs"
    assert [d.hashrate_hs for d in s.devices] == pytest.approx(
        [2107.0, 2118.0, 2095.0, 2058.0, 2101.0, 2094.0]
    )
    assert s.hashrate_hs == pytest.approx(12573.0)
    assert [d.temp_c for d in s.devices] == [61.0, 61.0, 63.0, 60.0, 63.0, 62.0]
    assert s.temp_max_c == 63.0
    assert s.fans_rpm == (3185, 3226, 3273, 3185, 3299, 3216)
    # DEVS counters (this capture's POOLS reply was taken on another rig)
    assert s.accepted == 60 + 53 + 70 + 73 + 55 + 60
    assert s.rejected == 2 + 1 + 1 + 4 + 0 + 4
    assert s.uptime_s == 13887


def test_khs_and_mhs_give_the_same_hashes_per_second():
    row = {"MHS av": 0.0003418, "MHS 30s": 0.0003441, "KHS av": 0.3418, "KHS 30s": 0.3441}
    assert teamredminer.row_rate(row) == pytest.approx(344.1)
    assert teamredminer.row_rate({"MHS 30s": 0.0003441}) == pytest.approx(344.1)
    assert teamredminer.row_rate({"KHS av": 0.3418}) == pytest.approx(341.8)
    assert teamredminer.row_rate({"GHS 5s": 1.5}) == pytest.approx(1.5e9)
    assert teamredminer.row_rate({"Accepted": 3}) is None


def test_a_sick_gpu_is_reported():
    data = replies(TRM, "foreman-trm", teamredminer.COMMANDS)
    data["devs"]["DEVS"][0]["Status"] = "Sick"
    _, s = teamredminer.parse(data, ts=TS)
    assert s.errors == ("GPU 0 Sick",)


def test_without_devs_there_is_no_sample():
    data = replies(TRM, "foreman-trm", teamredminer.COMMANDS)
    del data["devs"]
    with pytest.raises(ProtocolError):
        teamredminer.parse(data, ts=TS)


def test_another_cgminer_program_is_not_taken_for_teamredminer():
    data = replies(TRM, "foreman-trm", teamredminer.COMMANDS)
    data["devs"]["STATUS"][0]["Description"] = "cgminer 4.9.2"
    with pytest.raises(ProtocolError, match="not TeamRedMiner"):
        teamredminer.parse(data, ts=TS)
