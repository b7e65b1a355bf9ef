"""The wallet sync job: payouts from the chain into `payments`, wallet by wallet.

Per wallet, incrementally: the scan starts `reorg_depth` blocks below the synced height
(or at an admin's reset height), so the newest blocks are looked at again every time; a
payment there whose block hash changed is updated, one whose transaction the scan no
longer lists (or lists as unconfirmed) is removed, and each touched day's total is
recomputed. A listed transaction that cannot be read is fetched on its own; when that
fails too it goes to `payment_retries` and is tried again on later syncs (the scan still
moves on). Outgoing transactions are not revenue.

Explorers:
- Esplora (`esplora_address`): `/address/<a>/txs`, then `/txs/chain/<last txid>` pages,
  newest first, until a page reaches below the start height or comes back empty.
- Blockbook (`blockbook`): `/api/status` for the tip, then `/api/v2/address/<a>?
  details=txs&from=<start>&page=<n>` until the last page. Before the scan, the hash of
  the newest stored payment below the window is checked with `/api/v2/block-index/<h>`;
  a different hash means a reorganisation deeper than `reorg_depth`, and the scan starts
  below it instead.

Network calls hold no transaction: each page is written in its own short transaction.
One wallet failing (network, HTTP error, garbage) is recorded on that wallet and never
stops the others; the job raises only when every wallet failed. Afterwards payments
older than the retention are deleted in bounded chunks (daily totals stay).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from rigwatch.commander.jobs import JobOutcome, JobSpec
from rigwatch.config import Settings
from rigwatch.domain.payouts import Backend, TxUnreadable, Wallet, WalletTx
from rigwatch.protocols import blockbook, esplora_address
from rigwatch.protocols.errors import ProtocolError
from rigwatch.store import payouts as store
from rigwatch.store.tables import payments

log = logging.getLogger(__name__)

JOB_NAME = "wallet_sync"
DEFAULT_TIMEOUT_S = 30.0
MAX_PAGES = 400  # 10,000 Esplora transactions, 400,000 Blockbook ones per sync
USER_AGENT = "rigwatch (wallet sync)"


class ChainError(Exception):
    """The explorer answered with an error status; the message is its own."""


class PayoutSyncFailed(RuntimeError):
    """Every wallet failed this time (each wallet's error is on its row)."""


FAILURES = (httpx.HTTPError, ProtocolError, ChainError)


def _get(
    client: httpx.Client,
    url: str,
    *,
    limit: int,
    error_message: Callable[[bytes], str],
    params: dict[str, str] | None = None,
) -> bytes:
    """The body of a 200 answer, read up to `limit` bytes; ChainError otherwise."""
    with client.stream("GET", url, params=params, headers={"Accept": "application/json"}) as r:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise ChainError(f"{url}: answer larger than {limit} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        if r.status_code != 200:
            raise ChainError(f"HTTP {r.status_code} from {url}: {error_message(body)}")
        return body


Listed = WalletTx | TxUnreadable


class Explorer(Protocol):
    tip: int | None

    def pages(self, start: int) -> Iterator[list[Listed]]: ...

    def tx(self, txid: str) -> WalletTx: ...

    def block_hash(self, height: int) -> str | None: ...


class Esplora:
    def __init__(self, client: httpx.Client, wallet: Wallet) -> None:
        self._client = client
        self._base = wallet.base_url.rstrip("/")
        self._address = wallet.address
        self.tip: int | None = None

    def _get(self, path: str) -> bytes:
        return _get(
            self._client,
            self._base + path,
            limit=esplora_address.MAX_BODY_BYTES,
            error_message=esplora_address.error_message,
        )

    def pages(self, start: int) -> Iterator[list[Listed]]:
        path = esplora_address.txs_path(self._address)
        for _ in range(MAX_PAGES):
            page = esplora_address.parse_page(self._get(path), self._address)
            yield page
            confirmed = [t for t in page if not (isinstance(t, WalletTx) and t.block is None)]
            heights = [t.block.height for t in page if isinstance(t, WalletTx) and t.block]
            if not confirmed or (heights and min(heights) < start):
                return
            path = esplora_address.chain_path(self._address, confirmed[-1].txid)
        raise ChainError(f"more than {MAX_PAGES} pages of history; reset from a later height")

    def tx(self, txid: str) -> WalletTx:
        body = self._get(esplora_address.tx_path(txid))
        return esplora_address.parse_tx_body(body, self._address)

    def block_hash(self, height: int) -> str | None:
        return None  # Esplora wallets rely on the re-checked window alone


class Blockbook:
    def __init__(self, client: httpx.Client, wallet: Wallet) -> None:
        self._client = client
        self._base = wallet.base_url.rstrip("/")
        self._address = wallet.address
        self.tip: int | None = None

    def _get(self, path: str, params: dict[str, str] | None = None) -> bytes:
        return _get(
            self._client,
            self._base + path,
            params=params,
            limit=blockbook.MAX_BODY_BYTES,
            error_message=blockbook.error_message,
        )

    def pages(self, start: int) -> Iterator[list[Listed]]:
        self.tip = blockbook.parse_status(self._get(blockbook.STATUS_PATH)).best_height
        path = blockbook.address_path(self._address)
        for number in range(1, MAX_PAGES + 1):
            page = blockbook.parse_address_page(
                self._get(path, blockbook.address_params(start, number)), self._address
            )
            yield list(page.transactions)
            if not page.transactions or number >= page.total_pages:
                return
        raise ChainError(f"more than {MAX_PAGES} pages of history; reset from a later height")

    def tx(self, txid: str) -> WalletTx:
        return blockbook.parse_tx_body(self._get(blockbook.tx_path(txid)), self._address)

    def block_hash(self, height: int) -> str | None:
        return blockbook.parse_block_index(self._get(blockbook.block_index_path(height)))


def explorer_for(client: httpx.Client, wallet: Wallet) -> Explorer:
    if wallet.backend is Backend.BLOCKBOOK:
        return Blockbook(client, wallet)
    return Esplora(client, wallet)


@dataclass(slots=True)
class WalletReport:
    changes: store.Changes = field(default_factory=store.Changes)
    retrying: int = 0
    scanned_from: int = 0
    synced_height: int | None = None


def _deep_reorg_start(engine: Engine, explorer: Explorer, wallet: Wallet, start: int) -> int:
    """`start`, or lower when the newest payment below it sits in a block that is no longer
    on the chain (Blockbook only: Esplora answers None)."""
    with engine.connect() as conn:
        below = conn.execute(
            select(payments.c.block_height, payments.c.block_hash)
            .where(payments.c.wallet_id == wallet.id, payments.c.block_height < start)
            .order_by(payments.c.block_height.desc())
            .limit(1)
        ).first()
    if below is None:
        return start
    try:
        current = explorer.block_hash(int(below.block_height))
    except FAILURES as exc:  # a safety net only: the window is still re-checked
        log.info("wallet %s: block-index check skipped: %s", wallet.id, exc)
        return start
    if current is None or current == below.block_hash:
        return start
    log.warning(
        "wallet %s: block %s changed below the re-checked window; re-scanning from %s",
        wallet.id,
        below.block_height,
        int(below.block_height),
    )
    return int(below.block_height)


def sync_wallet(
    engine: Engine,
    wallet: Wallet,
    now: datetime,
    client: httpx.Client,
    *,
    reorg_depth: int,
    final_day: str,
) -> WalletReport:
    """One wallet's sync; raises one of FAILURES when the explorer cannot be read."""
    report = WalletReport()
    explorer = explorer_for(client, wallet)
    start = 0 if wallet.synced_height is None else max(0, wallet.synced_height - reorg_depth + 1)
    if wallet.rescan_from is not None:
        start = min(start, wallet.rescan_from)
    start = _deep_reorg_start(engine, explorer, wallet, start)
    report.scanned_from = start

    # Transactions that failed before and are due again.
    with engine.connect() as conn:
        due = store.due_retries(conn, wallet.id, now)
    for txid in due:
        _read_alone(engine, explorer, wallet, txid, "retry", now, report, final_day)

    seen: set[str] = set()
    highest = wallet.synced_height
    for page in explorer.pages(start):
        readable: list[WalletTx] = []
        for item in page:
            seen.add(item.txid)
            if isinstance(item, TxUnreadable):
                _read_alone(
                    engine, explorer, wallet, item.txid, item.reason, now, report, final_day
                )
                continue
            readable.append(item)
            if item.block is not None and (highest is None or item.block.height > highest):
                highest = item.block.height
        with engine.begin() as conn:
            report.changes.merge(
                store.store_transactions(conn, wallet, readable, now, final_day=final_day)
            )
            store.drop_retries(conn, wallet.id, [t.txid for t in readable])
    if explorer.tip is not None and (highest is None or explorer.tip > highest):
        highest = explorer.tip
    with engine.begin() as conn:
        report.changes.merge(store.remove_vanished(conn, wallet, start, seen, final_day=final_day))
        report.retrying = len(store.retry_txids(conn, wallet.id))
        store.finish_sync(conn, wallet.id, highest, start, now)
    report.synced_height = highest
    return report


def _read_alone(
    engine: Engine,
    explorer: Explorer,
    wallet: Wallet,
    txid: str,
    why: str,
    now: datetime,
    report: WalletReport,
    final_day: str,
) -> None:
    """Fetch one transaction and store it; on failure (re)schedule it in the retries."""
    try:
        tx = explorer.tx(txid)
    except FAILURES as exc:
        with engine.begin() as conn:
            store.note_retry(conn, wallet.id, txid, f"{why}; fetch failed: {exc}", now)
        return
    with engine.begin() as conn:
        report.changes.merge(store.store_transactions(conn, wallet, [tx], now, final_day=final_day))
        store.drop_retries(conn, wallet.id, [txid])


def sync_wallets(
    engine: Engine,
    now: datetime,
    *,
    client: httpx.Client,
    reorg_depth: int = 6,
    retention_days: float = 365.0,
    wallet_ids: list[int] | None = None,
) -> JobOutcome:
    """Sync every wallet (or those in `wallet_ids`), then apply the payment retention."""
    if reorg_depth < 1:
        raise ValueError("reorg_depth must be at least 1")
    final_day = store.final_before(now, retention_days)
    with engine.connect() as conn:
        found = store.list_wallets(conn)
    chosen = [w for w in found if wallet_ids is None or w.id in wallet_ids]
    totals = store.Changes()
    retrying = 0
    failed: list[str] = []
    for wallet in chosen:
        try:
            report = sync_wallet(
                engine, wallet, now, client, reorg_depth=reorg_depth, final_day=final_day
            )
        except FAILURES as exc:
            message = f"{type(exc).__name__}: {exc}"
            log.warning("wallet %s (%s) sync failed: %s", wallet.id, wallet.address, message)
            with engine.begin() as conn:
                store.fail_sync(conn, wallet.id, message, now)
            failed.append(f"{wallet.id}: {message}"[:200])
            continue
        totals.merge(report.changes)
        retrying += report.retrying
    with engine.begin() as conn:
        purged, more = store.purge_payments(conn, now - timedelta(days=retention_days))
    if chosen and len(failed) == len(chosen):
        raise PayoutSyncFailed(f"all {len(chosen)} wallets failed: " + "; ".join(failed))
    detail = (
        f"{len(chosen) - len(failed)}/{len(chosen)} wallets synced: {totals.added} new, "
        f"{totals.updated} moved, {totals.removed} removed payments, {retrying} retrying"
    )
    if failed:
        detail += f"; failed {'; '.join(failed)}"
    if purged:
        detail += f"; {purged} expired payments deleted"
    return JobOutcome(more=more, detail=detail[:1000])


def payout_job(settings: Settings, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> JobSpec:
    """The scheduled wallet sync, every `wallet_sync_s`, with a fresh HTTP client per run."""

    def run(engine: Engine, now: datetime) -> JobOutcome:
        with httpx.Client(
            timeout=timeout_s, headers={"User-Agent": USER_AGENT}, follow_redirects=True
        ) as client:
            return sync_wallets(
                engine,
                now,
                client=client,
                reorg_depth=settings.reorg_depth,
                retention_days=settings.payment_retention_days,
            )

    return JobSpec(JOB_NAME, settings.wallet_sync_s, sync=run, first_after_s=20.0)
