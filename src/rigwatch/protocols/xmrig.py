"""XMRig and xmrig-proxy HTTP API bodies (PROTOCOLS.md 3.1).

The miner's summary (`/2/summary`, `/1/summary`, or `/` on 2.x builds) states hashrate
in H/s as [10 s, 60 s, 15 min] windows where `null` means "not enough data yet", so
the shortest window with data is used. `/2/backends` adds per-backend and per-GPU rows.

xmrig-proxy's `/1/summary` has another shape (`miners`, `upstreams`, `results.accepted`)
and states hashrate in **kH/s** over [1 min, 10 min, 1 h, 12 h, 24 h, all]: its counter
divides hashes by seconds * 1000 (xmrig-proxy `src/proxy/TickingCounter.h`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rigwatch.domain.models import Device, DeviceKind, Sample
from rigwatch.protocols import fields
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.gpu_miners import (
    decode_json,
    device,
    first_rate,
    items,
    obj,
    require_object,
    rig_model,
    rig_sample,
)

SUMMARY_PATHS = ("/2/summary", "/1/summary", "/")
BACKENDS_PATH = "/2/backends"
PROXY_SUMMARY_PATHS = ("/1/summary", "/2/summary")
KH = 1e3
_GPU_BACKENDS = frozenset({"cuda", "opencl"})


def decode_body(raw: bytes) -> Any:
    """Any JSON value of an XMRig body, or ProtocolError."""
    return decode_json(raw, "XMRig")


def is_proxy(summary: Mapping[str, Any]) -> bool:
    return summary.get("kind") == "proxy" or ("upstreams" in summary and "miners" in summary)


def parse_summary(
    summary: object, *, ts: datetime, backends: object = None
) -> tuple[DeviceFacts, Sample]:
    """Facts and a sample from a miner (or proxy) summary, plus `/2/backends` if fetched."""
    body = require_object(summary, "XMRig summary", "hashrate", "version", "results")
    if is_proxy(body):
        return parse_proxy_summary(body, ts=ts)
    cpu = obj(body.get("cpu"))
    cpu_name = fields.text(cpu.get("brand"), 128)
    devices = _backend_devices(backends, cpu_name) if isinstance(backends, list) else None
    if devices is None:
        devices = _summary_devices(body, cpu_name)
    results = obj(body.get("results"))
    connection = obj(body.get("connection"))
    good = fields.count(results.get("shares_good"))
    total = fields.count(results.get("shares_total"))
    version = fields.text(body.get("version"), 32)
    paused = fields.flag(body.get("paused")) is True
    facts = DeviceFacts(
        make="XMRig",
        model=rig_model(devices, cpu_name),
        firmware=version,
        software=f"XMRig {version}" if version else "XMRig",
        worker=fields.text(body.get("worker_id"), 128),
        is_mining=not paused,
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=first_rate(obj(body.get("hashrate")).get("total")),
        accepted=good,
        rejected=total - good if good is not None and total is not None and total >= good else None,
        uptime_s=fields.count(body.get("uptime")),
        pool_url=fields.text(connection.get("pool")),
        algorithm=fields.text(body.get("algo"), 64) or fields.text(connection.get("algo"), 64),
        errors=("paused",) if paused else (),
    )
    return facts, sample


def parse_proxy_summary(summary: object, *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """xmrig-proxy `/1/summary`: kH/s rates, share counters under `results`, no devices."""
    body = require_object(summary, "xmrig-proxy summary", "hashrate", "miners", "upstreams")
    results = obj(body.get("results"))
    version = fields.text(body.get("version"), 32)
    facts = DeviceFacts(
        make="XMRig",
        model="xmrig-proxy",
        firmware=version,
        software=f"xmrig-proxy {version}" if version else "xmrig-proxy",
        worker=fields.text(body.get("worker_id"), 128),
    )
    sample = rig_sample(
        ts,
        (),
        hashrate_hs=first_rate(obj(body.get("hashrate")).get("total"), KH),
        accepted=fields.count(results.get("accepted")),
        rejected=fields.count(results.get("rejected")),
        uptime_s=fields.count(body.get("uptime")),
        algorithm=fields.text(body.get("algo"), 64),
    )
    return facts, sample


def _summary_devices(body: Mapping[str, Any], cpu_name: str | None) -> list[Device]:
    """Without `/2/backends`: the GPUs of an old xmrig-nvidia/amd `health` list, else the CPU.

    Per-GPU rates come from `hashrate.threads` only when there is one thread per GPU,
    the default of those builds; otherwise a thread cannot be matched to its GPU.
    """
    rates = obj(body.get("hashrate"))
    health = items(body.get("health"))
    if health:
        threads = rates.get("threads")
        per_gpu = threads if isinstance(threads, list) and len(threads) == len(health) else None
        return [
            device(
                None,
                position,
                name=gpu.get("name"),
                hashrate_hs=first_rate(per_gpu[position]) if per_gpu else None,
                temp=gpu.get("temp"),
                fan_pct=gpu.get("fan"),
                power=gpu.get("power"),
                core_clock=gpu.get("clock"),
                mem_clock=gpu.get("mem_clock"),
            )
            for position, gpu in enumerate(health)
        ]
    if body.get("kind") in ("nvidia", "amd"):
        return []
    return [
        device(
            0,
            0,
            kind=DeviceKind.CPU,
            name=cpu_name,
            hashrate_hs=first_rate(rates.get("total")),
        )
    ]


def _backend_devices(backends: list[Any], cpu_name: str | None) -> list[Device] | None:
    """Enabled backends from `/2/backends`: the CPU as one device, each GPU as one device.

    OpenCL may run several threads on one GPU; their rates are added per device index.
    """
    devices: list[Device] = []
    for backend in items(backends):
        if fields.flag(backend.get("enabled")) is not True:
            continue
        kind = backend.get("type")
        if kind == "cpu":
            devices.append(
                device(
                    0,
                    0,
                    kind=DeviceKind.CPU,
                    name=cpu_name,
                    hashrate_hs=first_rate(backend.get("hashrate")),
                )
            )
        elif kind in _GPU_BACKENDS:
            devices.extend(_gpu_threads(items(backend.get("threads"))))
    return devices if devices else None


def _gpu_threads(threads: list[Mapping[str, Any]]) -> list[Device]:
    by_index: dict[int, Device] = {}
    for position, thread in enumerate(threads):
        health = obj(thread.get("health"))
        fans = health.get("fan_speed")
        gpu = device(
            thread.get("index"),
            position,
            name=thread.get("name"),
            bus_id=thread.get("bus_id"),
            hashrate_hs=first_rate(thread.get("hashrate")),
            temp=health.get("temperature"),
            fan_pct=fans[0] if isinstance(fans, list) and fans else None,
            fan_rpm=health.get("rpm"),
            power=health.get("power"),
            core_clock=health.get("clock"),
            mem_clock=health.get("mem_clock"),
        )
        seen = by_index.get(gpu.index)
        if seen is None:
            by_index[gpu.index] = gpu
        elif gpu.hashrate_hs is not None:
            total = (seen.hashrate_hs or 0.0) + gpu.hashrate_hs
            by_index[gpu.index] = _with_rate(seen, total)
    return list(by_index.values())


def _with_rate(gpu: Device, hashrate_hs: float) -> Device:
    return dataclasses.replace(gpu, hashrate_hs=hashrate_hs)
