"""Monero P2Pool `--data-api` directory files → `P2PoolStats`.

Facts from PROTOCOLS.md 4.2: p2pool writes compact JSON objects (some people serve
them pretty-printed; both parse), hashrates in H/s, amounts atomic. `local/` exists
only with `--local-api`, `local/miner` only with the built-in miner, and fields come
and go between versions, so every field is optional; a file that is not a JSON object
is a `ProtocolError`, and nothing else is raised.

Each file is parsed on its own into field updates so one garbled file costs only its
own fields; `merge` combines them, the first file that says a field winning, in the
order of `FILES` (the node's own figures before the pool-wide summaries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from rigwatch.domain.p2pool import P2PoolStats, P2PoolWorker
from rigwatch.protocols import fields
from rigwatch.protocols.errors import ProtocolError

# Relative paths inside the data-api directory, in precedence order.
LOCAL_STRATUM = "local/stratum"
LOCAL_P2P = "local/p2p"
POOL_STATS = "pool/stats"
NETWORK_STATS = "network/stats"
STATS_MOD = "stats_mod"
LOCAL_MINER = "local/miner"
FILES = (LOCAL_STRATUM, LOCAL_P2P, POOL_STATS, NETWORK_STATS, STATS_MOD, LOCAL_MINER)
POOL_BLOCKS = "pool/blocks"

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_WORKERS = 10_000

# Field updates for P2PoolStats (names are its field names).
StatsUpdate = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PoolBlock:
    """A Monero block the whole P2Pool side chain found (`pool/blocks`)."""

    height: int
    hash: str
    ts: datetime
    difficulty: int | None = None
    total_hashes: int | None = None


def _load(name: str, raw: bytes) -> object:
    if len(raw) > MAX_FILE_BYTES:
        raise ProtocolError(f"{name}: {len(raw)} bytes is more than p2pool writes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"{name}: not JSON: {exc}") from None


def decode(name: str, raw: bytes) -> Mapping[str, Any]:
    """The JSON object a data-api file holds, or ProtocolError."""
    value = _load(name, raw)
    if not isinstance(value, dict):
        raise ProtocolError(f"{name}: a JSON {type(value).__name__}, not an object")
    return value


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rate(value: object) -> float | None:
    result = fields.num(value)
    return result if result is not None and result >= 0 else None


def _pct(value: object) -> float | None:
    result = fields.num(value)
    return result if result is not None and 0 <= result < 1e9 else None


def _worker(entry: object) -> P2PoolWorker | None:
    """`"ip:port,uptime_s,difficulty,hashrate,name"`; the name may itself hold commas."""
    if not isinstance(entry, str) or not entry or len(entry) > 1024:
        return None
    parts = entry.split(",", 4)
    address = fields.text(parts[0], 64)
    if address is None:
        return None
    rest = [*parts[1:], None, None, None, None][:4]
    return P2PoolWorker(
        address=address,
        uptime_s=fields.count(rest[0]),
        difficulty=fields.count(rest[1]),
        hashrate_hs=_rate(rest[2]),
        name=fields.text(rest[3], 128),
    )


def parse_local_stratum(raw: bytes) -> StatsUpdate:
    doc = decode(LOCAL_STRATUM, raw)
    workers_raw = doc.get("workers")
    workers = (
        tuple(w for w in map(_worker, workers_raw[:MAX_WORKERS]) if w is not None)
        if isinstance(workers_raw, list)
        else ()
    )
    return {
        "hashrate_15m_hs": _rate(doc.get("hashrate_15m")),
        "hashrate_1h_hs": _rate(doc.get("hashrate_1h")),
        "hashrate_24h_hs": _rate(doc.get("hashrate_24h")),
        "total_hashes": fields.count(doc.get("total_hashes")),
        "shares_found": fields.count(doc.get("shares_found")),
        "shares_failed": fields.count(doc.get("shares_failed")),
        "average_effort_pct": _pct(doc.get("average_effort")),
        "current_effort_pct": _pct(doc.get("current_effort")),
        "block_reward_share_pct": _pct(doc.get("block_reward_share_percent")),
        "connections": fields.count(doc.get("connections")),
        "wallet": fields.text(doc.get("wallet"), 128),
        "workers": workers,
    }


def parse_local_p2p(raw: bytes) -> StatsUpdate:
    doc = decode(LOCAL_P2P, raw)
    return {"peers": fields.count(doc.get("connections"))}


def parse_pool_stats(raw: bytes) -> StatsUpdate:
    stats = _obj(decode(POOL_STATS, raw).get("pool_statistics"))
    return {
        "pool_hashrate_hs": _rate(stats.get("hashRate")),
        "pool_miners": fields.count(stats.get("miners")),
        "pool_blocks_found": fields.count(stats.get("totalBlocksFound")),
        "sidechain_height": fields.count(stats.get("sidechainHeight")),
        "sidechain_difficulty": fields.count(stats.get("sidechainDifficulty")),
    }


def parse_network_stats(raw: bytes) -> StatsUpdate:
    doc = decode(NETWORK_STATS, raw)
    return {
        "network_height": fields.count(doc.get("height")),
        "network_difficulty": fields.count(doc.get("difficulty")),
        "network_reward_atomic": fields.count(doc.get("reward")),
    }


def parse_stats_mod(raw: bytes) -> StatsUpdate:
    doc = decode(STATS_MOD, raw)
    pool = _obj(doc.get("pool"))
    return {
        "network_height": fields.count(_obj(doc.get("network")).get("height")),
        "pool_miners": fields.count(pool.get("miners")),
        "pool_hashrate_hs": _rate(pool.get("hashrate")),
    }


def parse_local_miner(raw: bytes) -> StatsUpdate:
    """The built-in miner: its figures stand in only where there is no stratum file."""
    doc = decode(LOCAL_MINER, raw)
    return {
        "hashrate_15m_hs": _rate(doc.get("current_hashrate")),
        "total_hashes": fields.count(doc.get("total_hashes")),
        "shares_found": fields.count(doc.get("shares_found")),
        "shares_failed": fields.count(doc.get("shares_failed")),
        "block_reward_share_pct": _pct(doc.get("block_reward_share_percent")),
    }


def parse_pool_blocks(raw: bytes) -> tuple[PoolBlock, ...]:
    """`pool/blocks`: the newest blocks found by the pool; entries without height, hash
    or time are skipped."""
    value = _load(POOL_BLOCKS, raw)
    if not isinstance(value, list):
        raise ProtocolError(f"{POOL_BLOCKS}: a JSON {type(value).__name__}, not a list")
    blocks: list[PoolBlock] = []
    for entry in value[:1000]:
        item = _obj(entry)
        height = fields.count(item.get("height"))
        block_hash = fields.text(item.get("hash"), 64)
        unix = fields.count(item.get("ts"))
        if height is None or block_hash is None or unix is None or unix > 2**34:
            continue
        blocks.append(
            PoolBlock(
                height=height,
                hash=block_hash,
                ts=datetime.fromtimestamp(unix, UTC),
                difficulty=fields.count(item.get("difficulty")),
                total_hashes=fields.count(item.get("totalHashes")),
            )
        )
    return tuple(blocks)


PARSERS = {
    LOCAL_STRATUM: parse_local_stratum,
    LOCAL_P2P: parse_local_p2p,
    POOL_STATS: parse_pool_stats,
    NETWORK_STATS: parse_network_stats,
    STATS_MOD: parse_stats_mod,
    LOCAL_MINER: parse_local_miner,
}


def parse_file(name: str, raw: bytes) -> StatsUpdate:
    """Field updates from one data-api file (`name` as in FILES); ProtocolError on garbage."""
    parser = PARSERS.get(name)
    if parser is None:
        raise ProtocolError(f"{name!r} is not a data-api file rigwatch reads")
    return parser(raw)


def merge(updates: Iterable[StatsUpdate], *, ts: datetime) -> P2PoolStats:
    """One P2PoolStats; for each field the first update with a value wins."""
    merged: StatsUpdate = {}
    for update in updates:
        for name, value in update.items():
            if value is not None and value != () and merged.get(name) in (None, ()):
                merged[name] = value
    return replace(P2PoolStats(ts=ts), **merged)


def parse_data_api(files: Mapping[str, bytes], *, ts: datetime) -> P2PoolStats:
    """All files at once, strictly: any garbled file is a ProtocolError. Absent → None."""
    return merge((parse_file(name, files[name]) for name in FILES if name in files), ts=ts)
