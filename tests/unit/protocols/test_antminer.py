"""Antminer replies from real captures become the facts and samples an operator expects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.protocols import antminer
from rigwatch.protocols.errors import ProtocolError

from .payloads import ANTMINER, cases, replies

TS = datetime(2024, 1, 1, tzinfo=UTC)
T = 1e12
G = 1e9


def parsed(case: str):
    return antminer.parse(replies(ANTMINER, case, antminer.COMMANDS), ts=TS)


# case: (model, hashrate H/s, expected H/s, fans, (acc, rej, stale), uptime, pool url, worker)
EXPECTED = {
    "foreman__antminer-s19-really-cold": (
        "S19 Pro",
        110786.79 * G,
        111859.0 * G,
        (5520, 5400, 5040, 5040),
        (2848, 20, 0),
        82852,
        "stratum+tcp://equihash.luxor.tech:700",
        "x.001",
    ),
    "foreman__antminer-s17": (
        "S17",
        54997.01 * G,
        53619.0 * G,
        (2400, 3000, 3120, 2400),
        (86500, 416, 122),
        253447,
        "stratum+tcp://xxxxxx:3333",
        "CosmosCapitalFund.COSMOSxCNKxS17Px00001",
    ),
    "foreman__antminer-s9-bad-temps": (
        "S9",
        13883.81 * G,
        13862.52 * G,
        (3720, 2400),
        (22673, 8, 0),
        293628,
        "stratum+tcp://ss.antpool.com:3333",
        "xxx",
    ),
    "foreman__antminer-s9-asicseer": (
        "S9",
        13402.14 * G,
        13466.25 * G,
        (2880, 3840),
        (1, 0, 0),
        102,
        "stratum+tcp://btc-us.f2pool.com:3333",
        "asicseer.dcc9a2",
    ),
    "foreman__antminer-s9-hiveon": (
        "S9",
        11781.40 * G,
        11850.3 * G,
        (3840, 4920),
        (3038, 8, 5),
        69,
        "stratum+tcp://dash-eu.coinmine.pl:6099",
        "Dash.default",
    ),
    "foreman__antminer-s9-nicehash": (
        "S9",
        12795.48 * G,
        12927.6 * G,
        (5400, 5880),
        (301, 0, 0),
        3617,
        "stratum+tcp://solo.antpool.com:3333",
        "antminer_1",
    ),
    "foreman__antminer-s9-mskminer": (
        "S9",
        9039.731 * G,
        10773.0 * G,
        (5280,),
        (0, 0, 0),
        16,
        "stratum+tcp://stratum.antpool.com:3333",
        "antminer_1",
    ),
    "foreman__antminer-s9k": (
        "S9k",
        14359.19 * G,
        14000.0 * G,
        (2280, 3720),
        (3038, 8, 5),
        367506,
        "stratum+tcp://dash-eu.coinmine.pl:6099",
        "Dash.default",
    ),
    "foreman__antminer-t15": (
        "T15",
        21615.78 * G,
        21000.0 * G,
        (2880, 2880),
        (777, 0, 0),
        13263,
        "stratum+tcp://x.pool.bitcoin.com:3333",
        "x",
    ),
    "pyasic__s19-mskminer-2.6.0.39": (
        "S19",
        99989.59 * G,
        99674.88 * G,
        (5010, 5160, 5070, 5040),
        (30000, 300, 0),
        1926,
        "stratum+tcp://stratum.pool.io:3333",
        "pool_username.real_worker",
    ),
    "foreman__antminer-s19-overheating-2": (
        "S19 Pro",
        0.0,
        111859.0 * G,
        (6000, 5880, 6120, 6120),
        (100129, 31, 0),
        321734,
        "stratum+tcp://aaa.com:9999#xnsub",
        "aaa.bbb",
    ),
    "foreman__antminer-s19-sleeping": (
        "S19",
        0.0,
        63919.0 * G,
        (1560, 1560, 600, 720),
        (0, 0, 0),
        735,
        "stratum+tcp://aaa:700",
        "aaa.226x94",
    ),
    "foreman__antminer-s17plus-sleeping": (
        "S17+",
        0.0,
        None,
        (),
        (100129, 31, 0),
        279,
        "stratum+tcp://aaa.com:9999#xnsub",
        "aaa.bbb",
    ),
    "foreman__antminer-t17plus-sleeping": (
        "T17+",
        0.0,
        None,
        (),
        (100129, 31, 0),
        8105,
        "stratum+tcp://aaa.com:9999#xnsub",
        "aaa.bbb",
    ),
    # Non-SHA-256 builds write "GHS" but mean MH/s (scrypt, X11, ethash) or kSol/s (Z11).
    "foreman__antminer-l3": (
        "L3",
        504.56e6,
        None,
        (3840, 3810),
        (47384, 212, 15),
        393983,
        "stratum+tcp://us.litecoinpool.org:3333",
        "obmllc.l3_1",
    ),
    "foreman__antminer-d3": (
        "D3",
        16346.64e6,
        None,
        (6030, 5790),
        (3038, 8, 5),
        54422,
        "stratum+tcp://dash-eu.coinmine.pl:6099",
        "Dash.default",
    ),
    "foreman__antminer-e3": (
        "E3",
        197.30e6,
        None,
        (3600, 3720),
        (38, 0, 0),
        556,
        "stratum+tcp://us1.ethpool.org:3333",
        "#0x65CdB0EE9Ba1D9eFe2566965F8B089c2B9ffCE63.00B4C08382A1",
    ),
    "foreman__antminer-z11": (
        "Z11",
        141.54e3,
        None,
        (5640, 5760),
        (2848, 20, 0),
        68493,
        "stratum+tcp://equihash.luxor.tech:700",
        "x.001",
    ),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_real_antminer_capture_gives_its_stated_figures_in_base_units(case):
    model, hashrate, expected, fans, shares, uptime, url, worker = EXPECTED[case]
    facts, sample = parsed(case)
    assert facts.make == "Antminer"
    assert facts.model == model
    assert sample.hashrate_hs == pytest.approx(hashrate)
    assert sample.hashrate_expected_hs == (None if expected is None else pytest.approx(expected))
    assert sample.fans_rpm == fans
    assert (sample.accepted, sample.rejected, sample.stale) == shares
    assert sample.uptime_s == uptime
    assert sample.pool_url == url
    assert facts.worker == worker
    assert sample.pool_user == worker
    assert sample.ts == TS


def test_every_antminer_capture_parses():
    for case in cases(ANTMINER):
        facts, sample = parsed(case)
        assert facts.make == "Antminer"
        assert sample.hashrate_hs is not None, case


def test_s19_pro_chains_are_zero_based_boards_with_gh_rates_and_chip_counts():
    _, sample = parsed("foreman__antminer-s19-really-cold")
    boards = sample.hashboards
    assert [b.index for b in boards] == [0, 1, 2]
    assert boards[0].hashrate_hs == pytest.approx(37735.24e9)
    assert boards[2].hashrate_hs == pytest.approx(34942.48e9)
    assert [b.chips for b in boards] == [114, 114, 114]
    assert all(b.chips_expected == 114 and not b.missing for b in boards)
    assert [b.temp_c for b in boards] == [22, 20, 21]
    assert [b.chip_temp_c for b in boards] == [27, 25, 26]
    assert sample.temp_max_c == 27
    assert sample.hashrate_hs == pytest.approx(110.78679 * T)


def test_s9_chains_numbered_six_to_eight_become_boards_zero_to_two():
    _, sample = parsed("foreman__antminer-s9-asicseer")
    assert [b.index for b in sample.hashboards] == [0, 1, 2]
    assert [b.hashrate_hs for b in sample.hashboards] == pytest.approx(
        [4467.65e9, 4431.33e9, 4503.15e9]
    )
    assert [b.temp_c for b in sample.hashboards] == [57, 49, 56]
    assert [b.chip_temp_c for b in sample.hashboards] == [87, 74, 86]


def test_a_dead_first_chain_on_an_s19_is_a_missing_board():
    _, sample = parsed("foreman__antminer-s19-sleeping")
    first, second, third = sample.hashboards
    assert first.missing and first.chips == 0 and first.chips_expected == 76
    assert not second.missing and second.chips == 76
    assert not third.missing and third.temp_c == 40


def test_a_negative_sensor_reading_is_an_error_not_a_temperature():
    _, sample = parsed("foreman__antminer-s9-bad-temps")
    assert sample.hashboards[1].chip_temp_c is None
    assert sample.errors == ("board 1: sensor temp2_7 reads -83 °C",)
    assert sample.chip_temp_c == 62


def test_dash_strings_with_negative_readings_are_split_correctly():
    _, sample = parsed("foreman__antminer-s17")
    # temp2_N is present, but temp_chipN "48-80-49-70" agrees on the maximum
    assert [b.chip_temp_c for b in sample.hashboards] == [80, 75, 63]


def test_version_reply_gives_firmware_build_software_and_api():
    facts, _ = parsed("foreman__antminer-s19-really-cold")
    assert facts.firmware == "Wed Oct 21 10:18:10 CST 2020"
    assert facts.software == "BMMiner 1.0.0"
    assert facts.api_version == "3.1"
    assert facts.hardware == "49.0.1.3"


def test_custom_firmware_type_strings_reduce_to_the_model():
    assert parsed("foreman__antminer-s9-nicehash")[0].model == "S9"  # "S9 (vnish 3.8.6)"
    assert parsed("foreman__antminer-s9-bad-temps")[0].model == "S9"  # "S9\nV1.3.58"
    assert parsed("foreman__antminer-d3")[0].model == "D3"  # "D3 Blissz v2.06 beta"


def test_bosminer_summary_in_mhs_is_converted():
    facts, sample = parsed("foreman__antminer-s9-bos")
    assert facts.software == "BOSminer 0.2.0-d360818"
    assert sample.hashrate_hs == pytest.approx(14274425.317759488e6)
    assert (sample.accepted, sample.rejected, sample.stale) == (68, 2, 0)
    assert sample.uptime_s == 92


def test_facts_update_the_identity_but_not_its_key():
    facts, _ = parsed("foreman__antminer-s19-really-cold")
    identity = MinerIdentity(key="10.0.0.5", kind=MinerKind.ASIC, ip="10.0.0.5")
    updated = facts.apply(identity)
    assert updated.key == "10.0.0.5"
    assert (updated.make, updated.model, updated.worker) == ("Antminer", "S19 Pro", "x.001")
    assert updated.firmware == "Wed Oct 21 10:18:10 CST 2020"


def test_pools_keep_priority_order_and_mark_the_active_one():
    _, sample = parsed("foreman__antminer-s19-really-cold")
    assert len(sample.pools) == 1  # the two empty-URL slots are not pools
    pool = sample.pools[0]
    assert pool.active and pool.alive
    assert (pool.accepted, pool.rejected, pool.stale) == (2848, 20, 0)


def test_a_reply_without_stats_or_summary_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        antminer.parse(replies(ANTMINER, "foreman__antminer-s17", ("version", "pools")), ts=TS)
