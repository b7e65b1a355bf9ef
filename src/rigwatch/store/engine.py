"""Engines for SQLite (the embedded default) and PostgreSQL, and schema upgrades.

SQLite connections get their PRAGMAs on every connect because they are
per-connection settings (except journal_mode, which sticks to the file but is
cheap to repeat): WAL lets readers run beside the one writer, NORMAL sync is
safe in WAL and much faster, and a busy timeout makes a second process (the
CLI while `serve` runs) wait for the writer instead of failing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=10000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

_SQLITE_LOCK_WAIT_S = 10.0

# Any constant works; it only has to be the same for every rigwatch process.
_PG_MIGRATION_LOCK = 0x72696777


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            _execute_patiently(cursor, pragma)
    finally:
        cursor.close()


def _execute_patiently(cursor: Any, pragma: str) -> None:
    """Run a PRAGMA, retrying while another process holds the file.

    Two processes opening a fresh file at once (commander and CLI) race on the switch to
    WAL, and SQLite reports that race as "database is locked" without calling the busy
    handler, so the busy timeout alone does not cover it.
    """
    deadline = time.monotonic() + _SQLITE_LOCK_WAIT_S
    while True:
        try:
            cursor.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_engine(url: str) -> Engine:
    """Engine for `sqlite:///path` or `postgresql+psycopg://...` with rigwatch's settings."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise ValueError("rigwatch needs an SQLite file (WAL), not an in-memory database")
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 10.0})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("rigwatch.store").joinpath("migrations"))
    )
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, to: str = "head") -> None:
    """Bring the schema to the newest migration (or `to`); a no-op when it is there.

    Safe at every start and from a second process: the whole upgrade runs in one
    transaction that first takes the database's writer lock (BEGIN IMMEDIATE on
    SQLite, an advisory lock on PostgreSQL), so two processes never migrate at
    once and the second one finds the schema at head.
    """
    _migrate(engine, lambda config: command.upgrade(config, to))


def downgrade(engine: Engine, to: str) -> None:
    """Take the schema back to revision `to`, under the same lock as `upgrade`."""
    _migrate(engine, lambda config: command.downgrade(config, to))


def _migrate(engine: Engine, step: Callable[[Config], None]) -> None:
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        step(_alembic_config(connection))
        connection.commit()


def head_revision() -> str:
    """The newest migration this code ships."""
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("rigwatch.store").joinpath("migrations"))
    )
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema's migration revision, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
