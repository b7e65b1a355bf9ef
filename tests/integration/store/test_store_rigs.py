"""Rigs, hosts and P2Pool nodes through the write path and back out, on both databases."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch, HostReading, P2PoolReading, Reading
from rigwatch.domain.host import GpuHealth, HostIdentity, HostSample
from rigwatch.domain.models import Device, DeviceKind, Event, EventKind, MinerKind
from rigwatch.domain.p2pool import P2PoolStats, P2PoolWorker
from rigwatch.store import queries, rig_queries
from rigwatch.store.ingest import write_batches
from rigwatch.store.tables import device_samples, events, host_samples, hosts, p2pool_samples
from tests.integration.store.store_helpers import at, reading

RIG = "trex@127.0.0.1:4067"


def _rig(seconds: float, hashrate: float = 90e6) -> Reading:
    base = reading(RIG, seconds, kind=MinerKind.GPU, hashrate=hashrate)
    devices = (
        Device(index=0, name="RTX 3080", hashrate_hs=hashrate / 2, temp_c=61.0, fan_pct=55.0),
        Device(index=1, name="RTX 3080", hashrate_hs=hashrate / 2, temp_c=64.0, power_w=220.0),
    )
    sample = dataclasses.replace(base.sample, algorithm="ethash", devices=devices)
    return Reading(base.miner, sample)


def _host(seconds: float, cpu: float = 12.5) -> HostReading:
    sample = HostSample(
        ts=at(seconds),
        cpu_pct=cpu,
        mem_used_bytes=2 * 2**30,
        mem_total_bytes=16 * 2**30,
        uptime_s=3600,
        gpus=(GpuHealth(index=0, name="RTX 3080", temp_c=61.0, power_w=220.5, util_pct=99.0),),
    )
    return HostReading(HostIdentity("rig-01", hostname="rig-01", cpu_count=8), sample, (RIG,))


def _p2pool(seconds: float) -> P2PoolReading:
    stats = P2PoolStats(
        ts=at(seconds),
        hashrate_15m_hs=12_345.0,
        shares_found=7,
        current_effort_pct=43.2,
        workers=(P2PoolWorker("127.0.0.1:51234", 600, 50_000, 12_000.0, "rig-01"),),
        network_reward_atomic=600_000_000_000,
    )
    return P2PoolReading("p2pool@rig-01", stats, host_key="rig-01")


def _payout(seconds: float, atomic: int) -> Event:
    return Event(
        ts=at(seconds),
        kind=EventKind.PAYOUT,
        key=f"p2pool:payout:{seconds}",
        host_key="rig-01",
        message="payout",
        data={"amount_atomic": atomic, "coin": "XMR"},
    )


def _write(engine: Engine, batch: Batch) -> None:
    with engine.begin() as conn:
        write_batches(conn, [batch], at(3600))


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_rig_reading_stores_its_devices_and_the_miner_page_shows_them(engine, sentry_id):
    _write(engine, Batch(sentry_id, 1, readings=(_rig(0),)))
    assert _count(engine, device_samples) == 2
    with engine.connect() as conn:
        [row], _ = queries.list_miners(conn, queries.MinerQuery(), at(10), 120)
        detail = queries.get_miner(conn, row.id, at(10), 120)
    assert detail is not None
    assert detail.algorithm == "ethash"
    assert [d.temp_c for d in detail.devices] == [61.0, 64.0]
    assert detail.devices[0].kind is DeviceKind.GPU
    assert detail.devices[1].power_w == 220.0


def test_a_host_reading_creates_the_host_attaches_its_rigs_and_keeps_the_newest_state(
    engine, sentry_id
):
    _write(engine, Batch(sentry_id, 1, readings=(_rig(0),), hosts=(_host(0),)))
    _write(engine, Batch(sentry_id, 2, readings=(_rig(30),), hosts=(_host(30, cpu=80.0),)))
    # A late reading is stored as history but never rolls the state back.
    _write(engine, Batch(sentry_id, 3, hosts=(_host(15, cpu=1.0),)))
    assert _count(engine, hosts) == 1
    assert _count(engine, host_samples) == 3
    with engine.connect() as conn:
        [host] = rig_queries.list_hosts(conn)
        history = rig_queries.host_history(conn, host.id, at(0), at(60))
        [row], _ = queries.list_miners(conn, queries.MinerQuery(), at(40), 120)
        detail = queries.get_miner(conn, row.id, at(40), 120)
    assert host.identity.cpu_count == 8
    assert host.latest is not None and host.latest.cpu_pct == 80.0
    assert host.latest.gpus[0].power_w == 220.5
    assert host.miner_ids == (row.id,)
    assert detail is not None and detail.host_id == host.id
    assert [h.cpu_pct for h in history] == [12.5, 1.0, 80.0]


def test_a_replayed_batch_stores_hosts_p2pool_and_events_once(engine, sentry_id):
    batch = Batch(
        sentry_id,
        1,
        hosts=(_host(0),),
        p2pool=(_p2pool(0),),
        events=(_payout(5, 1_234_567_890_123),),
    )
    _write(engine, batch)
    _write(engine, batch)
    _write(engine, dataclasses.replace(batch, seq=2))  # same content under a new seq
    assert _count(engine, host_samples) == 1
    assert _count(engine, p2pool_samples) == 1
    assert _count(engine, events) == 1
    with engine.connect() as conn:
        [node] = rig_queries.p2pool_nodes(conn)
        [host] = rig_queries.list_hosts(conn)
        [payout] = queries.list_events(conn)
    assert node.stats.hashrate_15m_hs == 12_345.0
    assert node.stats.workers[0].name == "rig-01"
    assert node.stats.network_reward_atomic == 600_000_000_000
    assert node.host_id == host.id
    assert payout.host_id == host.id
    assert payout.data["amount_atomic"] == 1_234_567_890_123


def test_an_event_naming_an_unknown_host_creates_it_by_key(engine, sentry_id):
    _write(engine, Batch(sentry_id, 1, events=(_payout(5, 10**12),)))
    with engine.connect() as conn:
        [host] = rig_queries.list_hosts(conn)
    assert host.identity.key == "rig-01"
    assert host.latest is None
