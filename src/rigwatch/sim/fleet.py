"""A farm of simulated miners on consecutive loopback addresses, started and stopped together.

ASICs (and Bitaxes) come first, then the mining rigs: XMRig CPU rigs, then GPU rigs
(T-Rex and lolMiner in turn). Each rig answers on its own address and its software's
port (XMRig 18080, T-Rex 4067, lolMiner 4069); `Fleet.rigs` says which is where.
"""

from __future__ import annotations

import asyncio
import ipaddress
import resource
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from rigwatch.sim.clock import Clock, WallClock
from rigwatch.sim.control import ControlServer
from rigwatch.sim.faults import Fault, FaultKind, ScheduledFault
from rigwatch.sim.gpu_rig import LolminerPersona, TrexPersona
from rigwatch.sim.listener import check_loopback
from rigwatch.sim.miner import SimMiner
from rigwatch.sim.models import GPU_RIG_MIX, XMRIG_MIX, ModelProfile, SimKind, profile, rig_profile
from rigwatch.sim.persona import Persona
from rigwatch.sim.xmrig import XmrigPersona

ASIC_MIX = ("s19pro", "s21", "m30s+", "s19", "m50")
"""The order ASIC models are dealt in by `FleetSpec.mix` (S19-class, S21-class, Whatsminer)."""


def loopback_addresses(base: str, count: int) -> list[str]:
    """`count` consecutive 127.x.y.z addresses from `base`, skipping .0 and .255 hosts."""
    check_loopback(base)
    loopback = ipaddress.ip_network("127.0.0.0/8")
    address = ipaddress.IPv4Address(base)
    out: list[str] = []
    while len(out) < count:
        if address not in loopback:
            raise ValueError(f"{count} miners from {base} run past the 127.0.0.0/8 loopback range")
        if address.packed[3] not in (0, 255):
            out.append(str(address))
        address += 1
    return out


SHARE_EVERY_S = 10.0
"""A rig at its nominal rate finds a share this often: the pool difficulty follows from it."""


@dataclass(frozen=True, slots=True)
class RigEndpoint:
    """Where a simulated rig's API answers: what a sentry needs to poll it."""

    software: str
    """`xmrig`, `trex` or `lolminer` (SimKind values)."""
    url: str
    """Base URL, e.g. `http://127.0.10.61:18080`; the API paths are the software's own."""
    token: str | None = None
    """XMRig's access token (send `Authorization: Bearer <token>`); None when open."""


class SimRig(SimMiner):
    """A CPU or GPU mining rig: one HTTP API on its software's port, same state model.

    Its `boards` are XMRig's threads or the rig's GPUs; faults (dark, hung, restart,
    hot, board_drop = a GPU lost) behave as on the ASICs.
    """

    def __init__(
        self,
        rig: ModelProfile,
        ip: str,
        *,
        token: str | None = None,
        seed: int = 1,
        clock: Clock | None = None,
        restart_s: float = 3.0,
        refresh_s: float = 1.0,
    ) -> None:
        self.token = token if rig.kind is SimKind.XMRIG else None
        super().__init__(rig, ip, seed=seed, clock=clock, restart_s=restart_s, refresh_s=refresh_s)
        # Shares every SHARE_EVERY_S at nominal: the ASIC default difficulty would give a
        # GPU rig one share a day, and a monitor's share counters would never move.
        self.state.pool_difficulty = rig.nominal_ghs * 1e9 * SHARE_EVERY_S / 2**32

    def _persona(self) -> Persona:
        kind = self.profile.kind
        if kind is SimKind.XMRIG:
            return XmrigPersona(self.state, self.request_restart, self.token)
        if kind is SimKind.TREX:
            return TrexPersona(self.state, self.request_restart)
        if kind is SimKind.LOLMINER:
            return LolminerPersona(self.state, self.request_restart)
        raise ValueError(f"{self.profile.key} is not a rig model")

    @property
    def software(self) -> str:
        return self.profile.kind.value

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.ports[0]}"

    @property
    def endpoint(self) -> RigEndpoint:
        return RigEndpoint(self.software, self.url, self.token)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(software=self.software, url=self.url, token_required=self.token is not None)
        report = self.state.report()
        reports = dict(out["reports"])
        del reports["hashrate_ths"], reports["expected_ths"]  # rig rates are H/s, not TH/s
        reports["hashrate_hs"] = round(self.profile.to_hs(report.hashrate_ghs), 2)
        reports["expected_hs"] = round(self.profile.to_hs(report.expected_ghs), 2)
        reports["boards"] = [
            {("hashrate_hs" if k == "hashrate_ghs" else k): v for k, v in board.items()}
            for board in reports["boards"]
        ]
        out["reports"] = reports
        return out


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What to start: one model key per miner, in address order from `base`.

    `xmrig` CPU rigs and `gpu_rigs` GPU rigs (T-Rex and lolMiner in turn) follow the
    miners of `models` on the next addresses; `xmrig_token`, when set, is every
    XMRig's access token.
    """

    models: tuple[str, ...]
    base: str = "127.0.10.1"
    seed: int = 1
    faults: tuple[ScheduledFault, ...] = ()
    control_port: int | None = None
    control_host: str = "127.0.0.1"
    restart_s: float = 3.0
    refresh_s: float = 1.0
    xmrig: int = 0
    gpu_rigs: int = 0
    xmrig_token: str | None = None

    def __post_init__(self) -> None:
        for key in self.models:
            profile(key)
        if self.xmrig < 0 or self.gpu_rigs < 0:
            raise ValueError("rig counts must not be negative")
        if self.xmrig_token is not None and not self.xmrig_token.strip():
            raise ValueError("an XMRig access token must not be empty")
        check_loopback(self.base)
        check_loopback(self.control_host)

    @property
    def rig_models(self) -> tuple[str, ...]:
        """Rig model keys in address order: XMRig rigs, then GPU rigs."""
        cpus = tuple(XMRIG_MIX[i % len(XMRIG_MIX)] for i in range(self.xmrig))
        gpus = tuple(GPU_RIG_MIX[i % len(GPU_RIG_MIX)] for i in range(self.gpu_rigs))
        return cpus + gpus

    @classmethod
    def mix(
        cls,
        asics: int,
        bitaxes: int = 0,
        *,
        base: str = "127.0.10.1",
        seed: int = 1,
        faults: Sequence[ScheduledFault] = (),
        control_port: int | None = None,
        restart_s: float = 3.0,
        xmrig: int = 0,
        gpu_rigs: int = 0,
        xmrig_token: str | None = None,
    ) -> FleetSpec:
        """`asics` ASICs dealt from ASIC_MIX, then `bitaxes` Bitaxe Gammas, then rigs."""
        if asics < 0 or bitaxes < 0:
            raise ValueError("miner counts must not be negative")
        models = tuple(ASIC_MIX[i % len(ASIC_MIX)] for i in range(asics)) + ("gamma",) * bitaxes
        return cls(
            models=models,
            base=base,
            seed=seed,
            faults=tuple(faults),
            control_port=control_port,
            restart_s=restart_s,
            xmrig=xmrig,
            gpu_rigs=gpu_rigs,
            xmrig_token=xmrig_token,
        )

    @classmethod
    def demo(
        cls, *, base: str = "127.0.10.1", seed: int = 7, control_port: int | None = None
    ) -> FleetSpec:
        """The demo farm: 60 miners (S19-class, S21, Whatsminer, Bitaxe), two of them faulty.

        Miner 4 (an S19 Pro) has lost hashboard 1, miner 9 (an S21) runs hot.
        """
        models = tuple(["s19pro", "s19", "s19pro", "s21", "s19pro", "m30s+", "s19", "m50"] * 6)
        models += ("s21", "s21", "m30s+", "s19pro") + ("gamma",) * 8
        faults = (
            ScheduledFault(target=4, fault=Fault(FaultKind.BOARD_DROP, board=1)),
            ScheduledFault(target=11, fault=Fault(FaultKind.HOT)),
        )
        return cls(models=models, base=base, seed=seed, faults=faults, control_port=control_port)


def _raise_fd_limit(wanted: int) -> None:
    """A thousand miners need a few thousand sockets: lift the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Fleet:
    """Start every miner of a `FleetSpec`; use as `async with Fleet(spec) as fleet:`.

    `miners` (and `len`, iteration, `ips`) are the ASICs and Bitaxes, `rigs` the CPU and
    GPU rigs after them. `miner()`, faults and the control endpoint cover both: a fleet
    index counts the miners first, then the rigs.
    """

    def __init__(self, spec: FleetSpec, *, clock: Clock | None = None) -> None:
        self.spec = spec
        self.clock = clock or WallClock()
        rig_keys = spec.rig_models
        ips = loopback_addresses(spec.base, len(spec.models) + len(rig_keys))
        rig_ips = ips[len(spec.models) :]
        ips = ips[: len(spec.models)]
        self.miners = [
            SimMiner(
                profile(key),
                ip,
                seed=spec.seed,
                clock=self.clock,
                restart_s=spec.restart_s,
                refresh_s=spec.refresh_s,
            )
            for key, ip in zip(spec.models, ips, strict=True)
        ]
        self.rigs = [
            SimRig(
                rig_profile(key),
                ip,
                token=spec.xmrig_token,
                seed=spec.seed,
                clock=self.clock,
                restart_s=spec.restart_s,
                refresh_s=spec.refresh_s,
            )
            for key, ip in zip(rig_keys, rig_ips, strict=True)
        ]
        self._by_ip = {m.ip: m for m in self._everything}
        self._control: ControlServer | None = None
        self._schedule: asyncio.Task[None] | None = None
        self.started = False

    # ---- access --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.miners)

    def __iter__(self) -> Iterator[SimMiner]:
        return iter(self.miners)

    def __getitem__(self, target: str | int) -> SimMiner:
        return self.miner(target)

    @property
    def _everything(self) -> list[SimMiner]:
        return [*self.miners, *self.rigs]

    def miner(self, target: str | int) -> SimMiner:
        """A miner or rig by fleet index (miners first, then rigs) or loopback address."""
        if isinstance(target, int):
            everything = self._everything
            if not 0 <= target < len(everything):
                raise KeyError(f"no miner #{target} in a fleet of {len(everything)}")
            return everything[target]
        try:
            return self._by_ip[target]
        except KeyError:
            raise KeyError(f"no simulated miner at {target}") from None

    @property
    def ips(self) -> list[str]:
        return [m.ip for m in self.miners]

    @property
    def control_url(self) -> str | None:
        if self._control is None:
            return None
        return f"http://{self.spec.control_host}:{self._control.port}"

    @property
    def rig_endpoints(self) -> list[RigEndpoint]:
        """Each rig's software, API URL and token, in address order."""
        return [rig.endpoint for rig in self.rigs]

    def describe(self) -> list[dict[str, Any]]:
        return [m.describe() for m in self._everything]

    # ---- faults --------------------------------------------------------------------------

    async def inject(
        self, target: str | int, fault: Fault | FaultKind | str, board: int = 0
    ) -> None:
        """Apply a fault to one miner and wait until its sockets reflect it."""
        if not isinstance(fault, Fault):
            fault = Fault(FaultKind(fault), board)
        await self.miner(target).apply(fault)

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        _raise_fd_limit(4 * sum(len(m.ports) for m in self._everything) + 1024)
        for item in self.spec.faults:
            self.miner(item.target)  # fail fast on a bad target, before binding anything
        try:
            await asyncio.gather(*(m.start() for m in self._everything))
            if self.spec.control_port is not None:
                self._control = ControlServer(self, self.spec.control_host, self.spec.control_port)
                await self._control.start()
        except BaseException:
            await self.stop()
            raise
        for item in self.spec.faults:
            if item.at_s <= 0:
                self.miner(item.target).inject(item.fault)
        later = tuple(f for f in self.spec.faults if f.at_s > 0)
        if later:
            self._schedule = asyncio.get_running_loop().create_task(self._run_later(later))
        self.started = True

    async def _run_later(self, faults: tuple[ScheduledFault, ...]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for item in sorted(faults, key=lambda f: f.at_s):
            delay = started + item.at_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.miner(item.target).inject(item.fault)

    async def stop(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
            await asyncio.gather(self._schedule, return_exceptions=True)
            self._schedule = None
        if self._control is not None:
            await self._control.stop()
            self._control = None
        await asyncio.gather(*(m.stop() for m in self._everything))
        self.started = False

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
