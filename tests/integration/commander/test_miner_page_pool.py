"""The miner page shows the pool's figure for the miner's worker beside the farm's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.tables import miners, pool_accounts, pool_miner_gaps
from rigwatch.store.timestamps import to_us
from tests.helpers import batch, running_commander, sample


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    reply = client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf": token.group(1)},
    )
    assert reply.url.path == "/"


def test_the_pool_side_of_a_miner_with_its_gap(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with running_commander(tmp_path / "data", jobs=[]) as rc:
        with rc.engine.begin() as conn:
            store_auth.create_user(conn, "alice", "correct horse battery", Role.VIEWER)
            _id, token = store_auth.create_sentry(conn, "rack-a")
            found = store_auth.enroll(conn, token)
        assert found is not None
        body = batch(1, [sample(key="aa:00:00:00:00:01")])
        body["samples"][0]["miner"]["worker"] = "bc1qfarm.<b>rig1</b>"
        reply = httpx.post(
            f"{rc.url}/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {found[2]}"}
        )
        assert reply.status_code == 200, reply.text
        with rc.engine.begin() as conn:
            miner_id: int = conn.execute(select(miners.c.id)).scalar_one()
            account: int = conn.execute(
                insert(pool_accounts)
                .values(
                    kind="ocean",
                    name="Ocean main",
                    base_url="http://127.0.0.1:9",
                    account="bc1qfarm",
                    interval_s=300,
                    enabled=True,
                    created_at=to_us(now),
                    consecutive_failures=0,
                )
                .returning(pool_accounts.c.id)
            ).scalar_one()
            conn.execute(
                insert(pool_miner_gaps).values(
                    account_id=account,
                    miner_id=miner_id,
                    worker="<b>rig1</b>",
                    pool_hashrate_hs=80e12,
                    miner_hashrate_hs=100e12,
                    gap_since=to_us(now - timedelta(hours=2)),
                    gap_raised=True,
                    updated_at=to_us(now),
                )
            )
        with httpx.Client(base_url=rc.url, follow_redirects=True) as browser:
            _sign_in(browser)
            page = browser.get(f"/miners/{miner_id}").text
    table = page[page.index('data-testid="pool-side"') :]
    assert "Ocean main" in table and "80.00 TH/s" in table and "100.00 TH/s" in table
    assert "20.0 %" in table and "the two differ since" in table
    assert "&lt;b&gt;rig1&lt;/b&gt;" in table and "<b>rig1</b>" not in table
