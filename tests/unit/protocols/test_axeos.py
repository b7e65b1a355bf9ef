"""AxeOS system/info bodies from three firmware generations, converted to base units."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.protocols import axeos
from rigwatch.protocols.errors import ProtocolError

from .payloads import BITAXE

TS = datetime(2024, 1, 1, tzinfo=UTC)
GAMMA = "osmu-wiki__v2.12.2-bm1370-gamma601__system-info.json"
ULTRA_26 = "osmu-wiki__v2.6.0-bm1366-ultra302__system-info.json"
ULTRA_207 = "osmu-wiki__v2.0.7-bm1366-ultra302__system-info.json"
GAMMA_ASIC = "osmu-wiki__v2.12.2-bm1370-gamma601__system-asic.json"


def body(name: str):
    return axeos.decode_body((BITAXE / name).read_bytes())


def test_gamma_v2_12_converts_gh_to_hs_and_reports_the_fallback_pool_it_uses():
    facts, sample = axeos.parse_info(body(GAMMA), ts=TS, asic=body(GAMMA_ASIC))
    assert sample.hashrate_hs == pytest.approx(1072.2407227e9)
    assert sample.hashrate_expected_hs == pytest.approx(1071e9)
    assert sample.power_w == pytest.approx(18.7522583)
    assert sample.chip_temp_c == 60.125
    assert sample.temp_c == 62  # vrTemp
    assert sample.fans_rpm == (3915,)
    assert (sample.accepted, sample.rejected) == (4768, 13)
    assert sample.uptime_s == 18574
    # isUsingFallbackStratum = 1
    assert sample.pool_url == "stratum+tcp://solo.ckpool.org:3333"
    assert [p.active for p in sample.pools] == [False, True]
    assert sample.pools[0].url == "stratum+tcp://public-pool.io:21496"
    assert sample.hashboards[0].chips == 1
    assert facts.make == "Bitaxe"
    assert facts.model == "Gamma"
    assert facts.firmware == "v2.12.2"
    assert facts.hardware == "601"
    assert facts.mac == "10:F5:12:33:BB:F0"
    assert facts.hostname == "bitaxe"
    assert facts.worker == ("bc1qnp980s5fpp8l94p5cvttmtdqy8rvrq74qly2yrfmzkdsntqzlc5qkc4rkq.bitaxe")


def test_ultra_v2_6_with_string_best_diff_and_dashed_mac():
    facts, sample = axeos.parse_info(body(ULTRA_26), ts=TS)
    assert facts.model == "Ultra"
    assert facts.mac == "C0:FA:38:6A:6E:B2"
    assert sample.hashrate_hs == pytest.approx(2372.7583341893742e9)
    # no expectedHashrate: smallCoreCount 894 x asicCount 1 x 525 MHz, in MH/s
    assert sample.hashrate_expected_hs == pytest.approx(894 * 525 * 1e6)
    assert sample.temp_c == 45
    assert sample.chip_temp_c == 58
    assert sample.fans_rpm == (5515,)
    assert (sample.accepted, sample.rejected) == (19739, 6)
    assert sample.pool_url == "stratum+tcp://public-pool.io:21496"


def test_ultra_v2_0_7_without_vr_temp_fan_rpm_or_mac():
    facts, sample = axeos.parse_info(body(ULTRA_207), ts=TS)
    assert facts.model == "Ultra"
    assert facts.mac is None
    assert facts.firmware == "v2.0.7-48-ge561f60"
    assert sample.hashrate_hs == pytest.approx(2372.7583341893742e9)
    assert sample.temp_c == 58
    assert sample.fans_rpm == ()
    assert sample.pool_url == "stratum+tcp://10.0.55.221:2018"
    assert facts.worker == "test.hex"
    assert sample.uptime_s == 212115


def test_asic_endpoint_names_the_device_and_counts_asics():
    assert axeos.parse_asic(body(GAMMA_ASIC)) == ("Gamma", 1)


@pytest.mark.parametrize(("chip", "model"), sorted(axeos.ASIC_MODELS.items()))
def test_the_asic_decides_the_product_line(chip, model):
    info = {**body(GAMMA), "ASICModel": chip}
    assert axeos.parse_info(info, ts=TS)[0].model == model


@pytest.mark.parametrize("raw", [b"", b"<html>AxeOS</html>", b"[1,2]", b'"x"', b"{"])
def test_a_body_that_is_not_a_json_object_is_a_protocol_error(raw):
    with pytest.raises(ProtocolError):
        axeos.decode_body(raw)


def test_an_object_without_axeos_fields_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        axeos.parse_info({"message": "Mining paused"}, ts=TS)
