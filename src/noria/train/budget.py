"""The search's time accounting: what a refit is expected to take, and on how many threads.

A search's ``time_budget`` is the caller's time until it has a model, so it must cover the
search *and* the refit(s) of the winner that follow it. The refit is expected from what the
trials measured: each fold's fit time (on one thread) scaled by all rows over the fold's training
rows, the slowest fold, times :data:`REFIT_SAFETY`, plus :data:`REFIT_MARGIN_S`
(:func:`refit_seconds`). The search stops its trials early enough to keep that time back, once
per refit the caller announces (``refit_reserve``: one for the search's own refit; a pipeline
that refits in a later step, or refits again on more rows, says so).

A refit runs on one thread unless it is expected to be long (:func:`refit_jobs`): the trials
measured one-thread fits, and OpenMP boosters (LightGBM, XGBoost, HistGradientBoosting) on a few
thousand rows can be ten times *slower* on several threads when the machine is busy (a
LightGBM-defaults refit of a few hundred rows took 74 s so). :func:`fit_on_threads` caps every
thread pool (OpenMP and BLAS included) while a model fits.

Not here: the search loop (:mod:`noria.train.search`), which trial wins
(:mod:`noria.train.ranking`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "REFIT_MARGIN_S",
    "REFIT_SAFETY",
    "THREADED_REFIT_S",
    "baseline_refit_seconds",
    "fallback_note",
    "fit_on_threads",
    "fold_prior",
    "quickest_family",
    "refit_jobs",
    "refit_seconds",
]

#: The refit is expected to take its fit time per fold, scaled to all rows, times this ...
REFIT_SAFETY = 1.3
#: ... plus this many seconds (building the pipeline, a busy machine).
REFIT_MARGIN_S = 0.15
#: A refit expected (on one thread) to take at least this many seconds may use every core.
THREADED_REFIT_S = 5.0
#: ... and then only on at least this many rows (fewer: threads wait on each other).
THREADED_REFIT_ROWS = 20_000


def refit_seconds(
    fit_seconds: Sequence[float], fractions: Sequence[float], rows_scale: float = 1.0
) -> float:
    """The seconds a refit on all rows is expected to take, from the folds' fit times.

    Each fold's fit time is scaled by all rows over its training rows (``fractions`` are the
    folds' training rows as a share of all), the slowest taken, times :data:`REFIT_SAFETY`,
    plus :data:`REFIT_MARGIN_S`. The slowest fold and the safety cover a busy machine and fit
    times that grow faster than the rows.

    Args:
        fit_seconds: each fold's fit time, in seconds (on one thread).
        fractions: each fold's training rows as a share of all rows.
        rows_scale: the refit's rows over all rows (1.25 for a refit on the training rows and a
            holdout of a fifth of all labelled rows).
    """
    if not fit_seconds:
        return REFIT_MARGIN_S
    scaled = [s / max(f, 1e-3) for s, f in zip(fit_seconds, fractions, strict=False)]
    return REFIT_SAFETY * max(scaled) * rows_scale + REFIT_MARGIN_S


def fold_prior(family: str, cells: int, outputs: int = 1) -> float:
    """Seconds one fold of a family's defaults is expected to take before anything was
    measured, on ``cells`` (rows × columns) and ``outputs`` classes (1 for regression and two
    classes): 0.5 s per 100,000 cells × classes for the linear model, 1 s per 50,000 cells ×
    classes for the boosters (a tree per class and round), 1 s per 50,000 cells for a random
    forest (one tree serves every class; 1 % more per class; extra trees 0.75 s), 0.5 s per
    100,000 cells for k-NN.

    It orders the portfolio (the cheap first: on 196 classes the forests finish where one
    booster fold would take the whole budget) and decides what this process fits itself. The
    linear model's cost varies most with the classes (0.3 s on 10 classes, 33 s on 196, for
    the same cells): its prior is pessimistic.
    """
    if family == "linear":
        return 0.5 * max(1.0, cells * outputs / 100_000)
    if family in ("random_forest", "extra_trees"):  # random splits: about a quarter quicker
        per_class = 1.0 + (outputs if outputs > 2 else 0) / 100  # the split criterion's cost
        return max(1.0, cells / 50_000) * per_class * (0.75 if family == "extra_trees" else 1.0)
    if family == "knn":
        return 0.5 * max(1.0, cells / 100_000)
    return max(1.0, cells * outputs / 50_000)


def quickest_family(families: Sequence[str], cells: int, outputs: int = 1) -> str:
    """The family whose defaults are expected to fit quickest (:func:`fold_prior`): the
    fallback when not even the linear baseline would refit in the time left."""
    return min(families, key=lambda f: (fold_prior(f, cells, outputs), f != "linear"))


def baseline_refit_seconds(cells: int, fractions: Sequence[float], outputs: int = 1) -> float:
    """The expected refit of the linear baseline before anything was measured: its
    :func:`fold_prior`, scaled to all rows."""
    per_fold = fold_prior("linear", cells, outputs)
    return REFIT_MARGIN_S + REFIT_SAFETY * per_fold / max(min(fractions, default=1.0), 1e-3)


def refit_jobs(expected_seconds: float, rows: int, cores: int) -> int:
    """Threads for a refit expected to take ``expected_seconds`` on one thread.

    One thread unless the refit is long (:data:`THREADED_REFIT_S`) on many rows
    (:data:`THREADED_REFIT_ROWS`): the time kept back for it was measured on one thread, and
    short fits on several threads gain little on an idle machine and can lose ten times over on
    a busy one.
    """
    if expected_seconds >= THREADED_REFIT_S and rows >= THREADED_REFIT_ROWS:
        return max(1, cores)
    return 1


def fit_on_threads(model: Any, X: Any, y: Any, threads: int) -> Any:
    """``model.fit(X, y)`` with every thread pool (OpenMP, BLAS) capped at ``threads``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(max(1, int(threads))):
        return model.fit(X, y)


def fallback_note(
    records: Sequence[Any],
    *,
    budget: float | None,
    elapsed: float,
    rows: int,
    classes: int,
    kept: float,
    family: str = "linear",
) -> str:
    """Why no trial of a search finished, in the user's terms, and what to do.

    Args:
        records: the search's trials (none complete).
        budget: its ``time_budget`` (``None``: the trial budget ended it).
        elapsed: the seconds it took.
        rows: the training rows.
        classes: the target's classes (1 for regression or two classes).
        kept: the seconds kept back for the refit(s).
        family: what is returned instead: the linear baseline, or the quickest family when
            the linear model would not refit in the time left.
    """
    stopped = [r for r in records if r.status != "complete"]
    failed = [r for r in stopped if r.status == "failed"]
    if failed and len(failed) == len(stopped):
        why = f"every trial failed (first: {failed[0].family}: {failed[0].error})"
    elif stopped:
        size = f"{rows:,} rows" + (f" × {classes} classes" if classes > 2 else "")
        why = (
            f"{len(stopped)} trial{'s were' if len(stopped) != 1 else ' was'} stopped unfinished"
            f" at the deadline (the first folds on {size} take longer)"
        )
    else:
        refit = f" and the {kept:.1f} s kept for the refit of {rows:,} rows" if kept > 0 else ""
        why = f"none could start: the set-up (imports, data, worker start){refit} used it"
    where = f"time_budget {budget:g} s" if budget is not None else "n_trials"
    instead = (
        "the linear baseline"
        if family == "linear"
        else f"the defaults of {family} (the quickest to fit: the linear baseline would not "
        f"refit on {classes} classes in the time left)"
    )
    return (
        f"no trial finished within the budget ({where}): {why}; returning {instead} with its "
        f"defaults, not cross-validated (the search took {elapsed:.1f} s) — raise "
        "models.time_budget"
    )
