"""cgminer framing: request bytes, the firmware's broken JSON, STATUS and joined replies."""

from __future__ import annotations

import json

import pytest

from rigwatch.protocols.cgminer import (
    CommandRejected,
    decode_reply,
    encode_request,
    pool_states,
    sections,
)
from rigwatch.protocols.errors import ProtocolError

from .payloads import ANTMINER, FIXTURES, WHATSMINER


def test_requests_are_json_with_joined_commands():
    assert json.loads(encode_request(["summary"])) == {"command": "summary"}
    assert json.loads(encode_request(["version", "stats"])) == {"command": "version+stats"}
    assert json.loads(encode_request(["switchpool"], "1")) == {
        "command": "switchpool",
        "parameter": "1",
    }


@pytest.mark.parametrize("bad", [[], [""], ["a+b"], ["summary", "pools"]])
def test_invalid_requests_are_refused_before_sending(bad):
    with pytest.raises(ValueError, match="cgminer"):
        encode_request(bad, "x" if bad == ["summary", "pools"] else None)


def test_one_trailing_nul_is_stripped():
    assert decode_reply(b'{"STATUS":"S","id":1}\x00') == {"STATUS": "S", "id": 1}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FIXTURES.glob("cgminer-rpc/*/*.txt")),
    ids=lambda p: p.name,
)
def test_every_malformed_real_reply_is_repaired(path):
    reply = decode_reply(path.read_bytes())
    assert "STATUS" in reply


def test_missing_comma_between_stats_objects_keeps_both_objects():
    reply = decode_reply((ANTMINER / "foreman__antminer-l3__stats.txt").read_bytes())
    first, second = reply["STATS"]
    assert first["Type"] == "Antminer L3+"
    assert second["GHS 5s"] == "504.56"
    assert second["chain_rate4"] == "126.59"


def test_backslash_quote_becomes_a_plain_quote():
    raw = (WHATSMINER / "foreman__whatsminer-m20s-new-firmware__summary.txt").read_bytes()
    summary = decode_reply(raw)["SUMMARY"][0]
    assert summary["Firmware Version"] == "'20200917.22.REL'"
    assert summary["Factory GHS"] == 67051


def test_trailing_garbage_after_the_reply_is_ignored():
    reply = decode_reply((ANTMINER / "foreman__antminer-s9k__version.txt").read_bytes())
    assert reply["VERSION"][0]["Type"] == "Antminer S9k"


def test_bare_nan_becomes_null():
    reply = decode_reply(b'{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS av":nan,"x":-inf}]}')
    assert reply["SUMMARY"][0] == {"MHS av": None, "x": None}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a" : ,"b":1}', {"a": None, "b": 1}),
        (b'{"a":1,}', {"a": 1}),
        (b'{"a":[,{"b":2}]}', {"a": [{"b": 2}]}),
        (b',{"a":1}', {"a": 1}),
        (b'{""temp0":5}', {"temp0": 5}),
        (b'{"a":"line\nbreak"}', {"a": "line\nbreak"}),
        (b'{"a":1,"b":{"c":2},"d":"trunc', {"a": 1, "b": {"c": 2}}),
        (b'{"a":[1,2,3', {"a": [1, 2]}),
        (b'{"s":"x}{y","b":[{"c":1}{"d":2}]}', {"s": "x}{y", "b": [{"c": 1}, {"d": 2}]}),
        (b'{"s":"it\\\'s","b":[{"c":1}{"d":2}]}', {"s": "it's", "b": [{"c": 1}, {"d": 2}]}),
    ],
)
def test_known_firmware_quirks_are_repaired(raw, expected):
    assert decode_reply(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"\x00", b"garbage", b"[1,2]", b"{", b"<html></html>"])
def test_hopeless_replies_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        decode_reply(raw)


def test_sections_of_a_single_command_check_its_status():
    reply = decode_reply((ANTMINER / "foreman__antminer-s17__version.json").read_bytes())
    assert sections(reply, ["version"])["version"] is not None


def test_sections_split_a_joined_reply():
    summary = {"STATUS": [{"STATUS": "S", "Msg": "Summary"}], "SUMMARY": [{"Elapsed": 5}]}
    pools = {"STATUS": [{"STATUS": "S", "Msg": "1 Pool(s)"}], "POOLS": []}
    joined = {"summary": [summary], "pools": [pools], "id": 1}
    assert sections(joined, ["summary", "pools"]) == {"summary": summary, "pools": pools}


def test_an_error_status_carries_the_miners_message():
    reply = {"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}], "id": 1}
    with pytest.raises(CommandRejected, match="Invalid command") as info:
        sections(reply, ["version", "stats"])
    assert info.value.code == 14


def test_a_failed_optional_section_is_left_out():
    ok = {"STATUS": [{"STATUS": "S"}], "SUMMARY": [{}]}
    bad = {"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "invalid cmd"}]}
    joined = {"summary": [ok], "devdetails": [bad]}
    assert list(sections(joined, ["summary", "devdetails"], optional={"devdetails"})) == ["summary"]
    with pytest.raises(CommandRejected):
        sections(joined, ["summary", "devdetails"])


def test_flat_btminer_status_is_accepted():
    raw = (WHATSMINER / "foreman__whatsminer-m31s-sleeping__status.json").read_bytes()
    assert sections(decode_reply(raw), ["status"])["status"]["Code"] == 131


def test_pools_with_an_empty_url_are_skipped():
    raw = (ANTMINER / "foreman__antminer-s19-really-cold__pools.json").read_bytes()
    pools = pool_states(decode_reply(raw))
    assert [p.url for p in pools] == ["stratum+tcp://equihash.luxor.tech:700"]
