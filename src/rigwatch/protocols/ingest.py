"""The sentry → commander ingest contract (`POST /api/v1/ingest`).

Both sides import these models, so the contract is written once. Every field is bounded:
a sentry that sends nonsense gets a 422 naming the field, and nothing is stored.

`parse_fast` is the commander's hot path for the same contract: one pydantic-core call
validates a body into plain dicts (typed dicts generated from these very models, so
the bounds cannot drift apart), with the timestamp rules checked afterwards over the
whole batch at once instead of by a Python validator per sample. It accepts only what
`IngestBatch` accepts; whatever it refuses goes to `IngestBatch`, which either accepts
it after all or says exactly what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from rigwatch.domain.batch import HostReading, P2PoolReading
from rigwatch.domain.host import GpuHealth, HostIdentity, HostSample
from rigwatch.domain.models import (
    Device,
    DeviceKind,
    Event,
    EventKind,
    Hashboard,
    MinerIdentity,
    MinerKind,
    PoolState,
    Sample,
)
from rigwatch.domain.p2pool import P2PoolStats, P2PoolWorker

MAX_SAMPLES = 5000
MAX_EVENTS = 5000
MAX_HOSTS = 256
MAX_P2POOL = 64
MAX_BODY_BYTES = 8 * 1024 * 1024
# 10 EH/s: far above any single device; a bigger figure is a unit bug, not a miner.
MAX_HASHRATE_HS = 1e19
MIN_TEMP_C = -60.0
MAX_TEMP_C = 200.0

Str64 = Annotated[str, Field(max_length=64)]
Str256 = Annotated[str, Field(max_length=256)]
Hashrate = Annotated[float, Field(ge=0, le=MAX_HASHRATE_HS, allow_inf_nan=False)]
Temp = Annotated[float, Field(ge=MIN_TEMP_C, le=MAX_TEMP_C, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
Rpm = Annotated[int, Field(ge=0, le=100_000)]
Power = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Mhz = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]
Bytes = Annotated[int, Field(ge=0, le=2**62)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (UTC)")
    value = value.astimezone(UTC)
    now = datetime.now(UTC)
    if value > now + timedelta(hours=1):
        raise ValueError("timestamp is more than an hour in the future")
    if value < now - timedelta(days=3650):
        raise ValueError("timestamp is more than ten years old")
    return value


class MinerIn(_Strict):
    key: Str64 = Field(min_length=1)
    kind: MinerKind
    ip: Annotated[str, Field(max_length=45)] | None = None
    mac: Annotated[str, Field(max_length=32)] | None = None
    hostname: Str64 | None = None
    make: Str64 | None = None
    model: Str64 | None = None
    firmware: Str64 | None = None
    worker: Str256 | None = None

    def to_domain(self) -> MinerIdentity:
        # Field by field, not `MinerIdentity(**self.model_dump())`: this runs once per
        # sample on the ingest hot path, where model_dump costs more than the rest.
        return MinerIdentity(
            key=self.key,
            kind=self.kind,
            ip=self.ip,
            mac=self.mac,
            hostname=self.hostname,
            make=self.make,
            model=self.model,
            firmware=self.firmware,
            worker=self.worker,
        )

    @classmethod
    def from_domain(cls, m: MinerIdentity) -> MinerIn:
        return cls(
            key=m.key,
            kind=m.kind,
            ip=m.ip,
            mac=m.mac,
            hostname=m.hostname,
            make=m.make,
            model=m.model,
            firmware=m.firmware,
            worker=m.worker,
        )


class HashboardIn(_Strict):
    index: int = Field(ge=0, le=63)
    hashrate_hs: Hashrate | None = None
    temp_c: Temp | None = None
    chip_temp_c: Temp | None = None
    chips: int | None = Field(default=None, ge=0, le=10_000)
    chips_expected: int | None = Field(default=None, ge=0, le=10_000)
    missing: bool = False

    def to_domain(self) -> Hashboard:
        return Hashboard(
            index=self.index,
            hashrate_hs=self.hashrate_hs,
            temp_c=self.temp_c,
            chip_temp_c=self.chip_temp_c,
            chips=self.chips,
            chips_expected=self.chips_expected,
            missing=self.missing,
        )


class PoolIn(_Strict):
    url: Str256
    user: Str256 | None = None
    active: bool = False
    alive: bool | None = None
    accepted: Count | None = None
    rejected: Count | None = None
    stale: Count | None = None

    def to_domain(self) -> PoolState:
        return PoolState(
            url=self.url,
            user=self.user,
            active=self.active,
            alive=self.alive,
            accepted=self.accepted,
            rejected=self.rejected,
            stale=self.stale,
        )


class DeviceIn(_Strict):
    index: int = Field(ge=0, le=1023)
    kind: DeviceKind = DeviceKind.GPU
    name: Str64 | None = None
    bus_id: Annotated[str, Field(max_length=32)] | None = None
    hashrate_hs: Hashrate | None = None
    temp_c: Temp | None = None
    mem_temp_c: Temp | None = None
    fan_pct: Percent | None = None
    fan_rpm: Rpm | None = None
    power_w: Power | None = None
    core_clock_mhz: Mhz | None = None
    mem_clock_mhz: Mhz | None = None
    accepted: Count | None = None
    rejected: Count | None = None

    def to_domain(self) -> Device:
        return Device(
            index=self.index,
            kind=self.kind,
            name=self.name,
            bus_id=self.bus_id,
            hashrate_hs=self.hashrate_hs,
            temp_c=self.temp_c,
            mem_temp_c=self.mem_temp_c,
            fan_pct=self.fan_pct,
            fan_rpm=self.fan_rpm,
            power_w=self.power_w,
            core_clock_mhz=self.core_clock_mhz,
            mem_clock_mhz=self.mem_clock_mhz,
            accepted=self.accepted,
            rejected=self.rejected,
        )


class SampleIn(_Strict):
    miner: MinerIn
    ts: datetime
    hashrate_hs: Hashrate | None = None
    hashrate_expected_hs: Hashrate | None = None
    temp_c: Temp | None = None
    temp_max_c: Temp | None = None
    chip_temp_c: Temp | None = None
    fans_rpm: list[Rpm] = Field(default_factory=list, max_length=16)
    power_w: Power | None = None
    accepted: Count | None = None
    rejected: Count | None = None
    stale: Count | None = None
    uptime_s: Count | None = None
    pool_url: Str256 | None = None
    pool_user: Str256 | None = None
    errors: list[Str256] = Field(default_factory=list, max_length=32)
    hashboards: list[HashboardIn] = Field(default_factory=list, max_length=64)
    pools: list[PoolIn] = Field(default_factory=list, max_length=8)
    algorithm: Str64 | None = None
    devices: list[DeviceIn] = Field(default_factory=list, max_length=64)

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    def to_domain(self) -> Sample:
        return Sample(
            ts=self.ts,
            hashrate_hs=self.hashrate_hs,
            hashrate_expected_hs=self.hashrate_expected_hs,
            temp_c=self.temp_c,
            temp_max_c=self.temp_max_c,
            chip_temp_c=self.chip_temp_c,
            fans_rpm=tuple(self.fans_rpm),
            power_w=self.power_w,
            accepted=self.accepted,
            rejected=self.rejected,
            stale=self.stale,
            uptime_s=self.uptime_s,
            pool_url=self.pool_url,
            pool_user=self.pool_user,
            errors=tuple(self.errors),
            hashboards=tuple([b.to_domain() for b in self.hashboards]),
            pools=tuple([p.to_domain() for p in self.pools]),
            algorithm=self.algorithm,
            devices=tuple([d.to_domain() for d in self.devices]),
        )

    @classmethod
    def from_domain(cls, miner: MinerIdentity, s: Sample) -> SampleIn:
        return cls(
            miner=MinerIn.from_domain(miner),
            ts=s.ts,
            hashrate_hs=s.hashrate_hs,
            hashrate_expected_hs=s.hashrate_expected_hs,
            temp_c=s.temp_c,
            temp_max_c=s.temp_max_c,
            chip_temp_c=s.chip_temp_c,
            fans_rpm=list(s.fans_rpm),
            power_w=s.power_w,
            accepted=s.accepted,
            rejected=s.rejected,
            stale=s.stale,
            uptime_s=s.uptime_s,
            pool_url=s.pool_url,
            pool_user=s.pool_user,
            errors=list(s.errors),
            hashboards=[HashboardIn(**asdict(b)) for b in s.hashboards],
            pools=[PoolIn(**asdict(p)) for p in s.pools],
            algorithm=s.algorithm,
            devices=[DeviceIn(**asdict(d)) for d in s.devices],
        )


class EventIn(_Strict):
    ts: datetime
    kind: EventKind
    key: Annotated[str, Field(min_length=1, max_length=200)]
    miner_key: Str64 | None = None
    host_key: Str64 | None = None
    message: Annotated[str, Field(max_length=1000)] = ""
    data: dict[Str64, Any] = Field(default_factory=dict, max_length=32)

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    @field_validator("data")
    @classmethod
    def _finite(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, value in v.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"data.{name} must be a finite number")
            if isinstance(value, str) and len(value) > 1000:
                raise ValueError(f"data.{name} is longer than 1000 characters")
        return v

    def to_domain(self) -> Event:
        return Event(
            ts=self.ts,
            kind=self.kind,
            key=self.key,
            miner_key=self.miner_key,
            host_key=self.host_key,
            message=self.message,
            data=dict(self.data),
        )

    @classmethod
    def from_domain(cls, e: Event) -> EventIn:
        return cls(
            ts=e.ts,
            kind=e.kind,
            key=e.key,
            miner_key=e.miner_key,
            host_key=e.host_key,
            message=e.message,
            data=dict(e.data),
        )


class HostIdentityIn(_Strict):
    key: Str64 = Field(min_length=1)
    hostname: Str64 | None = None
    os: Str256 | None = None
    cpu_model: Str256 | None = None
    cpu_count: int | None = Field(default=None, ge=1, le=4096)

    def to_domain(self) -> HostIdentity:
        return HostIdentity(
            key=self.key,
            hostname=self.hostname,
            os=self.os,
            cpu_model=self.cpu_model,
            cpu_count=self.cpu_count,
        )


class GpuHealthIn(_Strict):
    index: int = Field(ge=0, le=255)
    name: Str64 | None = None
    uuid: Annotated[str, Field(max_length=80)] | None = None
    temp_c: Temp | None = None
    fan_pct: Percent | None = None
    power_w: Power | None = None
    power_limit_w: Power | None = None
    core_clock_mhz: Mhz | None = None
    mem_clock_mhz: Mhz | None = None
    mem_used_bytes: Bytes | None = None
    mem_total_bytes: Bytes | None = None
    util_pct: Percent | None = None


class HostReadingIn(_Strict):
    """One host reading; `miners` names the rigs (miner keys) that run on the host."""

    host: HostIdentityIn
    ts: datetime
    cpu_pct: Percent | None = None
    load_1m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    cpu_temp_c: Temp | None = None
    mem_used_bytes: Bytes | None = None
    mem_total_bytes: Bytes | None = None
    disk_used_bytes: Bytes | None = None
    disk_total_bytes: Bytes | None = None
    uptime_s: Count | None = None
    gpus: list[GpuHealthIn] = Field(default_factory=list, max_length=64)
    miners: list[Str64] = Field(default_factory=list, max_length=64)

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    def to_domain(self) -> HostReading:
        sample = HostSample(
            ts=self.ts,
            cpu_pct=self.cpu_pct,
            load_1m=self.load_1m,
            cpu_temp_c=self.cpu_temp_c,
            mem_used_bytes=self.mem_used_bytes,
            mem_total_bytes=self.mem_total_bytes,
            disk_used_bytes=self.disk_used_bytes,
            disk_total_bytes=self.disk_total_bytes,
            uptime_s=self.uptime_s,
            gpus=tuple(GpuHealth(**g.model_dump()) for g in self.gpus),
        )
        return HostReading(self.host.to_domain(), sample, tuple(self.miners))

    @classmethod
    def from_domain(cls, reading: HostReading) -> HostReadingIn:
        s = reading.sample
        return cls(
            host=HostIdentityIn(**asdict(reading.host)),
            ts=s.ts,
            cpu_pct=s.cpu_pct,
            load_1m=s.load_1m,
            cpu_temp_c=s.cpu_temp_c,
            mem_used_bytes=s.mem_used_bytes,
            mem_total_bytes=s.mem_total_bytes,
            disk_used_bytes=s.disk_used_bytes,
            disk_total_bytes=s.disk_total_bytes,
            uptime_s=s.uptime_s,
            gpus=[GpuHealthIn(**asdict(g)) for g in s.gpus],
            miners=list(reading.miner_keys),
        )


class P2PoolWorkerIn(_Strict):
    address: Str64
    uptime_s: Count | None = None
    difficulty: Count | None = None
    hashrate_hs: Hashrate | None = None
    name: Str256 | None = None


class P2PoolStatsIn(_Strict):
    """One read of a P2Pool node's data API. Amounts atomic (1 XMR = 10**12)."""

    node: Annotated[str, Field(min_length=1, max_length=200)]
    host_key: Str64 | None = None
    ts: datetime
    hashrate_15m_hs: Hashrate | None = None
    hashrate_1h_hs: Hashrate | None = None
    hashrate_24h_hs: Hashrate | None = None
    total_hashes: Count | None = None
    shares_found: Count | None = None
    shares_failed: Count | None = None
    average_effort_pct: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    current_effort_pct: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    block_reward_share_pct: Percent | None = None
    connections: Count | None = None
    wallet: Annotated[str, Field(max_length=200)] | None = None
    workers: list[P2PoolWorkerIn] = Field(default_factory=list, max_length=1000)
    peers: Count | None = None
    sidechain_height: Count | None = None
    sidechain_difficulty: Count | None = None
    pool_hashrate_hs: Hashrate | None = None
    pool_miners: Count | None = None
    pool_blocks_found: Count | None = None
    network_height: Count | None = None
    network_difficulty: Count | None = None
    network_reward_atomic: Count | None = None

    @field_validator("ts")
    @classmethod
    def _ts_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    def to_domain(self) -> P2PoolReading:
        fields = self.model_dump(exclude={"node", "host_key", "workers"})
        workers = tuple(P2PoolWorker(**w.model_dump()) for w in self.workers)
        return P2PoolReading(
            node=self.node, stats=P2PoolStats(**fields, workers=workers), host_key=self.host_key
        )

    @classmethod
    def from_domain(cls, reading: P2PoolReading) -> P2PoolStatsIn:
        stats = asdict(reading.stats)
        workers = [P2PoolWorkerIn(**w) for w in stats.pop("workers")]
        return cls(node=reading.node, host_key=reading.host_key, workers=workers, **stats)


class IngestBatch(_Strict):
    """One batch from one sentry. `seq` increases per sentry; a replayed seq is stored once."""

    seq: int = Field(ge=0, le=2**62)
    sent_at: datetime | None = None
    samples: list[SampleIn] = Field(default_factory=list, max_length=MAX_SAMPLES)
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_EVENTS)
    hosts: list[HostReadingIn] = Field(default_factory=list, max_length=MAX_HOSTS)
    p2pool: list[P2PoolStatsIn] = Field(default_factory=list, max_length=MAX_P2POOL)


class IngestAck(BaseModel):
    seq: int
    stored: bool = Field(description="false when this seq had been stored before (a replay)")
    samples: int
    events: int


# The fast path ---------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_HOUR_US = 3600 * 1_000_000
_TEN_YEARS_US = 3650 * 86400 * 1_000_000


def _typed_dict(model: type[BaseModel], replace: dict[str, Any] | None = None) -> Any:
    """`model`'s fields, bounds and defaults as a TypedDict (defaults filled in by pydantic).

    Field validators are left out: the only ones on the sample path check `ts`, which
    `parse_fast` does for all samples at once.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = (replace or {}).get(name, info.annotation)
        if info.is_required():
            fields[name] = Annotated[(annotation, *info.metadata)] if info.metadata else annotation
            continue
        if info.default_factory is list:
            # An absent list becomes the shared empty tuple: no allocation, and one object
            # less per sample for the cyclic GC to track (it measured ~20 % of parsing).
            default = Field(default=())
        elif info.default_factory is not None:
            default = Field(default_factory=info.default_factory)
        else:
            default = Field(default=info.default)
        fields[name] = NotRequired[Annotated[(annotation, *info.metadata, default)]]
    make: Any = TypedDict
    typed = make(f"{model.__name__}Fast", fields)
    typed.__pydantic_config__ = ConfigDict(extra="forbid")
    return typed


_MinerFast = _typed_dict(MinerIn)
_SampleFast = _typed_dict(SampleIn, {"miner": _MinerFast})
_BatchFast = _typed_dict(IngestBatch, {"samples": list[_SampleFast]})  # type: ignore[valid-type]
_FAST: TypeAdapter[dict[str, Any]] = TypeAdapter(_BatchFast)


@dataclass(frozen=True, slots=True)
class FastBatch:
    """A body validated by `parse_fast`.

    Each sample is a dict with every `SampleIn` field (None or empty where not sent):
    `miner` a dict with every `MinerIn` field, `ts` in integer microseconds since the
    epoch (UTC), `hashboards` / `pools` / `devices` sequences of domain objects; list
    fields not sent are the empty tuple. This is the store's sample record
    (`rigwatch.store.ingest_rows`).
    """

    seq: int
    samples: list[dict[str, Any]]
    events: tuple[Event, ...]
    hosts: tuple[HostReading, ...]
    p2pool: tuple[P2PoolReading, ...]


def parse_fast(raw: bytes | str) -> FastBatch | None:
    """Validate an ingest body in one pass; None when it needs `IngestBatch` to judge it."""
    try:
        body = _FAST.validate_json(raw)
    except ValidationError:
        return None
    samples: list[dict[str, Any]] = body["samples"]
    if samples:
        try:
            stamps = [(sample["ts"] - _EPOCH) // _ONE_US for sample in samples]
        except TypeError:  # a naive timestamp
            return None
        now = (datetime.now(UTC) - _EPOCH) // _ONE_US
        if max(stamps) > now + _HOUR_US or min(stamps) < now - _TEN_YEARS_US:
            return None
        for sample, stamp in zip(samples, stamps, strict=True):
            sample["ts"] = stamp
            if sample["hashboards"] or sample["pools"] or sample["devices"]:
                for name in ("hashboards", "pools", "devices"):
                    sample[name] = tuple([item.to_domain() for item in sample[name]])
    return FastBatch(
        seq=body["seq"],
        samples=samples,
        events=tuple([e.to_domain() for e in body["events"]]),
        hosts=tuple([h.to_domain() for h in body["hosts"]]),
        p2pool=tuple([p.to_domain() for p in body["p2pool"]]),
    )
