"""End to end on a team's stores: `noria run`, register, promote with PostgreSQL and S3."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from noria.store.metadata import MetadataStore
from noria.testing.servers import LocalS3

from ..conftest import cli, fast_search


def test_run_register_promote_on_postgresql_and_s3(
    tmp_path: Path,
    penguins_csv: Path,
    postgres_url: str,
    s3_env: LocalS3,
    bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    code, _, err = cli(capsys, "init", "--data", str(penguins_csv), "--target", "species",
                       "--path", str(root), "--name", "penguins")  # fmt: skip
    assert code == 0, err
    spec = root / "noria.yaml"
    fast_search(spec, families="[linear]", trials=2)
    text = spec.read_text()
    text = text.replace("metadata: sqlite:///.noria/noria.db", f"metadata: {postgres_url}")
    text = text.replace("artifacts: .noria/artifacts", f"artifacts: s3://{bucket}/penguins")
    spec.write_text(text)
    shutil.rmtree(root / ".noria")  # what `init` made for the default stores

    code, out, err = cli(capsys, "run", "--path", str(root))
    assert code == 0, err
    assert "model: penguins version 1" in out
    code, out, err = cli(capsys, "run", "--path", str(root))  # the cache lives on the servers
    assert code == 0, err
    steps = out.split(" steps, ")[0].rsplit(": ", 1)[1]
    assert f"{steps} from the cache" in out
    code, out, err = cli(capsys, "promote", "penguins", "1", "--to", "challenger",
                         "--reason", "team test", "--path", str(root))  # fmt: skip
    assert code == 0, err

    store = MetadataStore(postgres_url)
    try:
        assert [v.version for v in store.model_versions("penguins")] == [1]
        assert sorted(a for _, a, _ in store.aliases("penguins")) == ["challenger", "champion"]
        actions = [e["action"] for e in store.audit_events()]
        assert actions[:2] == ["register", "set_alias"] and actions[-1] == "promote"
        artifact = store.model_versions("penguins")[0].artifact_id
    finally:
        store.close()
    key = f"penguins/{artifact[:2]}/{artifact[2:]}"
    assert s3_env.client().head_object(Bucket=bucket, Key=key)["ContentLength"] > 0  # type: ignore[attr-defined]
    assert not (root / ".noria" / "noria.db").exists()  # nothing went to the local stores
    assert not (root / ".noria" / "artifacts").exists()
