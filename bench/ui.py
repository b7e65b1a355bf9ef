"""The farm overview in Chromium with 10,000 miners: time to the miners being drawn and
bytes transferred, beside the same page with 100 miners measured in the same run.

For each farm size a fresh SQLite store is filled through the store (`write_batches`:
4 sites, racks of 100, a few miners warning, hot or offline, some tagged), and a
commander serves it from its own process (`create_app(settings, jobs=[])`, external sync
off). Headless Chromium (Debian's, driven by Playwright with the e2e tests' flags) then
loads the overview `--runs` times per view, each time in a fresh browser context (cold
cache, signed in by a session cookie made in the store):

- table view (the default: 200 rows per page) and grid view (`/?view=grid`: one cell
  per miner, all of them);
- time: `performance.now()` when the page marks `#miners[data-ready]`, which overview.js
  sets once the rows or cells have been painted (counted from navigation start);
- bytes: the sum over every finished response of its encoded body and headers
  (Playwright `request.sizes()`), once no new request has started for 0.5 s; the live
  stream (SSE) never finishes and is not counted.

Targets for 10,000 miners: under 1 s and under 500 KB (median), both views. Exit status
1 if missed. Run: `python -m bench.ui` (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bench.common import free_port, served_process
from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.models import Hashboard, MinerIdentity, MinerKind, Role, Sample
from rigwatch.store import auth as store_auth
from rigwatch.store import fleet as store_fleet
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.ingest import write_batches
from rigwatch.store.tables import miners

CHROMIUM = "/usr/bin/chromium"
# As tests/e2e/conftest.py: headless, and off the network.
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SITES = ("north", "south", "east", "west")
RACK = 100
MODELS = (("AntMiner", "S19 Pro", 110e12, 3250.0), ("AntMiner", "S21", 200e12, 3500.0))
TARGET_MS = 1000.0
TARGET_BYTES = 500 * 1024
SESSION_COOKIE = "rigwatch_session"


def fill(db: Path, count: int) -> tuple[str, float]:
    """A store with `count` miners; the session secret of a signed-in viewer and the
    seconds the fill took."""
    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        sentry_ids = [
            store_auth.create_sentry(conn, f"sentry-{site}", site=site)[0] for site in SITES
        ]
        per_site: list[list[Reading]] = [[] for _ in SITES]
        for i in range(count):
            s = i % len(SITES)
            make, model, rated, watts = MODELS[i % len(MODELS)]
            hashrate = rated * (0.97 + (i % 7) / 100)
            temp = 58.0 + (i % 17)
            ts = now - timedelta(seconds=i % 30)
            if i % 100 == 7:  # 1 %: silent for an hour
                ts = now - timedelta(hours=1)
            if i % 50 == 3:  # 2 %: hashing at 60 %
                hashrate = rated * 0.6
            if i % 100 == 11:  # 1 %: too hot
                temp = 92.0
            n = i // len(SITES)
            identity = MinerIdentity(
                key=f"02:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}:{s:02x}",
                kind=MinerKind.ASIC,
                ip=f"10.{s}.{n // 250}.{n % 250 + 1}",
                hostname=f"{SITES[s]}-r{n // RACK + 1:02d}-{model.split()[0].lower()}-{n:05d}",
                make=make,
                model=model,
                worker=f"farm.{SITES[s]}{n:05d}",
            )
            sample = Sample(
                ts=ts,
                hashrate_hs=hashrate,
                hashrate_expected_hs=rated,
                temp_c=temp,
                temp_max_c=temp + 6,
                fans_rpm=(5400, 5400, 5460, 5460),
                power_w=watts,
                accepted=1000 + i,
                rejected=2,
                uptime_s=86400,
                pool_url="stratum+tcp://pool.example:3333",
                hashboards=tuple(Hashboard(index=b, hashrate_hs=hashrate / 3) for b in range(3)),
            )
            per_site[s].append(Reading(identity, sample))
        batches = [
            Batch(sentry_id=sid, seq=1, readings=tuple(readings))
            for sid, readings in zip(sentry_ids, per_site, strict=True)
        ]
        write_batches(conn, batches, now)
        found = conn.execute(select(miners.c.id, miners.c.hostname).order_by(miners.c.id)).all()
        ids = [row.id for row in found]
        for row in found:  # the rack its hostname names: north-r03-... -> R03
            rack = f"R{row.hostname.split('-')[1][1:]}"
            conn.execute(update(miners).where(miners.c.id == row.id).values(rack=rack))
        store_fleet.set_tags(conn, ids[::10], ["immersion"], [])
        store_fleet.set_tags(conn, ids[::4], ["client-x"], [])
        uid = store_auth.create_user(conn, "bench", "bench-password-1", Role.VIEWER)
        secret, _csrf = store_auth.create_session(conn, uid, 2.0)
    engine.dispose()
    return secret, time.perf_counter() - started


def serve(data_dir: str, port: int) -> None:
    """The commander for the benchmark: no scheduled jobs, nothing outside the machine."""
    import uvicorn

    from rigwatch.commander.app import create_app
    from rigwatch.config import Settings

    settings = Settings(data_dir=Path(data_dir), external_sync=False)
    app = create_app(settings, jobs=[])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def commander(data_dir: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "bench.ui", "--serve", str(data_dir), str(port)]
    with served_process(command, {}, data_dir, port, start_s=60) as url:
        yield url


@dataclass
class Load:
    ms: float
    wall_ms: float
    bytes: int
    decoded: int
    requests: int


def load_once(browser: object, url: str, secret: str, view: str) -> Load:
    from playwright.sync_api import Browser, Request

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": SESSION_COOKIE, "value": secret, "url": url}])
    page = context.new_page()
    finished: list[Request] = []
    started: list[float] = []
    page.on("request", lambda r: started.append(time.monotonic()))
    page.on("requestfinished", lambda r: finished.append(r))
    t0 = time.perf_counter()
    page.goto(f"{url}/?view={view}", wait_until="commit")
    page.wait_for_selector(f"#miners[data-ready~={view}]", state="attached", timeout=60_000)
    wall = (time.perf_counter() - t0) * 1000
    key = f"ready{view.capitalize()}Ms"
    ms = float(page.evaluate(f"() => document.getElementById('miners').dataset.{key}"))
    # Let the requests the page makes at start finish (network cards, chart, stream).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not started or time.monotonic() - started[-1] > 0.5:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(200)
    total = decoded = 0
    for req in finished:
        sizes = req.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = req.response()
        if response is not None:
            decoded += len(response.body())
    context.close()
    return Load(ms=ms, wall_ms=wall, bytes=total, decoded=decoded, requests=len(finished))


def measure(count: int, runs: int, browser: object) -> dict[str, list[Load]]:
    with tempfile.TemporaryDirectory(prefix="rigwatch-bench-ui-") as tmp:
        data = Path(tmp)
        secret, took = fill(data / "rigwatch.db", count)
        print(f"{count:,} miners stored in {took:.1f} s")
        out: dict[str, list[Load]] = {}
        with commander(data) as url:
            for view in ("table", "grid"):
                load_once(browser, url, secret, view)  # warm-up: the server's first reads
                out[view] = [load_once(browser, url, secret, view) for _ in range(runs)]
        return out


def median(loads: list[Load], field: str) -> float:
    return float(statistics.median(float(getattr(x, field)) for x in loads))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--miners", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            base = measure(args.baseline, args.runs, browser)
            big = measure(args.miners, args.runs, browser)
        finally:
            browser.close()

    print(f"overview, median of {args.runs} cold loads each (fresh browser context)")
    ok = True
    for view in ("table", "grid"):
        ms, b_ms = median(big[view], "ms"), median(base[view], "ms")
        kb, b_kb = median(big[view], "bytes") / 1024, median(base[view], "bytes") / 1024
        raw = median(big[view], "decoded") / 1024
        reqs = median(big[view], "requests")
        met_t, met_b = ms < TARGET_MS, kb * 1024 < TARGET_BYTES
        ok = ok and met_t and met_b
        runs = " / ".join(f"{x.ms:.0f}" for x in big[view])
        print(
            f"  {view}: {args.miners:,} miners {ms:.0f} ms to drawn (runs {runs}; wall "
            f"{median(big[view], 'wall_ms'):.0f} ms) | {args.baseline:,} miners {b_ms:.0f} ms"
            f" | ratio {ms / b_ms:.2f}x; target < {TARGET_MS:.0f} ms: "
            f"{'met' if met_t else 'NOT met'}"
        )
        print(
            f"  {view}: {args.miners:,} miners {kb:.0f} KB transferred ({raw:.0f} KB "
            f"uncompressed, {reqs:.0f} requests) | {args.baseline:,} miners {b_kb:.0f} KB | "
            f"ratio {kb / b_kb:.2f}x; target < {TARGET_BYTES // 1024} KB: "
            f"{'met' if met_b else 'NOT met'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
