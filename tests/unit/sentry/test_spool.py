"""The spool keeps batches in order across restarts, never reuses a seq, and never loses
data silently."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import orjson
import pytest

from rigwatch.protocols.ingest import IngestBatch
from rigwatch.sentry.spool import Spool
from tests.unit.sentry.sentry_helpers import sample_in


def test_a_new_spool_starts_its_sequence_at_the_current_time_in_microseconds(
    tmp_path: Path,
) -> None:
    before = time.time_ns() // 1000
    with Spool(tmp_path / "spool.db") as spool:
        seq = spool.append([sample_in()], [])
    assert before <= seq <= time.time_ns() // 1000


def test_seqs_strictly_increase_and_bodies_are_ingest_batches(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        seqs = [spool.append([sample_in(i)], []) for i in range(5)]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 5
        stored = spool.peek_oldest(10)
    assert [b.seq for b in stored] == seqs
    for b in stored:
        batch = IngestBatch.model_validate_json(b.body)
        assert batch.seq == b.seq
        assert len(batch.samples) == 1


def test_a_restart_keeps_order_pending_batches_and_the_counter(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        first = [spool.append([sample_in(i)], []) for i in range(3)]
        spool.ack(first[0])
    with Spool(path) as spool:
        assert [b.seq for b in spool.peek_oldest(10)] == first[1:]
        later = spool.append([sample_in(9)], [])
        assert later == first[-1] + 1
        assert spool.pending_count() == 3


def test_ack_removes_only_that_batch(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        a, b = spool.append([sample_in(1)], []), spool.append([sample_in(2)], [])
        assert spool.ack(a)
        assert not spool.ack(a)
        assert [x.seq for x in spool.peek_oldest(5)] == [b]
        spool.ack(b)
        assert spool.pending_count() == 0
        assert spool.pending_bytes() == 0


def test_a_dead_letter_leaves_the_queue_and_keeps_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        a, b = spool.append([sample_in(1)], []), spool.append([sample_in(2)], [])
        assert spool.dead_letter(a, "HTTP 422: samples.0.ts bad")
        assert [x.seq for x in spool.peek_oldest(5)] == [b]
    with Spool(path) as spool:
        assert spool.dead_letters() == [(a, "HTTP 422: samples.0.ts bad")]
        assert spool.pending_count() == 1


def test_when_full_the_oldest_batches_are_dropped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Spool(tmp_path / "spool.db", max_batches=3) as spool:
        seqs = [spool.append([sample_in(i)], []) for i in range(5)]
        with caplog.at_level(logging.ERROR):
            last = spool.append([sample_in(5)], [])
        assert [b.seq for b in spool.peek_oldest(10)] == [*seqs[3:], last]
        assert spool.dropped_count == 3
    assert "DROPPED 1 oldest" in caplog.text


def test_the_byte_bound_drops_the_oldest_too(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db", max_bytes=1) as spool:
        a = spool.append([sample_in(1)], [])
        b = spool.append([sample_in(2)], [])
        assert [x.seq for x in spool.peek_oldest(5)] == [b]
        assert spool.dropped_count == 1
        assert a < b


def test_the_stored_body_is_compact_json(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        spool.append([sample_in(1)], [])
        body = spool.peek_oldest(1)[0].body
    assert orjson.loads(body)["samples"][0]["accepted"] == 1
