"""Which addresses a sentry watches: scan specs (CIDR, ranges) and a TOML targets file.

Everything here is pure parsing; nothing is contacted. The address count is capped so a
typo such as a `/8` mask is refused instead of starting a scan of 16 million hosts.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

MAX_ADDRESSES = 65_536

TargetKind = Literal["antminer", "whatsminer", "bitaxe", "pyasic"]
TARGET_KINDS: tuple[TargetKind, ...] = ("antminer", "whatsminer", "bitaxe", "pyasic")
_TARGET_KEYS = {"ip", "kind", "port", "name"}


@dataclass(frozen=True, slots=True)
class Target:
    """One address to watch.

    `kind` None means "identify with pyasic". A `kind` of antminer/whatsminer/bitaxe skips
    identification and polls that protocol directly, which is the only way to reach a miner
    on a non-default `port` (pyasic identifies bare IPs on fixed ports only).
    """

    ip: str
    kind: TargetKind | None = None
    port: int | None = None
    name: str | None = None


def _parse_ip(text: str, spec: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValueError(f"{spec!r}: {text.strip()!r} is not an IP address") from None


def _range(spec: str, limit: int) -> Iterator[str]:
    left, _, right = spec.partition("-")
    first = _parse_ip(left, spec)
    right = right.strip()
    if right.isdigit() and isinstance(first, ipaddress.IPv4Address):
        # Short form `127.0.10.1-60`: the number replaces the last octet.
        octet = int(right)
        if octet > 255:
            raise ValueError(f"{spec!r}: last octet {octet} is above 255")
        last: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
            (int(first) & 0xFFFFFF00) | octet
        )
    else:
        last = _parse_ip(right, spec)
    if last.version != first.version:
        raise ValueError(f"{spec!r}: both ends must be the same IP version")
    if int(last) < int(first):
        raise ValueError(f"{spec!r}: the range ends before it starts")
    count = int(last) - int(first) + 1
    if count > limit:
        raise ValueError(f"{spec!r} covers {count} addresses; the limit is {limit}")
    cls = type(first)
    for value in range(int(first), int(last) + 1):
        yield str(cls(value))


def _network(spec: str, limit: int) -> Iterator[str]:
    try:
        net = ipaddress.ip_network(spec, strict=False)
    except ValueError:
        raise ValueError(f"{spec!r} is not a valid CIDR network") from None
    if net.num_addresses > limit:
        raise ValueError(f"{spec!r} covers {net.num_addresses} addresses; the limit is {limit}")
    for host in net.hosts():
        yield str(host)


def parse_scan_spec(spec: str, *, limit: int = MAX_ADDRESSES) -> list[str]:
    """Addresses of one spec: `a.b.c.d`, `a.b.c.d/nn`, `a.b.c.d-e.f.g.h` or `a.b.c.d-N`.

    A CIDR yields its usable hosts (no network or broadcast address), as a scan should.
    """
    text = spec.strip()
    if not text:
        raise ValueError("empty scan spec")
    if "/" in text:
        return list(_network(text, limit))
    if "-" in text:
        return list(_range(text, limit))
    return [str(_parse_ip(text, spec))]


def parse_scan_specs(specs: Iterable[str], *, limit: int = MAX_ADDRESSES) -> list[str]:
    """All addresses of several specs, first occurrence order, duplicates dropped."""
    seen: dict[str, None] = {}
    for spec in specs:
        for ip in parse_scan_spec(spec, limit=limit):
            seen[ip] = None
            if len(seen) > limit:
                raise ValueError(f"the scan specs cover more than {limit} addresses")
    return list(seen)


def _target_from_entry(entry: object, where: str) -> Target:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: each [[miner]] must be a table")
    unknown = set(entry) - _TARGET_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_TARGET_KEYS)}"
        )
    ip = entry.get("ip")
    if not isinstance(ip, str):
        raise ValueError(f"{where}: 'ip' (a string) is required")
    address = str(_parse_ip(ip, where))
    kind = entry.get("kind")
    if kind is not None and kind not in TARGET_KINDS:
        raise ValueError(f"{where}: kind must be one of {list(TARGET_KINDS)}, got {kind!r}")
    port = entry.get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{where}: port must be an integer 1-65535, got {port!r}")
        if kind in (None, "pyasic"):
            raise ValueError(
                f"{where}: a port needs kind antminer, whatsminer or bitaxe "
                "(pyasic only reaches miners on their default ports)"
            )
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 64):
        raise ValueError(f"{where}: name must be a string of 1-64 characters")
    return Target(ip=address, kind=cast("TargetKind | None", kind), port=port, name=name)


def parse_targets_toml(text: str, *, source: str = "targets file") -> list[Target]:
    """Targets of a TOML document with `[[miner]]` tables (`ip`, optional kind/port/name)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(doc) - {"miner"}
    if unknown:
        raise ValueError(f"{source}: unknown top-level keys {sorted(unknown)}; use [[miner]]")
    entries = doc.get("miner", [])
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'miner' must be an array of tables ([[miner]])")
    return [_target_from_entry(e, f"{source} [[miner]] #{i + 1}") for i, e in enumerate(entries)]


def load_targets_file(path: Path) -> list[Target]:
    """Read and parse a targets file; a missing or unreadable file is a ValueError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read targets file {path}: {exc}") from None
    return parse_targets_toml(text, source=str(path))


def resolve_targets(
    scan: Sequence[str], targets_file: Path | None, *, limit: int = MAX_ADDRESSES
) -> list[Target]:
    """Everything to watch. A targets-file entry wins over a scanned address with the same
    (ip, port), since it says more; the total is capped at `limit`."""
    found: dict[tuple[str, int | None], Target] = {}
    if targets_file is not None:
        for target in load_targets_file(targets_file):
            found[(target.ip, target.port)] = target
    for ip in parse_scan_specs(scan, limit=limit):
        found.setdefault((ip, None), Target(ip=ip))
    if len(found) > limit:
        raise ValueError(f"{len(found)} targets in all; the limit is {limit}")
    return list(found.values())
