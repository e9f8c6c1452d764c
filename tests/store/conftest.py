"""Servers for the store tests: a real PostgreSQL and an S3-compatible server on 127.0.0.1.

Each starts once per test session, the first time a test asks for it, and is skipped with the
reason where it cannot run (PostgreSQL's programs, psycopg or moto not installed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from noria.testing.servers import (
    LocalPostgres,
    LocalS3,
    ServerUnavailable,
    local_postgres,
    local_s3,
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server of this test session."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'noria[postgres]'")
    try:
        with local_postgres() as server:
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres: LocalPostgres) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def s3() -> Iterator[LocalS3]:
    """An S3-compatible server (moto) of this test session."""
    pytest.importorskip("s3fs", reason="s3fs is not installed: pip install 'noria[s3]'")
    try:
        with local_s3() as server:
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def s3_env(s3: LocalS3, monkeypatch: pytest.MonkeyPatch) -> LocalS3:
    """The standard AWS variables pointing at the session's S3 server."""
    for key, value in s3.env().items():
        monkeypatch.setenv(key, value)
    return s3


@pytest.fixture
def bucket(s3_env: LocalS3) -> str:
    """A new, empty bucket."""
    name = f"noria-{uuid.uuid4().hex[:12]}"
    s3_env.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name
