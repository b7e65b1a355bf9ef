"""OCEAN bodies. The payloads are written from the field names in PROTOCOLS.md 5.1 (see
tests/pool_payloads.py): NOT recordings, none exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rigwatch.domain.pools import PoolBlock, PoolKind, PoolPayout
from rigwatch.protocols import ocean
from rigwatch.protocols.errors import ProtocolError
from tests.pool_payloads import (
    OCEAN_ACCOUNT,
    OCEAN_BLOCKS,
    OCEAN_EARNPAY,
    OCEAN_STATSNAP,
    OCEAN_TXID,
    OCEAN_USER_HASHRATE,
    OCEAN_USER_HASHRATE_FULL,
    OCEAN_USERINFO_FULL,
    body,
)

TS = datetime(2025, 7, 8, 8, 0, tzinfo=UTC)


def test_statsnap_amounts_are_exact_sats_from_btc_strings() -> None:
    got = ocean.parse_statsnap(body(OCEAN_STATSNAP))
    assert got["unpaid_atomic"] == 1_234_567  # "0.01234567" BTC
    assert got["estimated_atomic"] == 15_200  # estimated_total_earn_next_block "0.00015200"
    assert got["hashrates"] == {"1m": 117e12, "5m": 110e12}
    # the real API's typo: lastest_share_ts
    assert got["last_share"] == datetime.fromtimestamp(1751961990, UTC)


def test_statsnap_without_total_falls_back_to_the_plain_estimate() -> None:
    snap = {"result": {**OCEAN_STATSNAP["result"]}}
    del snap["result"]["estimated_total_earn_next_block"]
    assert ocean.parse_statsnap(body(snap))["estimated_atomic"] == 15_180


def test_json_number_amounts_are_exact_too() -> None:
    raw = b'{"result": {"snap_ts": 1751962000, "unpaid": 0.1, "estimated_earn_next_block": 1e-8}}'
    got = ocean.parse_statsnap(raw)
    assert got["unpaid_atomic"] == 10_000_000
    assert got["estimated_atomic"] == 1


def test_user_hashrate_windows_with_and_without_the_s() -> None:
    got = ocean.parse_user_hashrate(body(OCEAN_USER_HASHRATE))
    assert got["hashrates"] == {
        "1m": 117e12,
        "5m": 110e12,
        "10m": 109e12,
        "1h": 105e12,
        "2h": 104e12,
        "3h": 103e12,
        "1d": 100e12,
    }
    assert got["workers_count"] == 2


def test_user_hashrate_full_workers() -> None:
    workers = {w.name: w for w in ocean.parse_user_hashrate_full(body(OCEAN_USER_HASHRATE_FULL))}
    assert set(workers) == {"s19-01", "s19-02"}
    assert workers["s19-01"].hashrate_hs == 80e12  # the 1-hour window is preferred
    assert workers["s19-01"].hashrates == {"1m": 81e12, "5m": 80.5e12, "1h": 80e12}


def test_userinfo_full_as_a_list_gives_last_shares() -> None:
    workers = {w.name: w for w in ocean.parse_userinfo_full(body(OCEAN_USERINFO_FULL))}
    assert workers["s19-02"].last_share == datetime.fromtimestamp(1751961500, UTC)


def test_earnpay_payouts_on_chain_and_lightning() -> None:
    assert ocean.parse_earnpay(body(OCEAN_EARNPAY)) == (
        PoolPayout(datetime.fromtimestamp(1751500000, UTC), 1_048_576, "BTC", OCEAN_TXID),
        PoolPayout(datetime.fromtimestamp(1751800000, UTC), 250_000, "BTC", "lnbc-payment-1"),
    )


def test_blocks() -> None:
    got = ocean.parse_blocks(body(OCEAN_BLOCKS))
    assert got[0] == PoolBlock(
        height=903000,
        ts=datetime.fromtimestamp(1751900000, UTC),
        hash="0000000000000000000123456789abcdef0123456789abcdef0123456789abcd",
        reward_atomic=318_000_000,
        finder="bc1qsomeoneelse.bitaxe",
    )
    assert got[1].height == 902500 and got[1].hash == "" and got[1].reward_atomic is None


def test_block_times_in_milliseconds_are_read() -> None:
    raw = b'{"result": {"blocks": [{"height": 1, "ts": 1751900000000}]}}'
    assert ocean.parse_blocks(raw)[0].ts == datetime.fromtimestamp(1751900000, UTC)


def test_the_pools_error_is_a_protocol_error_with_its_message() -> None:
    with pytest.raises(ProtocolError, match="No such user"):
        ocean.parse_statsnap(b'{"error": "No such user: bc1qnobody"}')


def test_build_merges_every_endpoint() -> None:
    found, problems = ocean.build(
        OCEAN_ACCOUNT,
        TS,
        {
            ocean.STATSNAP: body(OCEAN_STATSNAP),
            ocean.USER_HASHRATE: body(OCEAN_USER_HASHRATE),
            ocean.USER_HASHRATE_FULL: body(OCEAN_USER_HASHRATE_FULL),
            ocean.USERINFO_FULL: body(OCEAN_USERINFO_FULL),
            ocean.EARNPAY: body(OCEAN_EARNPAY),
            ocean.BLOCKS: b"{garbage",
        },
    )
    assert found.kind is PoolKind.OCEAN and found.account == OCEAN_ACCOUNT
    assert found.hashrates["1h"] == 105e12 and found.hashrates["5m"] == 110e12
    assert found.workers_count == 2
    by_name = {w.name: w for w in found.workers}
    assert by_name["s19-01"].hashrate_hs == 80e12
    assert by_name["s19-01"].last_share == datetime.fromtimestamp(1751961990, UTC)
    assert found.unpaid_atomic == 1_234_567
    assert len(found.payouts) == 2
    assert found.blocks == ()
    assert len(problems) == 1 and problems[0].startswith("blocks: not JSON")


def test_build_without_a_valid_statsnap_fails() -> None:
    with pytest.raises(ProtocolError):
        ocean.build(OCEAN_ACCOUNT, TS, {ocean.STATSNAP: b'{"result": []}'})


def test_earnpay_reads_a_year_back_first_then_a_month_before_the_last_success() -> None:
    assert ocean.earnpay_since(None, TS) == TS - timedelta(days=365)
    assert ocean.earnpay_since(TS - timedelta(hours=1), TS) == TS - timedelta(days=30, hours=1)
    paths = [e.path for e in ocean.endpoints("bc1q", since=datetime(2025, 1, 1, tzinfo=UTC))]
    assert "/earnpay/bc1q/1735689600" in paths
