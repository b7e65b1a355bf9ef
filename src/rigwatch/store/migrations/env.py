"""Alembic environment: runs on the connection `store.engine.upgrade` hands over.

Online only: rigwatch never renders SQL scripts offline. The caller owns the
transaction (and the lock that serialises concurrent upgrades), so this file
only configures the context and runs the scripts inside it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from rigwatch.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("rigwatch migrations run through rigwatch.store.engine.upgrade()")
_run(_connection)
