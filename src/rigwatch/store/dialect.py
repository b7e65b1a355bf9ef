"""The few statements whose SQL differs between SQLite and PostgreSQL.

Both dialects spell "insert unless it exists" and "insert or update" as
`INSERT ... ON CONFLICT`, but SQLAlchemy exposes them through dialect-specific
`insert()` constructs; this is the one place that picks between them.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

Insert = sqlite.Insert | postgresql.Insert


def insert_for(conn: Connection, table: Table) -> Insert:
    """An INSERT construct that understands ON CONFLICT on this connection's database."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise ValueError(f"unsupported database dialect {name!r}")


def insert_ignore(conn: Connection, table: Table) -> Insert:
    """INSERT that silently skips rows whose key already exists (idempotent replays)."""
    return insert_for(conn, table).on_conflict_do_nothing()
