"""The backend for every URL but SQLite's: SQLAlchemy Core (PostgreSQL through psycopg 3).

The concern stores' statements run as ``text()`` (compiled once per statement and cached) on a
pool of connections; one that sat idle is checked before use, so a connection the server
dropped (a restart) is replaced instead of failing a write, and a read that meets a dropped
connection is read again once. ``postgresql://`` and ``postgres://`` URLs are served by
psycopg 3 (``postgresql+psycopg://``), the driver of the ``postgres`` extra.

Failures a user can fix are one line naming the setting and what was tried
(:class:`~noria.errors.StoreUnavailable`, exit 2): the server cannot be reached, refuses the
credentials, has no such database, or the driver is not installed. The password is never shown.

Writers: PostgreSQL runs many at once (READ COMMITTED). Where a statement reads then writes
(the next version number of a model), :meth:`SQLAlchemyBackend.lock` takes a transaction-level
advisory lock, so two registrations of one model queue instead of colliding.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from noria.errors import StoreUnavailable
from noria.store.backend import Connection, Row, redact

__all__ = ["CONNECT_TIMEOUT_S", "SQLAlchemyBackend", "normalize_url"]

#: Seconds to wait for a database server to accept a connection.
CONNECT_TIMEOUT_S = 10


@functools.lru_cache(maxsize=1024)
def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


class _SQLAlchemyConnection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        result = self._conn.execute(_text(sql), dict(params or {}))
        return [tuple(r) for r in result.fetchall()] if result.returns_rows else []

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) == 1:  # one row: a plain execute is one round trip, a batch several
            self._conn.execute(_text(sql), dict(rows[0]))
        elif rows:
            self._conn.execute(_text(sql), [dict(r) for r in rows])


def normalize_url(url: str) -> str:
    """``url`` with psycopg 3 as the PostgreSQL driver when none is named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _where(url: str) -> str:
    """``host:port/database as user`` of a URL, for messages (never the password)."""
    from sqlalchemy.engine import make_url

    try:
        parts = make_url(url)
    except Exception:
        return redact(url)
    where = f"{parts.host or 'localhost'}:{parts.port or 5432}/{parts.database or ''}"
    return f"{where} as {parts.username}" if parts.username else where


def unavailable(exc: BaseException, url: str) -> StoreUnavailable | None:
    """One line naming ``store.metadata`` and what was tried, for a failure a user can fix."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    lower = text.lower()
    where = _where(url)
    setting = f"store.metadata ({redact(url)})"
    if "password authentication failed" in lower or "authentication failed" in lower:
        why = "the server refused the user name or password"
        fix = "fix the credentials in store.metadata (or PGPASSWORD / ~/.pgpass)"
    elif "does not exist" in lower and "database" in lower:
        why = "the server has no such database"
        fix = "create it (createdb, or CREATE DATABASE) or fix the name in store.metadata"
    elif "role" in lower and "does not exist" in lower:
        why = "the server has no such user"
        fix = "create the role or fix the user name in store.metadata"
    elif any(
        s in lower
        for s in (
            "connection refused",
            "could not connect",
            "connection failed",
            "timeout expired",
            "could not translate host",
            "failed to resolve",
            "name or service not known",
            "server closed the connection",
            "connection is closed",
            "terminating connection",
            "no route to host",
        )
    ):
        why = f"cannot reach the database server ({_first(text)})"
        fix = "check the host and port in store.metadata and that the server is running"
    else:
        return None
    return StoreUnavailable(f"{setting}: tried {where}: {why}; {fix}")


def _first(text: str) -> str:
    """The telling part of a driver's message, short."""
    for marker in ("failed: ", "error: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text[:160]


#: A pooled connection idle longer than this (seconds) is checked before use.
IDLE_PING_S = 5.0


def _ping_when_idle(engine: Any) -> None:
    """Check a pooled connection before use if it sat idle for :data:`IDLE_PING_S`.

    SQLAlchemy's ``pool_pre_ping`` checks at every checkout: a round trip per transaction, which
    halves the rate of small writes. A connection in steady use is known alive; one that sat
    idle may have been dropped (a server restart), and is replaced before anyone uses it.
    """
    import time

    from sqlalchemy import event, exc

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error  # the pool reconnects


class SQLAlchemyBackend:
    """A pool of SQLAlchemy connections to any database it reaches.

    Args:
        url: a SQLAlchemy URL (``postgresql+psycopg://user:password@host:port/database``).

    Raises:
        StoreUnavailable: the URL names a driver that is not installed.
    """

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = url
        real = normalize_url(url)
        try:
            parsed = make_url(real)
        except Exception as exc:
            raise StoreUnavailable(
                f"store.metadata ({redact(url)}): not a database URL ({exc}); use e.g. "
                "postgresql+psycopg://user:password@host:5432/noria"
            ) from None
        self.dialect = parsed.get_backend_name()
        connect_args: dict[str, Any] = {}
        if parsed.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            self._engine = create_engine(
                real, pool_size=5, max_overflow=10, connect_args=connect_args
            )
        except ImportError as exc:
            extra = "postgres" if self.dialect == "postgresql" else None
            hint = f"pip install 'noria[{extra}]'" if extra else f"install its driver ({exc})"
            raise StoreUnavailable(
                f"store.metadata ({redact(url)}): the database driver is not installed: {hint}"
            ) from None

        _ping_when_idle(self._engine)

    @contextlib.contextmanager
    def _explained(self) -> Iterator[None]:
        from sqlalchemy.exc import DBAPIError, IntegrityError

        try:
            yield
        except IntegrityError:
            raise  # callers handle their own constraints
        except DBAPIError as exc:
            problem = unavailable(exc, self.url)
            if problem is None:
                raise
            raise problem from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self._explained(), self._engine.begin() as conn:
            yield _SQLAlchemyConnection(conn)

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        from sqlalchemy.exc import DBAPIError

        for attempt in (1, 2):
            try:
                with self._explained(), self._engine.connect() as conn:
                    return _SQLAlchemyConnection(conn).execute(sql, params)
            except StoreUnavailable as exc:
                cause = exc.__cause__
                dropped = isinstance(cause, DBAPIError) and cause.connection_invalidated
                if attempt == 2 or not dropped:
                    raise
                # the server dropped a pooled connection mid-read (a restart): read again once
        raise AssertionError("unreachable")

    def write_one(self, sql: str, params: Mapping[str, Any]) -> None:
        with self.write() as tx:
            tx.execute(sql, params)

    def lock(self, tx: Connection, key: str) -> None:
        """A transaction-level advisory lock on PostgreSQL; nothing elsewhere."""
        if self.dialect == "postgresql":
            tx.execute("SELECT pg_advisory_xact_lock(hashtext(:k))", {"k": key})

    def is_conflict(self, exc: BaseException) -> bool:
        from sqlalchemy.exc import IntegrityError

        if not isinstance(exc, IntegrityError):
            return False
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return state == "23505" if state else "unique" in str(exc).lower()

    def tables(self) -> set[str]:
        from sqlalchemy import inspect

        with self._explained():
            return set(inspect(self._engine).get_table_names())

    def revision(self) -> str | None:
        if "alembic_version" not in self.tables():
            return None
        rows = self.read("SELECT version_num FROM alembic_version")
        return rows[0][0] if rows else None

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine (for Alembic)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()
