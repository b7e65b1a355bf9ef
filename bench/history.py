"""History charts from the rollups, and the rollup job's throughput.

For 1,000 miners the benchmark writes 30 days of 5-minute rows (8.64 million) and a year
of hourly rows (8.76 million), plus daily rows and the matching site and farm rows, into
the real rollup tables of a migrated SQLite file (generated in SQL by sqlite3 itself, WAL:
the data is the subject, not how it got there). Then it times the farm hashrate chart
of `GET /api/v1/series` (500 points) for 30 days and for a year through the store
function the route calls, each beside the same chart read from the next finer resolution
(30 days: 1-hour rows vs 5-minute; a year: daily vs hourly), once more through the real
HTTP route, and a miner's 1-year chart. Last, raw samples of 1,000 miners x 2 hours at 30 s
polls go through `run_rollups` (5 minutes, hours, days, sites, farm) for samples/s.

Target: each farm chart under 50 ms at the median on SQLite. Exit status 1 if missed.
Run: `python -m bench.history` (about 1-2 minutes on 2 cores; the file is removed).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import Engine

from bench.common import free_port
from rigwatch.commander.api import series as series_api
from rigwatch.commander.app import create_app
from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.rollups import run_rollups
from rigwatch.store.series import Metric, Scope, read_series
from rigwatch.store.timestamps import to_us

END = datetime(2026, 11, 1, tzinfo=UTC)
FIVE_MIN_US = 300_000_000
HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000
SITES = 4
TARGET_MS = 50.0


def _base(miner: int) -> float:
    """A miner's nominal hashrate: 90-110 TH/s by model."""
    return 100e12 * (0.9 + (miner % 7) / 30)


def _wave(minutes: float) -> float:
    """The farm's daily swing (heat): +-3 % over a day."""
    return 1 + 0.03 * math.sin(minutes / 1440 * 2 * math.pi)


def _setup(db: Path, miners: int) -> Engine:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with engine.begin() as conn:
        for site in range(SITES):
            store_auth.create_sentry(conn, f"sentry-{site}", site=f"site-{site}")
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO miners (id, sentry_id, key, kind, tags, first_seen) "
            "VALUES (?, ?, ?, 'asic', '[]', 0)",
            [(m, 1 + m % SITES, f"miner-{m}") for m in range(1, miners + 1)],
        )
    con.close()
    return engine


_MINER_ROWS = """
INSERT INTO {table}
WITH RECURSIVE k(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM k WHERE id < :miners),
 i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < :buckets - 1),
 g AS (
   SELECT k.id AS m, i.n AS n,
     1e14 * (0.9 + (k.id % 7) / 30.0) * (1 + 0.03 * sin(i.n * :minutes / 1440.0 * 2 * pi()))
       AS h
   FROM k CROSS JOIN i
 )
SELECT m, :start + n * :size, :samples, :up, h * 0.97, h, h * 1.03, 1e14,
  60.0 + (m % 5), 62.5 + (m % 5), 66.0 + (m % 5), 3200.0, 3250.0, 3300.0,
  :samples, 0, 0
FROM g WHERE true
"""


def _fill_miners(
    con: sqlite3.Connection, table: str, miners: int, start: int, size: int, buckets: int
) -> None:
    samples = size // 30_000_000
    con.execute(
        _MINER_ROWS.format(table=table),
        {
            "miners": miners,
            "buckets": buckets,
            "minutes": size / 60e6,
            "start": start,
            "size": size,
            "samples": samples,
            "up": size / 1e6,
        },
    )


def _fleet_rows(
    miners: int, start: int, size: int, buckets: int, spread: float
) -> Iterator[tuple[Any, ...]]:
    scopes: dict[str, list[int]] = {"farm": list(range(1, miners + 1))}
    for site in range(SITES):
        scopes[f"site:{site + 1}"] = [m for m in range(1, miners + 1) if (m % SITES) == site]
    samples = size // 30_000_000
    for scope, members in scopes.items():
        total = sum(_base(m) for m in members)
        count = len(members)
        temp = statistics.fmean(62.5 + (m % 5) for m in members)
        for n in range(buckets):
            h = total * _wave(n * size / 60e6)
            yield (
                scope,
                start + n * size,
                count,
                samples * count,
                size / 1e6 * count,
                h,
                h * (1 - spread),
                h * (1 + spread),
                1e14 * count,
                3250.0 * count,
                temp,
                70.0,
                samples * count,
                0,
                0,
            )


def generate(db: Path, miners: int) -> dict[str, float]:
    """Rollup rows for `miners` miners up to END; seconds per table."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    try:
        con.execute("SELECT sin(0), pi()")
    except sqlite3.OperationalError:  # an SQLite built without its math functions
        con.create_function("sin", 1, math.sin, deterministic=True)
        con.create_function("pi", 0, lambda: math.pi, deterministic=True)
    end = to_us(END)
    plan = (
        ("5m", FIVE_MIN_US, 30 * 288, 0.0),
        ("1h", HOUR_US, 365 * 24, 0.01),
        ("1d", DAY_US, 365, 0.03),
    )
    took: dict[str, float] = {}
    for res, size, buckets, spread in plan:
        start = end - buckets * size
        began = time.perf_counter()
        with con:
            _fill_miners(con, f"rollup_{res}", miners, start, size, buckets)
            con.executemany(
                f"INSERT INTO fleet_rollup_{res} VALUES ({', '.join('?' * 15)})",  # noqa: S608 - res is ours
                _fleet_rows(miners, start, size, buckets, spread),
            )
        took[res] = time.perf_counter() - began
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return took


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times), result


def _chart(engine: Engine, scope: Scope, days: int, resolution: str | None) -> Callable[[], Any]:
    start = END - timedelta(days=days)

    def read() -> Any:
        with engine.connect() as conn:
            return read_series(conn, scope, Metric.HASHRATE, start, END, 500, resolution=resolution)

    return read


@contextmanager
def _commander(data_dir: Path, db: Path) -> Iterator[str]:
    """The real commander app on a loopback port (no scheduled jobs), series route on."""
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{db}")
    app = create_app(settings, jobs=[])
    if not any(getattr(r, "path", "") == "/api/v1/series" for r in app.routes):
        app.include_router(series_api.router, prefix="/api/v1")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("commander did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def charts(engine: Engine, db: Path, data_dir: Path, runs: int) -> bool:
    farm = Scope("farm")
    ok = True
    print(f"farm hashrate chart, 500 points, median of {runs} runs (store function of the route)")
    for label, days, coarse, fine in (("30 days", 30, "1h", "5m"), ("1 year", 365, "1d", "1h")):
        chosen_ms, chosen = _median_ms(_chart(engine, farm, days, None), runs)
        fine_ms, finer = _median_ms(_chart(engine, farm, days, fine), runs)
        verdict = "met" if chosen_ms < TARGET_MS else "NOT met"
        ok &= chosen_ms < TARGET_MS
        print(
            f"  {label}: {chosen_ms:.2f} ms from {chosen.resolution} rows "
            f"({len(chosen.points)} points; target < {TARGET_MS:.0f} ms: {verdict}) | "
            f"{fine_ms:.2f} ms from {finer.resolution} rows ({len(finer.points)} points) | "
            f"{fine_ms / chosen_ms:.1f}x slower from the finer rows"
        )
        if chosen.resolution != coarse:
            print(f"  ! expected the route to read {coarse} rows")
            ok = False
    miner_ms, miner = _median_ms(_chart(engine, Scope("miner", 1), 365, None), runs)
    miner_fine_ms, miner_fine = _median_ms(_chart(engine, Scope("miner", 1), 365, "1h"), runs)
    print(
        f"  miner 1's 1-year chart: {miner_ms:.2f} ms from {miner.resolution} rows | "
        f"{miner_fine_ms:.2f} ms from {miner_fine.resolution} rows"
    )
    with engine.begin() as conn:
        key = store_auth.create_api_key(conn, "bench", Role.VIEWER)
    with (
        _commander(data_dir, db) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client,
    ):
        for label, days in (("30 days", 30), ("1 year", 365)):
            params = {
                "scope": "farm",
                "metric": "hashrate",
                "from": (END - timedelta(days=days)).isoformat(),
                "to": END.isoformat(),
                "points": 500,
            }

            def get(params: dict[str, Any] = params) -> httpx.Response:
                reply = client.get("/api/v1/series", params=params)
                reply.raise_for_status()
                return reply

            http_ms, reply = _median_ms(get, runs)
            body = reply.json()
            print(
                f"  through GET /api/v1/series, {label}: {http_ms:.2f} ms median "
                f"({body['resolution']}, {len(body['points'])} points, {len(reply.content):,} "
                "bytes; same process as the client)"
            )
    return ok


def throughput(engine: Engine, db: Path, miners: int, hours: float) -> None:
    """Raw samples of `miners` miners for `hours` at 30 s polls through run_rollups."""
    start = to_us(END)
    polls = int(hours * 120)
    con = sqlite3.connect(db)
    rows = []
    for m in range(1, miners + 1):
        base = _base(m)
        for p in range(polls):
            if m % 97 == 0 and 60 <= p < 80:
                continue  # a few miners down for ten minutes
            ts = start + p * 30_000_000 + ((m * 7919 + p * 104_729) % 5_000_000)
            rows.append(
                (ts, m, base * _wave(p / 2), base, 62.0, 66.0, 3250.0, p * 3, 0, 0, 3, 0, 0)
            )
    with con:
        con.executemany(
            "INSERT INTO samples (ts, miner_id, hashrate_hs, hashrate_expected_hs, temp_c, "
            "temp_max_c, power_w, accepted, rejected, stale, accepted_delta, rejected_delta, "
            "stale_delta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        # The job's first run marks every raw bucket; then this batch is already covered.
        con.execute(
            "INSERT INTO ingest_batches (sentry_id, seq, received_at, samples, events, "
            "first_ts, last_ts) VALUES (1, 1, ?, ?, 0, ?, ?)",
            (start + polls * 30_000_000, len(rows), rows[0][0], max(r[0] for r in rows)),
        )
    con.close()
    now = END + timedelta(hours=hours, minutes=5)
    began = time.perf_counter()
    calls = buckets = 0
    while True:
        with engine.begin() as conn:
            report = run_rollups(conn, now)
        calls += 1
        buckets += report.buckets_5m
        if not report.more:
            break
    took = time.perf_counter() - began
    print(
        f"rollup job: {len(rows):,} raw samples ({miners:,} miners x {hours:g} h at 30 s) "
        f"-> {buckets} five-minute buckets, their hours, days, sites and farm in {took:.2f} s "
        f"({calls} calls): {len(rows) / took:,.0f} samples/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--miners", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--hours", type=float, default=2.0, help="raw hours for the rollup job")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rigwatch-bench-history-") as tmp:
        db = Path(tmp) / "history.db"
        engine = _setup(db, args.miners)
        try:
            began = time.perf_counter()
            took = generate(db, args.miners)
            size = db.stat().st_size / 1e9
            print(
                f"generated for {args.miners:,} miners: 5-minute rows (30 days) in "
                f"{took['5m']:.1f} s, hourly (1 year) {took['1h']:.1f} s, "
                f"daily {took['1d']:.1f} s; "
                f"{size:.2f} GB, {time.perf_counter() - began:.1f} s"
            )
            ok = charts(engine, db, Path(tmp) / "data", args.runs)
            throughput(engine, db, args.miners, args.hours)
        finally:
            engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
