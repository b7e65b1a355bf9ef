"""Esplora address history: the recorded tx object and pages built from it (see
tests/payout_payloads.py: no whole recorded page exists), classified for one wallet."""

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
from rigwatch.protocols import esplora_address as esplora
from rigwatch.protocols.errors import ProtocolError
from tests.payout_payloads import (
    ESPLORA_RECORDED_ADDRESS,
    ESPLORA_TX,
    FIXTURES,
    dumps,
    esplora_tx,
    load,
    txid,
)

ME = "bc1qjmc49gy3jjrkyjl57yl5duxjp7ssmxkvh5t2q5"
RECORDED_TXID = "b6a53d8a8025c0c5b194345925a99741b645cae0b1f180f0613273029f2bf698"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_recorded_tx_spends_its_own_address_so_it_is_outgoing_and_no_revenue():
    # tx02: 50,000 sat from 1stApr... back to 1stApr... (49,040 sat, fee 960), unconfirmed
    tx = esplora.parse_tx_body((FIXTURES / ESPLORA_TX).read_bytes(), ESPLORA_RECORDED_ADDRESS)
    assert tx.txid == RECORDED_TXID
    assert tx.outgoing and not tx.coinbase
    assert tx.received == (Credit(0, 49040),)
    assert tx.block is None
    assert tx.payments == ()


def test_the_recorded_tx_is_nothing_to_an_address_it_does_not_name():
    tx = esplora.parse_tx(load(ESPLORA_TX), ME)
    assert (tx.outgoing, tx.received, tx.payments) == (False, (), ())


def test_a_confirmed_incoming_tx_pays_each_output_to_the_wallet_by_index():
    body = esplora_tx(
        1,
        to=[("1Nb1ykSD7J5k4RFjJQGsrD9gxBE6jzfNa9", 5_000), (ME, 625_000_000)],
        height=860_000,
        time=1_725_000_000,
    )
    tx = esplora.parse_tx(body, ME)
    assert tx.block is not None
    assert (tx.block.height, tx.block.time) == (860_000, datetime(2024, 8, 30, 6, 40, tzinfo=UTC))
    assert tx.payments == (Credit(1, 625_000_000),)


def test_a_coinbase_output_is_flagged_and_counts_as_revenue():
    tx = esplora.parse_tx(esplora_tx(2, to=[(ME, 312_500_000)], height=5, coinbase=True), ME)
    assert tx.coinbase and not tx.outgoing
    assert tx.payments == (Credit(0, 312_500_000),)


def test_a_page_keeps_order_and_marks_a_tx_without_prevouts_unreadable():
    broken = esplora_tx(4, to=[(ME, 7)], height=9)
    broken["vin"][0]["prevout"] = None  # the backend could not load it: fetch the tx alone
    page = esplora.parse_page(
        dumps([esplora_tx(3, to=[(ME, 1)]), broken, esplora_tx(5, to=[(ME, 2)], height=8)]), ME
    )
    assert [t.txid for t in page] == [txid(3), txid(4), txid(5)]
    assert isinstance(page[0], WalletTx) and page[0].block is None
    assert isinstance(page[1], TxUnreadable) and "prevout" in page[1].reason
    assert isinstance(page[2], WalletTx) and page[2].payments == (Credit(0, 2),)


def test_an_empty_page_is_the_end_of_the_history():
    assert esplora.parse_page(b"[]", ME) == []


@pytest.mark.parametrize(
    "raw",
    [b"", b"{}", b'{"error":"Invalid Bitcoin address"}', b"[1]", b'[{"txid":"zz"}]', b"nope"],
)
def test_bodies_that_are_not_pages_raise_protocol_error(raw: bytes):
    with pytest.raises(ProtocolError):
        esplora.parse_page(raw, ME)


def test_amounts_must_be_whole_satoshis_not_floats_or_strings():
    for value in (1.5, "100", -1, 2**63):
        body = esplora_tx(6, to=[(ME, 1)], height=3)
        body["vout"][0]["value"] = value
        with pytest.raises(ProtocolError):
            esplora.parse_tx(body, ME)


def test_error_bodies_give_their_message_json_or_text():
    assert esplora.error_message(b'{"error":"Failed to get address transactions"}') == (
        "Failed to get address transactions"
    )
    assert esplora.error_message(b"Invalid Bitcoin address") == "Invalid Bitcoin address"


def test_paths_follow_the_esplora_routes():
    assert esplora.txs_path(ME) == f"/address/{ME}/txs"
    assert esplora.chain_path(ME, txid(1)) == f"/address/{ME}/txs/chain/{txid(1)}"
    assert esplora.tx_path(txid(1)) == f"/tx/{txid(1)}"


json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.sampled_from([ME, txid(1), "txid", "vin", "vout", "status", "prevout"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "txid",
                    "vin",
                    "vout",
                    "status",
                    "prevout",
                    "value",
                    "scriptpubkey_address",
                    "is_coinbase",
                    "confirmed",
                    "block_height",
                    "block_hash",
                    "block_time",
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
def test_any_json_gives_transactions_or_protocol_error(value: Any):
    with contextlib.suppress(ProtocolError):
        esplora.parse_page(json.dumps(value).encode(), ME)
    with contextlib.suppress(ProtocolError):
        esplora.parse_tx(value, ME)


@SETTINGS
@given(st.data())
def test_a_real_tx_with_any_field_replaced_gives_a_tx_or_protocol_error(data: st.DataObject):
    body = copy.deepcopy(esplora_tx(7, to=[(ME, 10)], height=4))
    target: Any = body
    for _ in range(data.draw(st.integers(0, 3))):
        if isinstance(target, dict) and target:
            target = target[data.draw(st.sampled_from(sorted(target)))]
        elif isinstance(target, list) and target:
            target = target[data.draw(st.integers(0, len(target) - 1))]
    if isinstance(target, dict) and target:
        target[data.draw(st.sampled_from(sorted(target)))] = data.draw(json_values)
    with contextlib.suppress(ProtocolError):
        esplora.parse_page(dumps([body]), ME)


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_give_a_page_or_protocol_error(raw: bytes):
    with contextlib.suppress(ProtocolError):
        esplora.parse_page(raw, ME)
    with contextlib.suppress(ProtocolError):
        esplora.parse_tx_body(raw, ME)
