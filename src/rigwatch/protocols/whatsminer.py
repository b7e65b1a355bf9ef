"""Whatsminer btminer v2 replies → facts + sample.

cgminer-shaped `summary`, `devs`/`edevs` (both answer under `DEVS`), `pools`,
`devdetails`, plus the flat btminer `status` and `get_version` replies
(PROTOCOLS.md 1.7, PYASIC-CLIENT.md 3.3). Rates are MH/s except `Factory GHS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rigwatch.domain.models import Hashboard, Sample
from rigwatch.protocols import fields
from rigwatch.protocols.cgminer import active_pool, pool_states, share_totals
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError

COMMANDS = ("summary", "devs", "pools", "devdetails")
MAX_BOARDS = 16
MAX_ERRORS = 32
MH = 1e6
GH = 1e9


def parse(replies: Mapping[str, Mapping[str, Any]], *, ts: datetime) -> tuple[DeviceFacts, Sample]:
    """Facts and one sample; `summary` or `devs`/`edevs` must be present."""
    summary = fields.first(replies.get("summary"), "SUMMARY")
    devs = fields.records(replies.get("devs") or replies.get("edevs"), "DEVS")
    if not devs:
        devs = fields.records(replies.get("edevs"), "EDEVS")
    if not summary and not devs:
        raise ProtocolError("whatsminer reply has neither SUMMARY nor DEVS")
    boards = _hashboards(devs)
    pools = pool_states(replies.get("pools"))
    current = active_pool(pools)
    accepted, rejected, stale = share_totals(summary, pools)
    model, hardware = _model(replies.get("devdetails"))
    status_msg = _msg(replies.get("status"))
    version_msg = _msg(replies.get("get_version"))
    chip_temps = [b.chip_temp_c for b in boards if b.chip_temp_c is not None]

    facts = DeviceFacts(
        make="Whatsminer",
        model=model,
        firmware=_firmware(version_msg, summary, status_msg),
        software=_software(replies.get("summary")),
        api_version=fields.text(version_msg.get("api_ver")),
        hardware=hardware,
        mac=fields.normalize_mac(summary.get("MAC")),
        worker=current.user if current else None,
        is_mining=_is_mining(status_msg),
    )
    power = fields.num(summary.get("Power"))
    if power is None or power < 0:
        power = fields.num(summary.get("Power_RT"))
    sample = Sample(
        ts=ts,
        hashrate_hs=_hashrate(summary, boards),
        hashrate_expected_hs=_expected(summary),
        temp_c=fields.temp(summary.get("Temperature")),
        temp_max_c=fields.temp(summary.get("Chip Temp Max")) or max(chip_temps, default=None),
        chip_temp_c=fields.temp(summary.get("Chip Temp Avg")) or fields.mean(chip_temps),
        fans_rpm=_fans(summary, devs),
        power_w=power if power is not None and power >= 0 else None,
        accepted=accepted,
        rejected=rejected,
        stale=stale,
        uptime_s=fields.count(summary.get("Elapsed")),
        pool_url=current.url if current else None,
        pool_user=current.user if current else None,
        errors=_errors(summary),
        hashboards=tuple(boards),
        pools=pools,
    )
    return facts, sample


def _msg(reply: object) -> Mapping[str, Any]:
    """The `Msg` object of a flat btminer reply; {} when absent or a plain string."""
    if isinstance(reply, Mapping):
        msg = reply.get("Msg")
        if isinstance(msg, Mapping):
            return msg
    return {}


def _hashrate(summary: Mapping[str, Any], boards: list[Hashboard]) -> float | None:
    for key in ("MHS 1m", "MHS 5s", "MHS av"):
        mhs = fields.num(summary.get(key))
        if mhs is not None and mhs >= 0:
            return mhs * MH
    rates = [b.hashrate_hs for b in boards if b.hashrate_hs is not None]
    return sum(rates) if rates else None


def _expected(summary: Mapping[str, Any]) -> float | None:
    ghs = fields.num(summary.get("Factory GHS"))
    if ghs is not None and ghs > 0:
        return ghs * GH
    mhs = fields.num(summary.get("Target MHS"))
    return mhs * MH if mhs is not None and mhs > 0 else None


def _hashboards(devs: list[Mapping[str, Any]]) -> list[Hashboard]:
    boards: list[Hashboard] = []
    for position, row in enumerate(devs[:MAX_BOARDS]):
        index = fields.count(row.get("Slot"))
        if index is None:
            index = fields.count(row.get("ASC"))
        if index is None or index >= 64:
            index = position
        mhs = fields.num(row.get("MHS 1m"))
        if mhs is None:
            mhs = fields.num(row.get("MHS av"))
        chips = fields.count(row.get("Effective Chips"))
        status = fields.text(row.get("Status"))
        boards.append(
            Hashboard(
                index=index,
                hashrate_hs=mhs * MH if mhs is not None and mhs >= 0 else None,
                temp_c=fields.temp(row.get("Temperature")),
                chip_temp_c=fields.temp(row.get("Chip Temp Avg")),
                chips=chips,
                missing=chips == 0 or (status is not None and status.lower() != "alive"),
            )
        )
    return boards


def _fans(summary: Mapping[str, Any], devs: list[Mapping[str, Any]]) -> tuple[int, ...]:
    """Intake and exhaust fans; both are always reported, so 0 rpm is a stopped fan."""
    source = summary if "Fan Speed In" in summary else (devs[0] if devs else {})
    rpms = [fields.count(source.get(k)) for k in ("Fan Speed In", "Fan Speed Out")]
    return tuple(min(r, 100_000) for r in rpms if r is not None)


def _model(reply: object) -> tuple[str | None, str | None]:
    """DEVDETAILS `Model` "M30S+_VE40" → ("M30S+", "VE40")."""
    raw = fields.text(fields.first(reply, "DEVDETAILS").get("Model"), 64)
    if raw is None:
        return None, None
    model, sep, hardware = raw.partition("_")
    return model.strip() or None, (hardware.strip() or None) if sep else None


def _firmware(
    version_msg: Mapping[str, Any], summary: Mapping[str, Any], status_msg: Mapping[str, Any]
) -> str | None:
    """`get_version` fw_ver, else the summary or status field without its literal quotes."""
    for value in (
        version_msg.get("fw_ver"),
        summary.get("Firmware Version"),
        status_msg.get("Firmware Version"),
    ):
        found = fields.text(value)
        if found is not None:
            return found.strip("'\" ") or None
    return None


def _software(reply: object) -> str | None:
    description = fields.text(fields.first(reply, "STATUS").get("Description"), 64)
    return description


def _is_mining(status_msg: Mapping[str, Any]) -> bool | None:
    """`status`: btmineroff/mineroff "true" means the owner put the miner to sleep."""
    for key in ("btmineroff", "mineroff"):
        off = fields.flag(status_msg.get(key))
        if off is not None:
            return not off
    return None


def _errors(summary: Mapping[str, Any]) -> tuple[str, ...]:
    """`Error Code 0..N-1` as "error code 110"; factory codes are history, not state."""
    total = min(fields.count(summary.get("Error Code Count")) or 0, MAX_ERRORS)
    found: list[str] = []
    for n in range(total):
        code = fields.integer(summary.get(f"Error Code {n}"))
        if code is not None:
            found.append(f"error code {code}")
    return tuple(found)
