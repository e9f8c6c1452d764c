"""One reader of types: the same CSV rows through training, ``noria predict`` and ``POST /predict``.

The data is the Palmer penguins CSV with yes/no columns made from real columns: the target
``heavy`` (body mass above the median) and the feature ``male`` (from ``sex``), plus a constant
column that training drops. Training must keep ``yes``/``no`` as they are in the file (classes
``['no', 'yes']``, ``proba_yes``), batch scoring must read the file the same way, and the server
must take the strings of the file and answer the same predictions.
"""

from __future__ import annotations

import csv
import json
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noria.project import Project
from tests.conftest import cli, fast_search


def yes_no_penguins(folder: Path) -> pd.DataFrame:
    """The penguins with a yes/no target and a yes/no feature, as a user would have them."""
    from noria.cli.demo import write_demo_data

    frame = pd.read_csv(write_demo_data(folder / "raw"))
    frame = frame.dropna(subset=["body_mass_g"]).reset_index(drop=True)
    median = frame["body_mass_g"].median()
    out = frame[["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm"]].copy()
    out["male"] = frame["sex"].map({"male": "yes", "female": "no"})  # missing stays missing
    out["site"] = "lab"  # constant: dropped at training, optional at serving
    out["heavy"] = (frame["body_mass_g"] > median).map({True: "yes", False: "no"})
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("yesno")
    frame = yes_no_penguins(root)
    (root / "data").mkdir()
    frame.to_csv(root / "data" / "train.csv", index=False)
    import noria

    project = noria.Project.init(root, data="data/train.csv", target="heavy", name="penguins")
    fast_search(project.spec_path, families="[linear, hist_gradient_boosting]", trials=2)
    text = project.spec_path.read_text().replace("time_budget: 120", "time_budget: 20")
    project.spec_path.write_text(text)
    noria.Project(root).run()
    return root


def _records(path: Path, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of a CSV as a JSON client sends them: numbers as numbers, text as text."""
    rows = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            record: dict[str, Any] = {}
            for name in columns:
                value = row[name]
                if value == "":
                    record[name] = None
                else:
                    try:
                        record[name] = float(value) if "." in value else int(value)
                    except ValueError:
                        record[name] = value
            rows.append(record)
    return rows


def test_training_predict_and_server_agree_on_yes_no(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from noria.registry import resolve
    from tests.serve.conftest import LiveServer

    project = Project(trained)
    version = resolve(project.metadata, "penguins@champion")
    assert version.params["classes"] == ["no", "yes"]
    kinds = {c["name"]: c["dtype"] for c in version.signature}
    assert "bool" not in kinds["male"].lower(), kinds

    scoring = trained / "score.csv"
    frame = pd.read_csv(trained / "data" / "train.csv", keep_default_na=False, dtype=str)
    frame.head(60).drop(columns=["heavy"]).to_csv(scoring, index=False)
    out = trained / "scored.csv"
    code, _, err = cli(
        capsys, "predict", "-m", "penguins", "-i", str(scoring), "-o", str(out),
        "--path", str(trained),
    )  # fmt: skip
    assert code == 0, err
    scored = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert {"proba_no", "proba_yes"} <= set(scored.columns)
    assert set(scored["prediction"]) <= {"yes", "no"}

    # the server takes the file's own values (strings for male, no `site`) and agrees
    records = _records(scoring, ["island", "bill_length_mm", "bill_depth_mm",
                                 "flipper_length_mm", "male"])  # fmt: skip
    with LiveServer(project, log_predictions=False) as server:
        request = urllib.request.Request(
            server.url + "/predict",
            data=json.dumps({"records": records}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
    assert body["classes"] == ["no", "yes"]
    assert body["predictions"] == scored["prediction"].tolist()
    served = [round(p[1], 6) for p in body["probabilities"]]
    assert served == [round(float(v), 6) for v in scored["proba_yes"]]

    # and both are what the trained pipeline itself says on the training reader's frame
    from noria.data.sources import read_source
    from noria.pipeline.runner import load_artifact

    model = load_artifact(project.metadata, project.artifacts, version.artifact_id)
    x = read_source(str(scoring))
    assert x["male"].dropna().isin(["yes", "no"]).all()
    assert model.predict(x).tolist() == body["predictions"]
    project.close()
