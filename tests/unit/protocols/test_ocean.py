"""OCEAN bodies.

statsnap, user_hashrate, user_hashrate_full and earnpay are tested on REAL captures of
api.ocean.xyz/v1 (tests/fixtures/ocean/, see tests/fixtures/SOURCES.md): one very large
address (~930 PH/s, 2866 workers) on 2026-08-20/21; user_hashrate_full is trimmed to 3
workers and earnpay to 3 + 3 entries by the recording's author. Every expected figure
below is copied from those files. userinfo_full and blocks have no recording: their tests
use the hand-written payloads of tests/pool_payloads.py, and the few edge cases with
inline bytes are hand-written too; each says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from rigwatch.domain.pools import PoolBlock, PoolKind, PoolPayout, PoolWorker
from rigwatch.protocols import ocean
from rigwatch.protocols.errors import ProtocolError
from tests.pool_payloads import (
    OCEAN_ACCOUNT,
    OCEAN_BLOCKS,
    OCEAN_USERINFO_FULL,
    body,
    ocean_capture,
)

STATSNAP = ocean_capture(ocean.STATSNAP)
USER_HASHRATE = ocean_capture(ocean.USER_HASHRATE)
USER_HASHRATE_FULL = ocean_capture(ocean.USER_HASHRATE_FULL)
EARNPAY = ocean_capture(ocean.EARNPAY)
# user_hashrate's snap_ts, the newest of the four captures
TS = datetime(2026, 8, 21, 0, 23, tzinfo=UTC)

# The three workers of the user_hashrate_full capture, every window, in H/s (all < 2**53,
# so exact as floats).
WORKERS = (
    PoolWorker(
        name="cc5719001b71",
        hashrate_hs=344650471483492.0,  # hashrate_3600s: the 1-hour window is preferred
        hashrates={
            "1m": 375299968947541.0,
            "5m": 405323966463345.0,
            "10m": 341522971742263.0,
            "30m": 342773971638754.0,
            "1h": 344650471483492.0,
            "3h": 343399471587000.0,
            "12h": 337978472035536.0,
            "1d": 321116035930740.0,
        },
    ),
    PoolWorker(
        name="cc550a000ca5",
        hashrate_hs=258331478625558.0,
        hashrates={
            "1m": 75059993789508.0,
            "5m": 202661983231672.0,
            "10m": 270215977642230.0,
            "30m": 243944979815902.0,
            "1h": 258331478625558.0,
            "3h": 164714986371421.0,
            "12h": 298311350317608.0,
            "1d": 319369848575220.0,
        },
    ),
    PoolWorker(
        name="cc5719000408",
        hashrate_hs=258956978573804.0,
        hashrates={
            "1m": 450359962737050.0,
            "5m": 262709978263279.0,
            "10m": 262709978263279.0,
            "30m": 275219977228197.0,
            "1h": 258956978573804.0,
            "3h": 241651480005667.0,
            "12h": 272926477417962.0,
            "1d": 291222350904155.0,
        },
    ),
)

# The capture's payouts: naive ISO times read as UTC, amounts already in sats.
PAYOUTS = (
    PoolPayout(
        ts=datetime(2026, 8, 20, 23, 11, 17, tzinfo=UTC),
        amount_atomic=14_297_234,
        coin="BTC",
        txid="e160bdfed69bcae7d9ca2fbd12831aa9daff6d5568cd7f131fefa02a64599571",
    ),
    PoolPayout(
        ts=datetime(2026, 8, 20, 9, 39, 44, tzinfo=UTC),
        amount_atomic=14_562_604,
        coin="BTC",
        txid="6884131b49984543978ea647f97ef0396df83ca0bb1c32361223a973fb621e63",
    ),
    PoolPayout(
        ts=datetime(2026, 8, 20, 6, 6, 30, tzinfo=UTC),
        amount_atomic=14_690_711,
        coin="BTC",
        txid="9723fbf13ce5a64645009fd9c53ab5fa9bd5c8752b7409819666a6717dbc2eff",
    ),
)


# ---- real captures -------------------------------------------------------------------------


def test_statsnap_capture() -> None:
    got = ocean.parse_statsnap(STATSNAP)
    assert got == {
        "hashrates": {"1m": 932770542822219264.0, "5m": 925151953452584192.0},
        # lastest_share_ts "1787271723" (the typo is OCEAN's)
        "last_share": datetime(2026, 8, 21, 0, 22, 3, tzinfo=UTC),
        "unpaid_atomic": 0,  # "0.00000000" BTC
        "estimated_atomic": 14_294_639,  # estimated_total_earn_next_block "0.14294639" BTC
        "snap_ts": datetime(2026, 8, 21, 0, 22, tzinfo=UTC),  # "1787271720"
    }


def test_hashrates_beyond_2_to_the_53_are_returned_exactly() -> None:
    """Above 2**53 a float cannot hold every integer; these can be held exactly. Each one is a
    multiple of 128, the spacing of doubles between 2**59 and 2**60, so OCEAN evidently
    computes them as doubles itself: hashrate_60s is shares_60s 13030653952 · 2**32 / 60
    rounded to a double (the exact quotient is 932770542822219229.87). So float() of the
    string loses nothing, and the parser returns the recorded integer exactly."""
    snap = ocean.parse_statsnap(STATSNAP)["hashrates"]
    assert 932770542822219264 > 2**53
    assert snap["1m"] == 932770542822219264  # float == int compares exactly
    assert int(snap["1m"]) == 932770542822219264
    assert snap["1m"] == 13030653952 * 2**32 / 60  # int / int rounds once, to nearest
    assert int(snap["5m"]) == 925151953452584192  # = 64621117440 · 2**32 / 300, rounded
    user = ocean.parse_user_hashrate(USER_HASHRATE)["hashrates"]
    assert int(user["1d"]) == 810287957706473728
    assert all(rate % 128 == 0 and int(rate) == rate for rate in (*snap.values(), *user.values()))


def test_statsnap_without_total_falls_back_to_the_plain_estimate() -> None:
    # The real capture with one field removed; its estimated_earn_next_block is the same
    # "0.14294639" (the bonus is "0.00000000"), so only the fallback itself is tested.
    doc = json.loads(STATSNAP)
    del doc["result"]["estimated_total_earn_next_block"]
    assert ocean.parse_statsnap(body(doc))["estimated_atomic"] == 14_294_639


def test_user_hashrate_capture() -> None:
    got = ocean.parse_user_hashrate(USER_HASHRATE)
    assert got == {
        "hashrates": {
            "1m": 929880733061323136.0,
            "5m": 926277853359426816.0,
            "10m": 920978617797887488.0,
            "30m": 921278857773045504.0,
            "1h": 919317915435294592.0,
            "3h": 901312899425036288.0,
            "12h": 876599761344810496.0,
            "1d": 810287957706473728.0,  # hashrate_86400s, with the trailing "s"
        },
        "workers_count": 2866,  # active_worker_count, a JSON number here
    }


def test_user_hashrate_full_capture() -> None:
    # workers is {name: [record]}; the address's total beside them ("user_hashrate", the
    # same 8 windows at ~930 PH/s) is not a worker.
    got = ocean.parse_user_hashrate_full(USER_HASHRATE_FULL)
    assert got == WORKERS
    assert "user_hashrate" in json.loads(USER_HASHRATE_FULL)["result"]
    assert all(w.hashrate_hs is not None and w.hashrate_hs < 1e15 for w in got)


def test_earnpay_capture() -> None:
    # earnings[] (per block) are not read; each payout's amount equals one block's
    # satoshis_net_earned in the capture
    assert ocean.parse_earnpay(EARNPAY) == PAYOUTS


def test_build_from_the_captures() -> None:
    found, problems = ocean.build(
        OCEAN_ACCOUNT,
        TS,
        {
            ocean.STATSNAP: STATSNAP,
            ocean.USER_HASHRATE: USER_HASHRATE,
            ocean.USER_HASHRATE_FULL: USER_HASHRATE_FULL,
            ocean.EARNPAY: EARNPAY,
            # no recording of userinfo_full and blocks (see the hand-written tests below)
        },
    )
    assert problems == []
    assert (found.kind, found.account, found.ts, found.coin) == (
        PoolKind.OCEAN,
        OCEAN_ACCOUNT,
        TS,
        "BTC",
    )
    # statsnap's 1m / 5m (snap_ts 1787271720) win over user_hashrate's (60 s later)
    assert found.hashrates == {
        "1m": 932770542822219264.0,
        "5m": 925151953452584192.0,
        "10m": 920978617797887488.0,
        "30m": 921278857773045504.0,
        "1h": 919317915435294592.0,
        "3h": 901312899425036288.0,
        "12h": 876599761344810496.0,
        "1d": 810287957706473728.0,
    }
    assert found.workers == WORKERS
    # the pool's count, not the 3 workers left in the trimmed capture
    assert found.workers_count == 2866
    assert found.last_share == datetime(2026, 8, 21, 0, 22, 3, tzinfo=UTC)
    assert found.unpaid_atomic == 0
    assert found.estimated_atomic == 14_294_639
    assert found.payouts == PAYOUTS
    assert found.blocks == ()


# ---- hand-written: no recording of these endpoints or cases exists ------------------------


def test_json_number_amounts_are_exact_too() -> None:
    # hand-written: third-party clients report amounts that were once JSON numbers
    raw = b'{"result": {"snap_ts": 1751962000, "unpaid": 0.1, "estimated_earn_next_block": 1e-8}}'
    got = ocean.parse_statsnap(raw)
    assert got["unpaid_atomic"] == 10_000_000
    assert got["estimated_atomic"] == 1


def test_hashrate_windows_without_the_s_are_read_too() -> None:
    # hand-written: the real API says "hashrate_86400s"; some clients expect no "s"
    raw = b'{"result": {"hashrate_3600": "5", "hashrate_86400": "7"}}'
    assert ocean.parse_user_hashrate(raw)["hashrates"] == {"1h": 5.0, "1d": 7.0}


def test_earnpay_lightning_payouts_use_the_lightning_txid() -> None:
    # hand-written: the capture has on-chain payouts only (Lightning ones are reportedly
    # absent from earnpay, unverified); a string amount is read too
    raw = body(
        {
            "result": {
                "payouts": [
                    {
                        "ts": "2026-08-20T12:00:00",
                        "on_chain_txid": None,
                        "lightning_txid": "lnbc-payment-1",
                        "total_satoshis_net_paid": "250000",
                    },
                    {"ts": None, "total_satoshis_net_paid": 1},  # no time: skipped
                ]
            }
        }
    )
    assert ocean.parse_earnpay(raw) == (
        PoolPayout(datetime(2026, 8, 20, 12, tzinfo=UTC), 250_000, "BTC", "lnbc-payment-1"),
    )


def test_userinfo_full_as_a_list_gives_last_shares() -> None:
    # hand-written OCEAN_USERINFO_FULL (no recording exists)
    workers = {w.name: w for w in ocean.parse_userinfo_full(body(OCEAN_USERINFO_FULL))}
    assert set(workers) == {"cc5719001b71", "cc550a000ca5"}
    assert workers["cc550a000ca5"].last_share == datetime.fromtimestamp(1787271500, UTC)
    assert workers["cc550a000ca5"].hashrates == {}


def test_blocks() -> None:
    # hand-written OCEAN_BLOCKS (no recording exists)
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
    # hand-written: a third-party mock of the API sends ts in milliseconds
    raw = b'{"result": {"blocks": [{"height": 1, "ts": 1751900000000}]}}'
    assert ocean.parse_blocks(raw)[0].ts == datetime.fromtimestamp(1751900000, UTC)


def test_the_pools_error_is_a_protocol_error_with_its_message() -> None:
    # the message is quoted from a third-party client's test, not a capture
    with pytest.raises(ProtocolError, match="No such user"):
        ocean.parse_statsnap(b'{"error": "No such user or user has no active workers"}')


def test_build_merges_the_captures_with_the_hand_written_bodies() -> None:
    # real statsnap / user_hashrate_full / earnpay + hand-written userinfo_full + a
    # garbled blocks body
    found, problems = ocean.build(
        OCEAN_ACCOUNT,
        TS,
        {
            ocean.STATSNAP: STATSNAP,
            ocean.USER_HASHRATE_FULL: USER_HASHRATE_FULL,
            ocean.USERINFO_FULL: body(OCEAN_USERINFO_FULL),
            ocean.EARNPAY: EARNPAY,
            ocean.BLOCKS: b"{garbage",
        },
    )
    by_name = {w.name: w for w in found.workers}
    assert list(by_name) == ["cc5719001b71", "cc550a000ca5", "cc5719000408"]
    # hashrates from the capture, last share from the hand-written userinfo_full
    assert by_name["cc5719001b71"].hashrate_hs == 344650471483492.0
    assert by_name["cc5719001b71"].last_share == datetime.fromtimestamp(1787271700, UTC)
    assert by_name["cc5719000408"].last_share is None  # not in userinfo_full
    # without user_hashrate, only statsnap's windows and the workers listed
    assert set(found.hashrates) == {"1m", "5m"}
    assert found.workers_count == 3
    assert found.payouts == PAYOUTS
    assert found.blocks == ()
    assert len(problems) == 1 and problems[0].startswith("blocks: not JSON")


def test_build_without_a_valid_statsnap_fails() -> None:
    with pytest.raises(ProtocolError):
        ocean.build(OCEAN_ACCOUNT, TS, {ocean.STATSNAP: b'{"result": []}'})
    with pytest.raises(ProtocolError, match="no statsnap"):
        ocean.build(OCEAN_ACCOUNT, TS, {ocean.USER_HASHRATE: USER_HASHRATE})


def test_earnpay_reads_a_year_back_first_then_a_month_before_the_last_success() -> None:
    day = timedelta(days=1)
    assert ocean.earnpay_window(None, TS) == (TS - timedelta(days=365), TS + day)
    assert ocean.earnpay_window(TS - timedelta(hours=1), TS) == (
        TS - timedelta(days=30, hours=1),
        TS + day,
    )
    # start / end in unix seconds, the form of the recorded client's requests
    window = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    paths = [e.path for e in ocean.endpoints("bc1q", earnpay=window)]
    assert "/earnpay/bc1q/1735689600/1735776000" in paths
