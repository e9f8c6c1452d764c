"""noria's search (`noria.train.search.search`), run by the repository's own venv.

The raw columns go in as the file holds them (strings with nulls): noria does its own
preprocessing. Metric: ``roc_auc`` for classification, ``rmse`` for regression (the holdout is
scored by R², a monotone function of RMSE on fixed data).

With ``--warm``: a first search with the budget, then a warm-started one
(``warm_start=first``) with the same budget; the first search's predictions go to ``--out`` and
the warm one's to ``--warm-out``. The JSON then also tells when a trial of the warm search first
reached the first search's best CV score (noria's trials carry ``started`` and ``duration``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import _common

#: Attribute names a trial record may use for its score and for when it finished.
SCORE_KEYS = ("score", "value", "cv_score", "mean_score", "best_score")
TIME_KEYS = ("finished_at", "end", "end_time", "ended_at", "finished", "t_end", "timestamp")
ELAPSED_KEYS = ("elapsed", "at", "offset", "time", "t")


def metric_for(task: str) -> str:
    return "roc_auc" if task == "classification" else "rmse"


def _fields(trial: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(trial) and not isinstance(trial, type):
        return {f.name: getattr(trial, f.name) for f in dataclasses.fields(trial)}
    if isinstance(trial, dict):
        return dict(trial)
    return (
        {k: v for k, v in vars(trial).items() if not k.startswith("_")}
        if hasattr(trial, "__dict__")
        else {}
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "timestamp"):  # datetime
        return float(value.timestamp())
    if hasattr(value, "total_seconds"):  # timedelta
        return float(value.total_seconds())
    return None


def trial_points(result: Any, wall0: float, perf0: float) -> tuple[list[tuple[float, float]], str]:
    """(seconds since the search started, CV score) of each complete trial, and how it was read.

    Timestamps may be wall-clock (time.time()), perf_counter values, or offsets from the start;
    they are told apart by their size.
    """
    points: list[tuple[float, float]] = []
    how = ""
    for trial in getattr(result, "trials", None) or []:
        fields = _fields(trial)
        if str(fields.get("status", "complete")) != "complete":
            continue
        score = next((_number(fields[k]) for k in SCORE_KEYS if k in fields), None)
        if score is None:
            continue
        started, duration = _number(fields.get("started")), _number(fields.get("duration"))
        if started is not None and duration is not None and started < 1e9:
            # noria's TrialRecord: started (seconds after the search started) + duration
            points.append((started + duration, score))
            how = "trial.started + trial.duration"
            continue
        stamp, key = None, ""
        for k in TIME_KEYS + ELAPSED_KEYS:
            if k in fields and _number(fields[k]) is not None:
                stamp, key = _number(fields[k]), k
                break
        if stamp is None:
            continue
        if stamp > 1e9:  # wall clock
            at, kind = stamp - wall0, "wall clock"
        elif key in TIME_KEYS and stamp > perf0 - 1:  # perf_counter
            at, kind = stamp - perf0, "perf_counter"
        else:
            at, kind = stamp, "offset"
        how = f"trial.{key} ({kind})"
        points.append((at, score))
    return sorted(points), how


def higher_is_better(result: Any, points: list[tuple[float, float]]) -> bool:
    """Whether noria's CV scores grow with quality (said by the result, or else inferred)."""
    said = getattr(result, "greater_is_better", None)
    if isinstance(said, bool):
        return said
    best = _number(getattr(result, "best_score", None))
    if best is None or not points:
        return True
    scores = [s for _, s in points]
    return abs(best - max(scores)) <= abs(best - min(scores))


def summary(result: Any, search_s: float, budget: float) -> dict[str, Any]:
    trials = list(getattr(result, "trials", None) or [])
    statuses: dict[str, int] = {}
    for t in trials:
        status = str(_fields(t).get("status", "?"))
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "search_s": search_s,
        "budget": budget,
        "elapsed": _number(getattr(result, "elapsed", None)),
        "best_family": str(getattr(result, "best_family", "")),
        "best_params": getattr(result, "best_params", None),
        "best_score": _number(getattr(result, "best_score", None)),
        "trials": len(trials),
        "statuses": statuses,
    }


def main() -> None:
    a = _common.args(
        [
            ("--warm", {"action": "store_true"}),
            ("--warm-out", {"default": None}),
        ]
    )
    import noria
    from noria.train.search import search

    X, y, X_test = _common.load(a)
    kwargs = {"task": a.task, "metric": metric_for(a.task), "seed": a.seed, "n_jobs": a.n_jobs}
    wall0, perf0 = time.time(), time.perf_counter()
    result = search(X, y, time_budget=a.budget, **kwargs)
    search_s = time.perf_counter() - perf0
    predict_s = _common.write_predictions(a.out, a.task, result.model, X_test)
    figures: dict[str, Any] = {
        **summary(result, search_s, a.budget),
        "predict_s": predict_s,
        "version": getattr(noria, "__version__", "dev"),
    }
    if a.warm:
        warm_budget = a.budget
        wall1, perf1 = time.time(), time.perf_counter()
        warm = search(X, y, time_budget=warm_budget, warm_start=result, **kwargs)
        warm_s = time.perf_counter() - perf1
        _common.write_predictions(a.warm_out, a.task, warm.model, X_test)
        points, how = trial_points(warm, wall1, perf1)
        first_points, _ = trial_points(result, wall0, perf0)
        up = higher_is_better(result, first_points or points)
        target = figures["best_score"]
        reached = None
        if target is not None:
            tol = 1e-6 * max(1.0, abs(target))  # the same folds and params: the same score
            for at, score in points:
                if (score >= target - tol) if up else (score <= target + tol):
                    reached = at
                    break
        warm_summary = summary(warm, warm_s, warm_budget)
        figures["warm"] = {
            **warm_summary,
            "reached_s": reached,
            "reached_how": how or "no complete trial with a time",
            "higher_is_better": up,
            "first_best_score": target,
            "first_search_s": search_s,
        }
    _common.done(**figures)


if __name__ == "__main__":
    main()
