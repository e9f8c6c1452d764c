"""The backend interface under the metadata store, and the base of the concern stores.

A backend runs plain SQL with named parameters (``:name``) and knows nothing of noria's tables.
Two implement it: :class:`~noria.store.sqlite_backend.SQLiteBackend` (the standard library's
``sqlite3``, the hot path of the default store) and
:class:`~noria.store.sqlalchemy_backend.SQLAlchemyBackend` (SQLAlchemy Core, for every other
URL: PostgreSQL through psycopg). The statements of the concern stores are written once in the
SQL both dialects share (``ON CONFLICT … DO UPDATE``, ``RETURNING``); what differs between
databases (locks, errors) is a method here.

:class:`ConcernStore` is what each concern (runs and cache, tracking, registry and audit,
monitor) builds on; :class:`~noria.store.metadata.MetadataStore` is all of them over one backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from noria.errors import StoreError

__all__ = ["Backend", "ConcernStore", "Connection", "Row", "open_backend", "redact", "sqlite_path"]

Row = tuple[Any, ...]


class Connection(Protocol):
    """A connection inside one transaction."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one statement; its rows (none for a statement that returns none)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement once per parameter mapping (nothing for no rows)."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A database that runs noria's SQL: the interface a new kind of database implements.

    Attributes:
        url: the URL it was opened from (may hold a password: show :func:`redact` of it).
        dialect: ``sqlite``, ``postgresql``, … (SQLAlchemy's dialect names).
    """

    url: str
    dialect: str

    def write(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction: committed at the end of the block, rolled back on an error."""
        ...

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """The rows of one read-only statement."""
        ...

    def write_one(self, sql: str, params: Mapping[str, Any]) -> None:
        """One statement as its own transaction (the cheapest write)."""
        ...

    def lock(self, tx: Connection, key: str) -> None:
        """Serialize writers on ``key`` until ``tx`` ends (a no-op where writers already are)."""
        ...

    def is_conflict(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a unique-constraint violation (another writer got there first)."""
        ...

    def tables(self) -> set[str]:
        """The names of the tables in the database."""
        ...

    def revision(self) -> str | None:
        """The schema revision recorded in ``alembic_version``, or ``None`` without one."""
        ...

    def close(self) -> None:
        """Release the connections (the backend is unusable afterwards)."""
        ...


class ConcernStore:
    """The base of a concern store: a backend, and the SQL helpers every concern uses.

    Args:
        backend: an open backend whose schema is at head (see :mod:`noria.store.revisions`).
    """

    _backend: Backend
    #: The URL the store was opened from, password included (another process reopens it);
    #: messages show :func:`redact` of it.
    url: str

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.url = backend.url

    @property
    def backend(self) -> Backend:
        """The backend the store runs on."""
        return self._backend

    def write(self) -> contextlib.AbstractContextManager[Connection]:
        """A write transaction: ``with store.write() as tx: tx.execute(sql, params)``."""
        return self._backend.write()

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows of a read-only query with named parameters."""
        return self._backend.read(sql, params)


def in_list(values: Sequence[Any], prefix: str = "v") -> tuple[str, dict[str, Any]]:
    """``(":v0, :v1, …", {"v0": …})``: the placeholders and parameters of an ``IN (…)`` list."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or ``None`` for another database.

    Raises:
        StoreError: a SQLite URL without a file (in-memory databases are not stores).
    """
    if not url.startswith("sqlite:"):
        return None
    path = url.removeprefix("sqlite:///")
    if path == url or path in ("", ":memory:"):
        raise StoreError(f"metadata URL '{url}': use a file, e.g. sqlite:///.noria/noria.db")
    return Path(path)


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and ``store.url``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials or "/" in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def open_backend(url: str) -> Backend:
    """The backend for a URL: ``sqlite:///…`` by ``sqlite3``, anything else by SQLAlchemy."""
    path = sqlite_path(url)
    if path is not None:
        from noria.store.sqlite_backend import SQLiteBackend

        return SQLiteBackend(path, url)
    from noria.store.sqlalchemy_backend import SQLAlchemyBackend

    return SQLAlchemyBackend(url)
