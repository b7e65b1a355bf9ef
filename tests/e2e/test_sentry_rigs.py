"""A sentry on a rig: simulated XMRig / T-Rex / lolMiner, this machine's health and a
P2Pool log, through a real commander; the log's events stored once across a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from rigwatch.config import Settings
from rigwatch.sentry.agent import run_sentry
from rigwatch.sentry.config import SentryConfig
from rigwatch.sim import Fleet, FleetSpec
from rigwatch.store import auth as store_auth
from rigwatch.store import queries, rig_queries
from rigwatch.store.engine import make_engine, upgrade
from tests.helpers import start_commander

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE = "127.0.62.1"
LOG_LINES = [
    "NOTICE  2025-06-02 21:40:01.0001 StratumServer SHARE FOUND: mainchain height 3425420, "
    "sidechain height 10143872, diff 126624856, client 127.0.0.1:37294, user rig-a, "
    "effort 91.663%",
    "NOTICE  2025-06-02 21:41:00.0002 P2Pool BLOCK FOUND: main chain block at height 3425427 "
    "was mined by someone else in this p2pool",
    "NOTICE  2025-06-02 21:42:53.0727 P2Pool Your wallet 48wdY6fDEG got a payout of "
    "1.000295115076 XMR in block 3425427",
]
LATER = (
    "NOTICE  2025-06-02 21:50:11.4321 StratumServer SHARE FOUND: mainchain height 3425431, "
    "sidechain height 10143899, diff 120000000, client 127.0.0.1:37294, user rig-a, "
    "effort 12.500%"
)


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


async def until(check: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _run(cfg: SentryConfig, engine: Engine, check: Callable[[], bool], what: str) -> None:
    stop = asyncio.Event()
    sentry = asyncio.create_task(run_sentry(cfg, stop))
    try:
        await until(check, 30, what)
    finally:
        stop.set()
        await asyncio.wait_for(sentry, 30)


async def test_rigs_host_and_p2pool_reach_the_commander_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "commander")
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    with engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "rig-sentry")
    log = tmp_path / "p2pool.log"
    log.write_text("\n".join(LOG_LINES) + "\n")
    commander = await asyncio.to_thread(start_commander, settings)
    try:
        spec = FleetSpec.mix(0, 0, base=BASE, seed=3, xmrig=1, gpu_rigs=2, xmrig_token="s3cret")
        async with Fleet(spec) as fleet:
            rigs = [
                f"{r.software}={r.url}" + (f"#{r.token}" if r.token else "")
                for r in fleet.rig_endpoints
            ]
            cfg = SentryConfig(
                commander_url=commander.url,
                data_dir=tmp_path / "sentry",
                enroll_token=token,
                rigs=rigs,
                host_metrics=True,
                host_key="rig-host",
                p2pool_log=log,
                interval_s=1.0,
                deadline_s=2.0,
            )
            three_events = (
                "SELECT count(*) FROM events WHERE kind IN ('share_found', 'block_found', 'payout')"
            )
            await _run(
                cfg,
                engine,
                lambda: (
                    scalar(engine, three_events) == 3
                    and scalar(engine, "SELECT count(*) FROM device_samples") > 0
                    and scalar(engine, "SELECT count(*) FROM host_state") == 1
                ),
                "rigs, host and P2Pool events",
            )
            with log.open("a") as f:  # the node goes on logging while the sentry is down
                f.write(LATER + "\n")
            # A restart resumes after the committed position: the new share arrives, the
            # three old events are not stored again.
            await _run(cfg, engine, lambda: scalar(engine, three_events) == 4, "the later share")
    finally:
        await asyncio.to_thread(commander.stop)
        commander.engine.dispose()
    now = datetime.now(UTC)
    with engine.connect() as conn:
        rigs_seen, _ = queries.list_miners(conn, queries.MinerQuery(), now, 120)
        [host] = rig_queries.list_hosts(conn)
        payout = conn.execute(text("SELECT data, host_id FROM events WHERE kind = 'payout'")).one()
        gpu = next(m for m in rigs_seen if m.kind.value == "gpu")
        detail = queries.get_miner(conn, gpu.id, now, 120)
    engine.dispose()
    assert sorted(m.kind.value for m in rigs_seen) == ["cpu", "gpu", "gpu"]
    assert detail is not None and len(detail.devices) >= 4
    assert all(d.temp_c is not None for d in detail.devices)
    assert host.identity.key == "rig-host"
    assert host.latest is not None and host.latest.mem_total_bytes
    assert sorted(host.miner_ids) == sorted(m.id for m in rigs_seen)
    assert '"amount_atomic":1000295115076' in payout.data.replace(" ", "")
    assert payout.host_id == host.id
