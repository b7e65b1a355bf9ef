"""One simulated miner: its state, its firmware personality and its listening sockets."""

from __future__ import annotations

import asyncio
from typing import Any

from rigwatch.sim.antminer import AntminerPersona
from rigwatch.sim.bitaxe import BitaxePersona
from rigwatch.sim.cgminer import CgminerProtocol
from rigwatch.sim.clock import Clock, WallClock
from rigwatch.sim.faults import Fault, FaultKind
from rigwatch.sim.http11 import HttpProtocol
from rigwatch.sim.listener import Listener
from rigwatch.sim.models import ModelProfile, SimKind
from rigwatch.sim.persona import Persona
from rigwatch.sim.state import Availability, MinerState, Report
from rigwatch.sim.whatsminer import WhatsminerPersona

RESTART_DELAY_S = 0.2
"""How long after answering a restart request the firmware actually goes down."""


class SimMiner:
    """A simulated miner on its own loopback address and the real ports of its model.

    `state` holds everything it reports; `expected_report()` is what any client should
    read at this moment. Faults change the state and, for `dark`, `hung` and `restart`,
    the sockets: dark closes them (connections refused), hung keeps accepting without
    answering, restart closes them for `restart_s` and resets uptime and counters.
    """

    def __init__(
        self,
        profile: ModelProfile,
        ip: str,
        *,
        seed: int = 1,
        clock: Clock | None = None,
        restart_s: float = 3.0,
        refresh_s: float = 1.0,
    ) -> None:
        self.profile = profile
        self.ip = ip
        self.restart_s = restart_s
        self.state = MinerState(profile, ip, seed, clock or WallClock(), refresh_s=refresh_s)
        self.persona = self._persona()
        self._listeners = [self._listener(port) for port in profile.ports]
        self._tasks: set[asyncio.Task[None]] = set()

    def _persona(self) -> Persona:
        kind = self.profile.kind
        if kind is SimKind.ANTMINER:
            return AntminerPersona(self.state, self.request_restart)
        if kind is SimKind.WHATSMINER:
            return WhatsminerPersona(self.state, self.request_restart)
        return BitaxePersona(self.state, self.request_restart)

    def _listener(self, port: int) -> Listener:
        availability = self._availability
        if port == 4028:
            rpc = self.persona.rpc
            return Listener(self.ip, port, lambda lst: CgminerProtocol(lst, rpc), availability)
        http = self.persona.http
        return Listener(self.ip, port, lambda lst: HttpProtocol(lst, http), availability)

    def _availability(self) -> Availability:
        return self.state.availability

    @property
    def kind(self) -> SimKind:
        return self.profile.kind

    @property
    def ports(self) -> tuple[int, ...]:
        return self.profile.ports

    @property
    def requests_served(self) -> int:
        return sum(listener.requests for listener in self._listeners)

    def expected_report(self) -> Report:
        """What the miner reports right now (the same object its replies are rendered from)."""
        return self.state.report()

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.state.availability in (Availability.ONLINE, Availability.HUNG):
            for listener in self._listeners:
                await listener.open()

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for listener in self._listeners:
            await listener.close()

    async def _close_listeners(self) -> None:
        for listener in self._listeners:
            await listener.close()

    async def _open_listeners(self) -> None:
        for listener in self._listeners:
            await listener.open()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _restart(self, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        self.state.reboot()
        await self._close_listeners()
        await asyncio.sleep(self.restart_s)
        self.state.booted()
        await self._open_listeners()

    def request_restart(self) -> None:
        """Restart shortly, after the reply that asked for it has gone out."""
        self._spawn(self._restart(RESTART_DELAY_S))

    # ---- faults --------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Apply a fault now; socket changes run as a task (see `apply` to await them)."""
        kind = fault.kind
        if kind is FaultKind.RESTART:
            self._spawn(self._restart(0.0))
            return
        was = self.state.availability
        self.state.apply(fault)
        now = self.state.availability
        if now is Availability.DARK and was is not Availability.DARK:
            self._spawn(self._close_listeners())
        elif kind is FaultKind.CLEAR:
            for listener in self._listeners:
                listener.drop_connections()  # connections held by a hung miner
            if was in (Availability.DARK, Availability.BOOTING):
                self._spawn(self._open_listeners())

    async def apply(self, fault: Fault) -> None:
        """Apply a fault and wait until the sockets reflect it (restart: until back up)."""
        self.inject(fault)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def describe(self) -> dict[str, Any]:
        """What the control endpoint lists for this miner."""
        report = self.state.report()
        return {
            "ip": self.ip,
            "kind": self.kind.value,
            "make": self.profile.make,
            "model": self.profile.model,
            "model_key": self.profile.key,
            "ports": list(self.ports),
            "hostname": self.state.identity.hostname,
            "mac": self.state.identity.mac,
            "faults": list(report.faults),
            "simulated": True,
            "reports": report.as_dict(),
        }
