"""Two models' predictions of the same rows, compared metric by metric with paired intervals.

:func:`compare_predictions` scores both models on the same bootstrap resamples of the rows (one
:class:`~noria.evaluate.intervals.Resampler`, drawn once), so that each resample gives one value
of ``metric(A) − metric(B)``: the 95 % interval of the difference is the percentile interval of
those paired differences (placed around the difference on all rows, scaled like the metrics'
own intervals above the row cap). A difference whose interval excludes 0 is significant at the
5 % level; one whose interval straddles 0 is not.

The figures to overlay come from :mod:`~noria.evaluate.scores` (ROC and precision–recall curves
and calibration of a classifier, a sample of predicted vs actual values of a regressor), one set
per model.

Not here: finding the models and the rows (:mod:`noria.registry.evidence`), the page
(:mod:`noria.reports.comparison_report`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from noria.evaluate.intervals import Resampler, percentile_interval

__all__ = ["LOWER_IS_BETTER", "Predictions", "compare_predictions", "paired_verdict"]

#: Metrics of the comparison where lower is better (the others: higher is better).
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae"})


@dataclass(frozen=True)
class Predictions:
    """One model's predictions of the compared rows.

    Attributes:
        label: the model's name in the comparison (``NAME@VERSION`` or a run id).
        predicted: the predicted labels (classification, as class codes ``0 … k-1``) or values.
        proba: class probabilities, one column per class (``None``: label metrics only).
    """

    label: str
    predicted: np.ndarray
    proba: np.ndarray | None = None


@dataclass(frozen=True)
class _Keeping(Resampler):
    """A resampler that also keeps every statistic's replicates, in the order they were asked
    for (the order of the metrics in the scores' dictionary), to pair two models' values."""

    kept: list[tuple[np.ndarray, float, float]] = field(default_factory=list)

    def summarise(
        self, replicates: np.ndarray, point: float, *, centre: float | None = None
    ) -> tuple[float, float] | None:
        self.kept.append(
            (
                np.asarray(replicates, dtype=float).ravel(),
                point,
                point if centre is None else centre,
            )
        )
        return super().summarise(replicates, point, centre=centre)

    def interval(
        self,
        statistic: Callable[..., np.ndarray],
        arrays: Sequence[np.ndarray],
        point: float | None = None,
    ) -> tuple[float, tuple[float, float] | None]:
        whole = [np.asarray(a)[None, ...] for a in arrays]
        centre = float(np.asarray(statistic(*whole)).ravel()[0])
        value = centre if point is None else float(point)
        replicated = np.asarray(statistic(*(self.take(a) for a in arrays)), dtype=float).ravel()
        self.kept.append((replicated, value, centre))
        return value, percentile_interval(replicated, value, centre=centre, scale=self.scale)


def _scored(
    score: Callable[[Resampler], dict[str, tuple[float, Any]]], resampler: _Keeping
) -> dict[str, tuple[float, tuple[float, float] | None, np.ndarray, float]]:
    """``{metric: (value, interval, replicates, centre)}`` of one model."""
    resampler.kept.clear()
    scores = score(resampler)
    if len(scores) != len(resampler.kept):  # the pairing relies on one summary per metric
        raise RuntimeError("the scores and their replicates do not pair up")
    out = {}
    for (name, (value, interval)), (reps, point, centre) in zip(
        scores.items(), resampler.kept, strict=True
    ):
        same = (math.isnan(value) and math.isnan(point)) or math.isclose(value, point)
        if not same:
            raise RuntimeError(f"the replicates of {name} do not pair up")
        out[name] = (value, interval, reps, centre)
    return out


def paired_verdict(
    diff: float, low: float | None, high: float | None, greater_is_better: bool
) -> str:
    """``"A better"``, ``"B better"`` or ``"no significant difference"`` from the interval of
    ``metric(A) − metric(B)``."""
    if low is None or high is None or not math.isfinite(diff):
        return "no interval"
    if low > 0 or high < 0:
        a_higher = low > 0
        return "A better" if a_higher == greater_is_better else "B better"
    return "no significant difference"


def compare_predictions(
    truth: np.ndarray,
    a: Predictions,
    b: Predictions,
    *,
    task: str,
    labels: Sequence[str] = (),
    replicates: int = 200,
    max_rows: int = 50_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Both models' metrics on the same rows and the paired interval of each difference.

    Args:
        truth: the true classes as codes ``0 … k-1`` (classification) or the true values.
        a: the first model's predictions (differences are ``A − B``).
        b: the second model's.
        task: ``classification`` or ``regression``.
        labels: the class names, in the order of the codes.
        replicates: bootstrap resamples.
        max_rows: most rows in one resample (m-out-of-n above it).
        seed: the seed of the resamples.

    Returns:
        ``{"task", "rows", "a", "b", "metrics": {name: {a, a_low, a_high, b, b_low, b_high,
        diff, diff_low, diff_high, greater_is_better, verdict}}, "figures": {"a": …, "b": …}}``
        (JSON values).
    """
    from noria.evaluate.scores import (
        classification_details,
        classification_scores,
        regression_details,
        regression_scores,
    )

    n = len(truth)
    if task == "classification" and not labels:
        widths = [p.proba.shape[1] for p in (a, b) if p.proba is not None]
        k = widths[0] if widths else int(max(np.max(truth), np.max(a.predicted))) + 1
        labels = [str(i) for i in range(max(k, 2))]
    base = Resampler.draw(n, replicates=replicates, max_rows=max_rows, seed=seed)
    resampler = _Keeping(n=base.n, indices=base.indices, scale=base.scale)
    scored, figures = [], {}
    for which, p in (("a", a), ("b", b)):
        if task == "classification":
            taken = resampler.take(truth)
            predicted = np.asarray(p.predicted, dtype=np.int64)
            proba = None if p.proba is None else np.asarray(p.proba, dtype=float)

            def score(r: Resampler, pr: Any = predicted, pp: Any = proba, t: Any = taken) -> Any:
                return classification_scores(truth, pr, pp, r, truth_taken=t)

            details = classification_details(truth, predicted, proba, list(labels), None)
            figures[which] = {
                key: details[key] for key in ("roc", "pr", "calibration") if key in details
            }
        else:
            values = np.asarray(p.predicted, dtype=float)

            def score(r: Resampler, v: Any = values) -> Any:
                return regression_scores(truth, v, r)

            details = regression_details(truth, values, seed=seed)
            figures[which] = {"sample": details["sample"]}
        scored.append(_scored(score, resampler))
    metrics: dict[str, dict[str, Any]] = {}
    for name in scored[0]:
        if name not in scored[1]:
            continue  # probabilities of one model only
        va, ia, ra, ca = scored[0][name]
        vb, ib, rb, cb = scored[1][name]
        diff = va - vb
        with np.errstate(invalid="ignore"):
            interval = percentile_interval(ra - rb, diff, centre=ca - cb, scale=resampler.scale)
        gib = name not in LOWER_IS_BETTER
        low, high = interval if interval else (None, None)
        metrics[name] = {
            "a": _num(va),
            "a_low": _num(ia[0]) if ia else None,
            "a_high": _num(ia[1]) if ia else None,
            "b": _num(vb),
            "b_low": _num(ib[0]) if ib else None,
            "b_high": _num(ib[1]) if ib else None,
            "diff": _num(diff),
            "diff_low": _num(low),
            "diff_high": _num(high),
            "greater_is_better": gib,
            "verdict": paired_verdict(diff, low, high, gib),
        }
    return {
        "task": task,
        "rows": n,
        "a": a.label,
        "b": b.label,
        "replicates": replicates,
        "metrics": metrics,
        "figures": figures,
    }


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
