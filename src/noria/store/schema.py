"""The metadata schema, as SQLAlchemy Core tables.

This is the single description of noria's metadata: Alembic's migrations are checked against it
(``tests/store/test_migrations.py``), and non-SQLite databases (PostgreSQL) are reached through it.
It is imported only where SQLAlchemy is needed anyway (migrations, other databases), never on the
SQLite hot path: see :mod:`noria.store.metadata` for why.

Times are POSIX seconds (floats); JSON values are stored as text. Sizes, nanosecond times and
metric steps are :data:`WIDE` (64-bit on every database; SQLite's INTEGER already is).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

#: A 64-bit integer: BIGINT on PostgreSQL, INTEGER (64-bit already) on SQLite.
WIDE = BigInteger().with_variant(Integer(), "sqlite")

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("pipeline", Text),
    Column("kind", String(16), nullable=False),  # pipeline | manual | trial
    Column("parent_id", String(32)),
    Column("status", String(16), nullable=False),  # running | completed | failed | interrupted
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("error", Text),
    Column("pid", Integer),
    Column("host", Text),
    Column("owner", Text),
    Index("ix_runs_started_at", "started_at"),
    Index("ix_runs_parent_id", "parent_id"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("run_id", String(32), nullable=False),
    Column("step", Text, nullable=False),
    Column("fingerprint", String(32)),
    Column("status", String(16), nullable=False),  # completed | cached | failed | skipped
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("duration", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("output_artifact", String(32)),
    Column("cached_from", String(32)),
    Index("ix_step_runs_run_id", "run_id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", String(32), primary_key=True),  # the content hash
    Column("materializer", String(32), nullable=False),
    Column("type_name", Text, nullable=False),
    Column("size", WIDE, nullable=False),
    Column("created_at", Float, nullable=False),
)

lineage = Table(
    "lineage",
    metadata,
    Column("step_run_id", String(32), primary_key=True),
    Column("direction", String(3), primary_key=True),  # in | out
    Column("name", Text, primary_key=True),
    Column("artifact_id", String(32), nullable=False),
    Index("ix_lineage_artifact_id", "artifact_id"),
)

cache = Table(
    "cache",
    metadata,
    Column("fingerprint", String(32), primary_key=True),
    Column("step", Text, nullable=False),
    Column("artifact_id", String(32), nullable=False),
    Column("step_run_id", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("step", WIDE, nullable=False, default=0),
    Column("timestamp", Float, nullable=False),
    Index("ix_metrics_run_key", "run_id", "key"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("artifact_id", String(32), nullable=False),
    Column("run_id", String(32)),
    Column("signature", Text, nullable=False),  # JSON
    Column("metrics", Text, nullable=False),  # JSON
    Column("params", Text, nullable=False),  # JSON
    Column("description", Text),
    Column("created_at", Float, nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("alias", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("object", Text, nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_audit_object", "object"),
)

file_hashes = Table(
    "file_hashes",
    metadata,
    Column("path", Text, primary_key=True),
    Column("size", WIDE, nullable=False),
    Column("mtime_ns", WIDE, nullable=False),
    Column("hash", String(32), nullable=False),
)

monitor_windows = Table(
    "monitor_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("first_time", Float),  # of the predictions in the window
    Column("last_time", Float),
    Column("rows", Integer, nullable=False),
    Column("versions", Text, nullable=False),  # JSON list
    Column("status", String(16), nullable=False),  # ok | drift | too_small
    Column("drifted", Text, nullable=False),  # JSON list of columns
    Column("report_artifact", String(32), nullable=False),
    Index("ix_monitor_windows_model", "model"),
)

monitor_segments = Table(
    "monitor_segments",
    metadata,
    Column("model", Text, primary_key=True),
    Column("segment", Text, primary_key=True),  # file name under .noria/predictions/<model>/
    Column("window_id", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),  # what is leased, e.g. ``loop:<model>``
    Column("owner", Text, nullable=False),  # host:pid:random of the holder
    Column("acquired_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # free for anyone after this time
)
