"""Alert evaluation of 10,000 miners on SQLite, beside a naive per-miner query loop.

A migrated temporary SQLite file gets 4 sites and sentries, 10,000 miners with their
`miner_state` rows (3 hashboards, 4 fans, a pool each, as ingest writes them) and
`--rollup-hours` (default 6) of 5-minute rollup rows per miner (generated in SQL), with
some miners faulty: hot, a stopped fan, a missing board, low hashrate over the hour, many
rejected shares, hung (hashing, no accepted shares for 30 minutes), offline. The default
rules of migration 0009 apply.

Timed, with the real `commander.alert_eval.evaluate` in its own transaction each time:
- cold: the first evaluation, which opens the alerts and writes their events (once);
- steady: `--runs` (default 7) more evaluations a second apart (nothing changes: every
  open alert is still open), median and all runs; the target (< 1 s) is held against it;
- baseline, in the same run: the same inputs read the naive way, two queries per miner
  (its state, its rollup window) then the same pure evaluation, median of `--baseline-runs`.
Printed: the ratio steady / baseline, the split of one steady run (read, evaluate, write),
the query plan of the rollup read (one primary-key range per miner), and peak RSS.

Exit status 1 when the steady median is 1 s or more. Run: `python -m bench.alerts`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.alert_eval import evaluate
from rigwatch.domain import alerts as domain
from rigwatch.store import alerts as store
from rigwatch.store import auth as store_auth
from rigwatch.store import jsontext
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.tables import miner_state, miners, rollup_5m, sentries
from rigwatch.store.timestamps import from_us_opt, to_us

NOW = datetime(2026, 12, 1, 12, 0, 7, tzinfo=UTC)
SITES = 4
TARGET_S = 1.0
TH = 1e12

# Faults by miner id modulo 1000 (so 10,000 miners have ten of each per residue):
HOT = range(0, 10)  # 1 %: hottest sensor 101 °C
FAN = range(10, 15)  # 0.5 %: a fan at 0 rpm
BOARD = range(15, 20)  # 0.5 %: hashboard missing
SLOW = range(20, 30)  # 1 %: 60 % of expected over the hour
REJECTS = range(30, 35)  # 0.5 %: 10 % rejected
HUNG = range(35, 40)  # 0.5 %: no accepted share in the last 30 minutes
OFFLINE = range(40, 50)  # 1 %: last sample 10 minutes ago


def _fault(miner_id: int, kind: range) -> bool:
    return miner_id % 1000 in kind


def _state(miner_id: int, now_us: int) -> tuple[Any, ...]:
    hot = _fault(miner_id, HOT)
    boards = [
        {
            "index": i,
            "hashrate_hs": 0.0 if _fault(miner_id, BOARD) and i == 2 else 33 * TH,
            "temp_c": 62.0,
            "chip_temp_c": 101.0 if hot else 70.0,
            "chips": 0 if _fault(miner_id, BOARD) and i == 2 else 76,
            "chips_expected": 76,
            "missing": _fault(miner_id, BOARD) and i == 2,
        }
        for i in range(3)
    ]
    fans = [5400, 5460, 0 if _fault(miner_id, FAN) else 5520, 5580]
    pools = [
        {
            "url": "stratum+tcp://pool.example:3333",
            "user": f"acct.m{miner_id}",
            "active": True,
            "alive": True,
            "accepted": 100000,
            "rejected": 10,
            "stale": 0,
        }
    ]
    last = now_us - (600_000_000 if _fault(miner_id, OFFLINE) else 15_000_000)
    return (
        miner_id,
        last,
        last,
        "online",
        "[]",
        100 * TH,
        100 * TH,
        62.0,
        101.0 if hot else 75.0,
        101.0 if hot else 70.0,
        json.dumps(fans),
        3250.0,
        100000,
        10,
        0,
        86400,
        "stratum+tcp://pool.example:3333",
        f"acct.m{miner_id}",
        "[]",
        json.dumps(boards),
        json.dumps(pools),
        "SHA256",
        "[]",
    )


_ROLLUPS = """
INSERT INTO rollup_5m (miner_id, bucket, samples, up_s, hashrate_min, hashrate_mean,
  hashrate_max, expected_mean, temp_min, temp_mean, temp_max, power_min, power_mean,
  power_max, accepted, rejected, stale)
WITH RECURSIVE k(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM k WHERE id < :miners),
 i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < :buckets - 1),
 g AS (
   SELECT k.id AS m, i.n AS n,
     CASE WHEN k.id % 1000 BETWEEN 20 AND 29 THEN 6e13 ELSE 1e14 END AS v,
     CASE WHEN k.id % 1000 BETWEEN 35 AND 39 AND i.n >= :buckets - 6 THEN 0 ELSE 50 END AS acc,
     CASE WHEN k.id % 1000 BETWEEN 30 AND 34 THEN 6 ELSE 0 END AS rej
   FROM k CROSS JOIN i
 )
SELECT m, :start + n * 300000000, 10, 300.0, v * 0.97, v, v * 1.03, 1e14,
  60.0, 62.0, 66.0, 3200.0, 3250.0, 3300.0, acc, rej, 0
FROM g WHERE true
"""


def setup(db: Path, count: int, rollup_hours: float) -> Engine:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    now_us = to_us(NOW)
    with engine.begin() as conn:
        for site in range(SITES):
            store_auth.create_sentry(conn, f"sentry-{site}", site=f"site-{site}")
        conn.execute(sentries.update().values(enrolled_at=now_us - 86400_000_000))
        conn.execute(sentries.update().values(last_seen_at=now_us - 5_000_000))
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.executemany(
            "INSERT INTO miners (id, sentry_id, key, kind, hostname, worker, tags, first_seen) "
            "VALUES (?, ?, ?, 'asic', ?, ?, ?, 0)",
            [
                (
                    m,
                    1 + m % SITES,
                    f"aa:bb:{m:08x}",
                    f"rack{m % 40}-{m}",
                    f"acct.m{m}",
                    '["hot-aisle"]' if m % 10 == 0 else "[]",
                )
                for m in range(1, count + 1)
            ],
        )
        con.executemany(
            f"INSERT INTO miner_state ({', '.join(miner_state.c.keys())}) "  # noqa: S608 - ours
            f"VALUES ({', '.join('?' * len(miner_state.c))})",
            [_state(m, now_us) for m in range(1, count + 1)],
        )
        buckets = int(rollup_hours * 12)
        start = (now_us // 300_000_000) * 300_000_000 - (buckets - 1) * 300_000_000
        con.execute(_ROLLUPS, {"miners": count, "buckets": buckets, "start": start})
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return engine


def naive_inputs(conn: Connection, now: datetime, rules: list[domain.Rule]) -> domain.Inputs:
    """The obvious way: the miners, then per miner its state and its rollup window."""
    window = 3600
    since = to_us(now) - window * 1_000_000
    facts = []
    ids = conn.execute(
        select(miners.c.id, miners.c.key, miners.c.hostname, miners.c.tags, sentries.c.site_id)
        .join(sentries, sentries.c.id == miners.c.sentry_id)
        .where(sentries.c.revoked_at.is_(None))
    ).all()
    for row in ids:
        mid, key, hostname, tags, site_id = row.id, row.key, row.hostname, row.tags, row.site_id
        s = conn.execute(select(miner_state).where(miner_state.c.miner_id == mid)).one_or_none()
        rows = conn.execute(
            select(rollup_5m).where(rollup_5m.c.miner_id == mid, rollup_5m.c.bucket >= since)
        ).all()
        n = sum(r.samples for r in rows if r.hashrate_mean is not None)
        acc = [r.accepted for r in rows if r.accepted is not None]
        rej = [r.rejected for r in rows if r.rejected is not None]
        last_acc = max((r.bucket for r in rows if (r.accepted or 0) > 0), default=None)
        first = min((r.bucket for r in rows if r.accepted is not None), default=None)
        boards = tuple(
            domain.Board(b["index"], b["missing"], b["chips"], b["chips_expected"])
            for b in jsontext.loads(s.hashboards if s else "[]")
        )
        facts.append(
            domain.MinerFacts(
                id=mid,
                name=hostname or key,
                sentry_id=0,
                site_id=site_id,
                tags=tuple(jsontext.loads(tags)),
                worker=s.pool_user if s else None,
                last_seen=from_us_opt(s.last_sample_ts if s else None),
                hashrate_hs=s.hashrate_hs if s else None,
                temp_c=s.temp_c if s else None,
                temp_max_c=s.temp_max_c if s else None,
                chip_temp_c=s.chip_temp_c if s else None,
                fans_rpm=tuple(jsontext.loads(s.fans_rpm)) if s else (),
                boards=boards,
                pool_url=s.pool_url if s else None,
                windows={
                    window: domain.Window(
                        hashrate_mean=sum(r.hashrate_mean * r.samples for r in rows) / n
                        if n
                        else None,
                        expected_mean=sum(r.expected_mean * r.samples for r in rows) / n
                        if n
                        else None,
                        accepted=sum(acc) if acc else None,
                        rejected=sum(rej) if rej else None,
                        covered_s=sum(r.up_s for r in rows),
                    )
                },
                last_accepted_bucket=from_us_opt(last_acc),
                first_bucket=from_us_opt(first),
            )
        )
    return domain.Inputs(rules=rules, miners=facts, failing_jobs=(), offline_after_s=120.0)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def _evaluate(engine: Engine, now: datetime) -> Any:
    with engine.begin() as conn:
        return evaluate(conn, now, failing_jobs=[], offline_after_s=120.0)


def _split(engine: Engine, now: datetime) -> dict[str, float]:
    """One steady evaluation, phase by phase (the same calls `evaluate` makes)."""
    out: dict[str, float] = {}
    with engine.begin() as conn:
        began = time.perf_counter()
        rules = store.load_rules(conn)
        inputs = store.load_inputs(conn, now, rules, offline_after_s=120.0)
        open_alerts = store.load_open_alerts(conn)
        silences = store.load_silences(conn, now)
        out["read"] = time.perf_counter() - began
        began = time.perf_counter()
        outcome = domain.evaluate(inputs, open_alerts, silences, now)
        out["evaluate"] = time.perf_counter() - began
        began = time.perf_counter()
        store.write_outcome(conn, outcome, now)
        out["write"] = time.perf_counter() - began
    return out


def _naive(engine: Engine, now: datetime) -> Any:
    with engine.begin() as conn:
        rules = store.load_rules(conn)
        inputs = naive_inputs(conn, now, rules)
        return domain.evaluate(inputs, store.load_open_alerts(conn), [], now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--miners", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--rollup-hours", type=float, default=6.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rigwatch-bench-alerts-") as tmp:
        db = Path(tmp) / "alerts.db"
        took, engine = _timed(lambda: setup(db, args.miners, args.rollup_hours))
        try:
            print(
                f"store: {args.miners:,} miners with state, {args.rollup_hours:g} h of 5-minute "
                f"rollups ({args.miners * int(args.rollup_hours * 12):,} rows), "
                f"{db.stat().st_size / 1e6:.0f} MB, built in {took:.1f} s"
            )
            cold, report = _timed(lambda: _evaluate(engine, NOW))
            print(
                f"cold (first) evaluation: {cold * 1e3:.0f} ms; {report.observed:,} checks, "
                f"{report.created} alerts opened, {report.fired} fired "
                f"({len(report.event_ids)} events); open: {report.open}"
            )
            steady = []
            cpu = []
            for i in range(args.runs):
                began, began_cpu = time.perf_counter(), time.process_time()
                rep = _evaluate(engine, NOW + timedelta(seconds=1 + i))
                steady.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
                if rep.changed:
                    raise RuntimeError(f"the steady state changed alerts: {rep}")
            median = statistics.median(steady)
            split = _split(engine, NOW + timedelta(seconds=args.runs + 1))
            base = []
            for i in range(args.baseline_runs):
                began = time.perf_counter()
                _naive(engine, NOW + timedelta(seconds=1 + i))
                base.append(time.perf_counter() - began)
            base_median = statistics.median(base)
            with engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT r.miner_id, sum(r.samples) FROM rollup_5m AS r "
                    "WHERE r.miner_id IN (SELECT id FROM miners) AND r.bucket >= 0 "
                    "GROUP BY r.miner_id"
                ).all()
        finally:
            engine.dispose()
    verdict = "met" if median < TARGET_S else "NOT met"
    print(
        f"steady evaluation, median of {args.runs}: {median * 1e3:.0f} ms "
        f"(runs: {', '.join(f'{t * 1e3:.0f}' for t in steady)} ms; target < "
        f"{TARGET_S * 1e3:.0f} ms: {verdict}); CPU time of this process, median "
        f"{statistics.median(cpu) * 1e3:.0f} ms"
    )
    print(
        "  one steady run: "
        + ", ".join(f"{name} {secs * 1e3:.0f} ms" for name, secs in split.items())
    )
    print(
        f"baseline (naive: 2 queries per miner, same evaluation), median of "
        f"{args.baseline_runs}: {base_median * 1e3:.0f} ms "
        f"(runs: {', '.join(f'{t * 1e3:.0f}' for t in base)} ms)"
    )
    print(
        f"ratio steady / baseline: {median / base_median:.3f} ({base_median / median:.1f}x faster)"
    )
    print("rollup read plan: " + " | ".join(str(row[-1]) for row in plan))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
