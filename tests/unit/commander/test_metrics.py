"""The Prometheus exposition of `commander.metrics`, parsed back with prometheus-client.

A real store (a fresh SQLite file) filled through the real ingest path; the commander's
parts (writer, stream hub, scheduler) built but not started, the scheduler with one job
that succeeds and one that keeps failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import update

from rigwatch.commander.context import Commander
from rigwatch.commander.jobs import JobOutcome, JobSpec, Scheduler
from rigwatch.commander.metrics import make_registry, render
from rigwatch.commander.stream import StreamHub
from rigwatch.commander.writer import IngestWriter
from rigwatch.config import Settings
from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.domain.models import Sample as MinerSample
from rigwatch.store import auth as store_auth
from rigwatch.store import jsontext
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.ingest import write_batches
from rigwatch.store.tables import miners

HOSTILE = 'rig "7" \\ back\nslash'  # a worker name with a quote, a backslash, a newline

FAMILIES = {
    "rigwatch_miner_up": "gauge",
    "rigwatch_miner_status": "gauge",
    "rigwatch_miner_hashrate_hs": "gauge",
    "rigwatch_miner_hashrate_expected_hs": "gauge",
    "rigwatch_miner_temperature_celsius": "gauge",
    "rigwatch_miner_fan_rpm": "gauge",
    "rigwatch_miner_power_watts": "gauge",
    "rigwatch_miner_shares": "counter",
    "rigwatch_miner_last_seen_timestamp_seconds": "gauge",
    "rigwatch_farm_hashrate_hs": "gauge",
    "rigwatch_farm_hashrate_expected_hs": "gauge",
    "rigwatch_farm_power_watts": "gauge",
    "rigwatch_farm_miners": "gauge",
    "rigwatch_sentry_last_seen_timestamp_seconds": "gauge",
    "rigwatch_sentry_miners": "gauge",
    "rigwatch_store_up": "gauge",
    "rigwatch_ingest_batches": "counter",
    "rigwatch_ingest_rows": "counter",
    "rigwatch_ingest_failures": "counter",
    "rigwatch_ingest_backlog": "gauge",
    "rigwatch_stream_clients": "gauge",
    "rigwatch_job_last_success_timestamp_seconds": "gauge",
    "rigwatch_job_last_duration_seconds": "gauge",
    "rigwatch_job_consecutive_failures": "gauge",
    "rigwatch_job_failing": "gauge",
    "rigwatch_job_runs": "counter",
    "rigwatch_job_failures": "counter",
    "rigwatch_build_info": "gauge",
    "rigwatch_metrics_collect_seconds": "gauge",
}


def _reading(key: str, ts: datetime, **sample: object) -> Reading:
    identity = {
        "make": "AntMiner",
        "model": "S19 Pro",
        "worker": f"farm.{key}",
        **{k: sample.pop(k) for k in ("make", "model", "worker", "kind") if k in sample},
    }
    kind = identity.pop("kind", MinerKind.ASIC)
    return Reading(
        miner=MinerIdentity(key=key, kind=kind, **identity),  # type: ignore[arg-type]
        sample=MinerSample(ts=ts, **sample),  # type: ignore[arg-type]
    )


def _fill(settings: Settings, now: datetime) -> None:
    """Miners seen at `now` (the test's own time, not the module's import time: a long
    suite would otherwise find them offline)."""
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    with engine.begin() as conn:
        a, _ = store_auth.create_sentry(conn, "rack-a", "north")
        b, _ = store_auth.create_sentry(conn, "rack-b", "south")
        store_auth.create_sentry(conn, "never-seen", "south")
        store_auth.create_sentry(conn, "gone", "south")
        store_auth.revoke_sentry(conn, "gone")
        good = _reading(
            "good",
            now,
            hashrate_hs=110e12,
            hashrate_expected_hs=110e12,
            temp_c=60.0,
            chip_temp_c=75.0,
            temp_max_c=70.0,
            fans_rpm=(5400, 5460),
            power_w=3250.0,
            accepted=1000,
            rejected=2,
            stale=1,
        )
        hot = _reading(
            "hot",
            now,
            hashrate_hs=100e12,
            hashrate_expected_hs=110e12,
            temp_max_c=99.0,
            worker=HOSTILE,
            make=None,
            model=None,
        )
        old = _reading(
            "old",
            now - timedelta(hours=2),
            hashrate_hs=50e12,
            hashrate_expected_hs=60e12,
            temp_c=55.0,
            fans_rpm=(3000,),
            power_w=1500.0,
            accepted=7,
            kind=MinerKind.GPU,
        )
        write_batches(conn, [Batch(a, 1, (good, hot)), Batch(b, 1, (old,))], now)
        conn.execute(
            update(miners)
            .where(miners.c.key == "good")
            .values(tags=jsontext.dumps(["row-b", "immersion"]))
        )
    engine.dispose()


def _ok(conn: object, now: datetime) -> JobOutcome:
    return JobOutcome()


def _broken(conn: object, now: datetime) -> JobOutcome:
    raise RuntimeError("pool API down")


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def rw(tmp_path: Path, now: datetime) -> Iterator[Commander]:
    settings = Settings(data_dir=tmp_path, offline_after_s=120)
    _fill(settings, now)
    engine = make_engine(settings.resolved_database_url())
    scheduler = Scheduler(
        engine, [JobSpec("rollups", 60, run=_ok), JobSpec("pool_sync", 60, run=_broken)]
    )

    async def run_jobs() -> None:
        await scheduler.run_now("rollups")
        for _ in range(3):
            await scheduler.run_now("pool_sync")

    asyncio.run(run_jobs())
    commander = Commander(
        settings=settings,
        engine=engine,
        writer=IngestWriter(engine, max_rows=100, max_delay_s=0.1),
        hub=StreamHub(replay=10, max_clients=5, heartbeat_s=15),
        scheduler=scheduler,
    )
    try:
        yield commander
    finally:
        engine.dispose()


def _families(text: str) -> dict[str, tuple[str, list[Sample]]]:
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def _one(samples: list[Sample], **labels: str) -> float:
    found = [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (labels, found)
    return found[0]


def test_every_family_is_exposed_with_its_type(rw: Commander) -> None:
    families = _families(render(make_registry(lambda: rw)).decode())
    assert {name: kind for name, (kind, _samples) in families.items()} == FAMILIES


def test_per_miner_series_carry_the_miners_labels_and_latest_state(
    rw: Commander, now: datetime
) -> None:
    families = _families(render(make_registry(lambda: rw)).decode())
    hashrate = families["rigwatch_miner_hashrate_hs"][1]
    good = next(s for s in hashrate if s.labels["miner"] == "good")
    assert good.labels == {
        "site": "north",
        "sentry": "rack-a",
        "miner": "good",
        "kind": "asic",
        "make": "AntMiner",
        "model": "S19 Pro",
        "worker": "farm.good",
        "tags": "immersion,row-b",
    }
    assert good.value == 110e12
    _, expected = families["rigwatch_miner_hashrate_expected_hs"]
    assert _one(expected, miner="hot") == 110e12
    _, temps = families["rigwatch_miner_temperature_celsius"]
    assert _one(temps, miner="good", sensor="board") == 60.0
    assert _one(temps, miner="good", sensor="chip") == 75.0
    assert _one(temps, miner="good", sensor="max") == 70.0
    _, fans = families["rigwatch_miner_fan_rpm"]
    assert [_one(fans, miner="good", fan=i) for i in ("0", "1")] == [5400, 5460]
    _, power = families["rigwatch_miner_power_watts"]
    assert _one(power, miner="good") == 3250.0
    _, shares = families["rigwatch_miner_shares"]
    assert {r: _one(shares, miner="good", result=r) for r in ("accepted", "rejected", "stale")} == {
        "accepted": 1000,
        "rejected": 2,
        "stale": 1,
    }
    assert all(s.name == "rigwatch_miner_shares_total" for s in shares)
    _, seen = families["rigwatch_miner_last_seen_timestamp_seconds"]
    assert _one(seen, miner="good") == pytest.approx(now.timestamp(), abs=1e-3)


def test_status_is_one_hot_and_offline_miners_have_no_current_readings(rw: Commander) -> None:
    families = _families(render(make_registry(lambda: rw)).decode())
    _, status = families["rigwatch_miner_status"]
    current = {(s.labels["miner"], s.labels["status"]) for s in status if s.value == 1.0}
    assert current == {("good", "online"), ("hot", "warning"), ("old", "offline")}
    assert len(status) == 9
    _, up = families["rigwatch_miner_up"]
    assert {s.labels["miner"]: s.value for s in up} == {"good": 1.0, "hot": 1.0, "old": 0.0}
    # The GPU rig last reported two hours ago: offline, hashrate 0, no temperature, fan
    # or power reading, but its expected hashrate and its share counter stay.
    assert _one(families["rigwatch_miner_hashrate_hs"][1], miner="old") == 0.0
    for name in ("temperature_celsius", "fan_rpm", "power_watts"):
        assert not [s for s in families[f"rigwatch_miner_{name}"][1] if s.labels["miner"] == "old"]
    assert _one(families["rigwatch_miner_hashrate_expected_hs"][1], miner="old") == 60e12
    assert _one(families["rigwatch_miner_shares"][1], miner="old", result="accepted") == 7
    assert _one(up, miner="old", kind="gpu") == 0.0


def test_farm_totals_count_the_miners_that_are_not_offline(rw: Commander) -> None:
    families = _families(render(make_registry(lambda: rw)).decode())
    assert families["rigwatch_farm_hashrate_hs"][1][0].value == 210e12
    assert families["rigwatch_farm_hashrate_expected_hs"][1][0].value == 220e12
    assert families["rigwatch_farm_power_watts"][1][0].value == 3250.0
    counts = {s.labels["status"]: s.value for s in families["rigwatch_farm_miners"][1]}
    assert counts == {"online": 1.0, "warning": 1.0, "offline": 1.0}


def test_sentries_jobs_and_the_commanders_own_figures(rw: Commander) -> None:
    families = _families(render(make_registry(lambda: rw)).decode())
    _, sentry_miners = families["rigwatch_sentry_miners"]
    # The revoked sentry is left out; one that never reported has no last-seen time.
    assert {(s.labels["site"], s.labels["sentry"]): s.value for s in sentry_miners} == {
        ("north", "rack-a"): 2.0,
        ("south", "rack-b"): 1.0,
        ("south", "never-seen"): 0.0,
    }
    seen = {s.labels["sentry"] for s in families["rigwatch_sentry_last_seen_timestamp_seconds"][1]}
    assert seen == {"rack-a", "rack-b"}
    value = {name: samples for name, (_kind, samples) in families.items()}
    assert _one(value["rigwatch_job_failing"], job="pool_sync") == 1.0
    assert _one(value["rigwatch_job_failing"], job="rollups") == 0.0
    assert _one(value["rigwatch_job_consecutive_failures"], job="pool_sync") == 3.0
    assert _one(value["rigwatch_job_failures"], job="pool_sync") == 3.0
    assert _one(value["rigwatch_job_runs"], job="rollups") == 1.0
    success = {s.labels["job"] for s in value["rigwatch_job_last_success_timestamp_seconds"]}
    assert success == {"rollups"}
    assert _one(value["rigwatch_job_last_success_timestamp_seconds"], job="rollups") == (
        pytest.approx(datetime.now(UTC).timestamp(), abs=60)
    )
    assert {s.labels["job"] for s in value["rigwatch_job_last_duration_seconds"]} == {
        "rollups",
        "pool_sync",
    }
    for name in ("batches", "rows", "failures"):
        assert value[f"rigwatch_ingest_{name}"][0].name == f"rigwatch_ingest_{name}_total"
        assert value[f"rigwatch_ingest_{name}"][0].value == 0.0
    assert value["rigwatch_ingest_backlog"][0].value == 0.0
    assert value["rigwatch_stream_clients"][0].value == 0.0
    assert value["rigwatch_store_up"][0].value == 1.0
    assert value["rigwatch_build_info"][0].labels["version"]
    assert value["rigwatch_metrics_collect_seconds"][0].value > 0


def test_label_values_with_quotes_backslashes_and_newlines_are_escaped(rw: Commander) -> None:
    text = render(make_registry(lambda: rw)).decode()
    assert 'worker="rig \\"7\\" \\\\ back\\nslash"' in text
    # Every sample stays on one line: the newline in the worker name is escaped.
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ", "rigwatch_")), line
    hashrate = _families(text)["rigwatch_miner_hashrate_hs"][1]
    hot = next(s for s in hashrate if s.labels["miner"] == "hot")
    assert hot.labels["worker"] == HOSTILE
    assert hot.labels["make"] == "" and hot.labels["model"] == ""


def test_the_fast_text_matches_prometheus_clients_own_exposition(rw: Commander) -> None:
    registry = make_registry(lambda: rw)

    def normalised(text: bytes) -> list[tuple[str, str, list[tuple[str, Any, float]]]]:
        out = []
        for family in text_string_to_metric_families(text.decode()):
            if family.name == "rigwatch_metrics_collect_seconds":
                continue  # a timing: differs between any two scrapes
            samples = sorted((s.name, sorted(s.labels.items()), s.value) for s in family.samples)
            out.append((family.name, family.type, samples))
        return out

    assert normalised(render(registry)) == normalised(generate_latest(registry))
