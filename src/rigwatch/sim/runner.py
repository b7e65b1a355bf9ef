"""`rigwatch sim`: run a simulated farm in the foreground until cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rigwatch.sim.faults import ScheduledFault
from rigwatch.sim.fleet import Fleet, FleetSpec
from rigwatch.sim.p2pool_log import run_p2pool_log


def fleet_table(fleet: Fleet) -> Table:
    """Where each simulated miner listens and what it is."""
    table = Table(title=f"rigwatch simulated farm: {len(fleet)} miners (simulated data)")
    table.add_column("#", justify="right")
    table.add_column("address")
    table.add_column("ports")
    table.add_column("model")
    table.add_column("hashrate", justify="right")
    table.add_column("faults")
    for index, miner in enumerate(fleet):
        report = miner.expected_report()
        hashrate = (
            f"{report.hashrate_ths:.2f} TH/s"
            if report.hashrate_ths >= 1
            else f"{report.hashrate_ghs:.0f} GH/s"
        )
        table.add_row(
            str(index),
            miner.ip,
            ",".join(str(p) for p in miner.ports),
            f"{miner.profile.make} {miner.profile.model}",
            hashrate,
            ", ".join(report.faults) or "-",
        )
    return table


def rig_table(fleet: Fleet) -> Table:
    """Where each simulated rig's API listens, as `rigwatch sentry run --rig` takes it."""
    table = Table(title=f"{len(fleet.rigs)} simulated rigs (simulated data)")
    table.add_column("software")
    table.add_column("--rig")
    for rig in fleet.rig_endpoints:
        token = f"#{rig.token}" if rig.token else ""
        table.add_row(rig.software, f"{rig.software}={rig.url}{token}")
    return table


async def run_sim(
    asics: int,
    bitaxes: int,
    base: str = "127.0.10.1",
    control_port: int | None = 8899,
    seed: int = 1,
    faults: Sequence[ScheduledFault] = (),
    *,
    xmrig: int = 0,
    gpu_rigs: int = 0,
    p2pool_log: Path | None = None,
    p2pool_speed: float = 1.0,
    console: Console | None = None,
) -> None:
    """Start `asics` ASICs, `bitaxes` Bitaxes, `xmrig` XMRig and `gpu_rigs` GPU rigs from
    `base`, and a P2Pool node writing `p2pool_log`; print them, run until cancelled.

    Faults come from `rigwatch.sim.parse_fault` strings (`3:board_drop:1@60`). Binding
    errors surface as `SimBindError` with the address, port and likely cause.
    """
    console = console or Console()
    spec = FleetSpec.mix(
        asics,
        bitaxes,
        base=base,
        seed=seed,
        faults=faults,
        control_port=control_port,
        xmrig=xmrig,
        gpu_rigs=gpu_rigs,
    )
    stop = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        fleet = await stack.enter_async_context(Fleet(spec))
        if p2pool_log is not None:
            node = asyncio.create_task(
                run_p2pool_log(p2pool_log, seed=seed, speed=p2pool_speed, stop=stop)
            )
            # Exit callbacks run last-in first-out: stop the writer, then wait for it.
            stack.push_async_callback(lambda: asyncio.wait_for(node, 10))
            stack.callback(stop.set)
            console.print(f"P2Pool node (simulated) writing {p2pool_log}")
        console.print(fleet_table(fleet))
        if fleet.rigs:
            console.print(rig_table(fleet))
        if fleet.control_url:
            console.print(
                f"control: GET {fleet.control_url}/miners, "
                f'POST {fleet.control_url}/miners/<ip>/fault {{"fault": "dark"}}'
            )
        console.print("simulating; Ctrl-C to stop")
        await asyncio.Event().wait()
