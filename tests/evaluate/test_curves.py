"""Curves and ranking metrics agree with scikit-learn's, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.evaluate import curves
from noria.evaluate.evaluation import EvaluationSettings, evaluate_predictions
from noria.evaluate.metrics import compute_metrics


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X[::2], y[::2])
    return y[1::2].astype(bool), model.predict_proba(X[1::2])[:, 1]


@pytest.mark.parametrize("decimals", [None, 2, 1])
def test_roc_auc_and_average_precision_match_sklearn(cancer: tuple, decimals: int | None) -> None:
    y, score = cancer
    if decimals is not None:  # many tied scores
        score = np.round(score, decimals)
    assert curves.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    ap = average_precision_score(y, score)
    assert curves.average_precision(y, score) == pytest.approx(ap, abs=1e-12)
    levels, n = curves.score_levels(score)  # few distinct scores: the binned forms are exact
    assert curves.binned_auc(levels[None], y[None], n)[0] == pytest.approx(roc_auc_score(y, score))
    assert curves.binned_average_precision(levels[None], y[None], n)[0] == pytest.approx(ap)


def test_binned_forms_stay_close_with_many_distinct_scores() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(50_000) < 0.3
    score = rng.random(50_000) + 0.4 * y
    levels, n = curves.score_levels(score, max_levels=512)
    assert n <= 512
    auc = curves.binned_auc(levels[None], y[None], n)[0]
    assert auc == pytest.approx(roc_auc_score(y, score), abs=2e-3)


def test_threshold_metrics_gain_and_reliability(cancer: tuple) -> None:
    y, score = cancer
    table = curves.threshold_metrics(y, score, np.array([0.2, 0.5, 0.9]))
    for i, t in enumerate((0.2, 0.5, 0.9)):
        assert table["precision"][i] == pytest.approx(precision_score(y, score >= t))
        assert table["recall"][i] == pytest.approx(recall_score(y, score >= t))
    gain = curves.gain_curve(y, score)
    assert gain["gain"][0] == 0 and gain["gain"][-1] == pytest.approx(1.0)
    assert np.all(np.diff(gain["gain"]) >= -1e-12)
    rel = curves.reliability(y, score, bins=10)
    assert rel["rows"].sum() == y.size
    manual = np.nansum(rel["rows"] / y.size * np.abs(rel["observed"] - rel["predicted"]))
    assert rel["ece"] == pytest.approx(manual)
    roc = curves.roc_curve(y, score)
    assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1


def test_evaluation_metrics_match_noria_and_sklearn_for_three_classes() -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression(max_iter=2000, C=0.05).fit(X, names)
    proba, pred = model.predict_proba(X), model.predict(X)
    ev = evaluate_predictions(
        X.assign(species=names),
        target="species",
        task="classification",
        predicted=pred,
        proba=proba,
        classes=list(model.classes_),
        settings=EvaluationSettings(replicates=50),
    )
    expected = compute_metrics("classification", names, pred, proba, model.classes_)
    for name, value in expected.items():
        assert ev.metrics[name]["value"] == pytest.approx(value, abs=1e-9), name
    onehot = (names[:, None] == model.classes_[None, :]).astype(float)
    assert ev.metrics["brier"]["value"] == pytest.approx(brier_score_loss(names, proba))
    assert ev.metrics["brier"]["value"] == pytest.approx(((proba - onehot) ** 2).sum(1).mean())
    ap = average_precision_score(onehot, proba, average="macro")
    assert ev.metrics["average_precision"]["value"] == pytest.approx(ap)
    cm = np.array(ev.details["confusion"])
    assert cm.sum() == 150 and np.trace(cm) == (pred == names).sum()
