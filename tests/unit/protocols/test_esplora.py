"""mempool.space / Esplora bodies of the network job, parsed from real payloads.

Which fixture is what (see tests/esplora_payloads.py): the tip height and hashrate docs
examples are parsed as recorded; the difficulty-adjustment and price docs examples are
JavaScript literals, not JSON (the parser refuses them as they are; their keys are
quoted to read their values); the current difficulty-adjustment form, the fees, the
prices and the blocks come from the recorded mainnet websocket snapshot. The expected
values below were read off the fixture files by hand.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.protocols import esplora
from rigwatch.protocols.errors import ProtocolError
from tests.esplora_payloads import (
    DOCS_DIFFICULTY,
    DOCS_PRICE,
    HASHRATE,
    TIP_HEIGHT,
    fixture,
    part,
    quoted_keys,
    snapshot,
    ws_block,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


# --- tip height ---------------------------------------------------------------------


def test_the_tip_height_is_the_bare_integer_of_the_docs_example() -> None:
    assert fixture(TIP_HEIGHT) == b"698767\n"
    assert esplora.parse_tip_height(fixture(TIP_HEIGHT)) == 698767
    assert esplora.parse_tip_height(b"837050") == 837050


@pytest.mark.parametrize(
    "body", [b"", b"abc", b"-1", b"1e5", b"8.5", b"<html>502</html>", b"123456789012", b"1 2"]
)
def test_a_tip_height_that_is_not_a_plausible_integer_is_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        esplora.parse_tip_height(body)


# --- hashrate -----------------------------------------------------------------------


def test_the_hashrate_docs_example_gives_current_hashrate_in_hs_and_difficulty() -> None:
    found = esplora.parse_hashrate(fixture(HASHRATE))
    # "currentHashrate": 252033247355212300000 (an integer past 2**64, read as a float)
    assert found.hashrate_hs == pytest.approx(252033247355212300000.0)
    assert found.difficulty == 31251101365711.12


def test_a_hashrate_body_without_either_figure_is_refused() -> None:
    with pytest.raises(ProtocolError, match="currentHashrate"):
        esplora.parse_hashrate(b'{"hashrates": [], "difficulty": []}')
    assert (
        esplora.parse_hashrate(b'{"currentHashrate": -5, "currentDifficulty": 7}').hashrate_hs
        is None
    )


# --- difficulty adjustment ----------------------------------------------------------


def test_the_current_difficulty_adjustment_form_is_in_milliseconds() -> None:
    found = esplora.parse_difficulty_adjustment(part("da"))
    assert found.source_ms is True
    assert found.progress_pct == 20.33730158730159
    assert found.difficulty_change_pct == 5.914788959658535
    # "estimatedRetargetDate": 1712766704114 (ms)
    assert found.estimated_retarget == datetime(2024, 4, 10, 16, 31, 44, 114000, tzinfo=UTC)
    assert found.remaining_blocks == 1606
    assert found.remaining_s == pytest.approx(911596.114)  # "remainingTime": 911596114 ms
    assert found.previous_retarget_pct == -0.9778871328980188
    # "previousTime": 1711619463 is in seconds even in this form
    assert found.previous_time == datetime(2024, 3, 28, 9, 51, 3, tzinfo=UTC)
    assert found.next_retarget_height == 838656
    assert found.time_avg_s == pytest.approx(574.743)  # "timeAvg": 574743 ms
    assert found.expected_blocks == pytest.approx(392.7416666666667)


def test_the_old_docs_example_is_not_json_and_uses_seconds() -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        esplora.parse_difficulty_adjustment(DOCS_DIFFICULTY.read_bytes())
    found = esplora.parse_difficulty_adjustment(quoted_keys(DOCS_DIFFICULTY))
    assert found.source_ms is False
    # "estimatedRetargetDate": 1627762478 (seconds)
    assert found.estimated_retarget == datetime(2021, 7, 31, 20, 14, 38, tzinfo=UTC)
    assert found.remaining_s == 665977.0  # seconds, like the date it was computed with
    # "timeAvg": 302328 can only be ms (302 s a block, matching its +98% change)
    assert found.time_avg_s == pytest.approx(302.328)
    assert found.difficulty_change_pct == 98.45932018381687
    assert found.next_retarget_height == 741888
    assert found.remaining_blocks == 1121
    assert found.progress_pct == 44.397234501112074
    assert found.previous_retarget_pct == -4.807005268478962
    assert found.previous_time is None  # not in the old example


def test_without_a_retarget_date_the_durations_stay_unknown_unless_unambiguous() -> None:
    found = esplora.parse_difficulty_adjustment(
        dumps({"nextRetargetHeight": 838656, "remainingTime": 911596114, "timeAvg": 574743})
    )
    assert found.source_ms is None
    assert found.estimated_retarget is None
    assert found.remaining_s is None  # ms or s cannot be told without the date
    assert found.time_avg_s == pytest.approx(574.743)  # over 10,000: only ms makes sense


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b'{"progressPercent": 50}',
        b'{"nextRetargetHeight": "soon", "difficultyChange": null}',
        b'{"progressPercent": 20.3, "difficultyCha',  # cut mid-body
        b"<html><body>502 Bad Gateway</body></html>",
    ],
)
def test_a_malformed_difficulty_adjustment_is_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        esplora.parse_difficulty_adjustment(body)


# --- fees ---------------------------------------------------------------------------


def test_recommended_fees_are_read_in_sat_per_vbyte() -> None:
    found = esplora.parse_fees(part("fees"))
    assert (found.fast, found.half_hour, found.hour, found.economy, found.minimum) == (
        8.0,
        8.0,
        8.0,
        4.0,
        2.0,
    )


def test_a_fee_body_without_fees_is_refused_and_a_negative_fee_is_unknown() -> None:
    with pytest.raises(ProtocolError):
        esplora.parse_fees(b'{"minimumFee": 1}')
    found = esplora.parse_fees(b'{"fastestFee": -3, "hourFee": 5}')
    assert (found.fast, found.hour, found.economy) == (None, 5.0, None)


# --- prices -------------------------------------------------------------------------


def test_the_price_docs_example_is_not_json_and_has_seven_currencies() -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        esplora.parse_prices(DOCS_PRICE.read_bytes())
    found = esplora.parse_prices(quoted_keys(DOCS_PRICE))
    assert found.coin == "BTC"
    assert found.time == datetime(2023, 12, 22, 13, 40, 11, tzinfo=UTC)  # "time": 1703252411
    assert found.prices == {
        "USD": 43753,
        "EUR": 40545,
        "GBP": 37528,
        "CAD": 58123,
        "CHF": 37438,
        "AUD": 64499,
        "JPY": 6218915,
    }


def test_the_recorded_mainnet_prices_are_fiat_per_btc() -> None:
    found = esplora.parse_prices(part("conversions"))
    assert found.time == datetime(2024, 3, 31, 3, 15, 6, tzinfo=UTC)  # 1711854906
    assert found.prices == {
        "USD": 69880,
        "EUR": 64823,
        "GBP": 55198,
        "CAD": 95154,
        "CHF": 63041,
        "AUD": 107374,
        "JPY": 10601000,
    }


def test_mempools_minus_one_placeholder_is_no_price() -> None:
    # mempool starts every currency at -1 (and time at 0) until a price feed answers
    found = esplora.parse_prices(b'{"time": 0, "USD": 69880, "EUR": -1, "JPY": 0}')
    assert found.prices == {"USD": 69880}
    assert found.time is None
    with pytest.raises(ProtocolError, match="positive price"):
        esplora.parse_prices(b'{"time": 1711854906, "USD": -1, "EUR": -1}')


# --- blocks -------------------------------------------------------------------------


def test_recent_mempool_blocks_carry_pool_fees_and_reward_newest_first() -> None:
    found = esplora.parse_blocks(part("blocks"))
    assert [b.height for b in found] == list(range(837050, 837042, -1))
    newest, oldest = found[0], found[-1]
    assert newest.hash == "00000000000000000000e7d533924ecd9e2096bdf261ae3daf3f04861150c5a8"
    assert newest.ts == datetime(2024, 3, 31, 3, 15, 27, tzinfo=UTC)  # 1711854927
    assert newest.pool == "Foundry USA"
    assert newest.fees_sat == 10929414
    assert newest.reward_sat == 635929414  # 6.25 BTC subsidy + fees
    assert newest.tx_count == 2659
    assert newest.difficulty == 83126997340024.61
    assert (oldest.height, oldest.pool, oldest.fees_sat) == (837043, "Foundry USA", 10081690)
    assert [b.pool for b in found].count("F2Pool") == 2


def test_a_block_pushed_on_the_websocket_names_its_pool() -> None:
    (block,) = esplora.parse_blocks(dumps([ws_block()]))
    assert block.height == 890448
    assert block.pool == "Braiins Pool"
    assert (block.fees_sat, block.reward_sat, block.tx_count) == (2998786, 315498786, 2229)


def test_plain_esplora_blocks_have_no_pool_fees_or_reward() -> None:
    # The same real blocks without mempool's `extras`: the shape of Esplora's /api/blocks.
    plain = [{k: v for k, v in b.items() if k != "extras"} for b in snapshot()["blocks"]]
    found = esplora.parse_blocks(dumps(plain))
    assert found[0].height == 837050
    assert found[0].tx_count == 2659
    assert (found[0].pool, found[0].fees_sat, found[0].reward_sat) == (None, None, None)


def test_unusable_block_entries_are_skipped_and_a_list_without_blocks_is_refused() -> None:
    good = snapshot()["blocks"][0]
    found = esplora.parse_blocks(
        dumps([None, 5, {"height": "x"}, {"height": -1}, good, dict(good, id="not-a-hash")])
    )
    assert [(b.height, b.hash is not None) for b in found] == [(837043, True)]
    for body in (b"{}", b"[]", b"[1, 2]", b'{"blocks": []}'):
        with pytest.raises(ProtocolError):
            esplora.parse_blocks(body)


# --- hostile input ------------------------------------------------------------------

PARSERS = [
    esplora.parse_tip_height,
    esplora.parse_difficulty_adjustment,
    esplora.parse_hashrate,
    esplora.parse_fees,
    esplora.parse_prices,
    esplora.parse_blocks,
]
KEYS = [
    "progressPercent",
    "difficultyChange",
    "estimatedRetargetDate",
    "remainingBlocks",
    "remainingTime",
    "previousTime",
    "nextRetargetHeight",
    "timeAvg",
    "expectedBlocks",
    "currentHashrate",
    "currentDifficulty",
    "fastestFee",
    "halfHourFee",
    "hourFee",
    "economyFee",
    "time",
    "USD",
    "JPY",
    "height",
    "id",
    "timestamp",
    "tx_count",
    "extras",
    "pool",
    "name",
    "totalFees",
    "reward",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=30,
)


def _only_protocol_errors(body: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(ProtocolError):
            parse(body)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_protocol_error(body: bytes) -> None:
    _only_protocol_errors(body)


@SETTINGS
@given(json_values)
def test_random_json_raises_nothing_but_protocol_error(value: Any) -> None:
    _only_protocol_errors(dumps(value))


REAL_OBJECTS = [
    ("da", lambda: dict(snapshot()["da"])),
    ("fees", lambda: dict(snapshot()["fees"])),
    ("conversions", lambda: dict(snapshot()["conversions"])),
    ("block", lambda: dict(snapshot()["blocks"][0])),
]


@SETTINGS
@given(
    st.sampled_from(REAL_OBJECTS),
    st.data(),
)
def test_real_payloads_with_one_field_replaced_raise_nothing_but_protocol_error(
    real: tuple[str, Any], data: st.DataObject
) -> None:
    name, make = real
    body = make()
    key = data.draw(st.sampled_from(sorted(body)))
    body[key] = data.draw(json_values)
    _only_protocol_errors(dumps([body] if name == "block" else body))


def test_nesting_deeper_than_the_decoder_allows_is_a_protocol_error() -> None:
    for parse in PARSERS[1:]:
        with pytest.raises(ProtocolError):
            parse(b"[" * 5000 + b"]" * 5000)


def test_a_body_larger_than_any_answer_is_refused_before_decoding() -> None:
    with pytest.raises(ProtocolError, match="larger"):
        esplora.parse_blocks(b"[" + b"0," * esplora.MAX_BODY_BYTES + b"0]")
