"""Tests for noria.evaluate.baseline: the majority/prior and mean rules, their scores, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import log_loss

from noria.evaluate.baseline import baseline_cv_score, baseline_scores, beats, fit_baseline


def test_classification_baseline_is_the_majority_class_with_the_prior() -> None:
    y = load_iris(as_frame=True).frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    train, test = y.iloc[:120], y.iloc[::5]  # 50, 50, 20 rows; 10 of each class
    rule = fit_baseline("classification", train, ["setosa", "versicolor", "virginica"])
    assert rule.value == "setosa"  # 50 setosa, 50 versicolor, 20 virginica: the first tie wins
    assert rule.prior == pytest.approx([50 / 120, 50 / 120, 20 / 120])
    assert "majority class 'setosa' (41.7% of training rows)" in rule.describe()
    scores = baseline_scores(rule, test)
    assert scores["accuracy"] == pytest.approx(1 / 3) and scores["roc_auc"] == 0.5
    expected = log_loss(test, np.tile(rule.prior, (30, 1)), labels=rule.classes)
    assert scores["log_loss"] == pytest.approx(expected)


def test_binary_baseline_keeps_the_labels_type() -> None:
    y = np.array([True] * 9 + [False])
    rule = fit_baseline("classification", y)
    assert rule.value is True or rule.value == True  # noqa: E712 - numpy or Python bool
    scores = baseline_scores(rule, y)
    assert scores["accuracy"] == pytest.approx(0.9) and scores["f1"] == pytest.approx(18 / 19)


def test_regression_baseline_is_the_training_mean() -> None:
    y = load_diabetes(as_frame=True).frame["target"]
    rule = fit_baseline("regression", y.iloc[:300])
    assert rule.value == pytest.approx(y.iloc[:300].mean())
    assert rule.describe().startswith("always the training mean")
    scores = baseline_scores(rule, y.iloc[300:])
    rest = y.iloc[300:].to_numpy()
    assert scores["rmse"] == pytest.approx(math.sqrt(np.mean((rest - rule.value) ** 2)))
    assert scores["r2"] < 0.01


def test_cv_score_learns_each_fold_on_its_own_rows() -> None:
    y = np.array(["a"] * 8 + ["b"] * 2)
    folds = [(np.arange(5), np.arange(5, 10)), (np.arange(5, 10), np.arange(5))]
    # fold 1 learns "a" from rows 0-4 and scores rows 5-9 (3 a, 2 b): 0.6; fold 2: all "a" right
    assert baseline_cv_score("classification", "accuracy", y, folds) == pytest.approx(0.8)
    # ROC AUC of a constant is 0.5 wherever both classes are present; undefined otherwise
    assert baseline_cv_score("classification", "roc_auc", y, folds) == pytest.approx(0.5)


def test_beats_is_strict_and_knows_the_direction() -> None:
    assert beats("accuracy", 0.97, 0.9665) is True
    assert beats("accuracy", 0.9665, 0.9665) is False  # matching a constant is not learning
    assert beats("log_loss", 0.08, 0.1467) is True and beats("rmse", 60.0, 50.0) is False
    assert beats("roc_auc", None, 0.5) is None and beats("r2", float("nan"), 0.0) is None
