"""Profit: each site's power price (with time-of-use periods) and pool fee.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_power",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("price_per_kwh", sa.Float()),
        sa.Column("tou", sa.Text(), nullable=False),
        sa.Column("pool_fee_pct", sa.Float()),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_site_power_site_id_sites", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", name="pk_site_power"),
    )


def downgrade() -> None:
    op.drop_table("site_power")
