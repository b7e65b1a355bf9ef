"""The one state object behind each simulated miner.

Every reply a simulated miner sends is rendered from a `Report`, and a `Report` is
computed from `MinerState` at one clock reading. Tests read the same `Report` through
`MinerState.report()` and compare it with what a client parsed: there is no second
source of truth to drift.

The model is small on purpose: per-board hashrate = nominal x board factor x noise
(Gaussian, redrawn every few seconds from a seeded generator, so a seed and a clock
give the same numbers every run); temperatures relax towards ambient + load-driven rise
with a one-minute time constant; fans follow the hottest chip; share counters grow with
the hashes actually done at the pool difficulty.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, field

from rigwatch.sim.clock import Clock
from rigwatch.sim.faults import Fault, FaultKind
from rigwatch.sim.models import ModelProfile, SimKind

HASHES_PER_DIFF1_SHARE = 2**32
NOISE_BUCKET_S = 5.0
NOISE_SIGMA = 0.012
THERMAL_TAU_S = 60.0
HOT_EXTRA_C = 28.0
WARMUP_S = 20.0
HW_ERRORS_PER_GH_S = 6e-7


class Availability(enum.StrEnum):
    """How the miner answers connections right now."""

    ONLINE = "online"
    DARK = "dark"
    HUNG = "hung"
    BOOTING = "booting"


@dataclass(slots=True)
class Identity:
    """Who the miner says it is. All values simulated (MACs are locally administered)."""

    ip: str
    mac: str
    hostname: str
    serial: str
    board_serials: tuple[str, ...]
    miner_id: str


@dataclass(slots=True)
class PoolSetting:
    url: str
    user: str
    password: str = "x"  # noqa: S105 - what pools expect when they ignore it


@dataclass(frozen=True, slots=True)
class BoardReading:
    """One hashboard as the miner reports it (values exactly as put on the wire)."""

    slot: int
    present: bool
    hashrate_ghs: float
    chips: int
    pcb_temp_c: float
    chip_temp_c: float
    hw_errors: int
    serial: str


@dataclass(frozen=True, slots=True)
class Report:
    """What the miner means to report at `at` (unix seconds)."""

    at: float
    version: int
    availability: Availability
    uptime_s: int
    boards: tuple[BoardReading, ...]
    expected_ghs: float
    average_ghs: float
    fans_rpm: tuple[int, ...]
    fan_pct: int
    accepted: int
    rejected: int
    hw_errors: int
    power_w: float
    ambient_c: float
    pool_difficulty: float
    faults: tuple[str, ...]

    @property
    def hashrate_ghs(self) -> float:
        return sum(b.hashrate_ghs for b in self.boards if b.present)

    @property
    def hashrate_ths(self) -> float:
        return self.hashrate_ghs / 1000.0

    @property
    def hashrate_hs(self) -> float:
        return self.hashrate_ghs * 1e9

    @property
    def present_boards(self) -> tuple[BoardReading, ...]:
        return tuple(b for b in self.boards if b.present)

    @property
    def temperature_avg_c(self) -> float:
        """Mean board temperature of the boards present (what pyasic calls temperature_avg)."""
        boards = self.present_boards
        return sum(b.pcb_temp_c for b in boards) / len(boards) if boards else 0.0

    @property
    def chip_temp_max_c(self) -> float:
        return max((b.chip_temp_c for b in self.present_boards), default=0.0)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form, for the control endpoint."""
        return {
            "at": self.at,
            "availability": self.availability.value,
            "hashrate_ths": round(self.hashrate_ths, 4),
            "expected_ths": round(self.expected_ghs / 1000.0, 4),
            "uptime_s": self.uptime_s,
            "boards": [
                {
                    "slot": b.slot,
                    "present": b.present,
                    "hashrate_ghs": b.hashrate_ghs,
                    "chips": b.chips,
                    "pcb_temp_c": b.pcb_temp_c,
                    "chip_temp_c": b.chip_temp_c,
                }
                for b in self.boards
            ],
            "fans_rpm": list(self.fans_rpm),
            "accepted": self.accepted,
            "rejected": self.rejected,
            "power_w": self.power_w,
            "faults": list(self.faults),
        }


@dataclass(slots=True)
class _Thermal:
    pcb_c: list[float] = field(default_factory=list)
    chip_c: list[float] = field(default_factory=list)


class MinerState:
    """Mutable state of one simulated miner, advanced by the clock it was given."""

    def __init__(
        self,
        profile: ModelProfile,
        ip: str,
        seed: int,
        clock: Clock,
        *,
        refresh_s: float = 1.0,
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.refresh_s = refresh_s
        rng = random.Random(f"rigwatch-sim:{seed}:{ip}:{profile.key}")
        octets = ip.split(".")
        short = f"{profile.key.replace('+', 'p')}-{octets[2]}-{octets[3]}"
        self.identity = Identity(
            ip=ip,
            mac="02:" + ":".join(f"{rng.randrange(256):02X}" for _ in range(5)),
            hostname=f"sim-{short}",
            serial=f"SIM{rng.getrandbits(48):012X}",
            board_serials=tuple(f"SIMB{rng.getrandbits(40):010X}" for _ in range(profile.boards)),
            miner_id=f"{rng.getrandbits(64):016x}",
        )
        self.pools = [
            PoolSetting(url=f"stratum+tcp://127.0.0.1:{3333 + i}", user=f"rigwatch-sim.{short}")
            for i in range(3)
        ]
        self.pool_difficulty = 1000.0 if profile.kind is SimKind.BITAXE else 65536.0
        self.ambient_c = round(rng.uniform(19.0, 27.0), 1)
        self._board_factor = [rng.uniform(0.975, 1.02) for _ in range(profile.boards)]
        self._board_heat = [rng.uniform(-2.0, 3.0) for _ in range(profile.boards)]
        self._fan_factor = [rng.uniform(0.95, 1.0) for _ in range(profile.fans)]
        self._reject_ratio = rng.uniform(0.0003, 0.003)
        self._noise_seed = rng.getrandbits(62)
        self.frequency_mhz = profile.frequency_mhz
        self.fan_override_pct: float | None = None
        self.dropped_boards: set[int] = set()
        self.hot = False
        self.availability = Availability.ONLINE
        self.blink = False

        now = clock.now()
        self.boot_at = now - rng.uniform(3_600.0, 20 * 86_400.0)
        self._warm_from = self.boot_at - WARMUP_S
        uptime = now - self.boot_at
        self._work_hashes = profile.nominal_ghs * 1e9 * uptime
        self._hw = [profile.board_nominal_ghs * uptime * HW_ERRORS_PER_GH_S] * profile.boards
        self._last_t = now
        self._thermal = _Thermal(
            pcb_c=[self._target_pcb(i, 1.0) for i in range(profile.boards)],
            chip_c=[self._target_chip(i, 1.0) for i in range(profile.boards)],
        )
        self._version = 0
        self._report: Report | None = None

    # ---- model ---------------------------------------------------------------------------

    def _target_pcb(self, board: int, load: float) -> float:
        hot = HOT_EXTRA_C if self.hot else 0.0
        return self.ambient_c + hot + self._board_heat[board] + self.profile.pcb_rise_c * load

    def _target_chip(self, board: int, load: float) -> float:
        spread = self.profile.chip_rise_c - self.profile.pcb_rise_c
        return self._target_pcb(board, load) + spread * load

    def _ramp(self, now: float) -> float:
        """Fraction of full speed: a restarted miner takes a while to reach its rate."""
        return min(1.0, max(0.0, (now - self._warm_from) / WARMUP_S))

    def _board_load(self, board: int, now: float) -> float:
        if board in self.dropped_boards or self.availability is Availability.BOOTING:
            return 0.0
        return self._ramp(now)

    def _noise(self, board: int, now: float) -> float:
        bucket = int(now // NOISE_BUCKET_S)
        gen = random.Random(self._noise_seed ^ (bucket * 64 + board))
        return max(-3.0, min(3.0, gen.gauss(0.0, 1.0))) * NOISE_SIGMA

    def _board_ghs(self, board: int, now: float) -> float:
        load = self._board_load(board, now)
        if load <= 0.0:
            return 0.0
        freq_scale = self.frequency_mhz / self.profile.frequency_mhz
        nominal = self.profile.board_nominal_ghs * self._board_factor[board] * freq_scale
        return nominal * load * (1.0 + self._noise(board, now))

    def _advance(self, now: float) -> None:
        dt = now - self._last_t
        if dt <= 0.0:
            return
        # Midpoint rule over noise-bucket-sized steps (bounded), so long gaps and ramps
        # after a restart still count the hashes done in between.
        steps = min(64, max(1, math.ceil(dt / NOISE_BUCKET_S)))
        step = dt / steps
        for k in range(steps):
            at = self._last_t + (k + 0.5) * step
            for i in range(self.profile.boards):
                hashes_ghs = self._board_ghs(i, at) * step
                self._work_hashes += hashes_ghs * 1e9
                self._hw[i] += hashes_ghs * HW_ERRORS_PER_GH_S
        relax = 1.0 - math.exp(-dt / THERMAL_TAU_S)
        for i in range(self.profile.boards):
            load = self._board_load(i, now)
            pcb, chip = self._thermal.pcb_c[i], self._thermal.chip_c[i]
            self._thermal.pcb_c[i] = pcb + (self._target_pcb(i, load) - pcb) * relax
            self._thermal.chip_c[i] = chip + (self._target_chip(i, load) - chip) * relax
        self._last_t = now

    def _fan_pct(self) -> float:
        if self.hot:
            return 1.0
        if self.fan_override_pct is not None:
            return self.fan_override_pct
        setpoint = 55.0 if self.profile.kind is SimKind.BITAXE else 65.0
        hottest = max(self._thermal.chip_c)
        return min(1.0, max(0.3, 0.45 + (hottest - setpoint) * 0.03))

    def _build(self, now: float) -> Report:
        profile = self.profile
        boards = []
        for i in range(profile.boards):
            present = i not in self.dropped_boards
            boards.append(
                BoardReading(
                    slot=i,
                    present=present,
                    hashrate_ghs=round(self._board_ghs(i, now), 2) if present else 0.0,
                    chips=profile.chips_per_board if present else 0,
                    pcb_temp_c=float(round(self._thermal.pcb_c[i])),
                    chip_temp_c=float(round(self._thermal.chip_c[i])),
                    hw_errors=int(self._hw[i]),
                    serial=self.identity.board_serials[i],
                )
            )
        fan_pct = self._fan_pct()
        fans = tuple(int(profile.fan_max_rpm * fan_pct * f) // 10 * 10 for f in self._fan_factor)
        shares = int(self._work_hashes / (self.pool_difficulty * HASHES_PER_DIFF1_SHARE))
        rejected = int(shares * self._reject_ratio)
        loads = [self._board_load(i, now) for i in range(profile.boards)]
        power = (
            profile.power_w
            * (0.12 + 0.88 * sum(loads) / profile.boards)
            * (self.frequency_mhz / profile.frequency_mhz)
        )
        faults = tuple(f"board_drop:{b}" for b in sorted(self.dropped_boards))
        if self.hot:
            faults += ("hot",)
        if self.availability is not Availability.ONLINE:
            faults += (self.availability.value,)
        self._version += 1
        uptime = max(0, int(now - self.boot_at))
        return Report(
            at=now,
            version=self._version,
            availability=self.availability,
            uptime_s=uptime,
            boards=tuple(boards),
            expected_ghs=round(profile.nominal_ghs * self.frequency_mhz / profile.frequency_mhz, 2),
            average_ghs=round(self._work_hashes / 1e9 / uptime, 2) if uptime else 0.0,
            fans_rpm=fans,
            fan_pct=round(fan_pct * 100),
            accepted=shares - rejected,
            rejected=rejected,
            hw_errors=int(sum(self._hw)),
            power_w=round(power, 1),
            ambient_c=self.ambient_c,
            pool_difficulty=self.pool_difficulty,
            faults=faults,
        )

    # ---- public --------------------------------------------------------------------------

    def report(self) -> Report:
        """The report at the current clock reading, recomputed at most every `refresh_s`."""
        now = self.clock.now()
        cached = self._report
        if cached is not None and 0.0 <= now - cached.at < self.refresh_s:
            return cached
        self._advance(now)
        self._report = self._build(now)
        return self._report

    expected_report = report

    def invalidate(self) -> None:
        """Account for time up to now and force the next report to be recomputed."""
        self._advance(self.clock.now())
        self._report = None

    def apply(self, fault: Fault) -> None:
        """Change the state for a fault (the listeners are the miner's business)."""
        self.invalidate()
        kind = fault.kind
        if kind is FaultKind.BOARD_DROP:
            if not 0 <= fault.board < self.profile.boards:
                raise ValueError(
                    f"{self.profile.model} has boards 0..{self.profile.boards - 1}, "
                    f"not {fault.board}"
                )
            if self.profile.boards == 1:
                raise ValueError("a single-board miner cannot drop its only board")
            self.dropped_boards.add(fault.board)
        elif kind is FaultKind.HOT:
            self.hot = True
            # A miner reported hot is already hot when someone looks: no slow climb.
            for i in range(self.profile.boards):
                load = self._board_load(i, self._last_t)
                self._thermal.pcb_c[i] = self._target_pcb(i, load)
                self._thermal.chip_c[i] = self._target_chip(i, load)
        elif kind is FaultKind.DARK:
            self.availability = Availability.DARK
        elif kind is FaultKind.HUNG:
            self.availability = Availability.HUNG
        elif kind is FaultKind.CLEAR:
            self.dropped_boards.clear()
            self.hot = False
            self.availability = Availability.ONLINE
        elif kind is FaultKind.RESTART:
            self.reboot()

    def reboot(self) -> None:
        """Power-cycle: uptime and counters start again, boards cool, hashrate ramps up."""
        self.invalidate()
        now = self.clock.now()
        self.boot_at = now
        self._warm_from = now
        self._work_hashes = 0.0
        self._hw = [0.0] * self.profile.boards
        for i in range(self.profile.boards):
            self._thermal.pcb_c[i] = self.ambient_c + 5.0
            self._thermal.chip_c[i] = self.ambient_c + 6.0
        self.availability = Availability.BOOTING

    def booted(self) -> None:
        """The firmware is answering again after a reboot."""
        self.invalidate()
        if self.availability is Availability.BOOTING:
            self.availability = Availability.ONLINE
