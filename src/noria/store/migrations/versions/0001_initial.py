"""The first schema: runs, step runs, artifacts, lineage, cache, tracking, registry, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Sizes, nanosecond times and metric steps are BIGINT on PostgreSQL (``WIDE``); on SQLite they
are INTEGER, 64-bit already, so the SQLite schema is the one this revision always made. (Before
they were INTEGER everywhere, and a PostgreSQL store failed at its first file hash, so no
PostgreSQL store with the narrow columns can exist.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WIDE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("pipeline", sa.Text),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.Text),
        sa.Column("owner", sa.Text),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_parent_id", "runs", ["parent_id"])
    op.create_table(
        "step_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("duration", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("output_artifact", sa.String(32)),
        sa.Column("cached_from", sa.String(32)),
    )
    op.create_index("ix_step_runs_run_id", "step_runs", ["run_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("materializer", sa.String(32), nullable=False),
        sa.Column("type_name", sa.Text, nullable=False),
        sa.Column("size", WIDE, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "lineage",
        sa.Column("step_run_id", sa.String(32), primary_key=True),
        sa.Column("direction", sa.String(3), primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("artifact_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_lineage_artifact_id", "lineage", ["artifact_id"])
    op.create_table(
        "cache",
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("artifact_id", sa.String(32), nullable=False),
        sa.Column("step_run_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "params",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("step", WIDE, nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
    )
    op.create_index("ix_metrics_run_key", "metrics", ["run_id", "key"])
    op.create_table(
        "tags",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("artifact_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "aliases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("alias", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_object", "audit_events", ["object"])
    op.create_table(
        "file_hashes",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("size", WIDE, nullable=False),
        sa.Column("mtime_ns", WIDE, nullable=False),
        sa.Column("hash", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "file_hashes",
        "audit_events",
        "aliases",
        "model_versions",
        "tags",
        "metrics",
        "params",
        "cache",
        "lineage",
        "artifacts",
        "step_runs",
        "runs",
    ):
        op.drop_table(table)
