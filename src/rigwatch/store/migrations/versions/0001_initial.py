"""Initial schema: sites, sentries, credentials, users, sessions, audit, ingest, miners,
time series, latest state and events.

The schema is written out here rather than taken from `tables.metadata`, so later
changes to tables.py need their own migration; a test compares the two.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("name", name="uq_sites_name"),
    )
    op.create_table(
        "sentries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("enrolled_at", BIG),
        sa.Column("revoked_at", BIG),
        sa.Column("last_seen_at", BIG),
        sa.Column("last_seq", BIG),
        sa.PrimaryKeyConstraint("id", name="pk_sentries"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_sentries_site_id_sites"),
        sa.UniqueConstraint("name", name="uq_sentries_name"),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16)),
        sa.Column("sentry_id", sa.Integer()),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("used_at", BIG),
        sa.Column("revoked_at", BIG),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.ForeignKeyConstraint(
            ["sentry_id"],
            ["sentries.id"],
            name="fk_credentials_sentry_id_sentries",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("secret_hash", name="uq_credentials_secret_hash"),
        sa.CheckConstraint("kind IN ('enroll', 'sentry', 'apikey')", name="ck_credentials_kind"),
    )
    op.create_index("ix_credentials_sentry_id", "credentials", ["sentry_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("expires_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    op.create_table(
        "ingest_batches",
        sa.Column("sentry_id", sa.Integer(), nullable=False),
        sa.Column("seq", BIG, nullable=False),
        sa.Column("received_at", BIG, nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sentry_id", "seq", name="pk_ingest_batches"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "miners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sentry_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("make", sa.String(100)),
        sa.Column("model", sa.String(100)),
        sa.Column("firmware", sa.String(200)),
        sa.Column("ip", sa.String(64)),
        sa.Column("mac", sa.String(32)),
        sa.Column("hostname", sa.String(255)),
        sa.Column("worker", sa.String(255)),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("rack", sa.String(100)),
        sa.Column("first_seen", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_miners"),
        sa.ForeignKeyConstraint(
            ["sentry_id"], ["sentries.id"], name="fk_miners_sentry_id_sentries"
        ),
        sa.UniqueConstraint("sentry_id", "key", name="uq_miners_sentry_id_key"),
    )
    op.create_table(
        "samples",
        sa.Column("ts", BIG, nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("hashrate_hs", sa.Float()),
        sa.Column("hashrate_expected_hs", sa.Float()),
        sa.Column("temp_c", sa.Float()),
        sa.Column("temp_max_c", sa.Float()),
        sa.Column("chip_temp_c", sa.Float()),
        sa.Column("fans_rpm", sa.Text()),
        sa.Column("power_w", sa.Float()),
        sa.Column("accepted", BIG),
        sa.Column("rejected", BIG),
        sa.Column("stale", BIG),
        sa.Column("accepted_delta", BIG),
        sa.Column("rejected_delta", BIG),
        sa.Column("stale_delta", BIG),
        sa.Column("uptime_s", BIG),
        sa.Column("pool_url", sa.String(500)),
        sa.PrimaryKeyConstraint("ts", "miner_id", name="pk_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "hashboard_samples",
        sa.Column("ts", BIG, nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("hashrate_hs", sa.Float()),
        sa.Column("temp_c", sa.Float()),
        sa.Column("chip_temp_c", sa.Float()),
        sa.Column("chips", sa.Integer()),
        sa.Column("chips_expected", sa.Integer()),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("ts", "miner_id", "idx", name="pk_hashboard_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "miner_state",
        sa.Column("miner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("last_sample_ts", BIG, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("hashrate_hs", sa.Float()),
        sa.Column("hashrate_expected_hs", sa.Float()),
        sa.Column("temp_c", sa.Float()),
        sa.Column("temp_max_c", sa.Float()),
        sa.Column("chip_temp_c", sa.Float()),
        sa.Column("fans_rpm", sa.Text(), nullable=False),
        sa.Column("power_w", sa.Float()),
        sa.Column("accepted", BIG),
        sa.Column("rejected", BIG),
        sa.Column("stale", BIG),
        sa.Column("uptime_s", BIG),
        sa.Column("pool_url", sa.String(500)),
        sa.Column("pool_user", sa.String(500)),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("hashboards", sa.Text(), nullable=False),
        sa.Column("pools", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("miner_id", name="pk_miner_state"),
        sa.ForeignKeyConstraint(
            ["miner_id"], ["miners.id"], name="fk_miner_state_miner_id_miners", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", BIG, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("sentry_id", sa.Integer()),
        sa.Column("miner_id", sa.Integer()),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["sentry_id"], ["sentries.id"], name="fk_events_sentry_id_sentries"
        ),
        sa.ForeignKeyConstraint(
            ["miner_id"], ["miners.id"], name="fk_events_miner_id_miners", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("sentry_id", "key", name="uq_events_sentry_id_key"),
    )
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_index("ix_events_miner_id_id", "events", ["miner_id", "id"])
    sites = sa.table("sites", sa.column("name", sa.String), sa.column("created_at", BIG))
    op.bulk_insert(sites, [{"name": "default", "created_at": time.time_ns() // 1000}])


def downgrade() -> None:
    for name in (
        "events",
        "miner_state",
        "hashboard_samples",
        "samples",
        "miners",
        "ingest_batches",
        "audit_log",
        "sessions",
        "users",
        "credentials",
        "sentries",
        "sites",
    ):
        op.drop_table(name)
