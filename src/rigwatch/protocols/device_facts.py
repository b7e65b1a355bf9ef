"""What a poll learns about the device itself, as opposed to how it is doing right now."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rigwatch.domain.models import MinerIdentity


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """Identity facts read from a reply; None means "this reply did not say".

    `firmware` is the build identifier the vendor uses (Antminer CompileTime, Whatsminer
    firmware date, AxeOS version); `software` the mining program and its version;
    `hardware` a board or hardware revision; `is_mining` False when the device reports
    that it sleeps on purpose, so a monitor does not raise "hashrate zero" for it.
    """

    make: str | None = None
    model: str | None = None
    firmware: str | None = None
    software: str | None = None
    api_version: str | None = None
    hardware: str | None = None
    serial: str | None = None
    mac: str | None = None
    hostname: str | None = None
    worker: str | None = None
    is_mining: bool | None = None

    def apply(self, identity: MinerIdentity) -> MinerIdentity:
        """The identity with every fact this reply stated; the key never changes here."""
        changes = {
            name: value
            for name in ("mac", "hostname", "make", "model", "firmware", "worker")
            if (value := getattr(self, name)) is not None and value != getattr(identity, name)
        }
        return dataclasses.replace(identity, **changes) if changes else identity
