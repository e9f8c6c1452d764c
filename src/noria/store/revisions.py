"""Schema revisions of the metadata database: what is at head, and when a store is migrated.

The schema is :mod:`noria.store.schema`; its history is Alembic's migrations in
``noria/store/migrations/versions/`` (``NNNN_name.py``, revision ``NNNN``). :data:`HEAD_REVISION`
is the newest of them, read from the folder, so adding a migration is adding a file.

When a store is migrated (:func:`prepare`, called when a store is opened):

- **SQLite** (the project's own file): a new, empty file is created at head from
  :data:`SQLITE_HEAD` in milliseconds, without importing SQLAlchemy or Alembic; a file at an older
  revision is upgraded in place by Alembic, with one line on stderr saying so.
- **Any other database** (PostgreSQL, shared by a team): an empty database (no table at all) gets
  noria's tables, with one line on stderr naming it. A database at an older revision is *not*
  upgraded behind the team's back: opening it fails with one line asking for
  ``noria store upgrade`` (run it once, with every noria that uses the database at this version).
  A database that holds other tables but no noria schema, or another application's Alembic
  revision, is refused: noria does not add its tables to a foreign database unless told to by
  ``noria store upgrade``.
- A store at a revision newer than this noria's is refused everywhere (upgrade noria).

Several processes opening a new database at once are safe: the creation runs under SQLite's
write lock, or under a PostgreSQL advisory lock, and re-checks the revision once it holds it.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

from noria.errors import StoreError, StoreUnavailable
from noria.store.backend import Backend, redact

__all__ = [
    "HEAD_REVISION",
    "REVISIONS",
    "SQLITE_HEAD",
    "alembic_sqlite_ddl",
    "dump_sqlite_ddl",
    "prepare",
    "upgrade",
]

MIGRATIONS = Path(__file__).with_name("migrations")

#: Every revision of noria's schema, oldest first (the ``NNNN`` of ``versions/NNNN_*.py``).
REVISIONS: tuple[str, ...] = tuple(
    sorted(
        m.group(1)
        for p in (MIGRATIONS / "versions").glob("*.py")
        if (m := re.fullmatch(r"(\d{4})_\w+\.py", p.name))
    )
)

#: The Alembic revision this version of noria writes and reads.
HEAD_REVISION = REVISIONS[-1]

#: The schema at :data:`HEAD_REVISION` as SQLite DDL, dumped from a database Alembic created
#: (``tests/store`` checks that it still is; regenerate it with
#: ``python -c "from noria.store.revisions import dump_sqlite_ddl; dump_sqlite_ddl()"``).
SQLITE_HEAD = MIGRATIONS / "sqlite_head.sql"

#: The lock key under which a server database is created or upgraded.
MIGRATION_LOCK = "noria:migrate"

log = logging.getLogger("noria.store")


def _config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(backend: Backend, revision: str = "head") -> None:
    """Create or upgrade ``backend``'s schema to ``revision`` with Alembic (one transaction on a
    server database, under an advisory lock)."""
    from alembic import command

    engine = getattr(backend, "engine", None)
    if engine is None:  # SQLite: Alembic opens the file itself
        command.upgrade(_config(backend.url), revision)
        return
    from sqlalchemy import text

    with engine.begin() as conn:
        if backend.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": MIGRATION_LOCK})
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _newer(revision: str) -> bool:
    return revision.isdigit() and len(revision) == 4 and revision > HEAD_REVISION


def prepare(backend: Backend, *, allow_upgrade: bool = False) -> str | None:
    """Bring a just-opened store to :data:`HEAD_REVISION` where the policy allows (see above).

    Args:
        backend: the open backend.
        allow_upgrade: also upgrade a server database (``noria store upgrade``).

    Returns:
        The revision the store was at before (``None``: it was new), or the head if it was there.

    Raises:
        StoreError: the store is newer than this noria.
        StoreUnavailable: a server database is behind, or holds someone else's tables.
    """
    where = redact(backend.url)
    revision = backend.revision()
    if revision == HEAD_REVISION:
        return revision
    if revision is not None and revision not in REVISIONS:
        if _newer(revision):
            raise StoreError(
                f"metadata store {where} is at schema revision {revision}, newer than this "
                f"noria's {HEAD_REVISION}: upgrade noria (pip install -U noria)"
            )
        raise StoreUnavailable(
            f"store.metadata ({where}): its alembic_version table holds revision '{revision}', "
            "which is not noria's (another application's database?); give noria a database of "
            "its own (CREATE DATABASE noria)"
        )
    if backend.dialect == "sqlite":
        _prepare_sqlite(backend, revision)
        return revision
    tables = backend.tables()
    if revision is None and not tables:
        log.warning(
            "noria: creating noria's tables (schema %s) in the empty database %s",
            HEAD_REVISION,
            where,
        )
    elif not allow_upgrade:
        if revision is None:
            raise StoreUnavailable(
                f"store.metadata ({where}): the database holds tables that are not noria's "
                f"({', '.join(sorted(tables)[:5])}…); give noria a database of its own "
                "(CREATE DATABASE noria), or add noria's tables to this one with "
                "`noria store upgrade`"
            )
        raise StoreUnavailable(
            f"store.metadata ({where}): the database is at noria schema revision {revision}, "
            f"this noria needs {HEAD_REVISION}; back it up and run `noria store upgrade` once "
            "(every noria that uses it must then be this version)"
        )
    else:
        log.warning(
            "noria: upgrading %s from schema %s to %s", where, revision or "none", HEAD_REVISION
        )
    upgrade(backend)
    return revision


def _prepare_sqlite(backend: Backend, revision: str | None) -> None:
    if revision is None and not backend.tables():
        create = getattr(backend, "create_at_head", None)
        if create is not None:
            create(SQLITE_HEAD.read_text())
            return
    log.warning(
        "noria: upgrading the metadata store %s from schema %s to %s (once)",
        redact(backend.url),
        revision or "none",
        HEAD_REVISION,
    )
    upgrade(backend)


def alembic_sqlite_ddl(path: Path) -> list[str]:
    """The DDL of a new SQLite database at ``path`` migrated by Alembic, in creation order."""
    from alembic import command

    command.upgrade(_config(f"sqlite:///{path}"), "head")
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
