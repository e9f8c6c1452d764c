"""PostgreSQL as the metadata store: migrations, the open policy, and wrong settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import StoreError, StoreUnavailable
from noria.store.backend import open_backend
from noria.store.metadata import HEAD_REVISION, MetadataStore
from noria.store.revisions import REVISIONS, upgrade
from noria.testing.servers import LocalPostgres, free_port

from ..conftest import cli


def test_migrations_on_an_empty_database_match_the_schema(postgres_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from noria.store.schema import metadata as schema

    MetadataStore(postgres_url).close()
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema)
        types = dict(
            conn.exec_driver_sql(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name IN ('size', 'mtime_ns', 'step')"
            ).all()
        )
    engine.dispose()
    assert diff == [], f"the migrations and noria/store/schema.py disagree on PostgreSQL: {diff}"
    wide = ("artifacts.size", "file_hashes.size", "file_hashes.mtime_ns", "metrics.step")
    assert {types[c] for c in wide} == {"bigint"}, types


def test_a_database_at_the_first_revision_is_upgraded_only_when_asked(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = open_backend(postgres_url)
    upgrade(backend, REVISIONS[0])  # a team database made by the first noria
    backend.close()
    with pytest.raises(StoreUnavailable, match="noria store upgrade") as info:
        MetadataStore(postgres_url)
    assert "noria-test-password" not in str(info.value)
    code, out, err = cli(capsys, "store", "upgrade", "--url", postgres_url)
    assert code == 0, err
    assert f"schema {REVISIONS[0]} -> {HEAD_REVISION}" in out and "***" in out
    store = MetadataStore(postgres_url)
    assert store.windows("any") == []  # the monitor tables of 0002 are there
    store.close()
    code, out, _ = cli(capsys, "store", "status", "--url", postgres_url)
    assert code == 0 and "up to date" in out and "postgresql" in out


def test_a_foreign_database_is_refused(postgres: LocalPostgres, postgres_url: str) -> None:
    import psycopg

    dsn = postgres_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int)")
    with pytest.raises(StoreUnavailable, match=r"tables that are not noria's.*customers"):
        MetadataStore(postgres_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32))")
        conn.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    with pytest.raises(StoreUnavailable, match="not noria's"):
        MetadataStore(postgres_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer than this noria"):
        MetadataStore(postgres_url)


def test_many_processes_opening_a_new_database_at_once(postgres_url: str) -> None:
    """The first `noria run`s of a team, at once: one creates the schema, the others wait."""
    import subprocess
    import sys

    code = "import sys; from noria.store.metadata import MetadataStore; MetadataStore(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, postgres_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors


def test_a_database_restart_between_writes_is_survived(
    postgres: LocalPostgres, postgres_url: str
) -> None:
    """The pool's connections die with the server; the next read and write reconnect."""
    store = MetadataStore(postgres_url)
    store.create_run("before", name="a", kind="manual")
    postgres.restart()
    assert store.get_run("before").name == "a"
    store.create_run("after", name="b", kind="manual")
    assert {r.id for r in store.list_runs()} == {"before", "after"}
    store.close()


# --------------------------------------------------------------------------- wrong settings


def _project(tmp_path: Path, metadata_url: str) -> Path:
    (tmp_path / "noria.yaml").write_text(
        f"name: p\ndata: {{source: d.csv}}\ntarget: y\nstore:\n  metadata: {metadata_url}\n"
    )
    (tmp_path / "d.csv").write_text("x,y\n1,0\n2,1\n")
    return tmp_path


@pytest.mark.parametrize("problem", ["unreachable", "password", "database"])
def test_wrong_metadata_settings_exit_2_in_one_line(
    postgres: LocalPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    if problem == "unreachable":
        url = f"postgresql+psycopg://noria:pw@127.0.0.1:{free_port()}/noria"
        expected = "cannot reach the database server"
    elif problem == "password":
        url = postgres.url(password="wrong-password")
        expected = "refused the user name or password"
    else:
        url = postgres.url("no_such_database")
        expected = "no such database"
    root = _project(tmp_path, url)
    code, _, err = cli(capsys, "run", "--path", str(root))
    assert code == 2, err
    line = err.strip()
    assert "\n" not in line and "store.metadata" in line and expected in line, line
    assert f"127.0.0.1:{url.split(':')[3].split('/')[0]}" in line  # what was tried
    assert "wrong-password" not in line and postgres.password not in line
    assert not (root / ".noria").exists()  # nothing started


def test_a_plain_postgresql_url_uses_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    store = MetadataStore(plain)
    assert store.backend.dialect == "postgresql" and store.url == plain
    store.close()


def test_passwords_never_reach_messages() -> None:
    from noria.store.backend import redact

    assert redact("postgresql+psycopg://u:s3cr3t@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("sqlite:///a/b.db") == "sqlite:///a/b.db"
