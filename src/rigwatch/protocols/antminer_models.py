"""What each Antminer model should have, so that a board that is not there is noticed.

Chips per board and board counts are the values pyasic 0.79.0 uses for each model
(`pyasic/miners/device/models/antminer/`). `unit` is the real unit of the `GHS *` and
`chain_rate*` fields: bmminer writes "GHS" on every model, but scrypt (L3+), X11 (D3) and
ethash (E3) builds report MH/s there and the Equihash Z11 kSol/s, as the captured values
show (an L3+ at "504.56 GHS" is a 504 MH/s machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelSpec:
    boards: int
    chips: int | None
    unit_factor: float = 1e9


_SPECS: dict[str, ModelSpec] = {
    "S9": ModelSpec(3, 63),
    "S9i": ModelSpec(3, 63),
    "S9j": ModelSpec(3, 63),
    "T9": ModelSpec(3, 54),
    "S17": ModelSpec(3, 48),
    "S17 Pro": ModelSpec(3, 48),
    "S17+": ModelSpec(3, 65),
    "S17e": ModelSpec(3, 135),
    "T17": ModelSpec(3, 30),
    "T17+": ModelSpec(3, 44),
    "T17e": ModelSpec(3, 78),
    "S19": ModelSpec(3, 76),
    "S19 Pro": ModelSpec(3, 114),
    "S19i": ModelSpec(3, 80),
    "S19+": ModelSpec(3, 80),
    "S19 XP": ModelSpec(3, 110),
    "S19a": ModelSpec(3, 72),
    "S19a Pro": ModelSpec(3, 100),
    "S19j": ModelSpec(3, 114),
    "S19j Pro": ModelSpec(3, 126),
    "S19k Pro": ModelSpec(3, 77),
    "S19 Pro+": ModelSpec(3, 120),
    "T19": ModelSpec(3, 76),
    "S21": ModelSpec(3, 108),
    "S21+": ModelSpec(3, 55),
    "S21 Pro": ModelSpec(3, 65),
    "S21 XP": ModelSpec(3, 91),
    "T21": ModelSpec(3, 108),
    "L3+": ModelSpec(4, 72, 1e6),
    "L3": ModelSpec(4, 72, 1e6),
    "D3": ModelSpec(3, 60, 1e6),
    "E3": ModelSpec(3, None, 1e6),
    "Z11": ModelSpec(3, None, 1e3),
    "Z15": ModelSpec(3, 3, 1e3),
}
_BY_LENGTH = sorted(_SPECS, key=len, reverse=True)
_PAREN = re.compile(r"\(.*?\)")


def clean_model(type_field: str) -> str:
    """ "Antminer S9 (vnish 3.8.6)" → "S9 (vnish 3.8.6)" minus vendor noise → known name.

    The VERSION `Type` carries firmware names, newlines and parentheses on custom builds;
    a known model at the start wins, otherwise the first line without its brackets.
    """
    line = type_field.strip().splitlines()[0] if type_field.strip() else ""
    line = line.removeprefix("Antminer").removeprefix("ANTMINER").strip()
    bare = _PAREN.sub("", line).strip()
    for name in _BY_LENGTH:
        if bare == name or (bare.startswith(name) and bare[len(name)] in " -_"):
            return name
    return bare


def spec_for(model: str | None) -> ModelSpec | None:
    return _SPECS.get(model) if model else None
