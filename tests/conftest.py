"""Suite-wide fixtures: real databases (a fresh SQLite file, a fresh PostgreSQL schema).

PostgreSQL must be reachable (CI runs it): when it is not, the fixture tries once to start
the local cluster and otherwise fails with a message saying how to fix it. Skipping would
let a broken PostgreSQL path ship unnoticed.

pyasic 0.79.0 emits pydantic deprecation warnings when it is imported, and the suite turns
warnings into errors; it is imported once here with those silenced.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

# No commander started by a test (in-process or as a subprocess) may reach the internet:
# the jobs that would (explorer, prices, pools, wallets) stay off unless a test turns
# them on against tests/replay.py.
os.environ["RIGWATCH_EXTERNAL_SYNC"] = "false"

PG_HOST = os.environ.get("RIGWATCH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("RIGWATCH_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("RIGWATCH_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("RIGWATCH_TEST_PG_DB", "test")


def _pg_connect(dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True, connect_timeout=3
    )


def _pg_up() -> bool:
    try:
        with _pg_connect(PG_ADMIN_DB):
            return True
    except psycopg.OperationalError:
        return False


def _start_local_cluster() -> None:
    clusters = Path("/etc/postgresql")
    if not clusters.is_dir():
        return
    for version in sorted(p.name for p in clusters.iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of its own for this test session, dropped at the end."""
    if not _pg_up():
        _start_local_cluster()
        deadline = time.monotonic() + 20
        while not _pg_up() and time.monotonic() < deadline:
            time.sleep(0.5)
    if not _pg_up():
        pytest.fail(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} as {PG_USER!r} "
            f"(database {PG_ADMIN_DB!r}), and starting it with pg_ctlcluster failed. "
            "Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    name = f"rigwatch_test_{secrets.token_hex(6)}"
    with _pg_connect(PG_ADMIN_DB) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _pg_connect(PG_ADMIN_DB) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL whose connections see only a fresh schema, so every test starts empty."""
    schema = f"t_{secrets.token_hex(6)}"
    with _pg_connect(pg_database) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{pg_database}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with _pg_connect(pg_database) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'rigwatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyasic  # noqa: F401
