"""The P2Pool observer connector on the examples of the observer's own API page.

The payloads under tests/fixtures/p2pool-observer/ are the observer's documented
examples, pasted from the live p2pool.observer (main side chain) in 2023 and trimmed by
its maintainer (see tests/fixtures/SOURCES.md): lists are shorter than a real window,
and pool_info is the 2023-04 shape. Every figure below is recomputed in the comments.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.domain.pools import PoolKind
from rigwatch.protocols import p2pool_observer as obs
from rigwatch.protocols.errors import ProtocolError
from tests.unit.protocols.payloads import mutate

DIR = Path(__file__).parents[2] / "fixtures" / "p2pool-observer"
TS = datetime(2023, 4, 13, tzinfo=UTC)
ADDRESS = (
    "47ab14EokGgCTX7RYoVhrNMjVA7GfW1jyMAmL7qBQz9fa4RZ"
    "6ZsBUgeRGuPWjqeM1wLptSJH5xuX2H4mAepMYvu6JqWMsGw"
)
FILES = {
    obs.MINER_INFO: "docs-miner_info.json",
    obs.WINDOW: "docs-side_blocks_in_window_miner.json",
    obs.POOL_INFO: "docs-pool_info_2023-04_legacy.json",
    obs.PAYOUTS: "docs-payouts.json",
    obs.FOUND_BLOCKS: "docs-found_blocks.json",
}


def body(name: str) -> bytes:
    return (DIR / FILES[name]).read_bytes()


def bodies() -> dict[str, bytes]:
    return {name: body(name) for name in FILES}


def test_endpoints_put_the_miner_in_the_path() -> None:
    paths = {e.name: (e.path, e.required) for e in obs.endpoints(ADDRESS)}
    assert paths[obs.MINER_INFO] == (f"/api/miner_info/{ADDRESS}", True)
    assert paths[obs.WINDOW] == (f"/api/side_blocks_in_window/{ADDRESS}", False)
    assert paths[obs.PAYOUTS] == (f"/api/payouts/{ADDRESS}?search_limit=50", False)
    assert paths[obs.FOUND_BLOCKS] == ("/api/found_blocks?limit=20", False)
    assert paths[obs.POOL_INFO] == ("/api/pool_info", False)
    # An alias with a slash cannot walk out of the miner's path.
    assert obs.endpoints("a/b")[0].path == "/api/miner_info/a%2Fb"


def test_difficulty_is_a_number_or_a_hex_string() -> None:
    assert obs.difficulty(9202373148639334) == 9202373148639334
    assert obs.difficulty("0000000000000000001aed8a900b6e8e") == 0x1AED8A900B6E8E
    assert obs.difficulty("00000000000000000000009eb206d209") == 681_591_624_201
    assert obs.difficulty("ff" * 17) is None  # longer than 128 bits
    assert obs.difficulty("zz") is None
    assert obs.difficulty(-1) is None
    assert obs.difficulty(True) is None
    assert obs.difficulty(1.5) is None


def test_miner_info() -> None:
    info = obs.parse_miner_info(body(obs.MINER_INFO))
    assert info.address == ADDRESS
    assert info.last_share == datetime(2023, 4, 11, 23, 49, 39, tzinfo=UTC)  # 1681256979
    # shares[1] is the verified chain: {"shares": 559294, "uncles": 17861}
    assert (info.shares, info.uncles) == (559294, 17861)


def test_an_unknown_miner_is_a_protocol_error_with_the_observers_words() -> None:
    with pytest.raises(ProtocolError, match="not_found"):
        obs.parse_miner_info(b'{"error":"not_found"}')
    with pytest.raises(ProtocolError, match="neither id nor address"):
        obs.parse_miner_info(b"{}")


def test_pool_info_of_april_2023() -> None:
    pool = obs.parse_pool_info(body(obs.POOL_INFO))
    assert pool.block_time_s == 10
    assert pool.uncle_penalty_pct == 20
    assert pool.window_blocks == 323  # sidechain.window.blocks
    assert pool.window_weight == 681_591_624_201  # 0x9eb206d209
    assert pool.side_difficulty == 2_009_979_224  # 0x77cdd958
    assert pool.main_difficulty == 327_209_633_629  # 0x4c2f36c75d
    assert pool.main_height == 2862299
    assert pool.main_reward_atomic is None  # the 2023-04 shape has no mainchain.reward
    # 2,009,979,224 hashes per side block, one block per 10 s.
    assert pool.pool_hashrate_hs == 200_997_922.4


def test_window_weight_follows_p2pools_uncle_rule() -> None:
    # Four shares of the miner (no uncle among them); the third included an uncle of
    # difficulty 2,105,207,888, which adds 20 % of it: 421,041,577 (floored).
    # 2,099,479,471 + 2,103,245,329 + 2,104,858,109 + 421,041,577 + 2,099,621,378
    assert obs.window_weight(body(obs.WINDOW), 20) == 8_828_245_864
    # The pool-wide example holds an uncle (uncle_of set, difficulty 2,109,635,914: 80 %
    # of it, 1,687,708,731) and a share that included it (20 %: 421,927,182). Its
    # entry [2] was damaged by hand on the API page (pow_hash a number): still read.
    # 2,107,950,958 + 2,108,162,718 + 421,927,182 + 1,687,708,731 + 2,109,635,914
    assert obs.window_weight((DIR / "docs-side_blocks_in_window.json").read_bytes(), 20) == (
        8_435_385_503
    )


def test_payouts_are_coinbase_outputs_in_piconero() -> None:
    payouts = obs.parse_payouts(body(obs.PAYOUTS))
    assert [(p.ts, p.amount_atomic, p.coin) for p in payouts] == [
        (datetime(2023, 6, 18, 10, 54, 55, tzinfo=UTC), 3_400_854_816, "XMR"),
        (datetime(2023, 6, 18, 10, 23, 6, tzinfo=UTC), 103_013_108_631, "XMR"),
        (datetime(2023, 6, 18, 9, 58, 1, tzinfo=UTC), 170_359_596_687, "XMR"),
    ]
    assert payouts[0].txid == "e1b20914f4ff768277c19daa65ef5f2ace7cda6f3f2586caf569c3008b7510b1"


def test_found_blocks_are_the_pools_monero_blocks() -> None:
    blocks = obs.parse_found_blocks(body(obs.FOUND_BLOCKS))
    assert [(b.height, b.reward_atomic) for b in blocks] == [
        (2942191, 600_373_170_000),
        (2942190, 608_015_760_000),
    ]
    assert blocks[0].ts == datetime(2023, 8, 1, 5, 14, 42, tzinfo=UTC)
    assert blocks[0].hash == "be284c7fc784ca83f92c2f1eac2e02524a99a63876179dae6c370a199d533d95"
    assert blocks[0].finder is not None and blocks[0].finder.startswith("42HEEF3NM9cH")


def test_build_maps_the_account() -> None:
    account, problems = obs.build(ADDRESS, TS, bodies())
    assert problems == []
    assert account.kind is PoolKind.P2POOL_OBSERVER
    assert account.coin == "XMR"
    # 323 blocks x 10 s = 3,230 s ≈ 54 min. The account's share of the window's weight:
    # 8,828,245,864 / 681,591,624,201 = 1.29524 %; of 200,997,922.4 H/s: 2,603,405.05 H/s
    # (the list is trimmed, so this is four shares' worth, not the miner's real rate).
    assert account.hashrates == {"54m": pytest.approx(2_603_405.050906419, rel=1e-12)}
    assert account.last_share == datetime(2023, 4, 11, 23, 49, 39, tzinfo=UTC)
    assert account.unpaid_atomic is None  # paid in the coinbase: nothing owed
    assert account.estimated_atomic is None  # no main-chain reward in this pool_info
    assert account.workers == ()
    assert len(account.payouts) == 3 and len(account.blocks) == 2
    assert account.pool_hashrate_hs == 200_997_922.4
    assert account.network_difficulty == 327_209_633_629.0
    assert account.network_height == 2862299


def test_estimated_earnings_are_the_window_share_of_the_block_reward() -> None:
    # NOT A RECORDING: the 2023-04 pool_info with `mainchain.reward` added (a field of
    # the current shape, PoolInfoResult in the observer's Go types), set to the reward of
    # the found-blocks example, 600,373,170,000 piconero.
    pool_info = json.loads(body(obs.POOL_INFO))
    pool_info["mainchain"]["reward"] = 600_373_170_000
    parts = bodies() | {obs.POOL_INFO: json.dumps(pool_info).encode()}
    account, _ = obs.build(ADDRESS, TS, parts)
    # 600,373,170,000 x 8,828,245,864 // 681,591,624,201
    assert account.estimated_atomic == 7_776_272_135


def test_an_account_never_holds_more_than_the_whole_window() -> None:
    # Shares read a moment after pool_info: the same 2023-04 pool_info with a window
    # weight (set here, NOT A RECORDING) below the account's 8,828,245,864.
    pool = obs.parse_pool_info(body(obs.POOL_INFO))
    small = replace(pool, window_weight=8_000_000_000)
    share = obs.window_share(8_828_245_864, small)
    assert share is not None
    assert share.hashrate_hs == 200_997_922.4  # the whole pool, not 110 % of it


def test_optional_parts_cost_only_their_figures() -> None:
    parts = bodies() | {obs.POOL_INFO: b"<html>502</html>", obs.PAYOUTS: b'{"error":"x"}'}
    account, problems = obs.build(ADDRESS, TS, parts)
    assert account.hashrates == {} and account.payouts == ()
    assert len(account.blocks) == 2 and account.last_share is not None
    assert any("pool_info: not JSON" in p for p in problems)
    assert any("payouts: the observer says 'x'" in p for p in problems)
    # A window that does not parse is named once, as itself.
    account, problems = obs.build(ADDRESS, TS, bodies() | {obs.WINDOW: b"[{"})
    assert account.hashrates == {}
    assert len(problems) == 1 and "side_blocks_in_window: not JSON" in problems[0]
    # A pool_info without what the window needs says so.
    bare = json.loads(body(obs.POOL_INFO))
    del bare["sidechain"]["window"]
    account, problems = obs.build(
        ADDRESS, TS, bodies() | {obs.POOL_INFO: json.dumps(bare).encode()}
    )
    assert account.hashrates == {} and account.pool_hashrate_hs == 200_997_922.4
    assert problems == ["p2pool observer pool_info: no window, block time or uncle penalty"]
    # Without pool_info the window cannot be weighed: no hashrate, no complaint about it.
    account, problems = obs.build(ADDRESS, TS, {obs.MINER_INFO: body(obs.MINER_INFO)})
    assert account.hashrates == {} and problems == []
    with pytest.raises(ProtocolError):
        obs.build(ADDRESS, TS, {obs.WINDOW: body(obs.WINDOW)})


def _parse_everything(raw: bytes) -> None:
    for parse in (
        obs.parse_miner_info,
        obs.parse_pool_info,
        obs.parse_payouts,
        obs.parse_found_blocks,
        lambda r: obs.window_weight(r, 20),
    ):
        with contextlib.suppress(ProtocolError):
            parse(raw)
    with contextlib.suppress(ProtocolError):
        obs.build(ADDRESS, TS, dict.fromkeys(FILES, raw))
    with contextlib.suppress(ProtocolError):
        obs.build(ADDRESS, TS, bodies() | {obs.WINDOW: raw, obs.POOL_INFO: raw})


HOSTILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL = sorted(p.read_bytes() for p in DIR.iterdir())


@HOSTILE
@given(st.sampled_from(REAL), st.data())
def test_damaged_payloads_raise_only_protocol_error(raw: bytes, data: st.DataObject) -> None:
    _parse_everything(mutate(raw, data, (b"{", b"}", b"[", b",", b'"', b"-", b"e9", b"ff")))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**130), max_value=2**130),
        st.floats(allow_nan=False),
        st.text(max_size=40),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "sidechain",
                    "mainchain",
                    "consensus",
                    "window",
                    "weight",
                    "difficulty",
                    "uncles",
                    "uncle_of",
                    "main_block",
                    "coinbase_reward",
                    "timestamp",
                    "shares",
                    "address",
                    "error",
                ]
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


@HOSTILE
@given(json_values)
def test_arbitrary_json_raises_only_protocol_error(value: Any) -> None:
    _parse_everything(json.dumps(value).encode())
