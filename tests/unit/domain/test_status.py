"""How a sample becomes online / warning / offline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rigwatch.domain.counters import delta, is_reset
from rigwatch.domain.models import Hashboard, MinerStatus, Role, Sample
from rigwatch.domain.status import efficiency_j_per_th, status_for, warnings_for

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_a_healthy_miner_is_online() -> None:
    s = Sample(ts=NOW, hashrate_hs=110e12, hashrate_expected_hs=110e12, temp_c=60, fans_rpm=(5000,))
    assert status_for(s) is MinerStatus.ONLINE
    assert warnings_for(s) == []


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        (
            Sample(ts=NOW, hashrate_hs=50e12, hashrate_expected_hs=110e12),
            "hashrate at 45% of expected",
        ),
        (Sample(ts=NOW, hashrate_hs=0.0), "not hashing"),
        (Sample(ts=NOW, hashrate_hs=1e12, temp_c=88), "temperature 88 °C"),
        (Sample(ts=NOW, hashrate_hs=1e12, temp_c=70, temp_max_c=97), "hottest sensor 97 °C"),
        (Sample(ts=NOW, hashrate_hs=1e12, fans_rpm=(5000, 0)), "fan stopped"),
        (
            Sample(ts=NOW, hashrate_hs=1e12, hashboards=(Hashboard(0), Hashboard(2, missing=True))),
            "hashboard missing: 2",
        ),
    ],
)
def test_problems_make_a_warning_with_a_reason(sample: Sample, reason: str) -> None:
    assert status_for(sample) is MinerStatus.WARNING
    assert reason in warnings_for(sample)


def test_hot_chips_within_their_limit_are_fine() -> None:
    s = Sample(ts=NOW, hashrate_hs=1e12, temp_c=70, temp_max_c=89, chip_temp_c=86)
    assert status_for(s) is MinerStatus.ONLINE


def test_no_sample_is_offline() -> None:
    assert status_for(None) is MinerStatus.OFFLINE


def test_efficiency_is_joules_per_terahash() -> None:
    assert efficiency_j_per_th(3250, 110e12) == pytest.approx(29.545, rel=1e-3)
    assert efficiency_j_per_th(None, 1e12) is None
    assert efficiency_j_per_th(100, 0) is None


def test_counters_reset_on_restart() -> None:
    assert is_reset(100, 5)
    assert not is_reset(100, 100)
    assert delta(100, 130) == 30
    assert delta(100, 5) == 5
    assert delta(None, 5) is None


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.VIEWER)
    assert Role.OPERATOR.allows(Role.OPERATOR)
    assert not Role.VIEWER.allows(Role.OPERATOR)
