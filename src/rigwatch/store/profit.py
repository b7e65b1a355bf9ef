"""Profit per day, per farm, site and miner; solo odds; each site's power price.

Builds the inputs of `domain.profit` from what the store holds, and nothing else:

- Work, per miner and day: from the coarsest per-miner rollup with rows that day
  (`rollup_1d`, else `rollup_1h`, else `rollup_5m`, as the snapshots do): hashes =
  Σ hashrate_mean x up_s, energy = Σ power_mean x up_s. A row without a power reading is
  costed at its hashes x the model's rated J/TH (`domain.model_efficiency`), "estimated";
  no rated figure → the miner's energy is unknown.
- Only Bitcoin (SHA-256) miners count: kind asic or bitaxe, not a known non-SHA-256
  model, no other algorithm reported. The others are counted in `excluded_miners`.
- Network: the newest non-NULL difficulty and network hashrate at or before the day's end
  (`network_stats`, chain BTC); none → unknown.
- Reward per block: subsidy by height + fees, averaged over the day's blocks in
  `network_blocks` (fees from `fees_sat`, else `reward_sat` - subsidy); no block of the
  day recorded → unknown.
- Price: the mean of the day's quotes (`prices`, coin BTC) in the chosen currency, and in
  each site's power currency for the conversion; no quote that day → unknown.
- Actual revenue (farm only: payouts land in wallets, not per miner or site): Σ
  `revenue_daily.amount_atomic` of BTC wallets for the day, known when at least one BTC
  wallet exists and every BTC wallet last synced successfully after the day ended (then a
  day without rows paid 0); otherwise unknown and the farm's revenue stays expected.
- Power price and pool fee per site from `site_power`; a site without a row has both
  unknown.

Today is included so far: its figures cover midnight to now and are flagged `partial`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.engine import Connection

from rigwatch.domain import model_efficiency
from rigwatch.domain.models import EventKind, MinerKind
from rigwatch.domain.profit import (
    DayProfit,
    Effort,
    Network,
    PowerSource,
    SitePower,
    SoloOdds,
    TouPeriod,
    Work,
    block_subsidy_sat,
    combine,
    day_profit,
    effort,
    mean_block_reward_sat,
    solo_odds,
    with_actual,
)
from rigwatch.store import jsontext
from rigwatch.store.dialect import insert_for
from rigwatch.store.tables import (
    events,
    miner_state,
    miners,
    network_blocks,
    network_stats,
    prices,
    revenue_daily,
    rollup_1d,
    rollup_1h,
    rollup_5m,
    sentries,
    site_power,
    sites,
    wallets,
)
from rigwatch.store.timestamps import from_us, to_us

COIN = "BTC"
DAY_S = 86400
DAY_US = DAY_S * 1_000_000
HOUR_US = 3600 * 1_000_000
SHA256_KINDS = (MinerKind.ASIC.value, MinerKind.BITAXE.value)
PER_MINER: tuple[Table, ...] = (rollup_1d, rollup_1h, rollup_5m)
REWARD_BLOCKS = 144  # solo: the reward per block is the mean over about a day of blocks
SOLO_BLOCKS = 20  # solo: the newest blocks found whose effort is shown


class Scope(StrEnum):
    FARM = "farm"
    SITE = "site"
    MINER = "miner"


# --- site power -----------------------------------------------------------------------


def site_exists(conn: Connection, site_id: int) -> bool:
    return conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first() is not None


def _periods(text: str | None) -> tuple[TouPeriod, ...]:
    return tuple(
        TouPeriod(int(p["start_hour"]), int(p["end_hour"]), float(p["price_per_kwh"]))
        for p in jsontext.loads(text) or []
    )


def _site_power(row: Any) -> SitePower:
    return SitePower(
        currency=row.currency,
        price_per_kwh=row.price_per_kwh,
        periods=_periods(row.tou),
        pool_fee_pct=row.pool_fee_pct,
    )


def get_site_power(conn: Connection, site_id: int) -> tuple[SitePower, datetime] | None:
    """A site's power price and pool fee with when they were set; None when never set."""
    row = conn.execute(select(site_power).where(site_power.c.site_id == site_id)).first()
    return None if row is None else (_site_power(row), from_us(row.updated_at))


def all_site_power(conn: Connection) -> dict[int, SitePower]:
    return {int(r.site_id): _site_power(r) for r in conn.execute(select(site_power))}


def put_site_power(conn: Connection, site_id: int, power: SitePower, now: datetime) -> None:
    """Set (or replace) a site's power price and pool fee."""
    values = {
        "site_id": site_id,
        "currency": power.currency,
        "price_per_kwh": power.price_per_kwh,
        "tou": jsontext.dumps(
            [
                {
                    "start_hour": p.start_hour,
                    "end_hour": p.end_hour,
                    "price_per_kwh": p.price_per_kwh,
                }
                for p in power.periods
            ]
        ),
        "pool_fee_pct": power.pool_fee_pct,
        "updated_at": to_us(now),
    }
    stmt = insert_for(conn, site_power).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[site_power.c.site_id],
            set_={k: getattr(stmt.excluded, k) for k in values if k != "site_id"},
        )
    )


# --- miners ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinerInfo:
    id: int
    name: str
    site_id: int
    model: str | None
    rated: model_efficiency.ModelEfficiency | None


def _is_sha256(kind: str, model: str | None, algorithm: str | None) -> bool:
    if kind not in SHA256_KINDS or model_efficiency.is_non_sha256(model):
        return False
    return algorithm is None or "sha" in algorithm.lower()


def _miners(conn: Connection) -> tuple[dict[int, MinerInfo], int]:
    """The Bitcoin miners by id, and how many others there are."""
    query = select(
        miners.c.id,
        miners.c.key,
        miners.c.hostname,
        miners.c.kind,
        miners.c.model,
        sentries.c.site_id,
        miner_state.c.algorithm,
    ).select_from(
        miners.join(sentries, sentries.c.id == miners.c.sentry_id).outerjoin(
            miner_state, miner_state.c.miner_id == miners.c.id
        )
    )
    found: dict[int, MinerInfo] = {}
    excluded = 0
    for r in conn.execute(query):
        if not _is_sha256(r.kind, r.model, r.algorithm):
            excluded += 1
            continue
        found[int(r.id)] = MinerInfo(
            id=int(r.id),
            name=r.hostname or r.key,
            site_id=int(r.site_id),
            model=r.model,
            rated=model_efficiency.lookup(r.model),
        )
    return found, excluded


def _site_names(conn: Connection) -> dict[int, str]:
    return {int(r.id): r.name for r in conn.execute(select(sites.c.id, sites.c.name))}


@dataclass(frozen=True, slots=True)
class _Rollup:
    hashes: float
    hashes_missing: bool  # up with no hashrate reading in some row
    measured_j: float
    measured_rows: int
    unpowered_hashes: float
    unpowered_rows: int
    up_s: float


def _rollups(conn: Connection, start_us: int, end_us: int) -> dict[int, _Rollup]:
    """Per miner, the day's sums from the coarsest rollup with rows in [start, end)."""
    for t in PER_MINER:
        up = t.c.up_s > 0
        has_hash = t.c.hashrate_mean.is_not(None)
        has_power = t.c.power_mean.is_not(None)
        query = (
            select(
                t.c.miner_id,
                func.sum(case((has_hash, t.c.hashrate_mean * t.c.up_s), else_=0.0)),
                func.sum(case((and_(up, ~has_hash), 1), else_=0)),
                func.sum(case((has_power, t.c.power_mean * t.c.up_s), else_=0.0)),
                func.sum(case((and_(up, has_power), 1), else_=0)),
                func.sum(
                    case((and_(has_hash, ~has_power), t.c.hashrate_mean * t.c.up_s), else_=0.0)
                ),
                func.sum(case((and_(up, ~has_power), 1), else_=0)),
                func.sum(t.c.up_s),
            )
            .where(t.c.bucket >= start_us, t.c.bucket < end_us)
            .group_by(t.c.miner_id)
        )
        found = {
            int(r[0]): _Rollup(
                hashes=float(r[1] or 0.0),
                hashes_missing=bool(r[2]),
                measured_j=float(r[3] or 0.0),
                measured_rows=int(r[4] or 0),
                unpowered_hashes=float(r[5] or 0.0),
                unpowered_rows=int(r[6] or 0),
                up_s=float(r[7] or 0.0),
            )
            for r in conn.execute(query)
        }
        if found:
            return found
    return {}


def miner_work(
    roll: _Rollup, rated: model_efficiency.ModelEfficiency | None, seconds: float
) -> Work:
    """A miner's day from its rollup sums: readings where there are some, the rated
    efficiency for the rows without."""
    hashes = None if roll.hashes_missing else roll.hashes
    if roll.up_s <= 0:
        return Work(seconds, hashes, 0.0, PowerSource.NONE)
    if roll.unpowered_rows == 0:
        return Work(seconds, hashes, roll.measured_j / 3.6e6, PowerSource.MEASURED)
    if rated is None or roll.hashes_missing:
        return Work(seconds, hashes, None, PowerSource.UNKNOWN)
    estimated_j = roll.unpowered_hashes / 1e12 * rated.efficiency_j_th
    source = PowerSource.MIXED if roll.measured_rows else PowerSource.ESTIMATED
    return Work(seconds, hashes, (roll.measured_j + estimated_j) / 3.6e6, source)


# --- the network ----------------------------------------------------------------------


def _newest(conn: Connection, column: Any, before_us: int) -> tuple[float, int] | None:
    """The newest non-NULL value of a network_stats column at or before `before_us`."""
    row = conn.execute(
        select(column, network_stats.c.ts)
        .where(
            network_stats.c.chain == COIN,
            network_stats.c.ts <= before_us,
            column.is_not(None),
        )
        .order_by(network_stats.c.ts.desc())
        .limit(1)
    ).first()
    return None if row is None else (float(row[0]), int(row[1]))


def _reward_of(rows: Iterable[Any]) -> float | None:
    blocks: list[tuple[int, int | None]] = []
    for r in rows:
        height = int(r.height)
        fees = r.fees_sat
        if fees is None and r.reward_sat is not None:
            fees = int(r.reward_sat) - block_subsidy_sat(height)
        blocks.append((height, None if fees is None else int(fees)))
    return mean_block_reward_sat(blocks)


def _day_reward(conn: Connection, start_us: int, end_us: int) -> float | None:
    rows = conn.execute(
        select(
            network_blocks.c.height, network_blocks.c.fees_sat, network_blocks.c.reward_sat
        ).where(
            network_blocks.c.chain == COIN,
            network_blocks.c.ts >= start_us,
            network_blocks.c.ts < end_us,
        )
    )
    return _reward_of(rows)


def _day_prices(
    conn: Connection, currencies: Iterable[str], start_us: int, end_us: int
) -> dict[str, float | None]:
    wanted = sorted(set(currencies))
    rows = conn.execute(
        select(prices.c.currency, func.avg(prices.c.price))
        .where(
            prices.c.coin == COIN,
            prices.c.currency.in_(wanted),
            prices.c.ts >= start_us,
            prices.c.ts < end_us,
        )
        .group_by(prices.c.currency)
    )
    found: dict[str, float | None] = dict.fromkeys(wanted)
    for row in rows:
        found[str(row[0])] = None if row[1] is None else float(row[1])
    return found


def _network(
    conn: Connection, currency: str, day_prices: dict[str, float | None], start_us: int, end_us: int
) -> Network:
    difficulty = _newest(conn, network_stats.c.difficulty, end_us)
    hashrate = _newest(conn, network_stats.c.network_hashrate_hs, end_us)
    return Network(
        difficulty=None if difficulty is None else difficulty[0],
        network_hashrate_hs=None if hashrate is None else hashrate[0],
        reward_sat=_day_reward(conn, start_us, end_us),
        price=day_prices.get(currency),
        currency=currency,
    )


def _actual_paid(conn: Connection, day: date, end_us: int) -> int | None:
    """Satoshis paid to the BTC wallets on `day`, when every one has synced past it."""
    synced = conn.execute(
        select(
            func.count(), func.min(wallets.c.last_success_at), func.count(wallets.c.last_success_at)
        ).where(wallets.c.coin == COIN)
    ).one()
    count, oldest, with_success = int(synced[0]), synced[1], int(synced[2])
    if count == 0 or with_success < count or oldest is None or int(oldest) < end_us:
        return None
    total = conn.execute(
        select(func.sum(revenue_daily.c.amount_atomic)).where(
            revenue_daily.c.coin == COIN, revenue_daily.c.day == day.isoformat()
        )
    ).scalar()
    return int(total or 0)


# --- daily profit ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfitRow:
    """One scope's day: the farm, a site (`id` its id) or a miner (`site_id` its site)."""

    day: date
    scope: Scope
    id: int | None
    name: str
    site_id: int | None
    partial: bool
    miners: int
    profit: DayProfit


@dataclass(frozen=True, slots=True)
class DailyProfit:
    currency: str
    coin: str
    excluded_miners: int
    rows: tuple[ProfitRow, ...]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _fee_of(powers: Iterable[SitePower | None]) -> float | None:
    fees = {None if p is None else p.pool_fee_pct for p in powers}
    return fees.pop() if len(fees) == 1 else None


def _one_day(
    conn: Connection,
    day: date,
    now: datetime,
    by: Scope,
    currency: str,
    known: dict[int, MinerInfo],
    site_names: dict[int, str],
    powers: dict[int, SitePower],
) -> list[ProfitRow]:
    start_us = to_us(day_start(day))
    end_us = min(start_us + DAY_US, to_us(now))
    seconds = (end_us - start_us) / 1e6
    partial = end_us < start_us + DAY_US
    currencies = {currency, *(p.currency for p in powers.values())}
    day_prices = _day_prices(conn, currencies, start_us, end_us)
    network = _network(conn, currency, day_prices, start_us, end_us)

    per_site: dict[int, list[tuple[MinerInfo, DayProfit]]] = defaultdict(list)
    for miner_id, roll in sorted(_rollups(conn, start_us, end_us).items()):
        info = known.get(miner_id)
        if info is None:
            continue
        work = miner_work(roll, info.rated, seconds)
        per_site[info.site_id].append(
            (info, day_profit(work, network, powers.get(info.site_id), day_prices))
        )

    rows: list[ProfitRow] = []
    if by is Scope.MINER:
        for site_id in sorted(per_site):
            for info, result in per_site[site_id]:
                rows.append(ProfitRow(day, by, info.id, info.name, site_id, partial, 1, result))
        return rows
    site_results = {
        site_id: combine([r for _i, r in parts], network, seconds)
        for site_id, parts in sorted(per_site.items())
    }
    if by is Scope.SITE:
        return [
            ProfitRow(
                day,
                by,
                site_id,
                site_names.get(site_id, str(site_id)),
                site_id,
                partial,
                len(per_site[site_id]),
                result,
            )
            for site_id, result in site_results.items()
        ]
    farm = combine(list(site_results.values()), network, seconds)
    fee = _fee_of(powers.get(s) for s in site_results) if site_results else None
    farm = with_actual(farm, _actual_paid(conn, day, start_us + DAY_US), fee, network)
    count = sum(len(parts) for parts in per_site.values())
    return [ProfitRow(day, by, None, "farm", None, partial, count, farm)]


def daily_profit(
    conn: Connection, *, days: int, by: Scope, currency: str, now: datetime
) -> DailyProfit:
    """The last `days` UTC days (today so far included), newest first."""
    known, excluded = _miners(conn)
    site_names = _site_names(conn)
    powers = all_site_power(conn)
    today = now.astimezone(UTC).date()
    rows: list[ProfitRow] = []
    for back in range(days):
        day = today - timedelta(days=back)
        rows.extend(_one_day(conn, day, now, by, currency, known, site_names, powers))
    return DailyProfit(currency=currency, coin=COIN, excluded_miners=excluded, rows=tuple(rows))


def farm_day(conn: Connection, day: date, *, currency: str, now: datetime) -> ProfitRow:
    """The farm's row of one UTC day as `daily_profit(by=FARM)` gives it, without the
    days between it and today (a snapshot of a day long past reads one day)."""
    known, _excluded = _miners(conn)
    (row,) = _one_day(
        conn, day, now, Scope.FARM, currency, known, _site_names(conn), all_site_power(conn)
    )
    return row


def day_price(conn: Connection, day: date, currency: str, now: datetime) -> float | None:
    """The day's Bitcoin price in `currency` as the day's figures use it: the mean of its
    quotes (today: so far); None when there is none."""
    start_us = to_us(day_start(day))
    end_us = min(start_us + DAY_US, to_us(now))
    return _day_prices(conn, [currency], start_us, end_us)[currency]


# --- solo -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockEffort:
    ts: datetime
    miner_id: int | None
    effort: Effort


@dataclass(frozen=True, slots=True)
class SoloReport:
    """The farm as one solo miner now. `*_at`: when each network figure was read."""

    currency: str
    miners: int
    odds: SoloOdds
    difficulty_at: datetime | None
    network_hashrate_at: datetime | None
    reward_sat: float | None
    price: float | None
    price_at: datetime | None
    expected_revenue_sat_per_day: float | None
    expected_revenue_per_day: float | None
    blocks: tuple[BlockEffort, ...]
    overall: Effort


def _live_hashrate(
    conn: Connection, known: dict[int, MinerInfo], now: datetime, offline_after_s: float
) -> tuple[float, int]:
    cutoff = to_us(now - timedelta(seconds=offline_after_s))
    query = select(miner_state.c.miner_id, miner_state.c.hashrate_hs).where(
        miner_state.c.last_sample_ts >= cutoff, miner_state.c.status != "offline"
    )
    total, count = 0.0, 0
    for r in conn.execute(query):
        if int(r.miner_id) in known and r.hashrate_hs is not None:
            total += float(r.hashrate_hs)
            count += 1
    return total, count


def _latest_price(conn: Connection, currency: str, now_us: int) -> tuple[float, int] | None:
    row = conn.execute(
        select(prices.c.price, prices.c.ts)
        .where(prices.c.coin == COIN, prices.c.currency == currency, prices.c.ts <= now_us)
        .order_by(prices.c.ts.desc())
        .limit(1)
    ).first()
    return None if row is None else (float(row[0]), int(row[1]))


def _recent_reward(conn: Connection) -> float | None:
    rows = conn.execute(
        select(network_blocks.c.height, network_blocks.c.fees_sat, network_blocks.c.reward_sat)
        .where(network_blocks.c.chain == COIN)
        .order_by(network_blocks.c.height.desc())
        .limit(REWARD_BLOCKS)
    )
    return _reward_of(rows)


def _hourly_work(
    conn: Connection, ids: list[int], start_us: int, end_us: int
) -> dict[int, float | None]:
    """Hashes per hour bucket [start, end) of the given miners (None: a miner up
    without a hashrate reading)."""
    t = rollup_1h
    query = (
        select(
            t.c.bucket,
            func.sum(
                case((t.c.hashrate_mean.is_not(None), t.c.hashrate_mean * t.c.up_s), else_=0.0)
            ),
            func.sum(case((and_(t.c.up_s > 0, t.c.hashrate_mean.is_(None)), 1), else_=0)),
        )
        .where(t.c.miner_id.in_(ids), t.c.bucket >= start_us, t.c.bucket < end_us)
        .group_by(t.c.bucket)
    )
    return {int(r[0]): None if r[2] else float(r[1] or 0.0) for r in conn.execute(query)}


def _block_efforts(
    conn: Connection, known: dict[int, MinerInfo], now_us: int
) -> tuple[tuple[BlockEffort, ...], Effort]:
    """Effort of the farm's newest blocks: the hashes its Bitcoin miners did (hourly
    rollups) since the previous block (or since the first hour of data), each hour at the
    difficulty in force at its end. Hours are whole: an hour counts for the first block
    found at or after its start."""
    ids = sorted(known)
    found = list(
        conn.execute(
            select(events.c.ts, events.c.miner_id)
            .where(events.c.kind == EventKind.BLOCK_FOUND.value, events.c.miner_id.in_(ids))
            .order_by(events.c.ts.desc())
            .limit(SOLO_BLOCKS + 1)
        )
    )
    if not ids or not found:
        return (), effort([], 0)
    found.reverse()
    first = conn.execute(
        select(func.min(rollup_1h.c.bucket)).where(rollup_1h.c.miner_id.in_(ids))
    ).scalar()
    # With more blocks than shown, the oldest fetched one only marks where work starts.
    if len(found) > SOLO_BLOCKS:
        shown = found[1:]
        marker = int(found[0].ts)
        start_us = marker - marker % HOUR_US + HOUR_US
    else:
        shown = found
        begin = int(first) if first is not None else int(found[0].ts)
        start_us = begin - begin % HOUR_US
    work = _hourly_work(conn, ids, start_us, now_us)
    hours = sorted(work)
    diffs = list(
        conn.execute(
            select(network_stats.c.ts, network_stats.c.difficulty)
            .where(network_stats.c.chain == COIN, network_stats.c.difficulty.is_not(None))
            .where(network_stats.c.ts <= now_us)
            .order_by(network_stats.c.ts)
        )
    )
    diff_ts = [int(d.ts) for d in diffs]

    def difficulty_at(ts_us: int) -> float | None:
        i = bisect.bisect_right(diff_ts, ts_us)
        return None if i == 0 else float(diffs[i - 1].difficulty)

    results: list[BlockEffort] = []
    all_work: list[tuple[float | None, float | None]] = []
    previous = start_us
    for block in shown:
        ts = int(block.ts)
        stretch = [(work[h], difficulty_at(h + HOUR_US)) for h in hours if previous <= h <= ts]
        results.append(
            BlockEffort(
                from_us(ts),
                None if block.miner_id is None else int(block.miner_id),
                effort(stretch),
            )
        )
        all_work.extend(stretch)
        previous = ts - ts % HOUR_US + HOUR_US
    return tuple(results), effort(all_work, len(shown))


def solo(conn: Connection, *, currency: str, now: datetime, offline_after_s: float) -> SoloReport:
    """The farm's odds of a block as a solo miner now, and the effort of its blocks."""
    now_us = to_us(now)
    known, _excluded = _miners(conn)
    hashrate, reporting = _live_hashrate(conn, known, now, offline_after_s)
    difficulty = _newest(conn, network_stats.c.difficulty, now_us)
    net_hs = _newest(conn, network_stats.c.network_hashrate_hs, now_us)
    odds = solo_odds(
        hashrate if reporting else None,
        None if difficulty is None else difficulty[0],
        None if net_hs is None else net_hs[0],
    )
    reward = _recent_reward(conn)
    price = _latest_price(conn, currency, now_us)
    per_day_sat = (
        None if odds.blocks_per_day is None or reward is None else odds.blocks_per_day * reward
    )
    blocks, overall = _block_efforts(conn, known, now_us)
    return SoloReport(
        currency=currency,
        miners=reporting,
        odds=odds,
        difficulty_at=None if difficulty is None else from_us(difficulty[1]),
        network_hashrate_at=None if net_hs is None else from_us(net_hs[1]),
        reward_sat=reward,
        price=None if price is None else price[0],
        price_at=None if price is None else from_us(price[1]),
        expected_revenue_sat_per_day=per_day_sat,
        expected_revenue_per_day=(
            None if per_day_sat is None or price is None else per_day_sat * price[0] / 1e8
        ),
        blocks=blocks,
        overall=overall,
    )
