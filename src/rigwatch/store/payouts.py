"""Wallets, chain payments, their retries and daily revenue.

Payments are unique by (wallet, txid, vout): storing the same transaction twice changes
nothing, and a transaction seen again in another block (a reorganisation) updates its
row. Daily totals (`revenue_daily`) are recomputed from the payments of each day a change
touches. Days older than the payment retention are final: their payments may already be
gone, so a recount there only ever raises a total, never lowers it (a partial re-scan must
not shrink history). Clearing is the one thing that removes totals.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from rigwatch.domain.payouts import Backend, DailyRevenue, Payment, Wallet, WalletTx
from rigwatch.store.dialect import insert_for
from rigwatch.store.tables import payment_retries, payments, revenue_daily, wallets
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

DAY_US = 86_400_000_000
RETRY_BASE_S = 60.0
RETRY_MAX_S = 6 * 3600.0
MAX_ERROR_CHARS = 500
PURGE_ROWS = 5000


class WalletExists(ValueError):
    """A wallet with this coin and address is already watched."""


@dataclass(slots=True)
class Changes:
    """What one write did to a wallet's payments."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    days: set[str] = field(default_factory=set)

    def merge(self, other: Changes) -> None:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        self.days |= other.days


def day_of(ts_us: int) -> str:
    return from_us(ts_us).date().isoformat()


def _day_bounds(day: str) -> tuple[int, int]:
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    return to_us(start), to_us(start) + DAY_US


def final_before(now: datetime, retention_days: float) -> str:
    """The first day whose payments are all still kept: earlier days are final."""
    return (now - timedelta(days=retention_days)).date().isoformat()


# --- wallets -------------------------------------------------------------------------


def create_wallet(
    conn: Connection,
    *,
    coin: str,
    address: str,
    backend: Backend,
    base_url: str,
    label: str | None,
    now: datetime,
) -> int:
    exists = conn.execute(
        select(wallets.c.id).where(wallets.c.coin == coin, wallets.c.address == address)
    ).first()
    if exists is not None:
        raise WalletExists(f"{coin} wallet {address} is already watched (id {exists.id})")
    try:
        with conn.begin_nested():
            found: Any = conn.execute(
                insert(wallets)
                .values(
                    coin=coin,
                    address=address,
                    backend=str(backend),
                    base_url=base_url,
                    label=label,
                    created_at=to_us(now),
                    consecutive_failures=0,
                )
                .returning(wallets.c.id)
            ).scalar_one()
    except IntegrityError:
        raise WalletExists(f"{coin} wallet {address} is already watched") from None
    return int(found)


def _wallet(row: Row[tuple[object, ...]], counts: dict[int, tuple[int, int]]) -> Wallet:
    paid, retrying = counts.get(int(row.id), (0, 0))
    return Wallet(
        id=int(row.id),
        coin=row.coin,
        address=row.address,
        backend=Backend(row.backend),
        base_url=row.base_url,
        label=row.label,
        created_at=from_us(row.created_at),
        synced_height=row.synced_height,
        rescan_from=row.rescan_from,
        last_sync_at=from_us_opt(row.last_sync_at),
        last_success_at=from_us_opt(row.last_success_at),
        consecutive_failures=int(row.consecutive_failures),
        last_error=row.last_error,
        payments=paid,
        retries=retrying,
    )


def list_wallets(conn: Connection, wallet_id: int | None = None) -> list[Wallet]:
    """Every wallet (or one) with its sync state and how many payments and retries it has."""
    query = select(wallets).order_by(wallets.c.id)
    if wallet_id is not None:
        query = query.where(wallets.c.id == wallet_id)
    rows = list(conn.execute(query))
    if not rows:
        return []
    ids = [int(r.id) for r in rows]
    paid: dict[Any, Any] = dict(
        conn.execute(
            select(payments.c.wallet_id, func.count())
            .where(payments.c.wallet_id.in_(ids))
            .group_by(payments.c.wallet_id)
        ).all()
    )
    retrying: dict[Any, Any] = dict(
        conn.execute(
            select(payment_retries.c.wallet_id, func.count())
            .where(payment_retries.c.wallet_id.in_(ids))
            .group_by(payment_retries.c.wallet_id)
        ).all()
    )
    counts = {i: (int(paid.get(i, 0)), int(retrying.get(i, 0))) for i in ids}
    return [_wallet(r, counts) for r in rows]


def get_wallet(conn: Connection, wallet_id: int) -> Wallet | None:
    found = list_wallets(conn, wallet_id)
    return found[0] if found else None


def delete_wallet(conn: Connection, wallet_id: int) -> bool:
    """Stop watching a wallet: its payments and retries go, its daily totals stay."""
    conn.execute(delete(payment_retries).where(payment_retries.c.wallet_id == wallet_id))
    conn.execute(delete(payments).where(payments.c.wallet_id == wallet_id))
    return bool(conn.execute(delete(wallets).where(wallets.c.id == wallet_id)).rowcount)


def reset_wallet(conn: Connection, wallet_id: int, from_height: int) -> bool:
    """Make the next sync re-scan from `from_height`; deletes nothing."""
    current = conn.execute(select(wallets.c.rescan_from).where(wallets.c.id == wallet_id)).first()
    if current is None:
        return False
    lowest = from_height if current.rescan_from is None else min(current.rescan_from, from_height)
    conn.execute(update(wallets).where(wallets.c.id == wallet_id).values(rescan_from=lowest))
    return True


def finish_sync(
    conn: Connection, wallet_id: int, synced_height: int | None, scanned_from: int, now: datetime
) -> None:
    """A successful sync: the new height, the failure count back to zero, and a pending
    reset cleared when this scan covered it."""
    values: dict[str, object] = {
        "last_sync_at": to_us(now),
        "last_success_at": to_us(now),
        "consecutive_failures": 0,
        "last_error": None,
    }
    if synced_height is not None:
        values["synced_height"] = synced_height
    conn.execute(update(wallets).where(wallets.c.id == wallet_id).values(**values))
    conn.execute(
        update(wallets)
        .where(wallets.c.id == wallet_id, wallets.c.rescan_from >= scanned_from)
        .values(rescan_from=None)
    )


def fail_sync(conn: Connection, wallet_id: int, error: str, now: datetime) -> None:
    conn.execute(
        update(wallets)
        .where(wallets.c.id == wallet_id)
        .values(
            last_sync_at=to_us(now),
            consecutive_failures=wallets.c.consecutive_failures + 1,
            last_error=error[:MAX_ERROR_CHARS],
        )
    )


# --- retries -------------------------------------------------------------------------


def due_retries(conn: Connection, wallet_id: int, now: datetime, limit: int = 100) -> list[str]:
    query = (
        select(payment_retries.c.txid)
        .where(payment_retries.c.wallet_id == wallet_id)
        .where(payment_retries.c.next_try_at <= to_us(now))
        .order_by(payment_retries.c.next_try_at)
        .limit(limit)
    )
    found: list[Any] = list(conn.execute(query).scalars())
    return [str(t) for t in found]


def retry_txids(conn: Connection, wallet_id: int) -> set[str]:
    query = select(payment_retries.c.txid).where(payment_retries.c.wallet_id == wallet_id)
    found: list[Any] = list(conn.execute(query).scalars())
    return {str(t) for t in found}


def note_retry(conn: Connection, wallet_id: int, txid: str, reason: str, now: datetime) -> int:
    """Remember a transaction that could not be read; try again later, waiting longer
    after each failure (1 minute doubling up to 6 hours). Returns the attempts so far."""
    row = conn.execute(
        select(payment_retries.c.attempts).where(
            payment_retries.c.wallet_id == wallet_id, payment_retries.c.txid == txid
        )
    ).first()
    attempts = 1 if row is None else int(row.attempts) + 1
    wait_s = min(RETRY_BASE_S * 2 ** min(attempts - 1, 30), RETRY_MAX_S)
    values = {
        "reason": reason[:MAX_ERROR_CHARS],
        "attempts": attempts,
        "next_try_at": to_us(now + timedelta(seconds=wait_s)),
    }
    statement = insert_for(conn, payment_retries).values(wallet_id=wallet_id, txid=txid, **values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[payment_retries.c.wallet_id, payment_retries.c.txid], set_=values
        )
    )
    return attempts


def drop_retries(conn: Connection, wallet_id: int, txids: Collection[str]) -> None:
    if txids:
        conn.execute(
            delete(payment_retries).where(
                payment_retries.c.wallet_id == wallet_id, payment_retries.c.txid.in_(list(txids))
            )
        )


# --- payments ------------------------------------------------------------------------


def store_transactions(
    conn: Connection,
    wallet: Wallet,
    txs: Sequence[WalletTx],
    now: datetime,
    *,
    final_day: str,
) -> Changes:
    """Write what `txs` say about the wallet's payments: new outputs inserted, moved ones
    (another block) updated, and the payments of transactions that are now unconfirmed
    or outgoing removed. Daily totals of every touched day are recomputed."""
    changes = Changes()
    if not txs:
        return changes
    txids = list({tx.txid for tx in txs})
    stored = {
        (r.txid, int(r.vout)): r
        for r in conn.execute(
            select(
                payments.c.id,
                payments.c.txid,
                payments.c.vout,
                payments.c.amount_atomic,
                payments.c.block_height,
                payments.c.block_hash,
                payments.c.ts,
            ).where(payments.c.wallet_id == wallet.id, payments.c.txid.in_(txids))
        )
    }
    fresh: list[dict[str, object]] = []
    keep: set[tuple[str, int]] = set()
    for tx in txs:
        block = tx.block
        for credit in tx.payments:
            assert block is not None  # noqa: S101 - payments are confirmed by definition
            key = (tx.txid, credit.vout)
            if key in keep:
                continue
            keep.add(key)
            ts = to_us(block.time)
            old = stored.get(key)
            if old is None:
                fresh.append(
                    {
                        "wallet_id": wallet.id,
                        "txid": tx.txid,
                        "vout": credit.vout,
                        "amount_atomic": credit.amount_atomic,
                        "block_height": block.height,
                        "block_hash": block.hash,
                        "ts": ts,
                        "coinbase": tx.coinbase,
                        "created_at": to_us(now),
                    }
                )
                changes.days.add(day_of(ts))
            elif (old.block_hash, old.block_height, old.ts, old.amount_atomic) != (
                block.hash,
                block.height,
                ts,
                credit.amount_atomic,
            ):
                conn.execute(
                    update(payments)
                    .where(payments.c.id == old.id)
                    .values(
                        block_hash=block.hash,
                        block_height=block.height,
                        ts=ts,
                        amount_atomic=credit.amount_atomic,
                        coinbase=tx.coinbase,
                    )
                )
                changes.updated += 1
                changes.days |= {day_of(int(old.ts)), day_of(ts)}
    if fresh:
        result = conn.execute(
            insert_for(conn, payments)
            .on_conflict_do_nothing(
                index_elements=[payments.c.wallet_id, payments.c.txid, payments.c.vout]
            )
            .returning(payments.c.id),
            fresh,
        )
        changes.added += len(result.all())
    # Stored outputs of these transactions that are no longer payments: the transaction
    # left its block (unconfirmed again) or turned out to be outgoing.
    gone = [r for key, r in stored.items() if key not in keep]
    if gone:
        conn.execute(delete(payments).where(payments.c.id.in_([int(r.id) for r in gone])))
        changes.removed += len(gone)
        changes.days |= {day_of(int(r.ts)) for r in gone}
    recompute_days(conn, wallet.id, wallet.coin, changes.days, final_day)
    return changes


def remove_vanished(
    conn: Connection,
    wallet: Wallet,
    from_height: int,
    seen: Collection[str],
    *,
    final_day: str,
) -> Changes:
    """Delete the wallet's payments at `from_height` or above whose transaction a complete
    scan from that height no longer lists (reorganised away); `seen` holds every txid the
    scan listed, readable or not."""
    changes = Changes()
    rows = list(
        conn.execute(
            select(payments.c.id, payments.c.txid, payments.c.ts).where(
                payments.c.wallet_id == wallet.id, payments.c.block_height >= from_height
            )
        )
    )
    gone = [r for r in rows if r.txid not in seen]
    if gone:
        conn.execute(delete(payments).where(payments.c.id.in_([int(r.id) for r in gone])))
        changes.removed = len(gone)
        changes.days = {day_of(int(r.ts)) for r in gone}
        recompute_days(conn, wallet.id, wallet.coin, changes.days, final_day)
    return changes


def recompute_days(
    conn: Connection, wallet_id: int, coin: str, days: Iterable[str], final_day: str
) -> None:
    """Daily totals of `days` from the payments stored; days before `final_day` only grow."""
    for day in sorted(set(days)):
        start, end = _day_bounds(day)
        sums: Any = conn.execute(
            select(func.coalesce(func.sum(payments.c.amount_atomic), 0), func.count()).where(
                payments.c.wallet_id == wallet_id, payments.c.ts >= start, payments.c.ts < end
            )
        ).one()
        total, count = int(sums[0]), int(sums[1])
        where = and_(revenue_daily.c.wallet_id == wallet_id, revenue_daily.c.day == day)
        existing = conn.execute(select(revenue_daily.c.amount_atomic).where(where)).first()
        if day < final_day and existing is not None and int(existing.amount_atomic) >= total:
            continue
        if count == 0:
            conn.execute(delete(revenue_daily).where(where))
            continue
        values = {"coin": coin, "amount_atomic": total, "payments": count}
        conn.execute(
            insert_for(conn, revenue_daily)
            .values(wallet_id=wallet_id, day=day, **values)
            .on_conflict_do_update(
                index_elements=[revenue_daily.c.wallet_id, revenue_daily.c.day], set_=values
            )
        )


def clear_payments(conn: Connection, wallet_id: int | None = None) -> dict[str, int]:
    """Delete payments, retries and daily totals (of one wallet or all) and make the next
    sync start from scratch. The one destructive operation; the API asks for confirmation."""
    scope_p = [] if wallet_id is None else [payments.c.wallet_id == wallet_id]
    scope_r = [] if wallet_id is None else [payment_retries.c.wallet_id == wallet_id]
    scope_d = [] if wallet_id is None else [revenue_daily.c.wallet_id == wallet_id]
    scope_w = [] if wallet_id is None else [wallets.c.id == wallet_id]
    counts = {
        "payments": conn.execute(delete(payments).where(*scope_p)).rowcount,
        "retries": conn.execute(delete(payment_retries).where(*scope_r)).rowcount,
        "days": conn.execute(delete(revenue_daily).where(*scope_d)).rowcount,
    }
    conn.execute(update(wallets).where(*scope_w).values(synced_height=None, rescan_from=None))
    return {name: max(int(n or 0), 0) for name, n in counts.items()}


def purge_payments(
    conn: Connection, cutoff: datetime, *, max_rows: int = PURGE_ROWS, max_statements: int = 20
) -> tuple[int, bool]:
    """Delete payments older than `cutoff`, oldest first, `max_rows` per statement and at
    most `max_statements` statements; (deleted, more left). Daily totals stay."""
    deleted = 0
    bound = to_us(cutoff)
    for _ in range(max_statements):
        ids: list[Any] = list(
            conn.execute(
                select(payments.c.id)
                .where(payments.c.ts < bound)
                .order_by(payments.c.ts)
                .limit(max_rows)
            ).scalars()
        )
        if not ids:
            return deleted, False
        conn.execute(delete(payments).where(payments.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < max_rows:
            return deleted, False
    more = conn.execute(select(payments.c.id).where(payments.c.ts < bound).limit(1)).first()
    return deleted, more is not None


# --- reading -------------------------------------------------------------------------


def list_payments(
    conn: Connection, *, page: int = 1, limit: int = 50, q: str | None = None
) -> tuple[int, list[Payment]]:
    """(total matching, one page newest first); `q` matches a txid (prefix), the wallet's
    address or its label (substring, case-insensitive)."""
    joined = payments.join(wallets, wallets.c.id == payments.c.wallet_id)
    conditions = []
    if q:
        needle = q.strip().lower()
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(
                payments.c.txid.like(f"{escaped}%", escape="\\"),
                func.lower(wallets.c.address).like(f"%{escaped}%", escape="\\"),
                func.lower(func.coalesce(wallets.c.label, "")).like(f"%{escaped}%", escape="\\"),
            )
        )
    total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(
            payments.c.id,
            payments.c.wallet_id,
            wallets.c.coin,
            wallets.c.address,
            wallets.c.label,
            payments.c.txid,
            payments.c.vout,
            payments.c.amount_atomic,
            payments.c.block_height,
            payments.c.block_hash,
            payments.c.ts,
            payments.c.coinbase,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(payments.c.ts.desc(), payments.c.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    items = [
        Payment(
            id=int(r.id),
            wallet_id=int(r.wallet_id),
            coin=r.coin,
            address=r.address,
            label=r.label,
            txid=r.txid,
            vout=int(r.vout),
            amount_atomic=int(r.amount_atomic),
            block_height=int(r.block_height),
            block_hash=r.block_hash,
            ts=from_us(r.ts),
            coinbase=bool(r.coinbase),
        )
        for r in rows
    ]
    return int(total), items


def daily_revenue(
    conn: Connection, first_day: str, last_day: str | None = None
) -> list[DailyRevenue]:
    """Revenue per UTC day and coin from `first_day` on (to `last_day` included, when
    given), oldest first (all wallets)."""
    until = [] if last_day is None else [revenue_daily.c.day <= last_day]
    rows: Any = conn.execute(
        select(
            revenue_daily.c.day,
            revenue_daily.c.coin,
            func.sum(revenue_daily.c.amount_atomic),
            func.sum(revenue_daily.c.payments),
        )
        .where(revenue_daily.c.day >= first_day, *until)
        .group_by(revenue_daily.c.day, revenue_daily.c.coin)
        .order_by(revenue_daily.c.day, revenue_daily.c.coin)
    )
    return [DailyRevenue(str(d), str(c), int(a), int(n)) for d, c, a, n in rows]
