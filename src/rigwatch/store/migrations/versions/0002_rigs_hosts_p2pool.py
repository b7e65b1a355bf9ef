"""CPU/GPU rigs, their hosts and P2Pool nodes: per-device samples, host health,
P2Pool data-API readings; miners and events learn their host.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()
Figures = tuple[tuple[str, "sa.types.TypeEngine[Any]"], ...]
HOST_FIGURES: Figures = (
    ("cpu_pct", sa.Float()),
    ("load_1m", sa.Float()),
    ("cpu_temp_c", sa.Float()),
    ("mem_used_bytes", BIG),
    ("mem_total_bytes", BIG),
    ("disk_used_bytes", BIG),
    ("disk_total_bytes", BIG),
    ("uptime_s", BIG),
)
P2POOL_FIGURES: Figures = (
    ("hashrate_15m_hs", sa.Float()),
    ("hashrate_1h_hs", sa.Float()),
    ("hashrate_24h_hs", sa.Float()),
    ("total_hashes", BIG),
    ("shares_found", BIG),
    ("shares_failed", BIG),
    ("average_effort_pct", sa.Float()),
    ("current_effort_pct", sa.Float()),
    ("block_reward_share_pct", sa.Float()),
    ("connections", sa.Integer()),
    ("peers", sa.Integer()),
    ("wallet", sa.String(200)),
    ("sidechain_height", BIG),
    ("sidechain_difficulty", BIG),
    ("pool_hashrate_hs", sa.Float()),
    ("pool_miners", sa.Integer()),
    ("pool_blocks_found", BIG),
    ("network_height", BIG),
    ("network_difficulty", BIG),
    ("network_reward_atomic", BIG),
)


def _figures(
    figures: tuple[tuple[str, sa.types.TypeEngine[object]], ...],
) -> list[sa.Column[object]]:
    return [sa.Column(name, kind) for name, kind in figures]


def upgrade() -> None:
    with op.batch_alter_table("miners") as batch:
        batch.add_column(sa.Column("host_id", sa.Integer()))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("host_id", sa.Integer()))
    with op.batch_alter_table("miner_state") as batch:
        batch.add_column(sa.Column("algorithm", sa.String(64)))
        batch.add_column(sa.Column("devices", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "device_samples",
        sa.Column("ts", BIG, nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("hashrate_hs", sa.Float()),
        sa.Column("temp_c", sa.Float()),
        sa.Column("mem_temp_c", sa.Float()),
        sa.Column("fan_pct", sa.Float()),
        sa.Column("fan_rpm", sa.Integer()),
        sa.Column("power_w", sa.Float()),
        sa.Column("core_clock_mhz", sa.Float()),
        sa.Column("mem_clock_mhz", sa.Float()),
        sa.Column("accepted", BIG),
        sa.Column("rejected", BIG),
        sa.PrimaryKeyConstraint("ts", "miner_id", "idx", name="pk_device_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sentry_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("hostname", sa.String(255)),
        sa.Column("os", sa.String(200)),
        sa.Column("cpu_model", sa.String(200)),
        sa.Column("cpu_count", sa.Integer()),
        sa.Column("first_seen", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hosts"),
        sa.ForeignKeyConstraint(["sentry_id"], ["sentries.id"], name="fk_hosts_sentry_id_sentries"),
        sa.UniqueConstraint("sentry_id", "key", name="uq_hosts_sentry_id_key"),
    )
    op.create_table(
        "host_samples",
        sa.Column("ts", BIG, nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        *_figures(HOST_FIGURES),
        sa.Column("gpus", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ts", "host_id", name="pk_host_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "host_state",
        sa.Column("host_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", BIG, nullable=False),
        *_figures(HOST_FIGURES),
        sa.Column("gpus", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("host_id", name="pk_host_state"),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name="fk_host_state_host_id_hosts", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "p2pool_samples",
        sa.Column("ts", BIG, nullable=False),
        sa.Column("sentry_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("host_id", sa.Integer()),
        *_figures(P2POOL_FIGURES),
        sa.Column("workers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ts", "sentry_id", "node", name="pk_p2pool_samples"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in ("p2pool_samples", "host_state", "host_samples", "hosts", "device_samples"):
        op.drop_table(table)
    with op.batch_alter_table("miner_state") as batch:
        batch.drop_column("devices")
        batch.drop_column("algorithm")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("host_id")
    with op.batch_alter_table("miners") as batch:
        batch.drop_column("host_id")
