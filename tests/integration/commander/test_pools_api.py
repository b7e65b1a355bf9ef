"""The pool accounts API on a real commander: roles, validation, audit, sync now, and a
miner's pool-side view. The pools are a loopback server replaying ckpool's real answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from rigwatch.store.tables import audit_log
from tests.helpers import RunningCommander, api_client, running_commander
from tests.integration.commander.test_pool_sync import (
    CK_ACCOUNT,
    add_miner,
    report,
    route_ckpool,
)
from tests.replay import ReplayServer


@pytest.fixture
def pools() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        route_ckpool(s)
        yield s


@pytest.fixture
def rc(tmp_path: Path, db_url: str, pools: ReplayServer) -> Iterator[RunningCommander]:
    """A commander whose default ckpool URL is the loopback replay server (no jobs run:
    syncs happen only when a test asks)."""
    with running_commander(
        tmp_path / "data", jobs=[], database_url=db_url, ckpool_url=pools.url + "/ck"
    ) as running:
        yield running


def test_only_admins_change_accounts_and_viewers_read(rc: RunningCommander) -> None:
    with (
        api_client(rc, Role.ADMIN) as admin,
        api_client(rc, Role.OPERATOR) as operator,
        api_client(rc, Role.VIEWER) as viewer,
        api_client(rc, None) as anonymous,
    ):
        body = {"kind": "ckpool", "account": CK_ACCOUNT}
        assert anonymous.get("/api/v1/pools").status_code == 401
        assert viewer.post("/api/v1/pools", json=body).status_code == 403
        assert operator.post("/api/v1/pools", json=body).status_code == 403

        created = admin.post("/api/v1/pools", json=body)
        assert created.status_code == 201, created.text
        account = created.json()
        # base_url defaults to the kind's public service (here: the loopback stand-in)
        assert account["base_url"] == rc.settings.ckpool_url
        assert (account["interval_s"], account["enabled"], account["latest"]) == (300, True, None)
        assert admin.post("/api/v1/pools", json=body).status_code == 409

        listed = viewer.get("/api/v1/pools")
        assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [account["id"]]
        assert viewer.get(f"/api/v1/pools/{account['id']}").status_code == 200
        assert viewer.post(f"/api/v1/pools/{account['id']}/sync").status_code == 403
        assert operator.delete(f"/api/v1/pools/{account['id']}").status_code == 403
        assert viewer.delete(f"/api/v1/pools/{account['id']}").status_code == 403

        assert admin.delete(f"/api/v1/pools/{account['id']}").status_code == 204
        assert admin.delete(f"/api/v1/pools/{account['id']}").status_code == 404
        assert viewer.get(f"/api/v1/pools/{account['id']}").status_code == 404
    with rc.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    assert actions.count("pool.add") == 1 and actions.count("pool.delete") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "p2pool", "account": "4wallet"},  # P2Pool has no public default
        {"kind": "antpool", "account": "x"},
        {"kind": "ckpool", "account": "a/b"},
        {"kind": "ckpool", "account": ""},
        {"kind": "ckpool", "account": "x", "base_url": "ftp://127.0.0.1/"},
        {"kind": "ckpool", "account": "x", "base_url": "http://u:p@127.0.0.1/"},
        {"kind": "ckpool", "account": "x", "interval_s": 5},
        {"kind": "ckpool", "account": "x", "name": "n" * 101},
    ],
)
def test_bad_accounts_are_refused(rc: RunningCommander, body: dict[str, object]) -> None:
    with api_client(rc, Role.ADMIN) as admin:
        assert admin.post("/api/v1/pools", json=body).status_code == 422
        assert admin.get("/api/v1/pools").json() == []


def test_sync_now_shows_the_figures_and_the_miner_page_shows_both_hashrates(
    rc: RunningCommander, pools: ReplayServer
) -> None:
    with rc.engine.begin() as conn:
        sentry_id, _ = store_auth.create_sentry(conn, "rack-a")
    miner = add_miner(rc.engine, sentry_id, "bitaxe", worker=CK_ACCOUNT, user=None)
    with api_client(rc, Role.ADMIN) as admin, api_client(rc, Role.VIEWER) as viewer:
        account = admin.post(
            "/api/v1/pools", json={"kind": "ckpool", "account": CK_ACCOUNT, "name": "solo"}
        ).json()
        report(rc.engine, miner, 5.0e9, datetime.now(UTC))
        synced = admin.post(f"/api/v1/pools/{account['id']}/sync")
        assert synced.status_code == 200, synced.text
        state = synced.json()
        assert state["last_error"] is None and state["consecutive_failures"] == 0
        assert state["latest"]["hashrates"]["1h"] == 4.57e9
        assert state["latest"]["pool_hashrate_hs"] == 360e15

        detail = viewer.get(f"/api/v1/pools/{account['id']}").json()
        assert [(w["name"], w["miner_ids"]) for w in detail["workers"]] == [(CK_ACCOUNT, [miner])]
        page = viewer.get(f"/api/v1/miners/{miner}/pool")
        assert page.status_code == 200
        assert page.json() == [
            {
                "account_id": account["id"],
                "account_name": "solo",
                "kind": "ckpool",
                "worker": CK_ACCOUNT,
                "miner_hashrate_hs": 5.0e9,
                "pool_hashrate_hs": 4.57e9,
                "gap_pct": 8.6,
                "gap_since": None,
                "gap_raised": False,
                "updated_at": page.json()[0]["updated_at"],
            }
        ]
        assert viewer.get("/api/v1/miners/999999/pool").status_code == 404

        pools.route(f"/ck/users/{CK_ACCOUNT}", body=b"garbage")
        failed = admin.post(f"/api/v1/pools/{account['id']}/sync").json()
        assert failed["consecutive_failures"] == 1
        assert failed["last_error"].startswith("malformed reply")
        assert admin.post("/api/v1/pools/999999/sync").status_code == 404
