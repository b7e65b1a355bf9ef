"""Alerts: rules (with the default set), alerts, silences.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()

# The default rules, frozen here as they were when this migration was written
# (domain/alerts.py DEFAULT_RULES; a test keeps the two equal): kind, severity, params,
# hold_s, recover_s. All farm-wide and enabled.
DEFAULT_RULES: tuple[tuple[str, str, dict[str, int], int, int], ...] = (
    ("offline", "critical", {"minutes": 5}, 0, 60),
    ("hashrate_low", "warning", {"percent": 80, "window_minutes": 60}, 0, 300),
    ("hashboard_missing", "critical", {}, 120, 300),
    ("temp_high", "critical", {}, 60, 300),
    ("fan_failed", "critical", {}, 60, 300),
    ("rejected_rate", "warning", {"percent": 5, "window_minutes": 60}, 0, 300),
    ("hung", "critical", {"minutes": 15}, 0, 300),
    ("sentry_silent", "critical", {"minutes": 10}, 0, 60),
    ("job_failing", "warning", {}, 0, 0),
)


def upgrade() -> None:
    rules = op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(120), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("hold_s", sa.Integer(), nullable=False),
        sa.Column("recover_s", sa.Integer(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("updated_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name="ck_alert_rules_severity"
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer()),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("started_at", BIG, nullable=False),
        sa.Column("fired_at", BIG),
        sa.Column("resolved_at", BIG),
        sa.Column("last_change_at", BIG, nullable=False),
        sa.Column("ok_since", BIG),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("flips", sa.Text(), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("acked_by", sa.String(200)),
        sa.Column("acked_at", BIG),
        sa.Column("silenced_until", BIG),
        sa.Column("silenced_notice", sa.Boolean(), nullable=False),
        sa.Column("open_key", sa.String(150)),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alerts_rule_id_alert_rules",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("open_key", name="uq_alerts_open_key"),
        sa.CheckConstraint(
            "state IN ('pending', 'firing', 'flapping', 'resolved')", name="ck_alerts_state"
        ),
    )
    op.create_index("ix_alerts_state_id", "alerts", ["state", "id"])
    op.create_index("ix_alerts_subject_id", "alerts", ["subject", "id"])
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer()),
        sa.Column("subject", sa.String(100)),
        sa.Column("until", BIG, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_silences_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("rule_id IS NOT NULL OR subject IS NOT NULL", name="ck_silences_target"),
    )
    op.create_index("ix_silences_until", "silences", ["until"])
    now = int(time.time() * 1_000_000)
    op.bulk_insert(
        rules,
        [
            {
                "kind": kind,
                "scope": "farm",
                "params": json.dumps(params, separators=(",", ":")),
                "severity": severity,
                "enabled": True,
                "hold_s": hold_s,
                "recover_s": recover_s,
                "created_at": now,
                "updated_at": now,
            }
            for kind, severity, params, hold_s, recover_s in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_silences_until", table_name="silences")
    op.drop_table("silences")
    op.drop_index("ix_alerts_rule_id", table_name="alerts")
    op.drop_index("ix_alerts_subject_id", table_name="alerts")
    op.drop_index("ix_alerts_state_id", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
