"""Shared test machinery: a real commander on a loopback port, and batches to send it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import Engine

from rigwatch.commander.app import create_app
from rigwatch.commander.jobs import JobSpec
from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.engine import make_engine


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningCommander:
    url: str
    settings: Settings
    engine: Engine
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_commander(
    settings: Settings, port: int | None = None, jobs: Sequence[JobSpec] | None = None
) -> RunningCommander:
    port = port or free_port()
    app = create_app(settings, jobs)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("commander did not start")
        time.sleep(0.02)
    engine = make_engine(settings.resolved_database_url())
    return RunningCommander(f"http://127.0.0.1:{port}", settings, engine, server, thread)


def api_client(rc: RunningCommander, role: Role | None, *, path: str = "") -> httpx.Client:
    """An HTTP client of `rc` with a fresh API key of `role` (None: anonymous); `path`
    prefixes every request (e.g. "/api/v1")."""
    headers: dict[str, str] = {}
    if role is not None:
        with rc.engine.begin() as conn:
            key = store_auth.create_api_key(conn, f"test-{role.value}", role)
            headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=rc.url + path, headers=headers, timeout=30)


@contextmanager
def serving(
    settings: Settings, jobs: Sequence[JobSpec] | None = None
) -> Iterator[RunningCommander]:
    """A commander with `settings` for one test; `jobs=[]` runs none of the scheduled
    jobs, for tests that write rollups or snapshots themselves or run a job on request."""
    rc = start_commander(settings, jobs=jobs)
    try:
        yield rc
    finally:
        rc.stop()
        rc.engine.dispose()


@contextmanager
def running_commander(
    data_dir: Path, *, jobs: Sequence[JobSpec] | None = None, **overrides: Any
) -> Iterator[RunningCommander]:
    """`serving` with settings built from `data_dir` and `overrides`."""
    with serving(Settings(data_dir=data_dir, **overrides), jobs) as rc:
        yield rc


def sample(
    key: str = "aa:bb:cc:00:00:01", ts: datetime | None = None, **fields: Any
) -> dict[str, Any]:
    ts = ts or datetime.now(UTC)
    body: dict[str, Any] = {
        "miner": {
            "key": key,
            "kind": "asic",
            "ip": "127.0.10.1",
            "make": "AntMiner",
            "model": "S19 Pro",
            "hostname": f"miner-{key[-2:]}",
        },
        "ts": ts.isoformat(),
        "hashrate_hs": 110e12,
        "hashrate_expected_hs": 110e12,
        "temp_c": 62.0,
        "temp_max_c": 70.0,
        "fans_rpm": [5400, 5400, 5460, 5460],
        "power_w": 3250.0,
        "accepted": 1000,
        "rejected": 2,
        "uptime_s": 3600,
        "pool_url": "stratum+tcp://127.0.0.1:3333",
        "hashboards": [
            {
                "index": i,
                "hashrate_hs": 36.6e12,
                "temp_c": 60.0,
                "chip_temp_c": 75.0,
                "chips": 114,
                "chips_expected": 114,
            }
            for i in range(3)
        ],
    }
    body.update(fields)
    return body


def batch(
    seq: int,
    samples: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "samples": samples if samples is not None else [sample()],
        "events": events or [],
    }


def minutes_ago(n: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=n)
