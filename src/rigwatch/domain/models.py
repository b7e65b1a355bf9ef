"""The names rigwatch uses for what it watches; storage and wire formats map onto these."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class MinerKind(enum.StrEnum):
    ASIC = "asic"
    BITAXE = "bitaxe"
    GPU = "gpu"
    CPU = "cpu"


class MinerStatus(enum.StrEnum):
    """What an operator needs to know at a glance: is it hashing as it should."""

    ONLINE = "online"
    WARNING = "warning"
    OFFLINE = "offline"


class EventKind(enum.StrEnum):
    MINER_OFFLINE = "miner_offline"
    MINER_ONLINE = "miner_online"
    MINER_RESTARTED = "miner_restarted"
    MINER_DISCOVERED = "miner_discovered"
    POOL_CHANGED = "pool_changed"
    SHARE_FOUND = "share_found"
    BLOCK_FOUND = "block_found"
    PAYOUT = "payout"
    PLAYBOOK_APPLIED = "playbook_applied"
    ALERT_FIRED = "alert_fired"
    ALERT_RESOLVED = "alert_resolved"
    ALERT_FLAPPING = "alert_flapping"
    POOL_HASHRATE_GAP = "pool_hashrate_gap"


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    def allows(self, needed: Role) -> bool:
        """Roles are ordered: admin can do what operator can, operator what viewer can."""
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class MinerIdentity:
    """Who a miner is. `key` is stable per sentry (MAC when known, else address)."""

    key: str
    kind: MinerKind
    ip: str | None = None
    mac: str | None = None
    hostname: str | None = None
    make: str | None = None
    model: str | None = None
    firmware: str | None = None
    worker: str | None = None


@dataclass(frozen=True, slots=True)
class Hashboard:
    index: int
    hashrate_hs: float | None = None
    temp_c: float | None = None
    chip_temp_c: float | None = None
    chips: int | None = None
    chips_expected: int | None = None
    missing: bool = False


@dataclass(frozen=True, slots=True)
class PoolState:
    url: str
    user: str | None = None
    active: bool = False
    alive: bool | None = None
    accepted: int | None = None
    rejected: int | None = None
    stale: int | None = None


class DeviceKind(enum.StrEnum):
    GPU = "gpu"
    CPU = "cpu"


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU (or the CPU) of a rig as its mining software reports it.

    `index` is the software's own device number; `fan_pct` and `fan_rpm` are both kept
    because GPU miners report one or the other.
    """

    index: int
    kind: DeviceKind = DeviceKind.GPU
    name: str | None = None
    bus_id: str | None = None
    hashrate_hs: float | None = None
    temp_c: float | None = None
    mem_temp_c: float | None = None
    fan_pct: float | None = None
    fan_rpm: int | None = None
    power_w: float | None = None
    core_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    accepted: int | None = None
    rejected: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One poll of one miner. Hashrate in H/s, temperatures in °C, counters cumulative."""

    ts: datetime
    hashrate_hs: float | None = None
    hashrate_expected_hs: float | None = None
    temp_c: float | None = None
    temp_max_c: float | None = None
    chip_temp_c: float | None = None
    fans_rpm: tuple[int, ...] = ()
    power_w: float | None = None
    accepted: int | None = None
    rejected: int | None = None
    stale: int | None = None
    uptime_s: int | None = None
    pool_url: str | None = None
    pool_user: str | None = None
    errors: tuple[str, ...] = ()
    hashboards: tuple[Hashboard, ...] = ()
    pools: tuple[PoolState, ...] = ()
    algorithm: str | None = None
    devices: tuple[Device, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened; `key` makes it unique so a replay stores it once."""

    ts: datetime
    kind: EventKind
    key: str
    miner_key: str | None = None
    host_key: str | None = None
    message: str = ""
    data: dict[str, object] = field(default_factory=dict)
