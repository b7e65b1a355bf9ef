"""The machine a rig's mining software runs on, as its own sentry reads it.

Host health is kept apart from the miners' samples: one host can run several mining
programs (an XMRig on the CPU beside a T-Rex on the GPUs), and the host is what
overheats, fills its disk or runs out of memory, not the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HostIdentity:
    """`key` is stable per sentry (the hostname unless configured)."""

    key: str
    hostname: str | None = None
    os: str | None = None
    cpu_model: str | None = None
    cpu_count: int | None = None


@dataclass(frozen=True, slots=True)
class GpuHealth:
    """One GPU as the driver (NVML) sees it, whatever program uses it."""

    index: int
    name: str | None = None
    uuid: str | None = None
    temp_c: float | None = None
    fan_pct: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    core_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    mem_used_bytes: int | None = None
    mem_total_bytes: int | None = None
    util_pct: float | None = None


@dataclass(frozen=True, slots=True)
class HostSample:
    """One reading of a host. Percentages 0-100, bytes, seconds, °C."""

    ts: datetime
    cpu_pct: float | None = None
    load_1m: float | None = None
    cpu_temp_c: float | None = None
    mem_used_bytes: int | None = None
    mem_total_bytes: int | None = None
    disk_used_bytes: int | None = None
    disk_total_bytes: int | None = None
    uptime_s: int | None = None
    gpus: tuple[GpuHealth, ...] = ()
