"""Daily totals from the event stream: shares found, blocks found, payouts per coin.

Events are few (a share every few minutes per node), so the totals are summed in
Python while the rows stream past: the same code on both databases, and payouts are
summed as exact integers of atomic units whatever their size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from rigwatch.domain.models import EventKind
from rigwatch.store import jsontext
from rigwatch.store.tables import events, hosts
from rigwatch.store.timestamps import from_us, to_us

# Atomic units per coin where an event does not state `decimals` itself.
COIN_DECIMALS = {"XMR": 12, "BTC": 8, "BCH": 8, "LTC": 8, "DOGE": 8, "ZEC": 8, "ETC": 18, "KAS": 8}
STREAM_ROWS = 2000


class TotalKind(StrEnum):
    SHARES = "shares"
    BLOCKS = "blocks"
    PAYOUTS = "payouts"


class TotalBy(StrEnum):
    FARM = "farm"
    HOST = "host"


_EVENT_OF = {
    TotalKind.SHARES: EventKind.SHARE_FOUND,
    TotalKind.BLOCKS: EventKind.BLOCK_FOUND,
    TotalKind.PAYOUTS: EventKind.PAYOUT,
}


@dataclass(frozen=True, slots=True)
class DailyTotal:
    """One UTC day (and host, and coin for payouts). `own` counts blocks the farm mined
    itself, as opposed to blocks its pool found; `amount` is `amount_atomic` in coins."""

    day: date
    kind: TotalKind
    count: int
    host_id: int | None = None
    host: str | None = None
    coin: str | None = None
    amount_atomic: int | None = None
    amount: float | None = None
    own: int | None = None


def day_bounds(start: date, end: date) -> tuple[int, int]:
    """[start 00:00 UTC, end+1 00:00 UTC) in store microseconds."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    last = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return to_us(first), to_us(last)


def _atomic(data: dict[str, Any]) -> tuple[str, int, int] | None:
    """(coin, atomic amount, decimals) of a payout event, or None when it states none."""
    coin = str(data.get("coin") or "XMR").upper()[:16]
    amount = data.get("amount_atomic")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        return None
    decimals = data.get("decimals")
    if not isinstance(decimals, int) or not 0 <= decimals <= 30:
        decimals = COIN_DECIMALS.get(coin, 8)
    return coin, amount, decimals


def stream_events(
    conn: Connection, kind: EventKind | None, start_us: int, end_us: int
) -> Iterator[Any]:
    """Event rows in [start, end) in time order, joined to their host, without loading
    them all (server-side cursor on PostgreSQL)."""
    query = (
        select(events, hosts.c.key.label("host_key"))
        .outerjoin(hosts, hosts.c.id == events.c.host_id)
        .where(events.c.ts >= start_us, events.c.ts < end_us)
        .order_by(events.c.ts, events.c.id)
    )
    if kind is not None:
        query = query.where(events.c.kind == str(kind))
    # Options on the statement, not the connection: Connection.execution_options would
    # leave every later statement on it (an INSERT too) on a server-side cursor.
    yield from conn.execute(query.execution_options(stream_results=True, yield_per=STREAM_ROWS))


def daily_totals(
    conn: Connection, kind: TotalKind, by: TotalBy, start: date, end: date
) -> list[DailyTotal]:
    """Per UTC day in [start, end] (and per host with `by=host`; per coin for payouts)."""
    start_us, end_us = day_bounds(start, end)
    buckets: dict[tuple[date, int | None, str | None], list[Any]] = {}
    for row in stream_events(conn, _EVENT_OF[kind], start_us, end_us):
        day = from_us(row.ts).date()
        host_id = row.host_id if by is TotalBy.HOST else None
        data = jsontext.loads(row.data) or {}
        coin: str | None = None
        atomic = 0
        decimals = 0
        if kind is TotalKind.PAYOUTS:
            parsed = _atomic(data)
            if parsed is None:
                continue
            coin, atomic, decimals = parsed
        bucket = buckets.setdefault(
            (day, host_id, coin), [0, 0, decimals, row.host_key if host_id else None, 0]
        )
        bucket[0] += 1
        bucket[1] += atomic
        if data.get("by") == "you":
            bucket[4] += 1
    totals: list[DailyTotal] = []
    for (day, host_id, coin), (count, atomic, decimals, host, own) in sorted(
        buckets.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2] or "")
    ):
        payout = kind is TotalKind.PAYOUTS
        totals.append(
            DailyTotal(
                day=day,
                kind=kind,
                count=count,
                host_id=host_id,
                host=host,
                coin=coin,
                amount_atomic=atomic if payout else None,
                amount=atomic / 10**decimals if payout else None,
                own=own if kind is TotalKind.BLOCKS else None,
            )
        )
    return totals
