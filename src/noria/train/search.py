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
  the GIL), each fit on one thread, so ``n_jobs`` trials run at once on ``n_jobs`` cores. The
  pool is started first thing, before the data is prepared, because a fresh worker spends
  seconds importing scikit-learn; the data goes to the workers through one temporary file that
  each loads once. A pool whose search ended with nothing running stays warm for the next
  search in the same process (its idle workers exit after :data:`IDLE_TIMEOUT_S`).
- **Folds are the unit of work**: a tuned trial's folds run one after another and Optuna's
  successive-halving pruner stops a trial whose running score is in the bottom of what earlier
  trials had at the same fold; an enqueued trial's folds (the portfolio, warm-start records,
  the grid: never pruned) run in parallel, so the first defaults are scored one fold's time
  after the workers are up. No fold starts that is expected (by the trial's or its family's
  earlier folds) to end after the deadline.
- **The parent works too while the workers start**: folds of cheap enqueued trials — the linear
  model's defaults on at most :data:`IN_PROCESS_CELLS` cells first, then the boosters' defaults
  on small data, and warm-start trials whose earlier folds each fit within
  :data:`IN_PROCESS_FOLD_S` — run in the search's own process, one at a time, each only when it
  is expected to end well before the deadline (they cannot be killed). So a small budget still
  ends with the linear baseline scored, and a retrain scores the champion's params at once.
- **On budget**: ``time_budget`` covers the whole call — the set-up, the trials and the
  refit(s) of the winner (decided so: a caller's budget is the time until it has a model); the
  time budget governs, ``n_trials`` only caps when given. No fold starts after the trials'
  deadline, and the folds still running then are killed with their processes, so the search
  ends within its budget however slow a trial is. The trials' deadline keeps back
  ``refit_reserve`` times the time a refit is expected to take
  (:mod:`noria.train.budget`): of the best trial so far, or of the linear baseline while no
  trial is complete. ``refit_reserve`` is 1 for the search's own refit; a caller that refits
  itself says how much (the pipeline's ``model`` step: 1). If the winner would not refit in
  the time left, the best one that would is taken instead, with a note; the refit runs on one
  thread unless it is long on many rows. When not one trial finished in time, the linear
  baseline is returned with a warning that says why.
- **The winner** (:mod:`noria.train.ranking`): ties within noise (one standard error of the
  fold-by-fold differences) are broken by log loss when it separates them, then go to the
  quickest to fit.
- **Warm start**: a retrain tries the champion's params first (the first record is the
  champion; its re-run on the new data is trial 0). When the champion's own trial score is
  known (a :class:`SearchResult`, or a record with ``score``), the search stops once, after
  that re-run, a trial matches it within noise (the standard error of its fold scores): the
  retrain has the champion's quality at a fraction of the first search's time. The re-run is
  a floor: no trial that scored worse wins. Pass ``warm_stop=False`` to spend the whole budget
  trying to beat it.
- **Progress**: a :class:`~noria.train.progress.SearchProgress` (trials done, best score,
  time left) goes to ``on_progress`` and to ``noria run``'s live view when a trial ends and
  about once a second.
- A family whose defaults fail to fit is recorded, skipped from then on, and the search goes on.

Not here: recording trials as runs (the pipeline's step does that), preprocessing rules
(:mod:`noria.features.preprocess`), metric definitions (:mod:`noria.evaluate.metrics`).
"""

from __future__ import annotations

import math
import os
import pickle
import queue
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from noria.errors import ConfigError, DataError, did_you_mean
from noria.evaluate.metrics import check_metric, compute_metrics, default_metric, greater_is_better
from noria.features.preprocess import build_preprocessor, plan_columns
from noria.train.budget import (
    REFIT_MARGIN_S,
    REFIT_SAFETY,
    baseline_refit_seconds,
    fallback_note,
    fit_on_threads,
    fold_prior,
    quickest_family,
    refit_jobs,
    refit_seconds,
)
from noria.train.candidates import check_family, check_task, make_estimator
from noria.train.progress import SearchProgress, report
from noria.train.ranking import Board, board, choose, choose_partial
from noria.train.spaces import GRIDS, SPACES, Param, check_space

__all__ = [
    "DEFAULT_FAMILIES",
    "IDLE_TIMEOUT_S",
    "IN_PROCESS_CELLS",
    "IN_PROCESS_FOLD_S",
    "REFIT_MARGIN_S",
    "REFIT_SAFETY",
    "SAMPLERS",
    "VALIDATIONS",
    "SearchProgress",
    "SearchResult",
    "TrialRecord",
    "build_model",
    "refit_seconds",
    "search",
]

SAMPLERS = ("tpe", "random", "grid")
VALIDATIONS = ("kfold", "holdout", "time")
#: Families searched when none are named (XGBoost joins when it is installed).
DEFAULT_FAMILIES = ("linear", "lightgbm", "hist_gradient_boosting", "random_forest", "extra_trees")
#: Metrics for which a search also tries balanced class weights.
_IMBALANCE_METRICS = ("f1", "recall", "precision", "balanced_accuracy")


def weights_searched(task: str, metric: str, y: pd.Series) -> bool:
    """Whether the search also tries balanced class weights: the metric needs them, or a class
    is rarer than 20 % (a winner with weights is then calibrated after the refit)."""
    return task == "classification" and (
        metric in _IMBALANCE_METRICS or y.value_counts(normalize=True).min() < 0.2
    )
_SCALED = ("linear", "knn")  # families that need standardized features
#: Families whose defaults may be fitted in the search's own process while the workers start.
_LANE_FAMILIES = ("linear", "lightgbm", "hist_gradient_boosting", "xgboost")
#: Rows × columns (× half the classes, of four or more) up to which this process fits the linear
#: defaults.
IN_PROCESS_CELLS = 1_000_000
#: The longest fold (seconds; measured for a warm-start record, else a prior from the data's
#: size) that the search's own process takes on while the workers start.
IN_PROCESS_FOLD_S = 3.0
#: Seconds after which the idle workers of a kept pool exit (a later search restarts them).
IDLE_TIMEOUT_S = 120.0
#: Seconds between two progress reports while nothing ends (a trial's end reports at once).
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial of a search: a family and its params, how it ended and its CV score.

    ``fit_seconds`` are the seconds each fold's fit took (without scoring); ``started`` is in
    seconds after the search was called. ``fold_log_loss`` (classification, when the metric is
    not log loss itself) breaks ties within noise (:mod:`noria.train.ranking`).
    """

    number: int
    family: str
    params: dict[str, Any]
    status: str  # complete | pruned | failed
    score: float | None
    fold_scores: tuple[float, ...]
    started: float  # seconds after the search started
    duration: float
    error: str | None = None
    fit_seconds: tuple[float, ...] = ()
    fold_log_loss: tuple[float, ...] = ()


@dataclass
class SearchResult:
    """The outcome of :func:`search`; ``model`` is refitted on all the training data.

    For a caller that refits the winner itself (``refit=False``): ``refit_seconds`` is the time
    one refit of the winner on all of ``X`` is expected to take (on one thread), ``refit_jobs``
    the threads to fit it on (:func:`noria.train.budget.refit_jobs`), and ``deadline`` the
    wall-clock time (``time.time()``) by which the call's ``time_budget`` ends (``None``
    without one): the time the search kept back, ``refit_reserve`` refits' worth, lies between
    its end and ``deadline``. ``best_number`` is the winning trial (``None``: the fallback
    baseline).
    """

    model: Any
    best_family: str
    best_params: dict[str, Any]
    best_score: float | None
    metric: str
    greater_is_better: bool
    elapsed: float
    trials: list[TrialRecord]
    warnings: list[str] = field(default_factory=list)
    best_number: int | None = None
    refit_seconds: float | None = None
    refit_jobs: int = 1
    deadline: float | None = None

    def leaderboard(self, n: int = 10) -> list[TrialRecord]:
        """The best ``n`` complete trials, best score first (a stable API: warm starts and
        callers use it)."""
        done = [t for t in self.trials if t.status == "complete" and t.score is not None]
        done.sort(key=lambda t: t.score, reverse=self.greater_is_better)  # type: ignore[arg-type]
        return done[:n]

    def board(self, top: int = 10) -> Board:
        """What a leaderboard shows: the best ``top`` trials, the portfolio's defaults (the
        linear baseline among them) and the winner wherever they ranked, and how many trials
        it leaves out (:func:`noria.train.ranking.board`)."""
        return board(
            self.trials, top=top, maximize=self.greater_is_better, always=[self.best_number]
        )


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

    estimator_params = dict(params)
    if family == "hist_gradient_boosting":  # boosting rounds stop early on an inner split
        estimator_params = {"max_iter": 500, "early_stopping": True, **estimator_params}
    preprocess = build_preprocessor(
        plan, scale=scale and family in _SCALED, high_cardinality=high_cardinality
    )
    model = make_estimator(family, task, seed=seed, n_jobs=n_jobs, params=estimator_params)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def _score(model: Any, X: pd.DataFrame, y: pd.Series, task: str, metric: str) -> float:
    """``metric`` of ``model`` on ``(X, y)``, as :func:`~noria.evaluate.metrics.compute_metrics`."""
    return _scores(model, X, y, task, metric)[0]


def _scores(
    model: Any, X: pd.DataFrame, y: pd.Series, task: str, metric: str
) -> tuple[float, float | None]:
    """``metric`` of ``model`` on ``(X, y)``, and its log loss (the tie-breaker; ``None`` for
    regression, for the log-loss metric itself, or when it cannot be computed).

    The features are transformed once: a classifier's labels are the most probable classes of
    its probabilities. ROC AUC, log loss, accuracy and the regression metrics are computed
    alone; the others through ``compute_metrics``.
    """
    from sklearn.metrics import (
        accuracy_score,
        log_loss,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
        roc_auc_score,
    )

    truth = np.asarray(y)
    if task == "regression":
        pred = np.asarray(model.predict(X), dtype=float)
        truth = truth.astype(float)
        if metric == "rmse":
            return float(np.sqrt(mean_squared_error(truth, pred))), None
        if metric == "mae":
            return float(mean_absolute_error(truth, pred)), None
        if metric == "r2" and len(truth) > 1:
            return float(r2_score(truth, pred)), None
        return _all_metrics(task, truth, pred, None, None, metric), None
    classes = np.asarray(getattr(model, "classes_", []))
    if not hasattr(model, "predict_proba") or len(classes) < 2:
        score = _all_metrics(task, truth, model.predict(X), None, list(classes) or None, metric)
        return score, None
    proba = np.asarray(model.predict_proba(X), dtype=float)
    pred = classes[np.argmax(proba, axis=1)]
    present = np.unique(truth)
    loss = None
    if proba.shape[1] == len(classes) and len(present) > 1 and np.isin(present, classes).all():
        loss = float(log_loss(truth, proba, labels=classes))
        loss = loss if math.isfinite(loss) else None
    if metric == "accuracy":
        return float(accuracy_score(truth, pred)), loss
    if metric == "roc_auc" and len(present) > 1 and proba.shape[1] == len(classes):
        if len(classes) == 2:
            return float(roc_auc_score(truth == classes[1], proba[:, 1])), loss
        aucs = [
            roc_auc_score(truth == label, proba[:, k])
            for k, label in enumerate(classes)
            if 0 < np.sum(truth == label) < len(truth)
        ]
        return float(np.mean(aucs)), loss
    if metric == "log_loss" and len(present) > 1 and proba.shape[1] == len(classes):
        return float(log_loss(truth, proba, labels=classes)), None
    return _all_metrics(task, truth, pred, proba, list(classes), metric), loss


def _all_metrics(
    task: str, truth: Any, pred: Any, proba: Any, classes: list[Any] | None, metric: str
) -> float:
    scores = compute_metrics(task, truth, pred, y_proba=proba, classes=classes)
    if metric not in scores:
        raise DataError(f"metric '{metric}' cannot be computed on this validation fold")
    return float(scores[metric])


# ------------------------------------------------------------------------- worker processes

_W: dict[str, Any] = {}  # a worker's state: its thread limits, the search's data and its token


def _init_worker() -> None:
    """Runs once in each worker: fit on one thread, and import what every fold needs.

    Unpickling this function imports this module, and with it scikit-learn's preprocessing and
    metrics: the slow part of a worker's start (seconds), done while the parent prepares the
    data.
    """
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    _W["limits"] = threadpool_limits(1)
    import sklearn.pipeline  # noqa: F401


def _ping() -> int:
    """A task that tells when a worker is up (its initializer has run)."""
    return os.getpid()


def _forget() -> None:
    """Drop the data of the last search (a kept pool's idle workers hold no copy)."""
    _W.pop("state", None)
    _W.pop("token", None)


def _fold_task(
    token: str, path: str, family: str, params: dict[str, Any], fold: int
) -> tuple[float, float, float, float | None]:
    """A fold fit in a worker: the search's data is loaded from ``path`` once per search."""
    if _W.get("token") != token:
        with open(path, "rb") as fh:
            _W["state"] = pickle.load(fh)
        _W["token"] = token
    return _fit_fold(_W["state"], family, params, fold)


def _fit_fold(
    state: Mapping[str, Any], family: str, params: dict[str, Any], fold: int
) -> tuple[float, float, float, float | None]:
    """Fit on a fold's training rows, score on its validation rows.

    Returns:
        ``(score, seconds to fit, seconds in all, log loss or None)``.
    """
    t0 = time.perf_counter()
    train, valid = state["folds"][fold]
    X, y = state["X"], state["y"]
    model = build_model(
        family,
        params,
        task=state["task"],
        plan=state["plan"],
        seed=state["seed"],
        high_cardinality=state["high_cardinality"],
        scale=state["scale"],
    )
    model.fit(X.iloc[train], y.iloc[train])
    fitted = time.perf_counter() - t0
    score, loss = _scores(model, X.iloc[valid], y.iloc[valid], state["task"], state["metric"])
    if not math.isfinite(score):
        raise ValueError(f"the {state['metric']} score is {score}")
    return score, fitted, time.perf_counter() - t0, loss


def _fit_fold_here(
    state: Mapping[str, Any], family: str, params: dict[str, Any], fold: int
) -> tuple[float, float, float, float | None]:
    """A fold fit in the search's own process, on one thread and without warnings, as a worker."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fit_fold(state, family, params, fold)


class _Pool:
    """Worker processes for fold fits: loky's process pool, started at once, kept when idle.

    It is loky's executor (shipped with joblib): unlike ``multiprocessing``'s spawn, it does not
    re-run the user's ``__main__``, so a plain script or a notebook needs no
    ``if __name__ == "__main__"`` guard. The workers are started by a ``_ping`` each as soon as
    the pool is made; ``ready`` is set when the first one answers.
    """

    def __init__(self, workers: int) -> None:
        from joblib.externals.loky import ProcessPoolExecutor

        self.workers = workers
        self.executor: Any = ProcessPoolExecutor(
            workers, initializer=_init_worker, timeout=IDLE_TIMEOUT_S
        )
        self.ready = threading.Event()
        self.up = 0  # workers that answered their ping
        self.used = time.monotonic()
        self.dead = False
        for _ in range(workers):
            self.executor.submit(_ping).add_done_callback(self._answered)

    def _answered(self, _future: Any) -> None:
        self.up += 1
        self.ready.set()

    @property
    def warm(self) -> bool:
        """Whether its workers are up (and have not exited for being idle)."""
        return self.ready.is_set() and time.monotonic() - self.used < IDLE_TIMEOUT_S - 5

    def kill(self) -> None:
        """Kill the workers now, whatever they are doing; the pool is not used again."""
        if not self.dead:
            self.dead = True
            self.executor.shutdown(wait=False, kill_workers=True)


_IDLE_POOLS: list[_Pool] = []  # at most one warm pool kept for the next search
_IDLE_POOLS_AT_EXIT: list[bool] = []  # whether _drop_kept_pools is registered with atexit
_POOLS_LOCK = threading.Lock()


def _acquire_pool(workers: int) -> _Pool:
    """A kept warm pool of ``workers`` workers, or a new one (started now)."""
    with _POOLS_LOCK:
        for i, pool in enumerate(_IDLE_POOLS):
            if pool.workers == workers and not pool.dead:
                return _IDLE_POOLS.pop(i)
    return _Pool(workers)


def _release_pool(pool: _Pool, *, idle: bool) -> None:
    """Keep ``pool`` for the next search when nothing runs in it; kill it otherwise."""
    if not idle or pool.dead:
        pool.kill()
        return
    try:
        # only once every worker is up: a task queued behind a starting worker would be in
        # loky's way if the pool is killed (at exit) before it ran
        for _ in range(pool.workers if pool.up >= pool.workers else 0):
            pool.executor.submit(_forget)
    except Exception:  # a broken or shut-down executor
        pool.kill()
        return
    pool.used = time.monotonic()
    with _POOLS_LOCK:
        if not _IDLE_POOLS_AT_EXIT:
            # Before loky's own exit handler, which waits for workers still starting (seconds
            # to tens of seconds on a busy machine): threading's exit hooks run last-in first,
            # before the interpreter joins threads and long before plain atexit handlers.
            import atexit

            at_exit = getattr(threading, "_register_atexit", atexit.register)
            at_exit(_drop_kept_pools)
            _IDLE_POOLS_AT_EXIT.append(True)
        _IDLE_POOLS.append(pool)
        while len(_IDLE_POOLS) > 1:
            _IDLE_POOLS.pop(0).kill()


def _drop_kept_pools() -> None:
    """Kill the kept pool's workers (at exit: none outlives the process, none delays it)."""
    with _POOLS_LOCK:
        while _IDLE_POOLS:
            _IDLE_POOLS.pop().kill()


class _Runner:
    """Submits fold fits to a pool and hands back their outcomes in the order they end."""

    def __init__(self, pool: _Pool, token: str, path: str) -> None:
        self.pool = pool
        self.token = token
        self.path = path
        self.results: queue.Queue[tuple[int, int, Any]] = queue.Queue()
        self.running = 0

    @property
    def workers(self) -> int:
        return self.pool.workers

    def free(self) -> bool:
        return self.running < self.pool.workers

    def submit(self, number: int, family: str, params: dict[str, Any], fold: int) -> None:
        args = (self.token, self.path, family, params, fold)
        try:
            future = self.pool.executor.submit(_fold_task, *args)
        except Exception:  # the pool broke (a worker died): start a new one
            self.pool.kill()
            self.pool = _Pool(self.pool.workers)
            future = self.pool.executor.submit(_fold_task, *args)
        self.running += 1

        def done(f: Any) -> None:
            exc = f.exception()
            self.results.put((number, fold, exc if exc is not None else f.result()))

        future.add_done_callback(done)

    def next(self, timeout: float | None) -> tuple[int, int, Any] | None:
        """The next outcome; ``None`` when none came within ``timeout`` seconds."""
        try:
            item = self.results.get(timeout=timeout) if timeout != 0 else self.results.get_nowait()
        except queue.Empty:
            return None
        self.running -= 1
        return item

    def kill(self) -> None:
        self.pool.kill()
        self.running = 0


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
    labels = y.to_numpy() if stratify else None  # NumPy: no dataframe interop on the way
    if validation == "holdout":
        train, valid = train_test_split(index, test_size=0.2, random_state=seed, stratify=labels)
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
    return list(splitter.split(index, labels))


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
    imbalanced = weights_searched(task, metric, y)
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
    warm_stop: bool = True,
    plan: Any = None,
    high_cardinality: str = "ordinal",
    scale: bool = True,
    on_trial: Callable[[TrialRecord], None] | None = None,
    refit: bool = True,
    refit_reserve: float | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> SearchResult:
    """Search model families and hyperparameters; return the best, refitted on all of ``X``.

    Args:
        X: the training features (raw columns: strings, NaN and dates are preprocessed).
        y: the target.
        task: ``classification`` or ``regression``.
        metric: what to optimise; ``auto`` is ROC AUC or RMSE. Ties within noise are broken by
            log loss, then by fit time (:mod:`noria.train.ranking`).
        time_budget: seconds for the whole call and the refit(s) after it: the trials stop
            early enough for ``refit_reserve`` refits of the best one, as measured on its folds,
            to fit in. The time budget governs: trials go on until it is spent.
        n_trials: a cap on the trials (only when given). Without either budget, 20 trials.
        families: the families to try; :data:`DEFAULT_FAMILIES` by default.
        spaces: a space per family replacing the built-in one.
        sampler: ``tpe`` (Bayesian), ``random`` or ``grid``.
        seed: makes proposals, folds and models reproducible.
        n_jobs: trials at once, each in its own process; all the cores this process may use
            by default.
        folds: cross-validation folds (``kfold`` and ``time``).
        validation: ``kfold``, ``holdout`` (one 80/20 split) or ``time`` (expanding windows
            over ``time_column``).
        time_column: the column that orders rows for ``validation="time"``.
        pruning: stop unpromising trials between folds (successive halving).
        warm_start: an earlier :class:`SearchResult`, or ``{"family": …, "params": {…}}``
            records (the champion's params first), tried before anything else. A record may
            also carry ``score`` (its CV score on the same metric), ``fold_scores`` and
            ``fit_seconds`` (per fold): the first with a score sets the score to match, and
            one with short fit times is tried in this process while the workers start.
        warm_stop: with a warm start whose score is known, stop as soon as a trial matches it
            within noise (the standard error of its fold scores); ``False`` spends the whole
            budget.
        plan: a :class:`~noria.features.preprocess.ColumnPlan`; planned from ``X`` otherwise.
        high_cardinality: ``ordinal`` or ``target`` encoding of many-valued categoricals.
        scale: standardize numeric features for the linear and k-NN families.
        on_trial: called with each trial as it ends.
        refit: fit the winner on all of ``X`` (``model`` is ``None`` without).
        refit_reserve: how many refits of the winner on all of ``X`` the budget keeps time for
            after the trials: 1 by default with ``refit``, 0 without. A caller that refits the
            winner itself says how often, in units of one refit on ``X``: a pipeline that refits
            on ``X`` in a later step passes 1 (with ``refit=False``), and 2.25 when it then
            refits again on ``X`` plus a holdout of a fifth of all rows (1 + 1.25). The
            winner is the best trial whose refits fit in what is left; the result's
            ``refit_seconds``, ``refit_jobs`` and ``deadline`` tell the caller the rest.
        on_progress: called with a :class:`SearchProgress` when a trial ends and about once a
            second (it is also reported to :func:`noria.tracking.report_progress`).

    Raises:
        ConfigError: an unknown family, sampler, validation or metric, or an invalid space.
        DataError: NaN or infinite values in the target.
    """
    t0 = time.perf_counter()  # before anything, imports included: the budget is the call's
    import optuna

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
    reserve = (1.0 if refit else 0.0) if refit_reserve is None else float(refit_reserve)
    if not reserve >= 0:
        raise ConfigError(f"refit_reserve must be 0 or more refits, got {refit_reserve!r}")
    deadline = t0 + time_budget if time_budget is not None else math.inf
    workers = max(1, min(n_jobs or _cpu_count(), n_trials or 10**9))
    pool = _acquire_pool(workers)  # workers start now, while the data is prepared
    path = None
    try:
        if plan is None:
            target = "__noria_target__"
            plan = plan_columns(X.assign(**{target: y.to_numpy()}), target=target)
        cv = _folds(
            X,
            y,
            task=task,
            validation=validation,
            n_folds=folds,
            seed=seed,
            time_column=time_column,
        )
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
        fd, path = tempfile.mkstemp(prefix="noria-search-", suffix=".pkl")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        runner = _Runner(pool, uuid.uuid4().hex, path)
        loop = _Loop(
            optuna=optuna,
            runner=runner,
            state=state,
            t0=t0,
            deadline=deadline,
            n_trials=n_trials,
            families=families,
            family_spaces=family_spaces,
            sampler=sampler,
            seed=seed,
            pruning=pruning,
            maximize=maximize,
            warm=_warm_records(warm_start),
            warm_stop=warm_stop,
            reserve=reserve,
            on_trial=on_trial,
            on_progress=on_progress,
            metric=metric,
        )
        try:
            loop.run()
        finally:
            _release_pool(runner.pool, idle=runner.running == 0)
            pool = None
        records, notes = loop.records, loop.notes
        fits = None
        if reserve > 0 and math.isfinite(deadline):
            left = deadline - time.perf_counter()
            fits = lambda r: reserve * loop.refit_estimate(r) / REFIT_SAFETY <= left  # noqa: E731
        choice = choose(
            records, maximize=maximize, metric=metric, floor=loop.champion_trial, refit_fits=fits
        )
        if choice.winner is None:  # none complete: the best one scored on some folds
            choice = choose_partial(records, maximize=maximize, refit_fits=fits)
            for note in choice.notes:
                warnings.warn(note, stacklevel=2)
        notes.extend(choice.notes)
        trial = choice.winner
        best = trial if trial is not None and trial.status == "complete" else None
        if trial is None:  # the linear baseline, or the quickest family when it would not fit
            family, params = "linear", {}
            expected = baseline_refit_seconds(loop.cells, loop.fractions, loop.outputs)
            if reserve > 0 and expected * reserve > deadline - time.perf_counter():
                left = [f for f in families if f not in loop.failed_families] or ["linear"]
                family = quickest_family(left, loop.cells, loop.outputs)
                expected = loop.fallback_refit(family)
            notes.append(
                fallback_note(
                    loop.records,
                    budget=time_budget,
                    elapsed=time.perf_counter() - t0,
                    rows=loop.rows,
                    classes=loop.outputs,
                    kept=reserve * expected,
                    family=family,
                )
            )
            warnings.warn(notes[-1], stacklevel=2)
        else:
            family, params = trial.family, trial.params
            expected = loop.refit_estimate(trial)
        jobs = refit_jobs(expected, len(X), n_jobs or _cpu_count())
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
                n_jobs=jobs,
            )
            fit_on_threads(model, X, y, jobs)
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
            best_number=None if trial is None else trial.number,
            refit_seconds=expected,
            refit_jobs=jobs,
            deadline=(
                time.time() + (deadline - time.perf_counter()) if math.isfinite(deadline) else None
            ),
        )
    finally:
        if pool is not None:  # an error before the loop: the pool is still fine to keep
            _release_pool(pool, idle=True)
        if path is not None:
            os.unlink(path)


def _cpu_count() -> int:
    """The cores this process may use (affinity and cgroup quotas counted)."""
    from joblib.externals.loky import cpu_count

    return max(1, int(cpu_count()))


@dataclass
class _Active:
    """A trial being run: its folds dispatched, in flight and done."""

    trial: Any
    family: str
    params: dict[str, Any]
    queued: bool  # enqueued (portfolio, warm start, grid): never pruned, folds run in parallel
    started: float
    lane_cost: float | None  # seconds a fold is expected to take in this process; None: never
    reserved: bool  # cheap: its folds wait for this process while the pool is starting
    scores: dict[int, float] = field(default_factory=dict)
    fit: dict[int, float] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    loss: dict[int, float] = field(default_factory=dict)  # log loss per fold (the tie-breaker)
    next_fold: int = 0
    inflight: int = 0
    starved: bool = False  # a fold would not end before the deadline: no more are started

    def estimate(self) -> float | None:
        return float(np.mean(list(self.seconds.values()))) if self.seconds else None


class _Loop:
    """The search loop: asks Optuna for trials, runs their folds, tells the outcomes.

    Fold fits run in the worker pool. A tuned trial's folds run one after another (the pruner
    looks at each); an enqueued trial's folds (the portfolio, warm-start records, the grid) run
    in parallel, so the first defaults are scored one fold's time after the workers are up.
    While the pool is starting, this process is a worker too (the "lane"): it fits the folds of
    cheap enqueued trials itself, one at a time, each only when it is expected to end well
    before the deadline. The loop ends when the trial budget is spent, the trials' deadline
    passes (the deadline less the expected refit), a warm start's score is matched, or every
    family failed.
    """

    def __init__(
        self,
        *,
        optuna: Any,
        runner: _Runner,
        state: dict[str, Any],
        t0: float,
        deadline: float,
        n_trials: int | None,
        families: list[str],
        family_spaces: dict[str, dict[str, Param]],
        sampler: str,
        seed: int,
        pruning: bool,
        maximize: bool,
        warm: list[dict[str, Any]],
        warm_stop: bool,
        reserve: float,
        on_trial: Callable[[TrialRecord], None] | None,
        on_progress: Callable[[SearchProgress], None] | None = None,
        metric: str = "",
    ) -> None:
        self.optuna = optuna
        self.runner = runner
        self.state = state
        self.cv = state["folds"]
        self.k = len(self.cv)
        X, y = state["X"], state["y"]
        n = max(len(X), 1)
        self.fractions = [len(train) / n for train, _ in self.cv]
        self.rows = len(X)
        self.cells = len(X) * max(len(X.columns), 1)
        outputs = y.nunique() if state["task"] == "classification" else 1
        self.outputs = outputs if outputs > 2 else 1
        self.t0 = t0
        self.deadline = deadline
        self.n_trials = n_trials
        self.families = families
        self.family_spaces = family_spaces
        self.sampler = sampler
        self.maximize = maximize
        self.reserve = reserve
        self.on_trial = on_trial
        self.on_progress = on_progress
        self.metric = metric
        self.reported = -math.inf  # when progress was last reported
        self.records: list[TrialRecord] = []
        self.notes: list[str] = []
        self.failed_families: set[str] = set()
        self.family_seconds: dict[str, list[float]] = {}
        self.active: dict[int, _Active] = {}  # trial number -> its state, in the order asked
        self.asked = 0
        self.done = False
        samplers = {
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed, n_startup_trials=len(families)),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
            "grid": lambda: optuna.samplers.RandomSampler(seed=seed),
        }
        pruner = (
            optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
            if pruning and self.k > 1
            else optuna.pruners.NopPruner()
        )
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(
            direction="maximize" if maximize else "minimize",
            sampler=samplers[sampler](),
            pruner=pruner,
        )
        # (family, fixed params, per-fold fit seconds if known), asked first, in this order
        self.queued: list[tuple[str, dict[str, Any], tuple[float, ...]]] = []
        self.target: float | None = None  # the champion's own trial score, to match
        self.target_tol = 0.0
        self.target_trial = -1  # the trial that re-runs the champion's configuration
        self.target_tried = False
        # the first warm-start record is the champion: its re-run on this data is trial 0, the
        # floor of the winner (ranking.choose), and its own earlier score the one to match
        self.champion_trial: int | None = None
        if warm and warm[0]["family"] in families:
            self.champion_trial = 0
            champion = warm[0]
            if champion.get("score") is not None and warm_stop:
                self.target_trial = 0
                self.target = float(champion["score"])
                scores = [float(s) for s in champion.get("fold_scores", ())]
                if len(scores) > 1:
                    self.target_tol = float(np.std(scores, ddof=1) / math.sqrt(len(scores)))
        for w in warm:
            if w["family"] not in families:
                continue
            self.queued.append((w["family"], dict(w["params"]), tuple(w.get("fit_seconds", ()))))
        if sampler == "grid":
            grid = _grid_points(families, task=state["task"])
            self.queued.extend((p.pop("family"), p, ()) for p in grid)
            total = len(self.queued)
            self.n_trials = min(n_trials, total) if n_trials else total
        else:  # each family's defaults, unless a warm-start record already has them
            tried = {f for f, params, _ in self.queued if not params}
            # the linear baseline first, then the cheapest (by classes, the forests before the
            # boosters), in the given order otherwise
            cost = {f: fold_prior(f, self.cells, self.outputs) for f in families}
            cost["linear"] = 0.0
            portfolio = sorted((f for f in families if f not in tried), key=cost.__getitem__)
            self.queued.extend((f, {}, ()) for f in portfolio)
        for family, fixed, _ in self.queued:
            self.study.enqueue_trial(
                {"family": family, **{f"{family}__{k}": v for k, v in fixed.items()}}
            )

    # ---------------------------------------------------------------- time

    def refit_estimate(self, record: TrialRecord) -> float:
        """Seconds the refit of ``record`` is expected to take."""
        return refit_seconds(record.fit_seconds, self.fractions)

    def stop_at(self) -> float:
        """When the trials must end: the deadline less ``reserve`` times the expected refit of
        the best trial (of the linear baseline, from its prior, while no trial is complete)."""
        if self.reserve <= 0 or math.isinf(self.deadline):
            return self.deadline
        best = _best(self.records, self.maximize)
        if best is None:  # the fallback's prior, at most a quarter of the budget
            prior = min(self.fallback_refit(), 0.25 * (self.deadline - self.t0) / self.reserve)
            return self.deadline - self.reserve * prior
        return self.deadline - self.reserve * self.refit_estimate(best)

    def fallback_refit(self, family: str = "linear") -> float:
        """Seconds the refit of ``family``'s defaults is expected to take, from its prior
        (:func:`~noria.train.budget.fold_prior`); for the linear baseline, at most that of the
        quickest family, which replaces it when it would not fit."""
        prior = baseline_refit_seconds(self.cells, self.fractions, self.outputs)
        if family == "linear":
            quick = quickest_family(self.families, self.cells, self.outputs)
            return min(prior, self.fallback_refit(quick)) if quick != "linear" else prior
        per_fold = fold_prior(family, self.cells, self.outputs)
        return refit_seconds([per_fold] * len(self.fractions), self.fractions)

    # ---------------------------------------------------------------- progress

    def report(self, *, force: bool = False) -> None:
        """Report progress: at once when ``force``, else at most every PROGRESS_EVERY_S."""
        now = time.perf_counter()
        if not force and now - self.reported < PROGRESS_EVERY_S:
            return
        self.reported = now
        best = _best(self.records, self.maximize)
        report(
            SearchProgress(
                done=len(self.records),
                complete=sum(r.status == "complete" for r in self.records),
                running=len(self.active),
                best=None if best is None else best.score,
                best_family=None if best is None else best.family,
                metric=self.metric,
                elapsed=now - self.t0,
                left=None if math.isinf(self.deadline) else self.deadline - now,
            ),
            self.on_progress,
        )

    def fold_estimate(self, a: _Active) -> float | None:
        """Seconds a fold of ``a`` is expected to take: its own folds, else its family's."""
        own = a.estimate()
        if own is not None:
            return own
        seen = self.family_seconds.get(a.family)
        return float(np.median(seen)) if seen else None

    def _lane_cost(self, family: str, params: Mapping[str, Any], fit: Sequence[float]) -> float:
        """A prior for a fold of an enqueued trial in this process (inf: not here).

        Measured for a warm-start record; else :func:`~noria.train.budget.fold_prior` for the
        linear defaults on at most :data:`IN_PROCESS_CELLS` cells × classes, and for the
        boosters' defaults up to :data:`IN_PROCESS_FOLD_S`, scaled by :meth:`_scaled` once the
        linear folds have run.
        """
        if fit:  # a warm-start record: its earlier folds tell
            per_fold = float(np.mean(fit))
            return per_fold if per_fold <= IN_PROCESS_FOLD_S else math.inf
        if params:
            return math.inf
        if family == "linear" and self.cells * max(1, self.outputs // 2) <= IN_PROCESS_CELLS:
            return fold_prior(family, self.cells, self.outputs)
        if family in _LANE_FAMILIES and family != "linear":
            cost = fold_prior(family, self.cells, self.outputs)
            return cost if cost <= IN_PROCESS_FOLD_S else math.inf
        return math.inf

    # ---------------------------------------------------------------- asking

    def budget_left(self) -> bool:
        return self.n_trials is None or self.asked < self.n_trials

    def can_ask(self) -> bool:
        """Whether a new trial may be asked for now."""
        if not self.budget_left():
            return False
        if self.sampler == "grid" and self.asked >= len(self.queued):
            return False
        # one worker: a proposal waits for every earlier trial to end (reproducible)
        return not (self.asked >= len(self.queued) and self.runner.workers == 1 and self.active)

    def ask(self) -> _Active | None:
        """Ask Optuna for the next trial; ``None`` when there is none."""
        optuna = self.optuna
        n_queued = len(self.queued)
        while True:
            trial = self.study.ask()
            family = trial.suggest_categorical("family", self.families)
            fit: tuple[float, ...] = ()
            if self.asked < n_queued:
                fixed, fit = self.queued[self.asked][1], self.queued[self.asked][2]
                space = self.family_spaces[family]
                params = {
                    k: _suggest(trial, family, {k: space[k]})[k] if k in space else v
                    for k, v in fixed.items()
                }
            elif family in self.failed_families:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                if len(self.failed_families) == len(self.families):
                    return None
                continue
            else:
                params = _suggest(trial, family, self.family_spaces[family])
            queued = self.asked < n_queued
            self.asked += 1
            cost = self._lane_cost(family, params, fit) if queued else math.inf
            a = _Active(
                trial=trial,
                family=family,
                params=params,
                queued=queued,
                started=time.perf_counter(),
                lane_cost=None if math.isinf(cost) else cost,
                reserved=queued and not math.isinf(cost) and (family == "linear" or bool(fit)),
            )
            self.active[trial.number] = a
            return a

    # ---------------------------------------------------------------- dispatching

    def _can_start(self, a: _Active, now: float, stop_at: float) -> bool:
        """Whether ``a`` has a fold to start (in order; a tuned trial's one at a time, and an
        enqueued one's too until a fold of its family has ended: a family whose folds are slow
        does not take every worker before anyone knows)."""
        if a.starved or a.next_fold >= self.k or (not a.queued and a.inflight):
            return False
        estimate = self.fold_estimate(a)
        if estimate is None and a.inflight:
            return False
        if estimate is not None and now + estimate > stop_at:
            a.starved = True
            if not a.inflight:
                self.finish(a, "pruned", "its next fold would not end within the time budget")
            return False
        return True

    def fill(self) -> None:
        """Start folds in the pool while it has room, asking for trials as needed."""
        while not self.done and self.runner.free():
            now, stop_at = time.perf_counter(), self.stop_at()
            if now >= stop_at:
                return
            cold = not self.runner.pool.warm
            pick = next(
                (
                    a
                    for a in list(self.active.values())
                    if not (cold and a.reserved) and self._can_start(a, now, stop_at)
                ),
                None,
            )
            if pick is None:
                if not self.can_ask() or self.ask() is None:
                    return
                continue
            self.runner.submit(pick.trial.number, pick.family, pick.params, pick.next_fold)
            pick.next_fold += 1
            pick.inflight += 1

    def lane_pick(self) -> _Active | None:
        """A fold for this process while the pool starts: cheap, and ending well in time."""
        if self.done or self.runner.pool.warm:
            return None
        now, stop_at = time.perf_counter(), self.stop_at()
        options = [
            a
            for a in list(self.active.values())
            if a.lane_cost is not None and a.queued and self._can_start(a, now, stop_at)
        ]
        options = [a for a in options if now + 2 * self.lane_estimate(a) <= stop_at]
        if options:
            return min(options, key=lambda a: (not a.reserved, self.lane_estimate(a)))
        if self.can_ask() and self.asked < len(self.queued):
            family, params, fit = self.queued[self.asked]
            cost = self._scaled(self._lane_cost(family, params, fit), family)
            if family not in self.failed_families and now + 2 * cost <= stop_at:
                a = self.ask()
                return a if a is not None and a.lane_cost is not None else None
        return None

    def lane_estimate(self, a: _Active) -> float:
        """Seconds a fold of ``a`` is expected to take in this process."""
        measured = self.fold_estimate(a)
        return measured if measured is not None else self._scaled(a.lane_cost or 0.0, a.family)

    def _scaled(self, prior: float, family: str) -> float:
        """A prior fold time for ``family`` on this machine now: the boosters' priors are
        scaled by how much slower than its own prior the linear model's folds ran here."""
        seen = self.family_seconds.get("linear")
        if family == "linear" or not seen:
            return prior
        linear_prior = self._lane_cost("linear", {}, ())
        return prior * max(1.0, float(np.median(seen)) / linear_prior)

    def run_lane(self, a: _Active) -> None:
        """Fit ``a``'s next fold in this process."""
        fold = a.next_fold
        a.next_fold += 1
        a.inflight += 1
        try:
            outcome: Any = _fit_fold_here(self.state, a.family, a.params, fold)
        except Exception as exc:  # the same as a worker's failure
            outcome = exc
        self.handle(a.trial.number, fold, outcome)

    # ---------------------------------------------------------------- telling

    def finish(self, a: _Active, status: str, error: str | None = None) -> None:
        optuna = self.optuna
        number = a.trial.number
        if self.active.pop(number, None) is None:
            return
        folds = sorted(a.scores)
        scores = tuple(a.scores[f] for f in folds)
        value = float(np.mean(scores)) if status == "complete" else None
        if status == "complete":
            self.study.tell(a.trial, value)
        elif status == "pruned":
            self.study.tell(a.trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(a.trial, state=optuna.trial.TrialState.FAIL)
        record = TrialRecord(
            number=number,
            family=a.family,
            params=a.params,
            status=status,
            score=value,
            fold_scores=scores,
            started=a.started - self.t0,
            duration=time.perf_counter() - a.started,
            error=error,
            fit_seconds=tuple(a.fit[f] for f in folds),
            fold_log_loss=tuple(a.loss[f] for f in folds) if len(a.loss) == len(folds) else (),
        )
        self.records.append(record)
        if self.on_trial is not None:
            self.on_trial(record)
        if self.target is not None and not self.done:
            self._check_target(number)
        self.report(force=True)

    def _check_target(self, number: int) -> None:
        """Stop once the champion's own trial score is matched within noise (the standard error
        of its fold scores), and only after the champion's configuration has run again on this
        data: the winner is then never worse than that re-run (its floor)."""
        assert self.target is not None
        self.target_tried = self.target_tried or number == self.target_trial
        best = _best(self.records, self.maximize)
        if not self.target_tried or best is None or best.score is None:
            return
        gap = (self.target - best.score) if self.maximize else (best.score - self.target)
        if gap <= max(self.target_tol, 1e-9 * max(1.0, abs(self.target))):
            self.done = True
            self.notes.append(
                f"stopped early: trial #{best.number} ({best.family}) scored {best.score:.6g}, "
                f"matching the warm start's {self.target:.6g} (± {self.target_tol:.2g})"
            )

    def handle(self, number: int, fold: int, outcome: Any) -> None:
        """One fold's outcome: record it, then prune, finish or go on."""
        a = self.active.get(number)
        if a is None:  # a trial already ended (failed or stopped)
            return
        a.inflight -= 1
        if isinstance(outcome, BaseException):
            error = f"{type(outcome).__name__}: {outcome}"
            if not a.params:
                self.failed_families.add(a.family)
                self.notes.append(f"family '{a.family}' failed to fit and is skipped: {error}")
            self.finish(a, "failed", error)
            return
        score, fitted, seconds, loss = outcome
        a.scores[fold], a.fit[fold], a.seconds[fold] = score, fitted, seconds
        if loss is not None:
            a.loss[fold] = loss
        self.family_seconds.setdefault(a.family, []).append(seconds)
        if len(a.scores) == self.k:
            if a.queued:  # its folds ran in any order: report them in order now
                for f in range(self.k):
                    a.trial.report(float(np.mean([a.scores[g] for g in range(f + 1)])), f)
            else:
                a.trial.report(float(np.mean(list(a.scores.values()))), fold)
            self.finish(a, "complete")
            return
        if not a.queued:  # a tuned trial: the pruner looks at each fold in turn
            a.trial.report(float(np.mean([a.scores[g] for g in sorted(a.scores)])), fold)
            if a.trial.should_prune():
                self.finish(a, "pruned")
                return
        if a.starved and not a.inflight:
            self.finish(a, "pruned", "its next fold would not end within the time budget")

    def drain(self) -> None:
        while (item := self.runner.next(timeout=0)) is not None:
            self.handle(*item)

    def stop_all(self, why: str) -> None:
        """Kill what still runs, and record it as pruned."""
        if self.runner.running:
            self.runner.kill()
        for a in list(self.active.values()):
            self.finish(a, "pruned", why)

    def run(self) -> None:
        while True:
            self.report()
            self.fill()
            if self.done:
                self.stop_all("stopped: the warm start's score was matched")
                return
            lane = self.lane_pick()
            if lane is not None:
                self.run_lane(lane)
                self.drain()
                continue
            if not self.active:
                return
            if not self.runner.running:  # nothing runs and nothing can start
                self.stop_all("stopped at the time budget")
                return
            stop_at = self.stop_at()
            wait = None if math.isinf(stop_at) else max(0.0, stop_at - time.perf_counter())
            if not self.runner.pool.warm and self.runner.running:
                wait = min(wait if wait is not None else math.inf, 0.05)  # the lane may start
            wait = min(wait if wait is not None else math.inf, PROGRESS_EVERY_S)  # report
            item = self.runner.next(timeout=wait)
            if item is None:
                if time.perf_counter() >= stop_at:  # the deadline: kill what still runs
                    self.stop_all("stopped at the time budget")
                    return
                continue
            self.handle(*item)
            self.drain()


def _best(records: Sequence[TrialRecord], maximize: bool) -> TrialRecord | None:
    done = [r for r in records if r.status == "complete" and r.score is not None]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda r: r.score)  # type: ignore[arg-type,return-value]


def _warm_records(
    warm: SearchResult | Sequence[Mapping[str, Any]] | None, n: int = 5
) -> list[dict[str, Any]]:
    """The first ``n`` distinct warm-start records, as ``family``, ``params`` and what is known.

    From a :class:`SearchResult`: its best trial first, then its leaderboard, each with its
    ``score``, ``fold_scores`` and ``fit_seconds``.
    """
    if warm is None:
        return []
    if isinstance(warm, SearchResult):
        board = warm.leaderboard(n)
        best = next(
            (t for t in board if (t.family, t.params) == (warm.best_family, warm.best_params)),
            None,
        )
        records: list[Mapping[str, Any]] = [
            {"family": warm.best_family, "params": warm.best_params}
            if best is None
            else _as_record(best)
        ]
        records += [_as_record(t) for t in board]
        warm = records
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    out = []
    for w in warm:
        key = (w["family"], tuple(sorted((k, repr(v)) for k, v in w.get("params", {}).items())))
        record = seen.get(key)
        if record is None:  # a repeat only adds what the first copy lacks (the champion's score)
            record = seen[key] = {"family": w["family"], "params": dict(w.get("params", {}))}
            out.append(record)
        for extra in ("score", "fold_scores", "fit_seconds"):
            if w.get(extra) is not None and extra not in record:
                record[extra] = w[extra]
    return out[:n]


def _as_record(t: TrialRecord) -> dict[str, Any]:
    return {
        "family": t.family,
        "params": t.params,
        "score": t.score,
        "fold_scores": list(t.fold_scores),
        "fit_seconds": list(t.fit_seconds),
    }


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
