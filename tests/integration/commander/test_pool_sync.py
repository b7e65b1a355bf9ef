"""The pool sync job against a loopback server replaying pool APIs, on both databases.

ckpool, P2Pool and Ocean's statsnap / user_hashrate / user_hashrate_full / earnpay
answers are real recordings under tests/fixtures/ (tests/pool_payloads.py serves the Ocean
ones). Ocean's userinfo_full and blocks, the public-pool answers, and the
user_hashrate_full bodies of `full_with` are hand-written (tests/pool_payloads.py and
below; NOT recordings: none exists).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from rigwatch.commander.jobs import JobOutcome
from rigwatch.commander.pool_sync import PoolSyncFailed, sync_pools
from rigwatch.domain.models import EventKind
from rigwatch.domain.pools import PoolAccountView, PoolKind
from rigwatch.protocols import ocean
from rigwatch.store import pools as store
from rigwatch.store.auth import create_sentry
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.tables import events, miner_state, miners, pool_payouts
from rigwatch.store.timestamps import to_us
from tests import pool_payloads as pp
from tests.replay import FIXTURES, ReplayServer, Reply

T0 = datetime(2025, 7, 8, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
CK_ACCOUNT = "bc1qa8r4up9nchkvdnhcf9feexv2jfantrk48ef374"
P2P_DIR = FIXTURES / "p2pool" / "data-api"


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
        yield s


def add(engine: Engine, kind: PoolKind, base_url: str, account: str, interval_s: int = 300) -> int:
    with engine.begin() as conn:
        return store.add_account(
            conn,
            kind=kind,
            name=f"{kind} test",
            base_url=base_url,
            account=account,
            interval_s=interval_s,
            now=T0 - timedelta(days=1),
        )


def sync(engine: Engine, now: datetime, *, timeout_s: float = 5.0) -> JobOutcome:
    with httpx.Client() as client:
        return sync_pools(engine, now, client=client, timeout_s=timeout_s)


def route_ocean(server: ReplayServer, prefix: str = "/ocean", *, full: object = None) -> None:
    for path, body in pp.ocean_routes().items():
        server.route(prefix + path, body=body)
    if full is not None:
        server.route(f"{prefix}/user_hashrate_full/{pp.OCEAN_ACCOUNT}", body=pp.body(full))


def route_earnpay(
    server: ReplayServer, now: datetime, last_success: datetime | None, prefix: str = "/ocean"
) -> None:
    routes = pp.ocean_routes(earnpay=ocean.earnpay_window(last_success, now))
    path = next(p for p in routes if p.startswith("/earnpay/"))
    server.route(prefix + path, body=routes[path])


def route_ckpool(server: ReplayServer, prefix: str = "/ck", delay_s: float = 0.0) -> None:
    server.route(
        f"{prefix}/users/{CK_ACCOUNT}",
        fixture="ckpool/para__solo-user-user1.json",
        delay_s=delay_s,
    )
    server.route(f"{prefix}/pool/pool.status", fixture="ckpool/para__pool-status.txt")


def route_p2pool(server: ReplayServer, prefix: str = "/p2p") -> None:
    for name in ("local/stratum", "pool/stats", "network/stats", "stats_mod", "pool/blocks"):
        fixture = f"p2pool/data-api/oieieio-2024-12__{name.replace('/', '_')}.json"
        server.route(f"{prefix}/{name}", fixture=fixture)


def route_public_pool(server: ReplayServer, prefix: str = "/pp/api") -> None:
    server.route(
        f"{prefix}/client/{pp.PUBLIC_POOL_ACCOUNT}", body=pp.body(pp.PUBLIC_POOL_CLIENT_NEW)
    )
    server.route(f"{prefix}/info", body=pp.body(pp.PUBLIC_POOL_INFO))
    server.route(f"{prefix}/network", body=pp.body(pp.PUBLIC_POOL_NETWORK))


def view(engine: Engine, account_id: int) -> PoolAccountView:
    with engine.connect() as conn:
        return store.list_accounts(conn, account_id)[0]


# ---- each kind ---------------------------------------------------------------------------


def test_each_kind_is_synced_into_its_account(engine: Engine, server: ReplayServer) -> None:
    route_ocean(server)
    route_earnpay(server, T0, None)
    route_public_pool(server)
    route_ckpool(server)
    route_p2pool(server)
    ids = {
        PoolKind.OCEAN: add(engine, PoolKind.OCEAN, server.url + "/ocean", pp.OCEAN_ACCOUNT),
        PoolKind.PUBLIC_POOL: add(
            engine, PoolKind.PUBLIC_POOL, server.url + "/pp/api", pp.PUBLIC_POOL_ACCOUNT
        ),
        PoolKind.CKPOOL: add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT),
        PoolKind.P2POOL: add(engine, PoolKind.P2POOL, server.url + "/p2p", "4wallet"),
    }

    outcome = sync(engine, T0)

    assert outcome.detail.startswith("4/4 accounts synced")
    for account_id in ids.values():
        got = view(engine, account_id)
        assert (got.last_error, got.consecutive_failures) == (None, 0)
        assert got.last_success_at == T0 and got.latest is not None and got.latest.ts == T0
    with engine.connect() as conn:
        oc = store.account_detail(conn, ids[PoolKind.OCEAN])
        ck = store.account_detail(conn, ids[PoolKind.CKPOOL])
        p2 = store.account_detail(conn, ids[PoolKind.P2POOL])
        pub = store.account_detail(conn, ids[PoolKind.PUBLIC_POOL])
    assert oc is not None and ck is not None and p2 is not None and pub is not None
    assert oc.account.latest is not None
    # the real captures (tests/fixtures/ocean/): "0.00000000" and "0.14294639" BTC, the
    # user_hashrate hashrate_3600s (> 2**53, exact as a double), payouts newest first
    assert oc.account.latest.unpaid_atomic == 0
    assert oc.account.latest.estimated_atomic == 14_294_639
    assert oc.account.latest.hashrates["1h"] == 919317915435294592
    assert oc.account.latest.workers == 2866
    assert [p.amount_atomic for p in oc.payouts] == [14_297_234, 14_562_604, 14_690_711]
    assert [b.height for b in oc.blocks] == [903000, 902500]  # hand-written blocks
    assert {w.name: w.hashrate_hs for w in oc.workers} == {
        "cc5719001b71": 344650471483492,
        "cc550a000ca5": 258331478625558,
        "cc5719000408": 258956978573804,
    }
    assert ck.account.latest is not None
    assert ck.account.latest.hashrates["1d"] == 85.4e12
    assert ck.account.latest.pool_hashrate_hs == 360e15
    assert [w.name for w in ck.workers] == [CK_ACCOUNT]
    assert p2.account.latest is not None and p2.account.latest.coin == "XMR"
    assert p2.account.latest.estimated_atomic == 1_635_192_792
    assert len(p2.blocks) == len(
        json.loads((P2P_DIR / "oieieio-2024-12__pool_blocks.json").read_bytes())
    )
    assert pub.account.latest is not None and pub.account.latest.network_height == 903123
    assert [b.height for b in pub.blocks] == [883000]


# ---- failures ----------------------------------------------------------------------------


def test_one_account_timing_out_does_not_stop_the_others(
    engine: Engine, server: ReplayServer
) -> None:
    route_ckpool(server, delay_s=3.0)
    route_p2pool(server)
    slow = add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT)
    fine = add(engine, PoolKind.P2POOL, server.url + "/p2p", "4wallet")

    outcome = sync(engine, T0, timeout_s=0.5)

    assert outcome.detail.startswith("1/2 accounts synced")
    failed = view(engine, slow)
    assert failed.consecutive_failures == 1 and failed.last_success_at is None
    assert failed.last_error is not None and "timed out after 0.5 s" in failed.last_error
    assert failed.last_sync_at == T0
    assert view(engine, fine).last_success_at == T0


def test_only_when_every_account_fails_does_the_job_fail(
    engine: Engine, server: ReplayServer
) -> None:
    server.route(f"/ck/users/{CK_ACCOUNT}", body=b"<html>502 Bad Gateway</html>", status=502)
    server.route("/p2p/local/stratum", body=b"[1, 2, 3]")
    ck = add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT)
    p2 = add(engine, PoolKind.P2POOL, server.url + "/p2p", "4wallet")

    with pytest.raises(PoolSyncFailed, match="every pool account failed"):
        sync(engine, T0)
    with pytest.raises(PoolSyncFailed):
        sync(engine, T0 + 5 * MIN)

    assert view(engine, ck).consecutive_failures == 2
    assert "HTTP 502" in (view(engine, ck).last_error or "")
    assert view(engine, p2).consecutive_failures == 2
    assert "malformed reply" in (view(engine, p2).last_error or "")

    route_ckpool(server)
    sync(engine, T0 + 10 * MIN)
    assert (view(engine, ck).consecutive_failures, view(engine, ck).last_error) == (0, None)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(body=b'{"hashrate1m": "0", "worker": [', status=200), "malformed reply"),
        (Reply(body=b"not json at all"), "malformed reply"),
        (Reply(body=b"{}" * 10, cut_after=5), "GET"),
        (Reply(body=b'{"error": "nope"}', status=404), "HTTP 404"),
    ],
)
def test_malformed_bodies_are_recorded_on_the_account(
    engine: Engine, server: ReplayServer, reply: Reply, error: str
) -> None:
    server.sequence(f"/ck/users/{CK_ACCOUNT}", [reply])
    ck = add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT)
    with pytest.raises(PoolSyncFailed):
        sync(engine, T0)
    got = view(engine, ck)
    assert got.consecutive_failures == 1 and got.latest is None
    assert got.last_error is not None and error in got.last_error


def test_a_garbled_optional_endpoint_costs_only_its_figures(
    engine: Engine, server: ReplayServer
) -> None:
    route_ckpool(server)
    server.route("/ck/pool/pool.status", body=b"garbage\n")
    ck = add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT)
    sync(engine, T0)
    got = view(engine, ck)
    assert got.consecutive_failures == 0 and got.last_success_at == T0
    assert got.latest is not None and got.latest.pool_hashrate_hs is None
    assert got.last_error == "ckpool pool.status: no JSON object on any line"


# ---- schedule and idempotence --------------------------------------------------------------


def test_an_account_is_synced_only_when_its_interval_has_passed(
    engine: Engine, server: ReplayServer
) -> None:
    route_ckpool(server)
    # a day in µs overflows a 32-bit integer: the due check must not
    add(engine, PoolKind.CKPOOL, server.url + "/ck", CK_ACCOUNT, interval_s=86400)
    path = f"/ck/users/{CK_ACCOUNT}"
    sync(engine, T0)
    assert sync(engine, T0 + 1439 * MIN).detail == "no account due"
    assert server.hits(path) == 1
    sync(engine, T0 + 1440 * MIN)
    assert server.hits(path) == 2


def test_payouts_are_stored_once_however_often_the_pool_repeats_them(
    engine: Engine, server: ReplayServer
) -> None:
    route_ocean(server)
    oc = add(engine, PoolKind.OCEAN, server.url + "/ocean", pp.OCEAN_ACCOUNT)
    last: datetime | None = None
    for n in range(3):
        now = T0 + n * 5 * MIN
        route_earnpay(server, now, last)
        sync(engine, now)
        assert view(engine, oc).last_error is None
        last = now
    with engine.connect() as conn:
        rows = conn.execute(select(pool_payouts.c.amount_atomic, pool_payouts.c.txid)).all()
        detail = store.account_detail(conn, oc)
    assert sorted(rows) == [
        (14_297_234, "e160bdfed69bcae7d9ca2fbd12831aa9daff6d5568cd7f131fefa02a64599571"),
        (14_562_604, "6884131b49984543978ea647f97ef0396df83ca0bb1c32361223a973fb621e63"),
        (14_690_711, "9723fbf13ce5a64645009fd9c53ab5fa9bd5c8752b7409819666a6717dbc2eff"),
    ]
    assert detail is not None and len(detail.blocks) == 2


# ---- worker matching and the gap event ---------------------------------------------------


def add_miner(
    engine: Engine, sentry_id: int, key: str, *, worker: str | None, user: str | None
) -> int:
    with engine.begin() as conn:
        miner_id: int = conn.execute(
            insert(miners)
            .values(
                sentry_id=sentry_id,
                key=key,
                kind="asic",
                worker=worker,
                tags="[]",
                first_seen=to_us(T0 - timedelta(days=2)),
            )
            .returning(miners.c.id)
        ).scalar_one()
        conn.execute(
            insert(miner_state).values(
                miner_id=miner_id,
                ts=to_us(T0),
                last_sample_ts=to_us(T0),
                status="online",
                warnings="[]",
                fans_rpm="[]",
                errors="[]",
                hashboards="[]",
                pools="[]",
                pool_user=user,
            )
        )
    return int(miner_id)


def report(engine: Engine, miner_id: int, hashrate_hs: float, now: datetime) -> None:
    """The miner's own reading, as ingest would leave it in miner_state."""
    with engine.begin() as conn:
        conn.execute(
            update(miner_state)
            .where(miner_state.c.miner_id == miner_id)
            .values(hashrate_hs=hashrate_hs, ts=to_us(now), last_sample_ts=to_us(now))
        )


def gap_events(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.miner_id, events.c.key)
            .where(events.c.kind == str(EventKind.POOL_HASHRATE_GAP))
            .order_by(events.c.id)
        )
        return [(r.miner_id, r.key) for r in rows]


# Two workers of the real user_hashrate_full capture and their 1-hour (preferred) figure.
WORKER_A, WORKER_A_HS = "cc5719001b71", 344650471483492
WORKER_B, WORKER_B_HS = "cc550a000ca5", 258331478625558


def full_with(worker_a_hs: float) -> dict[str, object]:
    """A hand-written user_hashrate_full (the capture's shape, names and worker B's
    figure) in which worker A's pool-side hashrate is `worker_a_hs`."""
    rec = {"hashrate_300s": str(int(worker_a_hs)), "hashrate_3600s": str(int(worker_a_hs))}
    workers = {WORKER_A: [rec], WORKER_B: [{"hashrate_3600s": str(WORKER_B_HS)}]}
    return {"result": {"workers": workers}}


def test_workers_are_matched_and_a_gap_raises_one_event_after_an_hour(
    engine: Engine, server: ReplayServer
) -> None:
    with engine.begin() as conn:
        sentry_id, _ = create_sentry(conn, "rack-a")
    # the address.worker form, the bare name in another case, and another address's worker
    a = add_miner(
        engine, sentry_id, "m-a", worker=f"{pp.OCEAN_ACCOUNT.upper()}.{WORKER_A.upper()}", user=None
    )
    b = add_miner(engine, sentry_id, "m-b", worker=None, user=WORKER_B.upper())
    c = add_miner(engine, sentry_id, "m-c", worker=f"bc1qsomeoneelse.{WORKER_A}", user=None)
    route_ocean(server)  # the capture credits A with ~344.65 TH/s, B with ~258.33 TH/s
    oc = add(engine, PoolKind.OCEAN, server.url + "/ocean", pp.OCEAN_ACCOUNT)

    def tick(minutes: int, a_hs: float = 474e12) -> None:
        now = T0 + minutes * MIN
        report(engine, a, a_hs, now)
        report(engine, b, 258e12, now)
        report(engine, c, 100e12, now)
        sync(engine, now)

    tick(0)
    with engine.connect() as conn:
        seen_a = store.miner_pools(conn, a)
        seen_b = store.miner_pools(conn, b)
        seen_c = store.miner_pools(conn, c)
        detail = store.account_detail(conn, oc)
    assert [(v.worker, v.pool_hashrate_hs, v.miner_hashrate_hs) for v in seen_a] == [
        (WORKER_A, WORKER_A_HS, 474e12)
    ]
    # (474e12 - 344650471483492) / 474e12
    assert seen_a[0].gap_pct == pytest.approx(27.29, abs=0.01)
    assert seen_a[0].gap_since == T0 and not seen_a[0].gap_raised
    # (258331478625558 - 258e12) / 258e12 = 0.13 %: well within, no gap
    assert seen_b[0].gap_since is None and seen_b[0].gap_pct == 0.13
    assert seen_c == []
    assert detail is not None
    assert {w.name: w.miner_ids for w in detail.workers} == {
        WORKER_A: (a,),
        WORKER_B: (b,),
        "cc5719000408": (),
    }

    for minutes in (5, 30, 55):
        tick(minutes)
    assert gap_events(engine) == []
    tick(60)  # an hour of gap: one event
    assert gap_events(engine) == [(a, f"pool_hashrate_gap:{oc}:{a}:{to_us(T0)}")]
    for minutes in (65, 90, 120):  # the gap goes on: nothing more
        tick(minutes)
    assert len(gap_events(engine)) == 1

    route_ocean(server, full=full_with(470e12))  # within 20 %: the episode ends, silently
    tick(125)
    assert len(gap_events(engine)) == 1
    with engine.connect() as conn:
        assert store.miner_pools(conn, a)[0].gap_since is None

    route_ocean(server, full=full_with(200e12))  # a new episode: its own event after an hour
    tick(130)
    tick(185)
    assert len(gap_events(engine)) == 1
    tick(190)
    assert gap_events(engine)[1] == (a, f"pool_hashrate_gap:{oc}:{a}:{to_us(T0 + 130 * MIN)}")
    with engine.connect() as conn:
        event_rows = conn.execute(
            select(events.c.sentry_id, events.c.message, events.c.data).where(
                events.c.kind == str(EventKind.POOL_HASHRATE_GAP)
            )
        ).all()
    assert {r.sentry_id for r in event_rows} == {sentry_id}
    assert json.loads(event_rows[0].data)["gap_pct"] == 27.3


def test_a_silent_miner_neither_starts_nor_ends_a_gap(engine: Engine, server: ReplayServer) -> None:
    with engine.begin() as conn:
        sentry_id, _ = create_sentry(conn, "rack-a")
    a = add_miner(engine, sentry_id, "m-a", worker=WORKER_A, user=None)
    route_ocean(server)
    add(engine, PoolKind.OCEAN, server.url + "/ocean", pp.OCEAN_ACCOUNT)
    report(engine, a, 474e12, T0)
    sync(engine, T0)
    # the miner stops reporting: its last reading goes stale, the episode is kept as is
    sync(engine, T0 + 70 * MIN)
    with engine.connect() as conn:
        got = store.miner_pools(conn, a)[0]
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
    assert got.gap_since == T0 and got.miner_hashrate_hs is None


def test_several_miners_behind_one_worker_name_are_compared_as_their_sum(
    engine: Engine, server: ReplayServer
) -> None:
    with engine.begin() as conn:
        sentry_id, _ = create_sentry(conn, "rack-a")
    one = add_miner(engine, sentry_id, "m-1", worker=WORKER_A, user=None)
    two = add_miner(engine, sentry_id, "m-2", worker=None, user=WORKER_A)
    route_ocean(server)  # ~344.65 TH/s at the pool (the capture)
    add(engine, PoolKind.OCEAN, server.url + "/ocean", pp.OCEAN_ACCOUNT)
    report(engine, one, 170e12, T0)
    report(engine, two, 175e12, T0)
    sync(engine, T0)
    with engine.connect() as conn:
        views = [store.miner_pools(conn, m)[0] for m in (one, two)]
    assert [v.miner_hashrate_hs for v in views] == [345e12, 345e12]
    assert all(v.gap_since is None for v in views)
