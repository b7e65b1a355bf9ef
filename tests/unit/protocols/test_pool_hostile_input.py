"""Whatever a pool sends, the pool parsers raise ProtocolError or return domain objects."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.protocols import ckpool, ocean, pool_p2pool, public_pool
from rigwatch.protocols.errors import ProtocolError
from tests import pool_payloads as pp
from tests.unit.protocols.payloads import mutate

TS = datetime(2025, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURES = Path(__file__).parents[2] / "fixtures"

PARSERS: list[Callable[[bytes], object]] = [
    lambda raw: ckpool.parse_user(raw, account="a", ts=TS),
    ckpool.parse_pool_status,
    ocean.parse_statsnap,
    ocean.parse_user_hashrate,
    ocean.parse_user_hashrate_full,
    ocean.parse_userinfo_full,
    ocean.parse_earnpay,
    ocean.parse_blocks,
    public_pool.parse_client,
    public_pool.parse_info,
    public_pool.parse_network,
]
BUILDERS = [
    (
        ocean.build,
        [
            ocean.STATSNAP,
            ocean.USER_HASHRATE,
            ocean.USER_HASHRATE_FULL,
            ocean.USERINFO_FULL,
            ocean.EARNPAY,
        ],
    ),
    (public_pool.build, [public_pool.CLIENT, public_pool.INFO, public_pool.NETWORK]),
    (ckpool.build, [ckpool.USER, ckpool.POOL_STATUS]),
    (pool_p2pool.build, ["local/stratum", "pool/stats", "network/stats", "pool/blocks"]),
]

REAL: list[bytes] = [
    *(p.read_bytes() for p in sorted((FIXTURES / "ckpool").iterdir())),
    *(
        (FIXTURES / "p2pool" / "data-api" / f"oieieio-2024-12__{n}.json").read_bytes()
        for n in ("local_stratum", "pool_stats", "network_stats", "pool_blocks")
    ),
    *(p.read_bytes() for p in sorted((FIXTURES / "ocean").iterdir())),
    # hand-written (no recording exists; see tests/pool_payloads.py)
    *(
        pp.body(v)
        for v in (
            pp.OCEAN_USERINFO_FULL,
            pp.OCEAN_BLOCKS,
            pp.PUBLIC_POOL_CLIENT_OLD,
            pp.PUBLIC_POOL_CLIENT_NEW,
            pp.PUBLIC_POOL_INFO,
        )
    ),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["4.57G", "1e+03T", "0.00015180", "NaN", "-1", "1e999", "2025-07-08T08:00Z"]),
)
names = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "result",
            "error",
            "workers",
            "worker",
            "workername",
            "name",
            "hashRate",
            "hashrate_300s",
            "hashrate1hr",
            "lastest_share_ts",
            "unpaid",
            "estimated_earn_next_block",
            "payouts",
            "ts",
            "total_satoshis_net_paid",
            "blocks",
            "height",
            "blockData",
            "accounting",
            "expectedPayout",
            "payoutSats",
            "lastSeen",
            "snap_ts",
            "lastshare",
        ]
    ),
)
json_ish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(names, children, max_size=6)
    ),
    max_leaves=30,
)


def parse_everything(raw: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(ProtocolError):
            parse(raw)
    for build, parts in BUILDERS:
        with contextlib.suppress(ProtocolError):
            build("acct", TS, dict.fromkeys(parts, raw))


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_protocol_error(raw: bytes) -> None:
    parse_everything(raw)


@SETTINGS
@given(json_ish)
def test_arbitrary_json_raises_only_protocol_error(value: Any) -> None:
    parse_everything(json.dumps(value).encode())
    parse_everything(json.dumps({"result": value}).encode())


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_mutated_payloads_raise_only_protocol_error(raw: bytes, data: st.DataObject) -> None:
    parse_everything(mutate(raw, data, (b"{", b"}", b"[", b",", b'"', b"-", b"e9")))


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_payloads_with_fields_replaced_by_odd_values_raise_only_protocol_error(
    raw: bytes, data: st.DataObject
) -> None:
    try:
        doc = json.loads(raw)
    except ValueError:
        return

    def scramble(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (data.draw(json_ish) if data.draw(st.booleans()) else scramble(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [scramble(v) for v in node]
        return node

    parse_everything(json.dumps(scramble(doc)).encode())
