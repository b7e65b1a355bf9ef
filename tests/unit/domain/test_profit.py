"""Profit on worked examples: every number is written here and recomputed by hand in
the comments.

The running example: one 100 TH/s miner hashing all day at 3000 W, against difficulty
1e14 (about today's), a block reward of 3.125 BTC subsidy + 0.125 BTC fees, Bitcoin at
100,000 USD, power at 0.05 USD/kWh and a 2 % pool fee.
"""

from __future__ import annotations

import math

import pytest

from rigwatch.domain import model_efficiency
from rigwatch.domain.profit import (
    UNKNOWN,
    Basis,
    Figure,
    Network,
    PowerSource,
    SitePower,
    TouPeriod,
    Work,
    block_subsidy_sat,
    blocks_per_day,
    combine,
    combine_basis,
    convert,
    day_profit,
    effort,
    energy_cost,
    expected_blocks,
    hashprice_sat,
    mean_block_reward_sat,
    network_share,
    next_halving_height,
    solo_odds,
    split_evenly,
    with_actual,
)

TH = 1e12
DAY = 86400
DIFFICULTY = 1e14
NETWORK_HS = 7e20  # 700 EH/s
REWARD = 325_000_000  # 3.125 BTC subsidy + 0.125 BTC fees, in satoshis
USD = 100_000.0
SITE = SitePower("USD", 0.05, pool_fee_pct=2.0)


def network(**changes: object) -> Network:
    fields: dict[str, object] = {
        "difficulty": DIFFICULTY,
        "network_hashrate_hs": NETWORK_HS,
        "reward_sat": float(REWARD),
        "price": USD,
        "currency": "USD",
    }
    fields.update(changes)
    return Network(**fields)  # type: ignore[arg-type]


def full_day(hashrate_hs: float = 100 * TH, power_w: float = 3000.0) -> Work:
    # hashes = hashrate x 86400 s; energy = W x 24 h / 1000
    return Work(DAY, hashrate_hs * DAY, power_w * 24 / 1000, PowerSource.MEASURED)


# --- the chain ------------------------------------------------------------------------


def test_the_subsidy_halves_every_210000_blocks():
    # 50 BTC = 5,000,000,000 sat until block 209,999; then 25, 12.5, 6.25, 3.125 BTC
    assert block_subsidy_sat(0) == 5_000_000_000
    assert block_subsidy_sat(209_999) == 5_000_000_000
    assert block_subsidy_sat(210_000) == 2_500_000_000
    assert block_subsidy_sat(630_000) == 625_000_000
    assert block_subsidy_sat(839_999) == 625_000_000
    assert block_subsidy_sat(840_000) == 312_500_000
    assert next_halving_height(840_000) == 1_050_000
    assert next_halving_height(839_999) == 840_000


def test_the_subsidy_rounds_down_to_a_satoshi_and_ends_after_64_halvings():
    # 5e9 >> 32 = 5e9 / 4,294,967,296 = 1.16 -> 1 sat; >> 33 -> 0; 64 halvings -> 0
    assert block_subsidy_sat(32 * 210_000) == 1
    assert block_subsidy_sat(33 * 210_000) == 0
    assert block_subsidy_sat(64 * 210_000) == 0
    with pytest.raises(ValueError):
        block_subsidy_sat(-1)


def test_a_day_with_a_halving_averages_each_blocks_own_subsidy_and_fees():
    # (6.25 BTC + 0.1) and (3.125 BTC + 0.2): (635,000,000 + 332,500,000) / 2 = 483,750,000
    blocks = [(839_999, 10_000_000), (840_000, 20_000_000)]
    assert mean_block_reward_sat(blocks) == 483_750_000
    assert mean_block_reward_sat([]) is None
    assert mean_block_reward_sat([(840_000, None)]) is None


def test_blocks_per_day_come_from_network_hashrate_and_difficulty():
    # 7e20 x 86400 / (1e14 x 2^32) = 6.048e25 / 4.294967296e23 = 140.81597...
    assert blocks_per_day(NETWORK_HS, DIFFICULTY) == pytest.approx(140.81597328186035)
    assert blocks_per_day(None, DIFFICULTY) is None
    assert blocks_per_day(NETWORK_HS, None) is None
    assert blocks_per_day(NETWORK_HS, 0) is None


def test_expected_revenue_is_share_times_reward_times_network_blocks():
    # 100 TH/s for a day: 8.64e18 hashes; / (1e14 x 2^32) = 86400 / 2^32 = 2.0116567e-5 blocks
    hashes = 100 * TH * DAY
    blocks = expected_blocks(hashes, DIFFICULTY)
    assert blocks == pytest.approx(2.0116567611694336e-5)
    # x 325,000,000 sat = 6537.884 sat
    assert blocks is not None
    assert blocks * REWARD == pytest.approx(6537.884473800659)
    # the form: share 1e14 / 7e20 = 1.4286e-7 x 140.816 blocks x 325e6 sat, the same
    share = network_share(100 * TH, NETWORK_HS)
    per_day = blocks_per_day(NETWORK_HS, DIFFICULTY)
    assert share is not None and per_day is not None
    assert share * per_day * REWARD == pytest.approx(6537.884473800659)


def test_the_network_hashprice_is_what_one_th_earns_in_a_day():
    # 1e12 x 86400 / (1e14 x 2^32) x 325e6 = 65.3788 sat per TH/s per day
    assert hashprice_sat(DIFFICULTY, REWARD) == pytest.approx(65.37884473800659)
    assert hashprice_sat(None, REWARD) is None


# --- a day's profit -------------------------------------------------------------------


def test_a_full_day_of_one_miner_worked_through():
    day = day_profit(full_day(), network(), SITE)
    # gross 6537.884 sat x 100,000 USD / 1e8 = 6.537884 USD
    assert day.gross_revenue_sat.value == pytest.approx(6537.884473800659)
    assert day.gross_revenue.value == pytest.approx(6.537884473800659)
    # pool fee 2 %: 130.7577 sat = 0.130758 USD; revenue 6407.1268 sat = 6.407127 USD
    assert day.pool_fee_sat.value == pytest.approx(130.75768947601318)
    assert day.pool_fee.value == pytest.approx(0.13075768947601318)
    assert day.revenue_sat.value == pytest.approx(6407.126784324646)
    assert day.revenue.value == pytest.approx(6.407126784324646)
    # 3000 W x 24 h = 72 kWh x 0.05 USD = 3.60 USD
    assert day.energy_kwh.value == pytest.approx(72.0)
    assert day.power_cost.value == pytest.approx(3.60)
    # profit 6.407127 - 3.60 = 2.807127 USD
    assert day.profit.value == pytest.approx(2.807126784324646)
    # break-even: 6.407127 USD / 72 kWh = 0.088988 USD/kWh
    assert day.break_even_per_kwh.value == pytest.approx(0.08898787200450897)
    # hashprice: 6.407127 USD / 100 TH/s = 0.064071 USD per TH/s per day; 64.071 sat
    assert day.hashprice.value == pytest.approx(0.06407126784324646)
    assert day.hashprice_sat.value == pytest.approx(64.07126784324646)
    # efficiency: 72 kWh = 259.2 MJ over 8.64e6 TH = 30 J/TH
    assert day.efficiency_j_th.value == pytest.approx(30.0)
    # mean hashrate 1e14 H/s; share 1e14 / 7e20 = 1.428571e-7
    assert day.hashrate_hs.value == pytest.approx(100 * TH)
    assert day.network_share.value == pytest.approx(1.4285714285714285e-7)
    assert day.network_blocks_per_day.value == pytest.approx(140.81597328186035)


def test_expected_revenue_is_expected_and_measured_power_is_actual():
    day = day_profit(full_day(), network(), SITE)
    assert day.revenue.basis is Basis.EXPECTED
    assert day.power_cost.basis is Basis.ACTUAL
    assert day.hashes.basis is Basis.ACTUAL
    assert day.profit.basis is Basis.EXPECTED  # expected - actual
    assert combine_basis(Basis.ACTUAL, Basis.ACTUAL) is Basis.ACTUAL
    assert combine_basis(Basis.ACTUAL, Basis.UNKNOWN, Basis.EXPECTED) is Basis.UNKNOWN


def test_a_miner_up_half_the_day_earns_half_and_its_mean_counts_the_down_time():
    # 100 TH/s for 43,200 s: 4.32e18 hashes -> 3268.942 sat gross; mean 50 TH/s over 86,400 s
    work = Work(DAY, 100 * TH * 43_200, 36.0, PowerSource.MEASURED)
    day = day_profit(work, network(), SITE)
    assert day.gross_revenue_sat.value == pytest.approx(3268.9422369003296)
    assert day.hashrate_hs.value == pytest.approx(50 * TH)
    # 3.203563 USD for 50 TH/s-days of work: 0.064071 USD per TH/s per day, as a full day
    assert day.hashprice.value == pytest.approx(0.06407126784324646)


def test_actual_payouts_beat_expected_revenue():
    expected = day_profit(full_day(), network(), SITE)
    day = with_actual(expected, 10_000, 2.0, network())
    # paid 10,000 sat (after the fee) = 10,000 x 100,000 / 1e8 = 10.00 USD
    assert day.revenue_sat == Figure(10_000.0, Basis.ACTUAL)
    assert day.revenue.value == pytest.approx(10.0)
    assert day.revenue.basis is Basis.ACTUAL
    # the pool kept 2 % of gross: 10,000 x 2 / 98 = 204.0816 sat; gross 10,204.0816 sat
    assert day.pool_fee_sat.value == pytest.approx(204.08163265306123)
    assert day.gross_revenue_sat.value == pytest.approx(10_204.081632653062)
    # profit 10.00 - 3.60 = 6.40 USD, all of it actual
    assert day.profit.value == pytest.approx(6.40)
    assert day.profit.basis is Basis.ACTUAL
    # the expectation is still there for comparison
    assert day.expected_blocks == expected.expected_blocks
    # payouts unknown: nothing changes
    assert with_actual(expected, None, 2.0, network()) == expected


def test_actual_payouts_without_a_known_pool_fee_leave_only_the_fee_and_gross_unknown():
    day = with_actual(day_profit(full_day(), network(), SITE), 10_000, None, network())
    assert day.revenue.value == pytest.approx(10.0)
    assert day.pool_fee_sat is UNKNOWN
    assert day.gross_revenue_sat is UNKNOWN


# --- missing inputs -------------------------------------------------------------------


def test_no_difficulty_leaves_revenue_and_profit_unknown_but_the_cost_known():
    day = day_profit(full_day(), network(difficulty=None), SITE)
    assert day.expected_blocks is UNKNOWN
    assert day.revenue is UNKNOWN
    assert day.profit is UNKNOWN
    assert day.break_even_per_kwh is UNKNOWN
    assert day.power_cost.value == pytest.approx(3.60)


def test_no_fees_known_for_the_day_leaves_revenue_unknown():
    day = day_profit(full_day(), network(reward_sat=None), SITE)
    assert day.gross_revenue_sat is UNKNOWN
    assert day.revenue is UNKNOWN


def test_no_price_leaves_money_unknown_but_satoshis_known():
    day = day_profit(full_day(), network(price=None), SITE)
    assert day.revenue_sat.value == pytest.approx(6407.126784324646)
    assert day.revenue is UNKNOWN
    assert day.hashprice is UNKNOWN
    assert day.profit is UNKNOWN
    # power cost is in the site's own currency, which is the one asked for
    assert day.power_cost.value == pytest.approx(3.60)


def test_no_network_hashrate_leaves_only_the_share_unknown():
    day = day_profit(full_day(), network(network_hashrate_hs=None), SITE)
    assert day.network_share is UNKNOWN
    assert day.network_blocks_per_day is UNKNOWN
    assert day.revenue.value == pytest.approx(6.407126784324646)


def test_no_site_power_leaves_fee_cost_and_profit_unknown():
    day = day_profit(full_day(), network(), None)
    assert day.gross_revenue.value == pytest.approx(6.537884473800659)
    assert day.pool_fee is UNKNOWN
    assert day.revenue is UNKNOWN
    assert day.power_cost is UNKNOWN
    assert day.profit is UNKNOWN


def test_unknown_power_leaves_energy_cost_and_efficiency_unknown():
    work = Work(DAY, 100 * TH * DAY, None, PowerSource.UNKNOWN)
    day = day_profit(work, network(), SITE)
    assert day.energy_kwh is UNKNOWN
    assert day.power_cost is UNKNOWN
    assert day.efficiency_j_th is UNKNOWN
    assert day.revenue.value == pytest.approx(6.407126784324646)


def test_a_miner_up_without_a_hashrate_reading_has_unknown_revenue():
    day = day_profit(Work(DAY, None, 72.0, PowerSource.MEASURED), network(), SITE)
    assert day.hashes is UNKNOWN
    assert day.revenue is UNKNOWN
    assert day.power_cost.value == pytest.approx(3.60)


# --- power ----------------------------------------------------------------------------


def test_power_estimated_from_the_models_rated_efficiency_is_expected():
    row = model_efficiency.lookup("Antminer S19 Pro (vnish 1.2.6)")
    assert row is not None and row.model == "S19 Pro"
    # 3250 W / 110 TH/s = 29.5454 J/TH; at 100 TH/s: 2954.545 W
    assert row.efficiency_j_th == pytest.approx(29.545454545454547)
    watts = model_efficiency.estimated_power_w(100 * TH, row)
    assert watts == pytest.approx(2954.5454545454545)
    # 2954.545 W x 24 h = 70.909 kWh x 0.05 = 3.545 USD, basis expected
    work = Work(DAY, 100 * TH * DAY, (watts or 0) * 24 / 1000, PowerSource.ESTIMATED)
    day = day_profit(work, network(), SITE)
    assert day.power_cost.value == pytest.approx(3.5454545454545454)
    assert day.power_cost.basis is Basis.EXPECTED
    assert day.power_source is PowerSource.ESTIMATED


def test_a_model_not_in_the_table_has_no_estimate():
    assert model_efficiency.lookup("S19 Hydro") is None
    assert model_efficiency.lookup(None) is None
    assert model_efficiency.estimated_power_w(100 * TH, None) is None
    assert model_efficiency.is_non_sha256("L3+")
    assert not model_efficiency.is_non_sha256("S19 Pro")


def test_every_model_in_the_table_names_its_source():
    for row in model_efficiency.MODELS:
        assert row.source and row.algorithm == "sha256"
        assert 10 < row.efficiency_j_th < 100


def test_time_of_use_periods_price_each_hour_and_wrap_past_midnight():
    power = SitePower("USD", 0.10, periods=(TouPeriod(22, 6, 0.04), TouPeriod(17, 20, 0.25)))
    # 22:00-06:00 is 8 hours at 0.04, 17:00-20:00 3 hours at 0.25, 13 hours at 0.10
    assert power.price_at(23) == 0.04
    assert power.price_at(5) == 0.04
    assert power.price_at(6) == 0.10
    assert power.price_at(19) == 0.25
    assert power.price_at(20) == 0.10
    # mean (8 x 0.04 + 3 x 0.25 + 13 x 0.10) / 24 = 2.37 / 24 = 0.09875
    assert power.mean_price() == pytest.approx(0.09875)


def test_a_days_energy_is_split_evenly_across_its_hours_when_only_the_mean_is_known():
    power = SitePower("USD", 0.10, periods=(TouPeriod(22, 6, 0.04), TouPeriod(17, 20, 0.25)))
    # 48 kWh / 24 = 2 kWh an hour; 2 x (8 x 0.04 + 3 x 0.25 + 13 x 0.10) = 2 x 2.37 = 4.74
    assert split_evenly(48.0) == (2.0,) * 24
    assert energy_cost(split_evenly(48.0), power) == pytest.approx(4.74)
    day = day_profit(full_day(power_w=2000.0), network(), power)
    assert day.power_cost.value == pytest.approx(4.74)


def test_an_hourly_profile_pays_each_hours_price():
    power = SitePower("USD", 0.10, periods=(TouPeriod(0, 12, 0.05),))
    # 10 kWh in hour 3 at 0.05 + 10 kWh in hour 15 at 0.10 = 0.50 + 1.00 = 1.50
    hours = [0.0] * 24
    hours[3] = hours[15] = 10.0
    assert energy_cost(hours, power) == pytest.approx(1.50)


def test_hours_without_a_price_make_the_cost_unknown():
    power = SitePower("USD", None, periods=(TouPeriod(0, 12, 0.05),))
    assert power.mean_price() is None
    assert energy_cost(split_evenly(24.0), power) is None
    assert day_profit(full_day(), network(), power).power_cost is UNKNOWN


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ((TouPeriod(22, 6, 0.04), TouPeriod(5, 7, 0.1)), "hour 5"),
        ((TouPeriod(0, 24, 0.04), TouPeriod(3, 4, 0.1)), "hour 3"),
    ],
)
def test_overlapping_periods_are_refused(periods, message):
    with pytest.raises(ValueError, match=message):
        SitePower("USD", 0.1, periods=periods)


def test_bad_periods_and_prices_are_refused():
    with pytest.raises(ValueError):
        TouPeriod(3, 3, 0.1)
    with pytest.raises(ValueError):
        TouPeriod(24, 3, 0.1)
    with pytest.raises(ValueError):
        TouPeriod(1, 3, -0.1)
    with pytest.raises(ValueError):
        SitePower("USD", math.nan)
    with pytest.raises(ValueError):
        SitePower("USD", 0.1, pool_fee_pct=100.0)
    with pytest.raises(ValueError):
        SitePower("U$", 0.1)


def test_a_site_priced_in_another_currency_is_converted_through_the_bitcoin_prices():
    # 72 kWh x 0.05 EUR = 3.60 EUR; BTC at 100,000 USD and 80,000 EUR: 3.60 x 100/80 = 4.50 USD
    eur_site = SitePower("EUR", 0.05, pool_fee_pct=2.0)
    day = day_profit(full_day(), network(), eur_site, {"EUR": 80_000.0, "USD": USD})
    assert day.power_cost.value == pytest.approx(4.50)
    assert convert(3.6, 80_000.0, 100_000.0) == pytest.approx(4.5)
    # no EUR price that day: unknown
    assert day_profit(full_day(), network(), eur_site, {"EUR": None}).power_cost is UNKNOWN


# --- sums -----------------------------------------------------------------------------


def test_a_site_sums_its_miners_and_recomputes_the_ratios():
    one = day_profit(full_day(), network(), SITE)
    other = day_profit(full_day(hashrate_hs=200 * TH, power_w=3500.0), network(), SITE)
    site = combine([one, other], network(), DAY)
    # revenue 6.407127 + 12.814254 = 19.221380 USD; cost 3.60 + 4.20 = 7.80 USD
    assert site.revenue.value == pytest.approx(19.221380352973938)
    assert site.power_cost.value == pytest.approx(7.80)
    assert site.profit.value == pytest.approx(11.421380352973938)
    # 300 TH/s at 6500 W: 21.6667 J/TH; break-even 19.221380 / 156 kWh = 0.123214 USD/kWh
    assert site.efficiency_j_th.value == pytest.approx(21.666666666666668)
    assert site.break_even_per_kwh.value == pytest.approx(0.12321397662162781)
    assert site.hashrate_hs.value == pytest.approx(300 * TH)


def test_a_part_unknown_makes_the_sum_unknown():
    known = day_profit(full_day(), network(), SITE)
    blind = day_profit(Work(DAY, 100 * TH * DAY, None, PowerSource.UNKNOWN), network(), SITE)
    site = combine([known, blind], network(), DAY)
    assert site.power_cost is UNKNOWN
    assert site.profit is UNKNOWN
    assert site.revenue.value == pytest.approx(2 * 6.407126784324646)
    assert site.power_source is PowerSource.UNKNOWN


# --- solo -----------------------------------------------------------------------------


def test_a_one_eh_farm_finds_a_block_every_five_days_or_so():
    odds = solo_odds(1e18, DIFFICULTY, NETWORK_HS)
    # lambda = 1e18 x 86400 / (1e14 x 2^32) = 0.2011657 blocks a day
    assert odds.blocks_per_day == pytest.approx(0.20116567611694336)
    # P(at least one) = 1 - e^-0.2011657 = 0.1822231
    assert odds.p_block_per_day == pytest.approx(0.18222306577715439)
    # mean wait 1e14 x 2^32 / 1e18 = 429,496.73 s = 4.97 days
    assert odds.expected_seconds_to_block == pytest.approx(429_496.7296)
    # share 1e18 / 7e20 = 1/700: one block in 700
    assert odds.share == pytest.approx(1 / 700)
    assert odds.one_in == pytest.approx(700.0)


def test_a_bitaxe_waits_thousands_of_years():
    odds = solo_odds(1.2 * TH, DIFFICULTY, NETWORK_HS)
    # lambda = 1.2e12 x 86400 / 4.294967296e23 = 2.413988e-7; p ~ lambda - lambda^2 / 2
    assert odds.blocks_per_day == pytest.approx(2.41398811340332e-07)
    assert odds.p_block_per_day == pytest.approx(2.413987822036413e-07)
    # 4.294967296e23 / 1.2e12 = 3.579e11 s = 11,342 years
    assert odds.expected_seconds_to_block == pytest.approx(357_913_941_333.3333)
    assert odds.one_in == pytest.approx(583_333_333.3333334)


def test_solo_odds_without_a_hashrate_or_difficulty_are_unknown():
    odds = solo_odds(None, DIFFICULTY, NETWORK_HS)
    assert odds.p_block_per_day is None and odds.share is None
    odds = solo_odds(1e18, None, None)
    assert odds.p_block_per_day is None and odds.expected_seconds_to_block is None


def test_effort_is_work_done_over_work_expected_per_block():
    d_2_32 = DIFFICULTY * 2**32
    # half the expected work before the block: effort 50 %, luck 200 %
    lucky = effort([(0.5 * d_2_32, DIFFICULTY)])
    assert lucky.expected == pytest.approx(0.5)
    assert lucky.effort_pct == pytest.approx(50.0)
    assert lucky.luck_pct == pytest.approx(200.0)
    # 0.3 of a block at 1e14 then 0.4 of a block at 2e14 (twice the hashes): effort 70 %
    stretches = [(0.3 * d_2_32, DIFFICULTY), (0.4 * 2 * d_2_32, 2 * DIFFICULTY)]
    assert effort(stretches).effort_pct == pytest.approx(70.0)
    # three blocks with 4.5 blocks' work: 150 % effort, 66.7 % luck
    three = effort([(4.5 * d_2_32, DIFFICULTY)], blocks=3)
    assert three.effort_pct == pytest.approx(150.0)
    assert three.luck_pct == pytest.approx(66.66666666666667)
    # a stretch with no difficulty known: unknown
    assert effort([(d_2_32, None)]).effort_pct is None
