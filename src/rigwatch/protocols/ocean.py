"""OCEAN (api.ocean.xyz/v1) bodies → `PoolAccount`.

The facts for statsnap, user_hashrate, user_hashrate_full and earnpay come from real
captured responses (tests/fixtures/ocean/, recorded by the naciremadream81/trillion
project on 2026-08-20/21; provenance in tests/fixtures/SOURCES.md); those for
userinfo_full and blocks only from third-party clients (PROTOCOLS.md 5.1), as no
recording of them exists:

- every body is `{"result": ...}`; an error is `{"error": "No such user..."}` (the
  message as a third-party client quotes it; here a ProtocolError carrying it);
- most numbers are JSON strings: hashrates in H/s, beyond 2**53 for a large address
  (`"hashrate_60s":"932770542822219264"`; OCEAN computes them as doubles, so a float
  holds them exactly), amounts in **BTC as decimal strings** (`"unpaid":"0.00000000"`),
  converted to satoshis with Decimal, never float; fields whose name says satoshis
  (`total_satoshis_net_paid`, `total_reward_sats`) are already atomic; the capture sends
  `total_satoshis_net_paid` as a JSON number, clients report strings too: both are read;
- statsnap: `snap_ts`, `hashrate_60s`, `hashrate_300s`, `lastest_share_ts` (the typo is
  the real API's), `unpaid`, `estimated_earn_next_block`,
  `estimated_total_earn_next_block`, ...; times are unix-seconds strings;
- user_hashrate: `hashrate_60s` ... `hashrate_86400s` (8 windows), `active_worker_count`
  (a JSON number); some clients expect no trailing "s", so both are read;
- user_hashrate_full: `{"workers": {name: [record]}, "user_hashrate": {...}}`, the
  address's total beside the workers (not a worker); records have no last-share time;
- userinfo_full (no recording): per-worker records with `lastest_share_ts`; a mapping of
  name to a record or a list of records, and a list of records naming their worker, are
  all read;
- earnpay: `payouts[{ts, on_chain_txid, total_satoshis_net_paid, is_generation_txn}]`
  with `ts` a naive ISO time ("2026-08-20T23:11:17"), read as UTC; `lightning_txid` is
  read when a client reports one (none in the capture);
- blocks (no recording): `blocks[{height, block_hash, ts, total_reward_sats,
  workername}]` (field names from a third-party mock of the API; `ts` seen in seconds
  and milliseconds).

Only `ProtocolError` escapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from rigwatch.domain.pools import (
    COIN_OF,
    PoolAccount,
    PoolBlock,
    PoolKind,
    PoolPayout,
    PoolWorker,
    preferred_rate,
)
from rigwatch.protocols import pool_json
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.pool_json import Endpoint

STATSNAP = "statsnap"
USER_HASHRATE = "user_hashrate"
USER_HASHRATE_FULL = "user_hashrate_full"
USERINFO_FULL = "userinfo_full"
EARNPAY = "earnpay"
BLOCKS = "blocks"
BLOCKS_PAGE_SIZE = 20
COIN = COIN_OF[PoolKind.OCEAN]
MAX_WORKERS = 10_000
_NAME_KEYS = ("workername", "worker_name", "worker", "name")
# Keys beside the workers in a name → record mapping that are not workers.
_NOT_WORKERS = frozenset({"user_hashrate", "total", "online", "offline", "snap_ts"})


def endpoints(account: str, *, earnpay: tuple[datetime, datetime]) -> list[Endpoint]:
    """What one sync GETs; earnpay between the two times of `earnpay` (unix seconds, the
    start / end form the recorded client used)."""
    user = pool_json.quote(account)
    since, until = (int(t.timestamp()) for t in earnpay)
    return [
        Endpoint(STATSNAP, f"/statsnap/{user}", required=True),
        Endpoint(USER_HASHRATE, f"/user_hashrate/{user}"),
        Endpoint(USER_HASHRATE_FULL, f"/user_hashrate_full/{user}"),
        Endpoint(USERINFO_FULL, f"/userinfo_full/{user}"),
        Endpoint(EARNPAY, f"/earnpay/{user}/{since}/{until}"),
        Endpoint(BLOCKS, f"/blocks/0/{BLOCKS_PAGE_SIZE}/0"),
    ]


def result(name: str, raw: bytes) -> Any:
    """The `result` of the envelope; the pool's `error` as a ProtocolError."""
    doc = pool_json.decode(name, raw)
    if isinstance(doc, dict):
        if "result" in doc:
            return doc["result"]
        error = doc.get("error")
        if error is not None:
            message = pool_json.text(error, 200) or "an error"
            raise ProtocolError(f"ocean {name}: the pool says {message!r}")
    return doc


def _rates(record: Mapping[str, Any]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for key, value in record.items():
        label = pool_json.window_of(key) if isinstance(key, str) else None
        hs = pool_json.rate(value)
        if label is not None and hs is not None:
            rates[label] = hs
    return rates


def parse_statsnap(raw: bytes) -> dict[str, Any]:
    """statsnap → hashrates, last share, unpaid and estimated earnings (sats)."""
    snap = pool_json.obj(result(STATSNAP, raw))
    if not snap or not any(k in snap for k in ("snap_ts", "hashrate_300s", "unpaid")):
        raise ProtocolError("ocean statsnap: no snap_ts, hashrate_300s or unpaid")
    estimated = pool_json.btc_to_sats(snap.get("estimated_total_earn_next_block"))
    if estimated is None:
        estimated = pool_json.btc_to_sats(snap.get("estimated_earn_next_block"))
    return {
        "hashrates": _rates(snap),
        "last_share": pool_json.unix_time(snap.get("lastest_share_ts")),
        "unpaid_atomic": pool_json.btc_to_sats(snap.get("unpaid")),
        "estimated_atomic": estimated,
        "snap_ts": pool_json.unix_time(snap.get("snap_ts")),
    }


def parse_user_hashrate(raw: bytes) -> dict[str, Any]:
    """user_hashrate → hashrates per window and the active worker count."""
    doc = pool_json.obj(result(USER_HASHRATE, raw))
    return {
        "hashrates": _rates(doc),
        "workers_count": pool_json.count(doc.get("active_worker_count")),
    }


def _named(name: object, record: object) -> tuple[str, Mapping[str, Any]] | None:
    if isinstance(record, list):
        record = next((r for r in record if isinstance(r, Mapping)), None)
    clean = pool_json.text(name, 255)
    if clean is None or not isinstance(record, Mapping):
        return None
    return clean, record


def _worker_records(value: object) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, record) from any of the shapes clients have seen (module docstring)."""
    if isinstance(value, Mapping) and "workers" in value:
        value = value["workers"]
    if isinstance(value, Mapping):
        pairs = list(value.items())[:MAX_WORKERS]
        for name, record in pairs:
            if name in _NOT_WORKERS:
                continue
            found = _named(name, record)
            if found is not None:
                yield found
    for record in pool_json.items(value):
        item = pool_json.obj(record)
        name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
        found = _named(name, item)
        if found is not None:
            yield found


def _workers(name: str, raw: bytes) -> tuple[PoolWorker, ...]:
    workers: dict[str, PoolWorker] = {}
    for worker, record in _worker_records(result(name, raw)):
        rates = _rates(record)
        workers[worker] = PoolWorker(
            name=worker,
            hashrate_hs=preferred_rate(rates),
            hashrates=rates,
            last_share=pool_json.unix_time(record.get("lastest_share_ts")),
        )
    return tuple(workers.values())


def parse_user_hashrate_full(raw: bytes) -> tuple[PoolWorker, ...]:
    """user_hashrate_full → each worker's hashrates."""
    return _workers(USER_HASHRATE_FULL, raw)


def parse_userinfo_full(raw: bytes) -> tuple[PoolWorker, ...]:
    """userinfo_full → each worker's statsnap: hashrates and `lastest_share_ts`."""
    return _workers(USERINFO_FULL, raw)


def parse_earnpay(raw: bytes) -> tuple[PoolPayout, ...]:
    """earnpay → payouts (sats); entries without a time or an amount are skipped."""
    doc = pool_json.obj(result(EARNPAY, raw))
    payouts: list[PoolPayout] = []
    for entry in pool_json.items(doc.get("payouts")):
        item = pool_json.obj(entry)
        ts = pool_json.unix_time(item.get("ts"))
        amount = pool_json.atomic(item.get("total_satoshis_net_paid"))
        if ts is None or amount is None:
            continue
        txid = (
            pool_json.text(item.get("on_chain_txid"), 200)
            or pool_json.text(item.get("lightning_txid"), 200)
            or ""
        )
        payouts.append(PoolPayout(ts=ts, amount_atomic=amount, coin=COIN, txid=txid))
    return tuple(payouts)


def parse_blocks(raw: bytes) -> tuple[PoolBlock, ...]:
    """blocks → the pool's blocks; entries without a height are skipped."""
    value = result(BLOCKS, raw)
    entries = value.get("blocks") if isinstance(value, Mapping) else value
    blocks: list[PoolBlock] = []
    for entry in pool_json.items(entries):
        item = pool_json.obj(entry)
        height = pool_json.count(item.get("height"))
        if height is None:
            continue
        blocks.append(
            PoolBlock(
                height=height,
                ts=pool_json.unix_time(item.get("ts")),
                hash=pool_json.text(item.get("block_hash"), 64)
                or pool_json.text(item.get("hash"), 64)
                or "",
                reward_atomic=pool_json.atomic(item.get("total_reward_sats")),
                finder=pool_json.text(item.get("workername"), 255)
                or pool_json.text(item.get("username"), 255),
            )
        )
    return tuple(blocks)


def _merge_workers(*lists: tuple[PoolWorker, ...]) -> tuple[PoolWorker, ...]:
    merged: dict[str, PoolWorker] = {}
    for workers in lists:
        for worker in workers:
            old = merged.get(worker.name)
            if old is None:
                merged[worker.name] = worker
                continue
            rates = {**worker.hashrates, **old.hashrates}
            merged[worker.name] = PoolWorker(
                name=worker.name,
                hashrate_hs=preferred_rate(rates),
                hashrates=rates,
                last_share=old.last_share or worker.last_share,
            )
    return tuple(merged.values())


def build(account: str, ts: datetime, bodies: Mapping[str, bytes]) -> tuple[PoolAccount, list[str]]:
    """A PoolAccount from the bodies fetched (by endpoint name). statsnap must parse
    (ProtocolError otherwise); any other body that does not costs only its own figures
    and is named in the returned problems."""
    if STATSNAP not in bodies:
        raise ProtocolError("ocean: no statsnap body")
    snap = parse_statsnap(bodies[STATSNAP])
    parts = pool_json.OptionalParts(bodies)
    no_user: dict[str, Any] = {"hashrates": {}, "workers_count": None}
    user = parts.parse(USER_HASHRATE, parse_user_hashrate, no_user)
    full = parts.parse(USER_HASHRATE_FULL, parse_user_hashrate_full, ())
    info = parts.parse(USERINFO_FULL, parse_userinfo_full, ())
    payouts = parts.parse(EARNPAY, parse_earnpay, ())
    blocks = parts.parse(BLOCKS, parse_blocks, ())
    workers = _merge_workers(full, info)
    return (
        PoolAccount(
            kind=PoolKind.OCEAN,
            account=account,
            ts=ts,
            coin=COIN,
            hashrates={**user["hashrates"], **snap["hashrates"]},
            workers=workers,
            workers_count=user["workers_count"]
            if user["workers_count"] is not None
            else (len(workers) if workers else None),
            last_share=snap["last_share"],
            unpaid_atomic=snap["unpaid_atomic"],
            estimated_atomic=snap["estimated_atomic"],
            payouts=payouts,
            blocks=blocks,
        ),
        parts.problems,
    )


def earnpay_window(last_success: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The payout history a sync reads: from a year back on the first sync, then from a
    month before the last good one (payouts are stored once however often they come),
    to a day past now (a pool clock a little ahead loses nothing)."""
    until = now + timedelta(days=1)
    if last_success is None:
        return now - timedelta(days=365), until
    return min(last_success, now) - timedelta(days=30), until
