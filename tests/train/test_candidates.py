"""Tests for noria.train.candidates: every family builds, fits and predicts; bad names fail well."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.datasets import load_diabetes, load_wine
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from noria.errors import ConfigError
from noria.train.candidates import FAMILIES, make_estimator


@pytest.fixture(autouse=True)
def _one_openmp_thread() -> Iterator[None]:
    """One OpenMP thread: on a busy 2-core box, 2 threads made HistGradientBoosting 30x slower."""
    with threadpool_limits(1, user_api="openmp"):
        yield


def test_families_are_the_documented_ones() -> None:
    assert FAMILIES == (
        "linear",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "lightgbm",
        "xgboost",
        "knn",
    )


INSTALLED = [f for f in FAMILIES if f != "xgboost" or importlib.util.find_spec("xgboost")]


def test_params_override_defaults() -> None:
    model = make_estimator("random_forest", "regression", params={"n_estimators": 7})
    assert model.n_estimators == 7 and model.random_state == 42


@pytest.mark.skipif(importlib.util.find_spec("xgboost") is not None, reason="xgboost installed")
def test_missing_xgboost_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"pip install 'noria\[xgboost\]'"):
        make_estimator("xgboost", "classification")


@pytest.mark.parametrize("family", INSTALLED)
def test_classifier_fits_wine(family: str) -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = StandardScaler().fit_transform(X)
    model = make_estimator(family, "classification", seed=3)
    assert is_classifier(model)
    model.fit(X, y)
    assert model.predict_proba(X).shape == (178, 3)
    assert (model.predict(X) == y).mean() > 0.95


@pytest.mark.parametrize("family", INSTALLED)
def test_regressor_fits_diabetes(family: str) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = make_estimator(family, "regression")
    assert is_regressor(model)
    predictions = model.fit(X, y).predict(X)
    assert np.corrcoef(predictions, y)[0, 1] > 0.6


def test_defaults_and_seed() -> None:
    linear = make_estimator("linear", "classification")
    assert type(linear).__name__ == "LogisticRegression" and linear.max_iter == 1000
    assert type(make_estimator("linear", "regression")).__name__ == "Ridge"
    forest = make_estimator("random_forest", "regression", seed=5, n_jobs=2)
    assert (forest.n_estimators, forest.random_state, forest.n_jobs) == (200, 5, 2)
    assert make_estimator("hist_gradient_boosting", "classification", seed=9).random_state == 9
    lgbm = make_estimator("lightgbm", "classification", seed=4).get_params()
    assert (lgbm["n_estimators"], lgbm["learning_rate"], lgbm["verbose"]) == (200, 0.05, -1)
    assert (lgbm["random_state"], lgbm["n_jobs"]) == (4, 1)


def test_unknown_family_and_task() -> None:
    with pytest.raises(ConfigError) as exc:
        make_estimator("random_forrest", "classification")
    message = str(exc.value)
    assert "`models.candidates`" in message
    assert "'random_forrest'" in message
    assert "did you mean 'random_forest'" in message
    assert ", ".join(FAMILIES) in message
    with pytest.raises(ConfigError, match="did you mean 'regression'"):
        make_estimator("linear", "regresion")
