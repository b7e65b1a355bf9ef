"""T-Rex, lolMiner, SRBMiner, GMiner and NBMiner parsers on real captured bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rigwatch.domain.models import DeviceKind
from rigwatch.protocols import gpu_miners
from rigwatch.protocols.errors import ProtocolError

GPU = Path(__file__).resolve().parents[2] / "fixtures" / "gpu-miners-http"
TS = datetime(2024, 1, 1, tzinfo=UTC)


def body(program: str, name: str) -> Any:
    return gpu_miners.decode_json((GPU / program / name).read_bytes(), program)


# --- T-Rex ---------------------------------------------------------------------------


def test_trex_api_1_1_gives_eight_gpus_with_fans_and_power():
    facts, s = gpu_miners.parse_trex(body("trex", "foreman-api1.1__summary.json"), ts=TS)
    assert facts.make == "T-Rex"
    assert facts.software == "T-Rex 0.6.3"
    assert facts.model == "8x GeForce GTX 1070 Ti"
    assert facts.api_version == "1.1"
    assert s.hashrate_hs == 150645350.0
    assert s.accepted == 10
    assert s.rejected == 0
    assert s.uptime_s == 31
    assert s.algorithm == "x16r"
    assert s.pool_url == "stratum+tcp://us.ravenminer.com:4567"
    assert s.pool_user == "xxxx"
    assert len(s.devices) == 8
    first = s.devices[0]
    assert first.index == 0
    assert first.kind is DeviceKind.GPU
    assert first.name == "GeForce GTX 1070 Ti"
    assert first.hashrate_hs == 19101584.0
    assert first.temp_c == 57.0
    assert first.fan_pct == 56.0
    assert first.power_w == 193.0
    assert s.devices[7].hashrate_hs == 18234722.0
    assert s.temp_max_c == 58.0
    assert s.power_w == 193 + 194 + 193 + 198 + 189 + 190 + 194 + 181


def test_trex_api_3_0_single_gpu_without_fan_or_power():
    facts, s = gpu_miners.parse_trex(body("trex", "foreman-api3.0__summary.json"), ts=TS)
    assert facts.software == "T-Rex 0.9.1"
    assert facts.model == "GeForce GTX 1050 Ti"
    assert facts.worker == "1MKrTujwHxda6knL8hHrPMi7Git4upX56E"
    assert s.hashrate_hs == 7748158.0
    assert s.accepted == 1
    assert s.uptime_s == 56
    assert s.pool_url == "stratum+tcp://pool.minermore.com:4501"
    (gpu,) = s.devices
    assert gpu.temp_c == 68.0
    assert gpu.fan_pct is None
    assert gpu.power_w is None
    assert s.power_w is None


def test_trex_rates_are_already_hashes_per_second():
    _, s = gpu_miners.parse_trex(body("trex", "foreman-api1.1__summary.json"), ts=TS)
    # "hashrate": 19101584 for a GTX 1070 Ti on x16r is 19.1 MH/s: stored unchanged.
    assert s.devices[0].hashrate_hs == pytest.approx(19.101584e6)


def test_trex_refusal_without_gpus_is_an_api_refusal():
    with pytest.raises(gpu_miners.ApiRefused):
        gpu_miners.parse_trex({"success": 0, "error": "no sid"}, ts=TS)


# --- lolMiner ------------------------------------------------------------------------


def test_lolminer_sol_per_second_with_the_old_temps_key():
    facts, s = gpu_miners.parse_lolminer(body("lolminer", "foreman-1.0-summary__case1.json"), ts=TS)
    assert facts.software == "lolMiner 1.0 a2"
    assert facts.firmware == "1.0 a2"
    assert facts.model == "GeForce GTX 1050 Ti"
    assert s.hashrate_hs == pytest.approx(6.70)
    assert s.algorithm == "ZelHash"
    assert s.pool_url == "stratum.zel.cash:2001"
    assert s.pool_user == "t1cLkQpx3kEJw2TjPnTmCpe4KqLvER8NknA.testWorker"
    assert s.uptime_s == 10
    (gpu,) = s.devices
    assert gpu.bus_id == "1:0"
    assert gpu.temp_c == 49.0  # "Temps (deg C)" in this version
    assert gpu.fan_pct == 75.0
    assert gpu.power_w is None  # "Consumption (W)": 0 means not measured
    assert s.power_w is None  # TotalPower 0


def test_lolminer_mh_per_second_becomes_hashes_per_second():
    facts, s = gpu_miners.parse_lolminer(body("lolminer", "foreman-1.0-summary__case3.json"), ts=TS)
    assert facts.model == "4x AMD Radeon VII"
    assert s.hashrate_hs == pytest.approx(302.40e6)
    assert [d.hashrate_hs for d in s.devices] == pytest.approx([75.86e6, 74.51e6, 75.34e6, 76.69e6])
    assert [d.temp_c for d in s.devices] == [47.0, 65.0, 50.0, 54.0]
    assert [d.mem_temp_c for d in s.devices] == [58.0, 76.0, 64.0, 66.0]
    assert s.devices[3].power_w == pytest.approx(176.468)
    assert s.devices[3].accepted == 2
    assert s.devices[3].rejected == 0
    assert s.power_w == pytest.approx(659.451)
    assert s.accepted == 3
    assert s.rejected == 0
    assert s.uptime_s == 90
    assert s.algorithm == "Ethash"
    assert s.temp_max_c == 65.0


def test_lolminer_zero_temperatures_mean_no_sensor():
    _, s = gpu_miners.parse_lolminer(body("lolminer", "foreman-1.0-summary__case2.json"), ts=TS)
    assert s.hashrate_hs == pytest.approx(6.08e6)
    assert [d.hashrate_hs for d in s.devices] == pytest.approx([0.0, 3.87e6, 0.0, 2.21e6])
    assert all(d.temp_c is None for d in s.devices)
    assert s.temp_c is None
    assert s.algorithm == "Etchash"


def test_lolminer_unknown_unit_is_reported_not_guessed():
    data = body("lolminer", "foreman-1.0-summary__case3.json")
    data["Session"]["Performance_Unit"] = "furlongs/fortnight"
    _, s = gpu_miners.parse_lolminer(data, ts=TS)
    assert s.hashrate_hs is None
    assert all(d.hashrate_hs is None for d in s.devices)
    assert s.errors == ("unknown hashrate unit 'furlongs/fortnight'",)


# --- SRBMiner ------------------------------------------------------------------------


def test_srbminer_cn_gives_fan_rpm_and_clocks():
    facts, s = gpu_miners.parse_srbminer(body("srbminer", "foreman-1.7.9__root.json"), ts=TS)
    assert facts.software == "SRBMiner-CN 1.7.9"
    assert facts.hostname == "SRBMiner-Rig"
    assert facts.model == "Radeon RX 560 Series"
    assert s.hashrate_hs == 343.0
    assert s.algorithm == "normalv8"
    assert s.pool_url == "xmr-eu1.nanopool.org:14444"
    assert s.uptime_s == 132
    assert (s.accepted, s.rejected, s.stale) == (0, 0, 0)
    assert s.fans_rpm == (1652,)
    (gpu,) = s.devices
    assert gpu.bus_id == "2"
    assert gpu.hashrate_hs == 343.0
    assert gpu.temp_c == 63.0
    assert gpu.fan_rpm == 1652
    assert gpu.core_clock_mhz == 1187.0
    assert gpu.mem_clock_mhz == 1500.0


def test_srbminer_multi_cpu_schema():
    facts, s = gpu_miners.parse_srbminer(body("srbminer", "foreman-multi-cpu__root.json"), ts=TS)
    assert facts.software == "SRBMiner-MULTI 0.5.6"
    assert facts.model == "Intel Core Processor (Haswell, no TSX, IBRS)"
    assert facts.hostname == "SRBMiner-Multi-Rig"
    assert s.hashrate_hs == pytest.approx(206111.5149227829)
    assert s.algorithm == "verushash"
    assert s.pool_url == "verus.alphatechit.co.uk:9997"
    assert (s.accepted, s.rejected) == (15, 0)
    assert s.uptime_s == 1368
    (cpu,) = s.devices
    assert cpu.kind is DeviceKind.CPU
    assert cpu.hashrate_hs == pytest.approx(206111.5149227829)


def test_srbminer_rates_are_raw_hashes_per_second():
    _, s = gpu_miners.parse_srbminer(body("srbminer", "foreman-1.7.9__root.json"), ts=TS)
    # An RX 560 on CryptoNight v8 does ~343 H/s; SRBMiner states it unscaled.
    assert s.devices[0].hashrate_hs == pytest.approx(343.0)


# --- GMiner --------------------------------------------------------------------------


def test_gminer_1_34_with_speed_unit():
    facts, s = gpu_miners.parse_gminer(body("gminer", "foreman-1.34__stat.json"), ts=TS)
    assert facts.software == "GMiner 1.34"
    assert facts.firmware == "1.34"
    assert facts.model == "ASUS Radeon RX 560 Series 4GB"
    assert s.algorithm == 'Equihash 150,5 "Beam-PoW"'
    assert s.pool_url == "stratum+ssl://beam.sparkpool.com:2222"
    assert s.pool_user is not None
    assert s.pool_user.endswith(".rig0")
    assert s.uptime_s == 88
    (gpu,) = s.devices
    assert gpu.bus_id == "0000:02:00.0"
    assert gpu.hashrate_hs == pytest.approx(1.2)  # "Sol/s"
    assert gpu.temp_c == 54.0
    assert gpu.power_w == 32.0
    assert s.hashrate_hs == pytest.approx(1.2)


def test_gminer_without_speed_unit_sums_devices():
    facts, s = gpu_miners.parse_gminer(body("gminer", "foreman__stat.json"), ts=TS)
    assert facts.software == "GMiner"
    assert facts.model == "4x EVGA GeForce GTX 1070 Ti 8GB"
    assert s.hashrate_hs == pytest.approx(61.1 + 65.1 + 62.1 + 65.1)
    assert s.accepted == 0 + 1 + 2 + 2
    assert s.rejected == 0
    assert s.power_w == 202 + 202 + 201 + 201
    assert s.uptime_s == 37
    assert s.pool_url == "stratum://eu.btgpool.pro:1445"
    assert [d.temp_c for d in s.devices] == [52.0, 48.0, 52.0, 51.0]


@pytest.mark.parametrize(
    ("unit", "factor"),
    [("Sol/s", 1.0), ("G/s", 1.0), ("H/s", 1.0), ("KH/s", 1e3), ("MH/s", 1e6), ("GH/s", 1e9)],
)
def test_gminer_speed_unit_scales_to_hashes_per_second(unit, factor):
    data = body("gminer", "foreman-1.34__stat.json")
    data["speedUnit"] = unit
    _, s = gpu_miners.parse_gminer(data, ts=TS)
    assert s.devices[0].hashrate_hs == pytest.approx(1.2 * factor)


# --- NBMiner -------------------------------------------------------------------------


def test_nbminer_raw_rates_stratum_and_power():
    facts, s = gpu_miners.parse_nbminer(body("nbminer", "foreman__api-v1-status.json"), ts=TS)
    assert facts.software == "NBMiner v10.0"
    assert facts.model == "2x GeForce GTX 1080 Ti"
    assert s.hashrate_hs == 2989.0
    assert [d.hashrate_hs for d in s.devices] == [1499.0, 1490.0]
    assert [d.fan_pct for d in s.devices] == [36.0, 34.0]
    assert [d.core_clock_mhz for d in s.devices] == [1556.0, 1518.0]
    assert s.power_w == 354.0
    assert (s.accepted, s.rejected) == (99, 1)
    assert s.pool_url == "btm.pool.zhizh.com:3859"
    assert s.uptime_s == int(TS.timestamp()) - 1532482659


def test_nbminer_string_rate_with_si_suffix():
    data = body("nbminer", "foreman__api-v1-status.json")
    dev = data["miner"]["devices"][0]
    del dev["hashrate_raw"]
    dev["hashrate"] = dev["hashrate2"]  # "23.0 M", a real string from the same capture
    _, s = gpu_miners.parse_nbminer(data, ts=TS)
    assert s.devices[0].hashrate_hs == pytest.approx(23.0e6)


# --- shared helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("sol/s", 1.0),
        ("mh/s", 1e6),
        ("Sol/s", 1.0),
        ("G/s", 1.0),
        ("kH/s", 1e3),
        ("TH/s", 1e12),
        ("ksol/s", 1e3),
        ("g/s", 1.0),
        ("h", 1.0),
        ("", None),
        ("parsecs", None),
        (None, None),
        (12, None),
    ],
)
def test_rate_units(unit, factor):
    assert gpu_miners.rate_factor(unit) == factor


def test_a_body_that_is_not_json_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        gpu_miners.decode_json(b"<html>", "GMiner")


@pytest.mark.parametrize(
    "parse",
    [
        gpu_miners.parse_trex,
        gpu_miners.parse_lolminer,
        gpu_miners.parse_srbminer,
        gpu_miners.parse_gminer,
        gpu_miners.parse_nbminer,
    ],
)
def test_another_programs_body_is_not_taken_for_this_one(parse):
    with pytest.raises(ProtocolError):
        parse({"unrelated": 1}, ts=TS)
    with pytest.raises(ProtocolError):
        parse([1, 2], ts=TS)
