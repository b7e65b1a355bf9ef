"""Payouts from the chain: watched wallets and their sync state, payments unique by
(wallet, txid, vout), transactions waiting for a retry, and daily revenue kept forever.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "wallets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("synced_height", BIG),
        sa.Column("rescan_from", BIG),
        sa.Column("last_sync_at", BIG),
        sa.Column("last_success_at", BIG),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_wallets"),
        sa.UniqueConstraint("coin", "address", name="uq_wallets_coin_address"),
        sa.CheckConstraint("backend IN ('esplora', 'blockbook')", name="ck_wallets_backend"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.String(64), nullable=False),
        sa.Column("vout", sa.Integer(), nullable=False),
        sa.Column("amount_atomic", BIG, nullable=False),
        sa.Column("block_height", BIG, nullable=False),
        sa.Column("block_hash", sa.String(64), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("coinbase", sa.Boolean(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name="fk_payments_wallet_id_wallets", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("wallet_id", "txid", "vout", name="uq_payments_wallet_id_txid_vout"),
    )
    op.create_index("ix_payments_wallet_id_block_height", "payments", ["wallet_id", "block_height"])
    op.create_index("ix_payments_ts", "payments", ["ts"])
    op.create_table(
        "payment_retries",
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", "txid", name="pk_payment_retries"),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name="fk_payment_retries_wallet_id_wallets",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "revenue_daily",
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("amount_atomic", BIG, nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", "day", name="pk_revenue_daily"),
    )


def downgrade() -> None:
    op.drop_table("revenue_daily")
    op.drop_table("payment_retries")
    op.drop_index("ix_payments_ts", table_name="payments")
    op.drop_index("ix_payments_wallet_id_block_height", table_name="payments")
    op.drop_table("payments")
    op.drop_table("wallets")
