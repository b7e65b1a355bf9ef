"""`rigwatch demo`: one command gives a live simulated farm within seconds, Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_demo_shows_sixty_miners_three_rigs_within_ten_seconds_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = os.environ | {"RIGWATCH_DATA_DIR": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rigwatch.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        summary: dict[str, object] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as browser:
            while time.monotonic() - started < 10:
                try:
                    page = browser.get("/")
                    summary = browser.get("/api/v1/summary").json()
                except httpx.TransportError:
                    summary = {}
                if summary.get("miners_total") == 63 and float(summary.get("hashrate_hs", 0)) > 0:  # type: ignore[arg-type]
                    break
                time.sleep(0.25)
            assert summary.get("miners_total") == 63, summary
            assert "simulated farm" in page.text
            assert page.url.path == "/"
            faulty = browser.get("/api/v1/miners", params={"status": "warning"}).json()["items"]
            reasons = " ".join(w for m in faulty for w in m["warnings"])
            assert "hashboard missing" in reasons and "°C" in reasons
            kinds = {
                m["kind"]
                for m in browser.get("/api/v1/miners", params={"limit": 100}).json()["items"]
            }
            assert kinds == {"asic", "bitaxe", "cpu", "gpu"}
            [host] = browser.get("/api/v1/hosts").json()
            assert host["identity"]["key"] == "demo-host" and len(host["miner_ids"]) == 3
            assert browser.get("/api/v1/p2pool").json()[0]["node"] == "p2pool@demo-host"
            # Nobody else is signed in automatically: the viewer may not manage sentries.
            assert browser.post("/api/v1/sentries", json={"name": "x"}).status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out
    assert "demo stopped" in out
