"""Antminer bmminer/cgminer replies (`version`, `summary`, `stats`, `pools`) → facts + sample.

Field facts: PROTOCOLS.md 1.6 and the `cgminer-rpc/antminer/` captures. `STATS[0]` is the
version block, `STATS[1]` the device block whose per-chain keys are numbered from 1 on
S17/S19 and from 6 on S9-era builds; GHS fields may be strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rigwatch.domain.models import Hashboard, Sample
from rigwatch.protocols import fields
from rigwatch.protocols.antminer_models import ModelSpec, clean_model, spec_for
from rigwatch.protocols.cgminer import active_pool, pool_states, share_totals
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError

COMMANDS = ("version", "summary", "stats", "pools")
MAX_CHAINS = 16
MAX_FANS = 16
_SOFTWARE_KEYS = ("BMMiner", "CGMiner", "Cgminer", "BOSminer+", "BOSminer", "LUXminer")
_RATE_UNITS = {"H": 1.0, "KH": 1e3, "MH": 1e6, "GH": 1e9, "TH": 1e12, "PH": 1e15}
_CHAIN_KEY = re.compile(r"^(?:chain_acn|chain_rate|temp2_|temp_chip|temp_pcb|temp)(\d+)$")


def parse(replies: Mapping[str, Mapping[str, Any]], *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """Facts and one sample from whichever of the four replies are present.

    `stats` or `summary` must be there: without either there is no hashrate to report.
    """
    version = fields.first(replies.get("version"), "VERSION")
    stats_rows = fields.records(replies.get("stats"), "STATS")
    summary = fields.first(replies.get("summary"), "SUMMARY")
    if not stats_rows and not summary:
        raise ProtocolError("antminer reply has neither STATS nor SUMMARY")
    head = stats_rows[0] if stats_rows else {}
    device = _device_block(stats_rows)

    type_field = fields.text(version.get("Type")) or fields.text(head.get("Type"))
    model = clean_model(type_field) if type_field else None
    spec = spec_for(model)
    factor = spec.unit_factor if spec else 1e9

    pools = pool_states(replies.get("pools"))
    current = active_pool(pools)
    accepted, rejected, stale = share_totals(summary, pools)
    boards, errors = _hashboards(device, spec, factor)
    board_temps = [b.temp_c for b in boards if b.temp_c is not None]
    chip_temps = [b.chip_temp_c for b in boards if b.chip_temp_c is not None]

    facts = DeviceFacts(
        make="Antminer",
        model=model,
        firmware=fields.text(version.get("CompileTime")) or fields.text(head.get("CompileTime")),
        software=_software(version or head),
        api_version=fields.text(version.get("API")),
        hardware=fields.text(version.get("Miner")) or fields.text(head.get("Miner")),
        worker=current.user if current else None,
    )
    sample = Sample(
        ts=ts,
        hashrate_hs=_hashrate(summary, device, boards, factor),
        hashrate_expected_hs=_expected(device, factor),
        temp_c=fields.mean(board_temps),
        temp_max_c=max(board_temps + chip_temps, default=None),
        chip_temp_c=fields.mean(chip_temps),
        fans_rpm=_fans(device),
        accepted=accepted,
        rejected=rejected,
        stale=stale,
        uptime_s=fields.count(device.get("Elapsed")) or fields.count(summary.get("Elapsed")),
        pool_url=current.url if current else None,
        pool_user=current.user if current else None,
        errors=tuple(errors),
        hashboards=tuple(boards),
        pools=pools,
    )
    return facts, sample


def _device_block(rows: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The STATS row with device data (the one carrying `Elapsed` or GHS fields)."""
    for row in rows:
        if "Elapsed" in row or "GHS 5s" in row or "GHS av" in row:
            return row
    return rows[1] if len(rows) > 1 else {}


def _software(block: Mapping[str, Any]) -> str | None:
    for key in _SOFTWARE_KEYS:
        value = fields.text(block.get(key))
        if value is not None:
            return f"{key} {value}"
    return None


def _rate(block: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = fields.num(block.get(key))
        if value is not None and value >= 0:
            return value
    return None


def _hashrate(
    summary: Mapping[str, Any],
    device: Mapping[str, Any],
    boards: list[Hashboard],
    factor: float,
) -> float | None:
    """GHS 5s (summary, then stats), MHS 5s on BOSminer, else the sum of the chains."""
    ghs = _rate(summary, "GHS 5s", "GHS av") if summary else None
    if ghs is None:
        ghs = _rate(device, "GHS 5s", "GHS av")
    if ghs is not None:
        return ghs * factor
    mhs = _rate(summary, "MHS 5s", "MHS 1m", "MHS av")
    if mhs is not None:
        return mhs * 1e6
    rates = [b.hashrate_hs for b in boards if b.hashrate_hs is not None]
    return sum(rates) if rates else None


def _expected(device: Mapping[str, Any], factor: float) -> float | None:
    """`total_rateideal` in `rate_unit` (GH when absent, PYASIC-CLIENT.md 2.3)."""
    ideal = fields.num(device.get("total_rateideal"))
    if ideal is None or ideal <= 0:
        return None
    unit = fields.text(device.get("rate_unit"), 8)
    if unit is None:
        return ideal * factor
    scale = _RATE_UNITS.get(unit.upper().removesuffix("/S"))
    return ideal * scale if scale is not None else None


def _chain_numbers(device: Mapping[str, Any]) -> list[int]:
    found: set[int] = set()
    for key in device:
        match = _CHAIN_KEY.match(key)
        if match:
            number = int(match.group(1))
            if 1 <= number <= MAX_CHAINS:
                found.add(number)
    return sorted(found)


def _chain_has_data(device: Mapping[str, Any], n: int) -> bool:
    chips = fields.count(device.get(f"chain_acn{n}")) or 0
    rate = fields.num(device.get(f"chain_rate{n}")) or 0.0
    return chips > 0 or rate > 0


def _hashboards(
    device: Mapping[str, Any], spec: ModelSpec | None, factor: float
) -> tuple[list[Hashboard], list[str]]:
    """One row per chain, 0-based; chains the model should have but that report nothing
    are rows with `missing=True`."""
    numbers = _chain_numbers(device)
    with_data = [n for n in numbers if _chain_has_data(device, n)]
    if not with_data and spec is None:
        return [], []
    # S17/S19 number chains from 1 even when chain 1 is dead; S9 builds use 6-8.
    offset = 1 if not with_data or with_data[0] <= 4 else with_data[0]
    expected = spec.boards if spec else 0
    slots = sorted({n - offset for n in with_data} | set(range(expected)))
    boards: list[Hashboard] = []
    errors: list[str] = []
    for index in slots:
        n = index + offset
        chips = fields.count(device.get(f"chain_acn{n}"))
        rate = fields.num(device.get(f"chain_rate{n}"))
        board_temp = fields.temp(device.get(f"temp{n}"))
        if board_temp is None:
            board_temp = _max_temp(device.get(f"temp_pcb{n}"))
        chip_temp = fields.temp(device.get(f"temp2_{n}"))
        if chip_temp is None:
            chip_temp = _max_temp(device.get(f"temp_chip{n}"))
        for key in (f"temp{n}", f"temp2_{n}"):
            reading = fields.num(device.get(key))
            if reading is not None and reading < 0:
                errors.append(f"board {index}: sensor {key} reads {reading:g} °C")
        boards.append(
            Hashboard(
                index=index,
                hashrate_hs=rate * factor if rate is not None and rate >= 0 else None,
                temp_c=board_temp,
                chip_temp_c=chip_temp,
                chips=chips,
                chips_expected=spec.chips if spec else None,
                missing=not _chain_has_data(device, n),
            )
        )
    return boards, errors


def _max_temp(value: object) -> float | None:
    readings = [t for t in fields.dash_values(value) if 0 < t < 200]
    return max(readings) if readings else None


def _fans(device: Mapping[str, Any]) -> tuple[int, ...]:
    """Non-zero `fanN` readings; if `fan_num` promises more fans, the rest read 0 rpm."""
    rpms: list[int] = []
    for n in range(1, MAX_FANS + 1):
        rpm = fields.count(device.get(f"fan{n}"))
        if rpm:
            rpms.append(min(rpm, 100_000))
    promised = fields.count(device.get("fan_num")) or 0
    rpms.extend([0] * max(0, min(promised, 8) - len(rpms)))
    return tuple(rpms)
