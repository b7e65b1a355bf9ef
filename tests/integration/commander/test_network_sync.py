"""The network job against a loopback server replaying mempool.space, into SQLite and
PostgreSQL, and the network and price API over what it stored.

The bodies are the real payloads of tests/esplora_payloads.py (which says which file is
a recording and which is a docs example); they come from different dates, so the tip
height (a 2021 docs example) is below the recorded blocks (2024). Failures are the
ones real services have: a slow answer past the timeout, a body cut short, 5xx, nothing
listening.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from rigwatch.commander.network_sync import NetworkSyncFailed, network_job, sync_network
from rigwatch.config import Settings
from rigwatch.protocols import esplora
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.network import latest_network, latest_prices, recent_blocks
from rigwatch.store.tables import network_blocks, network_stats, prices
from tests.esplora_payloads import HASHRATE, TIP_HEIGHT, part, snapshot
from tests.helpers import RunningCommander, free_port, running_commander
from tests.replay import ReplayServer

# Shortly after the recorded snapshot (its prices are quoted at 03:15:06).
T0 = datetime(2024, 3, 31, 3, 20, tzinfo=UTC)
QUOTED = datetime(2024, 3, 31, 3, 15, 6, tzinfo=UTC)
TIMEOUT_S = 0.5
DA_CUT = part("da")[:40]  # the difficulty adjustment cut mid-body: malformed


def serve_all(server: ReplayServer) -> None:
    """Every endpoint the job reads, answered with its real payload."""
    server.route(esplora.TIP_HEIGHT_PATH, fixture=TIP_HEIGHT, content_type="text/plain")
    server.route(esplora.HASHRATE_PATH, fixture=HASHRATE)
    server.route(esplora.DIFFICULTY_ADJUSTMENT_PATH, body=part("da"))
    server.route(esplora.FEES_PATH, body=part("fees"))
    server.route(esplora.PRICES_PATH, body=part("conversions"))
    server.route(esplora.BLOCKS_PATH, body=part("blocks"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        serve_all(s)
        yield s


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def sync(engine: Engine, now: datetime, client: httpx.Client, url: str) -> str:
    outcome = sync_network(engine, now, client=client, base_url=url, timeout_s=TIMEOUT_S)
    return outcome.detail


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_full_sync_stores_every_figure_prices_and_blocks(
    engine: Engine, server: ReplayServer, client: httpx.Client
) -> None:
    detail = sync(engine, T0, client, server.url)
    assert "failed" not in detail
    assert "height 698767" in detail and "7 prices" in detail
    with engine.connect() as conn:
        view = latest_network(conn, T0)
        quotes = latest_prices(conn, T0)
        blocks = recent_blocks(conn, limit=3)
    assert view.height is not None and view.height.value == 698767
    assert view.height.as_of == T0 and view.height.age_s == 0
    assert view.difficulty is not None and view.difficulty.value == 31251101365711.12
    assert view.hashrate_hs is not None
    assert view.hashrate_hs.value == pytest.approx(252033247355212300000.0)
    assert view.next_retarget_height is not None and view.next_retarget_height.value == 838656
    assert view.next_retarget_at is not None
    assert view.next_retarget_at.value == datetime(2024, 4, 10, 16, 31, 44, 114000, tzinfo=UTC)
    assert view.difficulty_change_pct is not None
    assert view.difficulty_change_pct.value == pytest.approx(5.914788959658535)
    assert {k: f.value for k, f in view.fees.items() if f} == {
        "fast": 8.0,
        "half_hour": 8.0,
        "hour": 8.0,
        "economy": 4.0,
    }
    assert {q.currency: q.price for q in quotes} == {
        "AUD": 107374,
        "CAD": 95154,
        "CHF": 63041,
        "EUR": 64823,
        "GBP": 55198,
        "JPY": 10601000,
        "USD": 69880,
    }
    assert {q.as_of for q in quotes} == {QUOTED}  # the quote's own time, not the sync's
    assert {q.age_s for q in quotes} == {294.0}
    assert [(b.height, b.pool, b.fees_sat, b.reward_sat) for b in blocks] == [
        (837050, "Foundry USA", 10929414, 635929414),
        (837049, "Foundry USA", 10976151, 635976151),
        (837048, "ViaBTC", 11119622, 636119622),
    ]
    assert blocks[0].ts == datetime(2024, 3, 31, 3, 15, 27, tzinfo=UTC)
    assert count(engine, network_stats) == 1
    assert count(engine, prices) == 7
    assert count(engine, network_blocks) == 8
    assert [h.path for h in server.requests].count(esplora.PRICES_PATH) == 1


def test_failed_sources_keep_their_last_good_value_with_a_growing_age(
    engine: Engine, server: ReplayServer, client: httpx.Client
) -> None:
    sync(engine, T0, client, server.url)
    server.route(esplora.PRICES_PATH, body=part("conversions"), delay_s=TIMEOUT_S * 4)
    server.route(esplora.DIFFICULTY_ADJUSTMENT_PATH, body=DA_CUT)
    t1 = T0 + timedelta(minutes=5)
    detail = sync(engine, t1, client, server.url)
    assert "prices (timed out after 0.5 s)" in detail
    assert "difficulty adjustment (malformed" in detail
    with engine.connect() as conn:
        view = latest_network(conn, t1)
        quotes = latest_prices(conn, t1)
    # the rest was updated by the second sync ...
    assert view.height is not None and view.height.as_of == t1
    assert view.hashrate_hs is not None and view.hashrate_hs.as_of == t1
    assert all(f is not None and f.as_of == t1 for f in view.fees.values())
    # ... the adjustment estimate is the first sync's, five minutes old ...
    assert view.next_retarget_height is not None
    assert (view.next_retarget_height.value, view.next_retarget_height.as_of) == (838656, T0)
    assert view.next_retarget_height.age_s == 300.0
    assert view.next_retarget_at is not None and view.next_retarget_at.as_of == T0
    assert view.difficulty_change_pct is not None and view.difficulty_change_pct.age_s == 300.0
    # ... and so are the prices, older than they were
    assert {q.currency: q.price for q in quotes}["USD"] == 69880
    assert {q.age_s for q in quotes} == {594.0}
    assert count(engine, prices) == 7
    assert count(engine, network_stats) == 2

    # Both sources come back: the same quote adds no row, the estimate is fresh again.
    serve_all(server)
    t2 = t1 + timedelta(minutes=5)
    assert "failed" not in sync(engine, t2, client, server.url)
    with engine.connect() as conn:
        view = latest_network(conn, t2)
    assert view.next_retarget_height is not None and view.next_retarget_height.as_of == t2
    assert count(engine, prices) == 7
    assert count(engine, network_blocks) == 8


def test_when_every_source_fails_the_job_raises_and_writes_nothing(
    engine: Engine, client: httpx.Client
) -> None:
    with ReplayServer() as server:  # every path: 503
        for path in (
            esplora.TIP_HEIGHT_PATH,
            esplora.HASHRATE_PATH,
            esplora.DIFFICULTY_ADJUSTMENT_PATH,
            esplora.FEES_PATH,
            esplora.PRICES_PATH,
            esplora.BLOCKS_PATH,
        ):
            server.route(path, body="Service Unavailable", status=503, content_type="text/plain")
        with pytest.raises(NetworkSyncFailed, match=r"prices \(HTTP 503\)"):
            sync(engine, T0, client, server.url)
    nothing = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(NetworkSyncFailed, match="ConnectError"):
        sync(engine, T0, client, nothing)
    assert count(engine, network_stats) == count(engine, prices) == 0
    with engine.connect() as conn:
        view = latest_network(conn, T0)
    assert view.height is None and view.difficulty is None
    assert all(f is None for f in view.fees.values())


def test_plain_esplora_blocks_are_read_when_the_mempool_list_is_missing(
    engine: Engine, client: httpx.Client
) -> None:
    # Only an Esplora block list (the real blocks without mempool's extras) is served.
    plain = [{k: v for k, v in b.items() if k != "extras"} for b in snapshot()["blocks"]]
    with ReplayServer() as server:
        server.route(esplora.ESPLORA_BLOCKS_PATH, body=httpx.Response(200, json=plain).content)
        detail = sync(engine, T0, client, server.url + "/api/")  # base with `/api` works too
        assert server.hits(esplora.BLOCKS_PATH) == 1  # tried first: 404
    assert "8 blocks" in detail
    with engine.connect() as conn:
        view = latest_network(conn, T0)
        blocks = recent_blocks(conn)
    # the newest block answers for the tip and the difficulty when their endpoints fail
    assert view.height is not None and view.height.value == 837050
    assert view.difficulty is not None and view.difficulty.value == 83126997340024.61
    assert view.hashrate_hs is None and view.next_retarget_height is None
    assert blocks[0].pool is None and blocks[0].tx_count == 2659


def test_the_scheduled_job_syncs_with_its_own_client(engine: Engine, server: ReplayServer) -> None:
    spec = network_job(server.url, 300.0, timeout_s=TIMEOUT_S)
    assert (spec.name, spec.every_s, spec.run) == ("network", 300.0, None)
    assert spec.sync is not None
    outcome = spec.sync(engine, T0)
    assert outcome is not None and "failed" not in outcome.detail
    assert server.requests[0].headers["user-agent"].startswith("rigwatch/")
    assert Settings().mempool_url == "https://mempool.space"
    assert Settings().network_sync_s == 300.0


# --- API ----------------------------------------------------------------------------


@pytest.fixture
def commander(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A commander with no scheduled jobs: the tests sync when they choose."""
    with running_commander(tmp_path / "data", jobs=[], database_url=db_url) as rc:
        yield rc


def test_the_api_shows_each_figure_with_its_age_and_unknowns_as_null(
    commander: RunningCommander, viewer: httpx.Client, anonymous: httpx.Client
) -> None:
    empty = viewer.get("/api/v1/network").json()
    assert empty["height"] is None and empty["difficulty"] is None
    assert empty["next_adjustment"] == {
        "height": None,
        "estimated_at": None,
        "difficulty_change_pct": None,
    }
    assert set(empty["fees"].values()) == {None}
    assert viewer.get("/api/v1/prices").json()["prices"] == []
    assert viewer.get("/api/v1/network/blocks").json() == []

    with ReplayServer() as server, httpx.Client() as client:
        serve_all(server)
        server.route(esplora.HASHRATE_PATH, body="busy", status=503)
        server.route(esplora.DIFFICULTY_ADJUSTMENT_PATH, body=DA_CUT)
        ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
        sync(commander.engine, ten_minutes_ago, client, server.url)

    body = viewer.get("/api/v1/network").json()
    assert body["chain"] == "BTC"
    assert body["height"]["value"] == 698767
    assert 600 <= body["height"]["age_s"] < 660
    assert datetime.fromisoformat(body["height"]["as_of"]) == ten_minutes_ago
    assert body["hashrate_hs"] is None  # its source failed and never answered: null, not 0
    # no hashrate body, so the newest block answered for the difficulty
    assert body["difficulty"]["value"] == 83126997340024.61
    assert body["next_adjustment"]["height"] is None
    assert body["next_adjustment"]["estimated_at"] is None
    assert body["fees"]["economy"]["value"] == 4.0
    assert 600 <= body["fees"]["fast"]["age_s"] < 660

    quotes = viewer.get("/api/v1/prices", params={"coin": "btc"}).json()
    assert quotes["coin"] == "BTC"
    usd = next(p for p in quotes["prices"] if p["currency"] == "USD")
    assert usd["price"] == 69880
    assert datetime.fromisoformat(usd["as_of"]) == QUOTED
    assert usd["age_s"] >= (datetime.now(UTC) - QUOTED).total_seconds() - 60
    assert len(quotes["prices"]) == 7

    history = viewer.get(
        "/api/v1/prices/history",
        params={"currency": "eur", "from": "2024-03-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"},
    ).json()
    assert history["currency"] == "EUR"
    assert [(i["price"], i["as_of"]) for i in history["items"]] == [(64823, "2024-03-31T03:15:06Z")]
    assert viewer.get("/api/v1/prices/history").json()["items"] == []  # last 30 days: none
    bad = viewer.get("/api/v1/prices/history", params={"from": "2024-04-02", "to": "2024-04-01"})
    assert bad.status_code == 422

    blocks = viewer.get("/api/v1/network/blocks", params={"limit": 2}).json()
    assert [(b["height"], b["pool"], b["fees_sat"]) for b in blocks] == [
        (837050, "Foundry USA", 10929414),
        (837049, "Foundry USA", 10976151),
    ]
    assert viewer.get("/api/v1/network/blocks", params={"limit": 0}).status_code == 422
    for path in ("/api/v1/network", "/api/v1/network/blocks", "/api/v1/prices"):
        assert anonymous.get(path).status_code == 401
