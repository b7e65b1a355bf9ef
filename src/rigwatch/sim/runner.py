"""`rigwatch sim`: run a simulated farm in the foreground until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from rigwatch.sim.faults import ScheduledFault
from rigwatch.sim.fleet import Fleet, FleetSpec


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


async def run_sim(
    asics: int,
    bitaxes: int,
    base: str = "127.0.10.1",
    control_port: int | None = 8899,
    seed: int = 1,
    faults: Sequence[ScheduledFault] = (),
    *,
    console: Console | None = None,
) -> None:
    """Start `asics` ASICs and `bitaxes` Bitaxes from `base`, print them, run until cancelled.

    Faults come from `rigwatch.sim.parse_fault` strings (`3:board_drop:1@60`). Binding
    errors surface as `SimBindError` with the address, port and likely cause.
    """
    console = console or Console()
    spec = FleetSpec.mix(
        asics, bitaxes, base=base, seed=seed, faults=faults, control_port=control_port
    )
    async with Fleet(spec) as fleet:
        console.print(fleet_table(fleet))
        if fleet.control_url:
            console.print(
                f"control: GET {fleet.control_url}/miners, "
                f'POST {fleet.control_url}/miners/<ip>/fault {{"fault": "dark"}}'
            )
        console.print("simulating; Ctrl-C to stop")
        await asyncio.Event().wait()
