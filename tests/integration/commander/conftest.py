"""Fixtures by persona: admin, operator, viewer, sentry; and a real commander per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rigwatch.domain.models import Role
from rigwatch.store import auth as store_auth
from tests.helpers import RunningCommander, running_commander


@pytest.fixture
def commander(tmp_path: Path, db_url: str) -> Iterator[RunningCommander]:
    """A real commander on a loopback port, once on SQLite and once on PostgreSQL."""
    with running_commander(tmp_path / "data", database_url=db_url, stream_heartbeat_s=0.5) as rc:
        yield rc


def _key(rc: RunningCommander, role: Role) -> str:
    with rc.engine.begin() as conn:
        return store_auth.create_api_key(conn, f"test-{role.value}", role)


@pytest.fixture
def admin(commander: RunningCommander) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=commander.url, headers={"Authorization": f"Bearer {_key(commander, Role.ADMIN)}"}
    ) as c:
        yield c


@pytest.fixture
def operator(commander: RunningCommander) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=commander.url,
        headers={"Authorization": f"Bearer {_key(commander, Role.OPERATOR)}"},
    ) as c:
        yield c


@pytest.fixture
def viewer(commander: RunningCommander) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=commander.url, headers={"Authorization": f"Bearer {_key(commander, Role.VIEWER)}"}
    ) as c:
        yield c


@pytest.fixture
def anonymous(commander: RunningCommander) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=commander.url) as c:
        yield c


@pytest.fixture
def sentry(commander: RunningCommander) -> Iterator[httpx.Client]:
    with commander.engine.begin() as conn:
        _id, token = store_auth.create_sentry(conn, "test-sentry")
        found = store_auth.enroll(conn, token)
    assert found is not None
    with httpx.Client(base_url=commander.url, headers={"Authorization": f"Bearer {found[2]}"}) as c:
        yield c
