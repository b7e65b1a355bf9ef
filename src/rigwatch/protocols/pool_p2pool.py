"""A Monero P2Pool node's data API read as a pool account (`PoolAccount`).

The files are parsed by `p2pool_api` (the one parser of that format); this module only
chooses which files a pool sync GETs and maps the node's `P2PoolStats` onto the pool
model: hashrate windows 15m / 1h / 1d, the stratum workers, the side chain's found
blocks, and as estimated earnings the node's share of the next block's reward
(`block_reward_share_percent` times the network reward, exact in piconero). P2Pool pays in
the coinbase of each block, so there is no unpaid balance and no payout list here (the
chain payouts job sees those).

`base_url` is where the `--data-api` directory is served (`<base>/local/stratum`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from rigwatch.domain.p2pool import P2PoolStats
from rigwatch.domain.pools import COIN_OF, MAX_ATOMIC, PoolAccount, PoolBlock, PoolKind, PoolWorker
from rigwatch.protocols import p2pool_api
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.p2pool_api import StatsUpdate
from rigwatch.protocols.pool_json import Endpoint

COIN = COIN_OF[PoolKind.P2POOL]
REQUIRED = p2pool_api.LOCAL_STRATUM
OPTIONAL = (p2pool_api.POOL_STATS, p2pool_api.NETWORK_STATS, p2pool_api.STATS_MOD)


def endpoints(account: str) -> list[Endpoint]:
    """The node's files; `account` (its wallet) is not part of any path."""
    del account
    return [
        Endpoint(REQUIRED, f"/{REQUIRED}", required=True),
        *(Endpoint(name, f"/{name}") for name in OPTIONAL),
        Endpoint(p2pool_api.POOL_BLOCKS, f"/{p2pool_api.POOL_BLOCKS}"),
    ]


def _estimated(stats: P2PoolStats) -> int | None:
    share, reward = stats.block_reward_share_pct, stats.network_reward_atomic
    if share is None or reward is None:
        return None
    value = int(Decimal(repr(share)) * reward / 100)
    return value if 0 <= value <= MAX_ATOMIC else None


def to_account(
    stats: P2PoolStats, blocks: tuple[p2pool_api.PoolBlock, ...], *, account: str
) -> PoolAccount:
    """P2PoolStats (+ pool/blocks) → PoolAccount."""
    rates = {
        label: value
        for label, value in (
            ("15m", stats.hashrate_15m_hs),
            ("1h", stats.hashrate_1h_hs),
            ("1d", stats.hashrate_24h_hs),
        )
        if value is not None
    }
    workers: dict[str, PoolWorker] = {}
    for w in stats.workers:
        name = w.name or w.address
        old = workers.get(name)
        total = (old.hashrate_hs or 0.0 if old else 0.0) + (w.hashrate_hs or 0.0)
        workers[name] = PoolWorker(name=name, hashrate_hs=total, hashrates={"15m": total})
    return PoolAccount(
        kind=PoolKind.P2POOL,
        account=account,
        ts=stats.ts,
        coin=COIN,
        hashrates=rates,
        workers=tuple(workers.values()),
        workers_count=len(stats.workers) if stats.workers else stats.connections,
        estimated_atomic=_estimated(stats),
        blocks=tuple(
            PoolBlock(height=b.height, ts=b.ts, hash=b.hash, reward_atomic=None) for b in blocks
        ),
        pool_hashrate_hs=stats.pool_hashrate_hs,
        network_difficulty=float(stats.network_difficulty)
        if stats.network_difficulty is not None
        else None,
        network_height=stats.network_height,
    )


def build(account: str, ts: datetime, bodies: Mapping[str, bytes]) -> tuple[PoolAccount, list[str]]:
    """A PoolAccount; local/stratum must parse, the other files are optional."""
    if REQUIRED not in bodies:
        raise ProtocolError(f"p2pool: no {REQUIRED} body")
    updates: list[StatsUpdate] = [p2pool_api.parse_file(REQUIRED, bodies[REQUIRED])]
    problems: list[str] = []
    for name in OPTIONAL:
        if name in bodies:
            try:
                updates.append(p2pool_api.parse_file(name, bodies[name]))
            except ProtocolError as exc:
                problems.append(str(exc))
    blocks: tuple[p2pool_api.PoolBlock, ...] = ()
    if p2pool_api.POOL_BLOCKS in bodies:
        try:
            blocks = p2pool_api.parse_pool_blocks(bodies[p2pool_api.POOL_BLOCKS])
        except ProtocolError as exc:
            problems.append(str(exc))
    stats = p2pool_api.merge(updates, ts=ts)
    return to_account(stats, blocks, account=account), problems
