"""Small parts of the simulator: request framing, fault syntax, addresses, Digest, settings."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigwatch.sim import (
    Fault,
    FaultKind,
    FleetSpec,
    ScheduledFault,
    loopback_addresses,
    parse_fault,
)
from rigwatch.sim.cgminer import json_end
from rigwatch.sim.digest import DigestRealm, parse_params


@given(st.dictionaries(st.text(), st.text() | st.integers()))
def test_the_end_of_any_json_object_is_found_exactly(obj: dict[str, Any]) -> None:
    raw = json.dumps(obj).encode()
    assert json_end(raw) == len(raw)
    assert json_end(raw[:-1]) == -1
    assert json_end(raw + b"trailing") == len(raw)


def test_pyasic_style_requests_are_complete_without_a_newline() -> None:
    assert json_end(b'{"command": "summary+stats"}') == 28
    assert json_end(b'{"command": "a}b"') == -1


def test_fault_strings_parse_for_the_command_line() -> None:
    assert parse_fault("3:board_drop:1@60") == ScheduledFault(3, Fault(FaultKind.BOARD_DROP, 1), 60)
    assert parse_fault("127.0.10.4:hot") == ScheduledFault("127.0.10.4", Fault(FaultKind.HOT))
    for bad in ("3", "3:melt", "3:board_drop:x", "3:hot@-1"):
        with pytest.raises(ValueError, match="TARGET:FAULT"):
            parse_fault(bad)


def test_addresses_are_consecutive_loopback_ones_skipping_0_and_255() -> None:
    assert loopback_addresses("127.0.10.254", 3) == ["127.0.10.254", "127.0.11.1", "127.0.11.2"]
    with pytest.raises(ValueError, match="loopback"):
        loopback_addresses("10.0.0.1", 1)
    with pytest.raises(ValueError, match="past the 127"):
        loopback_addresses("127.255.255.250", 10)


def test_the_demo_farm_has_sixty_mixed_miners_two_of_them_faulty() -> None:
    spec = FleetSpec.demo()
    assert len(spec.models) == 60
    assert {"s19pro", "s19", "s21", "m30s+", "m50", "gamma"} <= set(spec.models)
    assert len(spec.faults) == 2


def test_fleet_specs_refuse_unknown_models_and_non_loopback_bases() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        FleetSpec(models=("s99",))
    with pytest.raises(ValueError, match="loopback"):
        FleetSpec(models=("s19",), base="192.168.1.10")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def test_digest_accepts_the_right_password_only() -> None:
    realm = DigestRealm("antMiner Configuration", "root", "root")
    nonce = parse_params(realm.challenge()[7:])["nonce"]

    def header(password: str) -> str:
        ha1 = _md5(f"root:antMiner Configuration:{password}")
        ha2 = _md5("GET:/cgi-bin/stats.cgi")
        response = _md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
        return (
            f'Digest username="root", realm="antMiner Configuration", nonce="{nonce}", '
            f'uri="/cgi-bin/stats.cgi", response="{response}", qop=auth, nc=00000001, '
            f'cnonce="abc", algorithm=MD5'
        )

    assert realm.verify("GET", header("root"))
    assert not realm.verify("GET", header("admin"))
    assert not realm.verify("GET", header("root").replace(nonce, "0" * len(nonce)))
    assert not realm.verify("GET", "Basic cm9vdDpyb290")
