"""Read models: what the store hands to the API, the stream and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rigwatch.domain.host import HostIdentity, HostSample
from rigwatch.domain.models import Device, EventKind, MinerKind, MinerStatus, Role
from rigwatch.domain.p2pool import P2PoolStats


@dataclass(frozen=True, slots=True)
class MinerUpdate:
    """Compact latest state of one miner, sent on the live stream after each stored batch."""

    miner_id: int
    key: str
    kind: MinerKind
    status: MinerStatus
    ts: datetime
    hashrate_hs: float | None
    hashrate_expected_hs: float | None
    temp_c: float | None
    temp_max_c: float | None
    power_w: float | None


@dataclass(frozen=True, slots=True)
class FarmSummary:
    ts: datetime
    hashrate_hs: float
    hashrate_expected_hs: float
    miners_total: int
    miners_online: int
    miners_warning: int
    miners_offline: int
    power_w: float
    efficiency_j_th: float | None
    temp_mean_c: float | None
    temp_max_c: float | None
    accepted_last_hour: int
    rejected_last_hour: int


@dataclass(frozen=True, slots=True)
class MinerRow:
    id: int
    sentry_id: int
    sentry: str
    site: str
    key: str
    kind: MinerKind
    status: MinerStatus
    make: str | None
    model: str | None
    firmware: str | None
    ip: str | None
    mac: str | None
    hostname: str | None
    worker: str | None
    tags: tuple[str, ...]
    last_seen: datetime | None
    hashrate_hs: float | None
    hashrate_expected_hs: float | None
    temp_c: float | None
    temp_max_c: float | None
    power_w: float | None
    fans_rpm: tuple[int, ...]
    uptime_s: int | None
    pool_url: str | None
    warnings: tuple[str, ...] = ()
    host: str | None = None
    rack: str | None = None  # placed by people (POST /api/v1/miners/rack), never by sentries


@dataclass(frozen=True, slots=True)
class HashboardView:
    index: int
    hashrate_hs: float | None
    temp_c: float | None
    chip_temp_c: float | None
    chips: int | None
    chips_expected: int | None
    missing: bool


@dataclass(frozen=True, slots=True)
class PoolView:
    url: str
    user: str | None
    active: bool
    alive: bool | None
    accepted: int | None
    rejected: int | None
    stale: int | None


@dataclass(frozen=True, slots=True)
class MinerDetail:
    row: MinerRow
    chip_temp_c: float | None
    accepted: int | None
    rejected: int | None
    stale: int | None
    errors: tuple[str, ...]
    hashboards: tuple[HashboardView, ...]
    pools: tuple[PoolView, ...]
    algorithm: str | None = None
    devices: tuple[Device, ...] = ()
    host_id: int | None = None


@dataclass(frozen=True, slots=True)
class SampleRow:
    ts: datetime
    hashrate_hs: float | None
    hashrate_expected_hs: float | None
    temp_c: float | None
    temp_max_c: float | None
    chip_temp_c: float | None
    power_w: float | None
    accepted: int | None
    rejected: int | None
    stale: int | None
    uptime_s: int | None
    fans_rpm: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    ts: datetime
    kind: EventKind
    key: str
    miner_id: int | None
    sentry_id: int | None
    message: str
    data: dict[str, object] = field(default_factory=dict)
    host_id: int | None = None


@dataclass(frozen=True, slots=True)
class SentryRow:
    id: int
    name: str
    site: str
    enrolled: bool
    revoked: bool
    created_at: datetime
    last_seen: datetime | None
    last_seq: int | None
    miners: int
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a sentry (by id) or a person / script (by role)."""

    kind: str  # "sentry" | "apikey" | "session"
    name: str
    role: Role | None = None
    sentry_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class HostView:
    """A host with its latest reading (None before the first) and the rigs it runs."""

    id: int
    sentry_id: int
    identity: HostIdentity
    first_seen: datetime
    latest: HostSample | None
    miner_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class P2PoolNodeView:
    """A P2Pool node's newest data-API reading."""

    sentry_id: int
    node: str
    host_id: int | None
    stats: P2PoolStats


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A scheduled job as `/api/v1/admin/jobs` shows it; `failing` after 3 failures in a row."""

    name: str
    every_s: float
    last_run: datetime | None
    last_success: datetime | None
    last_duration_s: float | None
    consecutive_failures: int
    next_run: datetime | None
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    last_detail: str = ""
    running: bool = False
    failing: bool = False
