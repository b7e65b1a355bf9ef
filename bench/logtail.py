"""Lines per second through the P2Pool log tailer, beside reading the same file line by line.

The log is 1,000,000 lines from the P2Pool simulator with a real node's mix: mostly
noise (peer, chain tip, new job lines), a share every ~3 minutes, a status block every
10 minutes, a block found by the pool every ~2 hours. The tailer figure is
`P2PoolLogTailer.read_new` + `commit` (state file written and fsynced per chunk) until
the whole file is read; the bound is a plain `for line in f` over the same file opened
in binary mode (no decoding, no parsing). Each is timed REPEATS times, alternating, and
the best run of each is kept, so page-cache warm-up favours neither.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import report
from rigwatch.protocols.p2pool_log import LineCounts
from rigwatch.sentry.pollers.p2pool import P2PoolLogTailer
from rigwatch.sim.p2pool_log import P2PoolLogSim, P2PoolSimConfig

LINES = 1_000_000
REPEATS = 3
TARGET_LINES_S = 200_000
TARGET_SHARE = 0.20

NODE = P2PoolSimConfig(
    share_interval_s=180.0,
    pool_block_interval_s=7200.0,
    status_interval_s=600.0,
    noise_interval_s=1.0,
    rotate_every_lines=0,
)


def make_log(path: Path, lines: int) -> None:
    sim = P2PoolLogSim(seed=7, config=NODE)
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < lines:
            batch = sim.advance(600.0)[: lines - written]
            f.write("\n".join(batch) + "\n")
            written += len(batch)


def tail_once(path: Path, state_dir: Path) -> tuple[float, LineCounts, int]:
    tailer = P2PoolLogTailer(path, state_dir, name=f"bench-{time.monotonic_ns()}")
    events = 0
    t0 = time.perf_counter()
    while True:
        chunk = tailer.read_new()
        events += len(chunk.events)
        tailer.commit(chunk)
        if not chunk.more:
            break
    elapsed = time.perf_counter() - t0
    tailer.close()
    return elapsed, tailer.counts, events


def bound_once(path: Path) -> tuple[float, int]:
    n = 0
    t0 = time.perf_counter()
    with path.open("rb") as f:
        for _line in f:
            n += 1
    return time.perf_counter() - t0, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=LINES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        log = tmp / "p2pool.log"
        t0 = time.perf_counter()
        make_log(log, args.lines)
        size = log.stat().st_size
        made = time.perf_counter() - t0
        print(f"log: {args.lines:,} lines, {size / 1e6:.1f} MB, made in {made:.1f} s")
        tail_times: list[float] = []
        bound_times: list[float] = []
        counts = LineCounts()
        events = 0
        bound_lines = 0
        for _ in range(REPEATS):
            elapsed, counts, events = tail_once(log, tmp / "state")
            tail_times.append(elapsed)
            elapsed, bound_lines = bound_once(log)
            bound_times.append(elapsed)
    assert counts.lines == bound_lines == args.lines, (counts.lines, bound_lines)
    print(
        f"tailer found {events:,} events and {counts.readings:,} hashrate readings; "
        f"{counts.syncing:,} syncing shares ignored, {counts.malformed:,} malformed, "
        f"{counts.unknown:,} other lines"
    )
    print("tailer runs (s): " + " / ".join(f"{t:.3f}" for t in tail_times))
    print("bound runs (s): " + " / ".join(f"{t:.3f}" for t in bound_times))
    rate = args.lines / min(tail_times)
    bound = args.lines / min(bound_times)
    report(
        "P2Pool log tailer (read_new + commit)",
        rate,
        "lines/s",
        bound,
        "plain `for line in f` (binary) bound",
    )
    met = rate >= TARGET_LINES_S and rate >= TARGET_SHARE * bound
    print(
        f"target: >= {TARGET_LINES_S:,} lines/s and >= {TARGET_SHARE:.0%} of the bound -> "
        f"{'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
