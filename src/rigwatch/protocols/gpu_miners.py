"""GPU mining programs' HTTP JSON APIs: T-Rex, lolMiner, SRBMiner, GMiner, NBMiner.

Each program states its hashrate unit its own way (PROTOCOLS.md 3.2-3.6): T-Rex and
NBMiner `*_raw` in H/s, lolMiner `Performance_Unit` ("mh/s", "sol/s"), GMiner
`speedUnit` ("Sol/s", "G/s"), SRBMiner raw H/s. Every rate is converted here, at the
edge, to H/s; solutions and graphs per second count as one hash each, the way pools
and dashboards count them for Equihash and Cuckoo algorithms.

The shared helpers (`rig_sample`, `device`, `rate_factor`, `gpu_model`) are also used by
the XMRig and TeamRedMiner parsers, so every rig sample is built the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from rigwatch.domain.models import Device, DeviceKind, PoolState, Sample
from rigwatch.protocols import fields
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError

MAX_BODY_BYTES = 1024 * 1024
MAX_DEVICES = 256
MAX_FAN_RPM = 100_000
MAX_POWER_W = 100_000.0
MAX_CLOCK_MHZ = 100_000.0

TREX_PATH = "/summary"
LOLMINER_PATH = "/summary"
SRBMINER_PATH = "/"
GMINER_PATH = "/stat"
NBMINER_PATH = "/api/v1/status"

_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
# "hash", solutions (Equihash) and graphs (Cuckoo) are all counted as one hash.
_BASE = frozenset({"h", "hash", "hashes", "sol", "sols", "g", "gps", "graph", "graphs"})
_PER_SECOND = re.compile(r"\s*(?:/\s*s(?:ec)?|ps)\s*$")
_SI_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP]?)\s*(?:[hH](?:/s)?)?\s*$")


class ApiRefused(ProtocolError):
    """The program answered, but refused the request (T-Rex with an api-key set)."""


def decode_json(raw: bytes, what: str) -> Any:
    """Any JSON value from a bounded body, or ProtocolError."""
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"{what} body of {len(raw)} bytes is larger than any miner sends")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"{what} body is not JSON: {exc}") from None


def require_object(body: object, what: str, *keys: str) -> Mapping[str, Any]:
    """The body as a mapping holding at least one of `keys`, else ProtocolError."""
    if not isinstance(body, Mapping):
        raise ProtocolError(f"{what} body is a JSON {type(body).__name__}, not an object")
    if keys and not any(k in body for k in keys):
        raise ProtocolError(f"not a {what} body (none of {', '.join(keys)})")
    return body


def obj(value: object) -> Mapping[str, Any]:
    """A nested object, or an empty one when the field is missing or of another type."""
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (bounded), skipping anything else."""
    if not isinstance(value, list):
        return []
    return [v for v in value[:MAX_DEVICES] if isinstance(v, Mapping)]


def rate_factor(unit: object) -> float | None:
    """H/s per unit for strings like "mh/s", "Sol/s", "G/s", "KH/s"; None if unknown.

    A bare base unit ("G/s" in GMiner means graphs per second) is 1; a prefix needs a
    base unit after it, so "G/s" is never read as giga.
    """
    name = fields.text(unit, 32)
    if name is None:
        return None
    rest = _PER_SECOND.sub("", name.lower()).strip()
    if rest in _BASE:
        return 1.0
    if rest[:1] in _PREFIX and rest[1:] in _BASE:
        return _PREFIX[rest[:1]]
    return None


def si_rate(value: object) -> float | None:
    """A rate written as a number or a string with an SI suffix ("23.0 M" → 23e6 H/s)."""
    if isinstance(value, str):
        match = _SI_NUMBER.match(value[:64])
        if match is None:
            return None
        return rate(match.group(1), _PREFIX[match.group(2).lower()])
    return rate(value)


def rate(value: object, factor: float = 1.0) -> float | None:
    """A non-negative finite rate in H/s from a value in units of `factor` H/s."""
    number = fields.num(value)
    if number is None or number < 0:
        return None
    result = number * factor
    return result if math.isfinite(result) else None


def first_rate(values: object, factor: float = 1.0) -> float | None:
    """The first non-null rate of a window list (XMRig's [10s, 60s, 15m], null = no data)."""
    if not isinstance(values, list):
        return rate(values, factor)
    for value in values[:8]:
        result = rate(value, factor)
        if result is not None:
            return result
    return None


def _pct(value: object) -> float | None:
    number = fields.num(value)
    return number if number is not None and 0 <= number <= 100 else None


def _bounded(value: object, top: float) -> float | None:
    """A positive reading below `top`; 0 is what programs report for "no sensor"."""
    number = fields.num(value)
    return number if number is not None and 0 < number < top else None


def device(
    index: object,
    position: int,
    *,
    kind: DeviceKind = DeviceKind.GPU,
    name: object = None,
    bus_id: object = None,
    hashrate_hs: float | None = None,
    temp: object = None,
    mem_temp: object = None,
    fan_pct: object = None,
    fan_rpm: object = None,
    power: object = None,
    core_clock: object = None,
    mem_clock: object = None,
    accepted: object = None,
    rejected: object = None,
) -> Device:
    """A Device from raw fields, each cleaned; `position` numbers it when `index` is odd."""
    number = fields.count(index)
    rpm = fields.count(fan_rpm)
    bus = fields.text(bus_id, 32) if isinstance(bus_id, str) else None
    if bus is None and (bus_number := fields.count(bus_id)) is not None and bus_number < 2**16:
        bus = str(bus_number)
    return Device(
        index=number if number is not None and number < 2**31 else position,
        kind=kind,
        name=fields.text(name, 128),
        bus_id=bus,
        hashrate_hs=hashrate_hs,
        temp_c=fields.temp(temp),
        mem_temp_c=fields.temp(mem_temp),
        fan_pct=_pct(fan_pct),
        fan_rpm=rpm if rpm is not None and rpm < MAX_FAN_RPM else None,
        power_w=_bounded(power, MAX_POWER_W),
        core_clock_mhz=_bounded(core_clock, MAX_CLOCK_MHZ),
        mem_clock_mhz=_bounded(mem_clock, MAX_CLOCK_MHZ),
        accepted=fields.count(accepted),
        rejected=fields.count(rejected),
    )


def gpu_model(names: Iterable[str | None], count: int = 0) -> str | None:
    """ "4x AMD Radeon VII", "2x RTX 3070 + 1x RTX 3080", or "6 GPUs" when unnamed."""
    known = [n for n in names if n]
    if not known:
        return f"{count} GPUs" if count > 1 else ("1 GPU" if count == 1 else None)
    counted = Counter(known)
    if len(counted) == 1 and len(known) == 1:
        return known[0]
    return " + ".join(f"{n}x {name}" for name, n in counted.items())[:256]


def rig_model(devices: Sequence[Device], cpu_name: str | None = None) -> str | None:
    """The hardware a rig mines with: CPU brand, GPU summary, or both."""
    gpus = [d for d in devices if d.kind is DeviceKind.GPU]
    parts = [
        cpu_name if cpu_name and any(d.kind is DeviceKind.CPU for d in devices) else None,
        gpu_model((d.name for d in gpus), len(gpus)),
    ]
    found = [p for p in parts if p]
    if not found:
        return cpu_name
    return " + ".join(found)


def counter_sum(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def difference(total: object, part: object) -> int | None:
    """total - part for counters like submitted - accepted; None if it would be negative."""
    whole, some = fields.count(total), fields.count(part)
    if whole is None or some is None or whole < some:
        return None
    return whole - some


def rig_sample(
    ts: datetime,
    devices: Sequence[Device],
    *,
    hashrate_hs: float | None = None,
    accepted: int | None = None,
    rejected: int | None = None,
    stale: int | None = None,
    uptime_s: int | None = None,
    pool_url: str | None = None,
    pool_user: str | None = None,
    algorithm: str | None = None,
    power_w: float | None = None,
    pools: tuple[PoolState, ...] | None = None,
    errors: Sequence[str] = (),
) -> Sample:
    """One rig sample: totals fall back to the sum over devices; temps are GPU temps."""
    temps = [d.temp_c for d in devices if d.temp_c is not None]
    if hashrate_hs is None:
        rates = [d.hashrate_hs for d in devices if d.hashrate_hs is not None]
        hashrate_hs = sum(rates) if rates else None
    if power_w is None or power_w <= 0:
        watts = [d.power_w for d in devices if d.power_w is not None]
        power_w = sum(watts) if watts else None
    if pools is None:
        pools = (
            (
                PoolState(
                    url=pool_url,
                    user=pool_user,
                    active=True,
                    accepted=accepted,
                    rejected=rejected,
                    stale=stale,
                ),
            )
            if pool_url
            else ()
        )
    return Sample(
        ts=ts,
        hashrate_hs=hashrate_hs,
        temp_c=fields.mean(temps),
        temp_max_c=max(temps, default=None),
        fans_rpm=tuple(d.fan_rpm for d in devices if d.fan_rpm is not None),
        power_w=power_w,
        accepted=accepted,
        rejected=rejected,
        stale=stale,
        uptime_s=uptime_s,
        pool_url=pool_url,
        pool_user=pool_user,
        errors=tuple(errors),
        pools=pools,
        algorithm=algorithm,
        devices=tuple(devices),
    )


def _software(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


# --- T-Rex -------------------------------------------------------------------------


def parse_trex(body: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """T-Rex `GET /summary`: every rate in H/s; `fan_speed` in %, `power` in W."""
    refused = isinstance(body, Mapping) and fields.integer(body.get("success")) == 0
    if refused and isinstance(body, Mapping) and "gpus" not in body:
        reason = fields.text(body.get("error")) or "success 0"
        raise ApiRefused(f"T-Rex refused the request: {reason}")
    summary = require_object(body, "T-Rex summary", "gpus", "accepted_count", "active_pool")
    devices = []
    for position, gpu in enumerate(items(summary.get("gpus"))):
        shares = obj(gpu.get("shares"))
        devices.append(
            device(
                gpu.get("device_id", gpu.get("gpu_id")),
                position,
                name=gpu.get("name"),
                bus_id=gpu.get("pci_bus"),
                hashrate_hs=rate(gpu.get("hashrate")),
                temp=gpu.get("temperature"),
                mem_temp=gpu.get("memory_temperature"),
                fan_pct=gpu.get("fan_speed"),
                power=gpu.get("power"),
                accepted=shares.get("accepted_count"),
                rejected=shares.get("rejected_count"),
            )
        )
    pool = obj(summary.get("active_pool"))
    version = fields.text(summary.get("version"), 32)
    user = fields.text(pool.get("user"))
    facts = DeviceFacts(
        make="T-Rex",
        model=rig_model(devices),
        firmware=version,
        software=_software("T-Rex", version),
        api_version=fields.text(summary.get("api"), 16),
        worker=fields.text(pool.get("worker")) or user,
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=rate(summary.get("hashrate")),
        accepted=fields.count(summary.get("accepted_count")),
        rejected=fields.count(summary.get("rejected_count")),
        uptime_s=fields.count(summary.get("uptime")),
        pool_url=fields.text(pool.get("url")),
        pool_user=user,
        algorithm=fields.text(summary.get("algorithm"), 64),
    )
    return facts, sample


# --- lolMiner ----------------------------------------------------------------------


def parse_lolminer(body: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """lolMiner 1.x `GET /summary`; rates in `Session.Performance_Unit`.

    Rejected shares are Submitted - Accepted: this API version states no other count.
    """
    summary = require_object(body, "lolMiner summary", "Session", "GPUs", "Software")
    session = obj(summary.get("Session"))
    unit = session.get("Performance_Unit")
    factor = rate_factor(unit)
    errors = [] if factor is not None else [f"unknown hashrate unit {unit!r:.40}"]
    devices = []
    for position, gpu in enumerate(items(summary.get("GPUs"))):
        devices.append(
            device(
                gpu.get("Index"),
                position,
                name=gpu.get("Name"),
                bus_id=gpu.get("PCIE_Address"),
                hashrate_hs=rate(gpu.get("Performance"), factor) if factor else None,
                temp=gpu.get("Temp (deg C)", gpu.get("Temps (deg C)")),
                mem_temp=gpu.get("Mem Temp (deg C)"),
                fan_pct=gpu.get("Fan Speed (%)"),
                power=gpu.get("Consumption (W)"),
                accepted=gpu.get("Session_Accepted"),
                rejected=difference(gpu.get("Session_Submitted"), gpu.get("Session_Accepted")),
            )
        )
    stratum = obj(summary.get("Stratum"))
    mining = obj(summary.get("Mining"))
    software = fields.text(summary.get("Software"), 64)
    user = fields.text(stratum.get("Current_User"))
    facts = DeviceFacts(
        make="lolMiner",
        model=rig_model(devices),
        firmware=software.removeprefix("lolMiner").strip() or None if software else None,
        software=software,
        worker=user,
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=rate(session.get("Performance_Summary"), factor) if factor else None,
        accepted=fields.count(session.get("Accepted")),
        rejected=difference(session.get("Submitted"), session.get("Accepted")),
        uptime_s=fields.count(session.get("Uptime")),
        pool_url=fields.text(stratum.get("Current_Pool")),
        pool_user=user,
        algorithm=fields.text(mining.get("Algorithm"), 64),
        power_w=_bounded(session.get("TotalPower"), MAX_POWER_W),
        errors=errors,
    )
    return facts, sample


# --- SRBMiner ----------------------------------------------------------------------


def parse_srbminer(body: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """SRBMiner `GET /`: the old SRBMiner-CN schema or SRBMiner-MULTI's; rates in H/s."""
    summary = require_object(
        body, "SRBMiner", "algorithms", "hashrate_total_now", "devices", "miner_version"
    )
    if "algorithms" in summary or "gpu_devices" in summary or "cpu_devices" in summary:
        return _srbminer_multi(summary, ts)
    return _srbminer_cn(summary, ts)


def _srbminer_cn(summary: Mapping[str, Any], ts: datetime) -> tuple[DeviceFacts, Sample]:
    devices = [
        device(
            gpu.get("device_id"),
            position,
            name=gpu.get("model"),
            bus_id=gpu.get("bus_id"),
            hashrate_hs=rate(gpu.get("hashrate")),
            temp=gpu.get("temperature"),
            fan_rpm=gpu.get("fan_speed_rpm"),
            power=gpu.get("power"),
            core_clock=gpu.get("core_clock"),
            mem_clock=gpu.get("memory_clock"),
        )
        for position, gpu in enumerate(items(summary.get("devices")))
    ]
    shares = obj(summary.get("shares"))
    pool = obj(summary.get("pool"))
    version = fields.text(summary.get("miner_version"), 32)
    facts = DeviceFacts(
        make="SRBMiner",
        model=rig_model(devices),
        firmware=version,
        software=_software("SRBMiner-CN", version),
        hostname=fields.text(summary.get("rig_name"), 64),
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=rate(summary.get("hashrate_total_now")),
        accepted=fields.count(shares.get("accepted")),
        rejected=fields.count(shares.get("rejected")),
        stale=fields.count(shares.get("accepted_stale")),
        uptime_s=fields.count(summary.get("mining_time")),
        pool_url=fields.text(pool.get("pool")),
        algorithm=fields.text(summary.get("cryptonight_type"), 64),
    )
    return facts, sample


def _srbminer_multi(summary: Mapping[str, Any], ts: datetime) -> tuple[DeviceFacts, Sample]:
    """MULTI reports per-device rates under `algorithms[0].hashrate.{cpu,gpu}`."""
    algos = items(summary.get("algorithms"))
    algo = algos[0] if algos else {}
    rates = obj(algo.get("hashrate"))
    cpu_rates, gpu_rates = obj(rates.get("cpu")), obj(rates.get("gpu"))
    cpus = items(summary.get("cpu_devices"))
    devices = [
        device(
            cpu.get("id"),
            position,
            kind=DeviceKind.CPU,
            name=cpu.get("model"),
            # One CPU device mines with all CPU threads, so it gets the CPU total.
            hashrate_hs=rate(cpu_rates.get("total")) if len(cpus) == 1 else None,
            temp=cpu.get("temperature"),
            power=cpu.get("power"),
        )
        for position, cpu in enumerate(cpus)
    ]
    for position, gpu in enumerate(items(summary.get("gpu_devices"))):
        number = fields.count(gpu.get("id"))
        devices.append(
            device(
                number,
                position,
                name=gpu.get("model"),
                bus_id=gpu.get("bus_id"),
                hashrate_hs=rate(gpu_rates.get(f"gpu{number if number is not None else position}")),
                temp=gpu.get("temperature"),
                mem_temp=gpu.get("temperature_memory"),
                fan_rpm=gpu.get("fan_speed_rpm"),
                power=gpu.get("power"),
                core_clock=gpu.get("core_clock"),
                mem_clock=gpu.get("memory_clock"),
            )
        )
    shares = obj(algo.get("shares"))
    pool = obj(algo.get("pool"))
    version = fields.text(summary.get("miner_version"), 32)
    cpu_name = next((d.name for d in devices if d.kind is DeviceKind.CPU and d.name), None)
    facts = DeviceFacts(
        make="SRBMiner",
        model=rig_model(devices, cpu_name),
        firmware=version,
        software=_software("SRBMiner-MULTI", version),
        hostname=fields.text(summary.get("rig_name"), 64),
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=rate(rates.get("now")),
        accepted=fields.count(shares.get("accepted")),
        rejected=fields.count(shares.get("rejected")),
        uptime_s=fields.count(summary.get("mining_time")),
        pool_url=fields.text(pool.get("pool")),
        algorithm=fields.text(algo.get("name"), 64),
    )
    return facts, sample


# --- GMiner ------------------------------------------------------------------------


def parse_gminer(body: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """GMiner `GET /stat`; rates in `speedUnit`. Older builds omit it and report the
    algorithm's native unit (Sol/s for Equihash), which counts as H/s."""
    stat = require_object(body, "GMiner stat", "devices", "miner", "server")
    unit = stat.get("speedUnit")
    factor = 1.0 if unit is None else rate_factor(unit)
    errors = [] if factor is not None else [f"unknown hashrate unit {unit!r:.40}"]
    devices = []
    for position, gpu in enumerate(items(stat.get("devices"))):
        devices.append(
            device(
                gpu.get("gpu_id"),
                position,
                name=gpu.get("name"),
                bus_id=gpu.get("bus_id"),
                hashrate_hs=rate(gpu.get("speed"), factor) if factor else None,
                temp=gpu.get("temperature"),
                mem_temp=gpu.get("memory_temperature"),
                fan_pct=gpu.get("fan"),
                power=gpu.get("power_usage"),
                core_clock=gpu.get("core_clock"),
                mem_clock=gpu.get("memory_clock"),
                accepted=gpu.get("accepted_shares"),
                rejected=gpu.get("rejected_shares"),
            )
        )
    miner = fields.text(stat.get("miner"), 64)
    user = fields.text(stat.get("user"))
    accepted = fields.count(stat.get("total_accepted_shares"))
    rejected = fields.count(stat.get("total_rejected_shares"))
    facts = DeviceFacts(
        make="GMiner",
        model=rig_model(devices),
        firmware=miner.removeprefix("GMiner").strip() or None if miner else None,
        software=miner or "GMiner",
        worker=user,
    )
    sample = rig_sample(
        ts,
        devices,
        accepted=accepted if accepted is not None else counter_sum(d.accepted for d in devices),
        rejected=rejected if rejected is not None else counter_sum(d.rejected for d in devices),
        stale=fields.count(stat.get("total_stale_shares")),
        uptime_s=fields.count(stat.get("uptime")),
        pool_url=fields.text(stat.get("server")),
        pool_user=user,
        algorithm=fields.text(stat.get("algorithm"), 64),
        errors=errors,
    )
    return facts, sample


# --- NBMiner -----------------------------------------------------------------------


def parse_nbminer(body: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """NBMiner `GET /api/v1/status`. `*_raw` rates are H/s; `hashrate` may be a number
    (H/s) or a string with an SI suffix. Only the primary algorithm of a dual-mining
    setup is recorded. Uptime is derived from `start_time` (unix s) and `ts`."""
    status = require_object(body, "NBMiner status", "miner", "stratum")
    miner = obj(status.get("miner"))
    devices = []
    for position, gpu in enumerate(items(miner.get("devices"))):
        raw = rate(gpu.get("hashrate_raw"))
        devices.append(
            device(
                gpu.get("id"),
                position,
                name=_nbminer_name(gpu.get("info")),
                bus_id=gpu.get("pci_bus_id"),
                hashrate_hs=raw if raw is not None else si_rate(gpu.get("hashrate")),
                temp=gpu.get("temperature"),
                mem_temp=gpu.get("memTemperature"),
                fan_pct=gpu.get("fan"),
                power=gpu.get("power"),
                core_clock=gpu.get("core_clock"),
                mem_clock=gpu.get("mem_clock"),
                accepted=gpu.get("accepted_shares"),
                rejected=gpu.get("rejected_shares"),
            )
        )
    stratum = obj(status.get("stratum"))
    total = rate(miner.get("total_hashrate_raw"))
    version = fields.text(status.get("version"), 32)
    user = fields.text(stratum.get("user"))
    started = fields.count(status.get("start_time"))
    uptime = int(ts.timestamp()) - started if started else None
    facts = DeviceFacts(
        make="NBMiner",
        model=rig_model(devices),
        firmware=version,
        software=_software("NBMiner", version),
        worker=user,
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=total if total is not None else si_rate(miner.get("total_hashrate")),
        accepted=fields.count(stratum.get("accepted_shares")),
        rejected=fields.count(stratum.get("rejected_shares")),
        uptime_s=uptime if uptime is not None and uptime >= 0 else None,
        pool_url=fields.text(stratum.get("url")),
        pool_user=user,
        algorithm=fields.text(stratum.get("algorithm"), 64),
        power_w=_bounded(miner.get("total_power_consume"), MAX_POWER_W),
    )
    return facts, sample


def _nbminer_name(info: object) -> str | None:
    """ "GeForce GTX 1080 Ti 11178 MB" → "GeForce GTX 1080 Ti" (memory size dropped)."""
    name = fields.text(info, 128)
    return re.sub(r"\s+\d+\s*MB$", "", name) if name else None
