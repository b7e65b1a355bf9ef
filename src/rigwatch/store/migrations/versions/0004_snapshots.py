"""Daily farm snapshots: one row per UTC day, for history and period comparisons.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("taken_at", sa.BigInteger(), nullable=False),
        sa.Column("hashrate_mean_hs", sa.Float()),
        sa.Column("expected_mean_hs", sa.Float()),
        sa.Column("power_mean_w", sa.Float()),
        sa.Column("energy_kwh", sa.Float()),
        sa.Column("efficiency_j_th", sa.Float()),
        sa.Column("uptime_pct", sa.Float()),
        sa.Column("miners_total", sa.Integer(), nullable=False),
        sa.Column("miners_online", sa.Integer(), nullable=False),
        sa.Column("miners_warning", sa.Integer(), nullable=False),
        sa.Column("miners_offline", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.BigInteger()),
        sa.Column("rejected", sa.BigInteger()),
        sa.Column("shares_found", sa.BigInteger(), nullable=False),
        sa.Column("blocks_found", sa.BigInteger(), nullable=False),
        sa.Column("by_model", sa.Text(), nullable=False),
        sa.Column("payouts", sa.Text(), nullable=False),
        sa.Column("revenue", sa.Text()),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
