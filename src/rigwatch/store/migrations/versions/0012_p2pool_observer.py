"""Pool accounts of kind `p2pool-observer` (a wallet read from the P2Pool observer).

Only the kind CHECK changes, and only to allow one more value. PostgreSQL drops and
adds it. SQLite cannot alter a CHECK, and rebuilding `pool_accounts` would drop the old
table first, which (foreign keys on, inside the migration's transaction) cascades into
every account's samples, workers and payouts; so SQLite takes its documented path for a
constraint that existing rows already satisfy: the table's SQL is rewritten in
`sqlite_schema` with `writable_schema` and the schema version bumped, in the same
transaction. The constraint keeps the (doubled) name 0006 gave it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NAME = "ck_pool_accounts_ck_pool_accounts_kind"
OLD = "kind IN ('ocean', 'public-pool', 'ckpool', 'p2pool')"
NEW = "kind IN ('ocean', 'public-pool', 'ckpool', 'p2pool', 'p2pool-observer')"


def _sqlite_replace_check(old: str, new: str) -> None:
    conn = op.get_bind()
    sql: str = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'pool_accounts'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError(f"pool_accounts has no {old!r}; not changing it")
    version: int = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'pool_accounts'",
            (sql.replace(old, new),),
        )
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _replace_check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_replace_check(old, new)
        return
    op.drop_constraint(op.f(NAME), "pool_accounts", type_="check")
    op.create_check_constraint(op.f(NAME), "pool_accounts", new)


def upgrade() -> None:
    _replace_check(OLD, NEW)


def downgrade() -> None:
    op.execute("DELETE FROM pool_accounts WHERE kind = 'p2pool-observer'")
    _replace_check(NEW, OLD)
