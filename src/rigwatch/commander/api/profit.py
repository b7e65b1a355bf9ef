"""Profit API: daily revenue, cost and profit; solo odds; site power prices; model table.

Every number of a profit row comes as `{"value": ..., "basis": "actual" | "expected" |
"unknown"}` (domain/profit.py says what each basis means); an unknown value is null,
never a guess. Money is in the requested currency, rounded to 6 decimal places
(a millionth of a currency unit); satoshis of expected figures to 3 decimal places,
actual satoshis are exact integers; rates and shares are not rounded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin, Viewer
from rigwatch.domain import model_efficiency
from rigwatch.domain.profit import (
    Basis,
    DayProfit,
    Effort,
    PowerSource,
    SitePower,
    TouPeriod,
)
from rigwatch.domain.profit import Figure as DomainFigure
from rigwatch.store import auth as store_auth
from rigwatch.store import jsontext
from rigwatch.store import profit as store
from rigwatch.store.profit import Scope

router = APIRouter(tags=["profit"])

MAX_DAYS = 366
MAX_MINER_DAYS = 31
CURRENCY = r"^[A-Za-z]{3}$"
MONEY_DIGITS = 6
SAT_DIGITS = 3

Currency = Annotated[
    str, Query(pattern=CURRENCY, description="ISO 4217 code of the fiat currency (USD, EUR ...)")
]


def _now() -> datetime:
    return datetime.now(UTC)


class Figure(BaseModel):
    value: float | None
    basis: Basis


def _fig(f: DomainFigure, digits: int | None = None) -> Figure:
    value = f.value
    if value is not None and digits is not None:
        value = round(value, digits)
    return Figure(value=value, basis=f.basis)


def _sat(f: DomainFigure) -> Figure:
    """Actual satoshis are whole; expected ones keep a few decimals."""
    if f.value is not None and f.basis is Basis.ACTUAL:
        return Figure(value=float(round(f.value)), basis=f.basis)
    return _fig(f, SAT_DIGITS)


class ProfitFigures(BaseModel):
    hashrate_hs: Figure = Field(description="Mean over the day (so far): hashes / seconds")
    energy_kwh: Figure
    efficiency_j_th: Figure
    network_share: Figure
    network_blocks_per_day: Figure
    expected_blocks: Figure
    gross_revenue_sat: Figure
    pool_fee_sat: Figure
    revenue_sat: Figure = Field(description="After the pool's fee")
    gross_revenue: Figure
    pool_fee: Figure
    revenue: Figure = Field(description="After the pool's fee")
    power_cost: Figure
    profit: Figure
    break_even_per_kwh: Figure = Field(description="Power price at which profit is zero")
    hashprice: Figure = Field(description="Revenue per TH/s per day, in the currency")
    hashprice_sat: Figure = Field(description="Revenue per TH/s per day, in satoshis")

    @classmethod
    def of(cls, p: DayProfit) -> ProfitFigures:
        money = MONEY_DIGITS
        return cls(
            hashrate_hs=_fig(p.hashrate_hs),
            energy_kwh=_fig(p.energy_kwh, 6),
            efficiency_j_th=_fig(p.efficiency_j_th, 4),
            network_share=_fig(p.network_share),
            network_blocks_per_day=_fig(p.network_blocks_per_day, 6),
            expected_blocks=_fig(p.expected_blocks),
            gross_revenue_sat=_sat(p.gross_revenue_sat),
            pool_fee_sat=_sat(p.pool_fee_sat),
            revenue_sat=_sat(p.revenue_sat),
            gross_revenue=_fig(p.gross_revenue, money),
            pool_fee=_fig(p.pool_fee, money),
            revenue=_fig(p.revenue, money),
            power_cost=_fig(p.power_cost, money),
            profit=_fig(p.profit, money),
            break_even_per_kwh=_fig(p.break_even_per_kwh, money),
            hashprice=_fig(p.hashprice, money),
            hashprice_sat=_fig(p.hashprice_sat, SAT_DIGITS),
        )


class ProfitRowOut(BaseModel):
    day: date
    scope: Scope
    id: int | None = Field(description="Site or miner id; null for the farm")
    name: str
    site_id: int | None
    partial: bool = Field(description="Today so far: the day has not ended")
    miners: int = Field(description="Bitcoin miners with rollup data that day")
    power_source: PowerSource
    figures: ProfitFigures


class DailyProfitOut(BaseModel):
    currency: str
    coin: str
    excluded_miners: int = Field(
        description="Miners not mining Bitcoin (GPU/CPU, other algorithms)"
    )
    rows: list[ProfitRowOut] = Field(description="Newest day first")


@router.get("/profit/daily", response_model=DailyProfitOut, responses={422: {}})
def daily(
    _: Viewer,
    rw: RW,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7,
    by: Scope = Scope.FARM,
    currency: Currency = "USD",
) -> DailyProfitOut:
    """Revenue, pool fee, power cost and profit per UTC day (today so far included), for
    the farm, each site or each miner, in `currency`. Per miner, at most 31 days."""
    if by is Scope.MINER and days > MAX_MINER_DAYS:
        raise HTTPException(422, f"by=miner covers at most {MAX_MINER_DAYS} days")
    code = currency.upper()
    now = _now()
    result = rw.read(lambda c: store.daily_profit(c, days=days, by=by, currency=code, now=now))
    return DailyProfitOut(
        currency=result.currency,
        coin=result.coin,
        excluded_miners=result.excluded_miners,
        rows=[
            ProfitRowOut(
                day=r.day,
                scope=r.scope,
                id=r.id,
                name=r.name,
                site_id=r.site_id,
                partial=r.partial,
                miners=r.miners,
                power_source=r.profit.power_source,
                figures=ProfitFigures.of(r.profit),
            )
            for r in result.rows
        ],
    )


class EffortOut(BaseModel):
    blocks: int
    expected_blocks: float | None
    effort_pct: float | None = Field(
        description="Expected blocks / blocks x 100; under 100 is lucky"
    )
    luck_pct: float | None


def _effort(e: Effort) -> EffortOut:
    return EffortOut(
        blocks=e.blocks, expected_blocks=e.expected, effort_pct=e.effort_pct, luck_pct=e.luck_pct
    )


class BlockEffortOut(BaseModel):
    ts: datetime
    miner_id: int | None
    effort: EffortOut


class SoloOut(BaseModel):
    """The farm as one solo miner. Null: an input is missing (no miner reporting, no
    network reading, no price), never a guess."""

    currency: str
    miners: int = Field(description="Bitcoin miners reporting now")
    hashrate_hs: float | None
    difficulty: float | None
    difficulty_at: datetime | None
    network_hashrate_hs: float | None
    network_hashrate_at: datetime | None
    share: float | None = Field(description="Farm hashrate / network hashrate")
    one_in: float | None = Field(description="One network block in this many is the farm's")
    blocks_per_day: float | None = Field(description="Expected blocks per day (Poisson rate)")
    p_block_per_day: float | None = Field(description="Probability of at least one block a day")
    expected_seconds_to_block: float | None
    reward_sat: float | None = Field(description="Mean subsidy + fees of the recent blocks")
    price: float | None
    price_at: datetime | None
    expected_revenue_sat_per_day: float | None
    expected_revenue_per_day: float | None
    blocks: list[BlockEffortOut] = Field(description="The farm's newest blocks, oldest first")
    overall: EffortOut


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@router.get("/profit/solo", response_model=SoloOut, responses={422: {}})
def solo(_: Viewer, rw: RW, currency: Currency = "USD") -> SoloOut:
    """Odds of the farm finding a block solo: per day, expected time, hashrate share;
    and the effort of the blocks it found."""
    now = _now()
    code = currency.upper()
    offline = rw.settings.offline_after_s
    r = rw.read(lambda c: store.solo(c, currency=code, now=now, offline_after_s=offline))
    return SoloOut(
        currency=r.currency,
        miners=r.miners,
        hashrate_hs=r.odds.hashrate_hs,
        difficulty=r.odds.difficulty,
        difficulty_at=r.difficulty_at,
        network_hashrate_hs=r.odds.network_hashrate_hs,
        network_hashrate_at=r.network_hashrate_at,
        share=r.odds.share,
        one_in=r.odds.one_in,
        blocks_per_day=r.odds.blocks_per_day,
        p_block_per_day=r.odds.p_block_per_day,
        expected_seconds_to_block=r.odds.expected_seconds_to_block,
        reward_sat=r.reward_sat,
        price=r.price,
        price_at=r.price_at,
        expected_revenue_sat_per_day=_round(r.expected_revenue_sat_per_day, SAT_DIGITS),
        expected_revenue_per_day=_round(r.expected_revenue_per_day, MONEY_DIGITS),
        blocks=[
            BlockEffortOut(ts=b.ts, miner_id=b.miner_id, effort=_effort(b.effort)) for b in r.blocks
        ],
        overall=_effort(r.overall),
    )


# --- site power -----------------------------------------------------------------------


class TouPeriodIn(BaseModel):
    start_hour: int = Field(ge=0, le=23, description="First hour (UTC), inclusive")
    end_hour: int = Field(ge=1, le=24, description="Last hour (UTC), exclusive; <= start wraps")
    price_per_kwh: float = Field(ge=0, le=1000)


class SitePowerIn(BaseModel):
    currency: str = Field(pattern=CURRENCY, description="ISO 4217 code of the prices")
    price_per_kwh: float | None = Field(
        default=None, ge=0, le=1000, description="Base price; hours outside the periods"
    )
    tou: list[TouPeriodIn] = Field(default_factory=list, max_length=24)
    pool_fee_pct: float | None = Field(
        default=None, ge=0, lt=100, description="Pool fee in percent of gross revenue"
    )


class SitePowerOut(BaseModel):
    site_id: int
    configured: bool = Field(description="False: never set, every field null (unknown)")
    updated_at: datetime | None
    currency: str | None
    price_per_kwh: float | None
    tou: list[TouPeriodIn]
    pool_fee_pct: float | None
    mean_price_per_kwh: float | None = Field(
        description="Mean of the 24 hourly prices: what a day's evenly spread energy pays"
    )


def _power_out(site_id: int, found: tuple[SitePower, datetime] | None) -> SitePowerOut:
    if found is None:
        return SitePowerOut(
            site_id=site_id,
            configured=False,
            updated_at=None,
            currency=None,
            price_per_kwh=None,
            tou=[],
            pool_fee_pct=None,
            mean_price_per_kwh=None,
        )
    power, updated = found
    return SitePowerOut(
        site_id=site_id,
        configured=True,
        updated_at=updated,
        currency=power.currency,
        price_per_kwh=power.price_per_kwh,
        tou=[
            TouPeriodIn(start_hour=p.start_hour, end_hour=p.end_hour, price_per_kwh=p.price_per_kwh)
            for p in power.periods
        ],
        pool_fee_pct=power.pool_fee_pct,
        mean_price_per_kwh=power.mean_price(),
    )


def _require_site(conn: Connection, site_id: int) -> None:
    if not store.site_exists(conn, site_id):
        raise HTTPException(404, f"no site {site_id}")


@router.get("/sites/{site_id}/power", response_model=SitePowerOut, responses={404: {}})
def get_power(_: Viewer, rw: RW, site_id: int) -> SitePowerOut:
    """A site's power price, time-of-use periods and pool fee (`configured` false and
    nulls until an admin sets them)."""

    def read(conn: Connection) -> tuple[SitePower, datetime] | None:
        _require_site(conn, site_id)
        return store.get_site_power(conn, site_id)

    return _power_out(site_id, rw.read(read))


@router.put("/sites/{site_id}/power", response_model=SitePowerOut, responses={404: {}, 422: {}})
def put_power(who: Admin, rw: RW, site_id: int, body: SitePowerIn) -> SitePowerOut:
    """Set a site's power price (currency per kWh), optional time-of-use periods (hours
    UTC, the same every day, no two covering the same hour) and pool fee."""
    try:
        power = SitePower(
            currency=body.currency.upper(),
            price_per_kwh=body.price_per_kwh,
            periods=tuple(TouPeriod(p.start_hour, p.end_hour, p.price_per_kwh) for p in body.tou),
            pool_fee_pct=body.pool_fee_pct,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    unpriced = [h for h, price in enumerate(power.hourly_prices()) if price is None]
    if unpriced:
        raise HTTPException(
            422, f"hours {unpriced} have no price: give a price_per_kwh or periods covering them"
        )
    now = _now()

    def change(conn: Connection) -> tuple[SitePower, datetime] | None:
        _require_site(conn, site_id)
        store.put_site_power(conn, site_id, power, now)
        detail = jsontext.dumps(body.model_dump())
        store_auth.audit(conn, who.name, "site.power.set", f"site {site_id}", detail)
        return store.get_site_power(conn, site_id)

    return _power_out(site_id, rw.change(change))


# --- model efficiency -----------------------------------------------------------------


class ModelEfficiencyOut(BaseModel):
    make: str
    model: str
    algorithm: str
    hashrate_ths: float
    power_w: float
    efficiency_j_th: float
    source: str


@router.get("/models/efficiency", response_model=list[ModelEfficiencyOut])
def models(_: Viewer) -> list[ModelEfficiencyOut]:
    """Rated hashrate, power and J/TH per ASIC model, with the document each came from;
    a miner without a power reading is costed at its hashrate x its model's J/TH."""
    return [
        ModelEfficiencyOut(
            make=m.make,
            model=m.model,
            algorithm=m.algorithm,
            hashrate_ths=m.hashrate_ths,
            power_w=m.power_w,
            efficiency_j_th=round(m.efficiency_j_th, 4),
            source=m.source,
        )
        for m in model_efficiency.MODELS
    ]
