"""Esplora / mempool.space REST bodies the network job reads (PROTOCOLS.md 5.4).

- `GET /api/blocks/tip/height`: bare integer text (`698767`).
- `GET /api/v1/difficulty-adjustment`: the current mempool backend writes
  `estimatedRetargetDate` (unix), `remainingTime`, `timeAvg` and `timeOffset` in
  **milliseconds** [src `backend/src/api/difficulty-adjustment.ts`], but `previousTime`
  in seconds (seen in a real payload). The old docs example writes the dates and
  `remainingTime` in seconds, next to a `timeAvg` of 302328 that only makes sense in ms
  (302 s a block, matching its +98% change). So: a unix time is in ms when it is above
  1e11 (in seconds that would be the year 5138); `remainingTime` follows the unit of
  `estimatedRetargetDate` (they are computed together); `timeAvg`, a mean block interval,
  is in ms when the payload is, or when it is over MAX_BLOCK_INTERVAL_S.
- `GET /api/v1/mining/hashrate/3d`: `currentHashrate` (H/s) and `currentDifficulty`.
- `GET /api/v1/blocks` (mempool, with `extras.pool.name`, `extras.totalFees`,
  `extras.reward` in sats) or `GET /api/blocks` (plain Esplora: no extras).
- `GET /api/v1/fees/recommended`: `fastestFee`, `halfHourFee`, `hourFee`, `economyFee`,
  `minimumFee` in sat/vB.
- `GET /api/v1/prices`: `{time, USD, EUR, ...}`, fiat per BTC. mempool starts its price
  table at -1 for every currency and `time` 0 until a price feed answers, so a
  non-positive price or time means "unknown", not a price.

Every accessor is tolerant (a wrong-typed or absurd field is None); a body that is not
the endpoint's shape at all, or has none of its figures, is a `ProtocolError`, the only
exception that leaves this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from rigwatch.domain.network import (
    BTC,
    ChainBlock,
    DifficultyAdjustment,
    FeeEstimates,
    NetworkHashrate,
    PriceQuote,
)
from rigwatch.protocols import fields
from rigwatch.protocols.errors import ProtocolError

TIP_HEIGHT_PATH = "/api/blocks/tip/height"
DIFFICULTY_ADJUSTMENT_PATH = "/api/v1/difficulty-adjustment"
HASHRATE_PATH = "/api/v1/mining/hashrate/3d"
BLOCKS_PATH = "/api/v1/blocks"
ESPLORA_BLOCKS_PATH = "/api/blocks"
FEES_PATH = "/api/v1/fees/recommended"
PRICES_PATH = "/api/v1/prices"

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_HEIGHT = 100_000_000
MAX_BLOCKS = 200
MAX_CURRENCIES = 64
MS_THRESHOLD = 1e11  # a unix time above this is in milliseconds
MAX_BLOCK_INTERVAL_S = 10_000.0  # a mean block interval above this must be milliseconds
# Unix times outside this window are not times of a Bitcoin-era explorer.
MIN_UNIX_S = 1_230_768_000  # 2009-01-01
MAX_UNIX_S = 7_258_118_400  # 2200-01-01
MAX_FEE_SAT_VB = 1e7
MAX_SATS = 21_000_000 * 100_000_000
_CURRENCY = re.compile(r"^[A-Z]{3,5}$")
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_INTEGER_TEXT = re.compile(rb"^\s*(\d{1,12})\s*$")


def decode_json(raw: bytes, what: str) -> Any:
    """The JSON value of a body, or ProtocolError."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ProtocolError(f"{what}: body is {type(raw).__name__}, not bytes")
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"{what}: body of {len(raw)} bytes is larger than expected")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"{what}: body is not JSON: {exc}") from None


def _object(raw: bytes, what: str) -> Mapping[str, Any]:
    value = decode_json(raw, what)
    if not isinstance(value, Mapping):
        raise ProtocolError(f"{what}: body is a JSON {type(value).__name__}, not an object")
    return value


def parse_tip_height(raw: bytes) -> int:
    """`/api/blocks/tip/height`: the bare integer text (a JSON number is the same)."""
    if not isinstance(raw, bytes | bytearray | memoryview) or len(raw) > 64:
        raise ProtocolError("tip height: not a short body")
    found = _INTEGER_TEXT.match(bytes(raw))
    if found is None:
        raise ProtocolError(f"tip height: not an integer: {bytes(raw)[:32]!r}")
    height = int(found.group(1))
    if height >= MAX_HEIGHT:
        raise ProtocolError(f"tip height {height} is not a plausible block height")
    return height


def _height(value: object) -> int | None:
    height = fields.integer(value) if not isinstance(value, float) else None
    return height if height is not None and 0 <= height < MAX_HEIGHT else None


def _positive(value: object, limit: float = math.inf) -> float | None:
    result = fields.num(value)
    return result if result is not None and 0 < result < limit else None


def _non_negative(value: object, limit: float = math.inf) -> float | None:
    result = fields.num(value)
    return result if result is not None and 0 <= result < limit else None


def _pct(value: object) -> float | None:
    result = fields.num(value)
    return result if result is not None and -100 <= result <= 100_000 else None


def _sats(value: object) -> int | None:
    result = fields.count(value)
    return result if result is not None and result <= MAX_SATS else None


def _unix(value: object, *, millis: bool | None = None) -> datetime | None:
    """A unix time in seconds or milliseconds (by magnitude unless `millis` is given)."""
    stamp = fields.num(value)
    if stamp is None or stamp <= 0:
        return None
    if millis if millis is not None else stamp > MS_THRESHOLD:
        stamp /= 1000.0
    if not MIN_UNIX_S <= stamp <= MAX_UNIX_S:
        return None
    return datetime.fromtimestamp(stamp, UTC)


def _duration_s(value: object, millis: bool) -> float | None:
    span = _non_negative(value)
    if span is None:
        return None
    return span / 1000.0 if millis else span


def parse_difficulty_adjustment(raw: bytes) -> DifficultyAdjustment:
    """`/api/v1/difficulty-adjustment`, either unit convention (see the module doc)."""
    body = _object(raw, "difficulty adjustment")
    retarget_raw = fields.num(body.get("estimatedRetargetDate"))
    millis = None if retarget_raw is None or retarget_raw <= 0 else retarget_raw > MS_THRESHOLD
    time_avg_raw = _non_negative(body.get("timeAvg"))
    time_avg_ms = bool(millis) or (time_avg_raw is not None and time_avg_raw > MAX_BLOCK_INTERVAL_S)
    time_avg = _duration_s(time_avg_raw, time_avg_ms)
    result = DifficultyAdjustment(
        progress_pct=_non_negative(body.get("progressPercent"), 100.000001),
        difficulty_change_pct=_pct(body.get("difficultyChange")),
        estimated_retarget=_unix(retarget_raw),
        remaining_blocks=_height(body.get("remainingBlocks")),
        remaining_s=None if millis is None else _duration_s(body.get("remainingTime"), millis),
        previous_retarget_pct=_pct(body.get("previousRetarget")),
        previous_time=_unix(body.get("previousTime")),
        next_retarget_height=_height(body.get("nextRetargetHeight")),
        time_avg_s=time_avg if time_avg is not None and time_avg <= MAX_BLOCK_INTERVAL_S else None,
        expected_blocks=_non_negative(body.get("expectedBlocks"), 1e6),
        source_ms=millis,
    )
    if (
        result.next_retarget_height is None
        and result.estimated_retarget is None
        and result.difficulty_change_pct is None
    ):
        raise ProtocolError(
            "difficulty adjustment: no nextRetargetHeight, estimatedRetargetDate "
            "or difficultyChange"
        )
    return result


def parse_hashrate(raw: bytes) -> NetworkHashrate:
    """`/api/v1/mining/hashrate/<period>`: `currentHashrate` H/s, `currentDifficulty`."""
    body = _object(raw, "hashrate")
    result = NetworkHashrate(
        hashrate_hs=_positive(body.get("currentHashrate")),
        difficulty=_positive(body.get("currentDifficulty")),
    )
    if result.hashrate_hs is None and result.difficulty is None:
        raise ProtocolError("hashrate: no currentHashrate or currentDifficulty")
    return result


def parse_fees(raw: bytes) -> FeeEstimates:
    """`/api/v1/fees/recommended`, sat/vB."""
    body = _object(raw, "fees")
    result = FeeEstimates(
        fast=_non_negative(body.get("fastestFee"), MAX_FEE_SAT_VB),
        half_hour=_non_negative(body.get("halfHourFee"), MAX_FEE_SAT_VB),
        hour=_non_negative(body.get("hourFee"), MAX_FEE_SAT_VB),
        economy=_non_negative(body.get("economyFee"), MAX_FEE_SAT_VB),
        minimum=_non_negative(body.get("minimumFee"), MAX_FEE_SAT_VB),
    )
    if all(v is None for v in (result.fast, result.half_hour, result.hour, result.economy)):
        raise ProtocolError("fees: no fastestFee, halfHourFee, hourFee or economyFee")
    return result


def parse_prices(raw: bytes, coin: str = BTC) -> PriceQuote:
    """`/api/v1/prices`: every currency with a positive price; `time` when given."""
    body = _object(raw, "prices")
    prices: dict[str, float] = {}
    for key, value in body.items():
        if len(prices) >= MAX_CURRENCIES:
            break
        if isinstance(key, str) and _CURRENCY.match(key):
            price = _positive(value)
            if price is not None:
                prices[key] = price
    if not prices:
        raise ProtocolError("prices: no currency with a positive price")
    return PriceQuote(time=_unix(body.get("time"), millis=False), prices=prices, coin=coin)


def _block(item: Mapping[str, Any]) -> ChainBlock | None:
    height = _height(item.get("height"))
    if height is None:
        return None
    extras = item.get("extras")
    extras = extras if isinstance(extras, Mapping) else {}
    pool = extras.get("pool")
    block_hash = fields.text(item.get("id"), 64)
    return ChainBlock(
        height=height,
        hash=block_hash if block_hash is not None and _HASH.match(block_hash) else None,
        ts=_unix(item.get("timestamp"), millis=False),
        pool=fields.text(pool.get("name"), 100) if isinstance(pool, Mapping) else None,
        fees_sat=_sats(extras.get("totalFees")),
        reward_sat=_sats(extras.get("reward")),
        tx_count=fields.count(item.get("tx_count")),
        difficulty=_positive(item.get("difficulty")),
    )


def parse_blocks(raw: bytes) -> tuple[ChainBlock, ...]:
    """A block list (`/api/v1/blocks` or `/api/blocks`), newest first, one per height."""
    body = decode_json(raw, "blocks")
    if not isinstance(body, list):
        raise ProtocolError(f"blocks: body is a JSON {type(body).__name__}, not an array")
    found: dict[int, ChainBlock] = {}
    for item in body[:MAX_BLOCKS]:
        if isinstance(item, Mapping) and (block := _block(item)) is not None:
            found.setdefault(block.height, block)
    if not found:
        raise ProtocolError("blocks: no block with a valid height")
    return tuple(found[h] for h in sorted(found, reverse=True))
