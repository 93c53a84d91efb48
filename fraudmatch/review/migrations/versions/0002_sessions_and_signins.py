"""Server-side sessions (revocable) and sign-in attempts (throttling, audit); audit index.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        # SHA-256 of the cookie's random token: the database never holds a usable cookie
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("analyst", sa.String(100), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_because", sa.String(60), nullable=True),
    )
    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        # a keyed digest of the name typed (people type passwords there), never the name
        sa.Column("name_digest", sa.String(64), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("ix_audit_match_key", "audit", ["match_key"])


def downgrade() -> None:
    op.drop_index("ix_audit_match_key", "audit")
    op.drop_table("signin_attempts")
    op.drop_table("sessions")
