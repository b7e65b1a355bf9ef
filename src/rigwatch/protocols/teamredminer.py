"""TeamRedMiner's cgminer-compatible API (PROTOCOLS.md 3.7), framed by `cgminer.py`.

DEVS rows carry rates as `KHS <window>` and `MHS <window>` (the window is 30s or
120s depending on the version, plus `av`). The kH/s field is preferred because it
keeps three more digits; either is converted to H/s. Fans come as both RPM
(`Fan Speed`) and percent (`Fan Percent`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rigwatch.domain.models import Device, PoolState, Sample
from rigwatch.protocols import cgminer, fields
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.gpu_miners import counter_sum, device, rate, rig_model, rig_sample

COMMANDS = ("summary", "devs", "pools")
OPTIONAL = frozenset({"summary", "pools"})
_UNITS = {"K": 1e3, "M": 1e6, "G": 1e9}
_RATE_KEY = re.compile(r"^([KMG])HS (av|\d+[sm])$")


def parse(replies: Mapping[str, Mapping[str, Any]], *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """Facts and a sample from the `devs` reply (required) plus `summary` and `pools`."""
    if not isinstance(replies, Mapping):
        raise ProtocolError("TeamRedMiner replies are not a mapping")
    devs = replies.get("devs")
    if not isinstance(devs, Mapping) or "DEVS" not in devs:
        raise ProtocolError("TeamRedMiner devs reply has no DEVS section")
    rows = fields.records(devs, "DEVS")
    devices = [_device(row, position) for position, row in enumerate(rows[:256])]
    summary = fields.first(replies.get("summary"), "SUMMARY")
    pools = cgminer.pool_states(replies.get("pools"))
    active = cgminer.active_pool(pools)
    active_row = _active_row(replies.get("pools"), active)
    elapsed = [e for row in rows if (e := fields.count(row.get("Device Elapsed"))) is not None]
    uptime = fields.count(summary.get("Elapsed"))
    accepted, rejected, stale = _shares(summary, devices, pools)
    software = _description(devs) or _description(replies.get("pools"))
    if software and not software.lower().startswith("teamredminer"):
        # Another cgminer-API program (an ASIC's cgminer) must not pass for a GPU rig.
        raise ProtocolError(f"not TeamRedMiner: the API says {software!r}")
    facts = DeviceFacts(
        make="TeamRedMiner",
        model=rig_model(devices),
        firmware=software.removeprefix("TeamRedMiner").strip() or None if software else None,
        software=software or "TeamRedMiner",
        worker=active.user if active else None,
    )
    sample = rig_sample(
        ts,
        devices,
        hashrate_hs=_summary_rate(summary),
        accepted=accepted,
        rejected=rejected,
        stale=stale,
        uptime_s=uptime if uptime is not None else max(elapsed, default=None),
        pool_url=active.url if active else None,
        pool_user=active.user if active else None,
        algorithm=fields.text(active_row.get("Algorithm"), 64),
        pools=pools,
        errors=[
            f"GPU {d.index} {status}"
            for d, row in zip(devices, rows, strict=False)
            if (status := fields.text(row.get("Status"), 32)) and status.lower() != "alive"
        ],
    )
    return facts, sample


def row_rate(row: Mapping[str, Any]) -> float | None:
    """H/s from a row's rate fields: a rolling window before `av`, kH/s before MH/s."""
    found: dict[tuple[bool, int], float] = {}
    for key, value in row.items():
        match = _RATE_KEY.match(key) if isinstance(key, str) else None
        if match is None:
            continue
        unit, window = match.groups()
        hs = rate(value, _UNITS[unit])
        if hs is not None:
            # lower sorts first: rolling window, then the smaller unit
            found.setdefault((window == "av", "KMG".index(unit)), hs)
    return found[min(found)] if found else None


def _device(row: Mapping[str, Any], position: int) -> Device:
    return device(
        row.get("GPU"),
        position,
        hashrate_hs=row_rate(row),
        temp=row.get("Temperature"),
        fan_pct=row.get("Fan Percent"),
        fan_rpm=row.get("Fan Speed"),
        core_clock=row.get("GPU Clock"),
        mem_clock=row.get("Memory Clock"),
        accepted=row.get("Accepted"),
        rejected=row.get("Rejected"),
    )


def _summary_rate(summary: Mapping[str, Any]) -> float | None:
    return row_rate(summary) if summary else None


def _shares(
    summary: Mapping[str, Any], devices: list[Device], pools: tuple[PoolState, ...]
) -> tuple[int | None, int | None, int | None]:
    """SUMMARY's counters; else the sum over GPUs (same reply, same moment); else pools."""
    if summary:
        return cgminer.share_totals(summary, pools)
    accepted = counter_sum(d.accepted for d in devices)
    rejected = counter_sum(d.rejected for d in devices)
    _, _, stale = cgminer.share_totals({}, pools)
    if accepted is None and rejected is None:
        return cgminer.share_totals({}, pools)
    return accepted, rejected, stale


def _active_row(reply: object, active: PoolState | None) -> Mapping[str, Any]:
    """The POOLS row of the active pool (for TeamRedMiner's extra `Algorithm` column)."""
    if active is None:
        return {}
    for row in fields.records(reply, "POOLS"):
        if fields.text(row.get("URL")) == active.url:
            return row
    return {}


def _description(reply: object) -> str | None:
    """STATUS Description, e.g. "TeamRedMiner 0.3.8"."""
    return fields.text(fields.first(reply, "STATUS").get("Description"), 64)
