"""Rated power and hashrate of ASIC models, for miners that do not report their power.

A miner without a power reading is costed at its measured hashrate x its model's rated
efficiency (J/TH = W per TH/s), and its energy is marked "estimated". A model that is
not in this table has no estimate: its energy (and so its cost and profit) is unknown.

Each row is the manufacturer's rated figure (stock firmware, at the wall, nominal
tolerance about ±5 %) and names the public document it was taken from. Models whose
rated figures could not be found consistently in public listings are left out (the
Antminer S9: Bitmain's 1323 W spec against 1400 W in D-Central's nameplate table). pyasic
carries no rated power, only the nominal hashrate. Where a model ships in several
hashrate bins, the row is the bin named; the efficiency is what the estimate uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MININGSTORE_S19 = (
    "Mining Store, 'The Definitive Guide to Antminer S19 Series Bitcoin Miners' "
    "(miningstore.com), listing Bitmain's specifications"
)


@dataclass(frozen=True, slots=True)
class ModelEfficiency:
    make: str
    model: str
    algorithm: str
    hashrate_ths: float
    power_w: float
    source: str

    @property
    def efficiency_j_th(self) -> float:
        return self.power_w / self.hashrate_ths


MODELS: tuple[ModelEfficiency, ...] = (
    ModelEfficiency("Bitmain", "S19", "sha256", 95.0, 3250.0, _MININGSTORE_S19),
    ModelEfficiency(
        "Bitmain",
        "S19 Pro",
        "sha256",
        110.0,
        3250.0,
        "Bitmain Antminer S19 Pro launch specification (110 TH/s ±3 %, 3250 W ±5 % at the "
        "wall), as quoted in ZeusMining, 'Antminer S19 Pro 110T evaluation' "
        "(blog.zeusmining.co, 2022-08); also " + _MININGSTORE_S19,
    ),
    ModelEfficiency("Bitmain", "S19j", "sha256", 90.0, 3250.0, _MININGSTORE_S19),
    ModelEfficiency(
        "Bitmain",
        "S19j Pro",
        "sha256",
        100.0,
        3050.0,
        _MININGSTORE_S19 + " (the 100 TH/s bin of 96 / 100 / 104 TH/s)",
    ),
    ModelEfficiency("Bitmain", "T19", "sha256", 84.0, 3150.0, _MININGSTORE_S19 + " (84 TH/s bin)"),
    ModelEfficiency(
        "Bitmain",
        "S19 XP",
        "sha256",
        140.0,
        3010.0,
        _MININGSTORE_S19 + " (140 TH/s at 21.5 J/TH, so 3010 W)",
    ),
    ModelEfficiency(
        "Bitmain",
        "S21",
        "sha256",
        200.0,
        3500.0,
        "Bitmain Antminer S21 specification (200 TH/s at 17.5 J/TH, so 3500 W), as quoted in "
        "Lincoin, 'How to Calculate Energy Usage on Lincoin IoT Management System' "
        "(lincoin.com/docs) and BTCWire, 'Antminer S21 Review' (HackerNoon, 2024-03-11)",
    ),
)

# Antminer models that hash something other than SHA-256 (the `GHS` fields of their
# firmware carry MH/s or kSol/s: protocols/antminer_models.py), so Bitcoin revenue does
# not apply to them.
NON_SHA256_MODELS = frozenset({"L3", "L3+", "D3", "E3", "Z11", "Z15"})

_VENDOR = re.compile(r"^(bitmain\s+)?(antminer\s+)?", re.IGNORECASE)
_PAREN = re.compile(r"\(.*?\)")
_SPACE = re.compile(r"\s+")


def normalise(model: str) -> str:
    """ "Antminer S19 Pro (vnish 1.2)" → "s19 pro": no vendor, no brackets, one space."""
    bare = _PAREN.sub("", model).strip()
    bare = _VENDOR.sub("", bare)
    return _SPACE.sub(" ", bare).strip().lower()


_BY_NAME = {normalise(row.model): row for row in MODELS}
_NON_SHA = {normalise(m) for m in NON_SHA256_MODELS}


def lookup(model: str | None) -> ModelEfficiency | None:
    """The table's row for a miner's reported model, or None (no guess from a near name)."""
    if not model:
        return None
    return _BY_NAME.get(normalise(model))


def is_non_sha256(model: str | None) -> bool:
    return bool(model) and normalise(model or "") in _NON_SHA


def estimated_power_w(hashrate_hs: float | None, row: ModelEfficiency | None) -> float | None:
    """Power at `hashrate_hs` at the model's rated efficiency: TH/s x J/TH."""
    if hashrate_hs is None or row is None:
        return None
    return hashrate_hs / 1e12 * row.efficiency_j_th
