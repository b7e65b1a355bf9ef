"""Reading loosely typed miner fields without trusting their types.

Firmware writes the same field as a number on one build and a string on the next
(`"GHS 5s": "13883.81"`), uses 0 or -1 for "absent", and a hostile reply can put any
JSON anywhere. Every accessor here returns a clean value or None and never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_TEXT = 256


def num(value: object) -> float | None:
    """A finite float from a number or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            result = float(value.strip().strip("'\""))
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: object) -> int | None:
    """An int from a number or numeric string (fractions truncated); None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    result = num(value)
    return None if result is None else int(result)


def count(value: object) -> int | None:
    """A non-negative counter; negative or absurd values are None."""
    result = integer(value)
    return result if result is not None and 0 <= result < 2**63 else None


def text(value: object, max_len: int = MAX_TEXT) -> str | None:
    """A non-empty, stripped, bounded string; None for anything else."""
    if not isinstance(value, str):
        return None
    result = value.strip()
    return result[:max_len] if result else None


def flag(value: object) -> bool | None:
    """cgminer booleans: true/false, "true"/"Y"/"N", 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "y", "yes", "1"):
            return True
        if lowered in ("false", "n", "no", "0"):
            return False
    return None


def records(reply: object, key: str) -> list[Mapping[str, Any]]:
    """The objects in `reply[key]` (a cgminer detail list); [] when absent or malformed."""
    if not isinstance(reply, Mapping):
        return []
    value = reply.get(key)
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def first(reply: object, key: str) -> Mapping[str, Any]:
    """The first object of `reply[key]`, or an empty mapping."""
    found = records(reply, key)
    return found[0] if found else {}


def temp(value: object) -> float | None:
    """A plausible temperature in °C; 0 and negative readings mean "no sensor" on miners."""
    result = num(value)
    return result if result is not None and 0 < result < 200 else None


_DASH_VALUES = re.compile(r"(?:^|-)(-?\d+(?:\.\d+)?)")


def dash_values(value: object) -> list[float]:
    """Bitmain's "a-b-c-d" sensor strings, where a negative reading makes `--`: "2--1-20"."""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return []
    return [float(m.group(1)) for m in _DASH_VALUES.finditer(value.strip())]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def normalize_mac(value: object) -> str | None:
    """AA:BB:CC:DD:EE:FF from any of the separators firmware uses; None if not a MAC."""
    raw = text(value, 64)
    if raw is None:
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", raw)
    if len(digits) != 12 or len(re.sub(r"[0-9A-Fa-f:\-. ]", "", raw)) != 0:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()
