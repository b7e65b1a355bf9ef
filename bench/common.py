"""What every benchmark needs: a commander in its own process, and a clear printout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def commander_process(data_dir: Path) -> Iterator[str]:
    """`rigwatch serve` as a separate process, so the load generator does not share its GIL."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "RIGWATCH_DATA_DIR": str(data_dir),
        "RIGWATCH_HOST": "127.0.0.1",
        "RIGWATCH_PORT": str(port),
    }
    command = [sys.executable, "-m", "rigwatch.cli", "serve"]
    with served_process(command, env, data_dir, port, start_s=30) as url:
        yield url


@contextmanager
def served_process(
    command: list[str], env: dict[str, str], data_dir: Path, port: int, *, start_s: float
) -> Iterator[str]:
    """A commander started by `command`, answering on `port`: its URL once healthy.

    Its stderr goes to a file in `data_dir` (a pipe nobody reads would block the server once
    full), shown if it fails to start; it is stopped (killed if need be) whatever happens.
    It reaches nothing outside this machine (RIGWATCH_EXTERNAL_SYNC=false).
    """
    full_env = os.environ | env | {"RIGWATCH_EXTERNAL_SYNC": "false"}
    with (data_dir / "commander.stderr").open("w+b") as stderr:
        proc = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL, stderr=stderr)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_s
            while True:
                try:
                    if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    stderr.seek(0)
                    err = stderr.read().decode(errors="replace")
                    raise RuntimeError(f"commander did not start: {err[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def report(name: str, figure: float, unit: str, baseline: float, baseline_name: str) -> None:
    ratio = figure / baseline if baseline else float("nan")
    print(f"{name}: {figure:,.0f} {unit}")
    print(f"{baseline_name}: {baseline:,.0f} {unit}")
    print(f"ratio: {ratio:.2%}")
