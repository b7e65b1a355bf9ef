"""Scan specs and targets files become address lists; bad input gets a clear ValueError."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigwatch.sentry.targets import (
    MAX_ADDRESSES,
    Target,
    load_targets_file,
    parse_scan_spec,
    parse_scan_specs,
    parse_targets_toml,
    resolve_targets,
)


def test_a_cidr_yields_its_usable_hosts() -> None:
    ips = parse_scan_spec("127.0.40.0/28")
    assert ips[0] == "127.0.40.1"
    assert ips[-1] == "127.0.40.14"
    assert len(ips) == 14


def test_a_slash_32_is_the_single_address() -> None:
    assert parse_scan_spec("127.0.40.7/32") == ["127.0.40.7"]


def test_a_full_range_includes_both_ends() -> None:
    assert parse_scan_spec("127.0.40.1-127.0.40.3") == ["127.0.40.1", "127.0.40.2", "127.0.40.3"]


def test_a_short_range_replaces_the_last_octet() -> None:
    ips = parse_scan_spec("127.0.40.1-60")
    assert len(ips) == 60
    assert ips[-1] == "127.0.40.60"


def test_a_range_may_cross_octets() -> None:
    ips = parse_scan_spec("127.0.40.254-127.0.41.1")
    assert ips == ["127.0.40.254", "127.0.40.255", "127.0.41.0", "127.0.41.1"]


def test_a_single_address_is_a_spec() -> None:
    assert parse_scan_spec(" 127.0.40.9 ") == ["127.0.40.9"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("127.0.40.0/33", "not a valid CIDR"),
        ("127.0.40.x", "not an IP address"),
        ("127.0.40.9-3", "ends before it starts"),
        ("127.0.40.1-300", "above 255"),
        ("127.0.40.1-::1", "same IP version"),
        ("127.0.0.0/8", "limit is 65536"),
        ("127.0.0.0-127.1.0.0", "limit is 65536"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scan_spec(spec)


def test_a_slash_16_is_exactly_within_the_limit() -> None:
    assert len(parse_scan_spec("127.40.0.0/16")) == MAX_ADDRESSES - 2


def test_several_specs_are_merged_without_duplicates_in_order() -> None:
    ips = parse_scan_specs(["127.0.40.3-4", "127.0.40.1-3"])
    assert ips == ["127.0.40.3", "127.0.40.4", "127.0.40.1", "127.0.40.2"]


def test_several_specs_together_may_not_exceed_the_limit() -> None:
    with pytest.raises(ValueError, match="more than 65536"):
        parse_scan_specs(["127.40.0.0/16", "127.41.0.0/16"])


def test_a_targets_file_lists_miners_with_optional_details(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[miner]]\nip = "127.0.40.1"\n\n'
        '[[miner]]\nip = "127.0.40.2"\nkind = "bitaxe"\nport = 8080\nname = "desk"\n'
    )
    assert load_targets_file(path) == [
        Target(ip="127.0.40.1"),
        Target(ip="127.0.40.2", kind="bitaxe", port=8080, name="desk"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[miner]\n", "not valid TOML"),
        ('[[miner]]\nkind = "bitaxe"\n', "'ip'"),
        ('[[miner]]\nip = "nope"\n', "not an IP address"),
        ('[[miner]]\nip = "127.0.40.1"\nkind = "toaster"\n', "kind must be one of"),
        ('[[miner]]\nip = "127.0.40.1"\nkind = "bitaxe"\nport = 0\n', "port must be"),
        ('[[miner]]\nip = "127.0.40.1"\nport = 4029\n', "a port needs kind"),
        ('[[miner]]\nip = "127.0.40.1"\ncolour = "red"\n', "unknown keys"),
        ('[[miners]]\nip = "127.0.40.1"\n', "unknown top-level keys"),
        ('miner = "127.0.40.1"\n', "array of tables"),
    ],
)
def test_bad_targets_files_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_targets_toml(text)


def test_a_missing_targets_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read targets file"):
        load_targets_file(tmp_path / "absent.toml")


def test_a_file_entry_wins_over_the_same_scanned_address(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[miner]]\nip = "127.0.40.2"\nkind = "antminer"\n')
    targets = resolve_targets(["127.0.40.1-3"], path)
    assert Target(ip="127.0.40.2", kind="antminer") in targets
    assert [t.ip for t in targets].count("127.0.40.2") == 1
    assert len(targets) == 3
