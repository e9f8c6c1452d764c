"""The shipped metadata-store suite (noria.testing.metadata) over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.store.metadata import MetadataStore
from noria.testing.metadata import MetadataStoreSuite


class TestSQLite(MetadataStoreSuite):
    @pytest.fixture
    def metadata_store(self, tmp_path: Path) -> Iterator[MetadataStore]:
        store = MetadataStore(f"sqlite:///{tmp_path / 'noria.db'}")
        yield store
        store.close()


class TestPostgres(MetadataStoreSuite):
    @pytest.fixture
    def metadata_store(self, postgres_url: str) -> Iterator[MetadataStore]:
        store = MetadataStore(postgres_url)
        yield store
        store.close()
