"""Blockbook API V2 on the recorded docs answers (btc1.trezor.io, Sept 2024), and on
`details=txs` pages built from them (see tests/payout_payloads.py: no recording exists)."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.domain.payouts import Credit, TxUnreadable, WalletTx
from rigwatch.protocols import blockbook
from rigwatch.protocols.errors import ProtocolError
from tests.payout_payloads import (
    BLOCKBOOK_ADDRESS,
    BLOCKBOOK_BLOCK_INDEX,
    BLOCKBOOK_STATUS,
    BLOCKBOOK_TX,
    BLOCKBOOK_UNCONFIRMED_TX,
    FIXTURES,
    blockbook_page,
    blockbook_tx,
    dumps,
    load,
    txid,
)

PAID = "1Nb1ykSD7J5k4RFjJQGsrD9gxBE6jzfNa9"  # vout 0 of tx 8c1e3dec...: 175,000 sat
CHANGE = "bc1qjmc49gy3jjrkyjl57yl5duxjp7ssmxkvh5t2q5"  # vout 1: 9,888,100 sat
SPENDER = "bc1qmgwnfjlda4ns3g6g3yz74w6scnn9yu2ts82yyc"  # its one input: 10,106,300 sat
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_recorded_confirmed_tx_pays_175000_sat_to_output_0():
    tx = blockbook.parse_tx_body(raw(BLOCKBOOK_TX), PAID)
    assert tx.txid == "8c1e3dec662d1f2a5e322ccef5eca263f98eb16723c6f990be0c88c1db113fb1"
    assert tx.block is not None
    assert tx.block.height == 860730
    assert tx.block.hash == "00000000000000000000effeb0c4460480e6a347deab95332c63007a68646ee5"
    assert tx.block.time == datetime.fromtimestamp(1725956288, UTC)
    assert (tx.outgoing, tx.coinbase) == (False, False)
    assert tx.payments == (Credit(0, 175_000),)


def test_the_recorded_tx_is_outgoing_for_the_address_it_spends():
    tx = blockbook.parse_tx_body(raw(BLOCKBOOK_TX), SPENDER)
    assert tx.outgoing and tx.payments == ()


def test_the_recorded_unconfirmed_tx_is_no_payment_yet():
    # blockHeight -1, confirmations 0: 293,135 sat to bc1q4t7h8... not yet in a block
    tx = blockbook.parse_tx_body(
        raw(BLOCKBOOK_UNCONFIRMED_TX), "bc1q4t7h8phena94prkqtm500mwzupcjvcs2akcdy9"
    )
    assert tx.block is None
    assert tx.received == (Credit(0, 293_135),)
    assert tx.payments == ()


def test_status_gives_the_best_height_and_block_index_the_hash():
    status = blockbook.parse_status(raw(BLOCKBOOK_STATUS))
    assert (status.best_height, status.in_sync, status.coin) == (860730, True, "Bitcoin")
    assert blockbook.parse_block_index(raw(BLOCKBOOK_BLOCK_INDEX)) == (
        "0000000000000000000b7b8574bc6fd285825ec2dbcbeca149121fc05b0c828c"
    )


def test_a_details_txs_page_lists_transactions_newest_first():
    page_doc = blockbook_page(
        CHANGE,
        [load(BLOCKBOOK_UNCONFIRMED_TX), load(BLOCKBOOK_TX)],
        page=2,
        total_pages=3,
    )
    page = blockbook.parse_address_page(dumps(page_doc), CHANGE)
    assert (page.page, page.total_pages) == (2, 3)
    unconfirmed, confirmed = page.transactions
    assert isinstance(unconfirmed, WalletTx) and unconfirmed.payments == ()
    assert isinstance(confirmed, WalletTx) and confirmed.payments == (Credit(1, 9_888_100),)


def test_a_page_without_transactions_is_empty_and_a_broken_entry_is_unreadable():
    doc = load(BLOCKBOOK_ADDRESS)
    assert blockbook.parse_address_page(dumps(doc), CHANGE).transactions == ()
    broken = blockbook_tx(1, to=[(CHANGE, 5)], height=10)
    broken["vout"][0]["value"] = "0.5"
    page = blockbook.parse_address_page(dumps(blockbook_page(CHANGE, [broken])), CHANGE)
    (unreadable,) = page.transactions
    assert isinstance(unreadable, TxUnreadable) and unreadable.txid == txid(1)
    assert "0.5" in unreadable.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4225100", 4_225_100), ("0", 0), (175000, 175_000), ("9223372036854775807", 2**63 - 1)],
)
def test_amounts_are_decimal_strings_of_atomic_units(value: object, expected: int):
    assert blockbook.amount(value) == expected


@pytest.mark.parametrize(
    "value", ["0.00175", "1e5", "-5", " 5", "", None, 1.0, True, "9223372036854775808"]
)
def test_fractions_exponents_signs_and_overflow_are_refused(value: object):
    with pytest.raises(ProtocolError):
        blockbook.amount(value)


def test_an_error_answer_is_a_protocol_error_with_its_message():
    body = b'{"error":"Invalid address, decoded address is of unknown format"}'
    with pytest.raises(ProtocolError, match="unknown format"):
        blockbook.parse_address_page(body, CHANGE)
    assert blockbook.error_message(body) == "Invalid address, decoded address is of unknown format"


def test_query_and_paths():
    assert blockbook.address_path(CHANGE) == f"/api/v2/address/{CHANGE}"
    assert blockbook.address_params(860_000, 2) == {
        "details": "txs",
        "from": "860000",
        "page": "2",
        "pageSize": "1000",
    }
    assert blockbook.tx_path(txid(1)) == f"/api/v2/tx/{txid(1)}"
    assert blockbook.block_index_path(666666) == "/api/v2/block-index/666666"


json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.sampled_from([CHANGE, txid(1), "123", "-1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "txid",
                    "vin",
                    "vout",
                    "n",
                    "addresses",
                    "value",
                    "blockHash",
                    "blockHeight",
                    "blockTime",
                    "confirmations",
                    "transactions",
                    "page",
                    "totalPages",
                    "error",
                    "blockbook",
                    "bestHeight",
                    "coinbase",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=20,
)


@SETTINGS
@given(json_values)
def test_any_json_gives_results_or_protocol_error(value: Any):
    body = json.dumps(value).encode()
    for parse in (
        lambda: blockbook.parse_address_page(body, CHANGE),
        lambda: blockbook.parse_tx_body(body, CHANGE),
        lambda: blockbook.parse_status(body),
        lambda: blockbook.parse_block_index(body),
    ):
        with contextlib.suppress(ProtocolError):
            parse()


@SETTINGS
@given(st.data())
def test_a_real_tx_with_any_field_replaced_gives_a_tx_or_protocol_error(data: st.DataObject):
    body = copy.deepcopy(load(BLOCKBOOK_TX))
    target: Any = body
    for _ in range(data.draw(st.integers(0, 3))):
        if isinstance(target, dict) and target:
            target = target[data.draw(st.sampled_from(sorted(target)))]
        elif isinstance(target, list) and target:
            target = target[data.draw(st.integers(0, len(target) - 1))]
    if isinstance(target, dict) and target:
        target[data.draw(st.sampled_from(sorted(target)))] = data.draw(json_values)
    with contextlib.suppress(ProtocolError):
        blockbook.parse_address_page(dumps(blockbook_page(PAID, [body])), PAID)


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_give_results_or_protocol_error(raw_body: bytes):
    for parse in (
        lambda: blockbook.parse_address_page(raw_body, CHANGE),
        lambda: blockbook.parse_status(raw_body),
        lambda: blockbook.parse_block_index(raw_body),
    ):
        with contextlib.suppress(ProtocolError):
            parse()
