"""The metadata store: runs, step runs, artifacts and lineage, the cache, tracking, the registry.

A store is opened from a URL. ``sqlite:///path/noria.db`` (the default, in ``.noria/``) is served
by the standard library's ``sqlite3`` driver in WAL mode; any other SQLAlchemy URL (PostgreSQL) by
SQLAlchemy Core. The schema is the one of :mod:`noria.store.schema`, created and upgraded by
Alembic (``noria/store/migrations``); a database at the current revision is opened without
importing either library.

Why SQLite bypasses SQLAlchemy on the hot path: importing SQLAlchemy costs about a third of a
second, more than the whole budget of a fully cached ``noria run`` (0.3 s as a process). The
queries here are plain SQL with named parameters (``:name``), which both ``sqlite3`` and
SQLAlchemy's ``text()`` accept, so both backends run the very same statements.

Concurrency: every write is one short transaction; on SQLite it starts with ``BEGIN IMMEDIATE``
(so two writers queue on the lock instead of failing on a read-to-write upgrade) and waits up to
30 s for another process to finish.

Failures a user can fix are one line naming the database file and what to do
(:class:`~noria.errors.StoreUnavailable`, exit 2): still locked by another process after those
30 s, a full disk, a damaged ("malformed") file, a read-only folder. An empty (0-byte) database
file next to an artifacts folder that holds artifacts is refused rather than silently started
afresh: that store is not new, its metadata was lost.

This module is not for domain logic: promotion rules live in
:mod:`noria.registry`, run orchestration in :mod:`noria.pipeline`.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from noria.errors import NotFoundError, StoreError, StoreUnavailable

__all__ = [
    "HEAD_REVISION",
    "MetadataStore",
    "ModelVersion",
    "RunRecord",
    "StepRunRecord",
]

#: The Alembic revision this version of noria writes and reads.
HEAD_REVISION = "0003"

#: Seconds a SQLite write waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0

Row = tuple[Any, ...]


class _Connection(Protocol):
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...
    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One execution of a pipeline, a manual tracking run or a search trial."""

    id: str
    name: str
    pipeline: str | None
    kind: str
    parent_id: str | None
    status: str
    started_at: float
    ended_at: float | None
    error: str | None
    pid: int | None
    host: str | None
    owner: str | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or ``None`` while it runs."""
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class StepRunRecord:
    """One execution (or cache hit) of a step inside a run."""

    id: str
    run_id: str
    step: str
    fingerprint: str | None
    status: str
    started_at: float | None
    ended_at: float | None
    duration: float | None
    attempts: int
    error: str | None
    output_artifact: str | None
    cached_from: str | None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A registered model: an artifact with its signature, metrics, params and lineage."""

    name: str
    version: int
    artifact_id: str
    run_id: str | None
    signature: list[dict[str, Any]]
    metrics: dict[str, float]
    params: dict[str, Any]
    description: str | None
    created_at: float


_RUN_COLUMNS = (
    "id, name, pipeline, kind, parent_id, status, started_at, ended_at, error, pid, host, owner"
)
_STEP_COLUMNS = (
    "id, run_id, step, fingerprint, status, started_at, ended_at, duration, attempts, error, "
    "output_artifact, cached_from"
)
_MODEL_COLUMNS = (
    "name, version, artifact_id, run_id, signature, metrics, params, description, created_at"
)


def _model(row: Row) -> ModelVersion:
    return ModelVersion(
        name=row[0],
        version=row[1],
        artifact_id=row[2],
        run_id=row[3],
        signature=orjson.loads(row[4]),
        metrics=orjson.loads(row[5]),
        params=orjson.loads(row[6]),
        description=row[7],
        created_at=row[8],
    )


def dumps(value: Any) -> str:
    """JSON text of ``value`` as the store keeps it (sorted keys; numpy scalars allowed)."""
    return orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str
    ).decode()


# --------------------------------------------------------------------------- backends


class _SQLiteConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._conn.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.executemany(sql, rows)


def _sqlite_problem(exc: sqlite3.Error, path: Path) -> StoreUnavailable | None:
    """One line naming the file and the fix for a SQLite failure a user can fix, else ``None``."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(
            f"{path}: the metadata database is still locked by another process after "
            f"{BUSY_TIMEOUT_S:g} s (a long `noria run`, `loop` or `monitor`, or a stuck one); let "
            "it finish or stop it, then retry"
        )
    if "full" in text:
        return StoreUnavailable(
            f"{path}: the disk holding the metadata database is full ({exc}); free space there "
            "and retry (the last change was rolled back)"
        )
    if "not a database" in text:
        return StoreUnavailable(
            f"{path}: not a usable noria metadata database ({exc}): restore it from a backup, "
            "or move it away to start a new store"
        )
    if "malformed" in text or "corrupt" in text:
        return StoreUnavailable(
            f"{path}: the metadata database is damaged ({exc}); restore it from a backup, or "
            f"recover it with `sqlite3 {path.name} .recover | sqlite3 recovered.db`"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreUnavailable(
            f"{path}: the metadata database cannot be written ({exc}); check the permissions "
            "of the file and of its folder"
        )
    if "disk i/o error" in text:
        return StoreUnavailable(
            f"{path}: the disk failed reading or writing the metadata database ({exc}); check "
            "the disk (and its free space) and retry"
        )
    return None


@contextlib.contextmanager
def _explained(path: Path) -> Iterator[None]:
    """Turn a SQLite failure a user can fix into one line naming ``path`` and the fix."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise  # callers handle their own constraints (a segment monitored twice, …)
    except sqlite3.Error as exc:
        problem = _sqlite_problem(exc, path)
        if problem is None:
            raise
        raise problem from exc


def _check_not_lost(path: Path) -> None:
    """Refuse an empty (0-byte) database file next to artifacts: that store is not new.

    A missing file is a new store (a project may store artifacts before it first opens its
    metadata); a 0-byte one is what a truncation, a full disk or a bad copy leaves of one.
    """
    try:
        if path.stat().st_size:
            return
    except FileNotFoundError:
        return
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        return  # SQLite recovers the pages from the write-ahead log
    artifacts = path.parent / "artifacts"
    try:
        held = any(not e.name.startswith(".") for e in os.scandir(artifacts))
    except OSError:
        return
    if held:
        raise StoreUnavailable(
            f"{path}: the metadata database is empty (0 bytes) but {artifacts} holds artifacts, "
            f"so this store is not new (its runs and models would be lost); restore {path.name} "
            f"from a backup, or move both away to start a new store"
        )


class _SQLiteBackend:
    """The embedded default: one ``sqlite3`` connection per store object, WAL, IMMEDIATE writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _check_not_lost(path)
        try:
            conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.DatabaseError as exc:
            problem = _sqlite_problem(exc, path)
            if problem is not None:
                raise problem from exc
            raise StoreError(
                f"{path}: not a usable noria metadata database ({exc}); move it away to start a "
                "new store"
            ) from exc
        self._conn = conn
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def write(self) -> Iterator[_Connection]:
        with self._lock, _explained(self.path):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteConnection(self._conn)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a failed statement may have ended it
                    self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self._lock, _explained(self.path):
            return self._conn.execute(sql, params or {}).fetchall()

    def write_one(self, sql: str, params: Mapping[str, Any]) -> None:
        # One statement in autocommit mode is its own transaction: no BEGIN/COMMIT round trips.
        with self._lock, _explained(self.path):
            self._conn.execute(sql, params)

    def revision(self) -> str | None:
        try:
            rows = self.read("SELECT version_num FROM alembic_version")
        except sqlite3.OperationalError:
            return None
        return rows[0][0] if rows else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _SQLAlchemyConnection:
    def __init__(self, conn: Any) -> None:
        from sqlalchemy import text

        self._conn = conn
        self._text = text

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        result = self._conn.execute(self._text(sql), dict(params or {}))
        return [tuple(r) for r in result.fetchall()] if result.returns_rows else []

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.execute(self._text(sql), [dict(r) for r in rows])


class _SQLAlchemyBackend:
    """Any other database SQLAlchemy reaches (PostgreSQL through psycopg)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.url = url
        self._engine = create_engine(url, pool_pre_ping=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[_Connection]:
        with self._engine.begin() as conn:
            yield _SQLAlchemyConnection(conn)

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        with self._engine.connect() as conn:
            return _SQLAlchemyConnection(conn).execute(sql, params)

    def write_one(self, sql: str, params: Mapping[str, Any]) -> None:
        with self.write() as tx:
            tx.execute(sql, params)

    def revision(self) -> str | None:
        from sqlalchemy import inspect

        if not inspect(self._engine).has_table("alembic_version"):
            return None
        rows = self.read("SELECT version_num FROM alembic_version")
        return rows[0][0] if rows else None

    def close(self) -> None:
        self._engine.dispose()


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or ``None`` for another database."""
    if not url.startswith("sqlite:"):
        return None
    path = url.removeprefix("sqlite:///")
    if path == url or path in ("", ":memory:"):
        raise StoreError(f"metadata URL '{url}': use a file, e.g. sqlite:///.noria/noria.db")
    return Path(path)


#: The schema at :data:`HEAD_REVISION` as SQLite DDL, dumped from a database Alembic created
#: (``tests/store/test_metadata.py`` checks that it still is; regenerate it with
#: ``python -c "from noria.store.metadata import dump_sqlite_ddl; dump_sqlite_ddl()"``).
SQLITE_HEAD = Path(__file__).with_name("migrations") / "sqlite_head.sql"


def alembic_sqlite_ddl(path: Path) -> list[str]:
    """The DDL of a new SQLite database at ``path`` migrated by Alembic, in creation order."""
    _migrate(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    return [r[0] for r in rows] + [f"INSERT INTO alembic_version VALUES ('{version}')"]


def dump_sqlite_ddl() -> None:
    """Rewrite :data:`SQLITE_HEAD` from Alembic's migrations (after adding a migration)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        statements = alembic_sqlite_ddl(Path(tmp) / "head.db")
    SQLITE_HEAD.write_text(";\n".join(statements) + ";\n")


def _create_sqlite(backend: _SQLiteBackend) -> None:
    """Create a brand-new SQLite store at head from :data:`SQLITE_HEAD`, in one transaction.

    The same schema Alembic would create, without importing SQLAlchemy and Alembic (about
    0.7 s): a new project opens in milliseconds. Upgrades of existing stores go through Alembic.
    """
    script = SQLITE_HEAD.read_text()
    with backend.write():
        for statement in script.split(";\n"):
            if statement.strip():
                backend._conn.execute(statement)


def _migrate(url: str) -> None:
    """Create or upgrade the schema to :data:`HEAD_REVISION` with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


# --------------------------------------------------------------------------- the store


class MetadataStore:
    """Runs, step runs, artifacts, lineage, cache entries, params/metrics/tags, models, audit.

    Args:
        url: a SQLAlchemy URL; ``sqlite:///…`` is served by ``sqlite3`` directly.

    Raises:
        StoreError: the database is unreadable, or was written by a newer noria.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        path = _sqlite_path(url)
        self._backend: _SQLiteBackend | _SQLAlchemyBackend = (
            _SQLiteBackend(path) if path is not None else _SQLAlchemyBackend(url)
        )
        revision = self._backend.revision()
        new_sqlite = isinstance(self._backend, _SQLiteBackend) and revision is None
        if new_sqlite and not self._backend.read("SELECT name FROM sqlite_master"):
            _create_sqlite(self._backend)  # type: ignore[arg-type]
            revision = HEAD_REVISION
        if revision != HEAD_REVISION:
            if revision is not None and revision > HEAD_REVISION:
                raise StoreError(
                    f"metadata store {url} is at schema revision {revision}, newer than this "
                    f"noria's {HEAD_REVISION}: upgrade noria (pip install -U noria)"
                )
            _migrate(url)

    def close(self) -> None:
        """Close the connection (the store object is unusable afterwards)."""
        self._backend.close()

    def write(self) -> contextlib.AbstractContextManager[_Connection]:
        """A write transaction: ``with store.write() as tx: tx.execute(sql, params)``."""
        return self._backend.write()

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of a read-only query with named parameters."""
        return self._backend.read(sql, params)

    # ----------------------------------------------------------------- runs

    def create_run(
        self,
        run_id: str,
        *,
        name: str,
        kind: str,
        pipeline: str | None = None,
        parent_id: str | None = None,
        started_at: float | None = None,
    ) -> None:
        """Insert a run in state ``running``."""
        self._backend.write_one(
            "INSERT INTO runs (id, name, pipeline, kind, parent_id, status, started_at, pid, "
            "host, owner) VALUES (:id, :name, :pipeline, :kind, :parent_id, 'running', "
            ":started_at, :pid, :host, :owner)",
            {
                "id": run_id,
                "name": name,
                "pipeline": pipeline,
                "kind": kind,
                "parent_id": parent_id,
                "started_at": started_at if started_at is not None else time.time(),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "owner": _user(),
            },
        )

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or with an id that starts with it (at least 4 characters).

        Raises:
            NotFoundError: no run, or an ambiguous prefix.
        """
        rows = self.read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = :id", {"id": run_id})
        if not rows and len(run_id) >= 4:
            rows = self.read(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE id LIKE :prefix LIMIT 2",
                {"prefix": run_id.replace("%", "").replace("_", "") + "%"},
            )
            if len(rows) > 1:
                raise NotFoundError(f"run id prefix '{run_id}' is ambiguous: give more characters")
        if not rows:
            raise NotFoundError(f"no run '{run_id}' in {self.url}: `noria runs` lists the runs")
        return RunRecord(*rows[0])

    def list_runs(
        self, *, limit: int = 50, parent_id: str | None = None, kind: str | None = None
    ) -> list[RunRecord]:
        """The newest runs first, top-level ones unless ``parent_id`` is given."""
        where = ["parent_id = :parent" if parent_id else "parent_id IS NULL"]
        if kind:
            where.append("kind = :kind")
        rows = self.read(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {' AND '.join(where)} "
            "ORDER BY started_at DESC LIMIT :limit",
            {"parent": parent_id, "kind": kind, "limit": limit},
        )
        return [RunRecord(*r) for r in rows]

    def insert_runs(self, tx: _Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert finished runs at once (a search's trials), inside ``tx``.

        Each row has ``id, name, kind, parent_id, status, started_at, ended_at`` and optionally
        ``error``.
        """
        tx.executemany(
            "INSERT INTO runs (id, name, pipeline, kind, parent_id, status, started_at, ended_at, "
            "error, pid, host, owner) VALUES (:id, :name, NULL, :kind, :parent_id, :status, "
            ":started_at, :ended_at, :error, :pid, :host, :owner)",
            [
                {
                    "error": None,
                    **r,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "owner": _user(),
                }
                for r in rows
            ],
        )

    def best_runs(
        self, *, kind: str, name_prefix: str, metric: str, maximize: bool, limit: int = 5
    ) -> list[tuple[str, float]]:
        """``(run_id, value)`` of the completed runs of ``kind`` whose name starts with
        ``name_prefix``, best last-logged ``metric`` first."""
        order = "DESC" if maximize else "ASC"
        rows = self.read(
            "SELECT r.id, m.value FROM runs r JOIN metrics m ON m.run_id = r.id "
            "WHERE r.kind = :kind AND r.status = 'completed' "
            "AND substr(r.name, 1, length(:prefix)) = :prefix "
            f"AND m.key = :metric ORDER BY m.value {order} LIMIT :limit",
            {
                "kind": kind,
                "prefix": name_prefix,
                "metric": metric,
                "limit": limit,
            },
        )
        return [(r[0], r[1]) for r in rows]

    def finish_run(
        self,
        tx: _Connection,
        run_id: str,
        *,
        status: str,
        error: str | None = None,
        ended_at: float | None = None,
    ) -> None:
        """Mark a run finished, inside the caller's transaction ``tx``."""
        tx.execute(
            "UPDATE runs SET status = :status, ended_at = :ended_at, error = :error WHERE id = :id",
            {
                "id": run_id,
                "status": status,
                "error": error,
                "ended_at": ended_at if ended_at is not None else time.time(),
            },
        )

    def mark_abandoned_runs(self) -> int:
        """Mark runs of this host whose process is gone as ``interrupted``; returns how many.

        A run killed with SIGKILL cannot mark itself; the next open of the store does.
        """
        host = socket.gethostname()
        rows = self.read(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = :host", {"host": host}
        )
        dead = [run_id for run_id, pid in rows if pid is not None and not _alive(pid)]
        if dead:
            with self.write() as tx:
                for run_id in dead:
                    self.finish_run(tx, run_id, status="interrupted", error="process ended")
        return len(dead)

    # ----------------------------------------------------------------- steps, artifacts, cache

    def step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The step runs of a run, in the order they started."""
        rows = self.read(
            f"SELECT {_STEP_COLUMNS} FROM step_runs WHERE run_id = :run ORDER BY started_at, id",
            {"run": run_id},
        )
        return [StepRunRecord(*r) for r in rows]

    def insert_step_runs(self, tx: _Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert step runs (dicts with every column of ``step_runs``)."""
        tx.executemany(
            "INSERT INTO step_runs (id, run_id, step, fingerprint, status, started_at, ended_at, "
            "duration, attempts, error, output_artifact, cached_from) VALUES (:id, :run_id, "
            ":step, :fingerprint, :status, :started_at, :ended_at, :duration, :attempts, :error, "
            ":output_artifact, :cached_from)",
            rows,
        )

    def insert_artifacts(self, tx: _Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record artifacts (id, materializer, type_name, size, created_at); known ids are kept."""
        tx.executemany(
            "INSERT INTO artifacts (id, materializer, type_name, size, created_at) VALUES "
            "(:id, :materializer, :type_name, :size, :created_at) ON CONFLICT (id) DO NOTHING",
            rows,
        )

    def insert_lineage(self, tx: _Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record which step run consumed (``in``) and produced (``out``) which artifact."""
        tx.executemany(
            "INSERT INTO lineage (step_run_id, direction, name, artifact_id) VALUES "
            "(:step_run_id, :direction, :name, :artifact_id)",
            rows,
        )

    def insert_cache(self, tx: _Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Map fingerprints to the artifact and the step run that produced it."""
        tx.executemany(
            "INSERT INTO cache (fingerprint, step, artifact_id, step_run_id, created_at) VALUES "
            "(:fingerprint, :step, :artifact_id, :step_run_id, :created_at) "
            "ON CONFLICT (fingerprint) DO UPDATE SET artifact_id = excluded.artifact_id, "
            "step_run_id = excluded.step_run_id, created_at = excluded.created_at",
            rows,
        )

    def lookup_cache(self, fingerprint: str) -> tuple[str, str, str] | None:
        """``(artifact_id, materializer, step_run_id)`` cached for a fingerprint, or ``None``."""
        rows = self.read(
            "SELECT c.artifact_id, a.materializer, c.step_run_id FROM cache c "
            "JOIN artifacts a ON a.id = c.artifact_id WHERE c.fingerprint = :fp",
            {"fp": fingerprint},
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def artifact(self, artifact_id: str) -> dict[str, Any]:
        """The record of an artifact: id, materializer, type_name, size, created_at."""
        rows = self.read(
            "SELECT id, materializer, type_name, size, created_at FROM artifacts WHERE id = :id",
            {"id": artifact_id},
        )
        if not rows:
            raise NotFoundError(f"no artifact '{artifact_id}' in {self.url}")
        keys = ("id", "materializer", "type_name", "size", "created_at")
        return dict(zip(keys, rows[0], strict=True))

    def lineage_of_run(self, run_id: str) -> list[tuple[str, str, str, str]]:
        """``(step, direction, name, artifact_id)`` for every step run of a run."""
        return [
            tuple(r)  # type: ignore[misc]
            for r in self.read(
                "SELECT s.step, l.direction, l.name, l.artifact_id FROM lineage l "
                "JOIN step_runs s ON s.id = l.step_run_id WHERE s.run_id = :run "
                "ORDER BY s.started_at, l.direction, l.name",
                {"run": run_id},
            )
        ]

    def producers_of(self, artifact_id: str) -> list[tuple[str, str]]:
        """``(run_id, step)`` of the step runs that produced an artifact (oldest first)."""
        rows = self.read(
            "SELECT s.run_id, s.step FROM lineage l JOIN step_runs s ON s.id = l.step_run_id "
            "WHERE l.artifact_id = :a AND l.direction = 'out' AND s.status = 'completed' "
            "ORDER BY s.started_at",
            {"a": artifact_id},
        )
        return [(r[0], r[1]) for r in rows]

    def file_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The remembered content hash of a file with this size and mtime, if any."""
        rows = self.read(
            "SELECT hash FROM file_hashes WHERE path = :p AND size = :s AND mtime_ns = :m",
            {"p": path, "s": size, "m": mtime_ns},
        )
        return rows[0][0] if rows else None

    def remember_file_hash(self, path: str, size: int, mtime_ns: int, digest: str) -> None:
        """Remember a file's content hash for the size+mtime fast path."""
        self._backend.write_one(
            "INSERT INTO file_hashes (path, size, mtime_ns, hash) VALUES (:p, :s, :m, :h) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, hash = excluded.hash",
            {"p": path, "s": size, "m": mtime_ns, "h": digest},
        )

    # ----------------------------------------------------------------- tracking

    def log_batch(
        self,
        tx: _Connection,
        *,
        params: Iterable[tuple[str, str, Any]] = (),
        metrics: Iterable[tuple[str, str, float, int, float]] = (),
        tags: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        """Write params ``(run, key, value)``, metrics ``(run, key, value, step, time)``, tags."""
        tx.executemany(
            "INSERT INTO params (run_id, key, value) VALUES (:r, :k, :v) "
            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            [{"r": r, "k": k, "v": dumps(v)} for r, k, v in params],
        )
        tx.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (:r, :k, :v, :s, :t)",
            [{"r": r, "k": k, "v": v, "s": s, "t": t} for r, k, v, s, t in metrics],
        )
        tx.executemany(
            "INSERT INTO tags (run_id, key, value) VALUES (:r, :k, :v) "
            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            [{"r": r, "k": k, "v": str(v)} for r, k, v in tags],
        )

    def params(self, run_id: str) -> dict[str, Any]:
        """The params of a run."""
        rows = self.read(
            "SELECT key, value FROM params WHERE run_id = :r ORDER BY key", {"r": run_id}
        )
        return {k: orjson.loads(v) for k, v in rows}

    def tags(self, run_id: str) -> dict[str, str]:
        """The tags of a run."""
        rows = self.read(
            "SELECT key, value FROM tags WHERE run_id = :r ORDER BY key", {"r": run_id}
        )
        return dict(rows)  # type: ignore[arg-type]

    def metrics(self, run_id: str) -> list[tuple[str, float, int, float]]:
        """Every metric point of a run: ``(key, value, step, timestamp)`` in logging order."""
        rows = self.read(
            "SELECT key, value, step, timestamp FROM metrics WHERE run_id = :r ORDER BY id",
            {"r": run_id},
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each run, the last logged value of each metric key."""
        if not run_ids:
            return {}
        marks = ", ".join(f":r{i}" for i in range(len(run_ids)))
        rows = self.read(
            f"SELECT run_id, key, value FROM metrics WHERE id IN (SELECT MAX(id) FROM metrics "
            f"WHERE run_id IN ({marks}) GROUP BY run_id, key)",
            {f"r{i}": r for i, r in enumerate(run_ids)},
        )
        out: dict[str, dict[str, float]] = {}
        for run_id, key, value in rows:
            out.setdefault(run_id, {})[key] = value
        return out

    def tags_of(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tags of several runs at once."""
        if not run_ids:
            return {}
        marks = ", ".join(f":r{i}" for i in range(len(run_ids)))
        rows = self.read(
            f"SELECT run_id, key, value FROM tags WHERE run_id IN ({marks})",
            {f"r{i}": r for i, r in enumerate(run_ids)},
        )
        out: dict[str, dict[str, str]] = {}
        for run_id, key, value in rows:
            out.setdefault(run_id, {})[key] = value
        return out

    def step_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """For each run, how many step runs ended in each status."""
        if not run_ids:
            return {}
        marks = ", ".join(f":r{i}" for i in range(len(run_ids)))
        rows = self.read(
            f"SELECT run_id, status, COUNT(*) FROM step_runs WHERE run_id IN ({marks}) "
            "GROUP BY run_id, status",
            {f"r{i}": r for i, r in enumerate(run_ids)},
        )
        out: dict[str, dict[str, int]] = {}
        for run_id, status, count in rows:
            out.setdefault(run_id, {})[status] = count
        return out

    # ----------------------------------------------------------------- registry

    def insert_model_version(
        self,
        tx: _Connection,
        *,
        name: str,
        artifact_id: str,
        run_id: str | None,
        signature: list[dict[str, Any]],
        metrics: Mapping[str, float],
        params: Mapping[str, Any],
        description: str | None = None,
    ) -> ModelVersion:
        """Register the next version of ``name`` inside ``tx`` and return it."""
        rows = tx.execute(
            "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = :n", {"n": name}
        )
        version = int(rows[0][0]) + 1
        record = ModelVersion(
            name=name,
            version=version,
            artifact_id=artifact_id,
            run_id=run_id,
            signature=list(signature),
            metrics=dict(metrics),
            params=dict(params),
            description=description,
            created_at=time.time(),
        )
        tx.execute(
            f"INSERT INTO model_versions ({_MODEL_COLUMNS}) VALUES (:name, :version, "
            ":artifact_id, :run_id, :signature, :metrics, :params, :description, :created_at)",
            {
                "name": name,
                "version": version,
                "artifact_id": artifact_id,
                "run_id": run_id,
                "signature": dumps(record.signature),
                "metrics": dumps(record.metrics),
                "params": dumps(record.params),
                "description": description,
                "created_at": record.created_at,
            },
        )
        return record

    def model_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Registered versions, of one model or of all, oldest first."""
        where = "WHERE name = :n" if name else ""
        rows = self.read(
            f"SELECT {_MODEL_COLUMNS} FROM model_versions {where} ORDER BY name, version",
            {"n": name},
        )
        return [_model(r) for r in rows]

    def model_version(self, name: str, version: int) -> ModelVersion | None:
        """One version, or ``None``."""
        rows = self.read(
            f"SELECT {_MODEL_COLUMNS} FROM model_versions WHERE name = :n AND version = :v",
            {"n": name, "v": version},
        )
        return _model(rows[0]) if rows else None

    def aliases(self, name: str | None = None) -> list[tuple[str, str, int]]:
        """``(model name, alias, version)`` rows."""
        where = "WHERE name = :n" if name else ""
        rows = self.read(
            f"SELECT name, alias, version FROM aliases {where} ORDER BY name, alias", {"n": name}
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def set_alias(self, tx: _Connection, name: str, alias: str, version: int) -> None:
        """Point ``alias`` of model ``name`` at ``version`` inside ``tx``."""
        tx.execute(
            "INSERT INTO aliases (name, alias, version, updated_at) VALUES (:n, :a, :v, :t) "
            "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, "
            "updated_at = excluded.updated_at",
            {"n": name, "a": alias, "v": version, "t": time.time()},
        )

    def audit(
        self,
        tx: _Connection,
        *,
        action: str,
        object: str,
        detail: Mapping[str, Any],
        actor: str | None = None,
    ) -> None:
        """Append an event to the audit log inside ``tx``."""
        tx.execute(
            "INSERT INTO audit_events (time, actor, action, object, detail) VALUES "
            "(:t, :actor, :action, :object, :detail)",
            {
                "t": time.time(),
                "actor": actor or _user(),
                "action": action,
                "object": object,
                "detail": dumps(dict(detail)),
            },
        )

    def audit_events(self, object: str | None = None) -> list[dict[str, Any]]:
        """Audit events, oldest first, optionally of one object."""
        where = "WHERE object = :o" if object else ""
        rows = self.read(
            f"SELECT time, actor, action, object, detail FROM audit_events {where} ORDER BY id",
            {"o": object},
        )
        return [
            {"time": t, "actor": a, "action": act, "object": o, "detail": orjson.loads(d)}
            for t, a, act, o, d in rows
        ]

    # ----------------------------------------------------------------- leases

    def acquire_lease(
        self, name: str, owner: str, ttl: float, *, replace: str | None = None
    ) -> bool:
        """Take (or extend) the lease ``name`` for ``ttl`` seconds; ``False`` if another holds it.

        One atomic upsert: a free, expired or own lease is taken (also one held by ``replace``,
        an owner known to be dead); a live one of another owner is left alone. Works the same on
        SQLite and PostgreSQL (``ON CONFLICT … WHERE``).
        """
        now = time.time()
        with self.write() as tx:
            rows = tx.execute(
                "INSERT INTO leases (name, owner, acquired_at, expires_at) "
                "VALUES (:n, :o, :now, :exp) ON CONFLICT (name) DO UPDATE SET "
                "owner = excluded.owner, acquired_at = excluded.acquired_at, "
                "expires_at = excluded.expires_at "
                "WHERE leases.expires_at < :now OR leases.owner = :o OR leases.owner = :dead "
                "RETURNING owner",
                {"n": name, "o": owner, "now": now, "exp": now + ttl, "dead": replace or owner},
            )
        return bool(rows)

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease ``name`` back (nothing happens if ``owner`` no longer holds it)."""
        with self.write() as tx:
            tx.execute("DELETE FROM leases WHERE name = :n AND owner = :o", {"n": name, "o": owner})

    def lease(self, name: str) -> tuple[str, float] | None:
        """``(owner, expires_at)`` of the live lease ``name``, or ``None``."""
        rows = self.read(
            "SELECT owner, expires_at FROM leases WHERE name = :n AND expires_at >= :now",
            {"n": name, "now": time.time()},
        )
        return (rows[0][0], float(rows[0][1])) if rows else None


@functools.lru_cache(maxsize=1)
def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
