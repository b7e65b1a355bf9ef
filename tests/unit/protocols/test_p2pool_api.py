"""P2Pool --data-api files: every real sample file, and hostile input."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.domain.p2pool import P2PoolStats, P2PoolWorker
from rigwatch.protocols import p2pool_api
from rigwatch.protocols.errors import ProtocolError

DIR = Path(__file__).parents[2] / "fixtures" / "p2pool" / "data-api"
TS = datetime(2025, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(source: str, name: str) -> bytes:
    return (DIR / f"{source}__{name.replace('/', '_')}.json").read_bytes()


def files(source: str) -> dict[str, bytes]:
    return {
        name: raw(source, name)
        for name in p2pool_api.FILES
        if (DIR / f"{source}__{name.replace('/', '_')}.json").exists()
    }


# ---- oieieio: raw compact files as p2pool v4.2 writes them ---------------------------------


def test_oieieio_local_stratum() -> None:
    got = p2pool_api.parse_local_stratum(raw("oieieio-2024-12", "local/stratum"))
    assert got == {
        "hashrate_15m_hs": 21209.0,
        "hashrate_1h_hs": 15695.0,
        "hashrate_24h_hs": 75726.0,
        "total_hashes": 44173824603,
        "shares_found": 287,
        "shares_failed": 0,
        "average_effort_pct": 106.817,
        "current_effort_pct": 42.619,
        "block_reward_share_pct": 0.27,
        "connections": 1,
        "wallet": None,
        "workers": (P2PoolWorker("127.0.0.1:33250", 12238, 464787, 15492.0, "xmrig-proxy"),),
    }


def test_oieieio_local_p2p_counts_connected_peers() -> None:
    assert p2pool_api.parse_local_p2p(raw("oieieio-2024-12", "local/p2p")) == {"peers": 83}


def test_oieieio_pool_stats() -> None:
    assert p2pool_api.parse_pool_stats(raw("oieieio-2024-12", "pool/stats")) == {
        "pool_hashrate_hs": 14027593.0,
        "pool_miners": 1407,
        "pool_blocks_found": 51,
        "sidechain_height": 9463717,
        "sidechain_difficulty": 140275938,
    }


def test_oieieio_network_stats() -> None:
    assert p2pool_api.parse_network_stats(raw("oieieio-2024-12", "network/stats")) == {
        "network_height": 3305366,
        "network_difficulty": 383800953344,
        "network_reward_atomic": 605626960000,
    }


def test_oieieio_stats_mod() -> None:
    assert p2pool_api.parse_stats_mod(raw("oieieio-2024-12", "stats_mod")) == {
        "network_height": 3305366,
        "pool_miners": 1407,
        "pool_hashrate_hs": 14027593.0,
    }


def test_oieieio_local_miner() -> None:
    assert p2pool_api.parse_local_miner(raw("oieieio-2024-12", "local/miner")) == {
        "hashrate_15m_hs": 8280.0,
        "total_hashes": 3167932692,
        "shares_found": 21,
        "shares_failed": 0,
        "block_reward_share_pct": 0.27,
    }


def test_oieieio_pool_blocks() -> None:
    blocks = p2pool_api.parse_pool_blocks(raw("oieieio-2024-12", "pool/blocks"))
    assert len(blocks) == 51
    first, last = blocks[0], blocks[-1]
    assert first == p2pool_api.PoolBlock(
        height=3305092,
        hash="b4d4bc3089333ec34ba76b121db9c0892733b2c3e3bc910483181aa3ef495f76",
        ts=datetime.fromtimestamp(1734459579, UTC),
        difficulty=386559806441,
        total_hashes=1142661886406774,
    )
    assert (last.height, last.ts) == (3295471, datetime.fromtimestamp(1733296962, UTC))


def test_oieieio_local_console_is_json_but_not_a_file_rigwatch_reads() -> None:
    body = raw("oieieio-2024-12", "local/console")
    assert p2pool_api.decode("local/console", body) == {"mode": "tty", "tcp_port": 63997}
    with pytest.raises(ProtocolError):
        p2pool_api.parse_file("local/console", body)


def test_oieieio_whole_directory_stratum_figures_win_over_the_built_in_miner() -> None:
    stats = p2pool_api.parse_data_api(files("oieieio-2024-12"), ts=TS)
    assert stats == P2PoolStats(
        ts=TS,
        hashrate_15m_hs=21209.0,
        hashrate_1h_hs=15695.0,
        hashrate_24h_hs=75726.0,
        total_hashes=44173824603,
        shares_found=287,
        shares_failed=0,
        average_effort_pct=106.817,
        current_effort_pct=42.619,
        block_reward_share_pct=0.27,
        connections=1,
        wallet=None,
        workers=(P2PoolWorker("127.0.0.1:33250", 12238, 464787, 15492.0, "xmrig-proxy"),),
        peers=83,
        sidechain_height=9463717,
        sidechain_difficulty=140275938,
        pool_hashrate_hs=14027593.0,
        pool_miners=1407,
        pool_blocks_found=51,
        network_height=3305366,
        network_difficulty=383800953344,
        network_reward_atomic=605626960000,
    )


def test_without_a_stratum_file_the_built_in_miner_stands_in() -> None:
    only = {"local/miner": raw("oieieio-2024-12", "local/miner")}
    stats = p2pool_api.parse_data_api(only, ts=TS)
    assert (stats.hashrate_15m_hs, stats.shares_found, stats.total_hashes) == (
        8280.0,
        21,
        3167932692,
    )
    assert stats.hashrate_1h_hs is None
    assert stats.pool_miners is None


# ---- hreikin: a p2pool-mini directory, pretty-printed --------------------------------------


def test_hreikin_local_stratum_of_an_idle_node_is_zeros_not_none() -> None:
    got = p2pool_api.parse_local_stratum(raw("hreikin-2025-02", "local/stratum"))
    assert got["hashrate_15m_hs"] == 0.0
    assert got["shares_found"] == 0
    assert got["average_effort_pct"] == 0.0
    assert got["connections"] == 0
    assert got["workers"] == ()


def test_hreikin_local_p2p() -> None:
    assert p2pool_api.parse_local_p2p(raw("hreikin-2025-02", "local/p2p")) == {"peers": 10}


def test_hreikin_pool_network_and_stats_mod() -> None:
    assert p2pool_api.parse_pool_stats(raw("hreikin-2025-02", "pool/stats")) == {
        "pool_hashrate_hs": 17723081.0,
        "pool_miners": 1587,
        "pool_blocks_found": 317,
        "sidechain_height": 9895442,
        "sidechain_difficulty": 177230815,
    }
    assert p2pool_api.parse_network_stats(raw("hreikin-2025-02", "network/stats")) == {
        "network_height": 3342586,
        "network_difficulty": 487949079586,
        "network_reward_atomic": 600044400000,
    }
    assert p2pool_api.parse_stats_mod(raw("hreikin-2025-02", "stats_mod")) == {
        "network_height": 3342586,
        "pool_miners": 1587,
        "pool_hashrate_hs": 17723081.0,
    }


def test_hreikin_pool_blocks() -> None:
    blocks = p2pool_api.parse_pool_blocks(raw("hreikin-2025-02", "pool/blocks"))
    assert [b.height for b in blocks] == [3342543, 3342019, 3341883]
    assert blocks[0].total_hashes == 1223001183570723
    assert blocks[2].ts == datetime.fromtimestamp(1738869067, UTC)


def test_hreikin_local_console() -> None:
    body = raw("hreikin-2025-02", "local/console")
    assert p2pool_api.decode("local/console", body) == {"mode": "17", "tcp_port": 54677}


def test_hreikin_whole_directory() -> None:
    stats = p2pool_api.parse_data_api(files("hreikin-2025-02"), ts=TS)
    assert stats.peers == 10
    assert stats.pool_blocks_found == 317
    assert stats.network_reward_atomic == 600044400000
    assert stats.hashrate_1h_hs == 0.0
    assert stats.workers == ()


# ---- details of the formats ----------------------------------------------------------------


def test_a_worker_name_with_commas_is_kept_whole() -> None:
    body = json.dumps({"workers": ["10.0.0.2:1234,60,1000,250,rig, left shelf", "", 7]})
    (worker,) = p2pool_api.parse_local_stratum(body.encode())["workers"]
    assert worker == P2PoolWorker("10.0.0.2:1234", 60, 1000, 250.0, "rig, left shelf")


def test_the_current_sources_wallet_field_is_read() -> None:
    body = json.dumps({"wallet": "4AbCdEf", "total_stratum_shares": 5}).encode()
    assert p2pool_api.parse_local_stratum(body)["wallet"] == "4AbCdEf"


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b"{}" * 3])
def test_a_file_that_is_not_a_json_object_is_a_protocol_error(body: bytes) -> None:
    for name in p2pool_api.FILES:
        with pytest.raises(ProtocolError):
            p2pool_api.parse_file(name, body)


def test_an_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(ProtocolError, match="more than p2pool writes"):
        p2pool_api.parse_file("local/stratum", b" " * (p2pool_api.MAX_FILE_BYTES + 1))


def test_pool_blocks_must_be_a_list() -> None:
    with pytest.raises(ProtocolError):
        p2pool_api.parse_pool_blocks(b"{}")


# ---- hostile input --------------------------------------------------------------------------

keys = st.sampled_from(
    [
        "hashrate_15m",
        "hashrate_1h",
        "total_hashes",
        "shares_found",
        "average_effort",
        "connections",
        "wallet",
        "workers",
        "pool_statistics",
        "hashRate",
        "miners",
        "sidechainHeight",
        "network",
        "pool",
        "height",
        "difficulty",
        "reward",
        "current_hashrate",
        "ts",
        "hash",
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys | st.text(max_size=5), inner),
    max_leaves=30,
)


@SETTINGS
@given(st.sampled_from([*p2pool_api.FILES, "pool/blocks"]), json_values)
def test_any_json_gives_stats_or_a_protocol_error(name: str, value: object) -> None:
    body = json.dumps(value).encode()
    with contextlib.suppress(ProtocolError):
        if name == "pool/blocks":
            p2pool_api.parse_pool_blocks(body)
        else:
            p2pool_api.merge([p2pool_api.parse_file(name, body)], ts=TS)


@SETTINGS
@given(st.sampled_from([*p2pool_api.FILES, "pool/blocks"]), st.binary(max_size=300))
def test_any_bytes_give_stats_or_a_protocol_error(name: str, body: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        if name == "pool/blocks":
            p2pool_api.parse_pool_blocks(body)
        else:
            p2pool_api.parse_file(name, body)
