"""Which jobs the commander schedules, and how often: the one list of them."""

from __future__ import annotations

from rigwatch.commander.jobs import JobSpec
from rigwatch.config import Settings


def default_jobs(settings: Settings) -> list[JobSpec]:
    """The jobs of a commander with `settings`."""
    return []
