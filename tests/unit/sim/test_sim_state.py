"""The miner state: deterministic per seed and clock, and behaving like a machine."""

from __future__ import annotations

import pytest

from rigwatch.sim import MODELS, Fault, FaultKind, ManualClock, MinerState, profile


def _state(key: str = "s19pro", seed: int = 1, clock: ManualClock | None = None) -> MinerState:
    return MinerState(profile(key), "127.0.99.1", seed, clock or ManualClock())


def test_the_same_seed_and_clock_give_the_same_report() -> None:
    assert _state(seed=5).report() == _state(seed=5).report()
    assert _state(seed=5).report() != _state(seed=6).report()


@pytest.mark.parametrize("key", sorted(MODELS))
def test_hashrate_stays_near_the_model_nominal(key: str) -> None:
    clock = ManualClock()
    state = _state(key, clock=clock)
    for _ in range(50):
        clock.advance(7)
        report = state.report()
        assert report.hashrate_ghs == pytest.approx(state.profile.nominal_ghs, rel=0.08)


def test_counters_and_uptime_grow_with_time() -> None:
    clock = ManualClock()
    state = _state(clock=clock)
    first = state.report()
    clock.advance(3600)
    later = state.report()
    assert later.uptime_s == first.uptime_s + 3600
    shares = (later.accepted + later.rejected) - (first.accepted + first.rejected)
    expected = 110e12 * 3600 / (65536 * 2**32)
    assert shares == pytest.approx(expected, rel=0.05)
    assert later.rejected >= first.rejected


def test_the_report_is_recomputed_at_most_once_per_refresh_period() -> None:
    clock = ManualClock()
    state = _state(clock=clock)
    first = state.report()
    clock.advance(0.5)
    assert state.report() is first
    clock.advance(0.6)
    assert state.report() is not first


def test_a_hot_miner_runs_hotter_with_fans_at_full_speed_and_cools_when_cleared() -> None:
    clock = ManualClock()
    state = _state(clock=clock)
    cool = state.report()
    state.apply(Fault(FaultKind.HOT))
    hot = state.report()
    assert hot.chip_temp_max_c >= cool.chip_temp_max_c + 20
    assert min(hot.fans_rpm) > max(cool.fans_rpm)
    state.apply(Fault(FaultKind.CLEAR))
    clock.advance(600)
    assert state.report().chip_temp_max_c == pytest.approx(cool.chip_temp_max_c, abs=2)


def test_fans_follow_ambient_temperature() -> None:
    cold, warm = _state(), _state()
    warm.ambient_c = cold.ambient_c + 10
    warm.invalidate()
    warm._thermal.chip_c = [c + 10 for c in warm._thermal.chip_c]
    assert sum(warm.report().fans_rpm) > sum(cold.report().fans_rpm)


def test_a_dropped_board_reports_nothing_and_its_temperature_falls() -> None:
    clock = ManualClock()
    state = _state(clock=clock)
    state.apply(Fault(FaultKind.BOARD_DROP, board=0))
    clock.advance(900)
    report = state.report()
    board = report.boards[0]
    assert not board.present
    assert board.hashrate_ghs == 0
    assert board.pcb_temp_c < report.boards[1].pcb_temp_c - 20
    with pytest.raises(ValueError, match=r"boards 0\.\.2"):
        state.apply(Fault(FaultKind.BOARD_DROP, board=3))


def test_a_reboot_restarts_uptime_counters_and_ramps_up() -> None:
    clock = ManualClock()
    state = _state(clock=clock)
    state.reboot()
    state.booted()
    clock.advance(5)
    early = state.report()
    assert early.uptime_s == 5
    assert early.hashrate_ghs < 0.5 * 110_000
    clock.advance(60)
    assert state.report().hashrate_ghs == pytest.approx(110_000, rel=0.08)
