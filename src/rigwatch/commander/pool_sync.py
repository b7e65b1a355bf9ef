"""The pool sync job: read every due pool account, store it, match its workers to the
farm's miners and raise `pool_hashrate_gap` events.

**Fetching.** The job ticks every `TICK_S` and syncs each enabled account whose own
interval (default 300 s) has passed since its last attempt. Each GET has its own
timeout (`pool_timeout_s`) and a bounded body. An account whose required endpoint
fails (network error, timeout, HTTP error, a body its parser refuses) gets
`last_error` and one more `consecutive_failures`, and the next account is synced all
the same; an optional endpoint that fails costs only its own figures (noted in
`last_error` of a sync that otherwise succeeded). The job raises only when every due
account failed, so the scheduler's failure count means "no pool answers". No
transaction is open while waiting on the network: each account's results are written
in one short transaction after its fetches.

**Worker matching.** A pool worker is matched to a miner by worker name, case-
insensitively. Names are compared bare, per account: `address.worker` stands for
`worker` when the address is the account's (and for nothing when it is another
address); a name without a dot is already bare (`rig1`, or the bare address ckpool and
P2Pool use for an unnamed worker). A miner's names are its `worker` and the stratum user
of its active pool. When several miners share one worker name, the pool's figure is
compared with the sum of theirs.

**The gap rule.** At each sync, for each matched worker: gap = |pool - own| / own, with
the pool's hashrate from its longest window up to an hour (`preferred_rate`) and the
miner's own latest hashrate, if the miner reported within `FRESH_S`. A gap above
`pool_gap_pct` (default 20 %) starts an episode (remembered in `pool_miner_gaps`); the
first sync at least `pool_gap_s` (default 3600 s) after the episode began raises ONE
event `pool_hashrate_gap` for that miner, stored in `events` with the natural key
`pool_hashrate_gap:<account>:<miner>:<episode start µs>`, so a re-run or a concurrent
sync cannot store it twice. A sync within the threshold ends the episode and raises
nothing; a sync without both figures (miner silent, worker gone) leaves it as it is; a
miner no longer matched drops its episode. A later gap is a new episode, with its own
event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType

import httpx
from sqlalchemy.engine import Connection, Engine

from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.config import Settings
from rigwatch.domain.pools import (
    PoolAccount,
    PoolKind,
    bare_worker,
    gap_fraction,
    preferred_rate,
    step_gap,
)
from rigwatch.protocols import (
    ckpool,
    ocean,
    p2pool_observer,
    pool_json,
    pool_p2pool,
    public_pool,
)
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.pool_json import Endpoint
from rigwatch.store import pools as store

log = logging.getLogger(__name__)

TICK_S = 60.0
FRESH_S = 900.0
DEFAULT_TIMEOUT_S = 15.0
MAX_BODY_BYTES = pool_json.MAX_BODY_BYTES
JOB_NAME = "pool_sync"

Builder = Callable[[str, datetime, Mapping[str, bytes]], tuple[PoolAccount, list[str]]]
PARSERS: dict[PoolKind, ModuleType] = {
    PoolKind.OCEAN: ocean,
    PoolKind.PUBLIC_POOL: public_pool,
    PoolKind.CKPOOL: ckpool,
    PoolKind.P2POOL: pool_p2pool,
    PoolKind.P2POOL_OBSERVER: p2pool_observer,
}


class PoolFetchError(Exception):
    """A required endpoint of an account could not be read or parsed."""


class PoolSyncFailed(RuntimeError):
    """Every due account failed."""


def _endpoints(ref: store.AccountRef, now: datetime) -> list[Endpoint]:
    if ref.kind is PoolKind.OCEAN:
        return ocean.endpoints(ref.account, earnpay=ocean.earnpay_window(ref.last_success_at, now))
    module = PARSERS[ref.kind]
    found: list[Endpoint] = module.endpoints(ref.account)
    return found


def _get(client: httpx.Client, url: str, timeout_s: float) -> bytes:
    """One GET with its own timeout and a bounded body; httpx errors and statuses other
    than 2xx become PoolFetchError."""
    try:
        with client.stream("GET", url, timeout=timeout_s) as response:
            if not response.is_success:
                raise PoolFetchError(f"GET {url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise PoolFetchError(f"GET {url}: body larger than {MAX_BODY_BYTES} bytes")
            return bytes(body)
    except httpx.TimeoutException:
        raise PoolFetchError(f"GET {url}: timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise PoolFetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None


def fetch_account(
    client: httpx.Client, ref: store.AccountRef, now: datetime, *, timeout_s: float
) -> tuple[PoolAccount, list[str]]:
    """Read one account: its PoolAccount and the optional parts that failed."""
    base = ref.base_url.rstrip("/")
    bodies: dict[str, bytes] = {}
    problems: list[str] = []
    for endpoint in _endpoints(ref, now):
        try:
            bodies[endpoint.name] = _get(client, base + endpoint.path, timeout_s)
        except PoolFetchError as exc:
            if endpoint.required:
                raise
            problems.append(str(exc))
    build: Builder = PARSERS[ref.kind].build
    try:
        found, more = build(ref.account, now, bodies)
    except ProtocolError as exc:
        raise PoolFetchError(f"malformed reply: {exc}") from None
    return found, problems + more


# ---- worker matching and gaps ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GapRule:
    threshold: float = 0.20
    sustain: timedelta = timedelta(hours=1)


def _miner_names(miner: store.FarmMiner, account: str) -> list[str]:
    names = [bare_worker(user, account) for user in (miner.worker, miner.pool_user)]
    return list(dict.fromkeys(n for n in names if n is not None))


def match_workers(
    conn: Connection,
    ref: store.AccountRef,
    found: PoolAccount,
    now: datetime,
    rule: GapRule,
) -> int:
    """Pair the account's workers with the farm's miners, step each pair's gap episode
    and raise the events due. Returns the number of events raised."""
    pool_rates: dict[str, tuple[str, float | None]] = {}
    for worker in found.workers:
        bare = bare_worker(worker.name, ref.account)
        if bare is None:
            continue
        rate = worker.hashrate_hs if worker.hashrate_hs is not None else None
        if rate is None:
            rate = preferred_rate(worker.hashrates)
        name, old = pool_rates.get(bare, (worker.name, None))
        pool_rates[bare] = (name, rate if old is None else old + (rate or 0.0))
    groups: dict[str, list[store.FarmMiner]] = {}
    for miner in store.farm_miners(conn):
        bare = next((n for n in _miner_names(miner, ref.account) if n in pool_rates), None)
        if bare is not None:
            groups.setdefault(bare, []).append(miner)
    states = store.gap_states(conn, ref.id)
    fresh_after = now - timedelta(seconds=FRESH_S)
    rows: list[store.GapRow] = []
    raised = 0
    for bare, group in groups.items():
        worker_name, pool_hs = pool_rates[bare]
        own_rates = [
            m.hashrate_hs
            for m in group
            if m.hashrate_hs is not None and m.last_sample and m.last_sample >= fresh_after
        ]
        own = sum(own_rates) if len(own_rates) == len(group) else None
        fraction = gap_fraction(own, pool_hs)
        for miner in group:
            state = states.get(miner.id, store.GapState(None, False))
            step = step_gap(
                since=state.since,
                raised=state.raised,
                fraction=fraction,
                now=now,
                threshold=rule.threshold,
                sustain=rule.sustain,
            )
            row = store.GapRow(
                miner_id=miner.id,
                worker=worker_name,
                pool_hashrate_hs=pool_hs,
                miner_hashrate_hs=own,
                since=step.since,
                raised=step.raised,
            )
            rows.append(row)
            if step.raise_event and fraction is not None:
                store.raise_gap_event(
                    conn, miner=miner, account=ref, row=row, now=now, fraction=fraction
                )
                raised += 1
    store.save_gaps(conn, ref.id, rows, now)
    return raised


# ---- the job ---------------------------------------------------------------------------


def sync_pools(
    engine: Engine,
    now: datetime,
    *,
    client: httpx.Client,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    gap_pct: float = 20.0,
    gap_s: float = 3600.0,
    account_id: int | None = None,
) -> JobOutcome:
    """Sync every due account (or only `account_id`, due or not). Raises PoolSyncFailed
    only when every account it tried failed."""
    with engine.connect() as conn:
        if account_id is None:
            due = store.due_accounts(conn, now)
        else:
            one = store.account_ref(conn, account_id)
            due = [] if one is None else [one]
    if not due:
        return JobOutcome(detail="no account due")
    rule = GapRule(threshold=gap_pct / 100.0, sustain=timedelta(seconds=gap_s))
    failed: list[str] = []
    events = 0
    for ref in due:
        try:
            found, problems = fetch_account(client, ref, now, timeout_s=timeout_s)
        except PoolFetchError as exc:
            log.warning("pool account %s (%s) failed: %s", ref.id, ref.kind, exc)
            with engine.begin() as conn:
                store.record_failure(conn, ref.id, now, str(exc))
            failed.append(f"{ref.name}: {exc}")
            continue
        with engine.begin() as conn:
            store.record_success(conn, ref.id, now, found, problems)
            events += match_workers(conn, ref, found, now, rule)
    detail = f"{len(due) - len(failed)}/{len(due)} accounts synced, {events} gap events"
    if failed and len(failed) == len(due):
        raise PoolSyncFailed(f"every pool account failed: {'; '.join(failed)}"[:1000])
    return JobOutcome(detail=detail + (f"; failed: {'; '.join(failed)}" if failed else ""))


def default_base_url(settings: Settings, kind: PoolKind) -> str | None:
    """The public service of a kind (configuration); a P2Pool node has none."""
    return {
        PoolKind.OCEAN: settings.ocean_url,
        PoolKind.P2POOL_OBSERVER: settings.p2pool_observer_url,
        PoolKind.PUBLIC_POOL: settings.public_pool_url,
        PoolKind.CKPOOL: settings.ckpool_url,
    }.get(kind)


def sync_with_settings(
    engine: Engine, now: datetime, settings: Settings, *, account_id: int | None = None
) -> JobOutcome:
    """`sync_pools` with a client of its own and the settings' timeout and gap rule."""
    with httpx.Client(follow_redirects=False) as client:
        return sync_pools(
            engine,
            now,
            client=client,
            timeout_s=settings.pool_timeout_s,
            gap_pct=settings.pool_gap_pct,
            gap_s=settings.pool_gap_s,
            account_id=account_id,
        )


def pool_sync_job(settings: Settings) -> JobSpec:
    """The scheduled job (to list in `schedule.default_jobs`)."""

    def run(engine: Engine, now: datetime) -> JobOutcome:
        return sync_with_settings(engine, now, settings)

    return JobSpec(JOB_NAME, TICK_S, sync=run, first_after_s=20.0)
