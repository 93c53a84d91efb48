"""Allocation of cases to named analysts (who, by whom, when, work started, due date).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allocations",
        sa.Column("run_id", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("analyst", sa.String(100), nullable=True, index=True),
        sa.Column("assigned_by", sa.String(100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due", sa.Date, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("allocations")
