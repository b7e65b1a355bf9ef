"""The real Prometheus server scrapes a real commander's /metrics and answers queries.

`prometheus` (Debian package `prometheus`, installed by `make system`) runs as a child
process on 127.0.0.1 with a config of the test's own: one scrape job every second
against the test commander with a viewer API key as bearer token, its database in the
test's temporary directory, nothing remote. The test fails when the binary is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, batch, free_port, running_commander, sample

pytestmark = pytest.mark.e2e

HOSTILE_WORKER = 'farm."quoted"\\back\\slash\nsecond line'
STARTUP_S = 60.0


@dataclass
class Prometheus:
    url: str
    log: Path

    def query(self, promql: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        r.raise_for_status()
        body = r.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, promql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The query's result once it has one (the first scrapes take a second or two)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.25)


def _binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail(
            "the prometheus server is not installed: run `make system` "
            "(or `apt-get install -y prometheus`)"
        )
    return found


def _config(tmp: Path, target: str, token: str) -> Path:
    secret = tmp / "token"
    secret.write_text(token)
    secret.chmod(0o600)
    config = tmp / "prometheus.yml"
    config.write_text(
        f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rigwatch
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {secret}
    static_configs:
      - targets: ["{target}"]
"""
    )
    return config


@pytest.fixture
def commander(tmp_path: Path, sqlite_url: str) -> Iterator[RunningCommander]:
    with running_commander(tmp_path / "data", database_url=sqlite_url) as rc:
        yield rc


@pytest.fixture
def prometheus(tmp_path: Path, commander: RunningCommander) -> Iterator[Prometheus]:
    binary = _binary()
    with commander.engine.begin() as conn:
        token = store_auth.create_api_key(conn, "prometheus", Role.VIEWER)
    home = tmp_path / "prometheus"
    home.mkdir()
    config = _config(home, commander.url.removeprefix("http://"), token)
    port = free_port()
    log = home / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=home,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus not ready after {STARTUP_S} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield Prometheus(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_target_up(prom: Prometheus, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    target: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = httpx.get(f"{prom.url}/api/v1/targets", timeout=5)
        r.raise_for_status()
        active = r.json()["data"]["activeTargets"]
        if active:
            target = active[0]
            if target["health"] == "up":
                return target
        time.sleep(0.25)
    pytest.fail(f"the commander never became an `up` target: {target}\n{prom.log.read_text()}")


def _promql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def test_prometheus_scrapes_the_commander_and_answers_with_what_was_ingested(
    commander: RunningCommander, sentry: httpx.Client, prometheus: Prometheus
) -> None:
    plain = sample("aa:bb:cc:00:00:01", hashrate_hs=104.5e12, temp_c=61.5, accepted=4321)
    hostile = sample("aa:bb:cc:00:00:02", hashrate_hs=98.25e12, power_w=3100.0)
    hostile["miner"]["worker"] = HOSTILE_WORKER
    r = sentry.post("/api/v1/ingest", json=batch(1, [plain, hostile]))
    assert r.status_code == 200, r.text

    target = _wait_target_up(prometheus)
    assert target["labels"]["job"] == "rigwatch"
    assert target["scrapeUrl"] == f"{commander.url}/metrics"

    [series] = prometheus.wait_for('rigwatch_miner_hashrate_hs{miner="aa:bb:cc:00:00:01"}')
    assert float(series["value"][1]) == 104.5e12
    labels = series["metric"]
    assert labels["job"] == "rigwatch"
    assert labels["sentry"] == "test-sentry"
    assert labels["site"] == "default"
    assert labels["make"] == "AntMiner" and labels["model"] == "S19 Pro"
    assert labels["kind"] == "asic"

    [board] = prometheus.query(
        'rigwatch_miner_temperature_celsius{miner="aa:bb:cc:00:00:01",sensor="board"}'
    )
    assert float(board["value"][1]) == 61.5
    [accepted] = prometheus.query(
        'rigwatch_miner_shares_total{miner="aa:bb:cc:00:00:01",result="accepted"}'
    )
    assert int(accepted["value"][1]) == 4321
    [farm] = prometheus.query("rigwatch_farm_hashrate_hs")
    assert float(farm["value"][1]) == 104.5e12 + 98.25e12

    # The worker name with a quote, backslashes and a newline arrives intact, and can be
    # matched on in PromQL.
    [odd] = prometheus.query('rigwatch_miner_hashrate_hs{miner="aa:bb:cc:00:00:02"}')
    assert odd["metric"]["worker"] == HOSTILE_WORKER
    assert float(odd["value"][1]) == 98.25e12
    [power] = prometheus.query(
        f"rigwatch_miner_power_watts{{worker={_promql_string(HOSTILE_WORKER)}}}"
    )
    assert power["metric"]["miner"] == "aa:bb:cc:00:00:02"
    assert float(power["value"][1]) == 3100.0

    # The commander's own figures come along.
    [batches] = prometheus.query("rigwatch_ingest_batches_total")
    assert int(batches["value"][1]) >= 1
    [up] = prometheus.query('up{job="rigwatch"}')
    assert up["value"][1] == "1"
