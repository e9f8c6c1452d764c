"""The artifact store: immutable, content-addressed blobs.

An artifact is stored under the xxHash (XXH3, 128 bits) of its bytes, as ``ab/cdef…`` below the
store's root. A write goes to a temporary name and is renamed into place, so a reader never sees
half a file; a write that fails (a full disk) removes its temporary file, and a local store
removes temporary files that a killed process left (``.incoming/`` under the root, older than
:data:`STALE_SECONDS`) when it is opened. A load hashes the bytes again and refuses them on a
mismatch, so a corrupt or tampered file is never unpickled. A put of bytes whose file exists
checks that file (size, then hash) and replaces it when it does not match, so re-making an
artifact (``noria run --fresh``) repairs a damaged copy instead of trusting it. The store knows
bytes only: turning objects into bytes is the job of :mod:`noria.pipeline.materializers`.

Three implementations pass the same contract (:mod:`noria.testing.artifact_store`, run over
each in ``tests/store``): :class:`LocalArtifactStore` for a folder (the default
``.noria/artifacts``; plain ``os`` calls, the fast path),
:class:`~noria.store.s3_artifacts.S3ArtifactStore` for ``s3://bucket/prefix`` (multipart,
retries, credentials checked at open) and :class:`FsspecArtifactStore` for any other fsspec URL
(``memory://``, ``gs://``, …). :func:`open_artifact_store` picks by URL.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

import xxhash

from noria.errors import NotFoundError, StoreError, StoreUnavailable

__all__ = [
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "check_bytes",
    "content_hash",
    "open_artifact_store",
    "relative_key",
]

#: A temporary file older than this (seconds) was left by a killed writer and is removed.
STALE_SECONDS = 3600.0

#: Where a local store writes before renaming into place (below its root).
TMP_FOLDER = ".incoming"


def content_hash(data: bytes | memoryview) -> str:
    """The artifact id of ``data``: 32 hex digits of XXH3-128."""
    return xxhash.xxh3_128_hexdigest(data)


@runtime_checkable
class ArtifactStore(Protocol):
    """Where artifacts' bytes live. Ids are :func:`content_hash` of the bytes."""

    url: str

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its id (a file already there is kept only if it matches)."""
        ...

    def get(self, artifact_id: str) -> bytes:
        """The bytes of an artifact, after checking their hash.

        Raises:
            NotFoundError: no such artifact.
            StoreError: the stored bytes do not match their id.
        """
        ...

    def exists(self, artifact_id: str) -> bool:
        """Whether the artifact is stored."""
        ...


def check_bytes(artifact_id: str, data: bytes, where: str) -> bytes:
    """``data`` if its hash is ``artifact_id``.

    Raises:
        StoreError: it is not (a corrupt or tampered artifact; nothing is unpickled).
    """
    if content_hash(data) != artifact_id:
        raise StoreError(
            f"artifact {artifact_id} at {where} is corrupt (its hash does not match); delete the "
            "file and rerun the step that made it (`noria run` re-creates it)"
        )
    return data


def relative_key(artifact_id: str) -> str:
    """``ab/cdef…``: where an artifact lives below a store's root.

    Raises:
        NotFoundError: ``artifact_id`` is not 32 hex digits (no path can be smuggled in).
    """
    if len(artifact_id) != 32 or not all(c in "0123456789abcdef" for c in artifact_id):
        raise NotFoundError(f"'{artifact_id}' is not an artifact id (32 hex digits)")
    return f"{artifact_id[:2]}/{artifact_id[2:]}"


def _write_failed(exc: OSError, where: str) -> StoreError:
    """The error of a failed artifact write: a full disk is the user's to fix."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreUnavailable(
            f"{where}: the disk is full ({exc.strerror}); free space there and rerun "
            "(nothing half-written was kept)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreUnavailable(
            f"{where}: cannot write there ({exc.strerror}); fix the folder's permissions or "
            "point store.artifacts in noria.yaml elsewhere"
        )
    return StoreError(f"{where}: cannot write the artifact ({exc})")


class LocalArtifactStore:
    """Artifacts in a local folder, written in ``.incoming/`` and moved into place."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        self._made: set[str] = set()
        self._tmp = self.root / TMP_FOLDER
        self._clean_stale()

    def _clean_stale(self) -> None:
        """Remove temporary files that a killed writer left (older than :data:`STALE_SECONDS`)."""
        try:
            entries = list(os.scandir(self._tmp))
        except OSError:
            return
        limit = time.time() - STALE_SECONDS
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.endswith(".tmp") and entry.stat().st_mtime < limit:
                    os.unlink(entry.path)

    def path(self, artifact_id: str) -> Path:
        """Where an artifact's file is (whether or not it exists)."""
        return self.root / relative_key(artifact_id)

    def put(self, data: bytes) -> str:
        artifact_id = content_hash(data)
        target = self.path(artifact_id)
        try:
            size = target.stat().st_size
        except FileNotFoundError:
            size = -1
        if size == len(data) and content_hash(target.read_bytes()) == artifact_id:
            return artifact_id  # there already, and whole
        folder = artifact_id[:2]
        tmp = self._tmp / f"{artifact_id}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            if folder not in self._made:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._tmp.mkdir(exist_ok=True)
                self._made.add(folder)
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)  # over a damaged copy too
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise _write_failed(exc, str(target)) from exc
        return artifact_id

    def get(self, artifact_id: str) -> bytes:
        target = self.path(artifact_id)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(
                f"artifact {artifact_id} is missing from {self.root}: rerun the step that made it"
            ) from None
        return check_bytes(artifact_id, data, str(target))

    def exists(self, artifact_id: str) -> bool:
        return self.path(artifact_id).exists()


class FsspecArtifactStore:
    """Artifacts under any fsspec URL; atomic where the filesystem's rename is (S3 puts are)."""

    def __init__(self, url: str) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(self.url)

    def _path(self, artifact_id: str) -> str:
        return f"{self._root}/{relative_key(artifact_id)}"

    def put(self, data: bytes) -> str:
        artifact_id = content_hash(data)
        target = self._path(artifact_id)
        if self._fs.exists(target) and self._fs.size(target) == len(data):
            try:
                if content_hash(self._fs.cat_file(target)) == artifact_id:
                    return artifact_id  # there already, and whole
            except FileNotFoundError:
                pass
        self._fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{target}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            self._fs.pipe_file(tmp, data)
            self._fs.mv(tmp, target)
        except OSError as exc:
            with contextlib.suppress(Exception):
                self._fs.rm_file(tmp)
            raise _write_failed(exc, target) from exc
        return artifact_id

    def get(self, artifact_id: str) -> bytes:
        target = self._path(artifact_id)
        try:
            data = self._fs.cat_file(target)
        except FileNotFoundError:
            raise NotFoundError(
                f"artifact {artifact_id} is missing from {self.url}: rerun the step that made it"
            ) from None
        return check_bytes(artifact_id, data, target)

    def exists(self, artifact_id: str) -> bool:
        return bool(self._fs.exists(self._path(artifact_id)))


def open_artifact_store(url: str) -> ArtifactStore:
    """A local store for a path or ``file://`` URL, an S3 store for ``s3://``, an fsspec store
    for any other URL.

    Raises:
        StoreUnavailable: an S3 store whose endpoint, credentials or bucket are wrong.
    """
    if "://" not in url:
        return LocalArtifactStore(url)
    if url.startswith("file://"):
        return LocalArtifactStore(url.removeprefix("file://"))
    if url.startswith(("s3://", "s3a://")):
        from noria.store.s3_artifacts import S3ArtifactStore

        return S3ArtifactStore("s3://" + url.split("://", 1)[1])
    return FsspecArtifactStore(url)
