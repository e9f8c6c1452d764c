"""The metadata store: schema by migration, records, and two writers at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from noria.errors import NotFoundError, StoreError
from noria.store.metadata import HEAD_REVISION, MetadataStore


def test_new_store_is_migrated_to_head_and_matches_the_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from noria.store.schema import metadata as schema

    url = f"sqlite:///{tmp_path / 'm.db'}"
    MetadataStore(url).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
            HEAD_REVISION
        )
        diff = compare_metadata(MigrationContext.configure(conn), schema)
    engine.dispose()
    assert diff == [], f"the migrations and noria/store/schema.py disagree: {diff}"


def test_wal_mode(metadata: MetadataStore, tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "noria.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    MetadataStore(url).close()
    conn = sqlite3.connect(tmp_path / "m.db")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this noria"):
        MetadataStore(url)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable noria metadata database"):
        MetadataStore(f"sqlite:///{bad}")


def test_run_lookup_by_prefix_and_unknown(metadata: MetadataStore) -> None:
    metadata.create_run("abcdef0123456789abcdef0123456789", name="r", kind="manual")
    assert metadata.get_run("abcdef01").name == "r"
    with pytest.raises(NotFoundError, match="noria runs"):
        metadata.get_run("ffffffff")


def test_abandoned_run_is_marked_interrupted(metadata: MetadataStore) -> None:
    metadata.create_run("deadbeef" * 4, name="r", kind="manual")
    with metadata.write() as tx:  # a pid that cannot exist: the process is gone
        tx.execute("UPDATE runs SET pid = 2147483647")
    assert metadata.mark_abandoned_runs() == 1
    assert metadata.get_run("deadbeef").status == "interrupted"


_WRITER = """
import sys
from noria import tracking
from noria.store.metadata import MetadataStore
url, name = sys.argv[1], sys.argv[2]
store = MetadataStore(url)
for i in range(15):
    with tracking.start_run(store, name=f"{name}-{i}") as run:
        for j in range(200):
            tracking.log_metric("m", j, step=j)
            if j % 50 == 0:
                run.flush()  # many small transactions, interleaved with the other writer
store.close()
"""


def test_two_processes_write_at_once_without_loss(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    MetadataStore(url).close()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, url, f"w{k}"]) for k in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    conn = sqlite3.connect(tmp_path / "shared.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'completed'").fetchone()[0] == 30
    assert conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == 2 * 15 * 200
    conn.close()


def test_fast_sqlite_creation_equals_alembic_migration(tmp_path: Path) -> None:
    """New SQLite stores skip Alembic; their schema must be exactly what Alembic makes."""
    from noria.store.metadata import SQLITE_HEAD, alembic_sqlite_ddl

    expected = alembic_sqlite_ddl(tmp_path / "alembic.db")
    shipped = [s for s in SQLITE_HEAD.read_text().split(";\n") if s.strip()]
    assert shipped == expected, "regenerate it: see SQLITE_HEAD in noria/store/metadata.py"


def test_a_store_of_the_first_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from noria.store import metadata as module

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(Path(module.__file__).with_name("migrations")))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0001")  # a project made before monitoring existed
    store = MetadataStore(url)
    assert store.read("SELECT version_num FROM alembic_version") == [(module.HEAD_REVISION,)]
    assert store.read("SELECT count(*) FROM monitor_windows") == [(0,)]
    store.close()
