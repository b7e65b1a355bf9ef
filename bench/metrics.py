"""`GET /metrics` for a large farm: how long one Prometheus scrape takes.

Writes N miners (default 10,000, 20 sentries on 4 sites, four fans, three temperatures,
share counters, two tags each, a tenth of them offline) into a migrated SQLite file
through the real ingest path, then times, at the median of several rounds:
- the store read (`store.metrics.miner_metrics`, one statement for all miners),
- the whole exposition (`RigwatchCollector` + prometheus-client's `generate_latest`),
- the real HTTP route through uvicorn with a viewer key, gzip as Prometheus asks for it.

Target: the HTTP scrape under 2 s at the median for 10,000 miners (Prometheus' default
scrape timeout is 10 s). Exit status 1 if missed.
Run: `python -m bench.metrics [--miners N]` (under a minute on 2 cores; the file is removed).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import update

from bench.common import free_port
from rigwatch.commander.app import create_app
from rigwatch.commander.context import Commander
from rigwatch.commander.jobs import Scheduler
from rigwatch.commander.metrics import make_registry, mount_metrics, render
from rigwatch.commander.stream import StreamHub
from rigwatch.commander.writer import IngestWriter
from rigwatch.config import Settings
from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.models import MinerIdentity, MinerKind, Role, Sample
from rigwatch.store import auth as store_auth
from rigwatch.store import jsontext
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.ingest import write_batches
from rigwatch.store.metrics import miner_metrics
from rigwatch.store.tables import miners

SITES = 4
SENTRIES = 20
TARGET_S = 2.0
ROUNDS = 5


def _fill(settings: Settings, count: int) -> None:
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    now = datetime.now(UTC)
    per_sentry = -(-count // SENTRIES)
    with engine.begin() as conn:
        for s in range(SENTRIES):
            sentry_id, _token = store_auth.create_sentry(conn, f"sentry-{s}", f"site-{s % SITES}")
            readings = []
            for i in range(s * per_sentry, min(count, (s + 1) * per_sentry)):
                # A tenth were last seen an hour ago: offline by the time of the scrape.
                ts = now - timedelta(hours=1) if i % 10 == 9 else now
                readings.append(
                    Reading(
                        miner=MinerIdentity(
                            key=f"02:00:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                            kind=MinerKind.ASIC,
                            ip=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                            make="AntMiner",
                            model="S19 Pro" if i % 2 else "S21",
                            hostname=f"miner-{i}",
                            worker=f"farm.rack{i // 40}x{i % 40}",
                        ),
                        sample=Sample(
                            ts=ts,
                            hashrate_hs=100e12 + i,
                            hashrate_expected_hs=110e12,
                            temp_c=60.0,
                            chip_temp_c=75.0,
                            temp_max_c=71.0,
                            fans_rpm=(5400, 5400, 5460, 5460),
                            power_w=3250.0,
                            accepted=1000 + i,
                            rejected=2,
                            stale=1,
                        ),
                    )
                )
            write_batches(conn, [Batch(sentry_id, 1, tuple(readings))], now)
        conn.execute(update(miners).values(tags=jsontext.dumps(["row-a", "immersion"])))
    engine.dispose()


def _median(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), external_sync=False)
        started = time.perf_counter()
        _fill(settings, args.miners)
        print(f"{args.miners} miners written in {time.perf_counter() - started:.1f} s")

        engine = make_engine(settings.resolved_database_url())
        rw = Commander(
            settings=settings,
            engine=engine,
            writer=IngestWriter(engine, max_rows=1000, max_delay_s=0.1),
            hub=StreamHub(replay=10, max_clients=1, heartbeat_s=15),
            scheduler=Scheduler(engine, []),
        )
        registry = make_registry(lambda: rw)
        now = datetime.now(UTC)
        read_s = _median(lambda: rw.read(lambda c: miner_metrics(c, now, 120.0)))
        body = render(registry)
        render_s = _median(lambda: render(registry))
        gzip_s = _median(lambda: gzip.compress(body, compresslevel=1))
        packed = len(gzip.compress(body, compresslevel=1))
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        engine.dispose()

        app = create_app(settings, jobs=[])
        mount_metrics(app)  # a no-op once create_app mounts it
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        admin = make_engine(settings.resolved_database_url())
        with admin.begin() as conn:
            key = store_auth.create_api_key(conn, "bench", Role.VIEWER)
        admin.dispose()
        headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:

            def scrape() -> None:
                r = client.get("/metrics", timeout=60)
                r.raise_for_status()

            http_s = _median(scrape)
        server.should_exit = True
        thread.join(timeout=30)

    print(f"series exposed: {series:,}; text {len(body) / 1e6:.1f} MB, gzip {packed / 1e6:.2f} MB")
    print(f"store read (one statement):      {read_s * 1000:8.1f} ms")
    print(f"exposition (collect + format):   {render_s * 1000:8.1f} ms")
    print(f"gzip level 1:                    {gzip_s * 1000:8.1f} ms")
    print(f"HTTP scrape (auth, gzip, wire):  {http_s * 1000:8.1f} ms  (target < {TARGET_S} s)")
    return 0 if http_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
