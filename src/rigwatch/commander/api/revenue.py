"""Revenue from the chain: payments, daily totals, watched wallets and the admin's sync
controls (sync now, re-scan from a height, clear with an explicit confirmation)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Connection

from rigwatch.commander import payout_sync
from rigwatch.commander.auth import RW, Admin, Viewer
from rigwatch.domain.payouts import (
    Backend,
    DailyRevenue,
    Payment,
    Wallet,
    valid_address,
    valid_coin,
)
from rigwatch.domain.views import JobStatus
from rigwatch.store import auth as store_auth
from rigwatch.store import payouts as store

router = APIRouter(tags=["revenue"])

CLEAR_CONFIRMATION = "DELETE PAYMENTS"
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
_USERINFO = re.compile(r"(?<=://)[^/@]+@")


class PaymentPage(BaseModel):
    total: int
    page: int
    limit: int
    items: list[Payment]


class DailyPage(BaseModel):
    first_day: str
    days: int
    items: list[DailyRevenue] = Field(description="Per UTC day and coin, atomic units (exact)")


class WalletIn(BaseModel):
    coin: str = Field(default="BTC", max_length=16, description="Ticker: BTC, LTC, DOGE ...")
    address: str = Field(max_length=200)
    backend: Backend = Backend.ESPLORA
    base_url: str | None = Field(
        default=None,
        max_length=500,
        description="Explorer API base; default RIGWATCH_ESPLORA_URL / RIGWATCH_BLOCKBOOK_URL",
    )
    label: str | None = Field(default=None, max_length=200)

    @field_validator("coin")
    @classmethod
    def _coin(cls, value: str) -> str:
        found = valid_coin(value)
        if found is None:
            raise ValueError("a ticker of 2-10 letters or digits")
        return found

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        found = valid_address(value.strip())
        if found is None:
            raise ValueError("not a chain address (letters and digits, 15-130 characters)")
        return found

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _URL.fullmatch(value.strip()):
            raise ValueError("an http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class SyncRequest(BaseModel):
    wallet_id: int | None = Field(default=None, description="Only this wallet; default all")


class SyncResult(BaseModel):
    detail: str
    error: str | None = None
    job: JobStatus | None = None
    wallets: list[Wallet]


class ResetRequest(BaseModel):
    wallet_id: int
    from_height: int = Field(ge=0, le=2**31 - 1)


class ClearRequest(BaseModel):
    confirm: Literal["DELETE PAYMENTS"] = Field(
        description=f"Must be exactly {CLEAR_CONFIRMATION!r}: payments cannot be restored "
        "except by a re-scan"
    )
    wallet_id: int | None = Field(default=None, description="Only this wallet; default all")


class Cleared(BaseModel):
    payments: int
    retries: int
    days: int


def _public(wallet: Wallet) -> Wallet:
    """The wallet with any credentials in its URL masked."""
    masked = _USERINFO.sub("***@", wallet.base_url)
    if masked == wallet.base_url:
        return wallet
    return dataclasses.replace(wallet, base_url=masked)


def _wallets(rw: RW) -> list[Wallet]:
    return [_public(w) for w in rw.read(store.list_wallets)]


def _wallet_or_404(conn: Connection, wallet_id: int) -> Wallet:
    found = store.get_wallet(conn, wallet_id)
    if found is None:
        raise HTTPException(404, f"no wallet {wallet_id}")
    return found


@router.get("/revenue/transactions", response_model=PaymentPage)
def transactions(
    _: Viewer,
    rw: RW,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> PaymentPage:
    """Payments received, newest first; `q` finds a txid (prefix), an address or a label."""
    total, items = rw.read(lambda c: store.list_payments(c, page=page, limit=limit, q=q))
    return PaymentPage(total=total, page=page, limit=limit, items=items)


@router.get("/revenue/daily", response_model=DailyPage)
def daily(_: Viewer, rw: RW, days: Annotated[int, Query(ge=1, le=36_500)] = 30) -> DailyPage:
    """Revenue per UTC day and coin over the last `days` days (today included)."""
    first = (datetime.now(UTC).date() - timedelta(days=days - 1)).isoformat()
    return DailyPage(
        first_day=first, days=days, items=rw.read(lambda c: store.daily_revenue(c, first))
    )


@router.get("/wallets", response_model=list[Wallet])
def list_wallets(_: Viewer, rw: RW) -> list[Wallet]:
    """Watched addresses with their sync state."""
    return _wallets(rw)


@router.post("/wallets", response_model=Wallet, status_code=201, responses={409: {}})
def create_wallet(body: WalletIn, who: Admin, rw: RW) -> Wallet:
    """Watch an address: Bitcoin through Esplora, other coins through Blockbook."""
    default = (
        rw.settings.blockbook_url if body.backend is Backend.BLOCKBOOK else rw.settings.esplora_url
    )
    base_url = body.base_url or default.strip().rstrip("/")
    if not base_url:
        raise HTTPException(
            422, "a blockbook wallet needs base_url (RIGWATCH_BLOCKBOOK_URL is not set)"
        )

    def change(conn: Connection) -> Wallet:
        try:
            wallet_id = store.create_wallet(
                conn,
                coin=body.coin,
                address=body.address,
                backend=body.backend,
                base_url=base_url,
                label=body.label,
                now=datetime.now(UTC),
            )
        except store.WalletExists as exc:
            raise HTTPException(409, str(exc)) from None
        store_auth.audit(
            conn, who.name, "wallet.create", f"{body.coin}:{body.address}", str(body.backend)
        )
        return _wallet_or_404(conn, wallet_id)

    return _public(rw.change(change))


@router.delete("/wallets/{wallet_id}", status_code=204, responses={404: {}})
def delete_wallet(wallet_id: int, who: Admin, rw: RW) -> None:
    """Stop watching an address: its payments go, its daily totals stay."""

    def change(conn: Connection) -> None:
        wallet = _wallet_or_404(conn, wallet_id)
        store.delete_wallet(conn, wallet_id)
        store_auth.audit(
            conn,
            who.name,
            "wallet.delete",
            f"{wallet.coin}:{wallet.address}",
            f"{wallet.payments} payments deleted",
        )

    rw.change(change)


@router.get("/admin/revenue/status", response_model=list[Wallet])
def status(_: Admin, rw: RW) -> list[Wallet]:
    """Each wallet's sync state: synced height, pending re-scan, last sync and success,
    failures in a row, last error, payments stored and transactions waiting for a retry."""
    return _wallets(rw)


def _job_registered(rw: RW) -> bool:
    return any(s.name == payout_sync.JOB_NAME for s in rw.scheduler.statuses())


@router.post("/admin/revenue/sync", response_model=SyncResult)
async def sync_now(who: Admin, rw: RW, body: SyncRequest | None = None) -> SyncResult:
    """Sync now (all wallets through the scheduled job, or one wallet)."""
    wallet_id = body.wallet_id if body else None
    if wallet_id is not None:
        rw.read(lambda c: _wallet_or_404(c, wallet_id))
    rw.change(lambda c: store_auth.audit(c, who.name, "revenue.sync", str(wallet_id or "all")))
    if wallet_id is None and _job_registered(rw):
        job = await rw.scheduler.run_now(payout_sync.JOB_NAME)
        return SyncResult(
            detail=job.last_detail, error=job.last_error, job=job, wallets=_wallets(rw)
        )
    settings = rw.settings

    def run() -> str:
        with httpx.Client(
            timeout=payout_sync.DEFAULT_TIMEOUT_S,
            headers={"User-Agent": payout_sync.USER_AGENT},
            follow_redirects=True,
        ) as client:
            outcome = payout_sync.sync_wallets(
                rw.engine,
                datetime.now(UTC),
                client=client,
                reorg_depth=settings.reorg_depth,
                retention_days=settings.payment_retention_days,
                wallet_ids=None if wallet_id is None else [wallet_id],
            )
        return outcome.detail

    try:
        detail = await asyncio.to_thread(run)
    except payout_sync.PayoutSyncFailed as exc:
        return SyncResult(detail="failed", error=str(exc), wallets=_wallets(rw))
    return SyncResult(detail=detail, wallets=_wallets(rw))


@router.post("/admin/revenue/reset", response_model=Wallet, responses={404: {}})
def reset(body: ResetRequest, who: Admin, rw: RW) -> Wallet:
    """Re-scan a wallet from a block height on its next sync. Deletes nothing: payments
    found again are recognised by (txid, output index)."""

    def change(conn: Connection) -> Wallet:
        wallet = _wallet_or_404(conn, body.wallet_id)
        store.reset_wallet(conn, wallet.id, body.from_height)
        store_auth.audit(
            conn,
            who.name,
            "revenue.reset",
            f"{wallet.coin}:{wallet.address}",
            str(body.from_height),
        )
        return _wallet_or_404(conn, wallet.id)

    return _public(rw.change(change))


@router.post("/admin/revenue/clear", response_model=Cleared, responses={404: {}})
def clear(body: ClearRequest, who: Admin, rw: RW) -> Cleared:
    """Destructive: delete the payments, retries and daily totals (of one wallet or all),
    and start their sync from scratch. Needs `{"confirm": "DELETE PAYMENTS"}`."""

    def change(conn: Connection) -> Cleared:
        target = "all wallets"
        if body.wallet_id is not None:
            wallet = _wallet_or_404(conn, body.wallet_id)
            target = f"{wallet.coin}:{wallet.address}"
        counts = store.clear_payments(conn, body.wallet_id)
        store_auth.audit(
            conn,
            who.name,
            "revenue.clear",
            target,
            ", ".join(f"{n} {what}" for what, n in counts.items()),
        )
        return Cleared(**counts)

    return rw.change(change)
