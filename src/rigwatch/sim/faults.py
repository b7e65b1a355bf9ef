"""Faults a simulated miner can suffer, and how they are scheduled.

`dark` and `hung` are both offline to a monitor but differ on the wire: a dark miner
refuses connections at once, a hung one accepts them and never answers, so clients must
rely on their own timeouts. Distinguishing the two is part of what the sentry is tested on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FaultKind(enum.StrEnum):
    BOARD_DROP = "board_drop"
    DARK = "dark"
    HUNG = "hung"
    RESTART = "restart"
    HOT = "hot"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault to apply now; `board` is the 0-based slot for `board_drop`."""

    kind: FaultKind
    board: int = 0


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    """A fault applied `at_s` seconds after the fleet starts, to one miner.

    `target` is the miner's loopback address or its 0-based index in the fleet.
    """

    target: str | int
    fault: Fault
    at_s: float = 0.0


def parse_fault(text: str) -> ScheduledFault:
    """Parse `TARGET:FAULT[:BOARD][@SECONDS]`, e.g. `3:board_drop:1@60` or `127.0.10.4:hot`.

    Meant for command-line options; raises ValueError with the expected format.
    """
    usage = "expected TARGET:FAULT[:BOARD][@SECONDS], e.g. 3:board_drop:1@60"
    body, _, at = text.partition("@")
    parts = body.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"{text!r}: {usage}")
    target_text, kind_text = parts[0], parts[1]
    try:
        kind = FaultKind(kind_text)
        board = int(parts[2]) if len(parts) == 3 else 0
        at_s = float(at) if at else 0.0
    except ValueError:
        raise ValueError(f"{text!r}: {usage}; faults: {[k.value for k in FaultKind]}") from None
    target: str | int = int(target_text) if target_text.isdigit() else target_text
    if at_s < 0 or board < 0:
        raise ValueError(f"{text!r}: board and seconds must not be negative; {usage}")
    return ScheduledFault(target=target, fault=Fault(kind, board), at_s=at_s)
