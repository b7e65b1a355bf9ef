"""Pool accounts: what a pool says about the farm's account there, whatever the pool.

Ocean, public-pool, ckpool (solo), a P2Pool node and the P2Pool observer each map onto
one `PoolAccount`: pool-side hashrate per averaging window, the workers the pool sees,
the unpaid balance and the estimated earnings, payouts and the blocks the pool found.

Units: hashrates in H/s (float); every amount is an exact int of atomic units of its
coin (satoshis for BTC, 10**-12 XMR for Monero), never a float. Windows are labelled
by their length: "1m", "5m", "1h", "1d", "7d" (see `window_label`).

Worker matching and the hashrate-gap rule are pure functions here (`bare_worker`,
`gap_fraction`, `step_gap`); the sync job in the commander applies them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SATS_PER_BTC = 10**8
ATOMIC_PER_XMR = 10**12
# Largest amount the store keeps (BIGINT). All BTC ever is 2.1e15 sats; a single XMR
# payout would need 9.2 million XMR to pass it.
MAX_ATOMIC = 2**63 - 1


class PoolKind(enum.StrEnum):
    OCEAN = "ocean"
    PUBLIC_POOL = "public-pool"
    CKPOOL = "ckpool"
    P2POOL = "p2pool"
    P2POOL_OBSERVER = "p2pool-observer"


COIN_OF: dict[PoolKind, str] = {
    PoolKind.OCEAN: "BTC",
    PoolKind.PUBLIC_POOL: "BTC",
    PoolKind.CKPOOL: "BTC",
    PoolKind.P2POOL: "XMR",
    PoolKind.P2POOL_OBSERVER: "XMR",
}


def window_label(seconds: int) -> str:
    """60 → "1m", 300 → "5m", 3600 → "1h", 86400 → "1d", 45 → "45s"."""
    if seconds > 0 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds > 0 and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds > 0 and seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def window_seconds(label: str) -> int | None:
    """The inverse of `window_label`; None for anything else."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(label) < 2 or label[-1] not in units or not label[:-1].isdigit():
        return None
    return int(label[:-1]) * units[label[-1]]


# The windows a worker's single comparable hashrate is taken from, best first: long
# enough to smooth share luck, short enough to follow a miner that stopped.
PREFERRED_WINDOWS = ("1h", "10m", "15m", "5m", "3h", "2h", "1d", "1m")


def preferred_rate(rates: dict[str, float]) -> float | None:
    """The hashrate of the first window of PREFERRED_WINDOWS the pool reported."""
    for label in PREFERRED_WINDOWS:
        if label in rates:
            return rates[label]
    return None


@dataclass(frozen=True, slots=True)
class PoolWorker:
    """One worker as the pool sees it. `name` is the pool's spelling (ckpool's is
    `address.worker` or the bare address, the others the bare worker name)."""

    name: str
    hashrate_hs: float | None = None
    hashrates: dict[str, float] = field(default_factory=dict)
    last_share: datetime | None = None


@dataclass(frozen=True, slots=True)
class PoolPayout:
    """Money the pool sent. `txid` is the on-chain (or Lightning) id, "" when unknown."""

    ts: datetime
    amount_atomic: int
    coin: str
    txid: str = ""


@dataclass(frozen=True, slots=True)
class PoolBlock:
    """A block found by the pool; `finder` is the address or worker the pool names."""

    height: int
    ts: datetime | None = None
    hash: str = ""
    reward_atomic: int | None = None
    finder: str | None = None


@dataclass(frozen=True, slots=True)
class PoolAccount:
    """One read of one account at one pool; None / empty where the pool did not say."""

    kind: PoolKind
    account: str
    ts: datetime
    coin: str
    hashrates: dict[str, float] = field(default_factory=dict)
    workers: tuple[PoolWorker, ...] = ()
    workers_count: int | None = None
    last_share: datetime | None = None
    unpaid_atomic: int | None = None
    estimated_atomic: int | None = None
    payouts: tuple[PoolPayout, ...] = ()
    blocks: tuple[PoolBlock, ...] = ()
    pool_hashrate_hs: float | None = None
    network_difficulty: float | None = None
    network_height: int | None = None


# ---- worker matching ------------------------------------------------------------------


def bare_worker(user: str | None, account: str) -> str | None:
    """The worker name a stratum user (or a pool's worker name) stands for at `account`,
    lower-cased; None when it mines for another account.

    `address.worker` → `worker` when address is the account (case-insensitive), None when
    it is another address; a name without a dot is already bare (`rig1`, or the bare
    address itself, which ckpool and P2Pool use for a worker without a name).
    """
    if user is None:
        return None
    name = user.strip().lower()
    if not name:
        return None
    head, dot, tail = name.partition(".")
    if not dot:
        return name
    if head == account.strip().lower():
        return tail or head
    return None


def gap_fraction(own_hs: float | None, pool_hs: float | None) -> float | None:
    """|pool - own| / own: how far the pool's figure is from the miner's own; None when
    either is unknown or the miner reports no hashrate (nothing to compare against)."""
    if own_hs is None or pool_hs is None or own_hs <= 0:
        return None
    return abs(pool_hs - own_hs) / own_hs


@dataclass(frozen=True, slots=True)
class GapStep:
    """The state after one observation: `since` is when the current gap began (None:
    no gap), `raise_event` says this observation is the one that raises the event."""

    since: datetime | None
    raised: bool
    raise_event: bool


def step_gap(
    *,
    since: datetime | None,
    raised: bool,
    fraction: float | None,
    now: datetime,
    threshold: float,
    sustain: timedelta,
) -> GapStep:
    """One observation of a (miner, pool account) pair.

    - unknown (`fraction` None): nothing changes; no evidence either way;
    - within the threshold: the episode, if any, ends (nothing is raised for the end);
    - beyond it: an episode starts at `now` unless one is running; the first observation
      at least `sustain` after its start raises the event, once per episode.
    """
    if fraction is None:
        return GapStep(since, raised, False)
    if fraction <= threshold:
        return GapStep(None, False, False)
    start = since or now
    if not raised and now - start >= sustain:
        return GapStep(start, True, True)
    return GapStep(start, raised, False)


# ---- what the API shows --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolSampleView:
    """An account's figures at one sync."""

    ts: datetime
    coin: str
    hashrates: dict[str, float] = field(default_factory=dict)
    workers: int | None = None
    last_share: datetime | None = None
    unpaid_atomic: int | None = None
    estimated_atomic: int | None = None
    pool_hashrate_hs: float | None = None
    network_difficulty: float | None = None
    network_height: int | None = None


@dataclass(frozen=True, slots=True)
class PoolAccountView:
    """A configured account, its sync state and its newest figures."""

    id: int
    kind: PoolKind
    name: str
    base_url: str
    account: str
    interval_s: int
    enabled: bool
    created_at: datetime
    last_sync_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    latest: PoolSampleView | None = None


@dataclass(frozen=True, slots=True)
class PoolWorkerView:
    """A worker as the pool last listed it, and the farm's miners matched to it."""

    name: str
    hashrate_hs: float | None
    hashrates: dict[str, float]
    last_share: datetime | None
    updated_at: datetime
    miner_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PoolAccountDetail:
    account: PoolAccountView
    workers: tuple[PoolWorkerView, ...]
    payouts: tuple[PoolPayout, ...]
    blocks: tuple[PoolBlock, ...]


@dataclass(frozen=True, slots=True)
class MinerPoolView:
    """One miner beside the pool-side worker it was matched to at one account."""

    account_id: int
    account_name: str
    kind: PoolKind
    worker: str
    miner_hashrate_hs: float | None
    pool_hashrate_hs: float | None
    gap_pct: float | None
    gap_since: datetime | None
    gap_raised: bool
    updated_at: datetime
