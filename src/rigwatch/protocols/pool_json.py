"""Reading pool API bodies: JSON with exact decimals, amounts, times and SI hashrates.

Shared by the pool parsers (`ocean`, `public_pool`, `ckpool`, `pool_p2pool`). Bodies are
decoded with every JSON fraction as a `Decimal`, so "0.00015180" BTC and 0.0001518 both
become exactly 15180 sats; no amount ever passes through a float. Every accessor returns
a clean value or None and never raises; `decode` raises only `ProtocolError`.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, TypeVar

from rigwatch.domain.pools import MAX_ATOMIC, SATS_PER_BTC, window_label
from rigwatch.protocols.errors import ProtocolError

T = TypeVar("T")
E = TypeVar("E")
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 10_000
# Times outside this range are garbage, not history (2009-01-03 is the genesis block).
_MIN_UNIX = 1_230_940_800
_MAX_UNIX = 4_102_444_800  # 2100-01-01
_MS_ABOVE = 100_000_000_000  # a "unix time" this large is in milliseconds


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode(name: str, raw: bytes) -> Any:
    """The JSON value of a body; fractions as Decimal. ProtocolError for anything else."""
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"{name}: {len(raw)} bytes is more than a pool API sends")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"{name}: not JSON: {str(exc)[:200]}") from None


def decode_object(name: str, raw: bytes) -> Mapping[str, Any]:
    value = decode(name, raw)
    if not isinstance(value, dict):
        raise ProtocolError(f"{name}: a JSON {type(value).__name__}, not an object")
    return value


def obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Any]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []


def text(value: object, max_len: int = 256) -> str | None:
    if not isinstance(value, str):
        return None
    result = value.strip()
    return result[:max_len] if result else None


def number(value: object) -> float | None:
    """A finite float from a JSON number (Decimal included) or a numeric string."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float | Decimal):
            result = float(value)
        elif isinstance(value, str) and len(value) <= 64:
            result = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def rate(value: object) -> float | None:
    """A hashrate in H/s: finite and not negative."""
    result = number(value)
    return result if result is not None and result >= 0 else None


def count(value: object) -> int | None:
    """A non-negative integer below 2**63 (fractions truncated)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= MAX_ATOMIC else None
    result = number(value)
    if result is None or not 0 <= result <= MAX_ATOMIC:
        return None
    return int(result)


_SI_FACTORS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_SI_RATE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([kKMGTPE]?)\s*$")


def si_rate(value: object) -> float | None:
    """ckpool's `%.3g` + SI suffix hashrates: "4.57G", "85.4T", "1e+03T", "0" → H/s."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return rate(value)
    if not isinstance(value, str) or len(value) > 32:
        return None
    match = _SI_RATE.match(value)
    if match is None:
        return None
    try:
        result = float(Decimal(match.group(1)) * _SI_FACTORS[match.group(2).upper()])
    except (ArithmeticError, ValueError):
        return None
    return result if math.isfinite(result) else None


def unix_time(value: object) -> datetime | None:
    """Unix seconds (or milliseconds), as a number or digit string, or an ISO 8601 time."""
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return iso_time(value)
    seconds = number(value)
    if seconds is None:
        return None
    if seconds > _MS_ABOVE:
        seconds /= 1000
    if not _MIN_UNIX <= seconds <= _MAX_UNIX:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def iso_time(value: object) -> datetime | None:
    """`2025-06-01T12:00:00.000Z` and friends; naive times are taken as UTC."""
    raw = text(value, 64)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return parsed if _MIN_UNIX <= parsed.timestamp() <= _MAX_UNIX else None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # the shortest repr: 0.1 stays 0.1
    elif isinstance(value, str) and 0 < len(value.strip()) <= 64:
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def btc_to_sats(value: object) -> int | None:
    """A BTC amount (decimal string or number) → exact satoshis; a fraction of a satoshi
    is rounded half-to-even. Negative or absurd amounts are None."""
    amount = _decimal(value)
    if amount is None or amount < 0 or amount > Decimal(MAX_ATOMIC) / SATS_PER_BTC:
        return None
    return int((amount * SATS_PER_BTC).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def atomic(value: object) -> int | None:
    """An amount already in atomic units (sats, piconero): a whole, non-negative number."""
    amount = _decimal(value)
    if amount is None or amount < 0 or amount > MAX_ATOMIC or amount != amount.to_integral():
        return None
    return int(amount)


_WINDOW_KEY = re.compile(r"^hashrate_?(\d{1,7})(s|m|hr?|d)?$")
_WINDOW_UNIT = {None: 1, "s": 1, "m": 60, "h": 3600, "hr": 3600, "d": 86400}


def window_of(key: str) -> str | None:
    """`hashrate_300s` / `hashrate_3600` (Ocean), `hashrate1hr` / `hashrate5m` (ckpool)
    → "5m", "1h"; None for any other key."""
    match = _WINDOW_KEY.match(key)
    if match is None:
        return None
    seconds = int(match.group(1)) * _WINDOW_UNIT[match.group(2)]
    return window_label(seconds) if seconds > 0 else None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One GET a pool sync makes: `path` is relative to the account's base URL (already
    quoted); a required endpoint's failure fails the sync, an optional one's only loses
    its own figures."""

    name: str
    path: str
    required: bool = False


class OptionalParts:
    """The optional bodies of one sync: each parsed, or its ProtocolError noted in
    `problems` and only its own figures lost (`empty` instead)."""

    def __init__(self, bodies: Mapping[str, bytes]) -> None:
        self._bodies = bodies
        self.problems: list[str] = []

    def parse(self, name: str, parse: Callable[[bytes], T], empty: E) -> T | E:
        if name not in self._bodies:
            return empty
        try:
            return parse(self._bodies[name])
        except ProtocolError as exc:
            self.problems.append(str(exc))
            return empty


def quote(segment: str) -> str:
    """A path segment with everything but unreserved characters escaped."""
    return urllib.parse.quote(segment, safe="")
