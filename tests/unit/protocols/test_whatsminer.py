"""Whatsminer btminer v2 captures: MH/s rates, per-slot boards, power, MAC, the sleeping M31S."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.protocols import whatsminer
from rigwatch.protocols.cgminer import CommandRejected, decode_reply, sections
from rigwatch.protocols.errors import ProtocolError

from .payloads import WHATSMINER, cases, raw, replies

TS = datetime(2024, 1, 1, tzinfo=UTC)
ALL = ("summary", "devs", "edevs", "pools", "status")


def parsed(case: str):
    return whatsminer.parse(replies(WHATSMINER, case, ALL), ts=TS)


def test_m31s_summary_gives_mhs_as_hs_factory_ghs_power_fans_and_mac():
    facts, sample = parsed("foreman__whatsminer-m31s-new-firmware-2")
    assert sample.hashrate_hs == pytest.approx(77909448.60e6)
    assert sample.hashrate_expected_hs == pytest.approx(75697e9)
    assert sample.power_w == 3553
    assert sample.fans_rpm == (5700, 0)
    assert sample.temp_c == 72
    assert sample.chip_temp_c == 73.87
    assert sample.temp_max_c == 93
    assert sample.uptime_s == 33102
    assert (sample.accepted, sample.rejected, sample.stale) == (2296, 1, 0)
    assert sample.errors == ("error code 110", "error code 111", "error code 131")
    assert facts.mac == "C6:06:12:00:2D:63"
    assert facts.firmware == "20201202.22.REL"
    assert facts.make == "Whatsminer"
    assert facts.worker == "x.12x22"
    assert sample.pool_url == "stratum+tcp://btc.ss.poolin.com:443"


def test_m31s_edevs_slots_become_boards():
    _, sample = parsed("foreman__whatsminer-m31s-new-firmware-2")
    boards = sample.hashboards
    assert [b.index for b in boards] == [0, 1, 2]
    assert boards[0].hashrate_hs == pytest.approx(24720718.63e6)
    assert boards[0].temp_c == 57.5
    assert boards[0].chip_temp_c == 66.30
    assert [b.chips for b in boards] == [105, 105, 105]
    assert not any(b.missing for b in boards)


def test_m20s_summary_with_a_backslash_quote_escape_still_parses():
    facts, sample = parsed("foreman__whatsminer-m20s-new-firmware")
    assert facts.firmware == "20200917.22.REL"
    assert facts.mac == "C4:11:04:01:3C:75"
    assert sample.hashrate_hs == pytest.approx(67266447.69e6)
    assert sample.hashrate_expected_hs == pytest.approx(67051e9)
    assert sample.power_w == 3491
    assert sample.fans_rpm == (4950, 4920)
    assert [b.chips for b in sample.hashboards] == [111, 111, 111]
    assert sample.hashboards[1].hashrate_hs == pytest.approx(23470927.44e6)


def test_old_firmware_without_power_or_factory_rate_leaves_them_unknown():
    facts, sample = parsed("foreman__whatsminer-m20s-old-firmware")
    assert sample.hashrate_hs == pytest.approx(65463822.08e6)
    assert sample.power_w is None
    assert sample.hashrate_expected_hs is None
    assert facts.firmware is None
    assert (sample.accepted, sample.rejected, sample.stale) == (33825, 185, 27)


def test_m3_reports_the_alive_stratum_pool_not_the_dead_first_one():
    _, sample = parsed("foreman__whatsminer-m3")
    assert sample.hashrate_hs == pytest.approx(12239079.72e6)
    assert sample.temp_c == 85.5
    assert sample.fans_rpm == (5730, 5880)
    assert sample.pool_url == "stratum+tcp://sha256.eu.nicehash.com:3334"
    assert [p.alive for p in sample.pools] == [False, True, True]


def test_sleeping_m31s_status_says_it_is_not_mining():
    facts, sample = parsed("foreman__whatsminer-m31s-sleeping")
    assert facts.is_mining is False
    assert facts.firmware == "20200512.13.REL"
    assert sample.hashrate_expected_hs == pytest.approx(86472e9)
    assert sample.errors == ("error code 205",)
    assert [b.chips for b in sample.hashboards] == [156, 156, 156]


def test_sleeping_m31s_rejects_the_cmd_form_of_a_joined_command():
    data = raw(WHATSMINER, "foreman__whatsminer-m31s-sleeping", "poolsplussummaryplusedevs")
    assert data is not None
    with pytest.raises(CommandRejected) as info:
        sections(decode_reply(data), ["pools", "summary", "edevs"])
    assert info.value.code == 24
    assert info.value.message == "Missing JSON 'command'"


def test_every_whatsminer_summary_capture_parses():
    for case in cases(WHATSMINER):
        if raw(WHATSMINER, case, "summary") is None:
            continue
        _, sample = parsed(case)
        assert sample.hashrate_hs is not None, case


def test_devdetails_model_splits_into_model_and_hardware_revision():
    devdetails = {
        "STATUS": [{"STATUS": "S", "Code": 69, "Msg": "Device Details"}],
        "DEVDETAILS": [
            {"DEVDETAILS": 0, "Name": "SM", "Model": "M30S+_VE40", "Driver": "bitmicro"}
        ],
    }
    summary = replies(WHATSMINER, "foreman__whatsminer-m3", ("summary",))
    facts, _ = whatsminer.parse({**summary, "devdetails": devdetails}, ts=TS)
    assert (facts.model, facts.hardware) == ("M30S+", "VE40")


def test_no_summary_and_no_devs_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        whatsminer.parse(replies(WHATSMINER, "foreman__whatsminer-m3", ("pools",)), ts=TS)
