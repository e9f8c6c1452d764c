"""Model selection and hyperparameter search: time-budgeted, parallel, pruned, warm-started.

:func:`search` chooses a model family and its hyperparameters for a training frame, and returns
the winner refitted on all of it. How:

- **Trials** are proposed by Optuna (``tpe``, seeded: the same seed gives the same proposals;
  ``random``; or ``grid``, which walks :data:`~noria.train.spaces.GRIDS`). Each trial is a family
  and its parameters, scored by cross-validation (``kfold``, ``holdout`` or ``time`` splits).
- **A portfolio first**: every family's defaults are tried before anything is tuned, so the
  linear model and the defaults of the boosters are always on the leaderboard; a warm start puts
  earlier winners (the champion's params, the best earlier trials) before even that.
- **In parallel, in processes**: trials run in a pool of worker processes (not threads held by
  the GIL), each fit on one thread, so ``n_jobs`` trials run at once on ``n_jobs`` cores. The data
  is sent to each worker once.
- **Pruned**: a trial's folds run one after another and Optuna's successive-halving pruner stops
  a trial whose running score is in the bottom of what earlier trials had at the same fold.
- **On budget**: no trial starts after the deadline, and the trials still running then are
  killed with their processes, so the search ends within its budget however slow a trial is —
  the deadline keeps back the time the final refit is expected to take. When not one trial
  finished in time, the linear baseline is returned with a warning.
- A family whose defaults fail to fit is recorded, skipped from then on, and the search goes on.

Not here: recording trials as runs (the pipeline's step does that), preprocessing rules
(:mod:`noria.features.preprocess`), metric definitions (:mod:`noria.evaluate.metrics`).
"""

from __future__ import annotations

import math
import os
import queue
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from noria.errors import ConfigError, DataError, did_you_mean
from noria.evaluate.metrics import check_metric, compute_metrics, default_metric, greater_is_better
from noria.train.candidates import check_family, check_task, make_estimator
from noria.train.spaces import GRIDS, SPACES, Param, check_space

__all__ = [
    "DEFAULT_FAMILIES",
    "SAMPLERS",
    "VALIDATIONS",
    "SearchResult",
    "TrialRecord",
    "build_model",
    "search",
]

SAMPLERS = ("tpe", "random", "grid")
VALIDATIONS = ("kfold", "holdout", "time")
#: Families searched when none are named (XGBoost joins when it is installed).
DEFAULT_FAMILIES = ("linear", "lightgbm", "hist_gradient_boosting", "random_forest", "extra_trees")
#: Metrics for which a search also tries balanced class weights.
_IMBALANCE_METRICS = ("f1", "recall", "precision", "balanced_accuracy")
_SCALED = ("linear", "knn")  # families that need standardized features


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial of a search: a family and its params, how it ended and its CV score."""

    number: int
    family: str
    params: dict[str, Any]
    status: str  # complete | pruned | failed
    score: float | None
    fold_scores: tuple[float, ...]
    started: float  # seconds after the search started
    duration: float
    error: str | None = None


@dataclass
class SearchResult:
    """The outcome of :func:`search`; ``model`` is refitted on all the training data."""

    model: Any
    best_family: str
    best_params: dict[str, Any]
    best_score: float | None
    metric: str
    greater_is_better: bool
    elapsed: float
    trials: list[TrialRecord]
    warnings: list[str] = field(default_factory=list)

    def leaderboard(self, n: int = 10) -> list[TrialRecord]:
        """The best ``n`` complete trials, best first."""
        done = [t for t in self.trials if t.status == "complete" and t.score is not None]
        done.sort(key=lambda t: t.score, reverse=self.greater_is_better)  # type: ignore[arg-type]
        return done[:n]


# ------------------------------------------------------------------------- the model itself


def build_model(
    family: str,
    params: Mapping[str, Any],
    *,
    task: str,
    plan: Any,
    seed: int,
    high_cardinality: str = "ordinal",
    scale: bool = True,
    n_jobs: int = 1,
) -> Any:
    """Preprocessing (from the column plan) and the family's estimator, as one sklearn Pipeline.

    Numeric features are standardized for the families that need it (linear, k-NN) unless
    ``scale`` is false.
    """
    from sklearn.pipeline import Pipeline

    from noria.features.preprocess import build_preprocessor

    estimator_params = dict(params)
    if family == "hist_gradient_boosting":  # boosting rounds stop early on an inner split
        estimator_params = {"max_iter": 500, "early_stopping": True, **estimator_params}
    preprocess = build_preprocessor(
        plan, scale=scale and family in _SCALED, high_cardinality=high_cardinality
    )
    model = make_estimator(family, task, seed=seed, n_jobs=n_jobs, params=estimator_params)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def _score(model: Any, X: pd.DataFrame, y: pd.Series, task: str, metric: str) -> float:
    proba = None
    if task == "classification" and hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
    classes = list(getattr(model, "classes_", [])) or None
    scores = compute_metrics(task, y, model.predict(X), y_proba=proba, classes=classes)
    if metric not in scores:
        raise DataError(f"metric '{metric}' cannot be computed on this validation fold")
    return float(scores[metric])


# ------------------------------------------------------------------------- worker processes

_W: dict[str, Any] = {}


def _init_worker(state: dict[str, Any]) -> None:
    """Runs once in each worker: keep the data, fit on one thread."""
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    _W.update(state)
    _W["limits"] = threadpool_limits(1)


def _fit_fold(family: str, params: dict[str, Any], fold: int) -> tuple[float, float]:
    """Fit on a fold's training rows, score on its validation rows: ``(score, seconds)``."""
    t0 = time.perf_counter()
    train, valid = _W["folds"][fold]
    X, y = _W["X"], _W["y"]
    model = build_model(
        family,
        params,
        task=_W["task"],
        plan=_W["plan"],
        seed=_W["seed"],
        high_cardinality=_W["high_cardinality"],
        scale=_W["scale"],
    )
    model.fit(X.iloc[train], y.iloc[train])
    score = _score(model, X.iloc[valid], y.iloc[valid], _W["task"], _W["metric"])
    if not math.isfinite(score):
        raise ValueError(f"the {_W['metric']} score is {score}")
    return score, time.perf_counter() - t0


# ------------------------------------------------------------------------- the search


def _folds(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    task: str,
    validation: str,
    n_folds: int,
    seed: int,
    time_column: str | None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, train_test_split

    index = np.arange(len(X))
    stratify = task == "classification" and y.value_counts().min() >= max(n_folds, 2)
    if validation == "holdout":
        train, valid = train_test_split(
            index, test_size=0.2, random_state=seed, stratify=y if stratify else None
        )
        return [(np.sort(train), np.sort(valid))]
    if validation == "time":
        if time_column is None or time_column not in X.columns:
            names = list(map(str, X.columns))
            hint = did_you_mean(str(time_column), names) if time_column else ""
            raise ConfigError(
                f"validation 'time' needs split.time_column naming a column{hint}; "
                f"got {time_column!r}"
            )
        order = np.argsort(X[time_column].to_numpy(), kind="stable")
        return [(order[a], order[b]) for a, b in TimeSeriesSplit(n_folds).split(order)]
    splitter = (
        StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        if stratify
        else KFold(n_folds, shuffle=True, random_state=seed)
    )
    return list(splitter.split(index, y if stratify else None))


def _check_target(y: pd.Series, task: str) -> None:
    if task == "regression":
        values = pd.to_numeric(y, errors="coerce").astype("float64")
        bad = int((~np.isfinite(values.to_numpy())).sum())
    else:
        bad = int(y.isna().sum())
    if bad:
        raise DataError(
            f"the target has {bad} of {len(y)} rows with NaN or infinite values; drop or fix "
            "those rows before the search"
        )


def _spaces(
    families: Sequence[str],
    task: str,
    metric: str,
    y: pd.Series,
    user: Mapping[str, Mapping[str, Param]] | None,
) -> dict[str, dict[str, Param]]:
    out: dict[str, dict[str, Param]] = {}
    imbalanced = task == "classification" and (
        metric in _IMBALANCE_METRICS or y.value_counts(normalize=True).min() < 0.2
    )
    for family in families:
        space = dict((user or {}).get(family) or SPACES.get(family, {}).get(task, {}))
        check_space(family, space)
        if imbalanced and family not in ("knn", "xgboost") and "class_weight" not in space:
            space["class_weight"] = Param("categorical", choices=(None, "balanced"))
        out[family] = space
    return out


def _suggest(trial: Any, family: str, space: Mapping[str, Param]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, p in space.items():
        key = f"{family}__{name}"
        if p.kind == "float":
            params[name] = trial.suggest_float(key, p.low, p.high, log=p.log)
        elif p.kind == "int":
            params[name] = trial.suggest_int(key, int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
        else:
            params[name] = trial.suggest_categorical(key, list(p.choices))
    return params


def _grid_points(families: Sequence[str], task: str) -> list[dict[str, Any]]:
    import itertools

    points = []
    for family in families:
        grid = {
            k: v
            for k, v in GRIDS.get(family, {}).items()
            if k in SPACES.get(family, {}).get(task, {})
        }
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            points.append({"family": family, **dict(zip(keys, values, strict=True))})
    return points


def search(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    task: str,
    metric: str = "auto",
    time_budget: float | None = None,
    n_trials: int | None = None,
    families: Sequence[str] | None = None,
    spaces: Mapping[str, Mapping[str, Param]] | None = None,
    sampler: str = "tpe",
    seed: int = 0,
    n_jobs: int | None = None,
    folds: int = 3,
    validation: str = "kfold",
    time_column: str | None = None,
    pruning: bool = True,
    warm_start: SearchResult | Sequence[Mapping[str, Any]] | None = None,
    plan: Any = None,
    high_cardinality: str = "ordinal",
    scale: bool = True,
    on_trial: Callable[[TrialRecord], None] | None = None,
    refit: bool = True,
) -> SearchResult:
    """Search model families and hyperparameters; return the best, refitted on all of ``X``.

    Args:
        X: the training features (raw columns: strings, NaN and dates are preprocessed).
        y: the target.
        task: ``classification`` or ``regression``.
        metric: what to optimise; ``auto`` is ROC AUC or RMSE.
        time_budget: seconds for the whole search, refit included.
        n_trials: the most trials to run. Without either budget, 20 trials.
        families: the families to try; :data:`DEFAULT_FAMILIES` by default.
        spaces: a space per family replacing the built-in one.
        sampler: ``tpe`` (Bayesian), ``random`` or ``grid``.
        seed: makes proposals, folds and models reproducible.
        n_jobs: trials at once, each in its own process; all cores by default.
        folds: cross-validation folds (``kfold`` and ``time``).
        validation: ``kfold``, ``holdout`` (one 80/20 split) or ``time`` (expanding windows
            over ``time_column``).
        time_column: the column that orders rows for ``validation="time"``.
        pruning: stop unpromising trials between folds (successive halving).
        warm_start: an earlier :class:`SearchResult`, or ``{"family": …, "params": {…}}``
            records (the champion's params first), tried before anything else.
        plan: a :class:`~noria.features.preprocess.ColumnPlan`; planned from ``X`` otherwise.
        high_cardinality: ``ordinal`` or ``target`` encoding of many-valued categoricals.
        scale: standardize numeric features for the linear and k-NN families.
        on_trial: called with each trial as it ends.
        refit: fit the winner on all of ``X`` (``model`` is ``None`` without).

    Raises:
        ConfigError: an unknown family, sampler, validation or metric, or an invalid space.
        DataError: NaN or infinite values in the target.
    """
    import optuna

    t0 = time.perf_counter()
    check_task(task)
    metric = default_metric(task) if metric == "auto" else check_metric(metric, task)
    maximize = greater_is_better(metric)
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler '{sampler}' is unknown{did_you_mean(sampler, SAMPLERS)}")
    if validation not in VALIDATIONS:
        raise ConfigError(
            f"validation '{validation}' is unknown{did_you_mean(validation, VALIDATIONS)}; "
            f"use one of {', '.join(VALIDATIONS)}"
        )
    if families is None:
        families = list(DEFAULT_FAMILIES)
        if _has("xgboost"):
            families.append("xgboost")
    families = [check_family(f) for f in families]
    if not families:
        raise ConfigError("models.candidates is empty: name at least one family")
    X = X.reset_index(drop=True)
    y = y.reset_index(drop=True)
    _check_target(y, task)
    family_spaces = _spaces(families, task, metric, y, spaces)
    if time_budget is None and n_trials is None:
        n_trials = 20
    if plan is None:
        from noria.features.preprocess import plan_columns

        target = "__noria_target__"
        plan = plan_columns(X.assign(**{target: y.to_numpy()}), target=target)
    cv = _folds(
        X, y, task=task, validation=validation, n_folds=folds, seed=seed, time_column=time_column
    )
    notes: list[str] = []

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed, n_startup_trials=len(families)),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "grid": lambda: optuna.samplers.RandomSampler(seed=seed),
    }
    pruner = (
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        if pruning and len(cv) > 1
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        sampler=samplers[sampler](),
        pruner=pruner,
    )
    queued: list[tuple[str, dict[str, Any]]] = []
    for w in _warm_records(warm_start):
        if w["family"] in families:
            queued.append((w["family"], dict(w["params"])))
    if sampler == "grid":
        for point in _grid_points(families, task):
            family = point.pop("family")
            queued.append((family, point))
        n_trials = min(n_trials or len(queued), len(queued)) if n_trials else len(queued)
    else:
        queued.extend((f, {}) for f in families)

    deadline = t0 + time_budget if time_budget is not None else math.inf
    workers = max(1, min(n_jobs or os.cpu_count() or 1, n_trials or 10**9))
    state = {
        "X": X,
        "y": y,
        "folds": cv,
        "plan": plan,
        "task": task,
        "metric": metric,
        "seed": seed,
        "high_cardinality": high_cardinality,
        "scale": scale,
    }
    runner = _Runner(workers, state)
    records: list[TrialRecord] = []
    failed_families: set[str] = set()
    active: dict[int, dict[str, Any]] = {}  # trial number -> its state
    fit_seconds: dict[int, list[float]] = {}
    asked = 0

    def reserve() -> float:
        """Seconds to keep for the refit of the current best on all rows."""
        best = _best(records, maximize)
        if best is None:
            return 0.0
        per_fold = fit_seconds.get(best.number) or [0.0]
        return 1.3 * float(np.mean(per_fold)) * len(cv) / max(len(cv) - 1, 1) + 0.1

    def finish(number: int, status: str, error: str | None = None) -> None:
        info = active.pop(number)
        scores = tuple(info["scores"])
        value = float(np.mean(scores)) if status == "complete" else None
        if status == "complete":
            study.tell(info["trial"], value)
        elif status == "pruned":
            study.tell(info["trial"], state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(info["trial"], state=optuna.trial.TrialState.FAIL)
        record = TrialRecord(
            number=number,
            family=info["family"],
            params=info["params"],
            status=status,
            score=value,
            fold_scores=scores,
            started=info["started"] - t0,
            duration=time.perf_counter() - info["started"],
            error=error,
        )
        records.append(record)
        if on_trial is not None:
            on_trial(record)

    for family, fixed in queued:  # asked first, in this order, with exactly these params
        study.enqueue_trial({"family": family, **{f"{family}__{k}": v for k, v in fixed.items()}})
    n_queued = len(queued)

    def new_trial() -> bool:
        nonlocal asked
        while True:
            if sampler == "grid" and asked >= n_queued:
                return False
            trial = study.ask()
            family = trial.suggest_categorical("family", families)
            if asked < n_queued:
                fixed = queued[asked][1]
                space = family_spaces[family]
                params = {
                    k: _suggest(trial, family, {k: space[k]})[k] if k in space else v
                    for k, v in fixed.items()
                }
            elif family in failed_families:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                if len(failed_families) == len(families):
                    return False
                continue
            else:
                params = _suggest(trial, family, family_spaces[family])
            asked += 1
            active[trial.number] = {
                "trial": trial,
                "family": family,
                "params": params,
                "scores": [],
                "started": time.perf_counter(),
                "queued": asked <= n_queued,
            }
            runner.submit(trial.number, family, params, 0)
            return True

    try:
        while True:
            now = time.perf_counter()
            stop_at = deadline - reserve()
            budget_left = n_trials is None or asked < n_trials
            while runner.free() and now < stop_at and budget_left and new_trial():
                budget_left = n_trials is None or asked < n_trials
            if not active:
                break
            wait = None if math.isinf(stop_at) else max(0.0, stop_at - time.perf_counter())
            item = runner.next(timeout=wait)
            if item is None:  # the deadline: kill what still runs
                runner.kill()
                for number in list(active):
                    finish(number, "pruned", "stopped at the time budget")
                break
            number, fold, outcome = item
            info = active[number]
            if isinstance(outcome, BaseException):
                error = f"{type(outcome).__name__}: {outcome}"
                if not info["params"]:
                    failed_families.add(info["family"])
                    notes.append(f"family '{info['family']}' failed to fit and is skipped: {error}")
                finish(number, "failed", error)
                continue
            score, seconds = outcome
            info["scores"].append(score)
            fit_seconds.setdefault(number, []).append(seconds)
            info["trial"].report(float(np.mean(info["scores"])), fold)
            if fold + 1 == len(cv):
                finish(number, "complete")
            elif not info["queued"] and info["trial"].should_prune():  # baselines run whole
                finish(number, "pruned")
            else:
                runner.submit(number, info["family"], info["params"], fold + 1)
    finally:
        runner.close()

    best = _best(records, maximize)
    if best is None:
        family, params = "linear", {}
        notes.append(
            "no trial finished within the budget; returning the linear baseline with its "
            "defaults — give the search more time"
        )
        warnings.warn(notes[-1], stacklevel=2)
    else:
        family, params = best.family, best.params
    model = None
    if refit:
        model = build_model(
            family,
            params,
            task=task,
            plan=plan,
            seed=seed,
            high_cardinality=high_cardinality,
            scale=scale,
            n_jobs=n_jobs or os.cpu_count() or 1,
        )
        model.fit(X, y)
    return SearchResult(
        model=model,
        best_family=family,
        best_params=dict(params),
        best_score=best.score if best else None,
        metric=metric,
        greater_is_better=maximize,
        elapsed=time.perf_counter() - t0,
        trials=sorted(records, key=lambda r: r.number),
        warnings=notes,
    )


def _best(records: Sequence[TrialRecord], maximize: bool) -> TrialRecord | None:
    done = [r for r in records if r.status == "complete" and r.score is not None]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda r: r.score)  # type: ignore[arg-type,return-value]


def _warm_records(
    warm: SearchResult | Sequence[Mapping[str, Any]] | None, n: int = 5
) -> list[Mapping[str, Any]]:
    if warm is None:
        return []
    if isinstance(warm, SearchResult):
        best = [{"family": warm.best_family, "params": warm.best_params}]
        best += [{"family": t.family, "params": t.params} for t in warm.leaderboard(n)]
        warm = best
    seen, out = set(), []
    for w in warm:
        key = (w["family"], tuple(sorted((k, repr(v)) for k, v in w.get("params", {}).items())))
        if key not in seen:
            seen.add(key)
            out.append({"family": w["family"], "params": dict(w.get("params", {}))})
    return out[:n]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


class _Runner:
    """A pool of worker processes for fold fits, started lazily, killable at the deadline.

    It is loky's process pool (shipped with joblib): unlike ``multiprocessing``'s spawn, it
    does not re-run the user's ``__main__``, so a plain script or a notebook needs no
    ``if __name__ == "__main__"`` guard.
    """

    def __init__(self, workers: int, state: dict[str, Any]) -> None:
        self.workers = workers
        self.state = state
        self.pool: Any = None
        self.results: queue.Queue[tuple[int, int, Any]] = queue.Queue()
        self.running = 0

    def free(self) -> bool:
        return self.running < self.workers

    def submit(self, number: int, family: str, params: dict[str, Any], fold: int) -> None:
        if self.pool is None:
            from joblib.externals.loky import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                self.workers, initializer=_init_worker, initargs=(self.state,)
            )
        self.running += 1
        future = self.pool.submit(_fit_fold, family, params, fold)

        def done(f: Any) -> None:
            exc = f.exception()
            self.results.put((number, fold, exc if exc is not None else f.result()))

        future.add_done_callback(done)

    def next(self, timeout: float | None) -> tuple[int, int, Any] | None:
        try:
            item = self.results.get(timeout=timeout)
        except queue.Empty:
            return None
        self.running -= 1
        return item

    def kill(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, kill_workers=True)
            self.pool = None
        self.running = 0

    def close(self) -> None:
        self.kill()
