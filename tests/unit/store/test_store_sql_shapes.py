"""Schema and SQL shapes the design depends on, checked without a database."""

from __future__ import annotations

import pytest
from sqlalchemy import create_mock_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from rigwatch.store import jsontext
from rigwatch.store.dialect import insert_ignore
from rigwatch.store.queries import SORT_KEYS, MinerQuery
from rigwatch.store.tables import hashboard_samples, samples


def test_raw_time_series_are_time_first_without_rowid_and_without_indexes():
    for table in (samples, hashboard_samples):
        ddl = str(CreateTable(table).compile(dialect=sqlite.dialect()))
        assert "WITHOUT ROWID" in ddl
        assert [c.name for c in table.primary_key.columns][:2] == ["ts", "miner_id"]
        assert not table.indexes
        assert not table.foreign_keys


def test_inserts_ignore_conflicts():
    engine = create_mock_engine("sqlite://", executor=lambda *a, **k: None)
    sql = str(insert_ignore(engine, samples).compile(dialect=sqlite.dialect()))  # type: ignore[arg-type]
    assert "ON CONFLICT DO NOTHING" in sql


def test_every_sort_has_a_descending_form():
    assert {"hashrate", "-hashrate", "ip", "-status", "model", "last_seen"} <= SORT_KEYS
    MinerQuery(sort="-power", limit=1000, offset=0)
    with pytest.raises(ValueError, match="sort"):
        MinerQuery(sort="--power")


def test_json_text_is_compact_and_round_trips():
    assert jsontext.dumps(["a", 1, None]) == '["a",1,null]'
    assert jsontext.loads('{"x":[1]}') == {"x": [1]}
    assert jsontext.loads(None) is None
