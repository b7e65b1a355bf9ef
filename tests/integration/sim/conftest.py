"""Simulated fleets on private loopback ranges (pyasic is imported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pyasic as _pyasic
import pytest

from rigwatch.sim import Fleet, FleetSpec, ManualClock

PYASIC: Any = _pyasic


@pytest.fixture(scope="session")
def pyasic() -> Any:
    return PYASIC


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]


@pytest.fixture
def fleet_of(clock: ManualClock) -> FleetFactory:
    """Start a fleet on the frozen clock: `async with fleet_of(models, base=...) as fleet:`."""

    @asynccontextmanager
    async def start(models: tuple[str, ...], base: str, **options: object) -> AsyncIterator[Fleet]:
        spec = FleetSpec(models=models, base=base, **options)  # type: ignore[arg-type]
        async with Fleet(spec, clock=clock) as fleet:
            yield fleet

    return start
