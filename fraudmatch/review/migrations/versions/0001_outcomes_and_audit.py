"""Outcomes (one current row per match, versioned) and the audit trail.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("match_key", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("left_partner", sa.String(100), nullable=False),
        sa.Column("left_dataset", sa.String(100), nullable=False),
        sa.Column("left_record_id", sa.String(200), nullable=False),
        sa.Column("right_partner", sa.String(100), nullable=False),
        sa.Column("right_dataset", sa.String(100), nullable=False),
        sa.Column("right_record_id", sa.String(200), nullable=False),
        sa.Column("evidence_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("same_entity", sa.Boolean, nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("analyst", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("evidence_labels", sa.Text, nullable=True),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("analyst", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("match_key", sa.String(64), nullable=True),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("outcomes")
