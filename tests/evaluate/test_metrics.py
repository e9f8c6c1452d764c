"""Tests for noria.evaluate.metrics: names, directions and values against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, log_loss, precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.errors import ConfigError, DataError
from noria.evaluate.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    check_metric,
    compute_metrics,
    default_metric,
    greater_is_better,
)


def _fit(X: object, y: object) -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


def test_names_defaults_and_directions() -> None:
    assert default_metric("classification") == "roc_auc"
    assert default_metric("regression") == "rmse"
    assert [greater_is_better(m) for m in CLASSIFICATION_METRICS] == [1, 1, 1, 1, 1, 0]
    assert [greater_is_better(m) for m in REGRESSION_METRICS] == [0, 0, 1]
    assert check_metric("f1", "classification") == "f1"
    with pytest.raises(ConfigError) as exc:
        check_metric("rmse", "classification")
    message = str(exc.value)
    assert "`models.metric`" in message
    assert "accuracy, precision, recall, f1, roc_auc, log_loss" in message
    with pytest.raises(ConfigError, match="did you mean 'roc_auc'"):
        check_metric("rocauc", "classification")
    with pytest.raises(ConfigError, match=r"`models\.metric`"):
        greater_is_better("auc_pr")


def test_binary_with_string_labels_matches_sklearn() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, "benign", "malignant")
    model = _fit(X, labels)
    proba = model.predict_proba(X)
    result = compute_metrics("classification", labels, model.predict(X), proba, model.classes_)
    assert list(result) == list(CLASSIFICATION_METRICS)
    assert all(type(v) is float for v in result.values())
    positive = model.classes_[1]
    assert positive == "malignant"
    predicted = model.predict(X)
    assert result["precision"] == pytest.approx(
        precision_score(labels, predicted, pos_label=positive)
    )
    assert result["f1"] == pytest.approx(f1_score(labels, predicted, pos_label=positive))
    assert result["roc_auc"] == pytest.approx(roc_auc_score(labels == positive, proba[:, 1]))
    assert result["log_loss"] == pytest.approx(log_loss(labels, proba))
    assert result["accuracy"] > 0.97
    one_d = compute_metrics("classification", labels, predicted, proba[:, 1], model.classes_)
    assert one_d["roc_auc"] == pytest.approx(result["roc_auc"])


def test_multiclass_macro_and_ovr() -> None:
    X, y = load_iris(return_X_y=True)
    model = _fit(X, y)
    proba = model.predict_proba(X)
    result = compute_metrics("classification", y, model.predict(X), proba, model.classes_)
    assert result["f1"] == pytest.approx(f1_score(y, model.predict(X), average="macro"))
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))
    assert result["log_loss"] == pytest.approx(log_loss(y, proba, labels=model.classes_))


def test_probability_metrics_skipped_without_proba_or_with_one_class() -> None:
    result = compute_metrics("classification", ["a", "b", "b", "a"], ["a", "b", "a", "a"])
    assert set(result) == {"accuracy", "precision", "recall", "f1"}
    assert result["accuracy"] == 0.75
    assert result["recall"] == 0.5  # positive class 'b': one of two found
    one_class = compute_metrics(
        "classification", ["b", "b"], ["b", "a"], [[0.2, 0.8], [0.6, 0.4]], ["a", "b"]
    )
    assert set(one_class) == {"accuracy", "precision", "recall", "f1"}


def test_regression_values() -> None:
    X, y = load_diabetes(return_X_y=True)
    predicted = LinearRegression().fit(X, y).predict(X)
    result = compute_metrics("regression", y, predicted)
    assert list(result) == ["rmse", "mae", "r2"]
    assert result["rmse"] == pytest.approx(math.sqrt(np.mean((y - predicted) ** 2)))
    assert result["mae"] == pytest.approx(np.mean(np.abs(y - predicted)))
    assert result["r2"] == pytest.approx(0.5177, abs=1e-3)
    assert all(type(v) is float for v in result.values())


def test_errors() -> None:
    with pytest.raises(ConfigError, match="`task`"):
        compute_metrics("clustering", [1], [1])
    with pytest.raises(DataError, match="y_true has 3 rows but y_pred has 2"):
        compute_metrics("regression", [1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="y_proba has 2 columns but there are 3 classes"):
        compute_metrics("classification", [0, 1, 2], [0, 1, 2], np.full((3, 2), 0.5))
