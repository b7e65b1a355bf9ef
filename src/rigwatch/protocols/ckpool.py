"""ckpool (solo.ckpool.org and any ckpool's `logs/`): per-user JSON and pool.status.

Facts from PROTOCOLS.md 5.3 and the real bodies in tests/fixtures/ckpool/: hashrates are
strings of `%.3g` with an SI suffix ("4.57G", "85.4T", "1e+03T", plain "0"), times are
unix seconds, `workers` counts the connected workers (0 while the list still holds idle
ones), a worker's `workername` is `address.worker` or the bare address. Solo mining pays
the block reward straight to the address, so there is no balance and no payout list.

`pool/pool.status` is three JSON objects on three lines (counts, hashrates, shares).
Only `ProtocolError` escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rigwatch.domain.pools import (
    COIN_OF,
    PoolAccount,
    PoolKind,
    PoolWorker,
    preferred_rate,
)
from rigwatch.protocols import pool_json
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.pool_json import Endpoint

USER_PATH = "/users/{account}"
POOL_STATUS_PATH = "/pool/pool.status"
MAX_WORKERS = 10_000


def _rates(doc: Mapping[str, Any]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for key, value in doc.items():
        label = pool_json.window_of(key) if isinstance(key, str) else None
        hs = pool_json.si_rate(value)
        if label is not None and hs is not None:
            rates[label] = hs
    return rates


def _worker(entry: object) -> PoolWorker | None:
    item = pool_json.obj(entry)
    name = pool_json.text(item.get("workername"), 255)
    if name is None:
        return None
    rates = _rates(item)
    return PoolWorker(
        name=name,
        hashrate_hs=preferred_rate(rates),
        hashrates=rates,
        last_share=pool_json.unix_time(item.get("lastshare")),
    )


def parse_user(raw: bytes, *, account: str, ts: datetime) -> PoolAccount:
    """`/users/<address>` → PoolAccount (no balance, payouts or blocks: solo)."""
    doc = pool_json.decode_object("ckpool user", raw)
    if not any(k in doc for k in ("hashrate1m", "hashrate5m", "hashrate1hr", "worker")):
        raise ProtocolError("ckpool user: no hashrate or worker field")
    workers = tuple(
        w for w in map(_worker, pool_json.items(doc.get("worker"))[:MAX_WORKERS]) if w is not None
    )
    return PoolAccount(
        kind=PoolKind.CKPOOL,
        account=account,
        ts=ts,
        coin=COIN_OF[PoolKind.CKPOOL],
        hashrates=_rates(doc),
        workers=workers,
        workers_count=pool_json.count(doc.get("workers")),
        last_share=pool_json.unix_time(doc.get("lastshare")),
    )


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """The whole pool: hashrate per window and how many users and workers it has."""

    hashrates: dict[str, float] = field(default_factory=dict)
    users: int | None = None
    workers: int | None = None
    updated: datetime | None = None

    @property
    def hashrate_hs(self) -> float | None:
        return preferred_rate(self.hashrates)


def parse_pool_status(raw: bytes) -> PoolStatus:
    """`pool/pool.status`: one JSON object per line; lines that are not are skipped, and
    a body with no object at all is a ProtocolError."""
    if len(raw) > pool_json.MAX_BODY_BYTES:
        raise ProtocolError(f"ckpool pool.status: {len(raw)} bytes is too large")
    merged: dict[str, Any] = {}
    found = False
    for line in raw.splitlines()[:100]:
        if not line.strip():
            continue
        try:
            doc = pool_json.decode_object("ckpool pool.status line", line)
        except ProtocolError:
            continue
        found = True
        for key, value in doc.items():
            merged.setdefault(key, value)
    if not found:
        raise ProtocolError("ckpool pool.status: no JSON object on any line")
    return PoolStatus(
        hashrates=_rates(merged),
        users=pool_json.count(merged.get("Users")),
        workers=pool_json.count(merged.get("Workers")),
        updated=pool_json.unix_time(merged.get("lastupdate")),
    )


USER = "user"
POOL_STATUS = "pool_status"


def endpoints(account: str) -> list[Endpoint]:
    return [
        Endpoint(USER, USER_PATH.format(account=pool_json.quote(account)), required=True),
        Endpoint(POOL_STATUS, POOL_STATUS_PATH),
    ]


def build(account: str, ts: datetime, bodies: Mapping[str, bytes]) -> tuple[PoolAccount, list[str]]:
    """A PoolAccount; the user body must parse, pool.status is optional."""
    if USER not in bodies:
        raise ProtocolError("ckpool: no user body")
    found = parse_user(bodies[USER], account=account, ts=ts)
    parts = pool_json.OptionalParts(bodies)
    status = parts.parse(POOL_STATUS, parse_pool_status, None)
    if status is not None:
        found = replace(found, pool_hashrate_hs=status.hashrate_hs)
    return found, parts.problems
