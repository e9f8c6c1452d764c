"""``noria schema infer``, ``noria schema show`` and ``noria validate`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import cli


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame(
        {"id": range(40), "age": [20 + i % 30 for i in range(40)], "plan": ["free", "pro"] * 20,
         "y": [0, 1] * 20}
    ).to_csv(data / "train.csv", index=False)  # fmt: skip
    code, _, err = cli(capsys, "init", "--data", "data/train.csv", "--target", "y",
                       "--path", str(tmp_path))  # fmt: skip
    assert code == 0, err
    return tmp_path


def test_infer_show_validate(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "schema", "infer", "--path", str(project))
    assert code == 0, err
    assert "wrote" in out and (project / "noria.schema.yaml").is_file()
    assert json.loads((project / ".noria" / "reference_profile.json").read_text())["rows"] == 40
    code, out, _ = cli(capsys, "schema", "infer", "--path", str(project))
    assert code == 2  # exists: --force to overwrite

    code, out, _ = cli(capsys, "schema", "show", "--path", str(project))
    assert code == 0 and "plan" in out and "free, pro" in out

    train = project / "data" / "train.csv"
    code, out, err = cli(capsys, "validate", str(train), "--path", str(project),
                         "--report", str(project / "r.html"))  # fmt: skip
    assert code == 0, out + err
    assert "passed" in out and (project / "r.html").is_file()

    bad = project / "data" / "bad.csv"
    bad.write_text("id,age,plan,y\n1,20,free,0\n1,25,gold,1\n3,30,pro,0\n")
    code, out, _ = cli(capsys, "validate", str(bad), "--path", str(project))
    assert code == 1
    assert "FAIL" in out and "id: unique" in out and "plan: in_set" in out and "failed" in out


def test_validate_bad_input_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "schema", "infer", "--path", str(project))
    empty = project / "data" / "empty.csv"
    empty.write_text("")
    code, _, err = cli(capsys, "validate", str(empty), "--path", str(project))
    assert code == 2 and "the file is empty" in err and "Traceback" not in err
    code, _, err = cli(capsys, "validate", "nope.csv", "--path", str(project))
    assert code == 2 and "does not exist" in err


def test_validate_outside_a_project_needs_a_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    code, _, err = cli(capsys, "validate", str(data), "--path", str(tmp_path))
    assert code == 2 and "noria schema infer" in err
    schema = tmp_path / "s.yaml"
    schema.write_text("columns:\n  a: {type: integer, max: 0}\n")
    code, out, _ = cli(capsys, "validate", str(data), "--schema", str(schema), "--path",
                       str(tmp_path))  # fmt: skip
    assert code == 1 and "outside [-, 0]" in out


def test_validate_a_scoring_batch_without_the_target(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "noria.yaml").write_text(
        (project / "noria.yaml").read_text().replace(
            "checks: []", "checks:\n    - {column: y, not_null: true}"
        )
    )
    assert "column: y" in (project / "noria.yaml").read_text()
    code, _, err = cli(capsys, "schema", "infer", "--path", str(project))
    assert code == 0, err
    batch = project / "data" / "batch.csv"
    batch.write_text("id,age,plan\n100,21,free\n101,22,pro\n")
    code, out, err = cli(capsys, "validate", str(batch), "--path", str(project))
    assert code == 0, out + err
    assert "no target column 'y'" in out and "passed" in out
    with_target = project / "data" / "labelled.csv"
    with_target.write_text("id,age,plan,y\n100,21,free,\n101,22,pro,1\n")
    code, out, _ = cli(capsys, "validate", str(with_target), "--path", str(project))
    assert code == 1 and "y: not_null" in out  # a labelled batch keeps the target's checks
    code, out, err = cli(capsys, "validate", str(with_target), "--scoring", "--path", str(project))
    assert code == 0, out + err
