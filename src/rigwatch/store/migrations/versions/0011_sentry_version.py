"""Sentries report their version (the User-Agent of their batches).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sentries") as batch:
        batch.add_column(sa.Column("version", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("sentries") as batch:
        batch.drop_column("version")
