"""Evaluation metrics: their names per task, their direction, and their computation.

:func:`compute_metrics` returns every metric of a task as plain Python floats, computed with
scikit-learn. Conventions (decided here):

* binary classification: precision, recall and F1 are of the positive class ``classes[1]`` (the
  second of the sorted classes, as scikit-learn's ``classes_``); ROC AUC uses ``proba[:, 1]``;
* multiclass: precision, recall and F1 are macro averages; ROC AUC is one-vs-rest, macro;
* ROC AUC and log loss need probabilities, and are left out when ``y_proba`` is not given or
  ``y_true`` holds a single class (they are undefined or meaningless there); in a multiclass
  ROC AUC, classes absent from ``y_true`` are left out of the average;
* labels may be strings, numbers or booleans; precision/recall/F1 are 0 where undefined.

Not here: choosing the best model (``noria.train``), plots and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from noria.errors import ConfigError, DataError, did_you_mean

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "check_metric",
    "compute_metrics",
    "default_metric",
    "greater_is_better",
]

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2")

_LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
_BY_TASK: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
}


def _metrics_of(task: str) -> tuple[str, ...]:
    if task not in _BY_TASK:
        raise ConfigError(
            f"`task`: unknown task '{task}'{did_you_mean(str(task), _BY_TASK)}; "
            "use classification or regression"
        )
    return _BY_TASK[task]


def default_metric(task: str) -> str:
    """The metric a task is judged by unless ``models.metric`` says otherwise.

    Returns:
        ``"roc_auc"`` for classification, ``"rmse"`` for regression.

    Raises:
        ConfigError: An unknown task.
    """
    _metrics_of(task)
    return "roc_auc" if task == "classification" else "rmse"


def greater_is_better(metric: str) -> bool:
    """Whether a higher value of ``metric`` is better (``False`` for losses and errors).

    Raises:
        ConfigError: An unknown metric.
    """
    known = CLASSIFICATION_METRICS + REGRESSION_METRICS
    if metric not in known:
        raise ConfigError(
            f"`models.metric`: unknown metric '{metric}'{did_you_mean(str(metric), known)}; "
            f"use one of {', '.join(known)}"
        )
    return metric not in _LOWER_IS_BETTER


def check_metric(metric: str, task: str) -> str:
    """Return ``metric`` if it is a metric of ``task``.

    Raises:
        ConfigError: Naming ``models.metric``, the value, a near match and the valid metrics of
            the task.
    """
    valid = _metrics_of(task)
    if metric not in valid:
        raise ConfigError(
            f"`models.metric`: '{metric}' is not a {task} metric{did_you_mean(str(metric), valid)};"
            f" use one of {', '.join(valid)}"
        )
    return metric


def compute_metrics(
    task: str,
    y_true: Any,
    y_pred: Any,
    y_proba: Any = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, float]:
    """Every metric of ``task`` for one set of predictions.

    Args:
        task: ``"classification"`` or ``"regression"``.
        y_true: The true targets.
        y_pred: The predicted targets (labels for classification).
        y_proba: Class probabilities, one column per class in the order of ``classes`` (a 1-D
            array is the positive class's probability of a binary problem); optional.
        classes: The class labels in the order of ``y_proba``'s columns (the model's
            ``classes_``); the sorted labels of ``y_true`` and ``y_pred`` when ``None``.

    Returns:
        Metric name → value, as plain floats, in the order of the task's metric list.

    Raises:
        ConfigError: An unknown task.
        DataError: ``y_true`` and ``y_pred`` (or ``y_proba``) differ in length, or ``y_proba``'s
            columns do not match ``classes``.
    """
    _metrics_of(task)
    truth = np.asarray(y_true)
    predicted = np.asarray(y_pred)
    if truth.shape[0] != predicted.shape[0]:
        raise DataError(
            f"y_true has {truth.shape[0]} rows but y_pred has {predicted.shape[0]}; "
            "pass predictions for every evaluated row"
        )
    if truth.shape[0] == 0:
        raise DataError("no rows to evaluate: y_true is empty; evaluate on a non-empty test set")
    if task == "regression":
        return _regression(truth.astype(float), predicted.astype(float))
    return _classification(truth, predicted, y_proba, classes)


def _regression(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(mean_squared_error(truth, predicted))),
        "mae": float(mean_absolute_error(truth, predicted)),
        "r2": float(r2_score(truth, predicted)) if truth.shape[0] > 1 else float("nan"),
    }


def _classification(
    truth: np.ndarray, predicted: np.ndarray, y_proba: Any, classes: Sequence[Any] | None
) -> dict[str, float]:
    if classes is not None:
        labels = np.asarray(classes)
    else:
        try:
            labels = np.unique(np.concatenate([truth, predicted]))
        except TypeError:  # mixed label types (e.g. 1 and "1"): compare them as text
            truth, predicted = truth.astype(str), predicted.astype(str)
            labels = np.unique(np.concatenate([truth, predicted]))
    binary = len(labels) == 2
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": labels[1]} if binary else {"average": "macro"}
    )
    result = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, zero_division=0, **averaging)),
        "recall": float(recall_score(truth, predicted, zero_division=0, **averaging)),
        "f1": float(f1_score(truth, predicted, zero_division=0, **averaging)),
    }
    if y_proba is None or len(np.unique(truth)) < 2:
        return result

    proba = np.asarray(y_proba, dtype=float)
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
    if proba.shape[0] != truth.shape[0]:
        raise DataError(
            f"y_proba has {proba.shape[0]} rows but y_true has {truth.shape[0]}; "
            "pass probabilities for every evaluated row"
        )
    if proba.shape[1] != len(labels):
        raise DataError(
            f"y_proba has {proba.shape[1]} columns but there are {len(labels)} classes "
            f"({', '.join(map(str, labels))}); pass the model's classes_ as `classes`"
        )
    if binary:
        result["roc_auc"] = float(roc_auc_score(truth == labels[1], proba[:, 1]))
    else:
        aucs = [
            roc_auc_score(truth == label, proba[:, k])
            for k, label in enumerate(labels)
            if 0 < np.sum(truth == label) < truth.shape[0]
        ]
        result["roc_auc"] = float(np.mean(aucs))
    result["log_loss"] = float(log_loss(truth, proba, labels=labels))
    return result
