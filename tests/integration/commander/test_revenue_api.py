"""Revenue and wallet API on a real commander (SQLite and PostgreSQL) whose wallet sync
reads a loopback server replaying explorer pages (built from recorded tx objects, see
tests/payout_payloads.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from rigwatch.commander.payout_sync import payout_job
from rigwatch.config import Settings
from rigwatch.domain.models import Role
from rigwatch.store.tables import audit_log, payments
from tests.helpers import RunningCommander, api_client, serving
from tests.payout_payloads import OTHER, dumps, esplora_tx, txid
from tests.replay import ReplayServer

ME = "bc1qjmc49gy3jjrkyjl57yl5duxjp7ssmxkvh5t2q5"
SECOND = "1Nb1ykSD7J5k4RFjJQGsrD9gxBE6jzfNa9"
CLEAR = {"confirm": "DELETE PAYMENTS"}


def _at(days_ago: int, hour: int) -> int:
    """Unix time of `hour`:00 UTC, `days_ago` days before today (the daily API is relative
    to today)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((today - timedelta(days=days_ago) + timedelta(hours=hour)).timestamp())


def _day(days_ago: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def explorer() -> Iterator[ReplayServer]:
    """ME: 50,000 sat yesterday (height 101) and 20,000 + 30,000 sat three days ago
    (height 90); SECOND: 7,000 sat yesterday (height 101); one outgoing tx of ME."""
    with ReplayServer() as server:
        page = [
            esplora_tx(2, to=[(OTHER, 1), (ME, 50_000)], height=101, time=_at(1, 10)),
            esplora_tx(
                3, to=[(OTHER, 9_000), (ME, 900)], spends=[(ME, 10_000)], height=95, time=_at(2, 0)
            ),
            esplora_tx(5, to=[(ME, 20_000), (ME, 30_000)], height=90, time=_at(3, 5)),
        ]
        server.route(f"/api/address/{ME}/txs", body=dumps(page))
        server.route(f"/api/address/{ME}/txs/chain/{txid(5)}", body="[]")
        server.route(
            f"/api/address/{SECOND}/txs",
            body=dumps([esplora_tx(8, to=[(SECOND, 7_000)], height=101, time=_at(1, 11))]),
        )
        server.route(f"/api/address/{SECOND}/txs/chain/{txid(8)}", body="[]")
        yield server


@pytest.fixture
def rc(tmp_path: Path, db_url: str, explorer: ReplayServer) -> Iterator[RunningCommander]:
    """A commander with the wallet sync job (never due by itself)."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=db_url, esplora_url=f"{explorer.url}/api"
    )
    job = dataclasses.replace(payout_job(settings, timeout_s=5), first_after_s=3600)
    with serving(settings, [job]) as running:
        yield running


@pytest.fixture
def admin(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.ADMIN) as c:
        yield c


@pytest.fixture
def operator(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.OPERATOR) as c:
        yield c


@pytest.fixture
def viewer(rc: RunningCommander) -> Iterator[httpx.Client]:
    with api_client(rc, Role.VIEWER) as c:
        yield c


def _synced(admin: httpx.Client) -> list[int]:
    """Both wallets added and synced; their ids."""
    ids = []
    for address, label in ((ME, "rack A payouts"), (SECOND, "solo box")):
        created = admin.post("/api/v1/wallets", json={"address": address, "label": label})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    done = admin.post("/api/v1/admin/revenue/sync")
    assert done.status_code == 200, done.text
    assert done.json()["error"] is None
    assert done.json()["detail"].startswith("2/2 wallets synced: 4 new")
    return ids


def _audited(rc: RunningCommander, action: str) -> int:
    with rc.engine.connect() as conn:
        query = select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
        return int(conn.execute(query).scalar_one())


def test_wallets_are_configured_by_admins_with_the_default_explorer(
    rc: RunningCommander, admin: httpx.Client, viewer: httpx.Client, explorer: ReplayServer
):
    body = {"coin": "btc", "address": ME, "label": "rack A payouts"}
    assert viewer.post("/api/v1/wallets", json=body).status_code == 403
    created = admin.post("/api/v1/wallets", json=body)
    assert created.status_code == 201
    wallet = created.json()
    assert (wallet["coin"], wallet["backend"], wallet["base_url"]) == (
        "BTC",
        "esplora",
        f"{explorer.url}/api",
    )
    assert admin.post("/api/v1/wallets", json=body).status_code == 409
    assert [w["address"] for w in viewer.get("/api/v1/wallets").json()] == [ME]
    # Blockbook needs a URL (RIGWATCH_BLOCKBOOK_URL is empty here); bad addresses are 422.
    blockbook = {"coin": "LTC", "address": SECOND, "backend": "blockbook"}
    assert admin.post("/api/v1/wallets", json=blockbook).status_code == 422
    assert admin.post("/api/v1/wallets", json={"address": "../../etc"}).status_code == 422
    assert viewer.delete(f"/api/v1/wallets/{wallet['id']}").status_code == 403
    assert admin.delete(f"/api/v1/wallets/{wallet['id']}").status_code == 204
    assert admin.delete(f"/api/v1/wallets/{wallet['id']}").status_code == 404
    assert viewer.get("/api/v1/wallets").json() == []
    assert (_audited(rc, "wallet.create"), _audited(rc, "wallet.delete")) == (1, 1)


def test_sync_now_fills_transactions_daily_totals_and_status(
    admin: httpx.Client, viewer: httpx.Client, operator: httpx.Client
):
    assert operator.post("/api/v1/admin/revenue/sync").status_code == 403
    me, second = _synced(admin)
    status = {w["id"]: w for w in admin.get("/api/v1/admin/revenue/status").json()}
    assert (status[me]["synced_height"], status[me]["payments"]) == (101, 3)
    assert (status[second]["synced_height"], status[second]["payments"]) == (101, 1)
    assert status[me]["last_error"] is None and status[me]["consecutive_failures"] == 0
    assert viewer.get("/api/v1/admin/revenue/status").status_code == 403

    page = viewer.get("/api/v1/revenue/transactions", params={"limit": 2}).json()
    assert page["total"] == 4  # the outgoing tx 3 is not revenue
    # Newest first: SECOND's 7,000 (yesterday 11:00), then ME's 50,000 (yesterday 10:00).
    assert [(p["txid"], p["amount_atomic"]) for p in page["items"]] == [
        (txid(8), 7_000),
        (txid(2), 50_000),
    ]
    second_page = viewer.get("/api/v1/revenue/transactions", params={"limit": 2, "page": 2})
    assert [(p["vout"], p["amount_atomic"]) for p in second_page.json()["items"]] == [
        (1, 30_000),
        (0, 20_000),
    ]
    daily = viewer.get("/api/v1/revenue/daily", params={"days": 7}).json()
    assert daily["first_day"] == _day(6)
    # Yesterday: 50,000 + 7,000 = 57,000 in 2; three days ago: 20,000 + 30,000 = 50,000 in 2.
    assert [(d["day"], d["coin"], d["amount_atomic"], d["payments"]) for d in daily["items"]] == [
        (_day(3), "BTC", 50_000, 2),
        (_day(1), "BTC", 57_000, 2),
    ]
    only_yesterday = viewer.get("/api/v1/revenue/daily", params={"days": 2}).json()["items"]
    assert [d["amount_atomic"] for d in only_yesterday] == [57_000]
    assert viewer.get("/api/v1/revenue/daily", params={"days": 0}).status_code == 422


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (txid(5), {txid(5)}),  # a txid
        (txid(8)[:10].upper(), {txid(8)}),  # a txid prefix, any case
        ("RACK a", {txid(2), txid(5)}),  # the label, any case
        (SECOND[:12], {txid(8)}),  # part of the address
        ("100%_", set()),  # LIKE wildcards are literal
    ],
)
def test_transactions_are_searchable_by_txid_label_and_address(
    admin: httpx.Client, viewer: httpx.Client, q: str, expected: set[str]
):
    _synced(admin)
    found = viewer.get("/api/v1/revenue/transactions", params={"q": q}).json()
    assert {p["txid"] for p in found["items"]} == expected


def test_clear_needs_an_admin_and_the_explicit_confirmation(
    rc: RunningCommander, admin: httpx.Client, operator: httpx.Client, viewer: httpx.Client
):
    me, _second = _synced(admin)
    url = "/api/v1/admin/revenue/clear"
    assert admin.post(url, json={}).status_code == 422
    assert admin.post(url, json={"confirm": "yes"}).status_code == 422
    assert admin.post(url, json={"confirm": "delete payments"}).status_code == 422
    assert viewer.post(url, json=CLEAR).status_code == 403
    assert operator.post(url, json=CLEAR).status_code == 403
    assert len(viewer.get("/api/v1/revenue/transactions").json()["items"]) == 4

    cleared = admin.post(url, json={**CLEAR, "wallet_id": me})
    assert cleared.status_code == 200
    assert cleared.json() == {"payments": 3, "retries": 0, "days": 2}
    left = viewer.get("/api/v1/revenue/transactions").json()["items"]
    assert [p["txid"] for p in left] == [txid(8)]
    status = {w["id"]: w for w in admin.get("/api/v1/admin/revenue/status").json()}
    assert status[me]["synced_height"] is None  # the next sync starts from scratch
    assert _audited(rc, "revenue.clear") == 1
    # ... and finds the same payments again.
    admin.post("/api/v1/admin/revenue/sync")
    assert viewer.get("/api/v1/revenue/transactions").json()["total"] == 4


def test_reset_rescans_from_a_height_and_keeps_every_row(
    rc: RunningCommander, admin: httpx.Client, operator: httpx.Client, explorer: ReplayServer
):
    me, _second = _synced(admin)
    with rc.engine.connect() as conn:
        before = set(conn.execute(select(payments.c.id, payments.c.txid, payments.c.vout)))
    body = {"wallet_id": me, "from_height": 0}
    assert operator.post("/api/v1/admin/revenue/reset", json=body).status_code == 403
    assert (
        admin.post("/api/v1/admin/revenue/reset", json={**body, "from_height": -1}).status_code
        == 422
    )
    assert (
        admin.post("/api/v1/admin/revenue/reset", json={**body, "wallet_id": 999}).status_code
        == 404
    )
    reset = admin.post("/api/v1/admin/revenue/reset", json=body)
    assert reset.status_code == 200 and reset.json()["rescan_from"] == 0
    with rc.engine.connect() as conn:
        assert set(conn.execute(select(payments.c.id, payments.c.txid, payments.c.vout))) == before
    chain_page = f"/api/address/{ME}/txs/chain/{txid(5)}"
    hits = explorer.hits(chain_page)
    synced = admin.post("/api/v1/admin/revenue/sync", json={"wallet_id": me})
    assert synced.status_code == 200
    assert synced.json()["detail"].startswith("1/1 wallets synced: 0 new")
    assert explorer.hits(chain_page) == hits + 1  # the whole history was read again
    with rc.engine.connect() as conn:
        assert set(conn.execute(select(payments.c.id, payments.c.txid, payments.c.vout))) == before
    status = {w["id"]: w for w in admin.get("/api/v1/admin/revenue/status").json()}
    assert status[me]["rescan_from"] is None
    assert _audited(rc, "revenue.reset") == 1
