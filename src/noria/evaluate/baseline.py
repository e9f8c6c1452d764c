"""The trivial baseline every model is measured against.

A model is worth registering only if it does better than a rule that looks at no feature:

* classification: always the majority class of the training part, with the training part's
  class shares as probabilities (the prior). Its accuracy is the majority share, its ROC AUC
  0.5, its log loss the prior's entropy on the holdout;
* regression: always the training part's mean.

:func:`fit_baseline` learns the rule from the training targets; :func:`baseline_scores` scores
it with the same metrics as a model (:func:`~noria.evaluate.metrics.compute_metrics`), so its
holdout metrics sit next to the model's; :func:`baseline_cv_score` scores it on the search's
cross-validation folds, for a leaderboard row comparable with the trials'; :func:`beats` says
whether a model's score is better than the baseline's on a metric.

Not here: the model search (``noria.train``), registering the verdict (the pipeline does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from noria.evaluate.metrics import compute_metrics, greater_is_better

__all__ = ["Baseline", "baseline_cv_score", "baseline_scores", "beats", "fit_baseline"]


@dataclass(frozen=True)
class Baseline:
    """The rule: a constant prediction and, for classes, the prior probabilities.

    Attributes:
        task: ``classification`` or ``regression``.
        value: the majority class, or the mean.
        classes: the classes in the order of ``prior`` (``[]`` for regression).
        prior: each class's share of the training rows (``[]`` for regression).
    """

    task: str
    value: Any
    classes: list[Any]
    prior: list[float]

    def describe(self) -> str:
        """The rule in words: ``majority class 'No' (96.7 % of training rows)``."""
        if self.task == "regression":
            return f"always the training mean {self.value:.4g}"
        share = self.prior[self.classes.index(self.value)]
        return f"majority class {self.value!r} ({share:.1%} of training rows), prior probabilities"

    def predict(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``(predictions, probabilities or None)`` for ``n`` rows."""
        if self.task == "regression":
            return np.full(n, float(self.value)), None
        values = np.asarray([self.value] * n)  # the labels' own dtype: bool stays bool
        return values, np.tile(np.asarray(self.prior, dtype=float), (n, 1))


def fit_baseline(task: str, y_train: Any, classes: Sequence[Any] | None = None) -> Baseline:
    """The baseline of ``task`` learned from the training targets.

    Args:
        task: ``classification`` or ``regression``.
        y_train: the training part's targets.
        classes: every class of the problem, in the order probabilities are given (the sorted
            classes, as the models' ``classes_``); those of ``y_train`` when ``None``. A class
            absent from ``y_train`` gets probability 0.
    """
    import pandas as pd

    y = pd.Series(np.asarray(y_train))
    if task == "regression":
        return Baseline(task, float(pd.to_numeric(y).mean()), [], [])
    counts = y.value_counts()
    labels = list(classes) if classes else sorted(counts.index.tolist(), key=_order)
    total = float(counts.sum())
    prior = [float(counts.get(c, 0)) / total for c in labels]
    # the majority class; ties go to the first in the classes' order, as an argmax would
    majority = labels[int(np.argmax(prior))]
    return Baseline(task, majority, labels, prior)


def _order(value: Any) -> tuple[str, Any]:
    return (str(type(value)), value)


def baseline_scores(baseline: Baseline, y_true: Any) -> dict[str, float]:
    """Every metric of the baseline's task on ``y_true`` (e.g. the holdout's targets)."""
    truth = np.asarray(y_true) if baseline.task != "regression" else np.asarray(y_true, float)
    values, proba = baseline.predict(len(truth))
    return compute_metrics(
        baseline.task,
        truth,
        values,
        y_proba=proba,
        classes=baseline.classes or None,
    )


def baseline_cv_score(
    task: str,
    metric: str,
    y: Any,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    classes: Sequence[Any] | None = None,
) -> float | None:
    """The baseline's mean ``metric`` over cross-validation ``folds`` of the training part.

    Each fold's baseline is learned on the fold's training rows and scored on its validation
    rows, as a trial is. ``None`` when no fold can be scored on ``metric`` (e.g. ROC AUC on
    validation rows of a single class).
    """
    targets = np.asarray(y) if task != "regression" else np.asarray(y, dtype=float)
    if task != "regression" and not classes:  # every fold knows every class
        classes = sorted((v.item() if hasattr(v, "item") else v for v in set(targets)), key=_order)
    scores = []
    for fit_rows, valid_rows in folds:
        rule = fit_baseline(task, targets[fit_rows], classes)
        value = baseline_scores(rule, targets[valid_rows]).get(metric)
        if value is not None and np.isfinite(value):
            scores.append(value)
    return float(np.mean(scores)) if scores else None


def beats(metric: str, model: float | None, baseline: float | None) -> bool | None:
    """Whether the model's ``metric`` is strictly better than the baseline's.

    ``None`` when either value is missing (nothing to compare). A tie does not beat the
    baseline: a model that only matches a rule looking at no feature has learned nothing the
    rule did not know.
    """
    if model is None or baseline is None or not np.isfinite(model) or not np.isfinite(baseline):
        return None
    return bool(model > baseline if greater_is_better(metric) else model < baseline)
