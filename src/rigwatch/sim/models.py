"""The miner models the simulator can play, with the nominal figures each one centres on.

Nominal hashrates, power and thermal figures are round numbers of the class of machine
(simulated, not measured); the identification strings are those pyasic 0.79.0 maps to
the right model class (shared/PYASIC-CLIENT.md §2.1, §3.1, §4.1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SimKind(enum.StrEnum):
    """Which wire personality a simulated miner speaks."""

    ANTMINER = "antminer"
    WHATSMINER = "whatsminer"
    BITAXE = "bitaxe"


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What one model looks like on the wire and how it behaves thermally."""

    key: str
    kind: SimKind
    make: str
    model: str
    type_string: str
    nominal_ghs: float
    boards: int
    chips_per_board: int
    fans: int
    power_w: float
    fan_max_rpm: int
    pcb_rise_c: float
    chip_rise_c: float
    frequency_mhz: int

    @property
    def board_nominal_ghs(self) -> float:
        return self.nominal_ghs / self.boards

    @property
    def ports(self) -> tuple[int, ...]:
        """Real ports the model listens on (pyasic cannot use others, §1.4)."""
        if self.kind is SimKind.ANTMINER:
            return (4028, 80)
        if self.kind is SimKind.WHATSMINER:
            return (4028,)
        return (80,)


MODELS: dict[str, ModelProfile] = {
    p.key: p
    for p in (
        ModelProfile(
            key="s19pro",
            kind=SimKind.ANTMINER,
            make="Antminer",
            model="S19 Pro",
            type_string="Antminer S19 Pro",
            nominal_ghs=110_000.0,
            boards=3,
            chips_per_board=114,
            fans=4,
            power_w=3250.0,
            fan_max_rpm=6000,
            pcb_rise_c=38.0,
            chip_rise_c=53.0,
            frequency_mhz=525,
        ),
        ModelProfile(
            key="s19",
            kind=SimKind.ANTMINER,
            make="Antminer",
            model="S19",
            type_string="Antminer S19",
            nominal_ghs=95_000.0,
            boards=3,
            chips_per_board=76,
            fans=4,
            power_w=3250.0,
            fan_max_rpm=6000,
            pcb_rise_c=38.0,
            chip_rise_c=53.0,
            frequency_mhz=650,
        ),
        ModelProfile(
            key="s21",
            kind=SimKind.ANTMINER,
            make="Antminer",
            model="S21",
            type_string="Antminer S21",
            nominal_ghs=200_000.0,
            boards=3,
            chips_per_board=108,
            fans=4,
            power_w=3500.0,
            fan_max_rpm=6600,
            pcb_rise_c=36.0,
            chip_rise_c=50.0,
            frequency_mhz=490,
        ),
        ModelProfile(
            key="m30s+",
            kind=SimKind.WHATSMINER,
            make="WhatsMiner",
            model="M30S+ VE40",
            type_string="M30S+_VE40",
            nominal_ghs=100_000.0,
            boards=3,
            chips_per_board=156,
            fans=2,
            power_w=3400.0,
            fan_max_rpm=6400,
            pcb_rise_c=40.0,
            chip_rise_c=52.0,
            frequency_mhz=600,
        ),
        ModelProfile(
            key="m50",
            kind=SimKind.WHATSMINER,
            make="WhatsMiner",
            model="M50 VH50",
            type_string="M50_VH50",
            nominal_ghs=120_000.0,
            boards=3,
            chips_per_board=105,
            fans=2,
            power_w=3276.0,
            fan_max_rpm=6400,
            pcb_rise_c=40.0,
            chip_rise_c=52.0,
            frequency_mhz=580,
        ),
        ModelProfile(
            key="gamma",
            kind=SimKind.BITAXE,
            make="BitAxe",
            model="Gamma",
            type_string="BM1370",
            # smallCoreCount 2040 x 575 MHz: what pyasic computes as expected (MH/s).
            nominal_ghs=2040 * 575 / 1000,
            boards=1,
            chips_per_board=1,
            fans=1,
            power_w=19.0,
            fan_max_rpm=7000,
            pcb_rise_c=35.0,
            chip_rise_c=34.0,
            frequency_mhz=575,
        ),
    )
}

BITAXE_SMALL_CORES = 2040
"""BM1370 small-core count, as the real v2.12.2 Gamma 601 reports it (template)."""


def profile(key: str) -> ModelProfile:
    """Look a model up by key, with a message that lists the valid ones."""
    try:
        return MODELS[key]
    except KeyError:
        raise ValueError(f"unknown model {key!r}; choose one of {sorted(MODELS)}") from None
