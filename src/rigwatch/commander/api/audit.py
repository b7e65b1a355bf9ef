"""The audit log, read back by admins: who changed what, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rigwatch.commander.auth import RW, Admin
from rigwatch.store import auth as store_auth
from rigwatch.store.auth import AuditRow

router = APIRouter(tags=["admin"])

MAX_LIMIT = 500


class AuditEntry(BaseModel):
    id: int
    ts: datetime
    actor: str = Field(description="User name, API key name, `cli`, `system` or `anonymous`")
    action: str = Field(description="e.g. user.create, sentry.revoke, login, login.failed")
    target: str
    detail: str

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=row.id,
            ts=row.ts,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
        )


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next (older) page; null on the last page"
    )


@router.get("/admin/audit", response_model=AuditPage)
def audit_log(
    _: Admin,
    rw: RW,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[
        str | None,
        Query(max_length=100, description="Exact, or a family: `user.` or `user.*`"),
    ] = None,
) -> AuditPage:
    """Newest first; page backwards with `before_id`; filter by actor and action."""
    rows = rw.read(
        lambda c: store_auth.list_audit(
            c, limit=limit, before_id=before_id, actor=actor, action=action
        )
    )
    items = [AuditEntry.of(r) for r in rows]
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)
