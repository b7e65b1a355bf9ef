"""Cumulative counters as miners report them: deltas and restarts."""

from __future__ import annotations


def is_reset(previous: int | None, current: int | None) -> bool:
    """A cumulative counter that goes down means the miner restarted."""
    return previous is not None and current is not None and current < previous


def delta(previous: int | None, current: int | None) -> int | None:
    """Increase since the previous reading; after a reset the new count is the increase."""
    if current is None:
        return None
    if previous is None:
        return None
    return current if current < previous else current - previous
