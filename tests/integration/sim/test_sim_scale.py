"""A thousand simulated ASICs in one process answer one joined-command sweep."""

from __future__ import annotations

import pytest

from rigwatch.sim import Fleet, FleetSpec, sweep


@pytest.mark.slow
async def test_a_thousand_asics_answer_a_sweep_of_joined_commands() -> None:
    async with Fleet(FleetSpec.mix(1000, 0, base="127.0.240.1")) as fleet:
        result = await sweep(fleet.ips, "summary+stats+pools+version")
    assert result.ok == 1000
    assert result.seconds < 20
