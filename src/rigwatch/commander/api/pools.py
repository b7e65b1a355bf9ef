"""Pool accounts: list, detail, add, delete, sync now; and a miner's pool-side view.

Viewers read; only admins add, delete or sync an account (each change audited).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin, Viewer
from rigwatch.commander.pool_sync import PoolSyncFailed, default_base_url, sync_with_settings
from rigwatch.domain.pools import MinerPoolView, PoolAccountDetail, PoolAccountView, PoolKind
from rigwatch.store import auth as store_auth
from rigwatch.store import pools as store

router = APIRouter(tags=["pools"])

ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$"


class PoolAccountIn(BaseModel):
    """A pool account to watch. `base_url` defaults to the kind's public service
    (settings `ocean_url`, `public_pool_url`, `ckpool_url`, `p2pool_observer_url`); a
    P2Pool node (`p2pool`) needs one (where its data-api directory is served)."""

    kind: PoolKind
    account: Annotated[str, Field(pattern=ACCOUNT_PATTERN)]
    base_url: Annotated[str | None, Field(max_length=500)] = None
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    interval_s: Annotated[int | None, Field(ge=30, le=86400)] = None
    enabled: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("base_url takes no query, fragment or credentials")
        return value.strip().rstrip("/")


@router.get("/pools", response_model=list[PoolAccountView])
def list_pools(_: Viewer, rw: RW) -> list[PoolAccountView]:
    """Every pool account with its newest figures and its sync state."""
    return rw.read(store.list_accounts)


@router.get("/pools/{account_id}", response_model=PoolAccountDetail, responses={404: {}})
def pool_detail(account_id: int, _: Viewer, rw: RW) -> PoolAccountDetail:
    """One account: workers (with the miners matched to each), payouts and blocks."""
    found = rw.read(lambda c: store.account_detail(c, account_id))
    if found is None:
        raise HTTPException(404, f"no pool account {account_id}")
    return found


@router.post(
    "/pools", response_model=PoolAccountView, status_code=201, responses={409: {}, 422: {}}
)
def add_pool(body: PoolAccountIn, who: Admin, rw: RW) -> PoolAccountView:
    """Watch a pool account (admin)."""
    base_url = body.base_url or default_base_url(rw.settings, body.kind)
    if not base_url:
        raise HTTPException(422, f"a {body.kind} account needs a base_url")
    name = body.name or f"{body.kind} {body.account[:60]}"
    interval = body.interval_s or rw.settings.pool_interval_s
    now = datetime.now(UTC)

    def change(conn: Connection) -> int:
        new_id = store.add_account(
            conn,
            kind=body.kind,
            name=name,
            base_url=base_url,
            account=body.account,
            interval_s=interval,
            now=now,
            enabled=body.enabled,
        )
        store_auth.audit(conn, who.name, "pool.add", f"{body.kind}:{body.account}@{base_url}"[:500])
        return new_id

    try:
        new_id = rw.change(change)
    except store.AccountExists as exc:
        raise HTTPException(409, str(exc)) from None
    return rw.read(lambda c: store.list_accounts(c, new_id))[0]


@router.delete("/pools/{account_id}", status_code=204, responses={404: {}})
def delete_pool(account_id: int, who: Admin, rw: RW) -> Response:
    """Stop watching an account and drop what was read for it (admin)."""

    def change(conn: Connection) -> bool:
        ref = store.account_ref(conn, account_id)
        if ref is None:
            return False
        store.delete_account(conn, account_id)
        store_auth.audit(
            conn, who.name, "pool.delete", f"{account_id} {ref.kind}:{ref.account}"[:500]
        )
        return True

    if not rw.change(change):
        raise HTTPException(404, f"no pool account {account_id}")
    return Response(status_code=204)


@router.post("/pools/{account_id}/sync", response_model=PoolAccountView, responses={404: {}})
async def sync_pool(account_id: int, who: Admin, rw: RW) -> PoolAccountView:
    """Sync one account now, due or not (admin); its state afterwards (a failure shows
    in `last_error`)."""
    if rw.read(lambda c: store.account_ref(c, account_id)) is None:
        raise HTTPException(404, f"no pool account {account_id}")
    now = datetime.now(UTC)
    # A failure is recorded on the account and shown below.
    with contextlib.suppress(PoolSyncFailed):
        await asyncio.to_thread(
            sync_with_settings, rw.engine, now, rw.settings, account_id=account_id
        )
    rw.change(lambda c: store_auth.audit(c, who.name, "pool.sync", str(account_id)))
    found = rw.read(lambda c: store.list_accounts(c, account_id))
    if not found:
        raise HTTPException(404, f"no pool account {account_id}")
    return found[0]


@router.get("/miners/{miner_id}/pool", response_model=list[MinerPoolView], responses={404: {}})
def miner_pool(miner_id: int, _: Viewer, rw: RW) -> list[MinerPoolView]:
    """The miner's own hashrate beside its pool-side worker's, per pool account it was
    matched at, with the running gap (if any)."""
    if not rw.read(lambda c: store.miner_exists(c, miner_id)):
        raise HTTPException(404, f"no miner {miner_id}")
    return rw.read(lambda c: store.miner_pools(c, miner_id))
