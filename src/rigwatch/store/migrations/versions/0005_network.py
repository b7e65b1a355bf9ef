"""Network and price series: chain stats and fee estimates, fiat prices, recent blocks.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "network_stats",
        sa.Column("chain", sa.String(16), nullable=False, server_default="BTC"),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("height", BIG),
        sa.Column("difficulty", sa.Float()),
        sa.Column("network_hashrate_hs", sa.Float()),
        sa.Column("next_retarget_height", BIG),
        sa.Column("next_retarget_ts", BIG),
        sa.Column("difficulty_change_pct", sa.Float()),
        sa.Column("fee_fast", sa.Float()),
        sa.Column("fee_half_hour", sa.Float()),
        sa.Column("fee_hour", sa.Float()),
        sa.Column("fee_economy", sa.Float()),
        sa.PrimaryKeyConstraint("chain", "ts", name="pk_network_stats"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "prices",
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("coin", "currency", "ts", name="pk_prices"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "network_blocks",
        sa.Column("chain", sa.String(16), nullable=False),
        sa.Column("height", BIG, nullable=False),
        sa.Column("hash", sa.String(64)),
        sa.Column("ts", BIG),
        sa.Column("pool", sa.String(100)),
        sa.Column("fees_sat", BIG),
        sa.Column("reward_sat", BIG),
        sa.Column("tx_count", sa.Integer()),
        sa.Column("seen_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("chain", "height", name="pk_network_blocks"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("network_blocks")
    op.drop_table("prices")
    op.drop_table("network_stats")
