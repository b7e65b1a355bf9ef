"""How a miner's latest sample turns into online / warning / offline."""

from __future__ import annotations

from dataclasses import dataclass

from rigwatch.domain.models import MinerStatus, Sample


@dataclass(frozen=True, slots=True)
class HealthLimits:
    """Thresholds below which a hashing miner still needs attention."""

    min_hashrate_ratio: float = 0.8
    max_temp_c: float = 85.0  # board / VR mean
    max_chip_temp_c: float = 95.0  # hottest sensor, chips included


DEFAULT_LIMITS = HealthLimits()


def warnings_for(sample: Sample, limits: HealthLimits = DEFAULT_LIMITS) -> list[str]:
    """Reasons a reporting miner is not healthy; empty when all is well."""
    reasons: list[str] = []
    if sample.hashrate_hs is not None and sample.hashrate_hs <= 0:
        reasons.append("not hashing")
    elif (
        sample.hashrate_hs is not None
        and sample.hashrate_expected_hs
        and sample.hashrate_hs < limits.min_hashrate_ratio * sample.hashrate_expected_hs
    ):
        pct = 100.0 * sample.hashrate_hs / sample.hashrate_expected_hs
        reasons.append(f"hashrate at {pct:.0f}% of expected")
    missing = [b.index for b in sample.hashboards if b.missing]
    if missing:
        reasons.append("hashboard missing: " + ", ".join(str(i) for i in missing))
    # temp_c is the board (or VR) mean; temp_max_c the hottest sensor of any kind, chips
    # included, so it is held to the chip limit.
    if sample.temp_c is not None and sample.temp_c > limits.max_temp_c:
        reasons.append(f"temperature {sample.temp_c:.0f} °C")
    hottest = max(
        (t for t in (sample.temp_max_c, sample.chip_temp_c) if t is not None), default=None
    )
    if hottest is not None and hottest > limits.max_chip_temp_c:
        reasons.append(f"hottest sensor {hottest:.0f} °C")
    if any(rpm == 0 for rpm in sample.fans_rpm):
        reasons.append("fan stopped")
    return reasons


def status_for(sample: Sample | None, limits: HealthLimits = DEFAULT_LIMITS) -> MinerStatus:
    if sample is None:
        return MinerStatus.OFFLINE
    return MinerStatus.WARNING if warnings_for(sample, limits) else MinerStatus.ONLINE


def efficiency_j_per_th(power_w: float | None, hashrate_hs: float | None) -> float | None:
    """Joules per terahash: the figure operators compare machines by."""
    if power_w is None or not hashrate_hs or hashrate_hs <= 0:
        return None
    return power_w / (hashrate_hs / 1e12)
