"""Samples per second through POST /api/v1/ingest into SQLite, beside the raw SQLite bound.

The raw bound is plain `sqlite3.executemany` of the same rows into a table of the same
shape (time-first key, WAL, synchronous=NORMAL), committed per batch: what the disk and
SQLite allow with no HTTP, validation or bookkeeping at all.

`--py-spy FILE` samples the commander process (all threads) with py-spy during the timed
part and writes its collapsed stacks to FILE (py-spy must be on PATH or given with
`--py-spy-bin`); the sampling costs the commander some CPU, so the rate printed with it
is lower than without. `--cpu` prints the CPU seconds the commander and the load
generator used during the timed part. Neither changes what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import psutil
from sqlalchemy import create_engine

from bench.common import commander_process, report
from rigwatch.store import auth as store_auth

MINERS = 1000
BATCH = 500
SECONDS = 10.0
CONCURRENCY = 8


def make_samples(start: datetime, n_batches: int) -> list[list[dict[str, object]]]:
    """Polls of MINERS miners every 10 s, cut into batches of BATCH samples."""
    flat: list[dict[str, object]] = []
    ts = start
    while len(flat) < n_batches * BATCH:
        for m in range(MINERS):
            flat.append(
                {
                    "miner": {
                        "key": f"bench-{m:05d}",
                        "kind": "asic",
                        "ip": f"127.0.{m // 250}.{m % 250 + 1}",
                        "make": "AntMiner",
                        "model": "S19 Pro",
                        "hostname": f"s19-{m}",
                    },
                    "ts": ts.isoformat(),
                    "hashrate_hs": 110e12 + m * 1e9,
                    "hashrate_expected_hs": 110e12,
                    "temp_c": 60.0 + m % 10,
                    "temp_max_c": 70.0,
                    "fans_rpm": [5400, 5400, 5460, 5460],
                    "power_w": 3250.0,
                    "accepted": 1000 + m,
                    "rejected": 2,
                    "uptime_s": 3600,
                    "pool_url": "stratum+tcp://127.0.0.1:3333",
                }
            )
        ts += timedelta(seconds=10)
    return [flat[i : i + BATCH] for i in range(0, n_batches * BATCH, BATCH)]


async def drive(url: str, credential: str, bodies: list[bytes]) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {credential}", "content-type": "application/json"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    sent = 0
    deadline = time.perf_counter() + SECONDS
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits
    ) as client:

        async def worker() -> None:
            nonlocal sent
            while time.perf_counter() < deadline and not queue.empty():
                body = queue.get_nowait()
                reply = await client.post("/api/v1/ingest", content=body)
                reply.raise_for_status()
                sent += reply.json()["samples"]

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return sent, time.perf_counter() - t0


def _commander_pid() -> int:
    """The `rigwatch serve` child of this process."""
    for child in psutil.Process().children(recursive=True):
        if "rigwatch.cli" in child.cmdline():
            return child.pid
    raise RuntimeError("no commander process found")


def _cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def http_rate(
    tmp: Path,
    batches: list[list[dict[str, object]]],
    py_spy: tuple[str, Path] | None = None,
    cpu: bool = False,
) -> float:
    data_dir = tmp / "commander"
    with commander_process(data_dir) as url:
        engine = create_engine(f"sqlite:///{data_dir / 'rigwatch.db'}")
        with engine.begin() as conn:
            _id, token = store_auth.create_sentry(conn, "bench")
            found = store_auth.enroll(conn, token)
        engine.dispose()
        assert found is not None
        bodies = [orjson.dumps({"seq": i + 1, "samples": b}) for i, b in enumerate(batches)]
        # Warm up: first sight of every miner inserts the miners rows.
        asyncio.run(drive(url, found[2], bodies[:4]))
        pid = _commander_pid()
        spy = None
        if py_spy is not None:
            binary, out = py_spy
            command = [binary, "record", "--pid", str(pid), "--threads", "--rate", "250"]
            command += ["--duration", str(int(SECONDS)), "--format", "raw", "-o", str(out)]
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            time.sleep(1.0)  # let it attach before the timed part starts
        before = (_cpu_s(pid), time.process_time())
        sent, elapsed = asyncio.run(drive(url, found[2], bodies[4:]))
        if cpu:
            server_cpu = _cpu_s(pid) - before[0]
            client_cpu = time.process_time() - before[1]
            print(
                f"cpu during the timed part ({elapsed:.1f} s): commander {server_cpu:.1f} s "
                f"({server_cpu / max(sent, 1) * 1e6:.1f} µs per sample), "
                f"load generator {client_cpu:.1f} s"
            )
        if spy is not None:
            spy.wait(timeout=60)
            print(f"py-spy: collapsed stacks of the commander in {out}")
    return sent / elapsed


def raw_rate(tmp: Path, batches: list[list[dict[str, object]]]) -> float:
    db = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE samples (ts INTEGER, miner_id INTEGER, hashrate_hs REAL,"
        " hashrate_expected_hs REAL, temp_c REAL, temp_max_c REAL, chip_temp_c REAL,"
        " fans_rpm TEXT, power_w REAL, accepted INTEGER, rejected INTEGER, stale INTEGER,"
        " uptime_s INTEGER, pool_url TEXT,"
        " PRIMARY KEY (ts, miner_id)) WITHOUT ROWID"
    )
    rows_per_batch = [
        [
            (
                int(datetime.fromisoformat(str(s["ts"])).timestamp() * 1e6),
                int(str(s["miner"]["key"])[-5:]),  # type: ignore[index]
                s["hashrate_hs"],
                s["hashrate_expected_hs"],
                s["temp_c"],
                s["temp_max_c"],
                None,
                orjson.dumps(s["fans_rpm"]).decode(),
                s["power_w"],
                s["accepted"],
                s["rejected"],
                None,
                s["uptime_s"],
                s["pool_url"],
            )
            for s in b
        ]
        for b in batches
    ]
    t0 = time.perf_counter()
    n = 0
    for rows in rows_per_batch:
        db.execute("BEGIN")
        db.executemany("INSERT INTO samples VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.execute("COMMIT")
        n += len(rows)
    elapsed = time.perf_counter() - t0
    db.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--py-spy", type=Path, metavar="FILE", help="profile the commander")
    parser.add_argument("--py-spy-bin", default="py-spy", metavar="PATH")
    parser.add_argument("--cpu", action="store_true", help="print CPU time used per side")
    args = parser.parse_args()
    py_spy = None
    if args.py_spy is not None:
        binary = shutil.which(args.py_spy_bin)
        if binary is None:
            parser.error(f"py-spy not found: {args.py_spy_bin}")
        py_spy = (binary, args.py_spy.resolve())
    batches = make_samples(datetime.now(UTC) - timedelta(days=1), 600)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rate = http_rate(tmp, batches, py_spy, args.cpu)
        bound = raw_rate(tmp, batches)
    report(
        "ingest through POST /api/v1/ingest (SQLite)",
        rate,
        "samples/s",
        bound,
        "raw sqlite3 executemany bound",
    )
    met = rate >= 20_000 and rate >= 0.25 * bound
    print(f"target: >= 20,000 samples/s and >= 25% of the bound -> {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
