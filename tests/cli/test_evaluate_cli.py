"""``noria evaluate`` end to end: a version made by ``noria run``, on its holdout and on files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from noria.project import Project
from tests.conftest import cli, fast_search


@pytest.fixture
def project(tmp_path: Path, penguins_csv: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    p = str(tmp_path)
    code, _, err = cli(capsys, "init", "--data", str(penguins_csv), "--target", "species",
                       "--path", p)  # fmt: skip
    assert code == 0, err
    fast_search(tmp_path / "noria.yaml", families="[linear]", trials=1)
    spec = tmp_path / "noria.yaml"
    spec.write_text(spec.read_text().replace("sensitive: []", "sensitive: [sex]"))
    code, _, err = cli(capsys, "run", "--path", p)
    assert code == 0, err
    return tmp_path


def test_evaluate_holdout_and_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(project)
    code, out, err = cli(capsys, "evaluate", f"{project.name}@1", "--path", p)
    assert code == 0, err
    assert "on holdout" in out and "95 % interval" in out and "roc_auc" in out
    html = project / ".noria" / "reports" / "evaluation" / f"{project.name}-v1.html"
    figures = json.loads(html.with_suffix(".json").read_text())
    assert figures["data"] == "holdout" and figures["target"] == "species"
    assert figures["rows"] == 69  # the test part: 20 % of the 344 penguins
    assert figures["fairness"][0]["column"] == "sex"
    assert figures["importance"]["features"] and figures["partial_dependence"]
    assert figures["baseline"].startswith("majority class 'Adelie'")
    page = html.read_text()
    assert page.count("<svg") >= 5 and len(page.encode()) < 2_000_000
    with Project(project) as opened:  # stored, and linked to the version in the audit log
        events = [e for e in opened.metadata.audit_events(f"{project.name}/1")
                  if e["action"] == "evaluate"]  # fmt: skip
        assert len(events) == 1
        stored = opened.artifacts.get(events[0]["detail"]["artifact_id"])
        assert json.loads(stored)["metrics"] == figures["metrics"]

    data = pd.read_csv(project / "data" / "penguins.csv")
    labelled = project / "labelled.csv"
    data.assign(species=data["species"].where(data.index >= 2)).to_csv(labelled, index=False)
    code, out, err = cli(capsys, "evaluate", project.name, "--data", str(labelled),
                         "--no-explain", "--path", p)  # fmt: skip
    assert code == 0, err
    assert "on " + str(labelled) in out and "note: 2 row(s) without a value" in out
    assert (html.parent / f"{project.name}-v1-labelled.html").is_file()

    data.drop(columns=["species"]).to_csv(labelled, index=False)
    code, _, err = cli(capsys, "evaluate", project.name, "--data", str(labelled), "--path", p)
    assert code == 2 and "target column 'species' is not in the data" in err
    assert "Traceback" not in err

    data.assign(species=range(len(data))).to_csv(labelled, index=False)
    code, _, err = cli(capsys, "evaluate", project.name, "--data", str(labelled), "--path", p)
    assert code == 2 and "target column 'species' holds int" in err and "Adelie" in err

    data.drop(columns=["sex"]).to_csv(labelled, index=False)
    code, _, err = cli(capsys, "evaluate", project.name, "--data", str(labelled), "--path", p)
    assert code == 2 and "column(s) sex" in err

    code, _, err = cli(capsys, "evaluate", f"{project.name}@7", "--path", p)
    assert code == 2 and "has no version 7" in err
