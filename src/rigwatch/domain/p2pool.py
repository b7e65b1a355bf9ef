"""A Monero P2Pool node: what its log says happened and what its data API says now.

Amounts are atomic units (1 XMR = 10**12) held as int, so a payout of any size is
exact; hashrates H/s. For RandomX a share's difficulty is its expected hash count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ATOMIC_PER_XMR = 10**12


@dataclass(frozen=True, slots=True)
class P2PoolWorker:
    """One stratum connection of the node (`local/stratum` `workers`)."""

    address: str
    uptime_s: int | None = None
    difficulty: int | None = None
    hashrate_hs: float | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class P2PoolStats:
    """The node's figures at one time; None where its data API did not say."""

    ts: datetime
    hashrate_15m_hs: float | None = None
    hashrate_1h_hs: float | None = None
    hashrate_24h_hs: float | None = None
    total_hashes: int | None = None
    shares_found: int | None = None
    shares_failed: int | None = None
    average_effort_pct: float | None = None
    current_effort_pct: float | None = None
    block_reward_share_pct: float | None = None
    connections: int | None = None
    wallet: str | None = None
    workers: tuple[P2PoolWorker, ...] = ()
    peers: int | None = None
    sidechain_height: int | None = None
    sidechain_difficulty: int | None = None
    pool_hashrate_hs: float | None = None
    pool_miners: int | None = None
    pool_blocks_found: int | None = None
    network_height: int | None = None
    network_difficulty: int | None = None
    network_reward_atomic: int | None = None
