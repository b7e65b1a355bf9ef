"""Pool accounts: accounts, their samples, workers, payouts, blocks and worker gaps.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["pool_accounts.id"],
        name=f"fk_{table}_account_id_pool_accounts",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "pool_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("last_sync_at", BIG),
        sa.Column("last_success_at", BIG),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_pool_accounts"),
        sa.UniqueConstraint(
            "kind", "base_url", "account", name="uq_pool_accounts_kind_base_url_account"
        ),
        sa.CheckConstraint(
            "kind IN ('ocean', 'public-pool', 'ckpool', 'p2pool')", name="ck_pool_accounts_kind"
        ),
    )
    op.create_table(
        "pool_account_samples",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("hashrates", sa.Text(), nullable=False),
        sa.Column("workers", sa.Integer()),
        sa.Column("last_share_ts", BIG),
        sa.Column("unpaid_atomic", BIG),
        sa.Column("estimated_atomic", BIG),
        sa.Column("coin", sa.String(8), nullable=False),
        sa.Column("pool_hashrate_hs", sa.Float()),
        sa.Column("network_difficulty", sa.Float()),
        sa.Column("network_height", BIG),
        _account_fk("pool_account_samples"),
        sa.PrimaryKeyConstraint("account_id", "ts", name="pk_pool_account_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pool_workers",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("hashrate_hs", sa.Float()),
        sa.Column("hashrates", sa.Text(), nullable=False),
        sa.Column("last_share_ts", BIG),
        sa.Column("updated_at", BIG, nullable=False),
        _account_fk("pool_workers"),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_pool_workers"),
    )
    op.create_table(
        "pool_payouts",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("txid", sa.String(200), nullable=False),
        sa.Column("amount_atomic", BIG, nullable=False),
        sa.Column("coin", sa.String(8), nullable=False),
        sa.Column("first_seen", BIG, nullable=False),
        _account_fk("pool_payouts"),
        sa.PrimaryKeyConstraint("account_id", "ts", "txid", name="pk_pool_payouts"),
    )
    op.create_table(
        "pool_blocks",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("height", BIG, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("ts", BIG),
        sa.Column("reward_atomic", BIG),
        sa.Column("finder", sa.String(255)),
        sa.Column("first_seen", BIG, nullable=False),
        _account_fk("pool_blocks"),
        sa.PrimaryKeyConstraint("account_id", "height", "hash", name="pk_pool_blocks"),
    )
    op.create_table(
        "pool_miner_gaps",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("pool_hashrate_hs", sa.Float()),
        sa.Column("miner_hashrate_hs", sa.Float()),
        sa.Column("gap_since", BIG),
        sa.Column("gap_raised", sa.Boolean(), nullable=False),
        sa.Column("updated_at", BIG, nullable=False),
        _account_fk("pool_miner_gaps"),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["miners.id"],
            name="fk_pool_miner_gaps_miner_id_miners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "miner_id", name="pk_pool_miner_gaps"),
    )
    op.create_index("ix_pool_miner_gaps_miner_id", "pool_miner_gaps", ["miner_id"])


def downgrade() -> None:
    op.drop_index("ix_pool_miner_gaps_miner_id", table_name="pool_miner_gaps")
    for table in (
        "pool_miner_gaps",
        "pool_blocks",
        "pool_payouts",
        "pool_workers",
        "pool_account_samples",
        "pool_accounts",
    ):
        op.drop_table(table)
