"""What a Prometheus scrape reads: every miner's identity and latest state in one query.

One row per miner from `miners` ⋈ `sentries` ⋈ `sites` ⟕ `miner_state` (no samples, no
per-miner round trips), so a scrape costs the same single statement for ten miners or
ten thousand. The status is the effective one of the rest of the read side: a miner
whose last sample is older than `offline_after_s`, or that never reported, is offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from rigwatch.domain.models import MinerKind, MinerStatus
from rigwatch.store import jsontext
from rigwatch.store.tables import miner_state, miners, sentries, sites
from rigwatch.store.timestamps import to_us


@dataclass(frozen=True, slots=True)
class MinerMetrics:
    """One miner as the exposition needs it; readings are None when never reported."""

    key: str
    kind: MinerKind
    site: str
    sentry: str
    make: str | None
    model: str | None
    worker: str | None
    tags: tuple[str, ...]
    status: MinerStatus
    last_sample_ts: int | None  # µs since the epoch, UTC
    hashrate_hs: float | None
    hashrate_expected_hs: float | None
    temp_c: float | None
    chip_temp_c: float | None
    temp_max_c: float | None
    fans_rpm: tuple[int, ...]
    power_w: float | None
    accepted: int | None
    rejected: int | None
    stale: int | None


_QUERY: Select[Any] = (
    select(
        miners.c.key,
        miners.c.kind,
        sites.c.name.label("site"),
        sentries.c.name.label("sentry"),
        miners.c.make,
        miners.c.model,
        miners.c.worker,
        miners.c.tags,
        miner_state.c.status,
        miner_state.c.last_sample_ts,
        miner_state.c.hashrate_hs,
        miner_state.c.hashrate_expected_hs,
        miner_state.c.temp_c,
        miner_state.c.chip_temp_c,
        miner_state.c.temp_max_c,
        miner_state.c.fans_rpm,
        miner_state.c.power_w,
        miner_state.c.accepted,
        miner_state.c.rejected,
        miner_state.c.stale,
    )
    .select_from(miners)
    .join(sentries, sentries.c.id == miners.c.sentry_id)
    .join(sites, sites.c.id == sentries.c.site_id)
    .outerjoin(miner_state, miner_state.c.miner_id == miners.c.id)
    .order_by(miners.c.id)
)

_STATUSES = {str(s): s for s in MinerStatus}
_KINDS = {str(k): k for k in MinerKind}


def miner_metrics(conn: Connection, now: datetime, offline_after_s: float) -> list[MinerMetrics]:
    """Every miner with its latest state, in one statement."""
    cutoff = to_us(now - timedelta(seconds=offline_after_s))
    out: list[MinerMetrics] = []
    append = out.append
    loads = jsontext.loads
    offline = MinerStatus.OFFLINE
    for row in conn.execute(_QUERY):
        status, last_ts, fans = row.status, row.last_sample_ts, row.fans_rpm
        effective = (
            offline if status is None or last_ts is None or last_ts < cutoff else _STATUSES[status]
        )
        append(
            MinerMetrics(
                key=row.key,
                kind=_KINDS[row.kind],
                site=row.site,
                sentry=row.sentry,
                make=row.make,
                model=row.model,
                worker=row.worker,
                tags=tuple(sorted(str(t) for t in (loads(row.tags) or ()))),
                status=effective,
                last_sample_ts=last_ts,
                hashrate_hs=row.hashrate_hs,
                hashrate_expected_hs=row.hashrate_expected_hs,
                temp_c=row.temp_c,
                chip_temp_c=row.chip_temp_c,
                temp_max_c=row.temp_max_c,
                fans_rpm=tuple(loads(fans) or ()) if fans else (),
                power_w=row.power_w,
                accepted=row.accepted,
                rejected=row.rejected,
                stale=row.stale,
            )
        )
    return out
