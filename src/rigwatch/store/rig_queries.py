"""Reads for rigs' hosts and P2Pool nodes: what the rig page and P2Pool panel show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from rigwatch.domain.host import GpuHealth, HostIdentity, HostSample
from rigwatch.domain.p2pool import P2PoolStats, P2PoolWorker
from rigwatch.domain.views import HostView, P2PoolNodeView
from rigwatch.store import jsontext
from rigwatch.store.tables import (
    HOST_FIGURES,
    P2POOL_FIGURES,
    host_samples,
    host_state,
    hosts,
    miners,
    p2pool_samples,
)
from rigwatch.store.timestamps import from_us, to_us


def _host_sample(row: Row[Any]) -> HostSample:
    return HostSample(
        ts=from_us(row.ts),
        **{name: getattr(row, name) for name in HOST_FIGURES},
        gpus=tuple(GpuHealth(**g) for g in jsontext.loads(row.gpus) or []),
    )


def list_hosts(conn: Connection, host_id: int | None = None) -> list[HostView]:
    """Every host (or one), with its latest reading and the miners attached to it."""
    query = (
        select(hosts, *(c.label(f"s_{c.name}") for c in host_state.c))
        .outerjoin(host_state, host_state.c.host_id == hosts.c.id)
        .order_by(hosts.c.key, hosts.c.id)
    )
    if host_id is not None:
        query = query.where(hosts.c.id == host_id)
    attached: dict[int, list[int]] = {}
    rigs = select(miners.c.host_id, miners.c.id).where(miners.c.host_id.is_not(None))
    if host_id is not None:
        rigs = rigs.where(miners.c.host_id == host_id)
    for rig in conn.execute(rigs.order_by(miners.c.id)):
        attached.setdefault(int(rig.host_id), []).append(int(rig.id))
    views: list[HostView] = []
    for row in conn.execute(query):
        latest = None
        if row.s_ts is not None:
            latest = HostSample(
                ts=from_us(row.s_ts),
                **{name: getattr(row, f"s_{name}") for name in HOST_FIGURES},
                gpus=tuple(GpuHealth(**g) for g in jsontext.loads(row.s_gpus) or []),
            )
        views.append(
            HostView(
                id=row.id,
                sentry_id=row.sentry_id,
                identity=HostIdentity(
                    key=row.key,
                    hostname=row.hostname,
                    os=row.os,
                    cpu_model=row.cpu_model,
                    cpu_count=row.cpu_count,
                ),
                first_seen=from_us(row.first_seen),
                latest=latest,
                miner_ids=tuple(attached.get(row.id, ())),
            )
        )
    return views


def host_history(
    conn: Connection, host_id: int, start: datetime, end: datetime, limit: int = 10_000
) -> list[HostSample]:
    """Raw host readings in [start, end), oldest first."""
    query = (
        select(host_samples)
        .where(
            host_samples.c.ts >= to_us(start),
            host_samples.c.ts < to_us(end),
            host_samples.c.host_id == host_id,
        )
        .order_by(host_samples.c.ts)
        .limit(limit)
    )
    return [_host_sample(row) for row in conn.execute(query)]


def _stats(row: Row[Any]) -> P2PoolStats:
    return P2PoolStats(
        ts=from_us(row.ts),
        **{name: getattr(row, name) for name in P2POOL_FIGURES},
        workers=tuple(P2PoolWorker(**w) for w in jsontext.loads(row.workers) or []),
    )


def p2pool_nodes(conn: Connection) -> list[P2PoolNodeView]:
    """The newest reading of every P2Pool node."""
    newest = (
        select(
            p2pool_samples.c.sentry_id,
            p2pool_samples.c.node,
            func.max(p2pool_samples.c.ts).label("ts"),
        )
        .group_by(p2pool_samples.c.sentry_id, p2pool_samples.c.node)
        .subquery()
    )
    query = (
        select(p2pool_samples)
        .join(
            newest,
            (newest.c.sentry_id == p2pool_samples.c.sentry_id)
            & (newest.c.node == p2pool_samples.c.node)
            & (newest.c.ts == p2pool_samples.c.ts),
        )
        .order_by(p2pool_samples.c.node)
    )
    return [
        P2PoolNodeView(
            sentry_id=row.sentry_id, node=row.node, host_id=row.host_id, stats=_stats(row)
        )
        for row in conn.execute(query)
    ]


def p2pool_history(
    conn: Connection, node: str, start: datetime, end: datetime, limit: int = 10_000
) -> list[P2PoolStats]:
    """A node's readings in [start, end), oldest first."""
    query = (
        select(p2pool_samples)
        .where(
            p2pool_samples.c.ts >= to_us(start),
            p2pool_samples.c.ts < to_us(end),
            p2pool_samples.c.node == node,
        )
        .order_by(p2pool_samples.c.ts)
        .limit(limit)
    )
    return [_stats(row) for row in conn.execute(query)]
