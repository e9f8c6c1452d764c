"""noria's search (`noria.train.search.search`), run by the repository's own venv.

The raw columns go in as the file holds them (strings with nulls): noria does its own
preprocessing. Metric: ``roc_auc`` for classification, ``rmse`` for regression (the holdout is
scored by R², a monotone function of RMSE on fixed data).

Warm start, two ways (the harness uses both):

- ``--warm``: a first search with the budget, then a warm-started one (``warm_start=first``)
  with the same budget in the same process; the first search's predictions go to ``--out``
  and the warm one's to ``--warm-out``. ``--records-out`` also writes the first search's
  warm-start records (its best trials with their CV scores, fold scores and fit times) as JSON.
- ``--warm-from RECORDS``: only a warm-started search, from those records, in this fresh
  process — a retrain as ``noria run`` does it, with no worker processes or imports left warm
  by the first search. Its predictions go to ``--out``.

For a warm search the JSON tells when a trial of it first reached the first search's best CV
score, in seconds from the call (``reached_s``: the trial's ``started + duration``, plus the
time the call spent outside noria's own clock), and the whole warm search's time to a refitted
model (``search_s``).
"""

from __future__ import annotations

import dataclasses
import json
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


def warm_records(result: Any, n: int = 5) -> list[dict[str, Any]]:
    """The first search's best trials as warm-start records (JSON-able), the best first."""
    board = list(result.leaderboard(n)) if hasattr(result, "leaderboard") else []
    out = []
    for t in board:
        out.append(
            {
                "family": t.family,
                "params": t.params,
                "score": t.score,
                "fold_scores": list(t.fold_scores),
                "fit_seconds": list(getattr(t, "fit_seconds", ()) or ()),
            }
        )
    if not out and getattr(result, "best_family", None):
        out.append({"family": result.best_family, "params": result.best_params})
    return out


def reached(warm: Any, target: float | None, up: bool, offset: float, wall1: float, perf1: float):
    """Seconds from the warm call until a trial first reached ``target`` (or None), and how."""
    points, how = trial_points(warm, wall1, perf1)
    if target is None:
        return None, how or "no complete trial with a time"
    tol = 1e-6 * max(1.0, abs(target))  # the same folds and params: the same score
    for at, score in points:
        if (score >= target - tol) if up else (score <= target + tol):
            return at + offset, how
    return None, how or "no complete trial with a time"


def warm_search(X, y, kwargs, budget, warm_start, target, up, first_s) -> tuple[Any, dict]:
    """A warm-started search timed from its call; its summary with ``reached_s``."""
    from noria.train.search import search

    wall1, perf1 = time.time(), time.perf_counter()
    warm = search(X, y, time_budget=budget, warm_start=warm_start, **kwargs)
    warm_s = time.perf_counter() - perf1
    elapsed = _number(getattr(warm, "elapsed", None))
    offset = max(0.0, warm_s - elapsed) if elapsed is not None else 0.0
    at, how = reached(warm, target, up, offset, wall1, perf1)
    return warm, {
        **summary(warm, warm_s, budget),
        "reached_s": at,
        "reached_how": how,
        "higher_is_better": up,
        "first_best_score": target,
        "first_search_s": first_s,
        "notes": list(getattr(warm, "warnings", []) or []),
    }


def main() -> None:
    a = _common.args(
        [
            ("--warm", {"action": "store_true"}),
            ("--warm-out", {"default": None}),
            ("--records-out", {"default": None}),
            ("--warm-from", {"default": None}),
        ]
    )
    import noria
    from noria.train.search import search

    X, y, X_test = _common.load(a)
    kwargs = {"task": a.task, "metric": metric_for(a.task), "seed": a.seed, "n_jobs": a.n_jobs}
    version = getattr(noria, "__version__", "dev")
    if a.warm_from:
        with open(a.warm_from) as fh:
            given = json.load(fh)
        records, target = given["records"], given["best_score"]
        result, figures = warm_search(
            X, y, kwargs, a.budget, records, target, given["higher_is_better"], given["search_s"]
        )
        predict_s = _common.write_predictions(a.out, a.task, result.model, X_test)
        _common.done(**figures, predict_s=predict_s, version=version)
        return
    wall0, perf0 = time.time(), time.perf_counter()
    result = search(X, y, time_budget=a.budget, **kwargs)
    search_s = time.perf_counter() - perf0
    predict_s = _common.write_predictions(a.out, a.task, result.model, X_test)
    figures: dict[str, Any] = {
        **summary(result, search_s, a.budget),
        "predict_s": predict_s,
        "version": version,
        "noria_file": noria.__file__,
        "notes": list(getattr(result, "warnings", []) or []),
    }
    first_points, _ = trial_points(result, wall0, perf0)
    up = higher_is_better(result, first_points)
    if a.records_out:
        with open(a.records_out, "w") as fh:
            json.dump(
                {
                    "records": warm_records(result),
                    "best_score": figures["best_score"],
                    "higher_is_better": up,
                    "search_s": search_s,
                },
                fh,
                default=str,
            )
    if a.warm:
        warm, figures["warm"] = warm_search(
            X, y, kwargs, a.budget, result, figures["best_score"], up, search_s
        )
        _common.write_predictions(a.warm_out, a.task, warm.model, X_test)
    _common.done(**figures)


if __name__ == "__main__":
    main()
