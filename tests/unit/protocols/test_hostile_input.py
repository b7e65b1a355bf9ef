"""Whatever arrives on the wire, a parser raises ProtocolError or returns domain objects."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.protocols import antminer, axeos, whatsminer
from rigwatch.protocols.cgminer import decode_reply, sections
from rigwatch.protocols.errors import ProtocolError
from tests.unit.protocols.payloads import mutate

from .payloads import ANTMINER, BITAXE, WHATSMINER

TS = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
# keys drawn partly from the real field names so the parsers go past their first lookup
field_names = st.sampled_from(
    [
        "STATUS",
        "STATS",
        "SUMMARY",
        "POOLS",
        "DEVS",
        "VERSION",
        "DEVDETAILS",
        "Msg",
        "Type",
        "GHS 5s",
        "GHS av",
        "MHS 1m",
        "chain_rate1",
        "chain_acn1",
        "temp2_1",
        "temp_chip1",
        "fan1",
        "fan_num",
        "rate_unit",
        "total_rateideal",
        "Elapsed",
        "URL",
        "User",
        "Stratum Active",
        "Status",
        "Priority",
        "Slot",
        "Effective Chips",
        "Error Code Count",
        "Error Code 0",
        "hashRate",
        "ASICModel",
        "stratumURL",
        "stratumPort",
        "macAddr",
        "isUsingFallbackStratum",
        "smallCoreCount",
        "frequency",
        "Model",
        "Factory GHS",
    ]
)
json_ish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(field_names, st.text(max_size=6)), children, max_size=6),
    ),
    max_leaves=30,
)


def real_payloads() -> list[bytes]:
    files = [*ANTMINER.iterdir(), *WHATSMINER.iterdir(), *BITAXE.iterdir()]
    return [p.read_bytes() for p in sorted(files)]


REAL = real_payloads()


def parse_everything(raw: bytes) -> None:
    """Run every parser the sentry would run on these bytes."""
    try:
        reply = decode_reply(raw)
    except ProtocolError:
        return
    for parse in (antminer.parse, whatsminer.parse):
        with contextlib.suppress(ProtocolError):
            parse({c: reply for c in ("version", "summary", "stats", "pools", "devs")}, ts=TS)
    with contextlib.suppress(ProtocolError):
        sections(reply, ["summary", "pools"], optional={"pools"})
    with contextlib.suppress(ProtocolError):
        axeos.parse_info(axeos.decode_body(raw), ts=TS)


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_protocol_error(raw):
    parse_everything(raw)


@SETTINGS
@given(json_ish)
def test_arbitrary_json_structures_raise_only_protocol_error(value: Any):
    parse_everything(json.dumps(value).encode())
    if isinstance(value, dict):
        replies = {c: value for c in ("version", "summary", "stats", "pools", "devs", "status")}
        for parse in (antminer.parse, whatsminer.parse):
            with contextlib.suppress(ProtocolError):
                parse(replies, ts=TS)
        with contextlib.suppress(ProtocolError):
            axeos.parse_info(value, ts=TS, asic=value)


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_mutated_real_payloads_raise_only_protocol_error(raw, data):
    parse_everything(mutate(raw, data))


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_real_payloads_with_fields_replaced_by_odd_values_raise_only_protocol_error(raw, data):
    try:
        reply = decode_reply(raw)
    except ProtocolError:
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

    parse_everything(json.dumps(scramble(reply), allow_nan=True).encode())


def test_deep_nesting_is_a_protocol_error_not_a_recursion_error():
    with pytest.raises(ProtocolError):
        decode_reply(b"[" * 100_000)
