"""The search: portfolio, budgets, failures, bad spaces, bad targets, warm start, workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

import noria.train.search as search_mod
from noria.errors import ConfigError, DataError
from noria.train.search import TrialRecord, refit_seconds, search
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
    with pytest.warns(UserWarning, match="no trial finished within the budget") as caught:
        result = search(X, y, task="classification", time_budget=0.01, n_jobs=1)
    assert result.best_family == "linear" and result.best_score is None
    assert result.best_number is None
    assert all(t.status != "complete" for t in result.trials)
    assert result.model.predict(X.head(2)).shape == (2,)
    why = str(caught[0].message)
    assert "time_budget 0.01 s" in why and "raise models.time_budget" in why
    assert "kept for the refit of 300 rows" in why or "stopped unfinished" in why


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


# ----------------------------------------------------------------- start-up, pool, budget, warm


def test_linear_defaults_run_in_this_process_while_workers_start(cancer, monkeypatch) -> None:
    calls: list[tuple[str, int]] = []
    here = search_mod._fit_fold_here

    def spy(state, family, params, fold):
        calls.append((family, fold))
        return here(state, family, params, fold)

    monkeypatch.setattr(search_mod, "_fit_fold_here", spy)
    monkeypatch.setattr(search_mod._Pool, "warm", property(lambda self: False))  # never up
    X, y = cancer
    result = search(
        X, y, task="classification", families=["linear", "lightgbm"], n_trials=2, n_jobs=1
    )
    assert [c for c in calls if c[0] == "linear"] == [("linear", 0), ("linear", 1), ("linear", 2)]
    linear = next(t for t in result.trials if t.family == "linear")
    assert linear.status == "complete" and len(linear.fit_seconds) == 3


def test_a_kept_pool_serves_the_next_search_with_its_own_data(cancer) -> None:
    X, y = cancer
    search(X, y, task="classification", families=["lightgbm"], n_trials=1, n_jobs=1)
    (pool,) = search_mod._IDLE_POOLS
    assert pool.ready.wait(120) and pool.warm  # started at once, kept when the search ended
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    result = search(Xr, yr, task="regression", families=["lightgbm"], n_trials=2, n_jobs=1)
    assert len(search_mod._IDLE_POOLS) == 1 and search_mod._IDLE_POOLS[0] is pool  # kept again
    assert not pool.dead
    assert result.trials[0].status == "complete" and not any(
        t.status == "failed" for t in result.trials
    )
    assert result.metric == "rmse" and 30 < result.best_score < 90  # diabetes, not the cancer data


def test_same_seed_same_trials_with_one_worker(cancer) -> None:
    X, y = cancer
    search_mod._drop_kept_pools()  # the first search starts a worker, fitting here meanwhile

    def trials() -> list[tuple[str, dict, float | None]]:
        result = search(
            X, y, task="classification", families=["linear", "lightgbm"], n_trials=6, n_jobs=1
        )
        return [(t.family, t.params, t.score) for t in result.trials]

    assert trials() == trials()


def test_refit_time_is_kept_back_from_the_trials() -> None:
    assert refit_seconds([1.0, 0.5, 0.8], [2 / 3] * 3) == pytest.approx(
        search_mod.REFIT_SAFETY * 1.5 + search_mod.REFIT_MARGIN_S  # the slowest fold, scaled
    )
    loop = object.__new__(search_mod._Loop)
    loop.records, loop.cells, loop.outputs, loop.t0 = [], 1000, 1, 0.0
    loop.families = ["linear", "lightgbm"]
    loop.maximize, loop.fractions, loop.deadline = True, [2 / 3] * 3, 100.0
    loop.reserve = 1.0
    assert 98.0 < loop.stop_at() < 100.0  # nothing complete: time for the baseline's refit
    loop.records = [_record(0, 0.9, fit=(2.0, 2.0, 2.0))]
    one = refit_seconds([2.0] * 3, [2 / 3] * 3)
    assert loop.stop_at() == pytest.approx(100.0 - one)
    loop.reserve = 2.25  # the caller refits on X, then on X and a holdout of a fifth of the rows
    assert loop.stop_at() == pytest.approx(100.0 - 2.25 * one)
    loop.reserve = 0.0  # nobody refits: nothing kept back
    assert loop.stop_at() == 100.0


def test_a_caller_that_refits_itself_has_its_refit_kept_back(cancer) -> None:
    # before: refit=False kept nothing back, and the pipeline's model step refitted after the
    # whole budget was spent (120 s search + 22 s refit on a budget of 120 s)
    X, y = cancer
    captured = {}
    real_loop = search_mod._Loop

    def spy(**kwargs):
        captured["reserve"] = kwargs["reserve"]
        return real_loop(**kwargs)

    import time

    before = time.time()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search_mod, "_Loop", spy)
        result = search(
            X,
            y,
            task="classification",
            families=["linear", "lightgbm"],
            n_trials=3,
            n_jobs=1,
            time_budget=600,
            refit=False,
            refit_reserve=1.0,
        )
    assert captured["reserve"] == 1.0 and result.model is None
    best = next(t for t in result.trials if t.number == result.best_number)
    fractions = [2 / 3] * 3  # three folds of 300 rows, 200 each
    assert result.refit_seconds == pytest.approx(refit_seconds(best.fit_seconds, fractions))
    assert before + 600 <= result.deadline <= time.time() + 600
    assert result.refit_jobs == 1  # a short refit: one thread, as measured
    with pytest.raises(ConfigError, match="refit_reserve"):
        search(X, y, task="classification", n_trials=1, refit_reserve=-1)


def test_a_short_refit_runs_on_one_thread(cancer) -> None:
    # before: every core; LightGBM on a few hundred rows took 74 s so on a busy machine
    X, y = cancer
    result = search(X, y, task="classification", families=["lightgbm"], n_trials=1, n_jobs=2)
    assert result.model[-1].get_params()["n_jobs"] == 1
    assert result.refit_jobs == 1
    from noria.train.budget import THREADED_REFIT_ROWS, THREADED_REFIT_S, refit_jobs

    assert refit_jobs(THREADED_REFIT_S, THREADED_REFIT_ROWS, 8) == 8  # long, on many rows
    assert refit_jobs(THREADED_REFIT_S, 500, 8) == 1


def test_progress_says_trials_best_score_and_time_left(cancer) -> None:
    X, y = cancer
    seen = []
    result = search(
        X,
        y,
        task="classification",
        families=["linear", "lightgbm"],
        n_trials=4,
        n_jobs=1,
        time_budget=600,
        on_progress=seen.append,
    )
    last = seen[-1]
    assert last.done == len(result.trials) == 4 and last.running == 0
    best = max(t.score for t in result.trials if t.score is not None)
    assert last.best == best and last.metric == "roc_auc"
    assert 0 < last.left < 600 and last.elapsed > 0
    assert [p.done for p in seen] == sorted(p.done for p in seen)  # never goes back
    text = last.describe()
    assert text.startswith("4 trials, best roc_auc ") and text.endswith(" s left")
    assert seen[0].describe().startswith("0 trials, none scored yet")


def test_warm_start_stops_only_on_the_champions_own_score(cancer) -> None:
    # before: the first record *with a score* set the score to match, here the linear model's
    # from an earlier search: the retrain stopped as soon as the linear model re-ran, killing
    # the champion's own configuration (issue: a LightGBM champion replaced by a linear model)
    X, y = cancer
    search_mod._drop_kept_pools()  # the linear model runs here while the worker starts
    linear = search(X, y, task="classification", families=["linear"], n_trials=1, n_jobs=1)
    (lin,) = linear.trials
    warm = [
        {"family": "lightgbm", "params": {}},  # the champion; its own score unknown
        {"family": "linear", "params": {}, "score": lin.score, "fold_scores": lin.fold_scores},
    ]
    kwargs = {"task": "classification", "families": ["lightgbm", "linear"], "n_jobs": 1}
    again = search(X, y, n_trials=3, warm_start=warm, **kwargs)
    assert not any(w.startswith("stopped early") for w in again.warnings)
    assert len(again.trials) == 3
    champion = next(t for t in again.trials if t.number == 0)
    assert champion.family == "lightgbm" and champion.status == "complete"
    assert again.best_score >= champion.score  # never worse than the champion's re-run


def test_a_search_without_n_trials_goes_on_until_the_budget() -> None:
    from noria.spec import ModelsSpec

    assert ModelsSpec().n_trials is None  # before: 25, which ended searches at 5.5 s of 30
    loop = object.__new__(search_mod._Loop)
    loop.n_trials, loop.asked = None, 10_000
    assert loop.budget_left()


def test_warm_start_stops_once_the_champion_is_matched(cancer) -> None:
    X, y = cancer
    kwargs = {"task": "classification", "families": ["lightgbm", "linear"], "n_jobs": 1, "seed": 1}
    first = search(X, y, n_trials=4, **kwargs)
    again = search(X, y, time_budget=600, warm_start=first, **kwargs)
    assert any(w.startswith("stopped early") for w in again.warnings)
    assert again.best_score == pytest.approx(first.best_score)
    opener = min(again.trials, key=lambda t: t.number)
    assert (opener.family, opener.params) == (first.best_family, first.best_params)
    queued = len(search_mod._warm_records(first)) + 2
    assert len(again.trials) <= queued  # stopped before any tuning
    full = search(X, y, n_trials=3, warm_start=first, warm_stop=False, **kwargs)
    assert len(full.trials) == 3 and not any(w.startswith("stopped") for w in full.warnings)


def test_warm_stop_within_noise_once_the_scored_record_ran_again(cancer) -> None:
    X, y = cancer
    kwargs = {"task": "classification", "families": ["linear", "lightgbm"], "n_jobs": 1}
    score = search(X, y, families=["linear"], n_trials=1, task="classification").best_score

    def record(target: float) -> list[dict]:  # fold scores 0.04 apart: a standard error of 0.02
        folds = [target - 0.02, target + 0.02]
        return [{"family": "linear", "params": {}, "score": target, "fold_scores": folds}]

    near = search(X, y, n_trials=3, warm_start=record(score + 0.001), **kwargs)
    stops = [w for w in near.warnings if w.startswith("stopped early")]
    assert len(stops) == 1
    far = search(X, y, n_trials=3, warm_start=record(score + 0.1), **kwargs)
    assert len(far.trials) == 3 and not any(w.startswith("stopped") for w in far.warnings)


def test_warm_records_keep_scores_and_fit_times() -> None:
    records = search_mod._warm_records(
        [
            {"family": "linear", "params": {"C": 1.0}, "score": 0.9, "fold_scores": [0.8, 1.0]},
            {"family": "linear", "params": {"C": 1.0}},  # the same again
            {"family": "lightgbm", "params": {}, "fit_seconds": [0.5, 0.6]},
        ]
    )
    assert records == [
        {"family": "linear", "params": {"C": 1.0}, "score": 0.9, "fold_scores": [0.8, 1.0]},
        {"family": "lightgbm", "params": {}, "fit_seconds": [0.5, 0.6]},
    ]


@pytest.mark.parametrize("multiclass", [False, True])
def test_fold_score_matches_compute_metrics(multiclass) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression, Ridge

    from noria.evaluate.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS, compute_metrics

    X, y = (load_iris if multiclass else load_breast_cancer)(return_X_y=True, as_frame=True)
    y = y.map(lambda v: f"class {v}")
    model = LogisticRegression(max_iter=5000).fit(X, y)
    expected = compute_metrics(
        "classification",
        y,
        model.predict(X),
        y_proba=model.predict_proba(X),
        classes=list(model.classes_),
    )
    for metric in CLASSIFICATION_METRICS:
        got = search_mod._score(model, X, y, "classification", metric)
        assert got == pytest.approx(expected[metric]), metric
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    ridge = Ridge().fit(Xr, yr)
    expected = compute_metrics("regression", yr, ridge.predict(Xr))
    for metric in REGRESSION_METRICS:
        assert search_mod._score(ridge, Xr, yr, "regression", metric) == pytest.approx(
            expected[metric]
        )


def _record(number: int, score: float, *, fit: tuple[float, ...]) -> TrialRecord:
    return TrialRecord(
        number=number,
        family="lightgbm",
        params={},
        status="complete",
        score=score,
        fold_scores=(score,) * len(fit),
        started=0.0,
        duration=sum(fit),
        fit_seconds=fit,
    )
