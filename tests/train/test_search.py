"""The search: portfolio, budgets, failures, bad spaces, bad targets, warm start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from noria.errors import ConfigError, DataError
from noria.train.search import search
from noria.train.spaces import Param, parse_space


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:300], y.iloc[:300]


def test_portfolio_first_then_tuned_and_refit(cancer) -> None:
    X, y = cancer
    result = search(
        X, y, task="classification", families=["linear", "lightgbm"], n_trials=5, n_jobs=2
    )
    first = sorted(result.trials, key=lambda t: t.number)[:2]
    assert {t.family for t in first} == {"linear", "lightgbm"}
    assert all(t.params == {} for t in first)  # each family's defaults before any tuning
    assert len(result.trials) == 5
    assert result.metric == "roc_auc" and result.best_score > 0.95
    assert result.model.predict_proba(X.head(3)).shape == (3, 2)


def test_failing_family_is_recorded_and_search_goes_on(cancer) -> None:
    X, y = cancer
    bad = {"linear": {"C": Param("float", -2.0, -1.0)}}  # LogisticRegression refuses C <= 0
    result = search(
        X,
        y,
        task="classification",
        families=["linear", "lightgbm"],
        spaces=bad,
        n_trials=6,
        n_jobs=1,
        sampler="random",
    )
    failed = [t for t in result.trials if t.status == "failed"]
    assert failed and all(t.family == "linear" for t in failed)
    assert "C" in (failed[0].error or "")
    assert any(t.status == "complete" for t in result.trials)


def test_invalid_space_fails_before_any_trial(cancer) -> None:
    X, y = cancer
    with pytest.raises(
        ConfigError, match=r"models.spaces.linear.C: low 10 is above high 1; swap them"
    ):
        search(X, y, task="classification", spaces={"linear": {"C": Param("float", 10, 1)}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_space("knn", {"n_neighbors": {"type": "int", "low": 1, "hihg": 5}})


def test_nan_or_infinite_target_names_how_many_rows() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    y = y.copy()
    y.iloc[[3, 7]] = [np.nan, np.inf]
    with pytest.raises(DataError, match="2 of 442 rows with NaN or infinite values"):
        search(X, y, task="regression", n_trials=1)


def test_budget_too_small_returns_the_baseline_with_a_warning(cancer) -> None:
    X, y = cancer
    with pytest.warns(UserWarning, match="no trial finished within the budget"):
        result = search(X, y, task="classification", time_budget=0.01, n_jobs=1)
    assert result.best_family == "linear" and result.best_score is None
    assert result.model.predict(X.head(2)).shape == (2,)


def test_unknown_family_sampler_validation(cancer) -> None:
    X, y = cancer
    with pytest.raises(ConfigError, match="did you mean 'lightgbm'"):
        search(X, y, task="classification", families=["lightgmb"])
    with pytest.raises(ConfigError, match="sampler 'tpee'"):
        search(X, y, task="classification", sampler="tpee")
    with pytest.raises(ConfigError, match="validation 'kfolds'"):
        search(X, y, task="classification", validation="kfolds")


def test_warm_start_tries_the_earlier_winner_first(cancer) -> None:
    X, y = cancer
    first = search(
        X,
        y,
        task="classification",
        families=["lightgbm", "linear"],
        n_trials=6,
        n_jobs=2,
        seed=1,
    )
    again = search(
        X,
        y,
        task="classification",
        families=["lightgbm", "linear"],
        n_trials=2,
        n_jobs=1,
        warm_start=first,
        seed=1,  # the same folds: the same params must give the same score
    )
    opener = min(again.trials, key=lambda t: t.number)
    assert (opener.family, opener.params) == (first.best_family, first.best_params)
    assert opener.score == pytest.approx(first.best_score)


def test_holdout_and_grid(cancer) -> None:
    X, y = cancer
    result = search(
        X,
        y,
        task="classification",
        families=["linear"],
        sampler="grid",
        validation="holdout",
        n_jobs=1,
    )
    assert sorted(t.params["C"] for t in result.trials) == [0.01, 0.1, 1.0, 10.0]
    assert all(len(t.fold_scores) == 1 for t in result.trials)
