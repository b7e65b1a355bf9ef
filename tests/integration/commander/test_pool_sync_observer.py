"""A P2Pool observer account, synced by the pool job and through the API, on both
databases, from a loopback server replaying the observer's documented examples
(tests/fixtures/p2pool-observer/, see SOURCES.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from rigwatch.domain.models import Role
from rigwatch.domain.pools import PoolKind
from rigwatch.store import pools as store
from tests.helpers import api_client, running_commander
from tests.integration.commander.test_pool_sync import add, engine, sync, view
from tests.replay import ReplayServer

__all__ = ["engine"]  # the fixture, shared with test_pool_sync

T0 = datetime(2025, 7, 8, 8, 0, tzinfo=UTC)
ADDRESS = (
    "47ab14EokGgCTX7RYoVhrNMjVA7GfW1jyMAmL7qBQz9fa4RZ"
    "6ZsBUgeRGuPWjqeM1wLptSJH5xuX2H4mAepMYvu6JqWMsGw"
)


def route_observer(server: ReplayServer, prefix: str = "/obs") -> None:
    api = f"{prefix}/api"
    fixture = "p2pool-observer/docs-{}.json".format
    server.route(f"{api}/miner_info/{ADDRESS}", fixture=fixture("miner_info"))
    server.route(
        f"{api}/side_blocks_in_window/{ADDRESS}", fixture=fixture("side_blocks_in_window_miner")
    )
    server.route(f"{api}/pool_info", fixture=fixture("pool_info_2023-04_legacy"))
    server.route(f"{api}/payouts/{ADDRESS}?search_limit=50", fixture=fixture("payouts"))
    server.route(f"{api}/found_blocks?limit=20", fixture=fixture("found_blocks"))


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        route_observer(s)
        yield s


def test_an_observer_account_is_synced_and_its_payouts_stored_once(
    engine: Engine, server: ReplayServer
) -> None:
    account_id = add(engine, PoolKind.P2POOL_OBSERVER, server.url + "/obs", ADDRESS)

    assert sync(engine, T0).detail.startswith("1/1 accounts synced")
    # An hour later the observer lists the same payouts again: still stored once each.
    later = T0 + timedelta(hours=1)
    assert sync(engine, later).detail.startswith("1/1 accounts synced")

    got = view(engine, account_id)
    assert (got.last_error, got.consecutive_failures, got.last_success_at) == (None, 0, later)
    assert got.latest is not None and got.latest.coin == "XMR"
    assert got.latest.hashrates == {"54m": pytest.approx(2_603_405.050906419, rel=1e-12)}
    assert got.latest.pool_hashrate_hs == 200_997_922.4
    assert got.latest.network_height == 2862299
    assert got.latest.last_share == datetime(2023, 4, 11, 23, 49, 39, tzinfo=UTC)
    assert got.latest.unpaid_atomic is None
    with engine.connect() as conn:
        detail = store.account_detail(conn, account_id)
    assert detail is not None and detail.workers == ()
    assert sorted(p.amount_atomic for p in detail.payouts) == [
        3_400_854_816,
        103_013_108_631,
        170_359_596_687,
    ]
    assert {p.coin for p in detail.payouts} == {"XMR"}
    assert [b.height for b in detail.blocks] == [2942191, 2942190]
    assert server.hits(f"/obs/api/miner_info/{ADDRESS}") == 2


def test_an_unknown_miner_and_a_broken_window_are_told_apart(
    engine: Engine, server: ReplayServer
) -> None:
    account_id = add(engine, PoolKind.P2POOL_OBSERVER, server.url + "/obs", ADDRESS)
    # The window answers garbage: the account syncs without a hashrate, and says why.
    server.route(f"/obs/api/side_blocks_in_window/{ADDRESS}", body=b'[{"difficulty": ')
    sync(engine, T0)
    got = view(engine, account_id)
    assert got.consecutive_failures == 0 and got.latest is not None
    assert got.latest.hashrates == {}
    assert got.last_error is not None and "side_blocks_in_window: not JSON" in got.last_error

    # The observer does not know the miner (its real answer: 404 {"error":"not_found"}).
    server.route(f"/obs/api/miner_info/{ADDRESS}", status=404, body=b'{"error":"not_found"}')
    with pytest.raises(Exception, match="every pool account failed"):
        sync(engine, T0 + timedelta(hours=1))
    got = view(engine, account_id)
    assert got.consecutive_failures == 1
    assert got.last_error is not None and "HTTP 404" in got.last_error
    # The figures of the last good sync are kept.
    assert got.latest is not None and got.latest.pool_hashrate_hs == 200_997_922.4


def test_the_api_adds_an_observer_account_at_the_configured_observer(
    tmp_path: Path, db_url: str, server: ReplayServer
) -> None:
    with (
        running_commander(
            tmp_path / "data",
            jobs=[],
            database_url=db_url,
            p2pool_observer_url=server.url + "/obs",
        ) as rc,
        api_client(rc, Role.ADMIN) as admin,
    ):
        created = admin.post("/api/v1/pools", json={"kind": "p2pool-observer", "account": ADDRESS})
        assert created.status_code == 201, created.text
        account = created.json()
        assert account["base_url"] == server.url + "/obs"
        synced = admin.post(f"/api/v1/pools/{account['id']}/sync").json()
        assert synced["last_error"] is None
        assert synced["latest"]["coin"] == "XMR"
        detail = admin.get(f"/api/v1/pools/{account['id']}").json()
        assert len(detail["payouts"]) == 3 and len(detail["blocks"]) == 2
