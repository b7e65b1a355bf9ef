"""public-pool bodies. The payloads are written from its source code and PROTOCOLS.md 5.2
(see tests/pool_payloads.py): NOT recordings, none exists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.domain.pools import PoolBlock, PoolKind
from rigwatch.protocols import public_pool
from rigwatch.protocols.errors import ProtocolError
from tests.pool_payloads import (
    PUBLIC_POOL_ACCOUNT,
    PUBLIC_POOL_CLIENT_NEW,
    PUBLIC_POOL_CLIENT_OLD,
    PUBLIC_POOL_INFO,
    PUBLIC_POOL_NETWORK,
    body,
)

TS = datetime(2025, 7, 8, 8, 10, tzinfo=UTC)


def test_old_client_sums_sessions_by_worker_name() -> None:
    got = public_pool.parse_client(body(PUBLIC_POOL_CLIENT_OLD))
    workers = {w.name: w for w in got["workers"]}
    assert workers["bitaxe1"].hashrate_hs == 1_000_000_000_000  # 512 + 488 GH/s
    assert workers["bitaxe1"].last_share == datetime(2025, 7, 8, 8, 5, tzinfo=UTC)
    assert workers["Bitaxe2"].hashrate_hs == 1.1e12
    assert got["hashrates"] == {"10m": 2.1e12}
    assert got["workers_count"] == 3
    assert got["estimated_atomic"] is None
    assert got["last_share"] == datetime(2025, 7, 8, 8, 5, tzinfo=UTC)


def test_new_client_accounting_and_expected_payout() -> None:
    got = public_pool.parse_client(body(PUBLIC_POOL_CLIENT_NEW))
    assert got["hashrates"] == {"10m": 1.2e12, "1h": 1.15e12}
    assert got["estimated_atomic"] == 3125


def test_info_blocks() -> None:
    assert public_pool.parse_info(body(PUBLIC_POOL_INFO)) == (
        PoolBlock(
            height=883000,
            hash="00000000000000000001aa2bb3cc4dd5ee6ff7aa8bb9cc0dd1ee2ff3aa4bb5cc",
            finder="bc1qlucky0solo0miner",
        ),
    )


def test_network() -> None:
    assert public_pool.parse_network(body(PUBLIC_POOL_NETWORK)) == {
        "network_height": 903123,
        "network_difficulty": 116958512019762.1,
    }


def test_build() -> None:
    found, problems = public_pool.build(
        PUBLIC_POOL_ACCOUNT,
        TS,
        {
            public_pool.CLIENT: body(PUBLIC_POOL_CLIENT_NEW),
            public_pool.INFO: body(PUBLIC_POOL_INFO),
            public_pool.NETWORK: b"[1, 2]",
        },
    )
    assert found.kind is PoolKind.PUBLIC_POOL
    assert found.estimated_atomic == 3125
    assert found.blocks[0].height == 883000
    assert found.network_height is None
    assert problems == ["public-pool network: a JSON list, not an object"]


@pytest.mark.parametrize("raw", [b"", b"null", b'{"statusCode": 404}', b"[]"])
def test_not_a_client_body_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        public_pool.parse_client(raw)
