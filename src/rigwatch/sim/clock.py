"""Time sources for the simulator.

Every simulated value is a function of one clock reading, so a test can freeze the clock
and compare what a client read with what the simulator meant to report, exactly.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the simulator the current unix time in seconds."""

    def now(self) -> float: ...


class WallClock:
    """The real time: what the demo and benchmarks use."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: deterministic tests."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self._now += seconds

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError("a clock does not run backwards")
        self._now = when
