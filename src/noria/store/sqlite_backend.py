"""The embedded default backend: the standard library's ``sqlite3``, WAL, IMMEDIATE writes.

Why SQLite bypasses SQLAlchemy: importing SQLAlchemy costs about a third of a second, more than
the whole budget of a fully cached ``noria run`` (0.3 s as a process). The statements of the
concern stores are plain SQL with named parameters, which ``sqlite3`` runs as they are.

Concurrency: every write is one short transaction that starts with ``BEGIN IMMEDIATE`` (so two
writers queue on the lock instead of failing on a read-to-write upgrade) and waits up to
:data:`BUSY_TIMEOUT_S` for another process to finish. SQLite has one writer at a time: many
processes may write, one after the other; past what that allows, the error says so.

Failures a user can fix are one line naming the database file and what to do
(:class:`~noria.errors.StoreUnavailable`, exit 2): still locked by another process after the
busy timeout, a full disk, a damaged ("malformed") file, a read-only folder. An empty (0-byte)
database file next to an artifacts folder that holds artifacts is refused rather than silently
started afresh: that store is not new, its metadata was lost.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from noria.errors import StoreError, StoreUnavailable
from noria.store.backend import Connection, Row

__all__ = ["BUSY_TIMEOUT_S", "SQLiteBackend"]

#: Seconds a SQLite write waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0


class _SQLiteConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._conn.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.executemany(sql, rows)


def _problem(exc: sqlite3.Error, path: Path) -> StoreUnavailable | None:
    """One line naming the file and the fix for a SQLite failure a user can fix, else ``None``."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(
            f"{path}: the metadata database is still locked by another process after "
            f"{BUSY_TIMEOUT_S:g} s (a long `noria run`, `loop` or `monitor`, or a stuck one); let "
            "it finish or stop it, then retry (a team that writes from many machines at once "
            "wants store.metadata on PostgreSQL)"
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
        problem = _problem(exc, path)
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


class SQLiteBackend:
    """One ``sqlite3`` connection per store object, shared by its threads under a lock.

    Args:
        path: the database file (created with its folder when missing).
        url: the URL it came from (``sqlite:///`` and the path by default).

    Raises:
        StoreUnavailable: the file is damaged, unwritable or lost (see the module docstring).
    """

    dialect = "sqlite"

    def __init__(self, path: Path, url: str | None = None) -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
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
            problem = _problem(exc, path)
            if problem is not None:
                raise problem from exc
            raise StoreError(
                f"{path}: not a usable noria metadata database ({exc}); move it away to start a "
                "new store"
            ) from exc
        self._conn = conn
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
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

    def lock(self, tx: Connection, key: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already lets one writer in at a time."""

    def is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc).upper()

    def tables(self) -> set[str]:
        rows = self.read("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}

    def revision(self) -> str | None:
        try:
            rows = self.read("SELECT version_num FROM alembic_version")
        except sqlite3.OperationalError:
            return None
        return rows[0][0] if rows else None

    def create_at_head(self, script: str) -> None:
        """Create a new store's schema from ``;``-separated DDL, in one transaction.

        The same schema Alembic would create, without importing SQLAlchemy and Alembic (about
        0.7 s): a new project opens in milliseconds. Nothing happens if another process created
        it meanwhile (checked under the write lock).
        """
        with self.write() as tx:
            if tx.execute("SELECT name FROM sqlite_master"):
                return
            for statement in script.split(";\n"):
                if statement.strip():
                    self._conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
