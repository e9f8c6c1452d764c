"""Curves of a scored classifier, exact and with NumPy: ROC, precision–recall, metrics against
the decision threshold, cumulative gain and lift, reliability (calibration).

Every curve comes from one sort of the scores (as scikit-learn's ``roc_curve`` and
``precision_recall_curve``: tied scores are one threshold), so ROC AUC and average precision
agree with ``roc_auc_score`` and ``average_precision_score``. :func:`thin` keeps at most a few
hundred points of a curve for a plot or a JSON file.

For the bootstrap, :func:`score_levels` turns scores into at most ``max_levels`` ordered levels
(their exact ranks when there are fewer distinct scores), and :func:`binned_auc` and
:func:`binned_average_precision` compute both metrics for every resample at once from counts
per level (``bincount``), without sorting each resample.

Not here: the metrics of labels (confusion matrix, F1; :mod:`noria.evaluate.evaluation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "average_precision",
    "binary_counts",
    "binned_auc",
    "binned_average_precision",
    "gain_curve",
    "pr_curve",
    "reliability",
    "roc_auc",
    "roc_curve",
    "score_levels",
    "thin",
    "threshold_metrics",
]


def binary_counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(thresholds, true positives, false positives)`` at each distinct score, highest first.

    A row is predicted positive at threshold ``t`` when its score is at least ``t``.
    """
    y = np.asarray(positive, dtype=bool)
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # the last row of each tied score
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    return s[last], tps.astype(float), fps.astype(float)


def roc_curve(positive: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """False- and true-positive rates at every threshold, starting at (0, 0)."""
    thresholds, tps, fps = binary_counts(positive, score)
    p, n = tps[-1] if tps.size else 0.0, fps[-1] if fps.size else 0.0
    tpr = np.r_[0.0, tps / p] if p else np.full(tps.size + 1, np.nan)
    fpr = np.r_[0.0, fps / n] if n else np.full(fps.size + 1, np.nan)
    return {"fpr": fpr, "tpr": tpr, "thresholds": np.r_[np.inf, thresholds]}


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """The area under the ROC curve (NaN when only one class is present)."""
    curve = roc_curve(positive, score)
    if np.isnan(curve["tpr"]).any() or np.isnan(curve["fpr"]).any():
        return float("nan")
    return float(np.trapezoid(curve["tpr"], curve["fpr"]))


def pr_curve(positive: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """Precision and recall at every threshold, highest threshold first."""
    thresholds, tps, fps = binary_counts(positive, score)
    p = tps[-1] if tps.size else 0.0
    precision = tps / np.maximum(tps + fps, 1.0)
    recall = tps / p if p else np.full(tps.size, np.nan)
    return {"precision": precision, "recall": recall, "thresholds": thresholds}


def average_precision(positive: np.ndarray, score: np.ndarray) -> float:
    """``Σ (R_k - R_{k-1}) P_k`` over thresholds (scikit-learn's average precision)."""
    curve = pr_curve(positive, score)
    recall = curve["recall"]
    if recall.size == 0 or np.isnan(recall).any():
        return float("nan")
    return float(np.sum(np.diff(np.r_[0.0, recall]) * curve["precision"]))


def threshold_metrics(
    positive: np.ndarray, score: np.ndarray, thresholds: np.ndarray
) -> dict[str, np.ndarray]:
    """Precision, recall, F1, accuracy and the share predicted positive at each threshold."""
    y = np.asarray(positive, dtype=bool)
    s = np.sort(np.asarray(score, dtype=float))
    pos_scores = np.sort(np.asarray(score, dtype=float)[y])
    t = np.asarray(thresholds, dtype=float)
    n, p = y.size, int(y.sum())
    predicted = n - np.searchsorted(s, t, side="left")  # rows with score >= t
    tp = p - np.searchsorted(pos_scores, t, side="left")
    fp = predicted - tp
    tn = (n - p) - fp
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 1.0)
    recall = tp / p if p else np.zeros_like(t)
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1.0), 0.0)
    return {
        "threshold": t,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (tp + tn) / max(n, 1),
        "positive_rate": predicted / max(n, 1),
    }


def gain_curve(positive: np.ndarray, score: np.ndarray, points: int = 100) -> dict[str, Any]:
    """Cumulative gain and lift: rows taken by decreasing score, the share of positives found.

    Ties are taken together, in proportion (a tied block adds its positives linearly).
    """
    y = np.asarray(positive, dtype=bool)
    _, tps, fps = binary_counts(y, score)
    n, p = y.size, tps[-1] if tps.size else 0.0
    taken = np.r_[0.0, (tps + fps) / max(n, 1)]
    found = np.r_[0.0, tps / p] if p else np.zeros(tps.size + 1)
    grid = np.linspace(0.0, 1.0, points + 1)
    gain = np.interp(grid, taken, found)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(grid > 0, gain / grid, np.nan)
    lift[0] = lift[1] if lift.size > 1 else np.nan
    return {"share": grid, "gain": gain, "lift": lift, "base_rate": float(p / n) if n else 0.0}


def reliability(hit: np.ndarray, confidence: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """The reliability diagram in ``bins`` equal-width bins of ``confidence``, and the ECE.

    Args:
        hit: 1 where the event happened (the positive class, or the top class was right).
        confidence: the predicted probability of that event.
        bins: equal-width bins over [0, 1].

    Returns:
        Per bin: ``low``, ``high``, ``rows``, ``predicted`` (mean confidence) and ``observed``
        (rate of the event), and ``ece``: ``Σ rows/n · |observed − predicted|``.
    """
    h = np.asarray(hit, dtype=float)
    c = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    code = np.minimum((c * bins).astype(np.int64), bins - 1)
    rows = np.bincount(code, minlength=bins).astype(float)
    conf_sum = np.bincount(code, weights=c, minlength=bins)
    hit_sum = np.bincount(code, weights=h, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = conf_sum / rows
        observed = hit_sum / rows
    ece = float(np.abs(hit_sum - conf_sum).sum() / max(h.size, 1))
    edges = np.linspace(0.0, 1.0, bins + 1)
    return {
        "low": edges[:-1],
        "high": edges[1:],
        "rows": rows,
        "predicted": predicted,
        "observed": observed,
        "ece": ece,
    }


def thin(*columns: np.ndarray, max_points: int = 200) -> list[np.ndarray]:
    """At most ``max_points`` evenly spaced points of curves given as parallel columns
    (the first and last points kept)."""
    size = len(columns[0])
    if size <= max_points:
        return [np.asarray(c) for c in columns]
    keep = np.unique(np.linspace(0, size - 1, max_points).round().astype(np.int64))
    return [np.asarray(c)[keep] for c in columns]


# --------------------------------------------------------------------------- bootstrap forms


def score_levels(score: np.ndarray, max_levels: int = 2048) -> tuple[np.ndarray, int]:
    """``(levels, how many)``: each score's rank among the distinct scores, ascending, or its
    quantile bin when there are more than ``max_levels`` distinct scores."""
    s = np.asarray(score, dtype=float)
    distinct, inverse = np.unique(s, return_inverse=True)
    if distinct.size <= max_levels:
        return inverse.astype(np.int32), int(distinct.size)
    edges = np.unique(np.quantile(s, np.linspace(0, 1, max_levels + 1)[1:-1]))
    return np.searchsorted(edges, s, side="right").astype(np.int32), int(edges.size + 1)


def _level_counts(levels: np.ndarray, positive: np.ndarray, n_levels: int) -> tuple[Any, Any]:
    """Positive and negative rows per level, per resample: two ``(replicates, levels)``."""
    r = levels.shape[0]
    offset = (np.arange(r, dtype=np.int64) * n_levels)[:, None]
    code = (levels + offset).ravel()
    pos = np.bincount(
        code, weights=np.asarray(positive, dtype=float).ravel(), minlength=r * n_levels
    ).reshape(r, n_levels)
    total = np.bincount(code, minlength=r * n_levels).reshape(r, n_levels)
    return pos, total - pos


def binned_auc(levels: np.ndarray, positive: np.ndarray, n_levels: int) -> np.ndarray:
    """ROC AUC of each resample (rows of ``levels``); rows of one level count as ties."""
    pos, neg = _level_counts(levels, positive, n_levels)
    below = np.cumsum(neg, axis=1) - neg
    p, n = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (p * n)
    return np.where((p > 0) & (n > 0), auc, np.nan)


def binned_average_precision(levels: np.ndarray, positive: np.ndarray, n_levels: int) -> np.ndarray:
    """Average precision of each resample, thresholds at the levels."""
    pos, neg = _level_counts(levels, positive, n_levels)
    tps = np.cumsum(pos[:, ::-1], axis=1)
    fps = np.cumsum(neg[:, ::-1], axis=1)
    p = tps[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tps + fps > 0, tps / (tps + fps), 0.0)
        recall_step = pos[:, ::-1] / p
    ap = (recall_step * precision).sum(axis=1)
    return np.where(p[:, 0] > 0, ap, np.nan)
