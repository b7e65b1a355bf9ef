"""History at several resolutions: per-miner and fleet rollups (5 minutes, 1 hour,
1 day), the rollup job's state and to-do list, and each batch's time range.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()
ROLLUP_FIGURES = (
    "hashrate_min",
    "hashrate_mean",
    "hashrate_max",
    "expected_mean",
    "temp_min",
    "temp_mean",
    "temp_max",
    "power_min",
    "power_mean",
    "power_max",
)
FLEET_FIGURES = (
    "hashrate_mean",
    "hashrate_min",
    "hashrate_max",
    "expected_mean",
    "power_mean",
    "temp_mean",
    "temp_max",
)
SHARE_COUNTS = ("accepted", "rejected", "stale")
RESOLUTIONS = ("5m", "1h", "1d")


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, BIG) for name in SHARE_COUNTS]


def upgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.add_column(sa.Column("first_ts", BIG))
        batch.add_column(sa.Column("last_ts", BIG))
    op.create_index("ix_ingest_batches_received_at", "ingest_batches", ["received_at"])
    for res in RESOLUTIONS:
        op.create_table(
            f"rollup_{res}",
            sa.Column("miner_id", sa.Integer(), nullable=False),
            sa.Column("bucket", BIG, nullable=False),
            sa.Column("samples", sa.Integer(), nullable=False),
            sa.Column("up_s", sa.Float(), nullable=False),
            *(sa.Column(name, sa.Float()) for name in ROLLUP_FIGURES),
            *_counts(),
            sa.PrimaryKeyConstraint("miner_id", "bucket", name=f"pk_rollup_{res}"),
            sqlite_with_rowid=False,
        )
        op.create_table(
            f"fleet_rollup_{res}",
            sa.Column("scope", sa.String(32), nullable=False),
            sa.Column("bucket", BIG, nullable=False),
            sa.Column("miners", sa.Integer(), nullable=False),
            sa.Column("samples", sa.Integer(), nullable=False),
            sa.Column("up_s", sa.Float(), nullable=False),
            *(sa.Column(name, sa.Float()) for name in FLEET_FIGURES),
            *_counts(),
            sa.PrimaryKeyConstraint("scope", "bucket", name=f"pk_fleet_rollup_{res}"),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", BIG, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rollup_state"),
    )
    op.create_table(
        "rollup_pending",
        sa.Column("resolution", sa.String(4), nullable=False),
        sa.Column("bucket", BIG, nullable=False),
        sa.PrimaryKeyConstraint("resolution", "bucket", name="pk_rollup_pending"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("rollup_pending")
    op.drop_table("rollup_state")
    for res in reversed(RESOLUTIONS):
        op.drop_table(f"fleet_rollup_{res}")
        op.drop_table(f"rollup_{res}")
    op.drop_index("ix_ingest_batches_received_at", table_name="ingest_batches")
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("last_ts")
        batch.drop_column("first_ts")
