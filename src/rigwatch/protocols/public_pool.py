"""public-pool (benjamin-wilson/public-pool) API bodies → `PoolAccount`.

Facts from PROTOCOLS.md 5.2 and the pool's source (controllers and ORM services; NO real
response was found, so tests build payloads from these names and say so):

- `GET /api/client/<address>` → `{bestDifficulty, workersCount, workers:[{sessionId, name,
  bestDifficulty, hashRate, startTime, lastSeen}]}`; one entry per stratum session, so a
  worker name running on two machines appears twice (summed here). `hashRate` is H/s
  over the pool's 10-minute share slots; times are ISO strings (JS Dates). The older
  source sends `id` instead of `sessionId` and no `lastSeen`.
- Newer hosted versions add `accounting{hashRateLast10Minutes, hashRateLastHour, ...}`
  (account-wide H/s) and `expectedPayout{payoutSats, ...}` (null in solo mode).
- `GET /api/info` → `{blockData:[{height, minerAddress, worker, sessionId, blockHash?}],
  userAgents, highScores, uptime}`: the pool's found blocks.
- `GET /api/network` → bitcoind's `getmininginfo` (`blocks`, `difficulty`, ...).

The account's base URL ends in `/api` (https://public-pool.io:40557/api). Only
`ProtocolError` escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rigwatch.domain.pools import COIN_OF, PoolAccount, PoolBlock, PoolKind, PoolWorker
from rigwatch.protocols import pool_json
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.pool_json import Endpoint

CLIENT = "client"
INFO = "info"
NETWORK = "network"
COIN = COIN_OF[PoolKind.PUBLIC_POOL]
# public-pool's hashRate is over two 10-minute share slots.
SESSION_WINDOW = "10m"


def endpoints(account: str) -> list[Endpoint]:
    return [
        Endpoint(CLIENT, f"/client/{pool_json.quote(account)}", required=True),
        Endpoint(INFO, "/info"),
        Endpoint(NETWORK, "/network"),
    ]


def parse_client(raw: bytes) -> dict[str, Any]:
    """`/api/client/<address>` → workers (sessions summed by name), hashrates, estimate."""
    doc = pool_json.decode_object("public-pool client", raw)
    if "workers" not in doc and "workersCount" not in doc:
        raise ProtocolError("public-pool client: no workers or workersCount")
    rates: dict[str, float] = {}
    last: dict[str, datetime | None] = {}
    for entry in pool_json.items(doc.get("workers")):
        item = pool_json.obj(entry)
        name = pool_json.text(item.get("name"), 255)
        if name is None:
            continue
        hs = pool_json.rate(item.get("hashRate"))
        rates[name] = rates.get(name, 0.0) + (hs or 0.0)
        seen = pool_json.iso_time(item.get("lastSeen")) or pool_json.unix_time(item.get("lastSeen"))
        previous = last.get(name)
        last[name] = max(seen, previous) if seen and previous else seen or previous
    workers = tuple(
        PoolWorker(name=n, hashrate_hs=hs, hashrates={SESSION_WINDOW: hs}, last_share=last[n])
        for n, hs in rates.items()
    )
    accounting = pool_json.obj(doc.get("accounting"))
    account_rates: dict[str, float] = {}
    for key, label in (("hashRateLast10Minutes", "10m"), ("hashRateLastHour", "1h")):
        hs = pool_json.rate(accounting.get(key))
        if hs is not None:
            account_rates[label] = hs
    if SESSION_WINDOW not in account_rates and workers:
        account_rates[SESSION_WINDOW] = sum(rates.values())
    shares = [w.last_share for w in workers if w.last_share is not None]
    return {
        "hashrates": account_rates,
        "workers": workers,
        "workers_count": pool_json.count(doc.get("workersCount")),
        "last_share": max(shares, default=None),
        "estimated_atomic": pool_json.atomic(
            pool_json.obj(doc.get("expectedPayout")).get("payoutSats")
        ),
    }


def parse_info(raw: bytes) -> tuple[PoolBlock, ...]:
    """`/api/info` → the pool's found blocks (entries without a height are skipped)."""
    doc = pool_json.decode_object("public-pool info", raw)
    blocks: list[PoolBlock] = []
    for entry in pool_json.items(doc.get("blockData")):
        item = pool_json.obj(entry)
        height = pool_json.count(item.get("height"))
        if height is None:
            continue
        blocks.append(
            PoolBlock(
                height=height,
                ts=pool_json.iso_time(item.get("createdAt")),
                hash=pool_json.text(item.get("blockHash"), 64) or "",
                finder=pool_json.text(item.get("minerAddress"), 255),
            )
        )
    return tuple(blocks)


def parse_network(raw: bytes) -> dict[str, Any]:
    """`/api/network` (getmininginfo) → network height and difficulty."""
    doc = pool_json.decode_object("public-pool network", raw)
    difficulty = pool_json.number(doc.get("difficulty"))
    return {
        "network_height": pool_json.count(doc.get("blocks")),
        "network_difficulty": difficulty if difficulty is not None and difficulty > 0 else None,
    }


def build(account: str, ts: datetime, bodies: Mapping[str, bytes]) -> tuple[PoolAccount, list[str]]:
    """A PoolAccount; the client body must parse, info and network are optional."""
    if CLIENT not in bodies:
        raise ProtocolError("public-pool: no client body")
    client = parse_client(bodies[CLIENT])
    parts = pool_json.OptionalParts(bodies)
    blocks: tuple[PoolBlock, ...] = parts.parse(INFO, parse_info, ())
    network: dict[str, Any] = parts.parse(NETWORK, parse_network, {})
    return (
        PoolAccount(
            kind=PoolKind.PUBLIC_POOL,
            account=account,
            ts=ts,
            coin=COIN,
            hashrates=client["hashrates"],
            workers=client["workers"],
            workers_count=client["workers_count"],
            last_share=client["last_share"],
            estimated_atomic=client["estimated_atomic"],
            blocks=blocks,
            network_height=network.get("network_height"),
            network_difficulty=network.get("network_difficulty"),
        ),
        parts.problems,
    )
