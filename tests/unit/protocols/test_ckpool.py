"""ckpool per-user JSON and pool.status: the real recordings (tests/fixtures/ckpool/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rigwatch.domain.pools import PoolKind, PoolWorker
from rigwatch.protocols import ckpool
from rigwatch.protocols.errors import ProtocolError

DIR = Path(__file__).parents[2] / "fixtures" / "ckpool"
TS = datetime(2025, 7, 8, tzinfo=UTC)
ADDRESS = "bc1qa8r4up9nchkvdnhcf9feexv2jfantrk48ef374"


def test_user1_hashrates_workers_and_last_share() -> None:
    got = ckpool.parse_user(
        (DIR / "para__solo-user-user1.json").read_bytes(), account=ADDRESS, ts=TS
    )
    assert got.kind is PoolKind.CKPOOL
    assert got.coin == "BTC"
    assert got.hashrates == {"1m": 0.0, "5m": 0.0, "1h": 4.57e9, "1d": 85.4e12, "7d": 148e12}
    assert got.workers_count == 0  # none connected; the list keeps the idle worker
    assert got.last_share == datetime.fromtimestamp(1751962081, UTC)
    assert got.workers == (
        PoolWorker(
            name=ADDRESS,
            hashrate_hs=4.57e9,
            hashrates={"1m": 0.0, "5m": 0.0, "1h": 4.57e9, "1d": 85.4e12, "7d": 51.5e12},
            last_share=datetime.fromtimestamp(1751962081, UTC),
        ),
    )
    assert got.unpaid_atomic is None and got.payouts == () and got.blocks == ()


def test_user2_without_workers() -> None:
    got = ckpool.parse_user((DIR / "para__solo-user-user2.json").read_bytes(), account="x", ts=TS)
    assert got.hashrates["7d"] == pytest.approx(13.6e9)
    assert got.hashrates["1h"] == 0.0
    assert got.workers == ()


def test_user3_is_the_same_user_later() -> None:
    got = ckpool.parse_user((DIR / "para__solo-user-user3.json").read_bytes(), account="x", ts=TS)
    assert got.hashrates["1h"] == pytest.approx(4.28e9)
    assert got.workers[0].hashrates["7d"] == pytest.approx(51.4e12)


def test_pool_status_three_lines() -> None:
    status = ckpool.parse_pool_status((DIR / "para__pool-status.txt").read_bytes())
    assert status.users == 12729
    assert status.workers == 50345
    assert status.updated == datetime.fromtimestamp(1752001916, UTC)
    assert status.hashrates == {
        "1m": 314e15,
        "5m": 322e15,
        "15m": 311e15,
        "1h": 360e15,
        "6h": 316e15,
        "1d": 274e15,
        "7d": 183e15,
    }
    assert status.hashrate_hs == 360e15


@pytest.mark.parametrize(
    ("text", "hs"),
    [("0", 0.0), ("4.57G", 4.57e9), ("85.4T", 85.4e12), ("1e+03T", 1e15), ("12.5K", 12500.0)],
)
def test_si_hashrates(text: str, hs: float) -> None:
    got = ckpool.parse_user(f'{{"hashrate1m": "{text}"}}'.encode(), account="x", ts=TS)
    assert got.hashrates["1m"] == pytest.approx(hs)


def test_garbage_hashrates_are_dropped_not_raised() -> None:
    got = ckpool.parse_user(
        b'{"hashrate1m": "12Q", "hashrate5m": "-3G", "hashrate1hr": [1], "worker": "no"}',
        account="x",
        ts=TS,
    )
    assert got.hashrates == {}
    assert got.workers == ()


@pytest.mark.parametrize("raw", [b"", b"<html>404</html>", b"[]", b'{"other": 1}'])
def test_not_a_user_body_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        ckpool.parse_user(raw, account="x", ts=TS)


def test_pool_status_without_any_json_line_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        ckpool.parse_pool_status(b"not json\nnor this\n")


def test_build_keeps_the_user_when_pool_status_is_garbled() -> None:
    found, problems = ckpool.build(
        ADDRESS,
        TS,
        {
            ckpool.USER: (DIR / "para__solo-user-user1.json").read_bytes(),
            ckpool.POOL_STATUS: b"garbage",
        },
    )
    assert found.hashrates["1h"] == 4.57e9
    assert found.pool_hashrate_hs is None
    assert problems == ["ckpool pool.status: no JSON object on any line"]


def test_endpoints_quote_the_address() -> None:
    assert [(e.name, e.path, e.required) for e in ckpool.endpoints("a/b c")] == [
        ("user", "/users/a%2Fb%20c", True),
        ("pool_status", "/pool/pool.status", False),
    ]
