"""`rigwatch demo`: a commander, a simulated farm and a sentry watching it, in one process.

Everything listens on loopback only. The data lives in its own SQLite file (never the
configured production database) and is started fresh each time, labelled "simulated farm".
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from rich.console import Console

from rigwatch.commander.app import create_app
from rigwatch.config import Settings
from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.serving import EmbeddedServer
from rigwatch.sim import Fleet, FleetSpec
from rigwatch.sim.faults import Fault, FaultKind, ScheduledFault
from rigwatch.sim.p2pool_log import run_p2pool_log
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine

log = logging.getLogger(__name__)

LABEL = "simulated farm"
SIM_BASE = "127.0.10.1"
DEMO_XMRIG = 1
DEMO_GPU_RIGS = 2
# Simulated P2Pool time runs this much faster than the clock, so shares show up soon.
P2POOL_SPEED = 20.0


@dataclass(frozen=True)
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    miners: int = 60
    data_dir: Path = Path("./rigwatch-data/demo")
    interval_s: float = 5.0


def fleet_spec(miners: int) -> FleetSpec:
    """The standard 60-miner demo farm (plus an XMRig box and two GPU rigs), or a mix of
    the same kinds for another size."""
    if miners == 60:
        return dataclasses.replace(
            FleetSpec.demo(base=SIM_BASE), xmrig=DEMO_XMRIG, gpu_rigs=DEMO_GPU_RIGS
        )
    bitaxes = miners // 8
    faults = tuple(
        ScheduledFault(target=t, fault=f)
        for t, f in ((1, Fault(FaultKind.BOARD_DROP, board=1)), (2, Fault(FaultKind.HOT)))
        if t < miners - bitaxes
    )
    return FleetSpec.mix(
        miners - bitaxes,
        bitaxes,
        base=SIM_BASE,
        faults=faults,
        xmrig=DEMO_XMRIG,
        gpu_rigs=DEMO_GPU_RIGS,
    )


def _enrollment_token(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url())
    try:
        with engine.begin() as conn:
            _id, token = store_auth.create_sentry(conn, "demo-sentry")
    finally:
        engine.dispose()
    return token


async def run_demo(options: DemoOptions, console: Console | None = None) -> None:
    console = console or Console()
    if options.miners < 1 or options.miners > 2000:
        raise ValueError("--miners must be between 1 and 2000")
    shutil.rmtree(options.data_dir, ignore_errors=True)
    options.data_dir.mkdir(parents=True)
    settings = Settings(
        data_dir=options.data_dir,
        database_url=f"sqlite:///{(options.data_dir / 'rigwatch.db').resolve()}",
        host=options.host,
        port=options.port,
        demo_autologin=True,
        label=LABEL,
        # A simulated farm reaches nothing outside this machine.
        external_sync=False,
    )
    app = create_app(settings)
    token = _enrollment_token(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server = EmbeddedServer(
        uvicorn.Config(
            app, host=options.host, port=options.port, log_level="warning", lifespan="on"
        )
    )
    url = f"http://{options.host}:{options.port}/"
    node_dir = options.data_dir / "p2pool"
    node_stop = asyncio.Event()
    node = asyncio.create_task(
        run_p2pool_log(
            node_dir / "p2pool.log",
            seed=7,
            speed=P2POOL_SPEED,
            stop=node_stop,
            data_api_dir=node_dir / "api",
        ),
        name="p2pool-node",
    )
    async with Fleet(fleet_spec(options.miners)) as fleet:
        serving = asyncio.create_task(server.serve(), name="commander")
        while not server.started:
            if serving.done():
                await serving
                raise RuntimeError(
                    f"the commander could not listen on {options.host}:{options.port}"
                )
            await asyncio.sleep(0.05)
        sentry_stop = asyncio.Event()
        sentry = asyncio.create_task(
            run_sentry(
                SentryConfig(
                    commander_url=url.rstrip("/"),
                    data_dir=options.data_dir / "sentry",
                    enroll_token=token,
                    scan=[f"{fleet.ips[0]}-{fleet.ips[-1]}"],
                    rigs=[_rig_arg(r.software, r.url, r.token) for r in fleet.rig_endpoints],
                    host_metrics=True,
                    host_key="demo-host",
                    p2pool_log=node_dir / "p2pool.log",
                    p2pool_api=node_dir / "api",
                    interval_s=options.interval_s,
                    rediscover_s=120.0,
                    deadline_s=4.0,
                ),
                sentry_stop,
            ),
            name="sentry",
        )
        console.print(
            f"[bold]rigwatch demo[/bold] ({LABEL}): {len(fleet.ips)} simulated miners on "
            f"{fleet.ips[0]} to {fleet.ips[-1]}, {len(fleet.rigs)} simulated rigs, a simulated "
            f"P2Pool node, and a sentry polling every {options.interval_s:g} s "
            "(host health is this machine's own)."
        )
        console.print(f"Dashboard: [bold link={url}]{url}[/bold link]  (Ctrl-C stops everything)")
        waiters = [asyncio.create_task(stop.wait()), serving, sentry]
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiters[0] and task.exception() is not None:
                console.print(f"[red]{task.get_name()} failed:[/red] {task.exception()}")
        console.print("stopping…")
        sentry_stop.set()
        if not sentry.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sentry, timeout=15)
        if not serving.done():
            server.should_exit = True
            await serving
        waiters[0].cancel()
    node_stop.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(node, 10)
    console.print("demo stopped")


def _rig_arg(software: str, url: str, token: str | None) -> str:
    return f"{software}={url}" + (f"#{token}" if token else "")
