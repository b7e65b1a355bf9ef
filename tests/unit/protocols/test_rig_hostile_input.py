"""Whatever a rig's API sends, the rig parsers raise ProtocolError or return domain objects."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.protocols import gpu_miners, teamredminer, xmrig
from rigwatch.protocols.cgminer import decode_reply, sections
from rigwatch.protocols.errors import ProtocolError
from tests.unit.protocols.payloads import mutate

from .payloads import FIXTURES

TS = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HTTP_PARSERS = (
    gpu_miners.parse_trex,
    gpu_miners.parse_lolminer,
    gpu_miners.parse_srbminer,
    gpu_miners.parse_gminer,
    gpu_miners.parse_nbminer,
    xmrig.parse_summary,
    xmrig.parse_proxy_summary,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
# real field names, so the parsers get past their first lookup
field_names = st.sampled_from(
    [
        "gpus",
        "hashrate",
        "accepted_count",
        "active_pool",
        "url",
        "user",
        "fan_speed",
        "power",
        "temperature",
        "success",
        "Session",
        "GPUs",
        "Software",
        "Performance_Unit",
        "Performance",
        "Temp (deg C)",
        "algorithms",
        "hashrate_total_now",
        "devices",
        "miner_version",
        "cpu_devices",
        "gpu_devices",
        "now",
        "cpu",
        "gpu",
        "speed",
        "speedUnit",
        "miner",
        "server",
        "stratum",
        "hashrate_raw",
        "total_hashrate_raw",
        "start_time",
        "version",
        "results",
        "shares_good",
        "shares_total",
        "total",
        "threads",
        "health",
        "kind",
        "upstreams",
        "miners",
        "type",
        "enabled",
        "index",
        "STATUS",
        "DEVS",
        "POOLS",
        "SUMMARY",
        "KHS 30s",
        "MHS av",
        "GPU",
        "Fan Speed",
        "Elapsed",
        "Description",
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

REAL = sorted(
    [
        *(FIXTURES / "xmrig-http").iterdir(),
        *(FIXTURES / "gpu-miners-http").rglob("*.json"),
        *(FIXTURES / "cgminer-rpc" / "teamredminer").iterdir(),
    ]
)
REAL_BYTES = [p.read_bytes() for p in REAL]


def parse_value(value: Any) -> None:
    """Every rig parser on one decoded value: each returns or raises ProtocolError."""
    for parse in HTTP_PARSERS:
        with contextlib.suppress(ProtocolError):
            parse(value, ts=TS)
    with contextlib.suppress(ProtocolError):
        xmrig.parse_summary(value, ts=TS, backends=value)
    if isinstance(value, dict):
        with contextlib.suppress(ProtocolError):
            teamredminer.parse({c: value for c in teamredminer.COMMANDS}, ts=TS)


def parse_bytes(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_value(gpu_miners.decode_json(raw, "rig"))
    try:
        reply = decode_reply(raw)
    except ProtocolError:
        return
    with contextlib.suppress(ProtocolError):
        teamredminer.parse(sections(reply, ["devs"]), ts=TS)


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_protocol_error(raw):
    parse_bytes(raw)


@SETTINGS
@given(json_ish)
def test_arbitrary_json_structures_raise_only_protocol_error(value: Any):
    parse_value(value)
    parse_bytes(json.dumps(value).encode())


@SETTINGS
@given(st.sampled_from(REAL_BYTES), st.data())
def test_mutated_real_payloads_raise_only_protocol_error(raw, data):
    parse_bytes(mutate(raw, data))


@SETTINGS
@given(st.sampled_from(REAL_BYTES), st.data())
def test_real_payloads_with_fields_replaced_by_odd_values_raise_only_protocol_error(raw, data):
    value = json.loads(raw)

    def scramble(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (data.draw(json_ish) if data.draw(st.booleans()) else scramble(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [scramble(v) for v in node]
        return node

    parse_value(scramble(value))
    parse_bytes(json.dumps(scramble(value), allow_nan=True).encode())


def test_every_real_rig_payload_parses_with_its_own_parser():
    """The corpus above is the real one: each file is accepted by its program's parser."""
    assert len(REAL) == 21
    for path in REAL:
        if path.parent.name == "teamredminer":
            continue
        value = gpu_miners.decode_json(path.read_bytes(), path.name)
        program = path.parent.name
        if program == "xmrig-http":
            if "threads" in path.name or "backends" in path.name:
                continue
            xmrig.parse_summary(value, ts=TS)
        else:
            getattr(gpu_miners, f"parse_{program}")(value, ts=TS)
