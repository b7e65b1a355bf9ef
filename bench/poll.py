"""One poll sweep of 1,000 simulated ASICs by the sentry, beside plain pyasic `get_data()`.

Three processes, so each figure belongs to one program:

- the fleet: 1,000 simulated ASICs (`rigwatch.sim.Fleet`) on 127.0.100.1 onwards, in a
  process of its own, so the simulators' CPU and memory are not the sentry's;
- the sentry: identifies every miner once through `rigwatch.sentry.discovery.discover`
  (pyasic `get_miner`, as the real sentry does), then times SWEEPS sweeps with
  `rigwatch.sentry.sweep.poll_sweep` at the sentry's default concurrency and deadline;
- the baseline: a fresh process that gets the same miners with plain
  `asyncio.gather(*(pyasic.get_miner(ip) ...))` and times SWEEPS rounds of plain
  `asyncio.gather(*(m.get_data() for m in miners))`.

Memory: the headline figure of each worker is its RSS high-water mark
(`getrusage(RUSAGE_SELF).ru_maxrss`) over its whole life (interpreter, imports, pyasic
identification and the sweeps), which is what a sentry host must have. Beside it: the RSS
before the timed sweeps, and the tracemalloc peak of one extra, untimed sweep (Python
heap only; tracemalloc slows Python down, so it is never on while timing).

Both workers run the default asyncio event loop (the sentry does not install uvloop);
`--uvloop` runs both on uvloop instead. Loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import multiprocessing as mp
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from typing import Any, TypeVar

MINERS = 1000
SWEEPS = 3
BASE = "127.0.100.1"
FLEET_LIFETIME_S = 900.0  # the fleet process stops by itself after this, whatever happens
WORKER_LIMIT_S = 600.0  # a worker that has not answered by then is killed
IDENTIFY_BOUND = 256  # the sentry's default concurrency (SentryConfig.concurrency)
IDENTIFY_PASSES = 3
TARGET_SWEEP_S = 10.0
TARGET_MB = 200.0

T = TypeVar("T")
Result = dict[str, Any]


# ---- helpers shared by the processes --------------------------------------------------


def _quiet() -> None:
    """pyasic 0.79.0 emits pydantic DeprecationWarnings on import and logs per-miner noise."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.basicConfig(level=logging.ERROR)


def _raise_fd_limit(wanted: int = 16_384) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _maxrss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _run(main: Coroutine[Any, Any, T], use_uvloop: bool) -> T:
    if use_uvloop:
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


async def _timed_rounds(
    one_round: Callable[[], Awaitable[tuple[int, Counter[str]]]], rounds: int
) -> tuple[list[float], list[int], Counter[str], float, float]:
    """Time `rounds` rounds, then one untimed round under tracemalloc.

    Returns (seconds per round, successes per round, failures by kind over the timed
    rounds, RSS before the rounds in MB, tracemalloc peak of the extra round in MB).
    """
    gc.collect()
    rss_before = _rss_mb()
    seconds: list[float] = []
    oks: list[int] = []
    failures: Counter[str] = Counter()
    for _ in range(rounds):
        t0 = time.perf_counter()
        ok, failed = await one_round()
        seconds.append(time.perf_counter() - t0)
        oks.append(ok)
        failures.update(failed)
    gc.collect()
    tracemalloc.start()
    try:
        await one_round()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, oks, failures, rss_before, peak / 2**20


# ---- the fleet process ------------------------------------------------------------------


def fleet_process(
    miners: int, base: str, ready: Connection, stop: MpEvent, use_uvloop: bool
) -> None:
    """Run the simulated fleet until `stop` is set (or FLEET_LIFETIME_S passes)."""
    _quiet()
    from rigwatch.sim import Fleet, FleetSpec

    async def serve() -> None:
        spec = FleetSpec.mix(miners, 0, base=base, seed=1)
        try:
            async with Fleet(spec) as fleet:
                ready.send(("ready", fleet.ips))
                # Serve until told to stop, or until FLEET_LIFETIME_S whatever happens.
                await asyncio.to_thread(stop.wait, FLEET_LIFETIME_S)
        except Exception as exc:
            ready.send(("error", repr(exc)))
            raise

    _run(serve(), use_uvloop)


# ---- the sentry process -----------------------------------------------------------------


def sentry_process(ips: list[str], sweeps: int, out: Connection, use_uvloop: bool) -> None:
    _quiet()
    _raise_fd_limit()
    import httpx

    from rigwatch.sentry.config import SentryConfig
    from rigwatch.sentry.discovery import discover
    from rigwatch.sentry.sweep import poll_sweep
    from rigwatch.sentry.targets import Target

    defaults = {f.name: f.default for f in dataclasses.fields(SentryConfig)}
    concurrency: int = defaults["concurrency"]
    deadline_s: float = defaults["deadline_s"]

    async def main() -> Result:
        size = min(concurrency, 128)  # as rigwatch.sentry.agent.miner_http_client
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(deadline_s),
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        ) as http:
            t0 = time.perf_counter()
            found = await discover(
                [Target(ip) for ip in ips],
                concurrency=concurrency,
                deadline_s=deadline_s,
                poller="auto",
                http_client=http,
                poll_timeout_s=deadline_s,
            )
            identify_s = time.perf_counter() - t0
            pollers = [p for _t, p in found]
            kinds = Counter(type(p).__name__ for p in pollers)

            async def one_sweep() -> tuple[int, Counter[str]]:
                outcomes = await poll_sweep(pollers, concurrency, deadline_s)
                failed = Counter(
                    f"{type(o.error).__name__}: {o.error}"[:160] for o in outcomes if not o.ok
                )
                return sum(o.ok for o in outcomes), failed

            seconds, oks, failures, rss_before, traced = await _timed_rounds(one_sweep, sweeps)
        return {
            "identified": len(pollers),
            "identify_s": identify_s,
            "pollers": dict(kinds),
            "concurrency": concurrency,
            "deadline_s": deadline_s,
            "seconds": seconds,
            "oks": oks,
            "failures": failures.most_common(10),
            "rss_before_mb": rss_before,
            "traced_peak_mb": traced,
            "maxrss_mb": _maxrss_mb(),
        }

    _send_result(out, lambda: _run(main(), use_uvloop))


# ---- the baseline process ---------------------------------------------------------------


def baseline_process(
    ips: list[str], sweeps: int, out: Connection, use_uvloop: bool, plain_identify: bool
) -> None:
    _quiet()
    _raise_fd_limit()
    import pyasic

    async def main() -> Result:
        # Identification is not what is compared, but the baseline needs miner objects:
        # get_miner() at most IDENTIFY_BOUND at a time (the sentry's default concurrency),
        # with up to IDENTIFY_PASSES passes over the addresses pyasic gave up on, so the
        # baseline polls the same 1,000 miners. With --plain-identify, one plain gather of
        # every get_miner() at once comes first (its count is reported).
        found: dict[str, Any] = {}
        notes: list[str] = []
        t0 = time.perf_counter()
        if plain_identify:
            got = await asyncio.gather(
                *(pyasic.get_miner(ip) for ip in ips), return_exceptions=True
            )
            for ip, m in zip(ips, got, strict=True):
                if m is not None and not isinstance(m, BaseException):
                    found[ip] = m
            notes.append(
                f"plain gather of {len(ips)} get_miner(): {len(found)} identified "
                f"in {time.perf_counter() - t0:.1f} s"
            )
        sem = asyncio.Semaphore(IDENTIFY_BOUND)

        async def bounded(ip: str) -> Any:
            async with sem:
                return await pyasic.get_miner(ip)

        for n in range(1, IDENTIFY_PASSES + 1):
            rest = [ip for ip in ips if ip not in found]
            if not rest:
                break
            t1 = time.perf_counter()
            again = await asyncio.gather(*(bounded(ip) for ip in rest), return_exceptions=True)
            before = len(found)
            for ip, m in zip(rest, again, strict=True):
                if m is not None and not isinstance(m, BaseException):
                    found[ip] = m
            notes.append(
                f"pass {n}, {len(rest)} get_miner() at most {IDENTIFY_BOUND} at a time: "
                f"{len(found) - before} identified in {time.perf_counter() - t1:.1f} s"
            )
        identify_s = time.perf_counter() - t0
        miners = [found[ip] for ip in ips if ip in found]
        kinds = Counter(type(m).__name__ for m in miners)

        async def one_round() -> tuple[int, Counter[str]]:
            data = await asyncio.gather(*(m.get_data() for m in miners), return_exceptions=True)
            failed: Counter[str] = Counter()
            ok = 0
            for d in data:
                if isinstance(d, BaseException):
                    failed[f"{type(d).__name__}: {d}"[:160]] += 1
                elif getattr(d, "hashrate", None) is None:
                    # pyasic swallows errors; a MinerData with no hashrate read nothing useful.
                    failed["MinerData without hashrate"] += 1
                else:
                    ok += 1
            return ok, failed

        seconds, oks, failures, rss_before, traced = await _timed_rounds(one_round, sweeps)
        return {
            "identified": len(miners),
            "identify_s": identify_s,
            "identify_note": "; ".join(notes),
            "pollers": dict(kinds.most_common(8)),
            "seconds": seconds,
            "oks": oks,
            "failures": failures.most_common(10),
            "rss_before_mb": rss_before,
            "traced_peak_mb": traced,
            "maxrss_mb": _maxrss_mb(),
        }

    _send_result(out, lambda: _run(main(), use_uvloop))


def _send_result(out: Connection, work: Callable[[], Result]) -> None:
    try:
        result = work()
    except BaseException as exc:
        out.send({"error": repr(exc)})
        raise
    out.send(result)


# ---- the orchestrator -------------------------------------------------------------------


def _stop_process(proc: mp.process.BaseProcess) -> None:
    proc.join(timeout=15)
    if proc.is_alive():
        proc.terminate()
        proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join(timeout=5)


def _worker(
    ctx: mp.context.SpawnContext,
    target: Callable[..., None],
    ips: list[str],
    sweeps: int,
    *extra: object,
) -> Result:
    """Run `target(ips, sweeps, pipe, *extra)` in a fresh process and return what it sends."""
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(ips, sweeps, send, *extra), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(WORKER_LIMIT_S):
            raise RuntimeError(f"{target.__name__} gave no result within {WORKER_LIMIT_S} s")
        result: Result = receive.recv()
    except EOFError:
        raise RuntimeError(f"{target.__name__} died (exit code {proc.exitcode})") from None
    finally:
        _stop_process(proc)
        receive.close()
    if "error" in result:
        raise RuntimeError(f"{target.__name__} failed: {result['error']}")
    return result


def _print_worker(title: str, r: Result, miners: int) -> None:
    secs = r["seconds"]
    print(f"{title}")
    print(
        f"  identified {r['identified']}/{miners} in {r['identify_s']:.1f} s "
        f"({', '.join(f'{k} {v}' for k, v in r['pollers'].items())})"
    )
    if "identify_note" in r:
        print(f"  ({r['identify_note']})")
    print(
        f"  seconds per sweep: median {statistics.median(secs):.2f} "
        f"(runs: {', '.join(f'{s:.2f}' for s in secs)})"
    )
    print(f"  samples per sweep: {', '.join(str(n) for n in r['oks'])} (of {r['identified']})")
    for what, n in r["failures"]:
        print(f"  failed x{n}: {what}")
    print(
        f"  peak RSS (ru_maxrss, whole process): {r['maxrss_mb']:.0f} MB; "
        f"RSS before sweeps {r['rss_before_mb']:.0f} MB; "
        f"tracemalloc peak of one extra sweep {r['traced_peak_mb']:.1f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.poll", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--miners", type=int, default=MINERS)
    parser.add_argument("--sweeps", type=int, default=SWEEPS)
    parser.add_argument("--base", default=BASE, help="first loopback address of the fleet")
    parser.add_argument("--uvloop", action="store_true", help="run every process on uvloop")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--plain-identify",
        action="store_true",
        help="baseline: try one unbounded gather of every get_miner() before the bounded passes",
    )
    args = parser.parse_args(argv)
    if not args.base.startswith("127."):
        parser.error("the fleet runs on loopback (127.x.y.z) addresses only")
    if not 1 <= args.sweeps <= 20 or not 1 <= args.miners <= 5000:
        parser.error("1..20 sweeps of 1..5000 miners")

    ctx = mp.get_context("spawn")
    ready_r, ready_w = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    fleet = ctx.Process(
        target=fleet_process,
        args=(args.miners, args.base, ready_w, stop, args.uvloop),
        daemon=True,
    )
    t0 = time.perf_counter()
    fleet.start()
    ready_w.close()
    try:
        if not ready_r.poll(120):
            raise RuntimeError("the simulated fleet did not start within 120 s")
        status, payload = ready_r.recv()
        if status != "ready":
            raise RuntimeError(f"the simulated fleet failed to start: {payload}")
        ips: list[str] = payload
        print(
            f"fleet: {len(ips)} simulated ASICs on {ips[0]}..{ips[-1]} in their own process, "
            f"up in {time.perf_counter() - t0:.1f} s; "
            f"loop: {'uvloop' if args.uvloop else 'asyncio'}"
        )
        sentry = _worker(ctx, sentry_process, ips, args.sweeps, args.uvloop)
        _print_worker(
            f"sentry (discover via pyasic, then poll_sweep, concurrency {sentry['concurrency']}, "
            f"deadline {sentry['deadline_s']} s)",
            sentry,
            len(ips),
        )
        baseline = None
        if not args.no_baseline:
            baseline = _worker(
                ctx, baseline_process, ips, args.sweeps, args.uvloop, args.plain_identify
            )
            _print_worker(
                "baseline (plain asyncio.gather of pyasic get_data())", baseline, len(ips)
            )
    finally:
        stop.set()
        _stop_process(fleet)
        ready_r.close()

    sweep_s = statistics.median(sentry["seconds"])
    peak = sentry["maxrss_mb"]
    complete = min(sentry["oks"]) == len(ips)
    print()
    print(f"sentry: {sweep_s:.2f} s per sweep, peak {peak:.0f} MB")
    met_time = sweep_s <= TARGET_SWEEP_S
    met_mem = peak < TARGET_MB
    verdicts = [
        f"<= {TARGET_SWEEP_S:.0f} s per sweep: {'met' if met_time else 'NOT met'}",
        f"< {TARGET_MB:.0f} MB: {'met' if met_mem else 'NOT met'}",
        f"every miner sampled in every sweep: {'yes' if complete else 'NO'}",
    ]
    if baseline is not None:
        base_s = statistics.median(baseline["seconds"])
        ratio = sweep_s / base_s
        print(f"baseline: {base_s:.2f} s per sweep, peak {baseline['maxrss_mb']:.0f} MB")
        print(f"ratio (sentry time / baseline time): {ratio:.3f} ({1 / ratio:.1f}x faster)")
        verdicts.append(f"faster than plain pyasic: {'met' if ratio < 1 else 'NOT met'}")
    for v in verdicts:
        print(f"target {v}")
    if not (met_time and met_mem and complete):
        sys.exit(1)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
