"""The write path on both databases: idempotency, forward-only state, deltas, events."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rigwatch.domain.models import EventKind, MinerStatus
from rigwatch.store.ingest import BatchResult, write_batches
from rigwatch.store.tables import (
    events,
    hashboard_samples,
    ingest_batches,
    miner_state,
    miners,
    samples,
    sentries,
)
from rigwatch.store.timestamps import to_us
from tests.integration.store.store_helpers import T0, at, event, reading


def _write(engine: Engine, *batches, now=None) -> list[BatchResult]:
    with engine.begin() as conn:
        return write_batches(conn, list(batches), now or at(3600))


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _state(engine: Engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(miner_state).join(miners).where(miners.c.key == key)).one()


def _deltas(engine: Engine, key: str) -> list[int | None]:
    with engine.connect() as conn:
        query = (
            select(samples.c.accepted_delta)
            .join(miners, miners.c.id == samples.c.miner_id)
            .where(miners.c.key == key)
            .order_by(samples.c.ts)
        )
        return list(conn.execute(query).scalars())


def test_a_batch_stores_miners_samples_state_and_reports_updates(engine, make_batch):
    batch = make_batch(1, (reading("m1", 0, ip="10.0.0.1"), reading("m2", 0)))
    [result] = _write(engine, batch)
    assert result.stored and result.samples == 2 and result.events == 0
    assert sorted(u.key for u in result.updates) == ["m1", "m2"]
    update = next(u for u in result.updates if u.key == "m1")
    assert update.status is MinerStatus.ONLINE
    assert update.ts == T0
    assert update.hashrate_hs == 100e12
    assert _count(engine, samples) == 2
    assert _count(engine, miners) == 2
    assert _count(engine, ingest_batches) == 1


def test_a_replayed_batch_is_stored_once(engine, make_batch):
    batch = make_batch(
        7, (reading("m1", 0, accepted=10),), (event(EventKind.SHARE_FOUND, "s1", 0),)
    )
    first = _write(engine, batch)
    again = _write(engine, batch)
    assert first[0].stored
    assert again == [BatchResult(batch.sentry_id, 7, stored=False, samples=0, events=0)]
    assert _count(engine, samples) == 1
    assert _count(engine, events) == 1


def test_the_same_batch_twice_in_one_call_is_stored_once(engine, make_batch):
    batch = make_batch(3, (reading("m1", 0),))
    results = _write(engine, batch, batch)
    assert [r.stored for r in results] == [True, False]
    assert _count(engine, samples) == 1


def test_a_late_sample_does_not_roll_the_live_state_back(engine, make_batch):
    _write(engine, make_batch(2, (reading("m1", 60, hashrate=100e12),)))
    [late] = _write(engine, make_batch(1, (reading("m1", 0, hashrate=1e12),)))
    assert late.stored
    state = _state(engine, "m1")
    assert state.hashrate_hs == 100e12
    assert late.updates[0].hashrate_hs == 100e12
    assert _count(engine, samples) == 2


def test_share_deltas_chain_across_batches_and_a_reset_counts_the_new_total(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0, accepted=100), reading("m1", 60, accepted=130))))
    _write(engine, make_batch(2, (reading("m1", 120, accepted=5),)))
    assert _deltas(engine, "m1") == [None, 30, 5]


def test_a_late_sample_gets_no_delta_so_shares_are_not_counted_twice(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0, accepted=100),)))
    _write(engine, make_batch(2, (reading("m1", 120, accepted=160),)))
    _write(engine, make_batch(3, (reading("m1", 60, accepted=130),)))
    assert _deltas(engine, "m1") == [None, None, 60]


def test_duplicate_events_are_stored_once(engine, make_batch):
    found = event(EventKind.BLOCK_FOUND, "block-880000", 10, "m1")
    _write(engine, make_batch(1, (reading("m1", 0),), (found,)))
    [result] = _write(engine, make_batch(2, (), (found, found)))
    assert result.stored and result.events == 2
    assert _count(engine, events) == 1
    with engine.connect() as conn:
        row = conn.execute(select(events)).one()
    assert row.kind == "block_found" and row.miner_id is not None


def test_offline_event_marks_the_miner_offline_and_online_restores_it(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0),)))
    [off] = _write(engine, make_batch(2, (), (event(EventKind.MINER_OFFLINE, "off-1", 30, "m1"),)))
    assert off.updates[0].status is MinerStatus.OFFLINE
    assert _state(engine, "m1").status == "offline"
    [on] = _write(engine, make_batch(3, (), (event(EventKind.MINER_ONLINE, "on-1", 90, "m1"),)))
    assert on.updates[0].status is MinerStatus.ONLINE


def test_an_offline_event_older_than_the_state_is_ignored(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 60),)))
    _write(engine, make_batch(2, (), (event(EventKind.MINER_OFFLINE, "off-1", 30, "m1"),)))
    assert _state(engine, "m1").status == "online"


def test_online_event_recomputes_warning_from_the_latest_sample(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0, temp=99.0),)))
    _write(engine, make_batch(2, (), (event(EventKind.MINER_OFFLINE, "off", 30, "m1"),)))
    _write(engine, make_batch(3, (), (event(EventKind.MINER_ONLINE, "on", 60, "m1"),)))
    assert _state(engine, "m1").status == "warning"


def test_offline_then_online_in_one_batch_ends_online(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0),)))
    batch = make_batch(
        2,
        (),
        (
            event(EventKind.MINER_ONLINE, "on", 60, "m1"),
            event(EventKind.MINER_OFFLINE, "off", 30, "m1"),
        ),
    )
    _write(engine, batch)
    assert _state(engine, "m1").status == "online"


def test_identity_fields_update_only_when_reported(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0, ip="10.0.0.1", hostname="ant-1"),)))
    _write(engine, make_batch(2, (reading("m1", 60, ip="10.0.0.9"),)))
    with engine.connect() as conn:
        row = conn.execute(select(miners)).one()
    assert (row.ip, row.hostname) == ("10.0.0.9", "ant-1")
    assert row.first_seen < _state(engine, "m1").last_sample_ts


def test_the_newest_identity_wins_within_one_call_whatever_the_order(engine, make_batch):
    _write(
        engine,
        make_batch(
            1,
            (
                reading("m1", 120, ip="10.0.0.3"),
                reading("m1", 0, ip="10.0.0.1", hostname="ant-1"),
                reading("m1", 60, ip="10.0.0.2", hostname="ant-2"),
            ),
        ),
    )
    _write(engine, make_batch(2, (reading("m1", 30, ip="10.0.0.0"),)))
    with engine.connect() as conn:
        row = conn.execute(select(miners)).one()
    # Across calls what was reported last is kept (as before); a late sample lowers first_seen.
    assert (row.ip, row.hostname) == ("10.0.0.0", "ant-2")
    assert row.first_seen == to_us(at(0))


def test_last_sample_time_moves_with_samples_only_late_ones_included(engine, make_batch):
    _write(engine, make_batch(1, (reading("m1", 0),)))
    _write(engine, make_batch(2, (), (event(EventKind.MINER_OFFLINE, "off", 90, "m1"),)))
    state = _state(engine, "m1")
    assert (state.ts, state.last_sample_ts) == (to_us(at(90)), to_us(at(0)))
    # Older than the offline event: no state change, but the miner was seen at 60.
    _write(engine, make_batch(3, (reading("m1", 60),)))
    state = _state(engine, "m1")
    assert (state.ts, state.status, state.last_sample_ts) == (
        to_us(at(90)),
        "offline",
        to_us(at(60)),
    )
    _write(engine, make_batch(4, (reading("m1", 30),)))
    assert _state(engine, "m1").last_sample_ts == to_us(at(60))


def test_sentry_last_seen_and_last_seq_move_forward_only(engine, make_batch, sentry_id):
    _write(engine, make_batch(5, (reading("m1", 0),)), now=at(100))
    _write(engine, make_batch(4, (reading("m1", 1),)), now=at(200))
    with engine.connect() as conn:
        row = conn.execute(select(sentries).where(sentries.c.id == sentry_id)).one()
    assert row.last_seq == 5
    assert row.last_seen_at > 0


def test_hashboards_are_stored_and_a_missing_board_warns(engine, make_batch):
    from dataclasses import replace

    from rigwatch.domain.batch import Reading
    from rigwatch.domain.models import Hashboard

    base = reading("m1", 0)
    boards = (Hashboard(0, 30e12, 60.0, 70.0, 63, 63), Hashboard(1, missing=True))
    batch = make_batch(1, (Reading(base.miner, replace(base.sample, hashboards=boards)),))
    [result] = _write(engine, batch)
    assert result.updates[0].status is MinerStatus.WARNING
    assert _count(engine, hashboard_samples) == 2
    assert "hashboard missing: 1" in _state(engine, "m1").warnings


def test_an_empty_call_writes_nothing(engine):
    assert _write(engine) == []
