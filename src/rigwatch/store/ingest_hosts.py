"""The write path for what is not a miner's own sample: hosts and P2Pool nodes.

Runs inside the same transaction as `store.ingest.write_batches`, which calls it, and
follows the same rules: raw rows time-first with ON CONFLICT DO NOTHING (a replay
writes nothing twice), the latest state only moves forward in time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from rigwatch.domain.batch import HostReading
from rigwatch.domain.host import HostIdentity
from rigwatch.store import jsontext
from rigwatch.store.bulk import executemany
from rigwatch.store.dialect import insert_for, insert_ignore
from rigwatch.store.ingest_rows import RowBatch
from rigwatch.store.tables import (
    HOST_FIGURES,
    P2POOL_FIGURES,
    host_samples,
    host_state,
    hosts,
    miners,
    p2pool_samples,
)
from rigwatch.store.timestamps import to_us

_HOST_IDENTITY = ("hostname", "os", "cpu_model", "cpu_count")
_STATE_COLUMNS = ("ts", *HOST_FIGURES, "gpus")

HostIds = dict[tuple[int, str], int]


def _mentioned(batches: Sequence[RowBatch]) -> dict[tuple[int, str], tuple[int, HostIdentity]]:
    """Every host a batch names, with its newest identity and the oldest time seen."""
    found: dict[tuple[int, str], tuple[int, HostIdentity]] = {}

    def note(sentry_id: int, ts: int, identity: HostIdentity, full: bool) -> None:
        known = found.get((sentry_id, identity.key))
        if known is None:
            found[(sentry_id, identity.key)] = (ts, identity)
        elif full:
            found[(sentry_id, identity.key)] = (min(ts, known[0]), identity)

    for batch in batches:
        for reading in batch.hosts:
            note(batch.sentry_id, to_us(reading.sample.ts), reading.host, True)
        for event in batch.events:
            if event.host_key:
                note(batch.sentry_id, to_us(event.ts), HostIdentity(event.host_key), False)
        for node in batch.p2pool:
            if node.host_key:
                note(batch.sentry_id, to_us(node.stats.ts), HostIdentity(node.host_key), False)
    return found


def _upsert_hosts(conn: Connection, batches: Sequence[RowBatch]) -> HostIds:
    mentioned = _mentioned(batches)
    if not mentioned:
        return {}
    by_sentry: dict[int, list[str]] = defaultdict(list)
    for sentry_id, key in mentioned:
        by_sentry[sentry_id].append(key)

    def existing() -> dict[tuple[int, str], Any]:
        rows: dict[tuple[int, str], Any] = {}
        for sentry_id, keys in by_sentry.items():
            query = select(hosts).where(hosts.c.sentry_id == sentry_id, hosts.c.key.in_(keys))
            rows.update(((sentry_id, row.key), row) for row in conn.execute(query))
        return rows

    rows = existing()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (sentry_id, key), (first, identity) in mentioned.items():
        values = {name: getattr(identity, name) for name in _HOST_IDENTITY}
        row = rows.get((sentry_id, key))
        if row is None:
            inserts.append({"sentry_id": sentry_id, "key": key, "first_seen": first, **values})
            continue
        stated = {name: value for name, value in values.items() if value is not None}
        if any(getattr(row, name) != value for name, value in stated.items()):
            merged = {name: stated.get(name, getattr(row, name)) for name in _HOST_IDENTITY}
            updates.append({"b_id": row.id, **{f"b_{n}": v for n, v in merged.items()}})
    if inserts:
        conn.execute(insert_for(conn, hosts), inserts)
        rows = existing()
    executemany(
        conn,
        update(hosts)
        .where(hosts.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _HOST_IDENTITY}),
        updates,
    )
    return {ident: row.id for ident, row in rows.items()}


def _figures(reading: HostReading) -> dict[str, Any]:
    sample = reading.sample
    values: dict[str, Any] = {name: getattr(sample, name) for name in HOST_FIGURES}
    values["gpus"] = jsontext.dumps([asdict(g) for g in sample.gpus])
    return values


def write_hosts(conn: Connection, batches: Sequence[RowBatch]) -> HostIds:
    """Hosts named by the batches (created when new), their samples and latest state.

    Returns host ids by (sentry_id, key), for the miners and events that name a host.
    """
    ids = _upsert_hosts(conn, batches)
    sample_rows: list[dict[str, Any]] = []
    latest: dict[int, dict[str, Any]] = {}
    for batch in batches:
        for reading in batch.hosts:
            host_id = ids[(batch.sentry_id, reading.host.key)]
            row = {"ts": to_us(reading.sample.ts), "host_id": host_id, **_figures(reading)}
            sample_rows.append(row)
            newest = latest.get(host_id)
            if newest is None or row["ts"] > newest["ts"]:
                latest[host_id] = row
    executemany(conn, insert_ignore(conn, host_samples), sample_rows)
    if latest:
        upsert = insert_for(conn, host_state)
        upsert = upsert.on_conflict_do_update(
            index_elements=[host_state.c.host_id],
            set_={name: upsert.excluded[name] for name in _STATE_COLUMNS},
            where=host_state.c.ts < upsert.excluded.ts,
        )
        executemany(conn, upsert, [dict(row) for row in latest.values()])
    return ids


def attach_miners(
    conn: Connection,
    batches: Sequence[RowBatch],
    miner_ids: dict[tuple[int, str], int],
    host_ids: HostIds,
) -> None:
    """Point each rig a host reading names at that host (only where it changed)."""
    wanted: dict[int, int] = {}
    for batch in batches:
        for reading in batch.hosts:
            host_id = host_ids[(batch.sentry_id, reading.host.key)]
            for key in reading.miner_keys:
                miner_id = miner_ids.get((batch.sentry_id, key))
                if miner_id is not None:
                    wanted[miner_id] = host_id
    if not wanted:
        return
    query = select(miners.c.id, miners.c.host_id).where(miners.c.id.in_(list(wanted)))
    current = {row.id: row.host_id for row in conn.execute(query)}
    changes = [
        {"b_id": miner_id, "b_host_id": host_id}
        for miner_id, host_id in wanted.items()
        if current.get(miner_id) != host_id
    ]
    executemany(
        conn,
        update(miners)
        .where(miners.c.id == bindparam("b_id"))
        .values(host_id=bindparam("b_host_id")),
        changes,
    )


def write_p2pool(conn: Connection, batches: Sequence[RowBatch], host_ids: HostIds) -> None:
    """One row per read of a node's data API; a replay of the same read writes nothing."""
    rows: list[dict[str, Any]] = []
    for batch in batches:
        for node in batch.p2pool:
            stats = node.stats
            row: dict[str, Any] = {name: getattr(stats, name) for name in P2POOL_FIGURES}
            row.update(
                ts=to_us(stats.ts),
                sentry_id=batch.sentry_id,
                node=node.node,
                host_id=host_ids.get((batch.sentry_id, node.host_key)) if node.host_key else None,
                workers=jsontext.dumps([asdict(w) for w in stats.workers]),
            )
            rows.append(row)
    executemany(conn, insert_ignore(conn, p2pool_samples), rows)
