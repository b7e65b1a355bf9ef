"""The read side on both databases, over data written through the real write path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from rigwatch.domain.models import EventKind, MinerKind, MinerStatus
from rigwatch.store import queries
from rigwatch.store.auth import create_sentry, enroll
from rigwatch.store.ingest import write_batches
from rigwatch.store.queries import MinerQuery
from rigwatch.store.tables import miners
from tests.integration.store.store_helpers import T0, at, event, reading

NOW = at(600)
OFFLINE_AFTER = 300


@pytest.fixture
def farm(engine: Engine, make_batch) -> Engine:
    """Three miners: m1 healthy, m2 hot (warning), m3 last seen long ago (offline)."""
    batches = [
        make_batch(1, (reading("m3", 0, hashrate=50e12, accepted=0, temp=50.0),)),
        make_batch(
            2,
            (
                reading("m1", 400, accepted=100, ip="10.0.0.2", hostname="ant-b", model="S19"),
                reading("m2", 400, accepted=10, temp=90.0, ip="10.0.0.10", model="S21"),
            ),
        ),
        make_batch(
            3,
            (
                reading("m1", 500, accepted=130, ip="10.0.0.2", hostname="ant-b", model="S19"),
                reading("m2", 500, accepted=15, temp=91.0, ip="10.0.0.10", model="S21"),
            ),
            (event(EventKind.BLOCK_FOUND, "blk-1", 450, "m1"),),
        ),
    ]
    with engine.begin() as conn:
        write_batches(conn, batches, NOW)
        conn.execute(
            update(miners).where(miners.c.key == "m1").values(tags='["row-1","hot aisle"]')
        )
    return engine


def _list(engine: Engine, **kw):
    with engine.connect() as conn:
        return queries.list_miners(conn, MinerQuery(**kw), NOW, OFFLINE_AFTER)


def _ids_by_key(engine: Engine) -> dict[str, int]:
    rows, _ = _list(engine, limit=1000)
    return {r.key: r.id for r in rows}


def test_farm_summary_counts_a_silent_miner_offline_and_sums_the_rest(farm):
    with farm.connect() as conn:
        summary = queries.farm_summary(conn, NOW, OFFLINE_AFTER)
    assert (summary.miners_total, summary.miners_online, summary.miners_warning) == (3, 1, 1)
    assert summary.miners_offline == 1
    assert summary.hashrate_hs == pytest.approx(200e12)
    assert summary.power_w == pytest.approx(6000.0)
    assert summary.efficiency_j_th == pytest.approx(30.0)
    assert summary.temp_mean_c == pytest.approx(75.5)
    assert summary.temp_max_c == pytest.approx(91.0)
    assert summary.accepted_last_hour == 35
    assert summary.rejected_last_hour == 0


def test_farm_summary_of_an_empty_store_is_all_zero(engine):
    with engine.connect() as conn:
        summary = queries.farm_summary(conn, NOW, OFFLINE_AFTER)
    assert summary.miners_total == 0 and summary.hashrate_hs == 0.0
    assert summary.efficiency_j_th is None and summary.temp_max_c is None


def test_list_miners_filters_by_status_kind_model_tag_and_text(farm):
    assert [r.key for r in _list(farm, status=MinerStatus.OFFLINE)[0]] == ["m3"]
    assert [r.key for r in _list(farm, status=MinerStatus.WARNING)[0]] == ["m2"]
    assert _list(farm, kind=MinerKind.GPU) == ([], 0)
    assert [r.key for r in _list(farm, model="s21")[0]] == ["m2"]
    assert [r.key for r in _list(farm, tag="hot aisle")[0]] == ["m1"]
    assert _list(farm, tag="hot")[1] == 0
    assert [r.key for r in _list(farm, text="ANT-")[0]] == ["m1"]
    assert [r.key for r in _list(farm, text="0.0.10")[0]] == ["m2"]
    assert _list(farm, text="%")[1] == 0


def test_list_miners_sorts_pages_and_counts(farm):
    rows, total = _list(farm, sort="-temp", limit=2)
    assert total == 3
    assert [r.key for r in rows] == ["m2", "m1"]
    rows, total = _list(farm, sort="-temp", limit=2, offset=2)
    assert ([r.key for r in rows], total) == (["m3"], 3)
    assert [r.key for r in _list(farm, sort="status")[0]] == ["m3", "m1", "m2"]
    assert [r.key for r in _list(farm, sort="hashrate")[0]] == ["m3", "m1", "m2"]
    assert _list(farm, sort="-last_seen")[0][-1].key == "m3"


def test_a_miner_row_carries_identity_state_and_warnings(farm):
    rows, _ = _list(farm, text="m2")
    [row] = rows
    assert row.status is MinerStatus.WARNING
    assert row.warnings == ("temperature 91 °C",)
    assert row.sentry == "rack-a" and row.site == "default"
    assert row.fans_rpm == (3000, 3100)
    assert row.last_seen == at(500)


@pytest.mark.parametrize("bad", [{"sort": "nope"}, {"limit": 0}, {"limit": 1001}, {"offset": -1}])
def test_a_bad_miner_query_is_refused(bad):
    with pytest.raises(ValueError, match=r"sort|limit|offset"):
        MinerQuery(**bad)


def test_get_miner_returns_detail_or_none(farm):
    ids = _ids_by_key(farm)
    with farm.connect() as conn:
        detail = queries.get_miner(conn, ids["m1"], NOW, OFFLINE_AFTER)
        assert queries.get_miner(conn, 10_000, NOW, OFFLINE_AFTER) is None
    assert detail is not None
    assert detail.row.key == "m1" and detail.accepted == 130
    assert detail.errors == () and detail.hashboards == () and detail.pools == ()


def test_miner_samples_reads_one_miners_range_oldest_first(farm):
    ids = _ids_by_key(farm)
    with farm.connect() as conn:
        rows = queries.miner_samples(conn, ids["m1"], T0, NOW)
        assert [r.ts for r in rows] == [at(400), at(500)]
        assert queries.miner_samples(conn, ids["m1"], T0, at(450)) == rows[:1]
        assert len(queries.miner_samples(conn, ids["m1"], T0, NOW, limit=1)) == 1


def test_list_events_is_newest_first_with_filters_and_paging(engine, make_batch):
    batch = make_batch(
        1,
        (reading("m1", 0),),
        (
            *(event(EventKind.SHARE_FOUND, f"s{i}", i, "m1") for i in range(5)),
            event(EventKind.BLOCK_FOUND, "b", 10),
        ),
    )
    with engine.begin() as conn:
        write_batches(conn, [batch], NOW)
    with engine.connect() as conn:
        all_rows = queries.list_events(conn)
        assert [r.key for r in all_rows] == ["b", "s4", "s3", "s2", "s1", "s0"]
        page = queries.list_events(conn, before_id=all_rows[2].id, limit=2)
        assert [r.key for r in page] == ["s2", "s1"]
        assert [r.key for r in queries.list_events(conn, kinds=[EventKind.BLOCK_FOUND])] == ["b"]
        miner_id = all_rows[1].miner_id
        assert miner_id is not None
        assert len(queries.list_events(conn, miner_id=miner_id)) == 5
        assert [r.key for r in queries.list_events(conn, since=at(3))] == ["b", "s4", "s3"]
        assert all_rows[0].data == {} and all_rows[0].message == "block_found"


def test_list_sentries_reports_enrollment_and_miner_counts(farm):
    with farm.begin() as conn:
        _, token = create_sentry(conn, "rack-b", site="north")
        enroll(conn, token)
        rows = queries.list_sentries(conn)
    assert [(r.name, r.site, r.enrolled, r.miners) for r in rows] == [
        ("rack-a", "default", False, 3),
        ("rack-b", "north", True, 0),
    ]
    assert rows[0].last_seq == 3 and rows[0].last_seen is not None
    assert rows[0].created_at - NOW < timedelta(days=3650)
