"""Pool accounts in the store: configuration, sync state, what each sync read, and the
worker-gap episodes. The sync job (commander/pool_sync.py) calls these in short
transactions of its own, one per account, after each fetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, cast, delete, func, select, update
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.models import EventKind
from rigwatch.domain.pools import (
    MinerPoolView,
    PoolAccount,
    PoolAccountDetail,
    PoolAccountView,
    PoolBlock,
    PoolKind,
    PoolPayout,
    PoolSampleView,
    PoolWorkerView,
    gap_fraction,
)
from rigwatch.store import jsontext
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.tables import (
    events,
    miner_state,
    miners,
    pool_account_samples,
    pool_accounts,
    pool_blocks,
    pool_miner_gaps,
    pool_payouts,
    pool_workers,
)
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

MAX_ERROR_CHARS = 500
# A worker the pool has not listed for this long is forgotten.
WORKER_FORGET = timedelta(days=7)
DETAIL_LIMIT = 200


class AccountExists(ValueError):
    """An account of this kind, base URL and account name is already configured."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What the sync needs to fetch one account."""

    id: int
    kind: PoolKind
    name: str
    base_url: str
    account: str
    last_success_at: datetime | None


# ---- configuration ---------------------------------------------------------------------


def add_account(
    conn: Connection,
    *,
    kind: PoolKind,
    name: str,
    base_url: str,
    account: str,
    interval_s: int,
    now: datetime,
    enabled: bool = True,
) -> int:
    """A new account; AccountExists when (kind, base_url, account) is already there."""
    existing = conn.execute(
        select(pool_accounts.c.id).where(
            pool_accounts.c.kind == str(kind),
            pool_accounts.c.base_url == base_url,
            pool_accounts.c.account == account,
        )
    ).first()
    if existing is not None:
        raise AccountExists(f"{kind} account {account!r} at {base_url} exists (id {existing.id})")
    new_id: int = conn.execute(
        pool_accounts.insert()
        .values(
            kind=str(kind),
            name=name,
            base_url=base_url,
            account=account,
            interval_s=interval_s,
            enabled=enabled,
            created_at=to_us(now),
            consecutive_failures=0,
        )
        .returning(pool_accounts.c.id)
    ).scalar_one()
    return int(new_id)


def delete_account(conn: Connection, account_id: int) -> bool:
    """Remove an account and everything read for it (its events stay)."""
    for table in (pool_miner_gaps, pool_blocks, pool_payouts, pool_workers, pool_account_samples):
        conn.execute(delete(table).where(table.c.account_id == account_id))
    result = conn.execute(delete(pool_accounts).where(pool_accounts.c.id == account_id))
    return result.rowcount > 0


def _ref(row: Row[Any]) -> AccountRef:
    return AccountRef(
        id=row.id,
        kind=PoolKind(row.kind),
        name=row.name,
        base_url=row.base_url,
        account=row.account,
        last_success_at=from_us_opt(row.last_success_at),
    )


def due_accounts(conn: Connection, now: datetime) -> list[AccountRef]:
    """Enabled accounts never synced, or last synced at least their interval ago."""
    now_us = to_us(now)
    query = (
        select(pool_accounts)
        .where(
            pool_accounts.c.enabled.is_(True),
            (pool_accounts.c.last_sync_at.is_(None))
            | (
                pool_accounts.c.last_sync_at
                + cast(pool_accounts.c.interval_s, BigInteger) * 1_000_000
                <= now_us
            ),
        )
        .order_by(pool_accounts.c.id)
    )
    return [_ref(row) for row in conn.execute(query)]


def account_ref(conn: Connection, account_id: int) -> AccountRef | None:
    row = conn.execute(select(pool_accounts).where(pool_accounts.c.id == account_id)).first()
    return None if row is None else _ref(row)


# ---- what a sync read ------------------------------------------------------------------


def record_failure(conn: Connection, account_id: int, now: datetime, error: str) -> None:
    conn.execute(
        update(pool_accounts)
        .where(pool_accounts.c.id == account_id)
        .values(
            last_sync_at=to_us(now),
            consecutive_failures=pool_accounts.c.consecutive_failures + 1,
            last_error=error[:MAX_ERROR_CHARS],
        )
    )


def record_success(
    conn: Connection,
    account_id: int,
    now: datetime,
    found: PoolAccount,
    problems: Sequence[str] = (),
) -> None:
    """Store one read: a sample, the workers (upserted), new payouts and blocks (each
    once, whatever how often the pool repeats them); the sync state is reset, with the
    optional parts that failed kept as `last_error`."""
    now_us = to_us(now)
    conn.execute(
        insert_ignore(conn, pool_account_samples),
        [
            {
                "account_id": account_id,
                "ts": now_us,
                "hashrates": jsontext.dumps(found.hashrates),
                "workers": found.workers_count,
                "last_share_ts": to_us(found.last_share) if found.last_share else None,
                "unpaid_atomic": found.unpaid_atomic,
                "estimated_atomic": found.estimated_atomic,
                "coin": found.coin,
                "pool_hashrate_hs": found.pool_hashrate_hs,
                "network_difficulty": found.network_difficulty,
                "network_height": found.network_height,
            }
        ],
    )
    if found.workers:
        stmt = insert_for(conn, pool_workers)
        stmt = stmt.on_conflict_do_update(
            index_elements=[pool_workers.c.account_id, pool_workers.c.name],
            set_={
                "hashrate_hs": stmt.excluded.hashrate_hs,
                "hashrates": stmt.excluded.hashrates,
                "last_share_ts": func.coalesce(
                    stmt.excluded.last_share_ts, pool_workers.c.last_share_ts
                ),
                "updated_at": stmt.excluded.updated_at,
            },
        )
        conn.execute(
            stmt,
            [
                {
                    "account_id": account_id,
                    "name": w.name[:255],
                    "hashrate_hs": w.hashrate_hs,
                    "hashrates": jsontext.dumps(w.hashrates),
                    "last_share_ts": to_us(w.last_share) if w.last_share else None,
                    "updated_at": now_us,
                }
                for w in _unique_workers(found)
            ],
        )
    conn.execute(
        delete(pool_workers).where(
            pool_workers.c.account_id == account_id,
            pool_workers.c.updated_at < to_us(now - WORKER_FORGET),
        )
    )
    if found.payouts:
        conn.execute(
            insert_ignore(conn, pool_payouts),
            [
                {
                    "account_id": account_id,
                    "ts": to_us(p.ts),
                    "txid": p.txid[:200],
                    "amount_atomic": p.amount_atomic,
                    "coin": p.coin,
                    "first_seen": now_us,
                }
                for p in found.payouts
            ],
        )
    if found.blocks:
        conn.execute(
            insert_ignore(conn, pool_blocks),
            [
                {
                    "account_id": account_id,
                    "height": b.height,
                    "hash": b.hash[:64],
                    "ts": to_us(b.ts) if b.ts else None,
                    "reward_atomic": b.reward_atomic,
                    "finder": b.finder[:255] if b.finder else None,
                    "first_seen": now_us,
                }
                for b in found.blocks
            ],
        )
    conn.execute(
        update(pool_accounts)
        .where(pool_accounts.c.id == account_id)
        .values(
            last_sync_at=now_us,
            last_success_at=now_us,
            consecutive_failures=0,
            last_error="; ".join(problems)[:MAX_ERROR_CHARS] if problems else None,
        )
    )


def _unique_workers(found: PoolAccount) -> Iterable[Any]:
    seen: dict[str, Any] = {}
    for worker in found.workers:
        seen.setdefault(worker.name[:255], worker)
    return seen.values()


# ---- worker matching -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FarmMiner:
    """A miner's names and its own latest hashrate, for worker matching."""

    id: int
    sentry_id: int
    worker: str | None
    pool_user: str | None
    hashrate_hs: float | None
    last_sample: datetime | None


def farm_miners(conn: Connection) -> list[FarmMiner]:
    query = (
        select(
            miners.c.id,
            miners.c.sentry_id,
            miners.c.worker,
            miner_state.c.pool_user,
            miner_state.c.hashrate_hs,
            miner_state.c.last_sample_ts,
        )
        .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
        .order_by(miners.c.id)
    )
    return [
        FarmMiner(
            id=row.id,
            sentry_id=row.sentry_id,
            worker=row.worker,
            pool_user=row.pool_user,
            hashrate_hs=row.hashrate_hs,
            last_sample=from_us_opt(row.last_sample_ts),
        )
        for row in conn.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class GapState:
    since: datetime | None
    raised: bool


def gap_states(conn: Connection, account_id: int) -> dict[int, GapState]:
    rows = conn.execute(
        select(
            pool_miner_gaps.c.miner_id, pool_miner_gaps.c.gap_since, pool_miner_gaps.c.gap_raised
        ).where(pool_miner_gaps.c.account_id == account_id)
    )
    return {r.miner_id: GapState(from_us_opt(r.gap_since), bool(r.gap_raised)) for r in rows}


@dataclass(frozen=True, slots=True)
class GapRow:
    miner_id: int
    worker: str
    pool_hashrate_hs: float | None
    miner_hashrate_hs: float | None
    since: datetime | None
    raised: bool


def save_gaps(conn: Connection, account_id: int, rows: Sequence[GapRow], now: datetime) -> None:
    """Replace the account's matches with `rows` (miners no longer matched are dropped,
    and with them any running episode)."""
    conn.execute(delete(pool_miner_gaps).where(pool_miner_gaps.c.account_id == account_id))
    if rows:
        conn.execute(
            pool_miner_gaps.insert(),
            [
                {
                    "account_id": account_id,
                    "miner_id": r.miner_id,
                    "worker": r.worker[:255],
                    "pool_hashrate_hs": r.pool_hashrate_hs,
                    "miner_hashrate_hs": r.miner_hashrate_hs,
                    "gap_since": to_us(r.since) if r.since else None,
                    "gap_raised": r.raised,
                    "updated_at": to_us(now),
                }
                for r in rows
            ],
        )


def gap_event_key(account_id: int, miner_id: int, since: datetime) -> str:
    """The natural key of one episode: one event per (account, miner, episode start)."""
    return f"pool_hashrate_gap:{account_id}:{miner_id}:{to_us(since)}"


def raise_gap_event(
    conn: Connection,
    *,
    miner: FarmMiner,
    account: AccountRef,
    row: GapRow,
    now: datetime,
    fraction: float,
) -> None:
    """Append the episode's event (ignored if its key is already stored)."""
    assert row.since is not None  # noqa: S101 - only raised for a running episode
    pct = round(fraction * 100, 1)
    data = {
        "account_id": account.id,
        "pool": str(account.kind),
        "account_name": account.name,
        "worker": row.worker,
        "pool_hashrate_hs": row.pool_hashrate_hs,
        "miner_hashrate_hs": row.miner_hashrate_hs,
        "gap_pct": pct,
        "since": row.since.isoformat(),
    }
    conn.execute(
        insert_ignore(conn, events),
        [
            {
                "ts": to_us(now),
                "kind": str(EventKind.POOL_HASHRATE_GAP),
                "key": gap_event_key(account.id, miner.id, row.since),
                "sentry_id": miner.sentry_id,
                "miner_id": miner.id,
                "host_id": None,
                "message": (
                    f"{account.name}: worker {row.worker} is {pct}% off the miner's own "
                    f"hashrate since {row.since.isoformat()}"
                ),
                "data": jsontext.dumps(data),
            }
        ],
    )


# ---- reads -----------------------------------------------------------------------------


def _sample(row: Row[Any], prefix: str = "") -> PoolSampleView:
    def col(name: str) -> Any:
        return getattr(row, f"{prefix}{name}")

    return PoolSampleView(
        ts=from_us(col("ts")),
        coin=col("coin"),
        hashrates=jsontext.loads(col("hashrates")) or {},
        workers=col("workers"),
        last_share=from_us_opt(col("last_share_ts")),
        unpaid_atomic=col("unpaid_atomic"),
        estimated_atomic=col("estimated_atomic"),
        pool_hashrate_hs=col("pool_hashrate_hs"),
        network_difficulty=col("network_difficulty"),
        network_height=col("network_height"),
    )


def list_accounts(conn: Connection, account_id: int | None = None) -> list[PoolAccountView]:
    """Every account (or one) with its sync state and newest sample."""
    newest = (
        select(
            pool_account_samples.c.account_id,
            func.max(pool_account_samples.c.ts).label("ts"),
        )
        .group_by(pool_account_samples.c.account_id)
        .subquery()
    )
    latest = (
        select(pool_account_samples)
        .join(
            newest,
            and_(
                newest.c.account_id == pool_account_samples.c.account_id,
                newest.c.ts == pool_account_samples.c.ts,
            ),
        )
        .subquery()
    )
    query = (
        select(pool_accounts, *(c.label(f"s_{c.name}") for c in latest.c))
        .outerjoin(latest, latest.c.account_id == pool_accounts.c.id)
        .order_by(pool_accounts.c.id)
    )
    if account_id is not None:
        query = query.where(pool_accounts.c.id == account_id)
    return [
        PoolAccountView(
            id=row.id,
            kind=PoolKind(row.kind),
            name=row.name,
            base_url=row.base_url,
            account=row.account,
            interval_s=row.interval_s,
            enabled=bool(row.enabled),
            created_at=from_us(row.created_at),
            last_sync_at=from_us_opt(row.last_sync_at),
            last_success_at=from_us_opt(row.last_success_at),
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            latest=_sample(row, "s_") if row.s_ts is not None else None,
        )
        for row in conn.execute(query)
    ]


def account_detail(conn: Connection, account_id: int) -> PoolAccountDetail | None:
    """An account with its workers (and the miners matched to each), newest payouts and
    blocks first."""
    found = list_accounts(conn, account_id)
    if not found:
        return None
    matched: dict[str, list[int]] = {}
    for row in conn.execute(
        select(pool_miner_gaps.c.worker, pool_miner_gaps.c.miner_id)
        .where(pool_miner_gaps.c.account_id == account_id)
        .order_by(pool_miner_gaps.c.miner_id)
    ):
        matched.setdefault(row.worker, []).append(row.miner_id)
    workers = tuple(
        PoolWorkerView(
            name=row.name,
            hashrate_hs=row.hashrate_hs,
            hashrates=jsontext.loads(row.hashrates) or {},
            last_share=from_us_opt(row.last_share_ts),
            updated_at=from_us(row.updated_at),
            miner_ids=tuple(matched.get(row.name, ())),
        )
        for row in conn.execute(
            select(pool_workers)
            .where(pool_workers.c.account_id == account_id)
            .order_by(pool_workers.c.name)
        )
    )
    payouts = tuple(
        PoolPayout(ts=from_us(r.ts), amount_atomic=r.amount_atomic, coin=r.coin, txid=r.txid)
        for r in conn.execute(
            select(pool_payouts)
            .where(pool_payouts.c.account_id == account_id)
            .order_by(pool_payouts.c.ts.desc(), pool_payouts.c.txid)
            .limit(DETAIL_LIMIT)
        )
    )
    blocks = tuple(
        PoolBlock(
            height=r.height,
            ts=from_us_opt(r.ts),
            hash=r.hash,
            reward_atomic=r.reward_atomic,
            finder=r.finder,
        )
        for r in conn.execute(
            select(pool_blocks)
            .where(pool_blocks.c.account_id == account_id)
            .order_by(pool_blocks.c.height.desc(), pool_blocks.c.hash)
            .limit(DETAIL_LIMIT)
        )
    )
    return PoolAccountDetail(account=found[0], workers=workers, payouts=payouts, blocks=blocks)


def miner_pools(conn: Connection, miner_id: int) -> list[MinerPoolView]:
    """The pool-side workers a miner was matched to, one per account."""
    query = (
        select(
            pool_miner_gaps,
            pool_accounts.c.name.label("account_name"),
            pool_accounts.c.kind,
        )
        .join(pool_accounts, pool_accounts.c.id == pool_miner_gaps.c.account_id)
        .where(pool_miner_gaps.c.miner_id == miner_id)
        .order_by(pool_miner_gaps.c.account_id)
    )
    views: list[MinerPoolView] = []
    for row in conn.execute(query):
        fraction = gap_fraction(row.miner_hashrate_hs, row.pool_hashrate_hs)
        views.append(
            MinerPoolView(
                account_id=row.account_id,
                account_name=row.account_name,
                kind=PoolKind(row.kind),
                worker=row.worker,
                miner_hashrate_hs=row.miner_hashrate_hs,
                pool_hashrate_hs=row.pool_hashrate_hs,
                gap_pct=None if fraction is None else round(fraction * 100, 2),
                gap_since=from_us_opt(row.gap_since),
                gap_raised=bool(row.gap_raised),
                updated_at=from_us(row.updated_at),
            )
        )
    return views


def miner_exists(conn: Connection, miner_id: int) -> bool:
    return conn.execute(select(miners.c.id).where(miners.c.id == miner_id)).first() is not None
