"""Bitaxe AxeOS (ESP-Miner) HTTP bodies: `GET /api/system/info` and `/api/system/asic`.

Units from ESP-Miner's openapi.yaml (PROTOCOLS.md 2): rates in GH/s, power W, temps °C.
Real bodies from v2.0.7, v2.6.0 and v2.12.2 differ (`bestDiff` "4.29G" vs a number,
`vrTemp`/`fanrpm` absent on v2.0.7, `macAddr` with dashes on v2.6.0); every field is
optional here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from rigwatch.domain.models import Hashboard, PoolState, Sample
from rigwatch.protocols import fields
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError

INFO_PATH = "/api/system/info"
ASIC_PATH = "/api/system/asic"
MAX_BODY_BYTES = 1024 * 1024
GH = 1e9
MH = 1e6
# The ASIC decides the product line (bitaxeorg naming).
ASIC_MODELS = {"BM1397": "Max", "BM1366": "Ultra", "BM1368": "Supra", "BM1370": "Gamma"}


def decode_body(raw: bytes) -> dict[str, Any]:
    """A JSON object body, or ProtocolError."""
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {len(raw)} bytes is larger than AxeOS sends")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"AxeOS body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"AxeOS body is a JSON {type(value).__name__}, not an object")
    return value


def parse_asic(asic: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """`/api/system/asic` → (device model, ASIC count)."""
    return fields.text(asic.get("deviceModel"), 64), fields.count(asic.get("asicCount"))


def parse_info(
    info: Mapping[str, Any], *, ts: datetime, asic: Mapping[str, Any] | None = None
) -> tuple[DeviceFacts, Sample]:
    """Facts and one sample from a `system/info` body (plus `system/asic` when fetched)."""
    if not isinstance(info, Mapping) or ("hashRate" not in info and "ASICModel" not in info):
        raise ProtocolError("not an AxeOS system/info body (no hashRate or ASICModel)")
    asic_model, asic_count = parse_asic(asic or {})
    chip = fields.text(info.get("ASICModel"), 32)
    model = asic_model or fields.text(info.get("deviceModel"), 64) or ASIC_MODELS.get(chip or "")
    asic_count = asic_count or fields.count(info.get("asicCount"))

    pools = _pools(info)
    current = next((p for p in pools if p.active), None)
    hashrate = _gh(info.get("hashRate"))
    chip_temp = fields.temp(info.get("temp"))
    vr_temp = fields.temp(info.get("vrTemp"))
    temps = [t for t in (chip_temp, vr_temp, fields.temp(info.get("temp2"))) if t is not None]
    fans = [
        min(rpm, 100_000)
        for key in ("fanrpm", "fan2rpm")
        if (rpm := fields.count(info.get(key))) is not None and (rpm > 0 or key == "fanrpm")
    ]
    power = fields.num(info.get("power"))
    uptime = fields.count(info.get("uptimeSeconds"))
    facts = DeviceFacts(
        make="Bitaxe",
        model=model,
        firmware=fields.text(info.get("version"), 64),
        software=_software(info),
        hardware=fields.text(info.get("boardVersion"), 32),
        mac=fields.normalize_mac(info.get("macAddr")),
        hostname=fields.text(info.get("hostname"), 64),
        worker=current.user if current else None,
    )
    sample = Sample(
        ts=ts,
        hashrate_hs=hashrate,
        hashrate_expected_hs=_expected(info, asic_count),
        temp_c=vr_temp if vr_temp is not None else chip_temp,
        temp_max_c=max(temps, default=None),
        chip_temp_c=chip_temp,
        fans_rpm=tuple(fans),
        power_w=power if power is not None and power >= 0 else None,
        accepted=fields.count(info.get("sharesAccepted")),
        rejected=fields.count(info.get("sharesRejected")),
        uptime_s=uptime,
        pool_url=current.url if current else None,
        pool_user=current.user if current else None,
        hashboards=(
            Hashboard(
                index=0,
                hashrate_hs=hashrate,
                temp_c=vr_temp,
                chip_temp_c=chip_temp,
                chips=asic_count,
            ),
        ),
        pools=pools,
    )
    return facts, sample


def _gh(value: object) -> float | None:
    rate = fields.num(value)
    return rate * GH if rate is not None and rate >= 0 else None


def _expected(info: Mapping[str, Any], asic_count: int | None) -> float | None:
    """`expectedHashrate` (GH/s, v2.12+); else small cores * ASICs * MHz, in MH/s."""
    stated = _gh(info.get("expectedHashrate"))
    if stated:
        return stated
    cores = fields.count(info.get("smallCoreCount"))
    freq = fields.num(info.get("frequency"))
    if cores and freq and freq > 0:
        return cores * (asic_count or 1) * freq * MH
    return None


def _software(info: Mapping[str, Any]) -> str | None:
    version = fields.text(info.get("axeOSVersion"), 64) or fields.text(info.get("version"), 64)
    return f"AxeOS {version}" if version else None


def _pool_url(host: object, port: object) -> str | None:
    """`stratum+tcp://host:port`; a host that already has a scheme keeps it."""
    name = fields.text(host)
    number = fields.count(port)
    if name is None:
        return None
    if "://" not in name:
        name = f"stratum+tcp://{name}"
    return f"{name}:{number}" if number else name


def _pools(info: Mapping[str, Any]) -> tuple[PoolState, ...]:
    """Primary and fallback stratum; `isUsingFallbackStratum` says which one is hashing."""
    on_fallback = fields.flag(info.get("isUsingFallbackStratum")) is True
    pools: list[PoolState] = []
    for prefix, is_active in (("stratum", not on_fallback), ("fallbackStratum", on_fallback)):
        url = _pool_url(info.get(f"{prefix}URL"), info.get(f"{prefix}Port"))
        if url is None:
            continue
        pools.append(
            PoolState(
                url=url,
                user=fields.text(info.get(f"{prefix}User")),
                active=is_active,
                accepted=fields.count(info.get("sharesAccepted")) if is_active else None,
                rejected=fields.count(info.get("sharesRejected")) if is_active else None,
            )
        )
    return tuple(pools)
