"""The S3 artifact store against a server at fault, and against wrong settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from noria.errors import StoreError, StoreUnavailable
from noria.store.artifacts import content_hash
from noria.store.metadata import MetadataStore
from noria.testing.servers import LocalS3, free_port

from ..conftest import cli
from .s3proxy import FlakyProxy

pytest.importorskip("s3fs")

PART = 5 * 2**20


def _store(url: str, endpoint: str, **options: object):
    from noria.store.s3_artifacts import S3ArtifactStore

    return S3ArtifactStore(url, endpoint_url=endpoint, part_size=PART, **options)


def _uploads(s3: LocalS3, bucket: str) -> list[object]:
    return s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])  # type: ignore[attr-defined]


def test_every_third_request_failing_is_retried(s3_env: LocalS3, bucket: str) -> None:
    """503s, 500s and dropped connections on every third request: every put and get works."""
    kinds = ["503", "500", "drop"]

    def rule(method: str, path: str, n: int) -> str | None:
        return kinds[(n // 3) % 3] if n % 3 == 2 else None

    with FlakyProxy(s3_env.endpoint, rule) as proxy:
        store = _store(f"s3://{bucket}/p", proxy.endpoint)
        small = [os.urandom(1000 + i) for i in range(4)]
        large = os.urandom(2 * PART + 123)  # three parts
        ids = [store.put(d) for d in [*small, large]]
        assert [store.get(i) for i in ids] == [*small, large]
        assert len(proxy.failed) >= 3
        assert {v for _, _, v in proxy.failed} == set(kinds)
    assert _uploads(s3_env, bucket) == []  # no multipart upload left behind


def test_a_part_that_always_fails_leaves_no_object(s3_env: LocalS3, bucket: str) -> None:
    """An upload that cannot finish: one error, no object at the key, no upload left open."""

    def rule(method: str, path: str, n: int) -> str | None:
        return "500" if method == "PUT" and "partNumber=2" in path else None

    data = os.urandom(2 * PART + 1)
    with FlakyProxy(s3_env.endpoint, rule) as proxy:
        store = _store(
            f"s3://{bucket}/p",
            proxy.endpoint,
            attempts=2,
            config_kwargs={"retries": {"max_attempts": 2, "mode": "standard"}},
        )
        with pytest.raises(StoreError, match="failed after 2 tries") as info:
            store.put(data)
        assert "\n" not in str(info.value)
        assert not store.exists(content_hash(data))
    key = store.key(content_hash(data)).partition("/")[2]
    listed = s3_env.client().list_objects_v2(Bucket=bucket, Prefix=key)  # type: ignore[attr-defined]
    assert listed.get("KeyCount", 0) == 0
    assert _uploads(s3_env, bucket) == []


def test_unreachable_endpoint_is_one_line(monkeypatch: pytest.MonkeyPatch, s3_env: LocalS3) -> None:
    from noria.store.s3_artifacts import S3ArtifactStore

    nowhere = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", nowhere)
    with pytest.raises(StoreUnavailable, match="cannot reach the S3 endpoint") as info:
        S3ArtifactStore("s3://bucket/p")
    message = str(info.value)
    assert "store.artifacts" in message and nowhere in message and "\n" not in message


def test_wrong_credentials_are_one_line(
    monkeypatch: pytest.MonkeyPatch, s3_env: LocalS3, bucket: str
) -> None:
    from noria.store.s3_artifacts import S3ArtifactStore

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")
    with pytest.raises(StoreUnavailable, match="refused the credentials") as info:
        S3ArtifactStore(f"s3://{bucket}/p")
    assert "AWS_ACCESS_KEY_ID" in str(info.value) and "\n" not in str(info.value)


def test_missing_bucket_is_one_line(s3_env: LocalS3) -> None:
    from noria.store.s3_artifacts import S3ArtifactStore

    with pytest.raises(StoreUnavailable, match="bucket 'no-such-bucket' does not exist"):
        S3ArtifactStore("s3://no-such-bucket/p")


def test_cli_with_wrong_s3_credentials_exits_2_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_env: LocalS3,
    bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "noria.yaml").write_text(
        f"name: p\ndata: {{source: d.csv}}\ntarget: y\nstore:\n  artifacts: s3://{bucket}/p\n"
    )
    (tmp_path / "d.csv").write_text("x,y\n1,0\n2,1\n")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    code, _, err = cli(capsys, "run", "--path", str(tmp_path))
    assert code == 2, err
    line = err.strip()
    assert "\n" not in line and "store.artifacts" in line and s3_env.endpoint in line, line
    assert "not-the-secret" not in line
    store = MetadataStore(f"sqlite:///{tmp_path / '.noria' / 'noria.db'}")
    assert store.list_runs() == []  # no run started
    store.close()
