"""Monitoring: the windows of the prediction log that were monitored, and their segments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
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
        "monitor_windows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("first_time", sa.Float),
        sa.Column("last_time", sa.Float),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("drifted", sa.Text, nullable=False),
        sa.Column("report_artifact", sa.String(32), nullable=False),
    )
    op.create_index("ix_monitor_windows_model", "monitor_windows", ["model"])
    op.create_table(
        "monitor_segments",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("segment", sa.Text, primary_key=True),
        sa.Column("window_id", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("monitor_segments")
    op.drop_table("monitor_windows")
