"""The shipped artifact-store suite (noria.testing.artifact_store) over every implementation."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from noria.store.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
    relative_key,
)
from noria.testing.artifact_store import ArtifactStoreSuite
from noria.testing.servers import LocalS3


class TestLocal(ArtifactStoreSuite):
    @pytest.fixture
    def artifact_store(self, tmp_path: Path) -> LocalArtifactStore:
        return LocalArtifactStore(tmp_path / "a")

    def corrupt(self, store: ArtifactStore, artifact_id: str, data: bytes) -> None:
        assert isinstance(store, LocalArtifactStore)
        store.path(artifact_id).write_bytes(data)


class TestFsspecMemory(ArtifactStoreSuite):
    large_size = 2**20

    @pytest.fixture
    def artifact_store(self) -> FsspecArtifactStore:
        return FsspecArtifactStore(f"memory://noria-test-{uuid.uuid4().hex}")

    def corrupt(self, store: ArtifactStore, artifact_id: str, data: bytes) -> None:
        root = store.url.removeprefix("memory://")
        fsspec.filesystem("memory").pipe_file(f"{root}/{relative_key(artifact_id)}", data)


class TestFsspecFile(ArtifactStoreSuite):
    large_size = 2**20

    @pytest.fixture
    def artifact_store(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore(f"file://{tmp_path / 'b'}")

    def corrupt(self, store: ArtifactStore, artifact_id: str, data: bytes) -> None:
        (Path(store.url.removeprefix("file://")) / relative_key(artifact_id)).write_bytes(data)


class TestS3(ArtifactStoreSuite):
    """On a real S3-compatible server; large artifacts go up in 5 MiB parts."""

    large_size = 11 * 2**20

    @pytest.fixture
    def artifact_store(self, bucket: str) -> ArtifactStore:
        from noria.store.s3_artifacts import S3ArtifactStore

        return S3ArtifactStore(f"s3://{bucket}/team/artifacts", part_size=5 * 2**20)

    def corrupt(self, store: ArtifactStore, artifact_id: str, data: bytes) -> None:
        bucket, _, key = store.key(artifact_id).partition("/")  # type: ignore[attr-defined]
        self.server.client().put_object(Bucket=bucket, Key=key, Body=data)  # type: ignore[attr-defined]

    @pytest.fixture(autouse=True)
    def _server(self, s3_env: LocalS3) -> None:
        self.server = s3_env


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


def test_open_picks_s3_for_s3_urls(bucket: str) -> None:
    from noria.store.s3_artifacts import S3ArtifactStore

    store = open_artifact_store(f"s3://{bucket}/p")
    assert isinstance(store, S3ArtifactStore) and store.prefix == "p"
