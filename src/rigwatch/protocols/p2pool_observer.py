"""The P2Pool observer's API (p2pool.observer, mini.p2pool.observer) → `PoolAccount`.

A farm without a P2Pool node of its own (or one watching its wallet from outside) reads
its account from the observer, which indexes the whole side chain. Facts from the
observer's Go types and its API page (examples in tests/fixtures/p2pool-observer/):

- the miner goes in the path (`/api/miner_info/<address|id|alias>`); an unknown one is
  HTTP 404 `{"error":"not_found"}`; fields tagged omitempty are absent when zero;
- times are unix seconds, amounts piconero (1 XMR = 10**12), hashes 64 hex characters;
- a `Difficulty` (cumulative, window weight, pool_info difficulties) is 128-bit: a JSON
  number when it fits in 64 bits, else 32 hex characters; older deployments sent the
  hex string even for small values, so both are read;
- no endpoint carries a hashrate. The account's is P2Pool's own estimate: the pool's
  hashrate (side-chain difficulty / block time) times the account's share of the PPLNS
  window's weight. That weight follows P2Pool's rule: a share counts its difficulty,
  an uncle (`uncle_of` set) `100 - uncle_penalty` percent of it, and the share that
  included an uncle the other `uncle_penalty` percent. It is labelled by the window's
  length (window blocks x block time);
- P2Pool pays in the coinbase of every block the pool finds: no unpaid balance; the
  payouts are the account's coinbase outputs (`coinbase_reward`, txid `coinbase_id`);
  the estimated earnings are the account's window share of the main chain's block
  reward, when pool_info carries one (the 2023-04 shape does not);
- the observer knows addresses, not workers: the account has no worker list.

Only `ProtocolError` escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rigwatch.domain.pools import (
    COIN_OF,
    MAX_ATOMIC,
    PoolAccount,
    PoolBlock,
    PoolKind,
    PoolPayout,
    window_label,
)
from rigwatch.protocols import pool_json
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.pool_json import Endpoint

MINER_INFO = "miner_info"
WINDOW = "side_blocks_in_window"
POOL_INFO = "pool_info"
PAYOUTS = "payouts"
FOUND_BLOCKS = "found_blocks"
PAYOUTS_LIMIT = 50
FOUND_BLOCKS_LIMIT = 20
COIN = COIN_OF[PoolKind.P2POOL_OBSERVER]
_HEX_DIFFICULTY_LEN = 32
_MAX_DIFFICULTY = 2**128 - 1


def endpoints(account: str) -> list[Endpoint]:
    """What one sync GETs: the miner (required), its window, the pool, payouts, blocks."""
    miner = pool_json.quote(account)
    return [
        Endpoint(MINER_INFO, f"/api/miner_info/{miner}", required=True),
        Endpoint(WINDOW, f"/api/side_blocks_in_window/{miner}"),
        Endpoint(POOL_INFO, "/api/pool_info"),
        Endpoint(PAYOUTS, f"/api/payouts/{miner}?search_limit={PAYOUTS_LIMIT}"),
        Endpoint(FOUND_BLOCKS, f"/api/found_blocks?limit={FOUND_BLOCKS_LIMIT}"),
    ]


def difficulty(value: object) -> int | None:
    """A `Difficulty`: a whole JSON number, or up to 32 hex characters; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_DIFFICULTY else None
    if isinstance(value, str) and 0 < len(value) <= _HEX_DIFFICULTY_LEN:
        try:
            return int(value, 16)
        except ValueError:
            return None
    return None


def _list(name: str, raw: bytes) -> list[Any]:
    doc = pool_json.decode(name, raw)
    if isinstance(doc, dict) and "error" in doc:
        message = pool_json.text(doc.get("error"), 200) or "an error"
        raise ProtocolError(f"p2pool observer {name}: the observer says {message!r}")
    if not isinstance(doc, list):
        raise ProtocolError(f"p2pool observer {name}: a JSON {type(doc).__name__}, not a list")
    return pool_json.items(doc)


@dataclass(frozen=True, slots=True)
class MinerInfo:
    address: str | None
    last_share: datetime | None
    shares: int | None  # all-time shares in the verified chain
    uncles: int | None


def parse_miner_info(raw: bytes) -> MinerInfo:
    doc = pool_json.decode(MINER_INFO, raw)
    if not isinstance(doc, dict) or "error" in doc:
        message = pool_json.text(doc.get("error"), 200) if isinstance(doc, dict) else None
        raise ProtocolError(f"p2pool observer {MINER_INFO}: {message or 'not a miner object'}")
    if pool_json.count(doc.get("id")) is None and pool_json.text(doc.get("address")) is None:
        raise ProtocolError(f"p2pool observer {MINER_INFO}: neither id nor address")
    # shares[1] counts the shares in the verified side chain ([0] orphans, [2] alternates).
    shares = pool_json.items(doc.get("shares"))
    verified = pool_json.obj(shares[1]) if len(shares) > 1 else {}
    return MinerInfo(
        address=pool_json.text(doc.get("address"), 128),
        last_share=pool_json.unix_time(doc.get("last_share_timestamp")),
        shares=pool_json.count(verified.get("shares")),
        uncles=pool_json.count(verified.get("uncles")),
    )


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """What the account's figures need from `/api/pool_info` (current or 2023-04 shape)."""

    block_time_s: int | None
    uncle_penalty_pct: int | None
    window_blocks: int | None
    window_weight: int | None
    side_difficulty: int | None
    main_difficulty: int | None
    main_height: int | None
    main_reward_atomic: int | None

    @property
    def pool_hashrate_hs(self) -> float | None:
        if not self.side_difficulty or not self.block_time_s:
            return None
        return self.side_difficulty / self.block_time_s


def parse_pool_info(raw: bytes) -> PoolInfo:
    doc = pool_json.decode_object(POOL_INFO, raw)
    side = pool_json.obj(doc.get("sidechain"))
    main = pool_json.obj(doc.get("mainchain"))
    if not side:
        raise ProtocolError(f"p2pool observer {POOL_INFO}: no sidechain")
    consensus = pool_json.obj(side.get("consensus"))
    window = pool_json.obj(side.get("window"))
    last_block = pool_json.obj(side.get("last_block"))
    block_time = pool_json.count(consensus.get("block_time"))
    if block_time is None:
        block_time = pool_json.count(side.get("block_time"))
    penalty = pool_json.count(consensus.get("uncle_penalty"))
    if penalty is None:
        penalty = pool_json.count(side.get("uncle_penalty"))
    blocks = pool_json.count(window.get("blocks"))
    if blocks is None:
        blocks = pool_json.count(side.get("window_size"))
    side_difficulty = difficulty(side.get("difficulty"))
    if side_difficulty is None:
        side_difficulty = difficulty(last_block.get("difficulty"))
    reward = pool_json.atomic(main.get("reward"))
    return PoolInfo(
        block_time_s=block_time or None,
        uncle_penalty_pct=penalty if penalty is not None and penalty <= 100 else None,
        window_blocks=blocks or None,
        window_weight=difficulty(window.get("weight")) or None,
        side_difficulty=side_difficulty or None,
        main_difficulty=difficulty(main.get("difficulty")) or None,
        main_height=pool_json.count(main.get("height")),
        main_reward_atomic=reward if reward is not None and reward <= MAX_ATOMIC else None,
    )


def window_weight(raw: bytes, uncle_penalty_pct: int) -> int:
    """The account's PPLNS weight from its shares in the window (rule: module docstring).

    Entries without a whole `difficulty` count nothing.
    """
    total = 0
    for entry in _list(WINDOW, raw):
        share = pool_json.obj(entry)
        diff = difficulty(share.get("difficulty"))
        if diff is None:
            continue
        if pool_json.text(share.get("uncle_of")):
            total += diff * (100 - uncle_penalty_pct) // 100
            continue
        total += diff
        for uncle in pool_json.items(share.get("uncles")):
            uncle_diff = difficulty(pool_json.obj(uncle).get("difficulty"))
            if uncle_diff is not None:
                total += uncle_diff * uncle_penalty_pct // 100
    return total


def parse_payouts(raw: bytes) -> tuple[PoolPayout, ...]:
    """The account's coinbase outputs; entries without a time or an amount are skipped."""
    payouts: list[PoolPayout] = []
    for entry in _list(PAYOUTS, raw):
        item = pool_json.obj(entry)
        ts = pool_json.unix_time(item.get("timestamp"))
        amount = pool_json.atomic(item.get("coinbase_reward"))
        if ts is None or amount is None:
            continue
        txid = pool_json.text(item.get("coinbase_id"), 64) or ""
        payouts.append(PoolPayout(ts=ts, amount_atomic=amount, coin=COIN, txid=txid))
    return tuple(payouts)


def parse_found_blocks(raw: bytes) -> tuple[PoolBlock, ...]:
    """The pool's Monero blocks, newest first as the observer lists them."""
    blocks: list[PoolBlock] = []
    for entry in _list(FOUND_BLOCKS, raw):
        item = pool_json.obj(entry)
        main = pool_json.obj(item.get("main_block"))
        height = pool_json.count(main.get("height"))
        if height is None:
            continue
        blocks.append(
            PoolBlock(
                height=height,
                ts=pool_json.unix_time(main.get("timestamp")),
                hash=pool_json.text(main.get("id"), 64) or "",
                reward_atomic=pool_json.atomic(main.get("reward")),
                finder=pool_json.text(item.get("miner_alias"), 255)
                or pool_json.text(item.get("miner_address"), 255),
            )
        )
    return tuple(blocks)


@dataclass(frozen=True, slots=True)
class WindowShare:
    """The account's part of the PPLNS window, and what it makes of the pool's figures."""

    label: str
    hashrate_hs: float
    estimated_atomic: int | None


def window_share(weight: int, pool: PoolInfo) -> WindowShare | None:
    """None when pool_info lacks the block time, window or difficulty it needs."""
    if (
        pool.window_weight is None
        or pool.pool_hashrate_hs is None
        or pool.window_blocks is None
        or pool.block_time_s is None
    ):
        return None
    # The shares and pool_info are read a moment apart: a window that moved on between the
    # two could show the account more than the whole window. It never holds more.
    weight = min(weight, pool.window_weight)
    fraction = weight / pool.window_weight
    # Labelled by the window's length, to the minute: 323 blocks of 10 s → "54m".
    minutes = max(1, round(pool.window_blocks * pool.block_time_s / 60))
    estimated = None
    if pool.main_reward_atomic is not None:
        estimated = pool.main_reward_atomic * weight // pool.window_weight
    return WindowShare(window_label(minutes * 60), pool.pool_hashrate_hs * fraction, estimated)


def build(account: str, ts: datetime, bodies: Mapping[str, bytes]) -> tuple[PoolAccount, list[str]]:
    """A PoolAccount; miner_info must parse, every other body costs only its figures."""
    if MINER_INFO not in bodies:
        raise ProtocolError("p2pool observer: no miner_info body")
    miner = parse_miner_info(bodies[MINER_INFO])
    parts = pool_json.OptionalParts(bodies)
    pool: PoolInfo | None = parts.parse(POOL_INFO, parse_pool_info, None)
    payouts = parts.parse(PAYOUTS, parse_payouts, ())
    blocks = parts.parse(FOUND_BLOCKS, parse_found_blocks, ())
    share: WindowShare | None = None
    if pool is not None and WINDOW in bodies:
        penalty = pool.uncle_penalty_pct
        weight = (
            None
            if penalty is None
            else parts.parse(WINDOW, lambda r: window_weight(r, penalty), None)
        )
        share = window_share(weight, pool) if weight is not None else None
        if share is None and (penalty is None or weight is not None):
            # (a window that did not parse has said so already)
            parts.problems.append(
                f"p2pool observer {POOL_INFO}: no window, block time or uncle penalty"
            )
    return (
        PoolAccount(
            kind=PoolKind.P2POOL_OBSERVER,
            account=account,
            ts=ts,
            coin=COIN,
            hashrates={share.label: share.hashrate_hs} if share is not None else {},
            last_share=miner.last_share,
            estimated_atomic=share.estimated_atomic if share is not None else None,
            payouts=payouts,
            blocks=blocks,
            pool_hashrate_hs=pool.pool_hashrate_hs if pool is not None else None,
            network_difficulty=float(pool.main_difficulty)
            if pool is not None and pool.main_difficulty is not None
            else None,
            network_height=pool.main_height if pool is not None else None,
        ),
        parts.problems,
    )
