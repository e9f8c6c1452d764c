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
    out["flipper_length_mm"] = out["flipper_length_mm"].astype("Int64")  # whole numbers
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


def _predict(capsys: pytest.CaptureFixture[str], root: Path, src: Path, *args: str) -> Any:
    return cli(
        capsys, "predict", "-m", "penguins", "-i", str(src), "-o", str(root / "o.csv"),
        "--path", str(root), *args,
    )  # fmt: skip


def test_predict_drops_the_target_scores_it_and_passes_columns_with_flags(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(trained / "data" / "train.csv", keep_default_na=False, dtype=str)
    with_target = trained / "labelled.csv"
    frame.head(80).to_csv(with_target, index=False)
    code, out, err = _predict(capsys, trained, with_target)
    assert code == 0, err
    assert "against 'heavy' (80 labelled rows): accuracy=" in out and "roc_auc=" in out
    scored = pd.read_csv(trained / "o.csv", keep_default_na=False, dtype=str)
    assert scored["heavy"].tolist() == frame.head(80)["heavy"].tolist()

    extra = trained / "extra.csv"
    frame.head(10).assign(row_id=range(10), note="x").to_csv(extra, index=False)
    code, _, err = _predict(capsys, trained, extra)
    assert code == 2 and "unknown column 'row_id'" in err and "--keep row_id" in err, err
    assert "--extra ignore" in err and "serve.extra_columns" not in err
    code, out, err = _predict(capsys, trained, extra, "--keep", "row_id", "--keep", "note")
    assert code == 0, err
    assert pd.read_csv(trained / "o.csv")["row_id"].tolist() == list(range(10))
    code, _, err = _predict(capsys, trained, extra, "--keep", "row_id")
    assert code == 2 and "unknown column 'note'" in err
    code, out, err = _predict(capsys, trained, extra, "--extra", "ignore")
    assert code == 0, err
    assert {"row_id", "note", "heavy", "prediction"} <= set(pd.read_csv(trained / "o.csv"))


def test_unusual_values_are_counted_in_predict_and_in_metrics(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.serve.conftest import LiveServer

    frame = pd.read_csv(trained / "data" / "train.csv", keep_default_na=False, dtype=str)
    odd = frame.head(3).drop(columns=["heavy", "site"])
    odd["island"] = ["Atlantis", "Biscoe", "Atlantis"]
    odd["flipper_length_mm"] = ["190.5", "999", "200"]  # fractional in an integer column; huge
    odd.to_csv(trained / "odd.csv", index=False)
    code, out, err = _predict(capsys, trained, trained / "odd.csv")
    assert code == 0, err
    assert "2 unseen categories (island: 2)" in out, out
    assert "1 values outside the training range (flipper_length_mm: 1)" in out
    assert "1 fractional values in integer columns (flipper_length_mm: 1)" in out

    records = _records(trained / "odd.csv", list(odd.columns))
    project = Project(trained)
    with LiveServer(project, log_predictions=False) as server:
        request = urllib.request.Request(
            server.url + "/predict",
            data=json.dumps({"records": records}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        with urllib.request.urlopen(server.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
    project.close()
    assert 'noria_input_unseen_categories_total{model="penguins",column="island"} 2' in text
    assert 'noria_input_out_of_range_total{model="penguins",column="flipper_length_mm"} 1' in text
    assert 'noria_input_narrowed_total{model="penguins",column="flipper_length_mm"} 1' in text


def test_parquet_and_json_lines_score_like_the_csv(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(trained / "data" / "train.csv").head(40).drop(columns=["heavy"])
    frame.to_csv(trained / "in.csv", index=False)
    frame.to_parquet(trained / "in.parquet", index=False)
    frame.to_json(trained / "in.jsonl", orient="records", lines=True)
    results = []
    for name in ("in.csv", "in.parquet", "in.jsonl"):
        code, _, err = _predict(capsys, trained, trained / name)
        assert code == 0, err
        results.append(pd.read_csv(trained / "o.csv")["proba_yes"].round(9).tolist())
    assert results[0] == results[1] == results[2]
