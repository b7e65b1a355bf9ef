"""The wallet sync against a loopback server replaying explorer answers (tests/replay.py),
on SQLite and PostgreSQL. Pages are built from recorded tx objects (tests/payout_payloads.py
says how); the amounts and days below are the expected results, worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rigwatch.commander.payout_sync import PayoutSyncFailed, payout_job, sync_wallets
from rigwatch.config import Settings
from rigwatch.domain.payouts import Backend
from rigwatch.store import payouts as store
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.tables import payment_retries, payments, revenue_daily
from tests.payout_payloads import (
    OTHER,
    block_hash,
    blockbook_page,
    blockbook_status,
    blockbook_tx,
    dumps,
    esplora_tx,
    txid,
)
from tests.replay import ReplayServer, Reply

ME = "bc1qjmc49gy3jjrkyjl57yl5duxjp7ssmxkvh5t2q5"
LTC_ME = "ltc1qg82wz0zz4ykxmgh4n4wx7mw2v4l4dglhsm3shf"
PAYER = "1Nb1ykSD7J5k4RFjJQGsrD9gxBE6jzfNa9"
MAR_1 = 1_709_251_200  # 2024-03-01 00:00 UTC
HOUR = 3600
DAY = 86_400
NOW = datetime(2024, 3, 3, tzinfo=UTC)
TXS = f"/api/address/{ME}/txs"


def chain(after: int) -> str:
    return f"{TXS}/chain/{txid(after)}"


# The first sync's history of ME, newest first:
UNCONFIRMED = esplora_tx(1, to=[(ME, 1_000)])  # in the mempool: not revenue yet
PAID_101 = esplora_tx(  # 50,000 sat to ME at output 1, 2024-03-02 01:00
    2, to=[(PAYER, 5_000), (ME, 50_000)], height=101, time=MAR_1 + DAY + HOUR
)
COINBASE_100 = esplora_tx(  # a solo block: 312,500,000 sat, 2024-03-01 02:00
    3, to=[(ME, 312_500_000)], height=100, time=MAR_1 + 2 * HOUR, coinbase=True
)
OUTGOING_100 = esplora_tx(  # ME spends the block reward; its change back to ME is no revenue
    4,
    to=[(OTHER, 300_000_000), (ME, 12_499_000)],
    spends=[(ME, 312_500_000)],
    height=100,
    time=MAR_1 + 2 * HOUR,
)
TWO_OUTPUTS_90 = esplora_tx(  # 25,000 + 75,000 sat in two outputs, 2024-03-01 01:00
    5, to=[(ME, 25_000), (ME, 75_000)], height=90, time=MAR_1 + HOUR
)
FIRST_PAGE = [UNCONFIRMED, PAID_101, COINBASE_100, OUTGOING_100, TWO_OUTPUTS_90]
# Expected: 2024-03-01: 312,500,000 + 25,000 + 75,000 = 312,600,000 sat in 3 payments;
#           2024-03-02: 50,000 sat in 1 payment.
FIRST_DAYS = {"2024-03-01": (312_600_000, 3), "2024-03-02": (50_000, 1)}


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
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def add_wallet(
    engine: Engine,
    base_url: str,
    address: str = ME,
    backend: Backend = Backend.ESPLORA,
    coin: str = "BTC",
) -> int:
    with engine.begin() as conn:
        return store.create_wallet(
            conn,
            coin=coin,
            address=address,
            backend=backend,
            base_url=base_url,
            label=None,
            now=NOW,
        )


def paid(engine: Engine) -> set[tuple[str, int, int, int, str]]:
    with engine.connect() as conn:
        return {
            (r.txid, r.vout, r.amount_atomic, r.block_height, r.block_hash)
            for r in conn.execute(select(payments))
        }


def days(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(revenue_daily).order_by(revenue_daily.c.day))
        return {r.day: (r.amount_atomic, r.payments) for r in rows}


def wallet(engine: Engine, wallet_id: int) -> Any:
    with engine.connect() as conn:
        return store.get_wallet(conn, wallet_id)


def serve_history(server: ReplayServer, page: list[dict[str, Any]]) -> None:
    server.route(TXS, body=dumps(page))
    server.route(f"{TXS}/chain/{page[-1]['txid']}", body="[]")


def test_first_sync_stores_incoming_confirmed_outputs_and_daily_totals(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    outcome = sync_wallets(engine, NOW, client=client)
    assert paid(engine) == {
        (txid(2), 1, 50_000, 101, block_hash(101)),
        (txid(3), 0, 312_500_000, 100, block_hash(100)),
        (txid(5), 0, 25_000, 90, block_hash(90)),
        (txid(5), 1, 75_000, 90, block_hash(90)),
    }
    assert days(engine) == FIRST_DAYS
    with engine.connect() as conn:
        coinbase = conn.execute(select(payments.c.txid).where(payments.c.coinbase)).all()
        assert [row.txid for row in coinbase] == [txid(3)]
    state = wallet(engine, wallet_id)
    assert (state.synced_height, state.consecutive_failures, state.last_error) == (101, 0, None)
    assert state.last_success_at == NOW
    # The whole history was read: the first page, then the chain page after its last tx.
    assert (server.hits(TXS), server.hits(chain(5))) == (1, 1)
    assert "4 new" in outcome.detail and not outcome.more


def test_replaying_the_same_pages_stores_nothing_twice(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    # A reset re-reads every page from height 0, the chain page included.
    with engine.begin() as conn:
        assert store.reset_wallet(conn, wallet_id, 0)
    outcome = sync_wallets(engine, NOW + timedelta(minutes=10), client=client)
    assert server.hits(chain(5)) == 2
    assert "0 new, 0 moved, 0 removed" in outcome.detail
    assert len(paid(engine)) == 4
    assert days(engine) == FIRST_DAYS
    assert wallet(engine, wallet_id).rescan_from is None


def test_a_second_sync_reads_only_from_the_synced_height_down(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    # New: 10,000 sat at height 110 on 2024-03-02 12:00. The scan starts at 101 - 6 + 1 = 96;
    # the first page already reaches height 90, so no chain page is asked for.
    new = esplora_tx(6, to=[(ME, 10_000)], height=110, time=MAR_1 + DAY + 12 * HOUR)
    server.route(TXS, body=dumps([new, *FIRST_PAGE]))
    outcome = sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert (server.hits(TXS), server.hits(chain(5))) == (2, 1)
    assert "1 new" in outcome.detail
    assert (txid(6), 0, 10_000, 110, block_hash(110)) in paid(engine)
    assert days(engine)["2024-03-02"] == (60_000, 2)
    assert wallet(engine, wallet_id).synced_height == 110


def test_a_reorganisation_at_the_tip_updates_moved_payments_and_removes_vanished_ones(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    # Block 101 was replaced (same height, another hash); the coinbase of block 100 is gone
    # with its block (not listed at all); the mempool tx is still unconfirmed.
    moved = esplora_tx(
        2, to=[(PAYER, 5_000), (ME, 50_000)], height=101, fork=1, time=MAR_1 + DAY + HOUR
    )
    server.route(TXS, body=dumps([UNCONFIRMED, moved, OUTGOING_100, TWO_OUTPUTS_90]))
    outcome = sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert "1 moved, 1 removed" in outcome.detail
    assert paid(engine) == {
        (txid(2), 1, 50_000, 101, block_hash(101, fork=1)),
        (txid(5), 0, 25_000, 90, block_hash(90)),
        (txid(5), 1, 75_000, 90, block_hash(90)),
    }
    # 2024-03-01 loses the 312,500,000 sat coinbase: 25,000 + 75,000 = 100,000 in 2.
    assert days(engine) == {"2024-03-01": (100_000, 2), "2024-03-02": (50_000, 1)}


def test_a_payment_whose_tx_is_back_in_the_mempool_is_removed_until_it_confirms(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    unconfirmed_again = esplora_tx(2, to=[(PAYER, 5_000), (ME, 50_000)])
    server.route(TXS, body=dumps([unconfirmed_again, *FIRST_PAGE[2:]]))
    sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert txid(2) not in {p[0] for p in paid(engine)}
    assert "2024-03-02" not in days(engine)
    # It confirms in block 102 the next day: 2024-03-03 gets it.
    confirmed = esplora_tx(2, to=[(PAYER, 5_000), (ME, 50_000)], height=102, time=MAR_1 + 2 * DAY)
    server.route(TXS, body=dumps([confirmed, *FIRST_PAGE[2:]]))
    sync_wallets(engine, NOW + timedelta(minutes=10), client=client)
    assert (txid(2), 1, 50_000, 102, block_hash(102)) in paid(engine)
    assert days(engine)["2024-03-03"] == (50_000, 1)


def test_a_tx_that_cannot_be_fetched_waits_in_the_retries_and_is_stored_later(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    full = esplora_tx(7, to=[(ME, 40_000)], height=101, time=MAR_1 + DAY)
    listed = esplora_tx(7, to=[(ME, 40_000)], height=101, time=MAR_1 + DAY)
    listed["vin"][0]["prevout"] = None  # the listing could not tell whether it is outgoing
    serve_history(server, [listed, TWO_OUTPUTS_90])
    server.sequence(
        f"/api/tx/{txid(7)}",
        [Reply(500, b'{"error":"Failed to get transaction"}'), Reply(200, dumps(full))],
    )
    sync_wallets(engine, NOW, client=client)
    assert txid(7) not in {p[0] for p in paid(engine)}
    with engine.connect() as conn:
        retry = conn.execute(select(payment_retries)).one()
    assert (retry.txid, retry.attempts) == (txid(7), 1)
    assert "HTTP 500" in retry.reason and "Failed to get transaction" in retry.reason
    # The scan finished without it (its height unknown, the highest read one is 90).
    assert wallet(engine, wallet_id).synced_height == 90
    assert len(paid(engine)) == 2
    assert wallet(engine, wallet_id).retries == 1

    sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert (txid(7), 0, 40_000, 101, block_hash(101)) in paid(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(payment_retries)).scalar() == 0
    assert days(engine)["2024-03-02"] == (40_000, 1)


def test_one_failing_wallet_stops_no_other_and_all_failing_raises(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    good = add_wallet(engine, f"{server.url}/api")
    bad = add_wallet(engine, f"{server.url}/down/api", address=PAYER)
    serve_history(server, FIRST_PAGE)
    server.route(f"/down/api/address/{PAYER}/txs", status=500, body="Failed to get address")
    outcome = sync_wallets(engine, NOW, client=client)
    assert outcome.detail.startswith("1/2 wallets synced")
    assert len(paid(engine)) == 4
    failed = wallet(engine, bad)
    assert failed.consecutive_failures == 1 and "HTTP 500" in failed.last_error
    assert failed.synced_height is None and failed.last_success_at is None
    assert wallet(engine, good).consecutive_failures == 0

    server.route(TXS, body="<html>maintenance</html>")  # garbage: a ProtocolError
    with pytest.raises(PayoutSyncFailed, match="all 2 wallets failed"):
        sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert wallet(engine, bad).consecutive_failures == 2
    assert "not JSON" in wallet(engine, good).last_error
    assert len(paid(engine)) == 4  # nothing stored is lost


def test_retention_deletes_old_payments_in_chunks_and_keeps_daily_totals(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    with engine.begin() as conn:
        # Cut-off 2024-03-01 12:00: the three payments of 2024-03-01 go, one per statement.
        assert store.purge_payments(
            conn, datetime(2024, 3, 1, 12, tzinfo=UTC), max_rows=1, max_statements=2
        ) == (2, True)
        assert store.purge_payments(conn, datetime(2024, 3, 1, 12, tzinfo=UTC)) == (1, False)
    assert {p[0] for p in paid(engine)} == {txid(2)}
    assert days(engine) == FIRST_DAYS
    # A year and a day later, a re-scan from 0 finds height 90 again but no longer the
    # coinbase: 2024-03-01 is older than the retention, so its total (312,600,000) is final
    # and not lowered to 100,000; then the job's retention (365 days) deletes them all.
    later = NOW + timedelta(days=366)
    with engine.begin() as conn:
        store.reset_wallet(conn, wallet_id, 0)
    server.route(TXS, body=dumps([UNCONFIRMED, PAID_101, TWO_OUTPUTS_90]))
    outcome = sync_wallets(engine, later, client=client, retention_days=365)
    assert "2 new" in outcome.detail and "3 expired payments deleted" in outcome.detail
    assert paid(engine) == set()
    assert days(engine) == FIRST_DAYS


# --- Blockbook -----------------------------------------------------------------------

LTC_ADDRESS_PATH = f"/api/v2/address/{LTC_ME}"
B_PAID_115 = blockbook_tx(11, to=[(LTC_ME, 175_000)], height=115, time=MAR_1 + 3 * HOUR)
B_OUTGOING_110 = blockbook_tx(
    12, to=[(PAYER, 9_000), (LTC_ME, 990)], spends=[(LTC_ME, 10_000)], height=110, time=MAR_1
)
B_UNCONFIRMED = blockbook_tx(13, to=[(LTC_ME, 5)])
B_PAID_100 = blockbook_tx(14, to=[(PAYER, 1), (LTC_ME, 9_888_100)], height=100, time=MAR_1)


def page_query(start: int, page: int) -> str:
    return f"{LTC_ADDRESS_PATH}?details=txs&from={start}&page={page}&pageSize=1000"


def serve_blockbook(server: ReplayServer) -> None:
    server.route("/api/status", body=dumps(blockbook_status(120)))
    server.route(
        page_query(0, 1),
        body=dumps(
            blockbook_page(LTC_ME, [B_UNCONFIRMED, B_PAID_115, B_OUTGOING_110], total_pages=2)
        ),
    )
    server.route(
        page_query(0, 2), body=dumps(blockbook_page(LTC_ME, [B_PAID_100], page=2, total_pages=2))
    )


def asked_from(server: ReplayServer) -> list[str]:
    return [h.query.split("&")[1] for h in server.requests if h.path == LTC_ADDRESS_PATH]


def test_blockbook_wallets_sync_every_page_then_only_from_the_synced_height(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, server.url, LTC_ME, Backend.BLOCKBOOK, "LTC")
    serve_blockbook(server)
    sync_wallets(engine, NOW, client=client)
    assert paid(engine) == {
        (txid(11), 0, 175_000, 115, block_hash(115)),
        (txid(14), 1, 9_888_100, 100, block_hash(100)),
    }
    # Both on 2024-03-01: 175,000 + 9,888,100 = 10,063,100 litoshi.
    assert days(engine) == {"2024-03-01": (10_063_100, 2)}
    assert wallet(engine, wallet_id).synced_height == 120  # the indexer's best height

    # Next time: from 120 - 6 + 1 = 115, after checking block 100 (below the window) is
    # still on the chain.
    new = blockbook_tx(15, to=[(LTC_ME, 300)], height=121, time=MAR_1 + DAY)
    server.route("/api/status", body=dumps(blockbook_status(121)))
    server.route(page_query(115, 1), body=dumps(blockbook_page(LTC_ME, [new, B_PAID_115])))
    server.route("/api/v2/block-index/100", body=dumps({"blockHash": block_hash(100)}))
    sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert asked_from(server) == ["from=0", "from=0", "from=115"]
    assert (txid(15), 0, 300, 121, block_hash(121)) in paid(engine)
    assert days(engine) == {"2024-03-01": (10_063_100, 2), "2024-03-02": (300, 1)}
    assert wallet(engine, wallet_id).synced_height == 121


def test_blockbook_reorg_deeper_than_the_window_is_found_by_block_hash(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    add_wallet(engine, server.url, LTC_ME, Backend.BLOCKBOOK, "LTC")
    serve_blockbook(server)
    sync_wallets(engine, NOW, client=client)
    # Block 100 now has another hash: the scan starts at 100 instead of 115, and the
    # 9,888,100 payment, now in the new block 100, is moved there.
    server.route("/api/v2/block-index/100", body=dumps({"blockHash": block_hash(100, fork=7)}))
    moved = blockbook_tx(14, to=[(PAYER, 1), (LTC_ME, 9_888_100)], height=100, fork=7, time=MAR_1)
    server.route(page_query(100, 1), body=dumps(blockbook_page(LTC_ME, [B_PAID_115, moved])))
    sync_wallets(engine, NOW + timedelta(minutes=5), client=client)
    assert asked_from(server)[-1] == "from=100"
    assert (txid(14), 1, 9_888_100, 100, block_hash(100, fork=7)) in paid(engine)
    assert days(engine) == {"2024-03-01": (10_063_100, 2)}


def test_a_blockbook_error_answer_fails_only_that_wallet(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    ltc = add_wallet(engine, server.url, LTC_ME, Backend.BLOCKBOOK, "LTC")
    add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    server.route("/api/status", body=dumps(blockbook_status(120)))
    server.route(
        LTC_ADDRESS_PATH,
        status=400,
        body='{"error":"Invalid address, decoded address is of unknown format"}',
    )
    outcome = sync_wallets(engine, NOW, client=client)
    assert outcome.detail.startswith("1/2 wallets synced")
    assert "unknown format" in wallet(engine, ltc).last_error


def test_deleting_a_wallet_drops_its_payments_but_not_its_daily_totals_or_its_id(
    engine: Engine, server: ReplayServer, client: httpx.Client
):
    wallet_id = add_wallet(engine, f"{server.url}/api")
    serve_history(server, FIRST_PAGE)
    sync_wallets(engine, NOW, client=client)
    with engine.begin() as conn:
        assert store.delete_wallet(conn, wallet_id)
    assert paid(engine) == set()
    assert days(engine) == FIRST_DAYS
    assert add_wallet(engine, f"{server.url}/api") != wallet_id  # ids are never reused


def test_the_scheduled_job_takes_its_period_from_the_settings(tmp_path: Path):
    job = payout_job(Settings(data_dir=tmp_path, wallet_sync_s=120, reorg_depth=3))
    assert (job.name, job.every_s, job.run, job.sync is not None) == (
        "wallet_sync",
        120,
        None,
        True,
    )
