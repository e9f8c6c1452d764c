"""The artifact store contract, run against every implementation."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from noria.errors import NotFoundError, StoreError
from noria.store.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    content_hash,
    open_artifact_store,
)

IMPLEMENTATIONS = ["local", "fsspec-memory", "fsspec-file"]


@pytest.fixture(params=IMPLEMENTATIONS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "a")
    if request.param == "fsspec-memory":
        return FsspecArtifactStore(f"memory://noria-test-{uuid.uuid4().hex}")
    return FsspecArtifactStore(f"file://{tmp_path / 'b'}")


def _tamper(store: ArtifactStore, artifact_id: str) -> None:
    if isinstance(store, LocalArtifactStore):
        store.path(artifact_id).write_bytes(b"evil")
    else:
        store._fs.pipe_file(store._path(artifact_id), b"evil")


class TestContract:
    def test_round_trip_and_content_address(self, store: ArtifactStore) -> None:
        data = b"hello noria" * 100
        artifact_id = store.put(data)
        assert artifact_id == content_hash(data)
        assert store.exists(artifact_id)
        assert store.get(artifact_id) == data

    def test_put_is_idempotent(self, store: ArtifactStore) -> None:
        assert store.put(b"x") == store.put(b"x")

    def test_missing_artifact_is_not_found(self, store: ArtifactStore) -> None:
        missing = content_hash(b"never stored")
        assert not store.exists(missing)
        with pytest.raises(NotFoundError, match="missing"):
            store.get(missing)

    def test_corrupt_artifact_is_refused(self, store: ArtifactStore) -> None:
        artifact_id = store.put(b"original bytes")
        _tamper(store, artifact_id)
        with pytest.raises(StoreError, match="corrupt"):
            store.get(artifact_id)

    def test_bad_id_is_rejected(self, store: ArtifactStore) -> None:
        with pytest.raises(NotFoundError, match="not an artifact id"):
            store.get("../../etc/passwd")


def test_local_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    for i in range(20):
        store.put(f"blob {i}".encode())
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 20


def test_open_picks_implementation_by_url(tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(str(tmp_path)), LocalArtifactStore)
    assert isinstance(open_artifact_store(f"file://{tmp_path}"), LocalArtifactStore)
    assert isinstance(open_artifact_store("memory://x"), FsspecArtifactStore)
