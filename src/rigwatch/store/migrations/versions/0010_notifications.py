"""Notifications: channels (with their delivery state), the outbox of notices, and the
dispatcher's watermark over the events.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("quiet_hours", sa.Text()),
        sa.Column("digest_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("daily_summary_at", sa.String(5)),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("last_success_at", BIG),
        sa.Column("last_error", sa.Text()),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        sa.UniqueConstraint("name", name="uq_channels_name"),
        sa.CheckConstraint(
            "kind IN ('webhook', 'email', 'telegram', 'discord', 'ntfy')", name="ck_channels_kind"
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event_id", BIG),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", BIG, nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("sent_at", BIG),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_notifications_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "channel_id", "event_id", "kind", name="uq_notifications_channel_id_event_id_kind"
        ),
        sa.CheckConstraint(
            "kind IN ('firing', 'resolved', 'flapping', 'digest', 'summary', 'test')",
            name="ck_notifications_kind",
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'held', 'sent', 'failed', 'folded')",
            name="ck_notifications_state",
        ),
    )
    op.create_index("ix_notifications_state_next_try_at", "notifications", ["state", "next_try_at"])
    op.create_table(
        "notify_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", BIG, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_notify_state"),
    )


def downgrade() -> None:
    op.drop_table("notify_state")
    op.drop_index("ix_notifications_state_next_try_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("channels")
