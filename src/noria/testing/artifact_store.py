"""The artifact-store contract (:class:`noria.store.artifacts.ArtifactStore`) as a pytest suite.

Subclass :class:`ArtifactStoreSuite` and provide the ``artifact_store`` fixture (a new, empty
store); override :meth:`ArtifactStoreSuite.corrupt` to also run the checks that need a damaged
artifact (they are skipped otherwise). Every check is also a plain function ``check_*(store)``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from noria.errors import NotFoundError, StoreError
from noria.store.artifacts import ArtifactStore, content_hash

__all__ = ["ArtifactStoreSuite"]

Corrupt = Callable[[ArtifactStore, str, bytes], None]


def check_round_trip_and_content_address(store: ArtifactStore) -> None:
    """A put returns the content hash; the bytes come back; the store says it has them."""
    data = b"hello noria" * 100
    artifact_id = store.put(data)
    assert artifact_id == content_hash(data)
    assert store.exists(artifact_id)
    assert store.get(artifact_id) == data


def check_put_is_idempotent(store: ArtifactStore) -> None:
    """Putting the same bytes twice gives the same id and the same bytes."""
    assert store.put(b"x") == store.put(b"x")
    assert store.get(content_hash(b"x")) == b"x"


def check_empty_artifact(store: ArtifactStore) -> None:
    """Zero bytes are an artifact too."""
    assert store.get(store.put(b"")) == b""


def check_large_artifact(store: ArtifactStore, size: int) -> None:
    """An artifact of ``size`` random bytes (large enough for a multipart upload) round-trips."""
    data = os.urandom(size)
    artifact_id = store.put(data)
    assert store.get(artifact_id) == data


def check_missing_is_not_found(store: ArtifactStore) -> None:
    """An id never stored does not exist, and loading it says it is missing."""
    missing = content_hash(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(NotFoundError, match="missing"):
        store.get(missing)


def check_bad_id_is_rejected(store: ArtifactStore) -> None:
    """An id that is not 32 hex digits never becomes a path."""
    with pytest.raises(NotFoundError, match="not an artifact id"):
        store.get("../../etc/passwd")


def check_corrupt_is_refused(store: ArtifactStore, corrupt: Corrupt) -> None:
    """Bytes that do not match their id are refused on load (so never unpickled)."""
    artifact_id = store.put(b"original bytes")
    corrupt(store, artifact_id, b"evil")
    with pytest.raises(StoreError, match="corrupt"):
        store.get(artifact_id)


def check_put_repairs_a_damaged_copy(store: ArtifactStore, corrupt: Corrupt) -> None:
    """A put of bytes whose stored copy is damaged (same size) replaces the copy."""
    data = os.urandom(10_000)
    artifact_id = store.put(data)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    corrupt(store, artifact_id, bytes(flipped))
    with pytest.raises(StoreError, match="corrupt"):
        store.get(artifact_id)
    assert store.put(data) == artifact_id
    assert store.get(artifact_id) == data


def check_concurrent_puts(store: ArtifactStore, writers: int = 4) -> None:
    """Writers putting the same and different bytes at once all succeed; every artifact whole."""
    shared = os.urandom(50_000)
    errors: list[BaseException] = []
    ids: list[str] = []

    def write(i: int) -> None:
        try:
            ids.append(store.put(shared))
            ids.append(store.put(f"own {i}".encode() * 1000))
        except BaseException as exc:  # collected, then raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert store.get(content_hash(shared)) == shared
    assert len(set(ids)) == writers + 1


class ArtifactStoreSuite:
    """The artifact-store contract. Subclass it (as ``Test…``) and provide ``artifact_store``.

    Attributes:
        large_size: bytes of the large-artifact check (set it above your multipart threshold).
    """

    large_size = 6 * 2**20

    def corrupt(self, store: ArtifactStore, artifact_id: str, data: bytes) -> None:
        """Overwrite the stored bytes of ``artifact_id`` with ``data`` behind the store's back.

        Override it to run the checks of damaged artifacts; they are skipped otherwise.
        """
        pytest.skip("override corrupt() to check how the store handles damaged artifacts")

    def test_round_trip_and_content_address(self, artifact_store: ArtifactStore) -> None:
        check_round_trip_and_content_address(artifact_store)

    def test_put_is_idempotent(self, artifact_store: ArtifactStore) -> None:
        check_put_is_idempotent(artifact_store)

    def test_empty_artifact(self, artifact_store: ArtifactStore) -> None:
        check_empty_artifact(artifact_store)

    def test_large_artifact(self, artifact_store: ArtifactStore) -> None:
        check_large_artifact(artifact_store, self.large_size)

    def test_missing_is_not_found(self, artifact_store: ArtifactStore) -> None:
        check_missing_is_not_found(artifact_store)

    def test_bad_id_is_rejected(self, artifact_store: ArtifactStore) -> None:
        check_bad_id_is_rejected(artifact_store)

    def test_corrupt_is_refused(self, artifact_store: ArtifactStore) -> None:
        check_corrupt_is_refused(artifact_store, self.corrupt)

    def test_put_repairs_a_damaged_copy(self, artifact_store: ArtifactStore) -> None:
        check_put_repairs_a_damaged_copy(artifact_store, self.corrupt)

    def test_concurrent_puts(self, artifact_store: ArtifactStore) -> None:
        check_concurrent_puts(artifact_store)
