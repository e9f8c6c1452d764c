"""Paired comparison of two models on the same rows (``noria.evaluate.comparison``)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.evaluate.comparison import Predictions, compare_predictions, paired_verdict


@pytest.fixture(scope="module")
def cancer() -> tuple:
    x, y = load_breast_cancer(return_X_y=True)
    return train_test_split(x, y, test_size=0.4, random_state=0)


def _predictions(label: str, model, x) -> Predictions:  # type: ignore[no-untyped-def]
    return Predictions(label, model.predict(x), model.predict_proba(x))


def test_the_difference_is_of_the_same_rows_and_its_interval_is_paired(cancer) -> None:  # type: ignore[no-untyped-def]
    xt, xh, yt, yh = cancer
    good = make_pipeline(StandardScaler(), LogisticRegression()).fit(xt, yt)
    # the same family on 3 columns: worse, but its errors overlap the good model's
    weak = make_pipeline(StandardScaler(), LogisticRegression()).fit(xt[:, 20:23], yt)
    a = _predictions("good", good, xh)
    b = Predictions("weak", weak.predict(xh[:, 20:23]), weak.predict_proba(xh[:, 20:23]))
    result = compare_predictions(yh, a, b, task="classification", labels=["0", "1"], seed=1)
    acc = result["metrics"]["accuracy"]
    expected = accuracy_score(yh, a.predicted) - accuracy_score(yh, b.predicted)
    assert acc["diff"] == pytest.approx(expected)
    assert acc["a"] == pytest.approx(accuracy_score(yh, a.predicted))
    auc = result["metrics"]["roc_auc"]
    assert auc["diff"] == pytest.approx(
        roc_auc_score(yh, a.proba[:, 1]) - roc_auc_score(yh, b.proba[:, 1])
    )
    # paired: the interval of the difference is narrower than the two intervals side by side
    width = auc["diff_high"] - auc["diff_low"]
    assert width < (auc["a_high"] - auc["a_low"]) + (auc["b_high"] - auc["b_low"])
    assert auc["diff_low"] <= auc["diff"] <= auc["diff_high"]
    assert set(result["figures"]["a"]) == {"roc", "pr", "calibration"}


def test_a_model_against_itself_and_against_a_constant(cancer) -> None:  # type: ignore[no-untyped-def]
    xt, xh, yt, yh = cancer
    good = make_pipeline(StandardScaler(), LogisticRegression()).fit(xt, yt)
    same = compare_predictions(
        yh, _predictions("a", good, xh), _predictions("b", good, xh), task="classification"
    )
    for row in same["metrics"].values():
        assert row["diff"] == 0 and row["verdict"] == "no significant difference"
    constant = DummyClassifier(strategy="prior").fit(xt, yt)
    result = compare_predictions(
        yh, _predictions("good", good, xh), _predictions("prior", constant, xh),
        task="classification",
    )  # fmt: skip
    assert result["metrics"]["accuracy"]["verdict"] == "A better"
    assert result["metrics"]["log_loss"]["verdict"] == "A better"  # lower is better there
    assert result["metrics"]["log_loss"]["diff_high"] < 0


def test_regression_differences_with_intervals() -> None:
    x, y = load_diabetes(return_X_y=True)
    xt, xh, yt, yh = train_test_split(x, y, test_size=0.4, random_state=0)
    full = LinearRegression().fit(xt, yt).predict(xh)
    mean = np.full(len(yh), yt.mean())
    result = compare_predictions(
        yh, Predictions("full", full), Predictions("mean", mean), task="regression"
    )
    mae = result["metrics"]["mae"]
    expected = mean_absolute_error(yh, full) - mean_absolute_error(yh, mean)
    assert mae["diff"] == pytest.approx(expected)
    assert not mae["greater_is_better"] and mae["verdict"] == "A better"
    assert len(result["figures"]["b"]["sample"]["predicted"]) == len(yh)


def test_verdicts() -> None:
    assert paired_verdict(0.1, 0.05, 0.2, True) == "A better"
    assert paired_verdict(0.1, 0.05, 0.2, False) == "B better"
    assert paired_verdict(0.0, -0.1, 0.1, True) == "no significant difference"
    assert paired_verdict(float("nan"), None, None, True) == "no interval"
