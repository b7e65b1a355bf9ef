"""What every poller promises, and the typed ways a poll can fail.

"Offline", "refused", "wrong password" and "garbage reply" are different states for a
monitor, so each has its own exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rigwatch.domain.models import MinerIdentity, Sample


class PollError(Exception):
    """A poll that produced no sample."""


class MinerTimeout(PollError):
    """No (complete) answer within the deadline: the miner is dark or hung."""


class MinerRefused(PollError):
    """Connection refused or reset: the host is up but the miner service is not."""


class BadReply(PollError):
    """The miner answered, but not in a form its protocol allows."""


class AuthFailed(PollError):
    """The miner rejected our credentials (401/403, wrong password)."""


@dataclass(frozen=True, slots=True)
class PollResult:
    identity: MinerIdentity
    sample: Sample


class Poller(Protocol):
    """Reads one miner. Implementations keep their own connection details."""

    @property
    def identity(self) -> MinerIdentity: ...

    async def poll(self) -> PollResult: ...
