"""Network and price API: the newest value of each network figure with its age, recent
blocks, and BTC prices in several fiat currencies (latest and history).

Every figure carries `as_of` (when the network job learned it) and `age_s` (how old it
is now): when a source fails its last good value stays and grows older. A figure no
sync ever got is null, never 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from rigwatch.commander.auth import RW, Viewer
from rigwatch.domain.network import BTC, FEE_LEVELS, Figure, PricePoint
from rigwatch.store import network as store

router = APIRouter(tags=["network"])

T = TypeVar("T")
COIN_PATTERN = r"^[A-Za-z0-9]{2,16}$"
CURRENCY_PATTERN = r"^[A-Za-z]{3,5}$"
MAX_BLOCKS = 100
MAX_HISTORY_ROWS = 50_000
DEFAULT_HISTORY = timedelta(days=30)


class FigureOut(BaseModel, Generic[T]):
    """A value, when it was learned, and how old it is now (seconds)."""

    value: T
    as_of: datetime
    age_s: float

    @classmethod
    def of(cls, found: Figure[T] | None) -> FigureOut[T] | None:
        return (
            None if found is None else cls(value=found.value, as_of=found.as_of, age_s=found.age_s)
        )


class NextAdjustmentOut(BaseModel):
    """The next difficulty adjustment as the explorer estimates it."""

    height: FigureOut[int] | None
    estimated_at: FigureOut[datetime] | None = Field(description="Estimated time of the retarget")
    difficulty_change_pct: FigureOut[float] | None = Field(description="Estimated change, %")


class FeesOut(BaseModel):
    """Recommended fee rates, sat/vB."""

    fast: FigureOut[float] | None
    half_hour: FigureOut[float] | None
    hour: FigureOut[float] | None
    economy: FigureOut[float] | None


class NetworkOut(BaseModel):
    chain: str
    read_at: datetime = Field(description="The time the ages are measured from")
    height: FigureOut[int] | None = Field(description="Chain tip height")
    difficulty: FigureOut[float] | None
    hashrate_hs: FigureOut[float] | None = Field(description="Network hashrate estimate, H/s")
    next_adjustment: NextAdjustmentOut
    fees: FeesOut


class BlockOut(BaseModel):
    height: int
    hash: str | None
    time: datetime | None
    pool: str | None = Field(description="Mining pool, where the explorer names one")
    fees_sat: int | None
    reward_sat: int | None = Field(description="Subsidy plus fees, sats")
    tx_count: int | None


class PriceOut(BaseModel):
    currency: str
    price: float = Field(description="Fiat per coin")
    as_of: datetime = Field(description="When the price was quoted")
    age_s: float | None = None


class PricesOut(BaseModel):
    coin: str
    read_at: datetime
    prices: list[PriceOut] = Field(description="The newest price in each currency")


class PriceHistoryOut(BaseModel):
    coin: str
    currency: str | None
    items: list[PriceOut] = Field(description="Oldest first")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _price(p: PricePoint) -> PriceOut:
    return PriceOut(currency=p.currency, price=p.price, as_of=p.as_of, age_s=p.age_s)


@router.get("/network", response_model=NetworkOut)
def network(_: Viewer, rw: RW) -> NetworkOut:
    """Tip height, difficulty, network hashrate, next adjustment and fee estimates, each
    with `as_of` and `age_s`; null where no sync ever got the figure."""
    now = _now()
    view = rw.read(lambda c: store.latest_network(c, now))
    return NetworkOut(
        chain=view.chain,
        read_at=view.read_at,
        height=FigureOut[int].of(view.height),
        difficulty=FigureOut[float].of(view.difficulty),
        hashrate_hs=FigureOut[float].of(view.hashrate_hs),
        next_adjustment=NextAdjustmentOut(
            height=FigureOut[int].of(view.next_retarget_height),
            estimated_at=FigureOut[datetime].of(view.next_retarget_at),
            difficulty_change_pct=FigureOut[float].of(view.difficulty_change_pct),
        ),
        fees=FeesOut(**{level: FigureOut[float].of(view.fees.get(level)) for level in FEE_LEVELS}),
    )


@router.get("/network/blocks", response_model=list[BlockOut])
def blocks(
    _: Viewer, rw: RW, limit: Annotated[int, Query(ge=1, le=MAX_BLOCKS)] = 15
) -> list[BlockOut]:
    """The most recent blocks the network job has seen, newest first."""
    found = rw.read(lambda c: store.recent_blocks(c, BTC, limit))
    return [
        BlockOut(
            height=b.height,
            hash=b.hash,
            time=b.ts,
            pool=b.pool,
            fees_sat=b.fees_sat,
            reward_sat=b.reward_sat,
            tx_count=b.tx_count,
        )
        for b in found
    ]


@router.get("/prices", response_model=PricesOut)
def prices(_: Viewer, rw: RW, coin: Annotated[str, Query(pattern=COIN_PATTERN)] = BTC) -> PricesOut:
    """The newest price of `coin` in each fiat currency, with its age; an empty list when
    no price was ever fetched."""
    now = _now()
    coin = coin.upper()
    found = rw.read(lambda c: store.latest_prices(c, now, coin))
    return PricesOut(coin=coin, read_at=now, prices=[_price(p) for p in found])


@router.get("/prices/history", response_model=PriceHistoryOut)
def price_history(
    _: Viewer,
    rw: RW,
    currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN)] = None,
    coin: Annotated[str, Query(pattern=COIN_PATTERN)] = BTC,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_ROWS)] = 10_000,
) -> PriceHistoryOut:
    """Stored prices quoted between `from` and `to` (default: the last 30 days), oldest
    first; one currency, or all of them when `currency` is not given."""
    end_ts = _aware(end) or _now()
    start_ts = _aware(start) or end_ts - DEFAULT_HISTORY
    if start_ts > end_ts:
        raise HTTPException(422, "`from` is after `to`")
    coin = coin.upper()
    wanted = currency.upper() if currency else None
    rows = rw.read(lambda c: store.price_history(c, coin, wanted, start_ts, end_ts, limit))
    return PriceHistoryOut(coin=coin, currency=wanted, items=[_price(p) for p in rows])
