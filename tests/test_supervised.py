"""The built-in supervised pipeline on real data sets that ship with scikit-learn."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import noria
from noria.pipeline.runner import load_artifact
from noria.registry import resolve
from tests.conftest import fast_search

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "penguins-custom-steps"


def make_project(
    tmp_path: Path, frame: pd.DataFrame, target: str, fmt: str = "csv"
) -> noria.Project:
    data = tmp_path / "data" / f"train.{fmt}"
    data.parent.mkdir()
    if fmt == "csv":
        frame.to_csv(data, index=False)
    else:
        frame.to_parquet(data, index=False)
    project = noria.Project.init(tmp_path, data=str(data), target=target, name="t")
    fast_search(project.spec_path)
    return noria.Project(tmp_path)


def test_regression_on_diabetes_registers_a_usable_model(tmp_path: Path) -> None:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    project = make_project(tmp_path, frame, "target")
    result = project.run()
    assert result["problem"]["task"] == "regression" and result["problem"]["metric"] == "rmse"
    scores = result["evaluation"]
    assert set(scores) == {"rmse", "mae", "r2"} and scores["r2"] > 0.3
    version = resolve(project.metadata, "t@champion")
    assert version.version == 1 and version.metrics == scores
    model = load_artifact(project.metadata, project.artifacts, version.artifact_id)
    raw = frame.drop(columns=["target"]).head(5)
    assert model.predict(raw).shape == (5,)
    project.close()


def test_binary_classification_from_parquet(tmp_path: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    project = make_project(tmp_path, frame, "target", fmt="parquet")
    result = project.run()
    problem = result["problem"]
    assert problem["task"] == "classification" and problem["classes"] == ["benign", "malignant"]
    scores = result["evaluation"]
    assert scores["roc_auc"] > 0.95 and 0 <= scores["f1"] <= 1
    scored = [t["score"] for t in result["candidates"]["leaderboard"] if t["score"] is not None]
    assert scored and scored == sorted(scored, reverse=True)  # best first (AUC: higher)
    project.close()


def test_editing_the_data_file_reruns_from_raw_data(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    project = make_project(tmp_path, frame.iloc[:140], "target")
    project.run()
    assert project.run().cache_hits == 10
    frame.to_csv(tmp_path / "data" / "train.csv", index=False)  # 10 more rows
    again = project.run()
    assert again.steps["raw_data"].status == "completed"
    assert len(again["raw_data"]) == 150
    project.close()


def test_custom_steps_example(tmp_path: Path, penguins_csv: Path) -> None:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".noria", "data"))
    (root / "data").mkdir()
    shutil.copy(penguins_csv, root / "data" / "penguins.csv")
    project = noria.Project(root)
    result = project.run()
    assert "data_summary" in result.steps
    assert sum(result["data_summary"].values()) == 333  # rows with a species and a sex
    assert {"bill_ratio", "mass_per_flipper"} <= set(result["features"]["columns"])
    assert result["problem"]["metric"] == "accuracy"
    assert result["evaluation"]["accuracy"] > 0.9
    project.close()


def test_unknown_candidate_family_is_a_clear_error(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    project = make_project(tmp_path, load_iris(as_frame=True).frame, "target")
    spec = project.spec_path
    spec.write_text(spec.read_text().replace("[linear, lightgbm]", "[linear, lightgmb]"))
    with pytest.raises(
        noria.NoriaError, match=r"unknown model family 'lightgmb'.*did you mean 'lightgbm'"
    ):
        noria.Project(tmp_path).run()


def _with_checks(root: Path, policy: str) -> noria.Project:
    spec = root / "noria.yaml"
    text = spec.read_text().replace("policy: fail", f"policy: {policy}")
    text = text.replace(
        "  checks: []",
        "  checks:\n    - {column: bill_length_mm, range: [35, 55]}\n"
        "    - {column: island, in_set: [Biscoe, Dream, Torgersen]}",
    )
    spec.write_text(text)
    return noria.Project(root)


def test_quarantine_policy_keeps_bad_rows_as_their_own_artifact(
    tmp_path: Path, penguins_csv: Path
) -> None:
    noria.Project.init(tmp_path, data=str(penguins_csv), target="species", name="p")
    fast_search(tmp_path / "noria.yaml")
    project = _with_checks(tmp_path, "quarantine")
    result = project.run()
    store = project.metadata
    tags = store.tags(result.run_id)
    assert tags["validation_passed"] == "false"
    quarantine = load_artifact(store, project.artifacts, tags["quarantine_artifact"])
    outside = quarantine["bill_length_mm"].lt(35) | quarantine["bill_length_mm"].gt(55)
    assert len(quarantine) > 0 and outside.all()
    assert len(result["validated_data"]) == 344 - len(quarantine)
    lineage = store.lineage_of_run(result.run_id)
    assert ("validated_data", "out", "quarantine", tags["quarantine_artifact"]) in lineage
    assert result["data_profile"]["rows"] == len(result["validated_data"])
    project.close()


def test_fail_policy_stops_the_run_naming_the_check(tmp_path: Path, penguins_csv: Path) -> None:
    noria.Project.init(tmp_path, data=str(penguins_csv), target="species", name="p")
    project = _with_checks(tmp_path, "fail")
    with pytest.raises(noria.NoriaError, match=r"step 'validated_data' failed.*bill_length_mm"):
        project.run()
    project.close()


def test_warm_start_records_carry_scores_and_fit_times(tmp_path: Path) -> None:
    """A retrain can stop once it matches the best earlier trial, and start a quick one
    in-process: the earlier trials' scores, fold scores and fit times reach the search."""
    from sklearn.datasets import load_diabetes

    from noria.supervised import _warm_start

    project = make_project(tmp_path, load_diabetes(as_frame=True).frame, "target")
    result = project.run()
    records = _warm_start(project.metadata, "t", "rmse", result["problem"])
    champion, *trials = records
    assert champion["family"] in ("linear", "lightgbm")
    assert champion["score"] in [r["score"] for r in trials]  # the champion's own trial's
    assert trials and all(r["score"] is not None for r in trials)
    assert [r["score"] for r in trials] == sorted(r["score"] for r in trials)  # best first
    assert all(len(r["fold_scores"]) == 3 and len(r["fit_seconds"]) == 3 for r in trials)
    assert all(s > 0 for r in trials for s in r["fit_seconds"])
    project.close()
