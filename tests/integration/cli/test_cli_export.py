"""`rigwatch export csv` on a store that a commander filled over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from rigwatch.store import auth as store_auth
from tests.helpers import batch, minutes_ago, running_commander, sample
from tests.integration.cli.test_cli import rigwatch


def _fill(url: str, credential: str) -> str:
    ts = minutes_ago(0.5)
    samples = [sample(key=f"aa:00:00:00:00:0{i}", ts=ts) for i in range(3)]
    payout = {
        "ts": ts.isoformat(),
        "kind": "payout",
        "key": "p2pool:payout:1",
        "data": {"amount_atomic": 1_500_000_000_000, "coin": "XMR"},
    }
    body = batch(1, samples, [payout])
    reply = httpx.post(
        f"{url}/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {credential}"}
    )
    assert reply.status_code == 200, reply.text
    return ts.date().isoformat()


def test_export_writes_samples_and_payouts_as_csv(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    with running_commander(data, database_url=db_url) as rc:
        with rc.engine.begin() as conn:
            _id, token = store_auth.create_sentry(conn, "rack-a")
            found = store_auth.enroll(conn, token)
        assert found is not None
        day = _fill(rc.url, found[2])
        out = tmp_path / "samples.csv"
        done = rigwatch(
            data, "export", "csv", "--what", "samples", "--from", day, "-o", str(out), db_url=db_url
        )
        assert done.returncode == 0, done.stderr
        assert "3 row(s) of samples" in done.stderr
        rows = list(csv.reader(io.StringIO(out.read_text())))
        assert len(rows) == 4 and rows[0][2] == "miner_key"
        payouts = rigwatch(data, "export", "csv", "--what", "payouts", "--from", day, db_url=db_url)
        assert list(csv.reader(io.StringIO(payouts.stdout))) == [
            ["day", "coin", "payouts", "amount_atomic", "amount"],
            [day, "XMR", "1", "1500000000000", "1.5"],
        ]
        bad = rigwatch(data, "export", "csv", "--from", "2025-13-01", db_url=db_url)
        assert bad.returncode == 2 and "not a date" in bad.stderr
