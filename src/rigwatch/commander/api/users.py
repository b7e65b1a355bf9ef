"""People: admins list, add, re-role, reset and delete the users who sign in to the
dashboard. Every change is audited; a generated password is shown once, in the reply
that made it, and stored only as its argon2 hash.

Guards against locking everyone out: the last admin cannot be demoted or deleted, and
nobody deletes or demotes themselves (another admin must)."""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin
from rigwatch.domain.models import Role
from rigwatch.domain.views import Principal
from rigwatch.store import auth as store_auth
from rigwatch.store.auth import UserRow

router = APIRouter(tags=["users"])

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
MIN_PASSWORD = 10


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    created_at: datetime
    sessions: int = Field(description="Live sign-in sessions")

    @classmethod
    def of(cls, row: UserRow) -> UserOut:
        return cls(
            id=row.id,
            username=row.username,
            role=row.role,
            created_at=row.created_at,
            sessions=row.sessions,
        )


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    role: Role = Role.VIEWER
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD,
        max_length=256,
        description="Omit to have one generated (returned once)",
    )


class UserCreated(BaseModel):
    user: UserOut
    password: str | None = Field(description="The generated password, shown once; null if given")


class UserUpdate(BaseModel):
    role: Role


class PasswordReset(BaseModel):
    user: UserOut
    password: str = Field(description="The new password, shown once; the user's sessions end")


def _generated() -> str:
    return secrets.token_urlsafe(15)


def _user_or_404(conn: Connection, user_id: int) -> UserRow:
    found = store_auth.get_user(conn, user_id)
    if found is None:
        raise HTTPException(404, f"no user {user_id}")
    return found


def _not_self(who: Principal, user: UserRow, what: str) -> None:
    if who.kind == "session" and who.user_id == user.id:
        raise HTTPException(409, f"you cannot {what} yourself; ask another admin")


def _not_last_admin(conn: Connection, user: UserRow, what: str) -> None:
    if user.role == Role.ADMIN and store_auth.count_admins(conn) <= 1:
        raise HTTPException(409, f"cannot {what} the last admin")


@router.get("/users", response_model=list[UserOut])
def list_users(_: Admin, rw: RW) -> list[UserOut]:
    """Every person who can sign in, by user name."""
    return [UserOut.of(u) for u in rw.read(store_auth.list_users)]


@router.get("/users/{user_id}", response_model=UserOut, responses={404: {}})
def get_user(user_id: int, _: Admin, rw: RW) -> UserOut:
    return UserOut.of(rw.read(lambda c: _user_or_404(c, user_id)))


@router.post("/users", response_model=UserCreated, status_code=201, responses={409: {}})
def create_user(body: UserCreate, who: Admin, rw: RW) -> UserCreated:
    """Add a person with a role; without a password one is generated and returned once."""
    password = body.password or _generated()

    def change(conn: Connection) -> UserRow:
        if store_auth.user_id(conn, body.username) is not None:
            raise HTTPException(409, f"a user named {body.username!r} exists")
        new_id = store_auth.create_user(conn, body.username, password, body.role)
        store_auth.audit(conn, who.name, "user.create", body.username, body.role.value)
        return _user_or_404(conn, new_id)

    row = rw.change(change)
    return UserCreated(user=UserOut.of(row), password=None if body.password else password)


@router.put("/users/{user_id}", response_model=UserOut, responses={404: {}, 409: {}})
def update_user(user_id: int, body: UserUpdate, who: Admin, rw: RW) -> UserOut:
    """Change a person's role; it applies to their open sessions at once."""

    def change(conn: Connection) -> UserRow:
        user = _user_or_404(conn, user_id)
        if user.role == body.role:
            return user
        if user.role == Role.ADMIN:
            _not_self(who, user, "demote")
            _not_last_admin(conn, user, "demote")
        store_auth.set_role(conn, user_id, body.role)
        store_auth.audit(
            conn, who.name, "user.role", user.username, f"{user.role.value} → {body.role.value}"
        )
        return _user_or_404(conn, user_id)

    return UserOut.of(rw.change(change))


@router.post("/users/{user_id}/password", response_model=PasswordReset, responses={404: {}})
def reset_password(user_id: int, who: Admin, rw: RW) -> PasswordReset:
    """Give a person a new generated password (returned once) and end their sessions."""
    password = _generated()

    def change(conn: Connection) -> UserRow:
        user = _user_or_404(conn, user_id)
        store_auth.set_password(conn, user.username, password)
        store_auth.audit(conn, who.name, "user.passwd", user.username, "reset")
        return _user_or_404(conn, user_id)

    return PasswordReset(user=UserOut.of(rw.change(change)), password=password)


@router.delete("/users/{user_id}", status_code=204, responses={404: {}, 409: {}})
def delete_user(user_id: int, who: Admin, rw: RW) -> Response:
    """Delete a person; their sessions end."""

    def change(conn: Connection) -> None:
        user = _user_or_404(conn, user_id)
        _not_self(who, user, "delete")
        _not_last_admin(conn, user, "delete")
        store_auth.delete_user(conn, user_id)
        store_auth.audit(conn, who.name, "user.delete", user.username, user.role.value)

    rw.change(change)
    return Response(status_code=204)
