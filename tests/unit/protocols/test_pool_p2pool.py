"""A P2Pool node's data API as a pool account, from the real files (p2pool_api parses)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rigwatch.domain.pools import PoolKind, PoolWorker
from rigwatch.protocols import pool_p2pool
from rigwatch.protocols.errors import ProtocolError

DIR = Path(__file__).parents[2] / "fixtures" / "p2pool" / "data-api"
TS = datetime(2024, 12, 18, tzinfo=UTC)


def files(source: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for endpoint in pool_p2pool.endpoints("wallet"):
        path = DIR / f"{source}__{endpoint.name.replace('/', '_')}.json"
        if path.exists():
            out[endpoint.name] = path.read_bytes()
    return out


def test_oieieio_node_as_an_account() -> None:
    found, problems = pool_p2pool.build("4wallet", TS, files("oieieio-2024-12"))
    assert problems == []
    assert found.kind is PoolKind.P2POOL and found.coin == "XMR"
    assert found.hashrates == {"15m": 21209.0, "1h": 15695.0, "1d": 75726.0}
    assert found.workers == (
        PoolWorker(name="xmrig-proxy", hashrate_hs=15492.0, hashrates={"15m": 15492.0}),
    )
    assert found.workers_count == 1
    # 0.270 % of the network reward 605626960000 piconero, exactly
    assert found.estimated_atomic == 1_635_192_792
    assert found.pool_hashrate_hs == 14027593.0
    assert found.network_height == 3305366
    assert found.blocks[0].height == 3305092
    assert found.blocks[0].hash.startswith("b4d4bc3089333ec3")
    assert found.blocks[0].ts == datetime.fromtimestamp(1734459579, UTC)


def test_hreikin_node_without_workers() -> None:
    found, _ = pool_p2pool.build("4wallet", TS, files("hreikin-2025-02"))
    assert found.workers == ()
    assert found.estimated_atomic == 0
    assert found.pool_hashrate_hs == 17723081.0


def test_a_garbled_optional_file_costs_only_its_figures() -> None:
    bodies = files("oieieio-2024-12")
    bodies["pool/blocks"] = b"{"
    found, problems = pool_p2pool.build("w", TS, bodies)
    assert found.blocks == () and found.hashrates["1h"] == 15695.0
    assert len(problems) == 1 and problems[0].startswith("pool/blocks")


def test_local_stratum_is_required() -> None:
    with pytest.raises(ProtocolError):
        pool_p2pool.build("w", TS, {"pool/stats": b"{}"})
