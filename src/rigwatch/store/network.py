"""The network and price series: what a network sync writes, and the newest of each figure.

Each sync adds one `network_stats` row holding what it got; a source that failed
leaves its columns NULL. Reading takes, per figure, the newest row where it is not
NULL, so a failed source shows its last good value with the age of that row, and a
figure no sync ever got is None. Nothing is filled in from a constant.

Prices are keyed by the quote's own time (`time` in mempool's payload), so a feed that
keeps serving the same quote adds no rows and shows its true age; a quote without a
time is stamped with the sync's. Blocks are kept one row per height: seen again, or
replaced by a reorganisation, the row is updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection

from rigwatch.domain.network import (
    BTC,
    FEE_LEVELS,
    ChainBlock,
    Figure,
    NetworkReading,
    NetworkView,
    PricePoint,
    figure,
)
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.tables import network_blocks, network_stats, prices
from rigwatch.store.timestamps import from_us, from_us_opt, to_us

MAX_BLOCKS = 500
MAX_PRICE_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class NetworkWrite:
    """What one sync wrote: a stats row or not, prices and blocks offered (a stats row or
    a quote already stored is skipped; a block already stored is updated)."""

    stats: int
    prices: int
    blocks: int


def _stats_row(ts_us: int, reading: NetworkReading) -> dict[str, Any]:
    adj = reading.adjustment
    fees = reading.fees
    return {
        "chain": reading.chain,
        "ts": ts_us,
        "height": reading.height,
        "difficulty": reading.difficulty,
        "network_hashrate_hs": reading.hashrate_hs,
        "next_retarget_height": adj.next_retarget_height if adj else None,
        "next_retarget_ts": (
            to_us(adj.estimated_retarget) if adj and adj.estimated_retarget else None
        ),
        "difficulty_change_pct": adj.difficulty_change_pct if adj else None,
        "fee_fast": fees.fast if fees else None,
        "fee_half_hour": fees.half_hour if fees else None,
        "fee_hour": fees.hour if fees else None,
        "fee_economy": fees.economy if fees else None,
    }


def write_network(conn: Connection, now: datetime, reading: NetworkReading) -> NetworkWrite:
    """Store what one sync at `now` learned (in the caller's transaction)."""
    now_us = to_us(now)
    stats = 0
    if reading.has_stats():
        conn.execute(insert_ignore(conn, network_stats), [_stats_row(now_us, reading)])
        stats = 1
    price_rows = 0
    quote = reading.prices
    if quote is not None and quote.prices:
        quoted_us = now_us if quote.time is None else min(to_us(quote.time), now_us)
        rows = [
            {"coin": quote.coin, "currency": currency, "ts": quoted_us, "price": price}
            for currency, price in sorted(quote.prices.items())
        ]
        conn.execute(insert_ignore(conn, prices), rows)
        price_rows = len(rows)
    block_rows = 0
    if reading.blocks:
        rows = [
            {
                "chain": reading.chain,
                "height": b.height,
                "hash": b.hash,
                "ts": to_us(b.ts) if b.ts else None,
                "pool": b.pool,
                "fees_sat": b.fees_sat,
                "reward_sat": b.reward_sat,
                "tx_count": b.tx_count,
                "seen_at": now_us,
            }
            for b in reading.blocks
        ]
        stmt = insert_for(conn, network_blocks)
        stmt = stmt.on_conflict_do_update(
            index_elements=[network_blocks.c.chain, network_blocks.c.height],
            set_={
                name: stmt.excluded[name]
                for name in ("hash", "ts", "pool", "fees_sat", "reward_sat", "tx_count", "seen_at")
            },
        )
        conn.execute(stmt, rows)
        block_rows = len(rows)
    return NetworkWrite(stats=stats, prices=price_rows, blocks=block_rows)


def _latest(
    conn: Connection, column: ColumnElement[Any], chain: str, now_us: int
) -> tuple[int, Any] | None:
    """(ts, value) of the newest row up to `now` where `column` is known."""
    row = conn.execute(
        select(network_stats.c.ts, column)
        .where(
            network_stats.c.chain == chain,
            network_stats.c.ts <= now_us,
            column.is_not(None),
        )
        .order_by(network_stats.c.ts.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def latest_network(conn: Connection, now: datetime, chain: str = BTC) -> NetworkView:
    """The newest known value of each figure as of `now`, each with its `as_of` and age."""
    now_us = to_us(now)

    def get(column: ColumnElement[Any]) -> Figure[Any] | None:
        found = _latest(conn, column, chain, now_us)
        return None if found is None else figure(found[1], from_us(found[0]), now)

    c = network_stats.c
    retarget = _latest(conn, c.next_retarget_ts, chain, now_us)
    return NetworkView(
        chain=chain,
        read_at=now,
        height=get(c.height),
        difficulty=get(c.difficulty),
        hashrate_hs=get(c.network_hashrate_hs),
        next_retarget_height=get(c.next_retarget_height),
        next_retarget_at=(
            None if retarget is None else figure(from_us(retarget[1]), from_us(retarget[0]), now)
        ),
        difficulty_change_pct=get(c.difficulty_change_pct),
        fees={level: get(c[f"fee_{level}"]) for level in FEE_LEVELS},
    )


def latest_prices(conn: Connection, now: datetime, coin: str = BTC) -> list[PricePoint]:
    """The newest price up to `now` in each currency of `coin`, with its age."""
    now_us = to_us(now)
    newest = (
        select(prices.c.currency, func.max(prices.c.ts).label("ts"))
        .where(prices.c.coin == coin, prices.c.ts <= now_us)
        .group_by(prices.c.currency)
        .subquery()
    )
    rows = conn.execute(
        select(prices.c.currency, prices.c.ts, prices.c.price)
        .join(
            newest,
            (prices.c.currency == newest.c.currency) & (prices.c.ts == newest.c.ts),
        )
        .where(prices.c.coin == coin)
        .order_by(prices.c.currency)
    ).all()
    points = []
    for row in rows:
        as_of = from_us(row.ts)
        age_s = max(0.0, (now - as_of).total_seconds())
        points.append(PricePoint(coin, row.currency, row.price, as_of, age_s))
    return points


def price_history(
    conn: Connection,
    coin: str,
    currency: str | None,
    start: datetime,
    end: datetime,
    limit: int = 10_000,
) -> list[PricePoint]:
    """Stored prices of `coin` quoted in [start, end], oldest first (one currency or all)."""
    query = select(prices.c.currency, prices.c.ts, prices.c.price).where(
        prices.c.coin == coin, prices.c.ts >= to_us(start), prices.c.ts <= to_us(end)
    )
    if currency is not None:
        query = query.where(prices.c.currency == currency)
    rows = conn.execute(
        query.order_by(prices.c.ts, prices.c.currency).limit(min(limit, MAX_PRICE_ROWS))
    ).all()
    return [PricePoint(coin, r.currency, r.price, from_us(r.ts)) for r in rows]


def recent_blocks(conn: Connection, chain: str = BTC, limit: int = 15) -> list[ChainBlock]:
    """The highest stored blocks of `chain`, newest first."""
    c = network_blocks.c
    rows = conn.execute(
        select(c.height, c.hash, c.ts, c.pool, c.fees_sat, c.reward_sat, c.tx_count)
        .where(c.chain == chain)
        .order_by(c.height.desc())
        .limit(min(limit, MAX_BLOCKS))
    ).all()
    return [
        ChainBlock(
            height=r.height,
            hash=r.hash,
            ts=from_us_opt(r.ts),
            pool=r.pool,
            fees_sat=r.fees_sat,
            reward_sat=r.reward_sat,
            tx_count=r.tx_count,
        )
        for r in rows
    ]
