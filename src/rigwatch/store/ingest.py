"""The write path: sentry batches into the store, idempotently, in bulk.

Everything runs inside the caller's transaction (the commander's single writer
commits every second or so) and issues one statement per table per call, with
executemany over lists of dicts: per-row round trips are what makes a store
slow, not the rows themselves.

Ordering rules, so that replays and late batches are harmless:
- a batch is stored once per (sentry_id, seq); a repeat writes nothing;
- raw rows use ON CONFLICT DO NOTHING;
- the latest state only moves forward in time (an UPSERT guarded by ts), so a
  late sample never rolls the live view back;
- share deltas chain from the latest state; a sample older than that state gets
  no delta, because the newer sample's delta already covers its interval.
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

from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.counters import delta
from rigwatch.domain.models import EventKind, MinerIdentity, MinerKind, MinerStatus, Sample
from rigwatch.domain.status import warnings_for
from rigwatch.domain.views import MinerUpdate
from rigwatch.store import jsontext
from rigwatch.store.bulk import executemany
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.ingest_hosts import attach_miners, write_hosts, write_p2pool
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
_IDENTITY = ("kind", "ip", "mac", "hostname", "make", "model", "firmware", "worker")
_STATE_COLUMNS = tuple(c.name for c in miner_state.columns if c.name != "miner_id")


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What happened to one batch; `updates` feed the live stream."""

    sentry_id: int
    seq: int
    stored: bool
    samples: int
    events: int
    updates: list[MinerUpdate] = field(default_factory=list)


@dataclass(slots=True)
class _Chain:
    """The newest counters seen for one miner, to derive the next deltas from."""

    ts: int
    last_sample: int
    accepted: int | None
    rejected: int | None
    stale: int | None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _new_batches(conn: Connection, batches: Sequence[Batch]) -> list[int]:
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
    idents: list[tuple[int, MinerIdentity]]


def _merge_identities(stamped: Iterable[tuple[int, int, Reading]]) -> dict[tuple[int, str], _Seen]:
    """Per (sentry_id, miner key): the identities reported and the oldest ts."""
    merged: dict[tuple[int, str], _Seen] = {}
    for sentry_id, ts, reading in stamped:
        ident = reading.miner
        seen = merged.get((sentry_id, ident.key))
        if seen is None:
            merged[(sentry_id, ident.key)] = _Seen(ts, [(ts, ident)])
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


def _identity_values(seen: _Seen) -> dict[str, Any]:
    """The newest non-None value of each identity field (kind always)."""
    idents = seen.idents
    if len(idents) > 1:
        idents = sorted(idents, key=lambda item: item[0])
    values: dict[str, Any] = {}
    for _ts, ident in idents:
        values["kind"] = str(ident.kind)
        for name in _IDENTITY[1:]:
            value = getattr(ident, name)
            if value is not None:
                values[name] = value
    return values


def _select_miners(conn: Connection, sentry_id: int, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(
            select(miners).where(miners.c.sentry_id == sentry_id, miners.c.key.in_(chunk))
        )
        found.update((row.key, row) for row in rows)
    return found


def _upsert_miners(
    conn: Connection, batches: Sequence[Batch], stamped: Sequence[tuple[int, int, Reading]]
) -> tuple[dict[tuple[int, str], int], dict[int, str]]:
    """Create unknown miners; update known ones only where identity or first_seen changed.

    The time of the last sample lives in `miner_state`, so a miner reporting the same
    identity costs no write here. Returns ids by (sentry_id, key) for every known miner
    the batches mention (readings or events) and each id's kind.
    """
    merged = _merge_identities(stamped)
    keys: dict[int, set[str]] = defaultdict(set)
    for sentry_id, key in merged:
        keys[sentry_id].add(key)
    for batch in batches:
        keys[batch.sentry_id].update(e.miner_key for e in batch.events if e.miner_key)
    existing: dict[tuple[int, str], Any] = {}
    for sentry_id, key_set in keys.items():
        for key, row in _select_miners(conn, sentry_id, sorted(key_set)).items():
            existing[(sentry_id, key)] = row
    ids = {ident: row.id for ident, row in existing.items()}
    kinds = {row.id: row.kind for row in existing.values()}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (sentry_id, key), seen in merged.items():
        values = _identity_values(seen)
        row = existing.get((sentry_id, key))
        if row is None:
            inserts.append(
                {name: values.get(name) for name in _IDENTITY}
                | {"sentry_id": sentry_id, "key": key, "tags": "[]", "first_seen": seen.first}
            )
            continue
        changed = seen.first < row.first_seen or any(
            value != getattr(row, name) for name, value in values.items()
        )
        if changed:
            update_row = {f"b_{name}": values.get(name, getattr(row, name)) for name in _IDENTITY}
            update_row["b_first_seen"] = min(row.first_seen, seen.first)
            update_row["b_id"] = row.id
            updates.append(update_row)
            kinds[row.id] = values["kind"]
    executemany(
        conn,
        update(miners)
        .where(miners.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*_IDENTITY, "first_seen")}),
        updates,
    )
    if inserts:
        conn.execute(insert_for(conn, miners), inserts)
        by_sentry: dict[int, list[str]] = defaultdict(list)
        for new in inserts:
            by_sentry[new["sentry_id"]].append(new["key"])
        for sentry_id, new_keys in by_sentry.items():
            for key, row in _select_miners(conn, sentry_id, new_keys).items():
                ids[(sentry_id, key)] = row.id
                kinds[row.id] = row.kind
    return ids, kinds


def _load_chains(conn: Connection, miner_ids: Sequence[int]) -> dict[int, _Chain]:
    chains: dict[int, _Chain] = {}
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
            chains[row[0]] = _Chain(*row[1:])
    return chains


def _state_row(miner_id: int, ts: int, sample: Sample) -> dict[str, Any]:
    warnings = warnings_for(sample)
    return {
        "miner_id": miner_id,
        "ts": ts,
        "last_sample_ts": ts,
        # status_for(sample), without computing the warnings twice
        "status": str(MinerStatus.WARNING if warnings else MinerStatus.ONLINE),
        "warnings": jsontext.dumps(warnings),
        "hashrate_hs": sample.hashrate_hs,
        "hashrate_expected_hs": sample.hashrate_expected_hs,
        "temp_c": sample.temp_c,
        "temp_max_c": sample.temp_max_c,
        "chip_temp_c": sample.chip_temp_c,
        "fans_rpm": jsontext.dumps(list(sample.fans_rpm)),
        "power_w": sample.power_w,
        "accepted": sample.accepted,
        "rejected": sample.rejected,
        "stale": sample.stale,
        "uptime_s": sample.uptime_s,
        "pool_url": sample.pool_url,
        "pool_user": sample.pool_user,
        "errors": jsontext.dumps(list(sample.errors)),
        "hashboards": jsontext.dumps(
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
                for b in sample.hashboards
            ]
        ),
        "pools": jsontext.dumps(
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
                for p in sample.pools
            ]
        ),
        "algorithm": sample.algorithm,
        "devices": jsontext.dumps([asdict(d) for d in sample.devices]) if sample.devices else "[]",
    }


def _write_samples(
    conn: Connection, stamped: Sequence[tuple[int, int, Reading]], ids: dict[tuple[int, str], int]
) -> dict[int, tuple[int, Sample, MinerStatus]]:
    """Raw rows with share deltas, plus the forward-only latest state.

    Returns the state written per miner (ts, sample, status): only samples newer
    than the stored state are written, so the caller can report these without
    reading them back.
    """
    keyed = [
        (ids[(sentry_id, reading.miner.key)], ts, reading.sample)
        for sentry_id, ts, reading in stamped
    ]
    if not keyed:
        return {}
    keyed.sort(key=itemgetter(0, 1))
    chains = _load_chains(conn, sorted({miner_id for miner_id, _, _ in keyed}))
    sample_rows: list[dict[str, Any]] = []
    board_rows: list[dict[str, Any]] = []
    device_rows: list[dict[str, Any]] = []
    latest: dict[int, tuple[int, Sample]] = {}
    # Samples not newer than the state (late, or behind an offline / online event) still
    # move the time of the last sample forward.
    late: dict[int, int] = {}
    for miner_id, ts, sample in keyed:
        chain = chains.get(miner_id)
        acc_d = rej_d = stale_d = None
        if chain is None or ts > chain.ts:
            if chain is not None:
                acc_d = delta(chain.accepted, sample.accepted)
                rej_d = delta(chain.rejected, sample.rejected)
                stale_d = delta(chain.stale, sample.stale)
            chains[miner_id] = _Chain(ts, ts, sample.accepted, sample.rejected, sample.stale)
            latest[miner_id] = (ts, sample)
        elif ts > chain.last_sample:
            chain.last_sample = late[miner_id] = ts
        sample_rows.append(
            {
                "ts": ts,
                "miner_id": miner_id,
                "hashrate_hs": sample.hashrate_hs,
                "hashrate_expected_hs": sample.hashrate_expected_hs,
                "temp_c": sample.temp_c,
                "temp_max_c": sample.temp_max_c,
                "chip_temp_c": sample.chip_temp_c,
                "fans_rpm": jsontext.dumps(sample.fans_rpm) if sample.fans_rpm else None,
                "power_w": sample.power_w,
                "accepted": sample.accepted,
                "rejected": sample.rejected,
                "stale": sample.stale,
                "accepted_delta": acc_d,
                "rejected_delta": rej_d,
                "stale_delta": stale_d,
                "uptime_s": sample.uptime_s,
                "pool_url": sample.pool_url,
            }
        )
        board_rows.extend(
            {
                "ts": ts,
                "miner_id": miner_id,
                "idx": board.index,
                "hashrate_hs": board.hashrate_hs,
                "temp_c": board.temp_c,
                "chip_temp_c": board.chip_temp_c,
                "chips": board.chips,
                "chips_expected": board.chips_expected,
                "missing": board.missing,
            }
            for board in sample.hashboards
        )
        device_rows.extend(
            {
                "ts": ts,
                "miner_id": miner_id,
                "idx": device.index,
                "kind": str(device.kind),
                "hashrate_hs": device.hashrate_hs,
                "temp_c": device.temp_c,
                "mem_temp_c": device.mem_temp_c,
                "fan_pct": device.fan_pct,
                "fan_rpm": device.fan_rpm,
                "power_w": device.power_w,
                "core_clock_mhz": device.core_clock_mhz,
                "mem_clock_mhz": device.mem_clock_mhz,
                "accepted": device.accepted,
                "rejected": device.rejected,
            }
            for device in sample.devices
        )
    executemany(conn, insert_ignore(conn, samples), sample_rows)
    executemany(conn, insert_ignore(conn, hashboard_samples), board_rows)
    executemany(conn, insert_ignore(conn, device_samples), device_rows)
    executemany(
        conn,
        _LATE_SAMPLE,
        [{"b_miner_id": mid, "b_ts": ts} for mid, ts in late.items() if mid not in latest],
    )
    if not latest:
        return {}
    upsert = insert_for(conn, miner_state)
    upsert = upsert.on_conflict_do_update(
        index_elements=[miner_state.c.miner_id],
        set_={name: upsert.excluded[name] for name in _STATE_COLUMNS},
        where=miner_state.c.ts < upsert.excluded.ts,
    )
    state_rows = [_state_row(mid, ts, s) for mid, (ts, s) in latest.items()]
    written = {
        row["miner_id"]: (row["ts"], latest[row["miner_id"]][1], MinerStatus(row["status"]))
        for row in state_rows
    }
    executemany(conn, upsert, state_rows)
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
    batches: Sequence[Batch],
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


def _touch_sentries(conn: Connection, batches: Sequence[Batch], now_us: int) -> None:
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
    conn: Connection, miner_ids: Sequence[int], kinds: dict[int, str]
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
                kind=MinerKind(kinds[row.miner_id]),
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
    miner_id: int, key: str, kind: str, ts: int, sample: Sample, status: MinerStatus
) -> MinerUpdate:
    return MinerUpdate(
        miner_id=miner_id,
        key=key,
        kind=MinerKind(kind),
        status=status,
        ts=from_us(ts),
        hashrate_hs=sample.hashrate_hs,
        hashrate_expected_hs=sample.hashrate_expected_hs,
        temp_c=sample.temp_c,
        temp_max_c=sample.temp_max_c,
        power_w=sample.power_w,
    )


def _touched(batch: Batch, ids: dict[tuple[int, str], int]) -> list[int]:
    keys = [r.miner.key for r in batch.readings]
    keys += [e.miner_key for e in batch.events if e.miner_key]
    touched = {ids[(batch.sentry_id, k)] for k in keys if (batch.sentry_id, k) in ids}
    return sorted(touched)


def write_batches(conn: Connection, batches: Sequence[Batch], now: datetime) -> list[BatchResult]:
    """Store sentry batches in the caller's transaction; one result per batch, in order."""
    if not batches:
        return []
    now_us = to_us(now)
    positions = set(_new_batches(conn, batches))
    _touch_sentries(conn, batches, now_us)
    fresh = [batch for position, batch in enumerate(batches) if position in positions]
    if not fresh:
        return [BatchResult(b.sentry_id, b.seq, stored=False, samples=0, events=0) for b in batches]
    conn.execute(
        insert_ignore(conn, ingest_batches),
        [
            {
                "sentry_id": b.sentry_id,
                "seq": b.seq,
                "received_at": now_us,
                "samples": len(b.readings),
                "events": len(b.events),
            }
            for b in fresh
        ],
    )
    stamped = [
        (batch.sentry_id, to_us(reading.sample.ts), reading)
        for batch in fresh
        for reading in batch.readings
    ]
    host_ids = write_hosts(conn, fresh)
    ids, kinds = _upsert_miners(conn, fresh, stamped)
    attach_miners(conn, fresh, ids, host_ids)
    written = _write_samples(conn, stamped, ids)
    changed = _write_events(conn, fresh, ids, host_ids)
    write_p2pool(conn, fresh, host_ids)
    all_touched = {mid for batch in fresh for mid in _touched(batch, ids)}
    keys = {miner_id: key for (_, key), miner_id in ids.items()}
    latest = {
        mid: _update_from(mid, keys[mid], kinds[mid], *written[mid])
        for mid in all_touched
        if mid in written and mid not in changed
    }
    latest |= _latest_updates(conn, sorted(all_touched - latest.keys()), kinds)
    results: list[BatchResult] = []
    for position, batch in enumerate(batches):
        if position not in positions:
            results.append(BatchResult(batch.sentry_id, batch.seq, False, 0, 0))
            continue
        updates = [latest[mid] for mid in _touched(batch, ids) if mid in latest]
        results.append(
            BatchResult(
                batch.sentry_id,
                batch.seq,
                stored=True,
                samples=len(batch.readings),
                events=len(batch.events),
                updates=updates,
            )
        )
    return results
