"""Mining profit: revenue, pool fee, power cost and profit of a day; solo-mining odds.

Pure arithmetic on figures the store gathers; no I/O. Bitcoin (SHA-256) only: the
constants below are the protocol's, not estimates.

Every figure carries its `basis`:

- `actual`: from what happened: payouts that landed on the chain, hashes and energy from
  the miners' own readings.
- `expected`: from the odds: what the hashes done should earn on average, or energy from
  a model's rated efficiency (`PowerSource.ESTIMATED`).
- `unknown`: an input is missing. The value is None, never guessed from a constant.

A figure computed from several is `unknown` if any input is, else `expected` if any input
is, else `actual`.

Expected revenue. The issue's formula (share of network hashrate x reward per block x
blocks per day, with blocks per day = network_hashrate x 86400 / (difficulty x 2^32))
simplifies: the network hashrate cancels, leaving

    expected blocks = hashes done / (difficulty x 2^32)

(a hash meets the target with probability 1 / (difficulty x 2^32)). So revenue needs the
difficulty and the reward per block, not the network hashrate, which is only used for the
share and the network's blocks per day shown beside it. `hashes` is what the miners did
in the day: per miner the mean hashrate while up times the seconds up (the rollups'
`hashrate_mean x up_s`), so a miner down half the day earns half.

Reward per block = subsidy (by height: 50 BTC halved every 210,000 blocks, as
`GetBlockSubsidy` in Bitcoin Core) + the mean fees of the day's blocks. Fees unknown →
revenue unknown.

Pool fee. `pool_fee_pct` is the share of gross revenue the pool keeps. Expected: fee =
gross x pct / 100, revenue = gross - fee. Actual: payouts arrive after the pool's fee, so
revenue = payouts and the fee the pool kept = payouts x pct / (100 - pct). A site without
a configured fee has an unknown fee (0 must be said, e.g. for solo mining without a fee).

Power cost. Per site, a price per kWh in the site's currency and optional time-of-use
periods (start hour, end hour, price), the same every day, hours in UTC, start inclusive,
end exclusive, wrapping past midnight when end ≤ start; hours outside every period pay the
base price. When only a day's mean power is known (the daily rollups), the day's energy is
split evenly across its 24 hours, so a full day costs energy x the mean of the 24 hourly
prices. A cost in another currency is converted through the day's Bitcoin prices in both
currencies (cost x price_to / price_from); either price unknown → unknown.

Amounts: satoshis are `int` where exact (payouts); expected satoshis are floats
(fractions of a satoshi are meaningful in an expectation). Fiat amounts are floats and are
not rounded here; the API rounds them (see `commander/api/profit.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

SAT_PER_BTC = 100_000_000
INITIAL_SUBSIDY_SAT = 50 * SAT_PER_BTC
HALVING_INTERVAL = 210_000
TWO_32 = 2**32
DAY_S = 86400
HOURS = 24
J_PER_KWH = 3_600_000.0
H_PER_TH = 1e12


class Basis(StrEnum):
    ACTUAL = "actual"
    EXPECTED = "expected"
    UNKNOWN = "unknown"


class PowerSource(StrEnum):
    """Where energy figures came from."""

    MEASURED = "measured"  # the miners' own power readings
    ESTIMATED = "estimated"  # hashrate x the model's rated J/TH
    MIXED = "mixed"  # some of each
    UNKNOWN = "unknown"  # neither: no reading and no rated efficiency
    NONE = "none"  # nothing hashed: no energy to account for


def combine_basis(*bases: Basis) -> Basis:
    if Basis.UNKNOWN in bases:
        return Basis.UNKNOWN
    if Basis.EXPECTED in bases:
        return Basis.EXPECTED
    return Basis.ACTUAL


def combine_power_sources(sources: Iterable[PowerSource]) -> PowerSource:
    found = set(sources) - {PowerSource.NONE}
    if not found:
        return PowerSource.NONE
    if PowerSource.UNKNOWN in found:
        return PowerSource.UNKNOWN
    if len(found) == 1:
        return found.pop()
    return PowerSource.MIXED


@dataclass(frozen=True, slots=True)
class Figure:
    """A number and how it is known; `value` is None exactly when `basis` is unknown."""

    value: float | None
    basis: Basis

    @classmethod
    def of(cls, value: float | None, basis: Basis) -> Figure:
        if value is None or basis is Basis.UNKNOWN or not math.isfinite(value):
            return UNKNOWN
        return cls(value, basis)

    @property
    def known(self) -> bool:
        return self.value is not None


UNKNOWN = Figure(None, Basis.UNKNOWN)


def _sum(figures: Sequence[Figure]) -> Figure:
    """Sum of figures; unknown if one is (a sum missing a part would understate) and for
    no parts at all (no data is not zero)."""
    if not figures or any(f.value is None for f in figures):
        return UNKNOWN
    return Figure.of(
        sum(f.value or 0.0 for f in figures), combine_basis(*(f.basis for f in figures))
    )


def _op(a: Figure, b: Figure, value: float | None) -> Figure:
    if a.value is None or b.value is None:
        return UNKNOWN
    return Figure.of(value, combine_basis(a.basis, b.basis))


def _mul(a: Figure, b: Figure) -> Figure:
    return _op(a, b, None if a.value is None or b.value is None else a.value * b.value)


def _sub(a: Figure, b: Figure) -> Figure:
    return _op(a, b, None if a.value is None or b.value is None else a.value - b.value)


def _div(a: Figure, b: Figure) -> Figure:
    """a / b; unknown for a zero divisor (a ratio of nothing is not a number)."""
    if a.value is None or b.value is None or b.value == 0:
        return UNKNOWN
    return _op(a, b, a.value / b.value)


def _scale(a: Figure, factor: float) -> Figure:
    return Figure.of(None if a.value is None else a.value * factor, a.basis)


# --- the chain ------------------------------------------------------------------------


def block_subsidy_sat(height: int) -> int:
    """New coins in the block at `height`: 50 BTC halved every 210,000 blocks, rounded
    down to a satoshi by the shift, zero after 64 halvings (Bitcoin Core's
    `GetBlockSubsidy`)."""
    if height < 0:
        raise ValueError(f"negative block height {height}")
    halvings = height // HALVING_INTERVAL
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SAT >> halvings


def next_halving_height(height: int) -> int:
    """The first height after `height` whose subsidy is halved."""
    return (height // HALVING_INTERVAL + 1) * HALVING_INTERVAL


def mean_block_reward_sat(blocks: Iterable[tuple[int, int | None]]) -> float | None:
    """Mean of subsidy + fees over (height, fees in satoshis) of blocks; None when there
    are none or any block's fees are unknown (a halving inside the day is handled, since
    each block gets its own subsidy)."""
    rewards: list[int] = []
    for height, fees in blocks:
        if fees is None:
            return None
        rewards.append(block_subsidy_sat(height) + fees)
    return sum(rewards) / len(rewards) if rewards else None


def blocks_per_day(network_hashrate_hs: float | None, difficulty: float | None) -> float | None:
    """Blocks the whole network finds per day at this hashrate and difficulty
    (144 when the hashrate matches the difficulty's ten-minute target)."""
    if not network_hashrate_hs or not difficulty or network_hashrate_hs < 0 or difficulty <= 0:
        return None
    return network_hashrate_hs * DAY_S / (difficulty * TWO_32)


def expected_blocks(hashes: float | None, difficulty: float | None) -> float | None:
    """Blocks that `hashes` find on average: hashes / (difficulty x 2^32)."""
    if hashes is None or not difficulty or difficulty <= 0 or hashes < 0:
        return None
    return hashes / (difficulty * TWO_32)


def network_share(hashrate_hs: float | None, network_hashrate_hs: float | None) -> float | None:
    if hashrate_hs is None or not network_hashrate_hs or network_hashrate_hs <= 0:
        return None
    return hashrate_hs / network_hashrate_hs


def hashprice_sat(difficulty: float | None, reward_sat: float | None) -> float | None:
    """The network's hashprice: satoshis one TH/s earns in a day, before pool fees:
    1e12 x 86400 / (difficulty x 2^32) x reward."""
    blocks = expected_blocks(H_PER_TH * DAY_S, difficulty)
    return None if blocks is None or reward_sat is None else blocks * reward_sat


# --- power price ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouPeriod:
    """Hours [start_hour, end_hour) of every day (UTC) at `price_per_kwh`; wraps past
    midnight when end_hour <= start_hour (22 → 6 is 22:00-06:00)."""

    start_hour: int
    end_hour: int
    price_per_kwh: float

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour <= 23:
            raise ValueError(f"start_hour {self.start_hour} is not 0-23")
        if not 1 <= self.end_hour <= HOURS:
            raise ValueError(f"end_hour {self.end_hour} is not 1-24")
        if self.start_hour == self.end_hour:
            raise ValueError("a period needs at least one hour (start_hour == end_hour)")
        if not math.isfinite(self.price_per_kwh) or self.price_per_kwh < 0:
            raise ValueError(f"price_per_kwh {self.price_per_kwh} must be a number >= 0")

    def hours(self) -> tuple[int, ...]:
        if self.end_hour > self.start_hour:
            return tuple(range(self.start_hour, self.end_hour))
        return tuple(range(self.start_hour, HOURS)) + tuple(range(self.end_hour % HOURS))


@dataclass(frozen=True, slots=True)
class SitePower:
    """What a site pays for power and to its pool.

    `price_per_kwh` is the base price (None: only the periods are priced; an hour outside
    them then has no known price). `pool_fee_pct` is None until configured.
    """

    currency: str
    price_per_kwh: float | None
    periods: tuple[TouPeriod, ...] = ()
    pool_fee_pct: float | None = None

    def __post_init__(self) -> None:
        if not (3 <= len(self.currency) <= 8 and self.currency.isalpha()):
            raise ValueError(f"currency {self.currency!r} is not a currency code")
        if self.price_per_kwh is not None and (
            not math.isfinite(self.price_per_kwh) or self.price_per_kwh < 0
        ):
            raise ValueError(f"price_per_kwh {self.price_per_kwh} must be a number >= 0")
        if self.pool_fee_pct is not None and not 0 <= self.pool_fee_pct < 100:
            raise ValueError(f"pool_fee_pct {self.pool_fee_pct} must be in [0, 100)")
        taken: dict[int, int] = {}
        for i, period in enumerate(self.periods):
            for hour in period.hours():
                if hour in taken:
                    raise ValueError(f"periods {taken[hour]} and {i} both cover hour {hour}")
                taken[hour] = i

    def price_at(self, hour: int) -> float | None:
        """Price per kWh during hour `hour` (0-23) of the day."""
        for period in self.periods:
            if hour in period.hours():
                return period.price_per_kwh
        return self.price_per_kwh

    def hourly_prices(self) -> tuple[float | None, ...]:
        return tuple(self.price_at(h) for h in range(HOURS))

    def mean_price(self) -> float | None:
        """Mean of the 24 hourly prices: the price of a day's energy split evenly."""
        prices = self.hourly_prices()
        if any(p is None for p in prices):
            return None
        return sum(p or 0.0 for p in prices) / HOURS


def split_evenly(energy_kwh: float) -> tuple[float, ...]:
    """A day's energy across its 24 hours when only the day's mean power is known."""
    return (energy_kwh / HOURS,) * HOURS


def energy_cost(energy_by_hour: Sequence[float], power: SitePower) -> float | None:
    """Cost, in the site's currency, of energy (kWh) used in each hour 0-23 of a day."""
    if len(energy_by_hour) != HOURS:
        raise ValueError(f"need 24 hourly energies, got {len(energy_by_hour)}")
    total = 0.0
    for hour, kwh in enumerate(energy_by_hour):
        if kwh == 0:
            continue
        price = power.price_at(hour)
        if price is None:
            return None
        total += kwh * price
    return total


def convert(amount: float | None, price_from: float | None, price_to: float | None) -> float | None:
    """An amount in one currency in another, through the Bitcoin price in each."""
    if amount is None or not price_from or not price_to or price_from <= 0 or price_to <= 0:
        return None
    return amount * price_to / price_from


# --- a day's profit -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Work:
    """What a miner, a site or the farm did in one day (or the part of it so far).

    `hashes`: Σ hashrate_mean x up_s (None when a miner was up with no hashrate reading).
    `energy_kwh`: Σ power x up_s / 3.6e6, from readings or rated efficiency.
    """

    seconds: float
    hashes: float | None
    energy_kwh: float | None
    power_source: PowerSource


@dataclass(frozen=True, slots=True)
class Network:
    """The chain and market on the day: difficulty and network hashrate from the newest
    network reading at or before the day's end, reward from the day's blocks, the day's
    Bitcoin price in the chosen currency."""

    difficulty: float | None
    network_hashrate_hs: float | None
    reward_sat: float | None
    price: float | None
    currency: str


@dataclass(frozen=True, slots=True)
class DayProfit:
    """One scope's day. Money in `currency`; `*_sat` in satoshis; rates per day."""

    currency: str
    seconds: float
    power_source: PowerSource
    hashes: Figure
    hashrate_hs: Figure  # hashes / seconds: the mean over the whole day so far
    energy_kwh: Figure
    efficiency_j_th: Figure
    network_share: Figure
    network_blocks_per_day: Figure
    expected_blocks: Figure
    gross_revenue_sat: Figure
    pool_fee_sat: Figure
    revenue_sat: Figure
    gross_revenue: Figure
    pool_fee: Figure
    revenue: Figure
    power_cost: Figure
    profit: Figure
    break_even_per_kwh: Figure  # the power price at which profit is zero
    hashprice: Figure  # revenue per TH/s per day, in currency
    hashprice_sat: Figure  # revenue per TH/s per day, in satoshis


def _work_figures(work: Work) -> tuple[Figure, Figure]:
    energy_basis = (
        Basis.ACTUAL
        if work.power_source in (PowerSource.MEASURED, PowerSource.NONE)
        else Basis.EXPECTED
    )
    hashes = Figure.of(work.hashes, Basis.ACTUAL)
    if work.power_source is PowerSource.UNKNOWN:
        return hashes, UNKNOWN
    return hashes, Figure.of(work.energy_kwh, energy_basis)


def _assemble(
    *,
    seconds: float,
    power_source: PowerSource,
    hashes: Figure,
    energy: Figure,
    expected: Figure,
    gross_sat: Figure,
    fee_sat: Figure,
    revenue_sat: Figure,
    power_cost: Figure,
    network: Network,
) -> DayProfit:
    price = Figure.of(network.price, Basis.ACTUAL)
    fiat = 1.0 / SAT_PER_BTC
    gross = _scale(_mul(gross_sat, price), fiat)
    fee = _scale(_mul(fee_sat, price), fiat)
    revenue = _scale(_mul(revenue_sat, price), fiat)
    ths_days = _scale(hashes, 1.0 / (H_PER_TH * DAY_S))  # TH/s sustained for a day
    hashrate = _div(hashes, Figure(seconds, Basis.ACTUAL)) if seconds > 0 else UNKNOWN
    net_hs = Figure.of(network.network_hashrate_hs, Basis.EXPECTED)
    return DayProfit(
        currency=network.currency,
        seconds=seconds,
        power_source=power_source,
        hashes=hashes,
        hashrate_hs=hashrate,
        energy_kwh=energy,
        efficiency_j_th=_div(_scale(energy, J_PER_KWH), _scale(hashes, 1.0 / H_PER_TH)),
        network_share=_div(hashrate, net_hs),
        network_blocks_per_day=Figure.of(
            blocks_per_day(network.network_hashrate_hs, network.difficulty), Basis.EXPECTED
        ),
        expected_blocks=expected,
        gross_revenue_sat=gross_sat,
        pool_fee_sat=fee_sat,
        revenue_sat=revenue_sat,
        gross_revenue=gross,
        pool_fee=fee,
        revenue=revenue,
        power_cost=power_cost,
        profit=_sub(revenue, power_cost),
        break_even_per_kwh=_div(revenue, energy),
        hashprice=_div(revenue, ths_days),
        hashprice_sat=_div(revenue_sat, ths_days),
    )


def _power_cost(
    energy: Figure, power: SitePower | None, network: Network, price_of: dict[str, float | None]
) -> Figure:
    if energy.value is None or power is None:
        return UNKNOWN
    if energy.value == 0:
        return Figure(0.0, energy.basis)
    cost = energy_cost(split_evenly(energy.value), power)
    if power.currency != network.currency:
        cost = convert(cost, price_of.get(power.currency), network.price)
    return Figure.of(cost, energy.basis)


def day_profit(
    work: Work,
    network: Network,
    power: SitePower | None,
    prices: dict[str, float | None] | None = None,
) -> DayProfit:
    """Expected figures of one miner or one site (one tariff, one pool fee).

    `prices`: the day's Bitcoin price per currency, for a site priced in another currency
    than `network.currency`.
    """
    hashes, energy = _work_figures(work)
    expected = Figure.of(expected_blocks(work.hashes, network.difficulty), Basis.EXPECTED)
    reward = Figure.of(network.reward_sat, Basis.EXPECTED)
    gross_sat = _mul(expected, reward)
    pct = None if power is None else power.pool_fee_pct
    fee_sat = _scale(gross_sat, pct / 100.0) if pct is not None else UNKNOWN
    return _assemble(
        seconds=work.seconds,
        power_source=work.power_source,
        hashes=hashes,
        energy=energy,
        expected=expected,
        gross_sat=gross_sat,
        fee_sat=fee_sat,
        revenue_sat=_sub(gross_sat, fee_sat),
        power_cost=_power_cost(energy, power, network, prices or {}),
        network=network,
    )


def combine(parts: Sequence[DayProfit], network: Network, seconds: float) -> DayProfit:
    """Sites into the farm, miners into a site: sums of the additive figures, ratios
    recomputed from the sums. A part with an unknown figure makes the sum unknown, and so
    does having no parts (a day without data)."""
    return _assemble(
        seconds=seconds,
        power_source=combine_power_sources(p.power_source for p in parts),
        hashes=_sum([p.hashes for p in parts]),
        energy=_sum([p.energy_kwh for p in parts]),
        expected=_sum([p.expected_blocks for p in parts]),
        gross_sat=_sum([p.gross_revenue_sat for p in parts]),
        fee_sat=_sum([p.pool_fee_sat for p in parts]),
        revenue_sat=_sum([p.revenue_sat for p in parts]),
        power_cost=_sum([p.power_cost for p in parts]),
        network=network,
    )


def with_actual(
    day: DayProfit, paid_sat: int | None, pool_fee_pct: float | None, network: Network
) -> DayProfit:
    """The day with its revenue replaced by what was actually paid (satoshis received,
    after the pool's fee). Unchanged when the payouts are not known."""
    if paid_sat is None:
        return day
    revenue_sat = Figure(float(paid_sat), Basis.ACTUAL)
    if pool_fee_pct is None:
        fee_sat = UNKNOWN
    else:
        fee_sat = Figure(paid_sat * pool_fee_pct / (100.0 - pool_fee_pct), Basis.ACTUAL)
    return _assemble(
        seconds=day.seconds,
        power_source=day.power_source,
        hashes=day.hashes,
        energy=day.energy_kwh,
        expected=day.expected_blocks,
        gross_sat=_op(
            revenue_sat, fee_sat, None if fee_sat.value is None else paid_sat + fee_sat.value
        ),
        fee_sat=fee_sat,
        revenue_sat=revenue_sat,
        power_cost=day.power_cost,
        network=network,
    )


# --- solo mining ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoloOdds:
    """A solo miner's chances at `hashrate_hs` against `difficulty`.

    `blocks_per_day` = hashrate x 86400 / (difficulty x 2^32), the Poisson rate λ;
    `p_block_per_day` = 1 - e^(-λ), the probability of at least one block in a day;
    `expected_seconds_to_block` = difficulty x 2^32 / hashrate, the mean wait;
    `one_in` = network hashrate / hashrate: one block in so many network blocks;
    `share` = hashrate / network hashrate.
    """

    hashrate_hs: float | None
    difficulty: float | None
    network_hashrate_hs: float | None
    blocks_per_day: float | None
    p_block_per_day: float | None
    expected_seconds_to_block: float | None
    share: float | None
    one_in: float | None


def solo_odds(
    hashrate_hs: float | None, difficulty: float | None, network_hashrate_hs: float | None
) -> SoloOdds:
    rate = None if hashrate_hs is None else expected_blocks(hashrate_hs * DAY_S, difficulty)
    share = network_share(hashrate_hs, network_hashrate_hs)
    return SoloOdds(
        hashrate_hs=hashrate_hs,
        difficulty=difficulty,
        network_hashrate_hs=network_hashrate_hs,
        blocks_per_day=rate,
        p_block_per_day=None if rate is None else -math.expm1(-rate),
        expected_seconds_to_block=(
            None
            if hashrate_hs is None or hashrate_hs <= 0 or not difficulty or difficulty <= 0
            else difficulty * TWO_32 / hashrate_hs
        ),
        share=share,
        one_in=None if not share else 1.0 / share,
    )


@dataclass(frozen=True, slots=True)
class Effort:
    """Effort of `blocks` found with some work: `expected` = Σ hashes_i / (difficulty_i x
    2^32) over the stretches of work (each at its own difficulty) is how many blocks that
    work should have found; effort = expected / blocks x 100 % (under 100 % is lucky: the
    block came sooner than average); luck = blocks / expected x 100 %."""

    blocks: int
    expected: float | None
    effort_pct: float | None
    luck_pct: float | None


def effort(work: Iterable[tuple[float | None, float | None]], blocks: int = 1) -> Effort:
    """Effort of `blocks` found with `work`: (hashes, difficulty) pairs; any unknown →
    unknown."""
    expected = 0.0
    for hashes, difficulty in work:
        part = expected_blocks(hashes, difficulty)
        if part is None:
            return Effort(blocks, None, None, None)
        expected += part
    return Effort(
        blocks=blocks,
        expected=expected,
        effort_pct=expected / blocks * 100.0 if blocks > 0 else None,
        luck_pct=blocks / expected * 100.0 if expected > 0 else None,
    )
