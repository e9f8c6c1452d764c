"""Artifacts in an S3-compatible object store (``store.artifacts: s3://bucket/prefix``).

Where and who: the endpoint and the credentials come from the standard AWS variables and files
(``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3`` for a server other than AWS's, such as MinIO or
Ceph; ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` or ``AWS_PROFILE``; ``AWS_DEFAULT_REGION``),
as every AWS tool reads them. Opening the store checks them with one request, so a wrong endpoint,
refused credentials or a missing bucket is one line naming ``store.artifacts`` and what was
tried (:class:`~noria.errors.StoreUnavailable`, exit 2) before any work starts.

Content-addressed: an artifact is the object ``prefix/ab/cdef…`` named by the XXH3-128 of its
bytes, so a put is idempotent and two writers of one artifact write the same bytes.

No partial object: an object appears in S3 only when its upload completes. A small artifact is
one ``PutObject``, atomic by S3's semantics; one of at least twice :data:`PART_SIZE` goes up in
parts (multipart upload, parts in parallel) and appears only at ``CompleteMultipartUpload``; an
upload that fails is aborted (its parts deleted). So there is no temporary key and no copy: a
copy of a large object would cost a second upload's time and, with it, a second chance to fail.

Retries: botocore retries each request (``standard`` mode: exponential backoff with jitter, on
5xx answers, throttling and dropped connections), and a put or a get that still fails is retried
whole (:data:`ATTEMPTS` times, with backoff): both are safe to repeat, a put because its key is its
content. A load hashes the bytes and refuses a mismatch before anything is unpickled.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from noria.errors import NotFoundError, StoreError, StoreUnavailable
from noria.store.artifacts import check_bytes, content_hash, relative_key

__all__ = ["ATTEMPTS", "PART_SIZE", "S3ArtifactStore"]

#: Size of one part of a multipart upload (S3's minimum is 5 MiB); artifacts of at least twice
#: this size go up in parts.
PART_SIZE = 16 * 2**20

#: How many times a put or a get is tried in all, on a failure that may pass.
ATTEMPTS = 4

T = TypeVar("T")

#: botocore's errors of a server that may answer again (a restart): retried, then reported.
_TRANSIENT = ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError")


def _endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "AWS's S3"


class S3ArtifactStore:
    """Artifacts under ``s3://bucket/prefix`` through s3fs.

    Args:
        url: ``s3://bucket`` or ``s3://bucket/prefix``.
        part_size: bytes per part of a multipart upload.
        attempts: tries of a put or a get in all.
        check: check the endpoint, credentials and bucket now (one request).
        **options: more options for ``s3fs.S3FileSystem`` (``endpoint_url``, ``key``, …).

    Raises:
        StoreUnavailable: s3fs is not installed, or the check failed (see the module docstring).
    """

    def __init__(
        self,
        url: str,
        *,
        part_size: int = PART_SIZE,
        attempts: int = ATTEMPTS,
        check: bool = True,
        **options: Any,
    ) -> None:
        try:
            import s3fs
        except ImportError:
            raise StoreUnavailable(
                f"store.artifacts ({url}): S3 needs s3fs, which is not installed: "
                "pip install 'noria[s3]'"
            ) from None
        self.url = url.rstrip("/")
        self._root = self.url.removeprefix("s3://")
        self.bucket, _, self.prefix = self._root.partition("/")
        if not self.bucket:
            raise StoreUnavailable(f"store.artifacts ({url}): name a bucket: s3://bucket/prefix")
        self.part_size = max(int(part_size), 5 * 2**20)
        self.attempts = max(1, attempts)
        config = {
            "connect_timeout": 5,
            "read_timeout": 60,
            "retries": {"max_attempts": 4, "mode": "standard"},
            **options.pop("config_kwargs", {}),
        }
        self._fs = s3fs.S3FileSystem(skip_instance_cache=True, config_kwargs=config, **options)
        # the check at open fails fast: a wrong endpoint is not worth a minute of retries
        quick = {**config, "connect_timeout": 3, "retries": {"max_attempts": 2, "mode": "standard"}}
        self._check_fs = s3fs.S3FileSystem(skip_instance_cache=True, config_kwargs=quick, **options)
        if check:
            self.check()

    # ----------------------------------------------------------------- errors

    def _unavailable(self, exc: BaseException) -> StoreUnavailable | None:
        """One line naming ``store.artifacts`` and what was tried, for a failure a user fixes."""
        name = type(exc).__name__
        text = " ".join(str(exc).split())[:200]
        tried = f"store.artifacts ({self.url}): tried {_endpoint()}"
        if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
            return StoreUnavailable(
                f"{tried}: cannot reach the S3 endpoint ({text}); check AWS_ENDPOINT_URL (or "
                "AWS_ENDPOINT_URL_S3) and that the server is running"
            )
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return StoreUnavailable(
                f"{tried}: no S3 credentials found; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
            )
        if isinstance(exc, PermissionError):
            return StoreUnavailable(
                f"{tried}: the server refused the credentials or the access to bucket "
                f"'{self.bucket}' ({text}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
                "and the key's permissions"
            )
        if isinstance(exc, FileNotFoundError) and "bucket" in text.lower():
            return StoreUnavailable(
                f"{tried}: the bucket '{self.bucket}' does not exist; create it "
                f"(aws s3 mb s3://{self.bucket}) or fix store.artifacts"
            )
        return None

    def check(self) -> None:
        """One request that proves the endpoint, the credentials and the bucket.

        Raises:
            StoreUnavailable: any of them is wrong.
        """
        try:
            self._check_fs.call_s3(
                "list_objects_v2", Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1
            )
        except Exception as exc:
            problem = self._unavailable(exc)
            if problem is None:
                raise StoreUnavailable(f"store.artifacts ({self.url}): {exc}") from exc
            raise problem from None

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        """``action()``, tried again with backoff on a failure that may pass.

        Refused credentials and a missing bucket do not pass: they raise at once.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except (FileNotFoundError, NotFoundError, StoreError):
                raise
            except Exception as exc:
                problem = self._unavailable(exc)
                if problem is not None and type(exc).__name__ not in _TRANSIENT:
                    raise problem from exc
                if attempt == self.attempts:
                    raise problem or StoreError(
                        f"store.artifacts ({self.url}): {what} failed after {attempt} tries "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); nothing "
                        "partial was kept; retry when the server answers"
                    ) from exc
                time.sleep(min(0.2 * 2**attempt, 5.0) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------- the contract

    def key(self, artifact_id: str) -> str:
        """The object's path (``bucket/prefix/ab/cdef…``) of an artifact."""
        return f"{self._root}/{relative_key(artifact_id)}"

    def put(self, data: bytes) -> str:
        artifact_id = content_hash(data)
        key = self.key(artifact_id)
        existing = self._size(key)
        if existing == len(data):
            try:
                self.get(artifact_id)
                return artifact_id  # there already, and whole
            except StoreError:
                pass  # a damaged copy: replace it
        chunk = self.part_size
        self._retrying(
            f"uploading artifact {artifact_id}",
            lambda: self._fs.pipe_file(key, bytes(data), chunksize=chunk),
        )
        return artifact_id

    def _size(self, key: str) -> int | None:
        def info() -> int | None:
            try:
                return int(self._fs.info(key, refresh=True)["size"])
            except FileNotFoundError:
                return None

        return self._retrying("looking up an artifact", info)

    def get(self, artifact_id: str) -> bytes:
        key = self.key(artifact_id)

        def fetch() -> bytes:
            try:
                return bytes(self._fs.cat_file(key))
            except FileNotFoundError:
                raise NotFoundError(
                    f"artifact {artifact_id} is missing from {self.url}: rerun the step that "
                    "made it"
                ) from None

        data = self._retrying(f"downloading artifact {artifact_id}", fetch)
        return check_bytes(artifact_id, data, f"s3://{key}")

    def exists(self, artifact_id: str) -> bool:
        return self._size(self.key(artifact_id)) is not None
