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
    XMRIG = "xmrig"
    TREX = "trex"
    LOLMINER = "lolminer"


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
    algorithm: str = ""
    """Mining rigs only: the algorithm their software reports (ASICs mine SHA-256)."""
    vendor: str = ""
    """GPU rigs only: the card maker T-Rex reports per GPU."""
    hs_per_ghs: float = 1e9
    """H/s per unit of `nominal_ghs` and of the state's `*_ghs` figures. 1e9 for ASICs.
    Rigs set 1.0 (their figures are H/s, or sol/s): the state rounds rates to 0.01 units,
    which would erase a CPU's 8 kH/s if it were written in GH/s."""

    def to_hs(self, ghs: float) -> float:
        """A state rate (`*_ghs`) in H/s."""
        return ghs * self.hs_per_ghs

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
        if self.kind is SimKind.BITAXE:
            return (80,)
        return (RIG_PORTS[self.kind],)


RIG_PORTS = {SimKind.XMRIG: 18080, SimKind.TREX: 4067, SimKind.LOLMINER: 4069}
"""HTTP API ports of the simulated rigs. T-Rex's default is 4067; XMRig (`--http-port`)
and lolMiner (`--apiport`) have none, so the simulator picks 18080 and 4069."""


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


# CPU and GPU rigs: `boards` are XMRig's mining threads or a rig's GPUs, `fans` one per GPU
# (one CPU cooler). Hashrates are round figures of the class of hardware in H/s terms
# (RandomX ~500 H/s per Zen 2/3 thread; x16r ~19 MH/s per GTX 1070 Ti, as in the real
# T-Rex capture; ZelHash ~48 sol/s per GTX 1080 Ti), held in H/s (`hs_per_ghs=1.0`).
RIG_MODELS: dict[str, ModelProfile] = {
    p.key: p
    for p in (
        ModelProfile(
            key="xmrig-3700x",
            kind=SimKind.XMRIG,
            make="XMRig",
            model="Ryzen 7 3700X",
            type_string="AMD Ryzen 7 3700X 8-Core Processor",
            nominal_ghs=8_000.0,
            boards=16,
            chips_per_board=1,
            fans=1,
            power_w=88.0,
            fan_max_rpm=2000,
            pcb_rise_c=42.0,
            chip_rise_c=48.0,
            frequency_mhz=3600,
            algorithm="rx/0",
            hs_per_ghs=1.0,
        ),
        ModelProfile(
            key="xmrig-5950x",
            kind=SimKind.XMRIG,
            make="XMRig",
            model="Ryzen 9 5950X",
            type_string="AMD Ryzen 9 5950X 16-Core Processor",
            nominal_ghs=17_000.0,
            boards=32,
            chips_per_board=1,
            fans=1,
            power_w=140.0,
            fan_max_rpm=2000,
            pcb_rise_c=45.0,
            chip_rise_c=50.0,
            frequency_mhz=3400,
            algorithm="rx/0",
            hs_per_ghs=1.0,
        ),
        ModelProfile(
            key="trex-1070ti-x6",
            kind=SimKind.TREX,
            make="T-Rex",
            model="6x GeForce GTX 1070 Ti",
            type_string="GeForce GTX 1070 Ti",
            nominal_ghs=6 * 19_000_000.0,
            boards=6,
            chips_per_board=1,
            fans=6,
            power_w=6 * 190.0,
            fan_max_rpm=3000,
            pcb_rise_c=34.0,
            chip_rise_c=44.0,
            frequency_mhz=1683,
            algorithm="x16r",
            vendor="EVGA",
            hs_per_ghs=1.0,
        ),
        ModelProfile(
            key="lolminer-1080ti-x4",
            kind=SimKind.LOLMINER,
            make="lolMiner",
            model="4x GeForce GTX 1080 Ti",
            type_string="GeForce GTX 1080 Ti",
            nominal_ghs=4 * 48.0,
            boards=4,
            chips_per_board=1,
            fans=4,
            power_w=4 * 210.0,
            fan_max_rpm=3200,
            pcb_rise_c=38.0,
            chip_rise_c=46.0,
            frequency_mhz=1582,
            algorithm="ZelHash",
            hs_per_ghs=1.0,
        ),
    )
}
"""Mining rigs (XMRig on CPUs, T-Rex and lolMiner on GPUs), kept apart from MODELS because
they are started from their own counts in `FleetSpec`, not dealt as ASICs."""

XMRIG_MIX = ("xmrig-3700x", "xmrig-5950x")
GPU_RIG_MIX = ("trex-1070ti-x6", "lolminer-1080ti-x4")


def rig_profile(key: str) -> ModelProfile:
    """Look a rig model up by key, with a message that lists the valid ones."""
    try:
        return RIG_MODELS[key]
    except KeyError:
        raise ValueError(f"unknown rig model {key!r}; choose one of {sorted(RIG_MODELS)}") from None
