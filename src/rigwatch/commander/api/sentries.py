"""Sentry enrollment and management."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin
from rigwatch.domain.views import SentryRow
from rigwatch.store import auth as store_auth
from rigwatch.store import queries

router = APIRouter(tags=["sentries"])

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class SentryCreate(BaseModel):
    name: str = Field(pattern=NAME, description="Unique name, e.g. the rack or LAN it watches")
    site: str = Field(default="default", pattern=NAME)


class SentryCreated(BaseModel):
    id: int
    name: str
    enrollment_token: str = Field(description="Shown once; the sentry trades it for a credential")


class EnrollRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class Enrolled(BaseModel):
    sentry_id: int
    name: str
    credential: str = Field(description="Send as `Authorization: Bearer …`; shown once")


class SentryOut(BaseModel):
    id: int
    name: str
    site: str
    enrolled: bool
    revoked: bool
    created_at: datetime
    last_seen: datetime | None
    last_seq: int | None
    miners: int
    version: str | None = None

    @classmethod
    def of(cls, row: SentryRow) -> SentryOut:
        return cls(**{f: getattr(row, f) for f in cls.model_fields})


@router.get("/sentries", response_model=list[SentryOut])
def list_sentries(_: Admin, rw: RW) -> list[SentryOut]:
    return [SentryOut.of(r) for r in rw.read(queries.list_sentries)]


@router.post("/sentries", response_model=SentryCreated, status_code=201)
def create_sentry(body: SentryCreate, who: Admin, rw: RW) -> SentryCreated:
    def change(conn: Connection) -> tuple[int, str]:
        existing = [r for r in queries.list_sentries(conn) if r.name == body.name]
        if existing:
            raise HTTPException(409, f"a sentry named {body.name!r} exists")
        sentry_id, token = store_auth.create_sentry(conn, body.name, site=body.site)
        store_auth.audit(conn, who.name, "sentry.create", body.name)
        return sentry_id, token

    sentry_id, token = rw.change(change)
    return SentryCreated(id=sentry_id, name=body.name, enrollment_token=token)


@router.post("/sentries/{name}/revoke", status_code=204)
def revoke_sentry(name: str, who: Admin, rw: RW) -> None:
    def change(conn: Connection) -> None:
        if not store_auth.revoke_sentry(conn, name):
            raise HTTPException(404, f"no sentry named {name!r}")
        store_auth.audit(conn, who.name, "sentry.revoke", name)

    rw.change(change)


@router.post("/sentries/enroll", response_model=Enrolled, responses={401: {}})
def enroll(body: EnrollRequest, rw: RW) -> Enrolled:
    """Trade a one-time enrollment token for the sentry's long-lived credential."""
    found = rw.change(lambda c: store_auth.enroll(c, body.token))
    if found is None:
        raise HTTPException(401, "unknown, used or revoked enrollment token")
    sentry_id, name, credential = found
    return Enrolled(sentry_id=sentry_id, name=name, credential=credential)
