"""Units at the edges: storage holds base units (H/s, W, °C, s); people read prefixed ones."""

from __future__ import annotations

from datetime import UTC, datetime

_SI = ["", "k", "M", "G", "T", "P", "E", "Z"]

HASHRATE_FACTORS: dict[str, float] = {
    "H": 1.0,
    "KH": 1e3,
    "MH": 1e6,
    "GH": 1e9,
    "TH": 1e12,
    "PH": 1e15,
    "EH": 1e18,
}


def to_hs(value: float, unit: str) -> float:
    """Convert a hashrate given in `unit` (e.g. 'GH', 'TH/s', 'kH/s') to H/s."""
    key = unit.strip().upper().removesuffix("/S").removesuffix("S") if unit else "H"
    if key not in HASHRATE_FACTORS:
        raise ValueError(f"unknown hashrate unit {unit!r}")
    return value * HASHRATE_FACTORS[key]


def format_hashrate(hs: float | None, digits: int = 2) -> str:
    """110.52 TH/s, 1.20 GH/s; '—' when unknown."""
    if hs is None:
        return "—"
    value = float(hs)
    i = 0
    # Compare the rounded figure, so 999.996 TH/s reads 1.00 PH/s rather than 1000.00 TH/s.
    while abs(round(value, digits)) >= 1000 and i < len(_SI) - 1:
        value /= 1000
        i += 1
    return f"{value:.{digits}f} {_SI[i]}H/s"


def format_power(w: float | None) -> str:
    if w is None:
        return "—"
    return f"{w / 1000:.2f} kW" if abs(w) >= 1000 else f"{w:.0f} W"


def format_ago(ts: datetime, now: datetime | None = None) -> str:
    """'12 s ago', '3 min ago', '2 h ago', '4 d ago'."""
    now = now or datetime.now(UTC)
    secs = max(0, int((now - ts).total_seconds()))
    if secs < 60:
        return f"{secs} s ago"
    if secs < 3600:
        return f"{secs // 60} min ago"
    if secs < 86400:
        return f"{secs // 3600} h ago"
    return f"{secs // 86400} d ago"
