"""The write path: sentry batches into the store, idempotently, in bulk.

Everything runs inside the caller's transaction (the commander's single writer
commits every second or so) and issues one statement per table per call: per-row
round trips are what makes a store slow, not the rows themselves. The per-sample
tables and the latest state get tuples at driver speed (`bulk.Positional`: multi-row
VALUES on SQLite, executemany on psycopg).

Samples arrive as records (`ingest_rows`): the commander's fast path validates a
request straight into them; a domain `Batch` is converted on the way in.

Ordering rules, so that replays and late batches are harmless:
- a batch is stored once per (sentry_id, seq); a repeat writes nothing;
- raw rows use ON CONFLICT DO NOTHING;
- the latest state only moves forward in time (an UPSERT guarded by ts), so a
  late sample never rolls the live view back;
- share deltas chain from the latest state; a sample older than that state gets
  no delta, because the newer sample's delta already covers its interval.

The writer passes its `IngestCache`: miners already known, reporting the identity they
reported last, and their counter chains then cost no SELECT. Without one, every call
reads what it needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, bindparam, case, select, update
from sqlalchemy.engine import Connection

from rigwatch.domain.batch import Batch
from rigwatch.domain.counters import delta
from rigwatch.domain.models import EventKind, Hashboard, MinerKind, MinerStatus, PoolState
from rigwatch.domain.status import warnings_for
from rigwatch.domain.views import MinerUpdate
from rigwatch.store import jsontext
from rigwatch.store.bulk import Positional, executemany
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.ingest_hosts import attach_miners, write_hosts, write_p2pool
from rigwatch.store.ingest_rows import (
    FIGURE_KEYS,
    IDENTITY_KEYS,
    Chain,
    IngestCache,
    KnownMiner,
    Record,
    RowBatch,
    sample_of,
)
from rigwatch.store.tables import (
    device_samples,
    events,
    hashboard_samples,
    ingest_batches,
    miner_state,
    miners,
    samples,
    sentries,
)
from rigwatch.store.timestamps import from_us, to_us

_IN_CHUNK = 500
_IDENTITY = IDENTITY_KEYS[1:]  # every identity field but the key
# The tuples `_state_row` builds, in this order (checked against the compiled SQL).
_STATE_KEYS = ("miner_id", "ts", "last_sample_ts", "status", "warnings", *FIGURE_KEYS)
_STATE_COLUMNS = _STATE_KEYS[1:]


def _upsert_state(conn: Connection) -> Any:
    upsert = insert_for(conn, miner_state)
    return upsert.on_conflict_do_update(
        index_elements=[miner_state.c.miner_id],
        set_={name: upsert.excluded[name] for name in _STATE_COLUMNS},
        where=miner_state.c.ts < upsert.excluded.ts,
    )


# The tuples `_write_samples` builds, in this order (checked against the compiled SQL).
_SAMPLE_KEYS = (
    "ts",
    "miner_id",
    "hashrate_hs",
    "hashrate_expected_hs",
    "temp_c",
    "temp_max_c",
    "chip_temp_c",
    "fans_rpm",
    "power_w",
    "accepted",
    "rejected",
    "stale",
    "accepted_delta",
    "rejected_delta",
    "stale_delta",
    "uptime_s",
    "pool_url",
)
_BOARD_KEYS = (
    "ts",
    "miner_id",
    "idx",
    "hashrate_hs",
    "temp_c",
    "chip_temp_c",
    "chips",
    "chips_expected",
    "missing",
)
_DEVICE_KEYS = (
    "ts",
    "miner_id",
    "idx",
    "kind",
    "hashrate_hs",
    "temp_c",
    "mem_temp_c",
    "fan_pct",
    "fan_rpm",
    "power_w",
    "core_clock_mhz",
    "mem_clock_mhz",
    "accepted",
    "rejected",
)
_SAMPLE_ROWS = Positional(lambda conn: insert_ignore(conn, samples), _SAMPLE_KEYS)
_BOARD_ROWS = Positional(lambda conn: insert_ignore(conn, hashboard_samples), _BOARD_KEYS)
_DEVICE_ROWS = Positional(lambda conn: insert_ignore(conn, device_samples), _DEVICE_KEYS)
_STATE_ROWS = Positional(_upsert_state, _STATE_KEYS)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What happened to one batch; `updates` feed the live stream."""

    sentry_id: int
    seq: int
    stored: bool
    samples: int
    events: int
    updates: list[MinerUpdate] = field(default_factory=list)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _new_batches(conn: Connection, batches: Sequence[Batch | RowBatch]) -> list[int]:
    """Positions of the batches not stored before (nor earlier in this same call)."""
    by_sentry: dict[int, set[int]] = defaultdict(set)
    for batch in batches:
        by_sentry[batch.sentry_id].add(batch.seq)
    seen: set[tuple[int, int]] = set()
    for sentry_id, seqs in by_sentry.items():
        for chunk in _chunks(sorted(seqs)):
            query = select(ingest_batches.c.seq).where(
                ingest_batches.c.sentry_id == sentry_id, ingest_batches.c.seq.in_(chunk)
            )
            stored: list[int] = list(conn.execute(query).scalars())
            seen.update((sentry_id, seq) for seq in stored)
    fresh: list[int] = []
    for position, batch in enumerate(batches):
        ident = (batch.sentry_id, batch.seq)
        if ident not in seen:
            seen.add(ident)
            fresh.append(position)
    return fresh


@dataclass(slots=True)
class _Seen:
    """One miner's readings in this call: earliest ts, identities in arrival order.

    Consecutive equal identities are kept once, with the newest of their timestamps:
    the newest wins every field it carries, so the older copy could never win one.
    """

    first: int
    idents: list[tuple[int, dict[str, Any]]]


def _merge_identities(
    stamped: Iterable[tuple[int, int, dict[str, Any]]],
) -> dict[tuple[int, str], _Seen]:
    """Per (sentry_id, miner key): the identities reported and the oldest ts."""
    merged: dict[tuple[int, str], _Seen] = {}
    for sentry_id, ts, ident in stamped:
        seen = merged.get((sentry_id, ident["key"]))
        if seen is None:
            merged[(sentry_id, ident["key"])] = _Seen(ts, [(ts, ident)])
            continue
        if ts < seen.first:
            seen.first = ts
        last_ts, last = seen.idents[-1]
        if ident is last or ident == last:
            if ts > last_ts:
                seen.idents[-1] = (ts, ident)
        else:
            seen.idents.append((ts, ident))
    return merged


def _identity_values(seen: _Seen) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest non-None value of each identity field (kind always), and the newest
    identity reported."""
    idents = seen.idents
    if len(idents) > 1:
        idents = sorted(idents, key=lambda item: item[0])
    values: dict[str, Any] = {}
    for _ts, ident in idents:
        values["kind"] = str(ident["kind"])
        for name in _IDENTITY[1:]:
            value = ident[name]
            if value is not None:
                values[name] = value
    return values, idents[-1][1]


def _known(row: Any) -> KnownMiner:
    return KnownMiner(
        id=row.id,
        kind=MinerKind(row.kind),
        values={name: getattr(row, name) for name in _IDENTITY},
        first_seen=row.first_seen,
    )


def _load_miners(conn: Connection, cache: IngestCache, wanted: dict[int, list[str]]) -> None:
    for sentry_id, keys in wanted.items():
        for chunk in _chunks(sorted(keys)):
            query = select(miners).where(miners.c.sentry_id == sentry_id, miners.c.key.in_(chunk))
            for row in conn.execute(query):
                cache.remember(sentry_id, row.key, _known(row))


def _resolve_miners(
    conn: Connection,
    cache: IngestCache,
    stamped: Sequence[tuple[int, int, dict[str, Any]]],
    event_keys: Iterable[tuple[int, str]],
) -> None:
    """Create unknown miners; update known ones only where identity or first_seen changed.

    The time of the last sample lives in `miner_state`, so a miner reporting the same
    identity costs no write here. Afterwards `cache` knows every miner the samples name
    and every existing miner the events name.
    """
    merged = _merge_identities(stamped)
    wanted: dict[int, list[str]] = defaultdict(list)
    for sentry_id, key in {*merged, *event_keys}:
        if (sentry_id, key) not in cache.miners:
            wanted[sentry_id].append(key)
    _load_miners(conn, cache, wanted)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    reported: dict[tuple[int, str], dict[str, Any]] = {}
    for (sentry_id, key), seen in merged.items():
        values, reported[(sentry_id, key)] = _identity_values(seen)
        known = cache.miners.get((sentry_id, key))
        if known is None:
            inserts.append(
                {name: values.get(name) for name in _IDENTITY}
                | {"sentry_id": sentry_id, "key": key, "tags": "[]", "first_seen": seen.first}
            )
            continue
        stored = known.values
        if seen.first < known.first_seen or any(
            value != stored[name] for name, value in values.items()
        ):
            known.values = {name: values.get(name, stored[name]) for name in _IDENTITY}
            known.first_seen = min(known.first_seen, seen.first)
            known.kind = MinerKind(values["kind"])
            update_row = {f"b_{name}": value for name, value in known.values.items()}
            update_row["b_first_seen"] = known.first_seen
            update_row["b_id"] = known.id
            updates.append(update_row)
    executemany(
        conn,
        update(miners)
        .where(miners.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*_IDENTITY, "first_seen")}),
        updates,
    )
    if inserts:
        conn.execute(insert_for(conn, miners), inserts)
        created: dict[int, list[str]] = defaultdict(list)
        for new in inserts:
            created[new["sentry_id"]].append(new["key"])
        _load_miners(conn, cache, created)
    for ident, newest in reported.items():
        # The stored identity now holds every field `newest` carries: reporting it again
        # changes nothing, which is what lets the next batch skip this function.
        cache.miners[ident].reported = newest


def _identify(
    conn: Connection, cache: IngestCache, batches: Sequence[RowBatch]
) -> tuple[list[tuple[int, int, Record]], list[set[int]]]:
    """(miner id, ts, record) for every sample, and the miners each batch's samples name;
    miners created or updated as needed."""
    keyed: list[tuple[int, int, Record]] = []
    append = keyed.append
    lookup = cache.miners.get
    touched: list[set[int]] = []
    unsure: set[tuple[int, str]] = set()
    for batch in batches:
        sentry_id = batch.sentry_id
        ids: set[int] = set()
        touched.append(ids)
        for record in batch.samples:
            ident = record["miner"]
            known = lookup((sentry_id, ident["key"]))
            ts = record["ts"]
            if known is not None and known.reported == ident and ts >= known.first_seen:
                append((known.id, ts, record))
                ids.add(known.id)
            else:
                unsure.add((sentry_id, ident["key"]))
    event_keys = {
        (batch.sentry_id, e.miner_key)
        for batch in batches
        for e in batch.events
        if e.miner_key and (batch.sentry_id, e.miner_key) not in cache.ids
    }
    if unsure or event_keys:
        stamped = [
            (batch.sentry_id, record["ts"], record["miner"])
            for batch in batches
            for record in batch.samples
            if (batch.sentry_id, record["miner"]["key"]) in unsure
        ]
        _resolve_miners(conn, cache, stamped, event_keys)
        if unsure:
            known_ids = cache.ids
            keyed = []
            for batch, ids in zip(batches, touched, strict=True):
                for record in batch.samples:
                    miner_id = known_ids[(batch.sentry_id, record["miner"]["key"])]
                    keyed.append((miner_id, record["ts"], record))
                    ids.add(miner_id)
    return keyed, touched


def _load_chains(conn: Connection, miner_ids: Sequence[int], chains: dict[int, Chain]) -> None:
    cols = (
        miner_state.c.miner_id,
        miner_state.c.ts,
        miner_state.c.last_sample_ts,
        miner_state.c.accepted,
        miner_state.c.rejected,
        miner_state.c.stale,
    )
    for chunk in _chunks(miner_ids):
        for row in conn.execute(select(*cols).where(miner_state.c.miner_id.in_(chunk))):
            chains[row[0]] = Chain(*row[1:])


def _json_list(items: Sequence[Any]) -> str:
    return jsontext.dumps(list(items)) if items else "[]"


def _boards_json(boards: Sequence[Hashboard]) -> str:
    if not boards:
        return "[]"
    return jsontext.dumps(
        [
            {
                "index": b.index,
                "hashrate_hs": b.hashrate_hs,
                "temp_c": b.temp_c,
                "chip_temp_c": b.chip_temp_c,
                "chips": b.chips,
                "chips_expected": b.chips_expected,
                "missing": b.missing,
            }
            for b in boards
        ]
    )


def _pools_json(pools: Sequence[PoolState]) -> str:
    if not pools:
        return "[]"
    return jsontext.dumps(
        [
            {
                "url": p.url,
                "user": p.user,
                "active": p.active,
                "alive": p.alive,
                "accepted": p.accepted,
                "rejected": p.rejected,
                "stale": p.stale,
            }
            for p in pools
        ]
    )


def _state_row(
    miner_id: int, ts: int, record: Record, warnings: list[str], status: MinerStatus
) -> tuple[Any, ...]:
    devices = record["devices"]
    return (
        miner_id,
        ts,
        ts,
        status.value,
        _json_list(warnings),
        record["hashrate_hs"],
        record["hashrate_expected_hs"],
        record["temp_c"],
        record["temp_max_c"],
        record["chip_temp_c"],
        _json_list(record["fans_rpm"]),
        record["power_w"],
        record["accepted"],
        record["rejected"],
        record["stale"],
        record["uptime_s"],
        record["pool_url"],
        record["pool_user"],
        _json_list(record["errors"]),
        _boards_json(record["hashboards"]),
        _pools_json(record["pools"]),
        record["algorithm"],
        jsontext.dumps([asdict(d) for d in devices]) if devices else "[]",
    )


def _write_samples(
    conn: Connection, cache: IngestCache, keyed: list[tuple[int, int, Record]]
) -> dict[int, tuple[datetime, Record, MinerStatus]]:
    """Raw rows with share deltas, plus the forward-only latest state.

    Returns the state written per miner (ts, record, status): only samples newer
    than the stored state are written, so the caller can report these without
    reading them back.
    """
    if not keyed:
        return {}
    # Per miner in time order (the deltas chain); a stable sort keeps arrival order
    # among equal times, and batches mostly arrive in time order already.
    keyed.sort(key=itemgetter(1))
    chains = cache.chains
    missing = {miner_id for miner_id, _, _ in keyed} - chains.keys()
    if missing:
        _load_chains(conn, sorted(missing), chains)
    dumps = jsontext.dumps
    sample_rows: list[tuple[Any, ...]] = []
    board_rows: list[tuple[Any, ...]] = []
    device_rows: list[tuple[Any, ...]] = []
    latest: dict[int, tuple[int, Record]] = {}
    # Samples not newer than the state (late, or behind an offline / online event) still
    # move the time of the last sample forward.
    late: dict[int, int] = {}
    for miner_id, ts, record in keyed:
        chain = chains.get(miner_id)
        accepted = record["accepted"]
        rejected = record["rejected"]
        stale = record["stale"]
        acc_d = rej_d = stale_d = None
        if chain is None:
            chains[miner_id] = Chain(ts, ts, accepted, rejected, stale)
            latest[miner_id] = (ts, record)
        elif ts > chain.ts:
            acc_d = delta(chain.accepted, accepted)
            rej_d = delta(chain.rejected, rejected)
            stale_d = delta(chain.stale, stale)
            chain.ts = chain.last_sample = ts
            chain.accepted = accepted
            chain.rejected = rejected
            chain.stale = stale
            latest[miner_id] = (ts, record)
        elif ts > chain.last_sample:
            chain.last_sample = late[miner_id] = ts
        fans = record["fans_rpm"]
        sample_rows.append(
            (
                ts,
                miner_id,
                record["hashrate_hs"],
                record["hashrate_expected_hs"],
                record["temp_c"],
                record["temp_max_c"],
                record["chip_temp_c"],
                dumps(fans) if fans else None,
                record["power_w"],
                accepted,
                rejected,
                stale,
                acc_d,
                rej_d,
                stale_d,
                record["uptime_s"],
                record["pool_url"],
            )
        )
        if record["hashboards"]:
            board_rows.extend(
                (
                    ts,
                    miner_id,
                    b.index,
                    b.hashrate_hs,
                    b.temp_c,
                    b.chip_temp_c,
                    b.chips,
                    b.chips_expected,
                    b.missing,
                )
                for b in record["hashboards"]
            )
        if record["devices"]:
            device_rows.extend(
                (
                    ts,
                    miner_id,
                    d.index,
                    str(d.kind),
                    d.hashrate_hs,
                    d.temp_c,
                    d.mem_temp_c,
                    d.fan_pct,
                    d.fan_rpm,
                    d.power_w,
                    d.core_clock_mhz,
                    d.mem_clock_mhz,
                    d.accepted,
                    d.rejected,
                )
                for d in record["devices"]
            )
    _SAMPLE_ROWS.run(conn, sample_rows)
    _BOARD_ROWS.run(conn, board_rows)
    _DEVICE_ROWS.run(conn, device_rows)
    executemany(
        conn,
        _LATE_SAMPLE,
        [{"b_miner_id": mid, "b_ts": ts} for mid, ts in late.items() if mid not in latest],
    )
    written: dict[int, tuple[datetime, Record, MinerStatus]] = {}
    state_rows: list[tuple[Any, ...]] = []
    for miner_id, (ts, record) in latest.items():
        when = from_us(ts)
        warnings = warnings_for(sample_of(record, when))
        # status_for(sample), without computing the warnings twice
        status = MinerStatus.WARNING if warnings else MinerStatus.ONLINE
        written[miner_id] = (when, record, status)
        state_rows.append(_state_row(miner_id, ts, record, warnings, status))
    _STATE_ROWS.run(conn, state_rows)
    return written


_LATE_SAMPLE = (
    update(miner_state)
    .where(
        miner_state.c.miner_id == bindparam("b_miner_id"),
        miner_state.c.last_sample_ts < bindparam("b_ts"),
    )
    .values(last_sample_ts=bindparam("b_ts"))
)

_STATUS_EVENTS = {
    EventKind.MINER_OFFLINE: update(miner_state)
    .where(miner_state.c.miner_id == bindparam("b_miner_id"), miner_state.c.ts < bindparam("b_ts"))
    .values(ts=bindparam("b_ts"), status=str(MinerStatus.OFFLINE)),
    EventKind.MINER_ONLINE: update(miner_state)
    .where(miner_state.c.miner_id == bindparam("b_miner_id"), miner_state.c.ts < bindparam("b_ts"))
    .values(
        ts=bindparam("b_ts"),
        status=case(
            (miner_state.c.warnings == "[]", str(MinerStatus.ONLINE)),
            else_=str(MinerStatus.WARNING),
        ),
    ),
}


def _write_events(
    conn: Connection,
    batches: Sequence[RowBatch],
    ids: dict[tuple[int, str], int],
    host_ids: dict[tuple[int, str], int],
) -> set[int]:
    """Append events once each, then apply offline / online to the latest state.

    Returns the miners whose state an offline / online event may have changed.
    """
    rows: list[dict[str, Any]] = []
    status_changes: list[tuple[int, EventKind, int]] = []
    for batch in batches:
        for event in batch.events:
            miner_id = ids.get((batch.sentry_id, event.miner_key)) if event.miner_key else None
            ts = to_us(event.ts)
            rows.append(
                {
                    "ts": ts,
                    "kind": str(event.kind),
                    "key": event.key,
                    "sentry_id": batch.sentry_id,
                    "miner_id": miner_id,
                    "host_id": host_ids.get((batch.sentry_id, event.host_key))
                    if event.host_key
                    else None,
                    "message": event.message,
                    "data": jsontext.dumps(event.data),
                }
            )
            if miner_id is not None and event.kind in _STATUS_EVENTS:
                status_changes.append((ts, event.kind, miner_id))
    if rows:
        conn.execute(insert_ignore(conn, events), rows)
    # Apply in time order, one executemany per run of the same kind, so that an
    # offline followed by an online in one call ends online (and vice versa).
    status_changes.sort(key=lambda change: change[0])
    run: list[dict[str, Any]] = []
    run_kind: EventKind | None = None
    for ts, kind, miner_id in status_changes:
        if kind != run_kind and run:
            conn.execute(_STATUS_EVENTS[run_kind], run)  # type: ignore[index]
            run = []
        run_kind = kind
        run.append({"b_miner_id": miner_id, "b_ts": ts})
    if run and run_kind is not None:
        conn.execute(_STATUS_EVENTS[run_kind], run)
    return {miner_id for _, _, miner_id in status_changes}


def _touch_sentries(conn: Connection, batches: Sequence[Batch | RowBatch], now_us: int) -> None:
    newest: dict[int, int] = {}
    for batch in batches:
        newest[batch.sentry_id] = max(batch.seq, newest.get(batch.sentry_id, batch.seq))
    seq: BindParameter[int] = bindparam("b_seq")
    conn.execute(
        update(sentries)
        .where(sentries.c.id == bindparam("b_id"))
        .values(
            last_seen_at=now_us,
            last_seq=case(
                (sentries.c.last_seq.is_(None), seq),
                (sentries.c.last_seq < seq, seq),
                else_=sentries.c.last_seq,
            ),
        ),
        [{"b_id": sentry_id, "b_seq": s} for sentry_id, s in newest.items()],
    )


def _latest_updates(
    conn: Connection, miner_ids: Sequence[int], known: dict[int, KnownMiner]
) -> dict[int, MinerUpdate]:
    found: dict[int, MinerUpdate] = {}
    cols = (
        miner_state.c.miner_id,
        miners.c.key,
        miner_state.c.status,
        miner_state.c.ts,
        miner_state.c.hashrate_hs,
        miner_state.c.hashrate_expected_hs,
        miner_state.c.temp_c,
        miner_state.c.temp_max_c,
        miner_state.c.power_w,
    )
    for chunk in _chunks(miner_ids):
        query = (
            select(*cols)
            .join(miners, miners.c.id == miner_state.c.miner_id)
            .where(miner_state.c.miner_id.in_(chunk))
        )
        for row in conn.execute(query):
            found[row.miner_id] = MinerUpdate(
                miner_id=row.miner_id,
                key=row.key,
                kind=known[row.miner_id].kind,
                status=MinerStatus(row.status),
                ts=from_us(row.ts),
                hashrate_hs=row.hashrate_hs,
                hashrate_expected_hs=row.hashrate_expected_hs,
                temp_c=row.temp_c,
                temp_max_c=row.temp_max_c,
                power_w=row.power_w,
            )
    return found


def _update_from(
    miner_id: int, kind: MinerKind, when: datetime, record: Record, status: MinerStatus
) -> MinerUpdate:
    return MinerUpdate(
        miner_id=miner_id,
        key=record["miner"]["key"],
        kind=kind,
        status=status,
        ts=when,
        hashrate_hs=record["hashrate_hs"],
        hashrate_expected_hs=record["hashrate_expected_hs"],
        temp_c=record["temp_c"],
        temp_max_c=record["temp_max_c"],
        power_w=record["power_w"],
    )


def _add_event_miners(batch: RowBatch, ids: dict[tuple[int, str], int], touched: set[int]) -> None:
    for event in batch.events:
        if event.miner_key:
            miner_id = ids.get((batch.sentry_id, event.miner_key))
            if miner_id is not None:
                touched.add(miner_id)


def write_batches(
    conn: Connection,
    batches: Sequence[Batch | RowBatch],
    now: datetime,
    cache: IngestCache | None = None,
) -> list[BatchResult]:
    """Store sentry batches in the caller's transaction; one result per batch, in order.

    `cache` (the writer's own, reused across calls on one connection) spares the
    lookups of miners it already knows; when the transaction fails the caller must
    clear it. Without one, the call reads everything it needs.
    """
    if not batches:
        return []
    if cache is None:
        cache = IngestCache()
    now_us = to_us(now)
    positions = set(_new_batches(conn, batches))
    _touch_sentries(conn, batches, now_us)
    # After the first write this transaction holds the write lock: from here on nothing
    # else can change what the cache mirrors.
    cache.check(conn)
    fresh = [RowBatch.of(batch) for position, batch in enumerate(batches) if position in positions]
    if not fresh:
        return [BatchResult(b.sentry_id, b.seq, stored=False, samples=0, events=0) for b in batches]
    conn.execute(
        insert_ignore(conn, ingest_batches),
        [
            {
                "sentry_id": b.sentry_id,
                "seq": b.seq,
                "received_at": now_us,
                "samples": len(b.samples),
                "events": len(b.events),
                # The samples' time range: what the rollup job must recompute.
                "first_ts": min((r["ts"] for r in b.samples), default=None),
                "last_ts": max((r["ts"] for r in b.samples), default=None),
            }
            for b in fresh
        ],
    )
    host_ids = write_hosts(conn, fresh)
    keyed, touched = _identify(conn, cache, fresh)
    ids = cache.ids
    if any(batch.hosts for batch in fresh):
        # Only the miners this call names (as without a cache), not all the cache knows.
        named = {(b.sentry_id, r["miner"]["key"]) for b in fresh for r in b.samples}
        named |= {(b.sentry_id, e.miner_key) for b in fresh for e in b.events if e.miner_key}
        attach_miners(conn, fresh, {k: ids[k] for k in named if k in ids}, host_ids)
    written = _write_samples(conn, cache, keyed)
    changed = _write_events(conn, fresh, ids, host_ids)
    for miner_id in changed:
        # An offline / online event moved its state's ts: read it again next time.
        cache.chains.pop(miner_id, None)
    write_p2pool(conn, fresh, host_ids)
    for row_batch, miner_ids in zip(fresh, touched, strict=True):
        _add_event_miners(row_batch, ids, miner_ids)
    all_touched: set[int] = set().union(*touched)
    known = cache.by_id
    latest = {
        mid: _update_from(mid, known[mid].kind, *written[mid])
        for mid in all_touched
        if mid in written and mid not in changed
    }
    latest |= _latest_updates(conn, sorted(all_touched - latest.keys()), known)
    results: list[BatchResult] = []
    stored = iter(zip(fresh, touched, strict=True))
    for position, batch in enumerate(batches):
        if position not in positions:
            results.append(BatchResult(batch.sentry_id, batch.seq, False, 0, 0))
            continue
        row_batch, miner_ids = next(stored)
        results.append(
            BatchResult(
                batch.sentry_id,
                batch.seq,
                stored=True,
                samples=len(row_batch.samples),
                events=len(row_batch.events),
                updates=[latest[mid] for mid in sorted(miner_ids) if mid in latest],
            )
        )
    return results
