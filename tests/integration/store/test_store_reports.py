"""Daily totals and streaming exports on both databases, with numbers worked by hand."""

from __future__ import annotations

import csv
import dataclasses
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from rigwatch.domain.batch import Batch, HostReading, Reading
from rigwatch.domain.host import HostIdentity, HostSample
from rigwatch.domain.models import Event, EventKind, MinerIdentity, MinerKind, Sample
from rigwatch.store.aggregates import TotalBy, TotalKind, daily_totals
from rigwatch.store.export import ExportBy, ExportWhat, csv_chunks, export_rows
from rigwatch.store.ingest import write_batches
from rigwatch.store.rollups import run_rollups

DAY1 = datetime(2025, 3, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def _event(kind: EventKind, key: str, ts: datetime, host: str, **data: object) -> Event:
    return Event(ts=ts, kind=kind, key=key, host_key=host, message=str(kind), data=dict(data))


def _write(engine: Engine, *batches: Batch) -> None:
    with engine.begin() as conn:
        write_batches(conn, list(batches), DAY2 + timedelta(days=1))


def _node_events(sentry_id: int) -> Batch:
    h = timedelta(hours=1)
    return Batch(
        sentry_id,
        1,
        events=(
            _event(EventKind.SHARE_FOUND, "s1", DAY1 + h, "rig-a"),
            _event(EventKind.SHARE_FOUND, "s2", DAY1 + 2 * h, "rig-a"),
            _event(EventKind.SHARE_FOUND, "s3", DAY1 + 3 * h, "rig-b"),
            _event(EventKind.SHARE_FOUND, "s4", DAY2 + h, "rig-b"),
            _event(EventKind.BLOCK_FOUND, "b1", DAY1 + 5 * h, "rig-a", by="you"),
            _event(EventKind.BLOCK_FOUND, "b2", DAY1 + 6 * h, "rig-a", by="pool"),
            # 0.6 XMR + 1.5 XMR (one payout >= 1 XMR) on day 1: exact atomic sum.
            _event(EventKind.PAYOUT, "p1", DAY1 + 7 * h, "rig-a", amount_atomic=600_000_000_000),
            _event(EventKind.PAYOUT, "p2", DAY1 + 8 * h, "rig-b", amount_atomic=1_500_000_000_001),
            _event(EventKind.PAYOUT, "p3", DAY2 + 8 * h, "rig-b", amount_atomic=7, coin="btc"),
        ),
    )


def test_daily_shares_and_blocks_per_farm_and_per_host(engine, sentry_id):
    _write(engine, _node_events(sentry_id))
    with engine.connect() as conn:
        farm = daily_totals(conn, TotalKind.SHARES, TotalBy.FARM, DAY1.date(), DAY2.date())
        per_host = daily_totals(conn, TotalKind.SHARES, TotalBy.HOST, DAY1.date(), DAY1.date())
        blocks = daily_totals(conn, TotalKind.BLOCKS, TotalBy.FARM, DAY1.date(), DAY2.date())
    assert [(t.day, t.count) for t in farm] == [(DAY1.date(), 3), (DAY2.date(), 1)]
    assert [(t.host, t.count) for t in per_host] == [("rig-a", 2), ("rig-b", 1)]
    assert [(t.count, t.own) for t in blocks] == [(2, 1)]


def test_daily_payouts_sum_exact_atomic_units_per_coin(engine, sentry_id):
    _write(engine, _node_events(sentry_id))
    with engine.connect() as conn:
        totals = daily_totals(conn, TotalKind.PAYOUTS, TotalBy.FARM, DAY1.date(), DAY2.date())
    day1, day2 = totals
    # 600_000_000_000 + 1_500_000_000_001 = 2_100_000_000_001 atomic = 2.100000000001 XMR
    assert (day1.coin, day1.count, day1.amount_atomic) == ("XMR", 2, 2_100_000_000_001)
    assert day1.amount == 2.100000000001
    # BTC has 8 decimals: 7 sat = 0.00000007 BTC
    assert (day2.coin, day2.amount_atomic, day2.amount) == ("BTC", 7, 7e-8)


def _rig_day(sentry_id: int, seq: int, start: datetime, n: int) -> Batch:
    readings = tuple(
        Reading(
            MinerIdentity("xmrig@127.0.0.1:18080", MinerKind.CPU),
            Sample(
                ts=start + timedelta(seconds=30 * i),
                hashrate_hs=1000.0 + 10 * (i % 3),
                temp_max_c=60.0 + i % 5,
                power_w=100.0,
                accepted=i * 2,
                rejected=0,
            ),
        )
        for i in range(n)
    )
    host = HostReading(
        HostIdentity("rig-a"), HostSample(ts=start, cpu_pct=50.0), ("xmrig@127.0.0.1:18080",)
    )
    return Batch(sentry_id, seq, readings=readings, hosts=(host,))


def _csv(export) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(csv_chunks(export, rows_per_chunk=7)))))


def test_samples_export_raw_per_day_and_per_host(engine, sentry_id):
    _write(engine, _rig_day(sentry_id, 1, DAY1, 6))
    with engine.begin() as conn:  # per day and per host read the daily rollups
        while run_rollups(conn, DAY2 + timedelta(days=1)).more:
            pass
    with engine.connect() as conn:
        raw = _csv(export_rows(conn, ExportWhat.SAMPLES, None, DAY1.date(), DAY1.date()))
        daily = _csv(export_rows(conn, ExportWhat.SAMPLES, ExportBy.DAY, DAY1.date(), DAY2.date()))
        hosts = _csv(export_rows(conn, ExportWhat.SAMPLES, ExportBy.HOST, DAY1.date(), DAY2.date()))
    assert raw[0][:3] == ["ts", "miner_id", "miner_key"]
    assert len(raw) == 1 + 6
    assert raw[1][0] == "2025-03-01T00:00:00Z"
    header, row = daily
    record = dict(zip(header, row, strict=True))
    # hashrates 1000, 1010, 1020, 1000, 1010, 1020 -> mean 1010; deltas 2 x 5 = 10
    assert record["day"] == "2025-03-01" and record["samples"] == "6"
    # Six samples 30 s apart cover about 3 minutes of the day: a sliver of uptime.
    assert 0 < float(record["uptime_pct"]) < 1
    assert float(record["hashrate_mean_hs"]) == 1010.0
    assert float(record["temp_max_c"]) == 64.0
    assert int(float(record["accepted"])) == 10
    header, row = hosts
    assert dict(zip(header, row, strict=True))["host"] == "rig-a"


def test_events_shares_and_payouts_exports(engine, sentry_id):
    _write(engine, _node_events(sentry_id))
    with engine.connect() as conn:
        raw = _csv(export_rows(conn, ExportWhat.EVENTS, None, DAY1.date(), DAY2.date()))
        counted = _csv(export_rows(conn, ExportWhat.EVENTS, ExportBy.DAY, DAY1.date(), DAY1.date()))
        shares = _csv(export_rows(conn, ExportWhat.SHARES, ExportBy.HOST, DAY1.date(), DAY2.date()))
        payouts = _csv(export_rows(conn, ExportWhat.PAYOUTS, None, DAY1.date(), DAY1.date()))
    assert len(raw) == 1 + 9
    assert ["2025-03-01", "share_found", "3"] in counted
    assert shares == [
        ["day", "host", "shares"],
        ["2025-03-01", "rig-a", "2"],
        ["2025-03-01", "rig-b", "1"],
        ["2025-03-02", "rig-b", "1"],
    ]
    assert payouts[1] == ["2025-03-01", "XMR", "2", "2100000000001", "2.100000000001"]


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_quoted(engine, sentry_id):
    hostile = _event(EventKind.SHARE_FOUND, "=HYPERLINK(1)", DAY1, "rig-a")
    _write(engine, Batch(sentry_id, 1, events=(dataclasses.replace(hostile, message="+1+1"),)))
    with engine.connect() as conn:
        [_, row] = _csv(export_rows(conn, ExportWhat.EVENTS, None, DAY1.date(), DAY1.date()))
    assert row[2] == "'=HYPERLINK(1)" and row[6] == "'+1+1"


def _peak_export_bytes(engine: Engine, first: date, last: date) -> tuple[int, int]:
    tracemalloc.start()
    try:
        rows = 0
        with engine.connect() as conn:
            for chunk in csv_chunks(export_rows(conn, ExportWhat.SAMPLES, None, first, last)):
                rows += chunk.count("\n")
        return rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_export_streams_in_flat_memory(engine, sentry_id):
    # 10 days of 2,880 samples a day; the export of all 10 must not need ~10x the memory
    # of one day's export, as it would if the rows were gathered first.
    days = 10
    for d in range(days):
        _write(engine, _rig_day(sentry_id, d + 1, DAY1 + timedelta(days=d), 2880))
    one_rows, one_peak = _peak_export_bytes(engine, DAY1.date(), DAY1.date())
    all_rows, all_peak = _peak_export_bytes(
        engine, DAY1.date(), (DAY1 + timedelta(days=days - 1)).date()
    )
    assert (one_rows, all_rows) == (1 + 2880, 1 + 2880 * days)
    assert all_peak < 2 * one_peak


def test_reading_totals_leaves_the_connection_fit_for_writing(engine, sentry_id):
    # Streaming options belong to the statement: set on the connection, PostgreSQL would
    # send the INSERT after the read through a server-side cursor, which fails.
    with engine.begin() as conn:
        daily_totals(conn, TotalKind.SHARES, TotalBy.FARM, DAY1.date(), DAY1.date())
        list(export_rows(conn, ExportWhat.EVENTS, None, DAY1.date(), DAY1.date()).rows)
        write_batches(conn, [_node_events(sentry_id)], DAY2)
    with engine.connect() as conn:
        farm = daily_totals(conn, TotalKind.SHARES, TotalBy.FARM, DAY1.date(), DAY2.date())
    assert [t.count for t in farm] == [3, 1]
