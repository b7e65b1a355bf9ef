"""A sentry watching real simulated miners reports what happens to them as events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from rigwatch.config import Settings
from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.sim import Fleet, FleetSpec
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine, upgrade
from tests.helpers import start_commander

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE = "127.0.61.1"


def kinds(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.kind, m.ip FROM events e"
                " LEFT JOIN miners m ON m.id = e.miner_id ORDER BY e.id"
            )
        ).all()
    return [(str(k), str(ip)) for k, ip in rows]


async def until(check: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def test_dark_returning_and_restarted_miners_become_events(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "commander")
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    with engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "rack-events")
    commander = await asyncio.to_thread(start_commander, settings)
    stop = asyncio.Event()
    try:
        async with Fleet(FleetSpec.mix(3, 1, base=BASE, seed=5, restart_s=1.0)) as fleet:
            cfg = SentryConfig(
                commander_url=commander.url,
                data_dir=tmp_path / "sentry",
                enroll_token=token,
                scan=[f"{fleet.ips[0]}-{fleet.ips[-1]}"],
                interval_s=1.0,
                deadline_s=2.0,
            )
            sentry = asyncio.create_task(run_sentry(cfg, stop))
            await until(
                lambda: sum(k == "miner_discovered" for k, _ in kinds(engine)) == 4, 30, "discovery"
            )
            dark, rebooted = fleet.ips[0], fleet.ips[1]

            await fleet.inject(dark, "dark")
            await until(lambda: ("miner_offline", dark) in kinds(engine), 30, "miner_offline")
            with engine.connect() as conn:
                status: str = conn.execute(
                    text(
                        "SELECT s.status FROM miner_state s"
                        " JOIN miners m ON m.id = s.miner_id WHERE m.ip = :ip"
                    ),
                    {"ip": dark},
                ).scalar_one()
            assert status == "offline"
            await fleet.inject(dark, "clear")
            await until(lambda: ("miner_online", dark) in kinds(engine), 30, "miner_online")

            await asyncio.sleep(2.5)  # let the uptime counter grow before the reboot
            await fleet.inject(rebooted, "restart")
            await until(
                lambda: ("miner_restarted", rebooted) in kinds(engine), 30, "miner_restarted"
            )
            stop.set()
            await asyncio.wait_for(sentry, 30)
    finally:
        await asyncio.to_thread(commander.stop)
        commander.engine.dispose()
    events = kinds(engine)
    engine.dispose()
    assert events.count(("miner_offline", dark)) == 1
    assert events.count(("miner_online", dark)) == 1
